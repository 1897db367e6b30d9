//! A started user outside a run, for the micro-benchmarks in `benches/`;
//! not a stable API.

use std::path::Path;
use std::sync::Arc;

use crate::engine::UserComponent;
use crate::run::{RunLog, RunSetting, RunSpec};
use crate::sandbox::RunBudget;
pub use crate::stats::{Recorder, RequestEvent};
use crate::user::{GuestError, VirtualUser};

/// One user of a component, started with default flags.
pub struct BenchUser {
    user: VirtualUser,
    component: UserComponent,
}

impl BenchUser {
    /// Instantiates the component at `path` and starts a user of its
    /// first class.
    pub async fn start(path: &Path) -> anyhow::Result<BenchUser> {
        let guest = RunSpec::default().guest;
        let sandbox = Arc::new(crate::run::sandbox(&guest, true).await?);
        let component = UserComponent::load_file(path, 2, sandbox.max_memory, None)?;
        let setting = RunSetting {
            name: path.display().to_string(),
            log: RunLog::stderr(),
            ca_files: Vec::new(),
            trust_host_addresses: true,
            segment: crate::scheduler::Segment::WHOLE,
            local_ips: crate::run::LocalIps::default(),
        };
        let budget = RunBudget::new(guest.budgets.clone(), crate::limits::open_files());
        let recorder = Recorder::new(guest.budgets.max_names);
        let services = crate::run::services(&guest, &setting, sandbox, recorder, budget)?;
        let mut user = VirtualUser::new(&component, &services, 0).await?;
        user.on_start(0).await?;
        Ok(BenchUser { user, component })
    }

    /// Runs task number `task` of the user's class.
    pub async fn run_task(&mut self, task: u32) -> Result<(), GuestError> {
        self.user.run_task(task).await
    }

    /// Gives back the user's fiber stack, as a user about to wait does.
    pub fn rest(&mut self) {
        self.user.rest();
    }

    /// Fiber stacks taken from the engine's pool and not given back.
    pub fn stacks_held(&self) -> usize {
        let metrics = self.component.engine().pooling_allocator_metrics();
        metrics.map_or(0, |metrics| metrics.stacks())
    }
}
