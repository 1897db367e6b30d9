//! Driving the users. Two models: closed (Locust's: users run tasks back to
//! back, as many users as asked) and open (k6's arrival rate: iterations
//! start on a schedule, on whichever user is free). Either takes its load
//! from flags, from `--stages`, or from the component's shape.

mod classes;
mod closed;
mod made;
mod open;
mod profile;
mod segment;
mod shape;
mod wait;

pub use classes::{assign_classes, plan_classes, ClassPlan, Dealer, TagFilter};
pub use made::Instances;
pub use profile::{parse_rate, RatePlan, StageUnit, Stages};
pub use segment::Segment;
pub use shape::{Shape, ShapeModel};

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::UserComponent;
use crate::sync::lock;
use crate::user::{GuestError, RunServices, VirtualUser};

/// A user idle this long gives back its fiber stack (in the closed model,
/// before a wait this long; in the open model, once it has been idle this
/// long in the pool): holding it costs every idle user what its calls
/// touched (8 KiB for HTTP), while taking one again mostly finds one still
/// warm in the pool (see the engine's `KEPT_STACK_BYTES`) and otherwise
/// faults those pages in again.
const REST_AFTER: Duration = Duration::from_millis(50);

/// Which model runs, and where its load comes from.
pub enum Model {
    /// Users run tasks back to back, waiting between them.
    Closed(UserLoad),
    /// Iterations start on schedule, each on a free user of a pool.
    Open(RateLoad),
}

/// The closed model's users over time.
pub enum UserLoad {
    /// `-u` users, `-r` of them started per second.
    Fixed { users: u32, spawn_rate: f64 },
    /// Linear ramps between user counts.
    Stages(Stages),
    /// The component's shape.
    Shaped(Shape),
}

/// The open model's rate over time.
pub enum RateLoad {
    /// `--rate`, or ramps from `--stages`.
    Planned(RatePlan),
    /// The component's shape.
    Shaped(Shape),
}

/// How much load to generate and when to stop.
pub struct LoadPlan {
    pub model: Model,
    /// The most users at once: the open model's pool, a shape's ceiling.
    pub max_users: u32,
    /// The open model's pool of users.
    pub pool: PoolPlan,
    /// Stop after this long (`None`: until stopped).
    pub run_time: Option<Duration>,
    /// Stop after this many iterations (tasks) in all.
    pub iterations: Option<u64>,
    /// Grace for running tasks once the run stops (or a user is retired).
    pub stop_timeout: Duration,
    /// The share of the load this process runs.
    pub segment: Segment,
}

/// The open model's users: k6's preAllocatedVUs (its maxVUs is
/// [`LoadPlan::max_users`]), plus how long an iteration may wait for a
/// busy user.
#[derive(Debug, Clone, Copy)]
pub struct PoolPlan {
    /// Users instantiated before the first iteration.
    pub preallocated: u32,
    /// How long a due iteration may wait for a free user before it is
    /// dropped (0: dropped at once, like k6).
    pub max_delay: Duration,
}

/// Live figures for the status line.
#[derive(Debug, Default)]
pub struct Progress {
    running: AtomicU64,
    peak: AtomicU64,
    restarts: AtomicU64,
    tasks: AtomicU64,
    dropped: AtomicU64,
    /// Users whose instance is through `on-start` and not yet gone.
    started: AtomicU64,
    /// A fixed user count, and when its first user was spawned.
    fixed_users: OnceLock<(u64, Instant)>,
    all_started_after: OnceLock<Duration>,
}

impl Progress {
    /// Users running now.
    pub fn running(&self) -> u64 {
        self.running.load(Ordering::Relaxed)
    }

    /// The most users that ran at once.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Tasks started so far.
    pub fn tasks(&self) -> u64 {
        self.tasks.load(Ordering::Relaxed)
    }

    /// Instances replaced after a trap or a task over `--task-timeout`.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Open model: iterations that were due but found no user in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Closed model with a fixed user count: how long after the first spawn
    /// every user had started (instantiated and through `on-start`).
    pub fn all_started_after(&self) -> Option<Duration> {
        self.all_started_after.get().copied()
    }

    /// The counts now, as a worker reports them.
    pub fn figures(&self) -> Figures {
        Figures {
            running: self.running(),
            tasks: self.tasks(),
            dropped_iterations: self.dropped(),
            user_restarts: self.restarts(),
        }
    }

