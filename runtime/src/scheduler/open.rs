//! The open model: iterations start on a schedule whatever the response
//! times, each on a free user of its class. With no user free, a new one
//! is made up to `--max-users`; past that the iteration waits for the next
//! user to come free, at most `--max-delay`, and is dropped after that.
//! Every request is timed from the send and from its iteration's intended
//! start, so a stall shows in the corrected figures even when the users
//! were too busy to send.

use std::collections::VecDeque;
use std::future::pending;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::shape::Target;
use super::{
    drain, Dealer, PoolPlan, RateLoad, RatePlan, Running, Segment, Shared, StartFailure, TaskEnd,
};
use crate::sync::lock;
use crate::user::VirtualUser;

/// Makes the pool, then starts iterations on schedule until the run stops;
/// returns when the schedule's clock started.
pub(super) async fn run(
    shared: &Arc<Shared>,
    load: RateLoad,
    plan: &PoolPlan,
    max_users: u32,
) -> Instant {
    let segment = shared.segment;
    let pool = Arc::new(Pool::new(shared.classes.len(), plan, max_users, segment));
    pool.preallocate(shared, plan.preallocated).await;
    let started = shared.start_clock();
    let (mut rates, mut shaped) = match load {
        RateLoad::Planned(rates) => (rates, None),
        RateLoad::Shaped(shape) => {
            let targets = shape.drive(started, shared.stop.clone(), shared.services.log.clone());
            let first = match *targets.borrow() {
                Target::Rate(rate) => rate,
                Target::Users { .. } | Target::Stop => 0.0,
            };
            (RatePlan::constant(first), Some(targets))
        }
    };
    // Iterations are numbered over the whole test; this segment starts its
    // own, each of the class the whole test's deal gives it.
    let mut deal = Dealer::new(shared.classes.iter().map(|class| class.weight)).enumerate();
    let mut workers = JoinSet::new();
    let mut iterations = segment.positions();
    let mut iteration = iterations.next().unwrap_or(u64::MAX);
    let end = shared.run_time.map(|run_time| started + run_time);
    loop {
        let due = rates
            .due(iteration)
            .map(|s| started + Duration::from_secs_f64(s))
            // Due at or after the end: not part of this run.
            .filter(|due| end.is_none_or(|end| *due < end));
        if due.is_none() && shaped.is_none() {
            // The schedule is over: stages done, or the run time reached.
            shared.stop.cancel();
        }
        tokio::select! {
            _ = sleep_until(due) => {}
            changed = next_target(&mut shaped) => {
                match changed {
                    Target::Rate(rate) => rates.set_rate(started.elapsed().as_secs_f64(), rate),
                    Target::Users { .. } | Target::Stop => shared.stop.cancel(),
                }
                continue;
            }
            _ = shared.stop.cancelled() => break,
        }
        let class = deal.find(|(number, _)| *number as u64 == iteration).map(|(_, class)| class);
        let (Some(due), Some(class)) = (due, class) else { break };
        if !shared.claim_iteration() {
            shared.stop.cancel();
            break;
        }
        pool.dispatch(shared, class, due, &mut workers);
        iteration = iterations.next().unwrap_or(u64::MAX);
        while workers.try_join_next().is_some() {}
    }
    for class in 0..shared.classes.len() {
        for user in pool.take_idle(class) {
            let shared = Arc::clone(shared);
            workers.spawn(async move { user.stop(&shared, class).await });
        }
    }
    drain(shared, &mut workers).await;
    pool.drop_waiting(shared);
    started
}

/// Tokio's timers fire on whole milliseconds, up to one late. Waking that
/// much early keeps iterations on schedule instead of charging every one
/// a timer's rounding as lateness.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => {
            let wake = due.checked_sub(TIMER_RESOLUTION).unwrap_or(due);
            tokio::time::sleep_until(wake.into()).await;
        }
        None => pending().await,
    }
}

/// The shape's next answer; never, without a shape (or once it is done).
async fn next_target(shaped: &mut Option<watch::Receiver<Target>>) -> Target {
    let Some(targets) = shaped else { return pending().await };
    match targets.changed().await {
        Ok(()) => *targets.borrow_and_update(),
        Err(_) => {
            *shaped = None;
            pending().await
        }
    }
}

/// The users, by class: idle ones, and iterations waiting for one.
struct Pool {
    classes: Vec<Mutex<ClassPool>>,
    /// Users that exist or are being made.
    allocated: AtomicU32,
    max_users: u32,
    max_delay: Duration,
    /// This segment's users made so far; their ids are its positions.
    made: AtomicU64,
    segment: Segment,
}

#[derive(Default)]
struct ClassPool {
    idle: Vec<PooledUser>,
    /// Intended starts of iterations waiting for a user, oldest first.
    waiting: VecDeque<Instant>,
}

/// A user in the pool.
struct PooledUser {
    user: VirtualUser,
    id: u64,
    _running: Running,
}

impl PooledUser {
    async fn stop(self, shared: &Shared, class: usize) {
        shared.stop_user(self.user, self.id, &shared.classes[class]).await;
    }
}

