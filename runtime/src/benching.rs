//! A started user outside a run, for the micro-benchmarks in `benches/`;
//! not a stable API.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::engine::UserComponent;
pub use crate::stats::{Recorder, RequestEvent};
use crate::user::{GuestError, VirtualUser};

/// One user of a component, started with default flags.
pub struct BenchUser {
    user: VirtualUser,
    _component: UserComponent,
}

impl BenchUser {
    /// Instantiates the component at `path` and starts a user of its
    /// first class.
    pub async fn start(path: &Path) -> anyhow::Result<BenchUser> {
        let Command::Run(args) = Cli::try_parse_from(["wasmload", "run"])?.command else {
            unreachable!("parsed a run command")
        };
        let sandbox = Arc::new(crate::run::sandbox(&args.guest).await?);
        let component = UserComponent::load(path, 1, sandbox.max_memory, None)?;
        let services = crate::run::services(&args.guest, sandbox, Recorder::new())?;
        let mut user = VirtualUser::new(&component, &services, 0).await?;
        user.on_start(0).await?;
        Ok(BenchUser { user, _component: component })
    }

    /// Runs task number `task` of the user's class.
    pub async fn run_task(&mut self, task: u32) -> Result<(), GuestError> {
        self.user.run_task(task).await
    }
}
