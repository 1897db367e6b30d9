//! The closed model: a number of users that may change over time, each
//! running tasks back to back with its class's wait between them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::shape::Target;
use super::{
    assign_classes, drain, Backoff, Instances, Running, Shared, Stages, StartFailure, Started,
    TaskEnd, UserLoad, REST_AFTER,
};
use crate::run::RunLog;
use crate::user::VirtualUser;

/// How often the user count is brought toward its target.
const TICK: Duration = Duration::from_millis(10);

/// Runs users until the run stops, or until every user of a fixed count
/// has ended by itself.
pub(super) async fn run(
    shared: &Arc<Shared>,
    load: UserLoad,
    max_users: u32,
    mut instances: Instances,
) -> Instant {
    let started = shared.start_clock();
    let mut targets = Targets::new(load, max_users, started, &shared.stop, &shared.services.log);
    let segment = shared.segment;
    if let Targets::Fixed { users, .. } = targets {
        let _ = shared.progress.fixed_users.set((segment.share(u64::from(users)), started));
    }
    let positions = assign_classes(&shared.classes, targets.ceiling());
    let mut users = JoinSet::new();
    // One place per user of the whole test, newest last: users stop LIFO,
    // so the class mix of the users left stays what their positions say.
    // A place holds the retire token of this segment's own users.
    let mut places: Vec<Option<CancellationToken>> = Vec::new();
    // Ids count every spawn of the whole test, so every segment's are unique.
    let mut next_id = 0u64;
    // The first user starts at once, as in Locust.
    let mut allowance = 1.0;
    let mut last = started;
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shared.stop.cancelled() => break,
        }
        let now = Instant::now();
        let Some((target, spawn_rate)) = targets.at(now - started) else {
            shared.stop.cancel();
            break;
        };
        let target = target.min(positions.len());
        allowance = if spawn_rate.is_infinite() {
            f64::INFINITY
        } else {
            allowance + spawn_rate * (now - last).as_secs_f64()
        };
        last = now;
        while places.len() < target && allowance >= 1.0 {
            let position = places.len();
            let place = segment.owns(position as u64).then(|| {
                let retire = shared.stop.child_token();
                // Counted from the spawn, not from its first poll: on a busy
                // machine an early user can finish before a later one is polled.
                let running = Running::enter(&shared.progress);
                let class = positions[position];
                // Only a fixed count has instances made, and its ids are
                // its positions: no user is retired and its place reused.
                let user = User { id: next_id, class, made: instances.take(next_id) };
                users.spawn(user_task(Arc::clone(shared), user, retire.clone(), running));
                retire
            });
            places.push(place);
            next_id += 1;
            allowance -= 1.0;
        }
        while places.len() > target && allowance >= 1.0 {
            if let Some(Some(retire)) = places.pop() {
                retire.cancel();
            }
            allowance -= 1.0;
        }
        if places.len() == target {
            // No saving up spawns while the count holds.
            allowance = allowance.min(1.0);
        }
        while users.try_join_next().is_some() {}
        if targets.is_fixed() && places.len() == target && users.is_empty() {
            break;
        }
    }
    drain(shared, &mut users).await;
    started
}

/// The user count wanted at each moment, and how fast to get there.
enum Targets {
    Fixed {
        users: u32,
        spawn_rate: f64,
    },
    Stages(Stages),
    /// `unwarned`: where to say, once, that the shape asks past the ceiling.
    Shaped {
        targets: watch::Receiver<Target>,
        ceiling: u32,
        unwarned: Option<RunLog>,
    },
}

impl Targets {
    fn new(
        load: UserLoad,
        max_users: u32,
        started: Instant,
        stop: &CancellationToken,
        log: &RunLog,
    ) -> Targets {
        match load {
            UserLoad::Fixed { users, spawn_rate } => Targets::Fixed { users, spawn_rate },
            UserLoad::Stages(stages) => Targets::Stages(stages),
            UserLoad::Shaped(shape) => Targets::Shaped {
                targets: shape.drive(started, stop.clone(), log.clone()),
                ceiling: max_users,
                unwarned: Some(log.clone()),
            },
        }
    }