impl Pool {
    /// The pool of `segment`'s share of `max_users`.
    fn new(classes: usize, plan: &PoolPlan, max_users: u32, segment: Segment) -> Pool {
        Pool {
            classes: (0..classes).map(|_| Mutex::default()).collect(),
            allocated: AtomicU32::new(0),
            max_users: segment.share_of_users(max_users),
            max_delay: plan.max_delay,
            made: AtomicU64::new(0),
            segment,
        }
    }

    /// Makes this segment's share of `users` users (of the whole test) before
    /// the clock starts, split by class weight.
    async fn preallocate(self: &Arc<Self>, shared: &Arc<Shared>, users: u32) {
        let weights = shared.classes.iter().map(|class| class.weight);
        let mut starting = JoinSet::new();
        let users = Dealer::new(weights).take(users as usize).enumerate();
        let own = users.filter(|(position, _)| self.segment.owns(*position as u64));
        for (_, class) in own {
            if !self.reserve() {
                break;
            }
            let (pool, shared) = (Arc::clone(self), Arc::clone(shared));
            starting.spawn(async move {
                if let Some(user) = pool.new_user(&shared, class).await {
                    lock(&pool.classes[class]).idle.push(user);
                }
            });
        }
        tokio::select! {
            _ = async { while starting.join_next().await.is_some() {} } => {}
            _ = shared.stop.cancelled() => {}
        }
    }

    /// Starts an iteration due at `due` on a user of `class`: an idle one,
    /// a new one, or the next to come free.
    fn dispatch(
        self: &Arc<Self>,
        shared: &Arc<Shared>,
        class: usize,
        due: Instant,
        workers: &mut JoinSet<()>,
    ) {
        let mut class_pool = lock(&self.classes[class]);
        let user = class_pool.idle.pop();
        if user.is_none() && !self.reserve() {
            class_pool.waiting.push_back(due);
            self.drop_expired(shared, &mut class_pool, Instant::now());
            return;
        }
        drop(class_pool);
        let (pool, shared) = (Arc::clone(self), Arc::clone(shared));
        workers.spawn(async move { pool.work(&shared, class, user, due).await });
    }

    /// Runs iterations on one user, the first due at `due`, then those
    /// waiting for its class; then returns the user to the pool (or stops
    /// it, once the run is stopping).
    async fn work(&self, shared: &Shared, class: usize, user: Option<PooledUser>, due: Instant) {
        let user = match user {
            Some(user) => Some(user),
            None => self.new_user(shared, class).await,
        };
        let Some(mut user) = user else {
            shared.progress.drop_iterations(1);
            return;
        };
        let mut due = due;
        loop {
            user.user.set_lateness(due.elapsed());
            if let TaskEnd::Trapped =
                shared.run_task(&mut user.user, user.id, &shared.classes[class]).await
            {
                shared.progress.restarts.fetch_add(1, Ordering::Relaxed);
                self.release();
                return;
            }
            // `None`: the run is stopping.
            let next = {
                let mut class_pool = lock(&self.classes[class]);
                if shared.stop.is_cancelled() {
                    None
                } else if let Some(next) =
                    self.take_waiting(shared, &mut class_pool, Instant::now())
                {
                    Some(next)
                } else {
                    return class_pool.idle.push(user);
                }
            };
            match next {
                Some(next) => due = next,
                None => return user.stop(shared, class).await,
            }
        }
    }

    /// Takes the oldest waiting iteration that has not waited too long.
    fn take_waiting(
        &self,
        shared: &Shared,
        class_pool: &mut ClassPool,
        now: Instant,
    ) -> Option<Instant> {
        self.drop_expired(shared, class_pool, now);
        class_pool.waiting.pop_front()
    }

    /// Counts as dropped the waiting iterations that waited past `--max-delay`.
    fn drop_expired(&self, shared: &Shared, class_pool: &mut ClassPool, now: Instant) {
        while let Some(&due) = class_pool.waiting.front() {
            if now.duration_since(due) <= self.max_delay {
                return;
            }
            class_pool.waiting.pop_front();
            shared.progress.drop_iterations(1);
        }
    }

    /// Makes a user of `class` whose slot is already reserved; on failure
    /// the slot is released.
    async fn new_user(&self, shared: &Shared, class: usize) -> Option<PooledUser> {
        let id = self.segment.position(self.made.fetch_add(1, Ordering::Relaxed));
        let running = Running::enter(&shared.progress);
        match shared.start_user(id, &shared.classes[class]).await {
            Ok(user) => Some(PooledUser { user, id, _running: running }),
            Err(failure) => {
                if let StartFailure::Trapped = failure {
                    shared.progress.restarts.fetch_add(1, Ordering::Relaxed);
                }
                self.release();
                None
            }
        }
    }

    /// Claims a slot for a new user, if under `--max-users`.
    fn reserve(&self) -> bool {
        let max = self.max_users;
        self.allocated
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then(|| n + 1))
            .is_ok()
    }

    fn release(&self) {
        self.allocated.fetch_sub(1, Ordering::AcqRel);
    }

    fn take_idle(&self, class: usize) -> Vec<PooledUser> {
        std::mem::take(&mut lock(&self.classes[class]).idle)
    }

    /// Counts iterations still waiting when the run ends as dropped.
    fn drop_waiting(&self, shared: &Shared) {
        for class_pool in &self.classes {
            let waiting = std::mem::take(&mut lock(class_pool).waiting);
            shared.progress.drop_iterations(waiting.len() as u64);
        }
    }
}
