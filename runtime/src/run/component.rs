//! What a component offers and asks for, found by running its `describe`
//! and `shape` in a scratch instance: for `wasmload inspect`, and for the
//! service, which checks a component once, at upload.

use std::sync::Arc;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{describe, sandbox, services, GuestSpec, RunSetting};
use crate::bindings::{UserClass, WaitTime};
use crate::engine::UserComponent;
use crate::sandbox::RunBudget;
use crate::scheduler::Shape;
use crate::stats::Recorder;

/// A component's imports and user classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentInfo {
    /// The interfaces it imports, e.g. `wasmload:user/http@0.1.0`.
    pub imports: Vec<String>,
    pub classes: Vec<ClassInfo>,
    /// Whether it has a load shape (which then sets the load).
    pub shaped: bool,
}

/// One user class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClassInfo {
    pub name: String,
    pub weight: u32,
    /// Exactly this many users, when set.
    pub fixed_count: Option<u32>,
    /// The wait between tasks, e.g. `between 500 ms and 1500 ms`.
    pub wait: String,
    pub tasks: Vec<TaskInfo>,
}

/// One task of a class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskInfo {
    pub name: String,
    pub weight: u32,
    pub tags: Vec<String>,
}

/// Runs the component's `describe` (and `shape`, to see whether it has
/// one) in a scratch instance, with the grants of `guest`.
pub async fn inspect_component(
    component: Arc<UserComponent>,
    guest: &GuestSpec,
    setting: &RunSetting,
) -> Result<ComponentInfo> {
    let shown = &setting.name;
    let sandbox = Arc::new(sandbox(guest, setting.trust_host_addresses).await?);
    let budget = RunBudget::new(guest.budgets.clone(), crate::limits::open_files());
    let recorder = Recorder::new(guest.budgets.max_names);
    let services = services(guest, setting, sandbox, recorder, budget)?;
    let (scratch, classes) = describe(&component, &services)
        .await
        .with_context(|| format!("{shown}: describe() failed"))?;
    let shaped =
        Shape::detect(scratch).await.with_context(|| format!("{shown}: shape() failed"))?.is_some();
    Ok(ComponentInfo {
        imports: component.imports().to_vec(),
        classes: classes.into_iter().map(ClassInfo::from).collect(),
        shaped,
    })
}

impl From<UserClass> for ClassInfo {
    fn from(class: UserClass) -> ClassInfo {
        ClassInfo {
            name: class.name,
            weight: class.weight,
            fixed_count: class.fixed_count,
            wait: wait(&class.wait),
            tasks: class
                .tasks
                .into_iter()
                .map(|task| TaskInfo { name: task.name, weight: task.weight, tags: task.tags })
                .collect(),
        }
    }
}

fn wait(wait: &WaitTime) -> String {
    let ms = |us: u64| format!("{} ms", us as f64 / 1000.0);
    match *wait {
        WaitTime::None => "none".into(),
        WaitTime::Constant(us) => format!("constant {}", ms(us)),
        WaitTime::Between((min, max)) => format!("between {} and {}", ms(min), ms(max)),
        WaitTime::ConstantPacing(us) => format!("one task per {}", ms(us)),
        WaitTime::ConstantThroughput(rate) => format!("{rate} tasks per second"),
    }
}
