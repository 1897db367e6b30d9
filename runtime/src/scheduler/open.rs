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
    REST_AFTER,
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
    idle: IdleUsers<PooledUser>,
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
                if let Some(mut user) = pool.new_user(&shared, class).await {
                    // It waits for the clock at least: nothing to keep warm.
                    user.user.rest();
                    lock(&pool.classes[class]).idle.push(user, Instant::now());
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
        class_pool.idle.rest_idle(Instant::now(), REST_PER_DISPATCH, |idle| idle.user.rest());
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
                    return class_pool.idle.push(user, Instant::now());
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
        match shared.start_user(id, &shared.classes[class], None).await {
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
        lock(&self.classes[class]).idle.take()
    }

    /// Counts iterations still waiting when the run ends as dropped.
    fn drop_waiting(&self, shared: &Shared) {
        for class_pool in &self.classes {
            let waiting = std::mem::take(&mut lock(class_pool).waiting);
            shared.progress.drop_iterations(waiting.len() as u64);
        }
    }
}

/// At most this many idle users rest per dispatch: each may queue a
/// decommit, and the class's lock is held meanwhile. After a sharp drop in
/// the rate the next dispatches go on where this one stopped.
const REST_PER_DISPATCH: usize = 32;

/// Idle users, the longest idle at the bottom. The most recently used is
/// handed out first (its stack and caches are warm), so with a steady rate
/// the same few users take the iterations and the rest stay idle: those
/// give back their fiber stacks once idle for [`REST_AFTER`]. They are
/// swept when their class is dispatched, so a class that gets no more
/// iterations (a rate of 0 for a while) keeps its idle users' stacks
/// until it does.
struct IdleUsers<U> {
    /// Each user with the instant it came back, oldest first.
    users: Vec<(U, Instant)>,
    /// How many users at the bottom have rested.
    rested: usize,
}

impl<U> Default for IdleUsers<U> {
    fn default() -> Self {
        IdleUsers { users: Vec::new(), rested: 0 }
    }
}

impl<U> IdleUsers<U> {
    fn push(&mut self, user: U, now: Instant) {
        self.users.push((user, now));
    }

    /// The most recently used idle user.
    fn pop(&mut self) -> Option<U> {
        let (user, _) = self.users.pop()?;
        self.rested = self.rested.min(self.users.len());
        Some(user)
    }

    /// Rests (with `rest`) up to `most` users idle since `REST_AFTER`
    /// before `now`, each once: they lie at the bottom, above those
    /// already rested.
    fn rest_idle(&mut self, now: Instant, most: usize, mut rest: impl FnMut(&mut U)) {
        let end = self.rested.saturating_add(most);
        while let Some((user, since)) = self.users.get_mut(self.rested) {
            if self.rested == end || now.saturating_duration_since(*since) < REST_AFTER {
                break;
            }
            rest(user);
            self.rested += 1;
        }
    }

    /// Every idle user, leaving none.
    fn take(&mut self) -> Vec<U> {
        self.rested = 0;
        self.users.drain(..).map(|(user, _)| user).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A user that counts its rests.
    #[derive(Debug, Default, PartialEq)]
    struct Counted(u32);

    fn rest_all(idle: &mut IdleUsers<Counted>, now: Instant) {
        idle.rest_idle(now, usize::MAX, |user| user.0 += 1);
    }

    #[test]
    fn users_idle_long_enough_rest_once_and_warm_ones_not_at_all() {
        let start = Instant::now();
        let mut idle = IdleUsers::default();
        for offset in [0, 10, 20] {
            idle.push(Counted::default(), start + Duration::from_millis(offset));
        }
        // At 65 ms the first two have been idle 50 ms or more.
        rest_all(&mut idle, start + Duration::from_millis(65));
        rest_all(&mut idle, start + Duration::from_millis(69));
        assert_eq!(idle.rested, 2);
        // The warm one comes out first, unrested; it comes back later.
        assert_eq!(idle.pop(), Some(Counted(0)));
        idle.push(Counted(0), start + Duration::from_millis(70));
        rest_all(&mut idle, start + Duration::from_millis(119));
        assert_eq!(idle.rested, 2, "idle 49 ms: still warm");
        rest_all(&mut idle, start + Duration::from_millis(120));
        assert_eq!(idle.take(), vec![Counted(1), Counted(1), Counted(1)]);
        assert_eq!(idle.rested, 0);
    }

    #[test]
    fn taking_rested_users_keeps_the_count_within_the_pool() {
        let start = Instant::now();
        let mut idle = IdleUsers::default();
        idle.push(Counted::default(), start);
        idle.push(Counted::default(), start);
        rest_all(&mut idle, start + REST_AFTER);
        assert_eq!(idle.rested, 2);
        assert_eq!(idle.pop(), Some(Counted(1)));
        assert_eq!(idle.rested, 1);
        // A user back on top of a rested one is not counted as rested.
        idle.push(Counted::default(), start + REST_AFTER);
        assert_eq!(idle.rested, 1);
        assert_eq!(idle.pop(), Some(Counted(0)));
        assert_eq!(idle.pop(), Some(Counted(1)));
        assert_eq!((idle.pop(), idle.rested), (None, 0));
    }

    #[test]
    fn a_sweep_rests_at_most_its_share_and_the_next_goes_on() {
        let start = Instant::now();
        let mut idle = IdleUsers::default();
        for _ in 0..5 {
            idle.push(Counted::default(), start);
        }
        let mut rests = 0;
        idle.rest_idle(start + REST_AFTER, 2, |_| rests += 1);
        assert_eq!((rests, idle.rested), (2, 2));
        idle.rest_idle(start + REST_AFTER, 2, |_| rests += 1);
        idle.rest_idle(start + REST_AFTER, 2, |_| rests += 1);
        assert_eq!((rests, idle.rested), (5, 5));
    }
}
