//! The closed model (Locust's): a fixed number of users, spawned at a rate,
//! each running tasks until the run stops.

mod classes;
mod wait;

pub use classes::{assign_classes, plan_classes, ClassPlan, TagFilter};

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::UserComponent;
use crate::sync::lock;
use crate::user::{GuestError, RunServices, VirtualUser};

/// How much load to generate and when to stop.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub users: u32,
    /// Users started per second.
    pub spawn_rate: f64,
    /// Stop after this long (`None`: until stopped).
    pub run_time: Option<Duration>,
    /// Stop after this many tasks in all.
    pub iterations: Option<u64>,
    /// Grace for running tasks once the run stops.
    pub stop_timeout: Duration,
}

/// Live figures for the status line.
#[derive(Debug, Default)]
pub struct Progress {
    running: AtomicU64,
    peak: AtomicU64,
    restarts: AtomicU64,
    tasks: AtomicU64,
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
    /// Tasks still allowed to start under `--iterations`.
    iterations_left: Option<AtomicU64>,
    /// Traps already shown on stderr: (class, task, message).
    reported: Mutex<HashSet<(u32, String, String)>>,
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
                eprintln!("wasmload: user {user_id} ({}) trapped in {task}: {trap}", class.name);
            }
        }
    }

    /// Claims one task run; false once `--iterations` are used up.
    fn claim_iteration(&self) -> bool {
        let Some(left) = &self.iterations_left else {
            return true;
        };
        left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok()
    }
}

/// Runs the load until it stops by time, iterations, `stop` being
/// cancelled (signals), or every user ending by itself. Running tasks then
/// get the stop timeout, unless `kill` is cancelled: that ends them at once.
pub async fn run(
    component: Arc<UserComponent>,
    services: RunServices,
    classes: Vec<ClassPlan>,
    plan: &LoadPlan,
    progress: Arc<Progress>,
    stop: CancellationToken,
    kill: CancellationToken,
) -> RunOutcome {
    let assignment = assign_classes(&classes, plan.users);
    let shared = Arc::new(Shared {
        component,
        services,
        classes,
        progress,
        stop: stop.clone(),
        iterations_left: plan.iterations.map(AtomicU64::new),
        reported: Mutex::default(),
    });
    let started = Instant::now();
    if let Some(run_time) = plan.run_time {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(run_time).await;
            stop.cancel();
        });
    }

    let mut users = JoinSet::new();
    for (user_id, class) in assignment.into_iter().enumerate() {
        let due = started + Duration::from_secs_f64(user_id as f64 / plan.spawn_rate);
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = stop.cancelled() => break,
        }
        let shared = Arc::clone(&shared);
        let kill = kill.clone();
        users.spawn(async move {
            tokio::select! {
                _ = kill.cancelled() => {}
                _ = drive_user(&shared, user_id as u64, class) => {}
            }
        });
    }

    tokio::select! {
        _ = drain(&mut users) => {}
        _ = stop.cancelled() => {
            tokio::select! {
                _ = tokio::time::timeout(plan.stop_timeout, drain(&mut users)) => {}
                _ = kill.cancelled() => {}
            }
            kill.cancel();
            drain(&mut users).await;
        }
    }
    stop.cancel();
    RunOutcome { duration: started.elapsed() }
}

async fn drain(users: &mut JoinSet<()>) {
    while users.join_next().await.is_some() {}
}

/// Counts a user as running for as long as it lives, even if aborted.
struct Running<'a>(&'a Progress);

impl<'a> Running<'a> {
    fn enter(progress: &'a Progress) -> Self {
        let now = progress.running.fetch_add(1, Ordering::Relaxed) + 1;
        progress.peak.fetch_max(now, Ordering::Relaxed);
        Running(progress)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One user's life: instantiate, `on-start`, tasks and waits, `on-stop`.
/// A trap (or a call over `--task-timeout`) discards the instance; a fresh
/// one takes its place after a back-off that grows while traps repeat.
async fn drive_user(shared: &Shared, user_id: u64, class_slot: usize) {
    let _running = Running::enter(&shared.progress);
    let class = &shared.classes[class_slot];
    let mut backoff = Backoff::default();
    while !shared.stop.is_cancelled() {
        match live(shared, user_id, class, &mut backoff).await {
            Life::Ended => return,
            Life::Trapped => {
                shared.progress.restarts.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next()) => {}
                    _ = shared.stop.cancelled() => return,
                }
            }
        }
    }
}

/// How one instance's life ended.
enum Life {
    /// Stopped (run over, `on-start` refused): the user is done.
    Ended,
    /// Trapped: replace the instance.
    Trapped,
}

/// One instance: from instantiation to `on-stop`, or to a trap.
async fn live(shared: &Shared, user_id: u64, class: &ClassPlan, backoff: &mut Backoff) -> Life {
    let report = |task: &str, error: &GuestError| shared.report(user_id, class, task, error);
    let mut user = match VirtualUser::new(&shared.component, &shared.services, user_id).await {
        Ok(user) => user,
        Err(error) => {
            report("instantiate", &error);
            return Life::Trapped;
        }
    };
    match user.on_start(class.index).await {
        Ok(()) => {}
        Err(error @ GuestError::Failed(_)) => {
            report("on-start", &error);
            return Life::Ended;
        }
        Err(error @ GuestError::Trapped(_)) => {
            report("on-start", &error);
            return Life::Trapped;
        }
    }
    while !shared.stop.is_cancelled() {
        if !shared.claim_iteration() {
            shared.stop.cancel();
            break;
        }
        shared.progress.tasks.fetch_add(1, Ordering::Relaxed);
        let task = class.pick_task(user.rng());
        let task_started = Instant::now();
        match user.run_task(task.index).await {
            Ok(()) => backoff.reset(),
            Err(error @ GuestError::Failed(_)) => report(&task.name, &error),
            Err(error @ GuestError::Trapped(_)) => {
                report(&task.name, &error);
                return Life::Trapped;
            }
        }
        let delay = class.wait.delay(task_started.elapsed(), user.rng());
        if !delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shared.stop.cancelled() => {}
            }
        }
    }
    if let Err(error) = user.on_stop().await {
        report("on-stop", &error);
    }
    Life::Ended
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
