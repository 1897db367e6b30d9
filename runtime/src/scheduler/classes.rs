//! User classes as the scheduler uses them: tag-filtered, weighted.

use anyhow::{bail, Result};

use super::wait::Wait;
use crate::bindings::UserClass;

/// A class with the tasks left after tag filtering.
#[derive(Debug, Clone)]
pub struct ClassPlan {
    /// The class's index in `describe()`, passed to `on-start`.
    pub index: u32,
    pub name: String,
    pub weight: u32,
    /// Closed model: exactly this many users, spawned first.
    pub fixed_count: Option<u32>,
    pub tasks: Vec<TaskPlan>,
    /// Sum of task weights, for picking.
    total_task_weight: u64,
    pub wait: Wait,
}

/// A runnable task.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    /// The task's index in its class, passed to `run-task`.
    pub index: u32,
    pub name: String,
    pub weight: u32,
}

/// Which tasks run: `--tags` (any of) and `--exclude-tags` (none of).
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl TagFilter {
    fn admits(&self, tags: &[String]) -> bool {
        let included = self.include.is_empty() || tags.iter().any(|t| self.include.contains(t));
        included && !tags.iter().any(|t| self.exclude.contains(t))
    }
}

/// Keeps the classes that can spawn and still have a task to run.
pub fn plan_classes(described: Vec<UserClass>, filter: &TagFilter) -> Result<Vec<ClassPlan>> {
    if described.is_empty() {
        bail!("the component describes no user classes");
    }
    let mut plans = Vec::new();
    for (index, class) in described.into_iter().enumerate() {
        let wait = Wait::from_guest(&class.wait)
            .map_err(|e| anyhow::anyhow!("user class `{}`: {e}", class.name))?;
        let tasks: Vec<TaskPlan> = class
            .tasks
            .into_iter()
            .enumerate()
            .filter(|(_, task)| task.weight > 0 && filter.admits(&task.tags))
            .map(|(index, task)| TaskPlan {
                index: index as u32,
                name: task.name,
                weight: task.weight,
            })
            .collect();
        let spawns = match class.fixed_count {
            Some(count) => count > 0,
            None => class.weight > 0,
        };
        if !spawns || tasks.is_empty() {
            continue;
        }
        plans.push(ClassPlan {
            index: index as u32,
            name: class.name,
            weight: class.weight,
            fixed_count: class.fixed_count,
            total_task_weight: tasks.iter().map(|t| u64::from(t.weight)).sum(),
            tasks,
            wait,
        });
    }
    if plans.is_empty() {
        bail!("no user class has a task to run (check --tags / --exclude-tags and the weights)");
    }
    Ok(plans)
}

impl ClassPlan {
    /// Picks a task by weight.
    pub fn pick_task(&self, rng: &mut fastrand::Rng) -> &TaskPlan {
        let mut ticket = rng.u64(0..self.total_task_weight);
        for task in &self.tasks {
            let weight = u64::from(task.weight);
            if ticket < weight {
                return task;
            }
            ticket -= weight;
        }
        unreachable!("a ticket below the total weight always lands on a task")
    }
}

/// The class of each of the first `users` users in spawn order (closed
/// model): every `fixed_count` class's users first, then the weighted
/// classes dealt by weight. Shorter than `users` when only fixed classes
/// exist and their counts run out.
pub fn assign_classes(classes: &[ClassPlan], users: u32) -> Vec<usize> {
    let fixed = classes.iter().enumerate().flat_map(|(slot, class)| {
        std::iter::repeat_n(slot, class.fixed_count.unwrap_or(0) as usize)
    });
    let weighted = Dealer::new(classes.iter().map(|class| match class.fixed_count {
        Some(_) => 0,
        None => class.weight,
    }));
    fixed.chain(weighted).take(users as usize).collect()
}

/// Deals classes by weight as a smooth weighted round robin, so any prefix
/// of the deal is split by weight as closely as possible. Ends at once if
/// every weight is 0.
#[derive(Debug, Clone)]
pub struct Dealer {
    weights: Vec<i64>,
    credit: Vec<i64>,
    total: i64,
}