    /// The most users this load can ask for.
    fn ceiling(&self) -> u32 {
        match self {
            Targets::Fixed { users, .. } => *users,
            Targets::Stages(stages) => stages.peak().round() as u32,
            Targets::Shaped { ceiling, .. } => *ceiling,
        }
    }

    fn is_fixed(&self) -> bool {
        matches!(self, Targets::Fixed { .. })
    }

    /// (users, users started or stopped per second) `elapsed` into the
    /// run; `None` once the load is over.
    fn at(&mut self, elapsed: Duration) -> Option<(usize, f64)> {
        match self {
            Targets::Fixed { users, spawn_rate } => Some((*users as usize, *spawn_rate)),
            // The ramp itself paces the spawns.
            Targets::Stages(stages) => {
                stages.at(elapsed).map(|users| (users.round() as usize, f64::INFINITY))
            }
            Targets::Shaped { targets, ceiling, unwarned } => match *targets.borrow() {
                Target::Users { users, spawn_rate } => {
                    if let Some(log) = unwarned.take_if(|_| users > *ceiling) {
                        log.line(&format!(
                            "wasmload: the load shape asks for {users} users; running {ceiling} (raise --max-users)"
                        ));
                    }
                    Some((users.min(*ceiling) as usize, spawn_rate))
                }
                Target::Rate(_) | Target::Stop => None,
            },
        }
    }
}

/// A user to spawn: its id, its class, and its instance if made ahead.
struct User {
    id: u64,
    class: usize,
    made: Option<VirtualUser>,
}

/// One spawned user until it ends, is killed, or outlives the stop
/// timeout after being retired.
async fn user_task(shared: Arc<Shared>, user: User, retire: CancellationToken, _running: Running) {
    let grace = async {
        retire.cancelled().await;
        tokio::time::sleep(shared.stop_timeout).await;
    };
    tokio::select! {
        _ = shared.kill.cancelled() => {}
        _ = drive_user(&shared, user, &retire) => {}
        _ = grace => {}
    }
}

/// One user's life: instantiate, `on-start`, tasks and waits, `on-stop`.
/// A trap (or a call over `--task-timeout`) discards the instance; a fresh
/// one takes its place after a back-off that grows while traps repeat.
async fn drive_user(shared: &Shared, user: User, retire: &CancellationToken) {
    let User { id: user_id, class, mut made } = user;
    let class = &shared.classes[class];
    let mut backoff = Backoff::default();
    while !retire.is_cancelled() {
        match live(shared, user_id, class, made.take(), &mut backoff, retire).await {
            Life::Ended => return,
            Life::Trapped => {
                shared.progress.restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next()) => {}
                    _ = retire.cancelled() => return,
                }
            }
        }
    }
}

/// How one instance's life ended.
enum Life {
    /// Stopped (run over, user retired, `on-start` refused): the user is done.
    Ended,
    /// Trapped: replace the instance.
    Trapped,
}

/// One instance: from instantiation (unless `made` ahead) to `on-stop`,
/// or to a trap.
async fn live(
    shared: &Shared,
    user_id: u64,
    class: &super::ClassPlan,
    made: Option<VirtualUser>,
    backoff: &mut Backoff,
    retire: &CancellationToken,
) -> Life {
    // The calls into the guest are boxed: inline, the largest of them would
    // size every user's task for its whole life, waits included.
    let mut user = match Box::pin(shared.start_user(user_id, class, made)).await {
        Ok(user) => user,
        Err(StartFailure::Refused) => return Life::Ended,
        Err(StartFailure::Trapped) => return Life::Trapped,
    };
    let _started = Started::enter(&shared.progress);
    while !retire.is_cancelled() {
        if !shared.claim_iteration() {
            shared.stop.cancel();
            break;
        }
        let task_started = Instant::now();
        match Box::pin(shared.run_task(&mut user, user_id, class)).await {
            TaskEnd::Succeeded => backoff.reset(),
            TaskEnd::Failed => {}
            TaskEnd::Trapped => return Life::Trapped,
        }
        let delay = class.wait.delay(task_started.elapsed(), user.rng());
        if !delay.is_zero() {
            if delay >= REST_AFTER {
                user.rest();
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = retire.cancelled() => {}
            }
        }
    }
    Box::pin(shared.stop_user(user, user_id, class)).await;
    Life::Ended
}