    /// Shows counts gathered elsewhere: a collector's, summed over its
    /// segments.
    pub fn show(&self, figures: Figures) {
        self.running.store(figures.running, Ordering::Relaxed);
        self.peak.fetch_max(figures.running, Ordering::Relaxed);
        self.tasks.store(figures.tasks, Ordering::Relaxed);
        self.dropped.store(figures.dropped_iterations, Ordering::Relaxed);
        self.restarts.store(figures.user_restarts, Ordering::Relaxed);
    }

    fn drop_iterations(&self, count: u64) {
        self.dropped.fetch_add(count, Ordering::Relaxed);
    }
}

/// A run's live counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Figures {
    /// Users running now.
    pub running: u64,
    /// Tasks started so far.
    pub tasks: u64,
    pub dropped_iterations: u64,
    pub user_restarts: u64,
}

impl std::ops::Add for Figures {
    type Output = Figures;

    fn add(self, other: Figures) -> Figures {
        Figures {
            running: self.running + other.running,
            tasks: self.tasks + other.tasks,
            dropped_iterations: self.dropped_iterations + other.dropped_iterations,
            user_restarts: self.user_restarts + other.user_restarts,
        }
    }
}

/// What the scheduler saw of the run.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    /// From the first spawn to the last user's end.
    pub duration: Duration,
}

/// What every user task shares.
struct Shared {
    component: Arc<UserComponent>,
    services: RunServices,
    classes: Vec<ClassPlan>,
    progress: Arc<Progress>,
    /// Graceful stop: no new tasks, waits cut short.
    stop: CancellationToken,
    /// Immediate stop: running tasks are abandoned.
    kill: CancellationToken,
    stop_timeout: Duration,
    run_time: Option<Duration>,
    /// This segment's share of the `--iterations` budget.
    iterations: Option<IterationBudget>,
    segment: Segment,
    /// Traps already shown on stderr: (class, task, message).
    reported: Mutex<HashSet<(u32, String, String)>>,
}

/// `--iterations`: how many tasks may still start, and how many of the
/// whole budget have not yet ended.
struct IterationBudget {
    left: AtomicU64,
    unfinished: AtomicU64,
}

impl IterationBudget {
    fn new(iterations: u64) -> Self {
        IterationBudget { left: AtomicU64::new(iterations), unfinished: AtomicU64::new(iterations) }
    }
}

/// How a task run ended.
enum TaskEnd {
    Succeeded,
    Failed,
    /// The instance is unusable.
    Trapped,
}

/// Why a user could not start.
enum StartFailure {
    /// `on-start` returned an error: the user gives up.
    Refused,
    /// Instantiation or `on-start` trapped.
    Trapped,
}

impl Shared {
    /// Records a guest error; the first of each kind also goes to stderr,
    /// so a user that traps on every start cannot flood the terminal.
    fn report(&self, user_id: u64, class: &ClassPlan, task: &str, error: &GuestError) {
        let message = error.to_string();
        self.services.recorder.record_task_error(&class.name, task, &message);
        if let GuestError::Trapped(trap) = error {
            let first = lock(&self.reported).insert((class.index, task.to_owned(), trap.clone()));
            if first {
                self.services.log.line(&format!(
                    "wasmload: user {user_id} ({}) trapped in {task}: {trap}",
                    class.name
                ));
            }
        }
    }