impl Dealer {
    /// A dealer over classes with these weights (by slot).
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Dealer {
        let weights: Vec<i64> = weights.into_iter().map(i64::from).collect();
        Dealer { credit: vec![0; weights.len()], total: weights.iter().sum(), weights }
    }
}

impl Iterator for Dealer {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.total == 0 {
            return None;
        }
        for (credit, weight) in self.credit.iter_mut().zip(&self.weights) {
            *credit += weight;
        }
        let (chosen, _) = self
            .credit
            .iter()
            .enumerate()
            .filter(|(slot, _)| self.weights[*slot] > 0)
            .max_by_key(|(slot, credit)| (**credit, std::cmp::Reverse(*slot)))?;
        self.credit[chosen] -= self.total;
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::exports::wasmload::user::behaviour::{Task, WaitTime};

    fn class(name: &str, weight: u32, tasks: &[(&str, u32, &[&str])]) -> UserClass {
        UserClass {
            name: name.into(),
            weight,
            tasks: tasks
                .iter()
                .map(|(name, weight, tags)| Task {
                    name: (*name).into(),
                    weight: *weight,
                    tags: tags.iter().map(|t| (*t).into()).collect(),
                })
                .collect(),
            wait: WaitTime::None,
            fixed_count: None,
        }
    }

    #[test]
    fn users_split_by_class_weight() {
        let classes = plan_classes(
            vec![class("a", 3, &[("t", 1, &[])]), class("b", 1, &[("t", 1, &[])])],
            &TagFilter::default(),
        )
        .unwrap();
        let assigned = assign_classes(&classes, 8);
        assert_eq!(assigned.iter().filter(|&&c| c == 0).count(), 6);
        assert_eq!(assigned.iter().filter(|&&c| c == 1).count(), 2);
        assert_eq!(assign_classes(&classes, 1), vec![0]);
    }

    #[test]
    fn fixed_counts_come_first_and_weights_share_the_rest() {
        let mut described = vec![class("a", 1, &[("t", 1, &[])]), class("b", 0, &[("t", 1, &[])])];
        described[1].fixed_count = Some(2);
        let classes = plan_classes(described.clone(), &TagFilter::default()).unwrap();
        assert_eq!(assign_classes(&classes, 5), vec![1, 1, 0, 0, 0]);
        assert_eq!(assign_classes(&classes, 1), vec![1]);

        described.remove(0);
        let only_fixed = plan_classes(described, &TagFilter::default()).unwrap();
        assert_eq!(assign_classes(&only_fixed, 5), vec![0, 0]);
    }

    #[test]
    fn tags_select_and_exclude_tasks() {
        let described = vec![
            class("a", 1, &[("x", 1, &["fast"]), ("y", 1, &["slow"]), ("z", 1, &[])]),
            class("b", 1, &[("w", 1, &["slow"])]),
        ];
        let only_fast = TagFilter { include: vec!["fast".into()], exclude: vec![] };
        let plans = plan_classes(described.clone(), &only_fast).unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].tasks.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["x"]);

        let no_slow = TagFilter { include: vec![], exclude: vec!["slow".into()] };
        let plans = plan_classes(described.clone(), &no_slow).unwrap();
        let names: Vec<_> = plans[0].tasks.iter().map(|t| t.index).collect();
        assert_eq!(names, [0, 2]);

        let nothing = TagFilter { include: vec!["missing".into()], exclude: vec![] };
        assert!(plan_classes(described, &nothing).is_err());
    }

    #[test]
    fn tasks_picked_by_weight() {
        let plans = plan_classes(
            vec![class("a", 1, &[("x", 1, &[]), ("y", 3, &[])])],
            &TagFilter::default(),
        )
        .unwrap();
        let mut rng = fastrand::Rng::with_seed(7);
        let picks_of_y = (0..4000).filter(|_| plans[0].pick_task(&mut rng).name == "y").count();
        assert!((2800..3200).contains(&picks_of_y), "{picks_of_y}");
    }
}
