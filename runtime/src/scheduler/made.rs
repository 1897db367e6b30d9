//! Users' instances made before the run starts (k6's init stage): with a
//! fixed user count, every user of this segment, each instantiated and its
//! `describe` run. A user's start is then its `on-start` and first task, not
//! also its instantiation and its guest's first-call set-up; and segments that
//! wait for one start instant have made theirs before they say they are
//! ready.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::{LoadPlan, Model, UserLoad};
use crate::engine::UserComponent;
use crate::user::{GuestError, RunServices, VirtualUser};

/// The component users are instances of, and the instances made ahead, by
/// user id: each is taken by its user's first start.
pub struct Instances {
    component: Arc<UserComponent>,
    made: HashMap<u64, VirtualUser>,
}

impl Instances {
    /// None made yet: each user is instantiated at its start.
    pub fn none(component: Arc<UserComponent>) -> Instances {
        Instances { component, made: HashMap::new() }
    }

    /// Makes an instance for each of this segment's users not made yet, when
    /// `plan` has a fixed user count (other loads start users at moments the
    /// clock decides, and a shape's ceiling is only a reservation). Making
    /// stops at the first instance that fails; the users not made by then
    /// are instantiated at their start, which reports a failure as ever.
    /// Dropping the future drops what it made.
    pub fn make<'a>(
        &'a mut self,
        services: &RunServices,
        plan: &LoadPlan,
    ) -> impl Future<Output = ()> + Send + 'a {
        let users = match plan.model {
            Model::Closed(UserLoad::Fixed { users, .. }) => users,
            _ => 0,
        };
        let ids: Arc<[u64]> = (0..u64::from(users))
            .filter(|id| plan.segment.owns(*id) && !self.made.contains_key(id))
            .collect();
        let (component, services) = (Arc::clone(&self.component), services.clone());
        async move { self.made.extend(make_all(component, services, ids).await) }
    }

    /// The component.
    pub(super) fn component(&self) -> &Arc<UserComponent> {
        &self.component
    }

    /// How many instances wait for their users.
    pub fn made(&self) -> usize {
        self.made.len()
    }

    /// User `user_id`'s instance, if it was made ahead and not taken yet.
    pub(super) fn take(&mut self, user_id: u64) -> Option<VirtualUser> {
        self.made.remove(&user_id)
    }
}

/// User `id`'s instance, its guest's own initialisation done: its
/// `describe` runs once, as k6 runs each VU's init code in its init stage.
/// The first call into an instance runs the guest's constructors, sets up
/// its allocator and touches the first pages of its heap, its stack and its
/// function table; done here, before the clock, a start is its `on-start`
/// and first task alone: 12,000 users in one process took 103 to 125 µs of
/// CPU a start against 124 to 158 (docs/BENCHMARKS.md, Scale, "Users
/// initialised before the start").
async fn made_and_initialised(
    component: &UserComponent,
    services: &RunServices,
    id: u64,
) -> Result<VirtualUser, GuestError> {
    let mut user = VirtualUser::new(component, services, id).await?;
    user.describe().await?;
    Ok(user)
}

/// Makes the instances of users `ids`, one maker per core, each taking
/// every n-th id.
async fn make_all(
    component: Arc<UserComponent>,
    services: RunServices,
    ids: Arc<[u64]>,
) -> HashMap<u64, VirtualUser> {
    let makers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let failed = Arc::new(AtomicBool::new(false));
    let mut making = JoinSet::new();
    for first in 0..makers {
        let (component, services) = (Arc::clone(&component), services.clone());
        let (failed, ids) = (Arc::clone(&failed), Arc::clone(&ids));
        making.spawn(async move {
            let mut made = Vec::new();
            for &id in ids.iter().skip(first).step_by(makers) {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                // It keeps the stack it was instantiated on for its
                // `on-start`, as a user made at its start does. Given back,
                // the stack would wait in the pool's decommit batch, and a
                // pool sized to the users could run out.
                match made_and_initialised(&component, &services, id).await {
                    Ok(user) => made.push((id, user)),
                    Err(_) => failed.store(true, Ordering::Relaxed),
                }
                // Instantiating never waits: let the runtime's other work
                // (other runs, in `serve`) in between.
                tokio::task::yield_now().await;
            }
            made
        });
    }
    let mut all = HashMap::with_capacity(ids.len());
    while let Some(made) = making.join_next().await {
        all.extend(made.unwrap_or_default());
    }
    all
}