    /// Starts the run's clock: `--run-time` counts from now.
    fn start_clock(&self) -> Instant {
        if let Some(run_time) = self.run_time {
            let stop = self.stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(run_time).await;
                stop.cancel();
            });
        }
        Instant::now()
    }

    /// Claims one task run; false once `--iterations` are used up.
    fn claim_iteration(&self) -> bool {
        let Some(budget) = &self.iterations else {
            return true;
        };
        budget.left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
    }

    /// Instantiates user `user_id`, unless its instance was `made` ahead,
    /// and makes it one of `class`.
    async fn start_user(
        &self,
        user_id: u64,
        class: &ClassPlan,
        made: Option<VirtualUser>,
    ) -> Result<VirtualUser, StartFailure> {
        let made = match made {
            Some(user) => Ok(user),
            None => VirtualUser::new(&self.component, &self.services, user_id).await,
        };
        let mut user = match made {
            Ok(user) => user,
            Err(error) => {
                self.report(user_id, class, "instantiate", &error);
                return Err(StartFailure::Trapped);
            }
        };
        match user.on_start(class.index).await {
            Ok(()) => Ok(user),
            Err(error) => {
                self.report(user_id, class, "on-start", &error);
                Err(match error {
                    GuestError::Failed(_) => StartFailure::Refused,
                    GuestError::Trapped(_) => StartFailure::Trapped,
                })
            }
        }
    }

    /// Runs one task of the user's class, picked by weight.
    async fn run_task(&self, user: &mut VirtualUser, user_id: u64, class: &ClassPlan) -> TaskEnd {
        self.progress.tasks.fetch_add(1, Ordering::Relaxed);
        let task = class.pick_task(user.rng());
        let result = user.run_task(task.index).await;
        if let Some(budget) = &self.iterations {
            // The last iteration has ended: users waiting between tasks
            // have nothing left to do, so the run need not wait for them.
            if budget.unfinished.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.stop.cancel();
            }
        }
        match result {
            Ok(()) => TaskEnd::Succeeded,
            Err(error) => {
                self.report(user_id, class, &task.name, &error);
                match error {
                    GuestError::Failed(_) => TaskEnd::Failed,
                    GuestError::Trapped(_) => TaskEnd::Trapped,
                }
            }
        }
    }

    /// Lets a user clean up before it goes.
    async fn stop_user(&self, mut user: VirtualUser, user_id: u64, class: &ClassPlan) {
        if let Err(error) = user.on_stop().await {
            self.report(user_id, class, "on-stop", &error);
        }
    }
}

/// Runs the load until it stops by time, iterations, `stop` being
/// cancelled (signals, a shape), or every user ending by itself. Running
/// tasks then get the stop timeout, unless `kill` is cancelled: that ends
/// them at once. Users whose instances were made ahead start with them.
pub async fn run(
    instances: Instances,
    services: RunServices,
    classes: Vec<ClassPlan>,
    plan: LoadPlan,
    progress: Arc<Progress>,
    stop: CancellationToken,
    kill: CancellationToken,
) -> RunOutcome {
    let shared = Arc::new(Shared {
        component: Arc::clone(instances.component()),
        services,
        classes,
        progress,
        stop: stop.clone(),
        kill,
        stop_timeout: plan.stop_timeout,
        run_time: plan.run_time,
        iterations: plan.iterations.map(|all| IterationBudget::new(plan.segment.share(all))),
        segment: plan.segment,
        reported: Mutex::default(),
    });
    let started = match plan.model {
        Model::Closed(load) => closed::run(&shared, load, plan.max_users, instances).await,
        Model::Open(load) => open::run(&shared, load, &plan.pool, plan.max_users).await,
    };
    stop.cancel();
    RunOutcome { duration: started.elapsed() }
}

/// Counts a user as running for as long as it lives, even if aborted.
struct Running(Arc<Progress>);

impl Running {
    fn enter(progress: &Arc<Progress>) -> Self {
        let now = progress.running.fetch_add(1, Ordering::Relaxed) + 1;
        progress.peak.fetch_max(now, Ordering::Relaxed);
        Running(Arc::clone(progress))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a user as started while its instance, through `on-start`, lives.
struct Started<'a>(&'a Progress);

impl<'a> Started<'a> {
    fn enter(progress: &'a Progress) -> Self {
        let now = progress.started.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some((users, since)) = progress.fixed_users.get() {
            if now >= *users {
                // Only the first time counts.
                let _ = progress.all_started_after.set(since.elapsed());
            }
        }
        Started(progress)
    }
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        self.0.started.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Waits for spawned work to end: all of it, or once `stop` is cancelled,
/// for at most the stop timeout (less if `kill` comes first), then aborts
/// what is left.
async fn drain(shared: &Shared, tasks: &mut tokio::task::JoinSet<()>) {
    async fn all(tasks: &mut tokio::task::JoinSet<()>) {
        while tasks.join_next().await.is_some() {}
    }
    tokio::select! {
        _ = all(tasks) => return,
        _ = shared.stop.cancelled() => {}
    }
    tokio::select! {
        _ = tokio::time::timeout(shared.stop_timeout, all(tasks)) => {}
        _ = shared.kill.cancelled() => {}
    }
    shared.kill.cancel();
    tasks.abort_all();
    all(tasks).await;
}

/// Waits between replacements of a trapping user: 100 ms, doubling while
/// traps repeat, at most 10 s; back to 100 ms after a task succeeds.
#[derive(Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(10);

    fn next(&mut self) -> Duration {
        let wait = Self::FIRST.saturating_mul(1 << self.failures.min(16)).min(Self::MAX);
        self.failures += 1;
        wait
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..9).map(|_| backoff.next().as_millis() as u64).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }
}
