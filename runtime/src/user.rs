//! One virtual user: its store, its instance, and calls into the guest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::bindings::{LoadTarget, User, UserClass};
use crate::engine::UserComponent;
use crate::protocols::connect::LocalIps;
use crate::protocols::wasi_http::WasiHttpUser;
use crate::protocols::{HasProtocols, ProtocolConfigs, ProtocolUsers, UserSetup};
use crate::run::RunLog;
use crate::sandbox::{RunBudget, Sandbox};
use crate::stats::Recorder;

/// Everything a user's host calls need; the data of its store.
pub struct UserState {
    wasi: WasiCtx,
    wasi_table: ResourceTable,
    wasi_http: WasiHttpUser,
    protocols: ProtocolUsers,
    limits: StoreLimits,
}

impl HasProtocols for UserState {
    fn protocols(&mut self) -> &mut ProtocolUsers {
        &mut self.protocols
    }
}

impl WasiHttpView for UserState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.wasi_http.view(&mut self.wasi_table)
    }
}

impl WasiView for UserState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.wasi_table }
    }
}

/// Run-wide services every user is built from.
#[derive(Clone)]
pub struct RunServices {
    pub recorder: Recorder,
    /// Every protocol's run-wide settings.
    pub protocols: ProtocolConfigs,
    pub sandbox: Arc<Sandbox>,
    /// The run's budgets and what its users use of them.
    pub budget: Arc<RunBudget>,
    /// Where the run's messages go.
    pub log: RunLog,
    /// The local addresses users' connections go out from (`--local-ips`).
    pub local_ips: LocalIps,
}

/// WASI resources (streams, pollables, wasi:http requests and fields) a
/// user may hold per `--max-resources`: one wasi:http exchange takes
/// several.
const WASI_RESOURCES_PER_BUDGETED: usize = 8;

/// How a call into the guest went wrong.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    /// The guest returned an error; the user can go on.
    #[error("{0}")]
    Failed(String),
    /// The guest trapped (or the host failed it); the instance is unusable.
    #[error("trapped: {0}")]
    Trapped(String),
}

/// A live virtual user. After a [`GuestError::Trapped`] it must not be
/// called again.
pub struct VirtualUser {
    store: Store<UserState>,
    bindings: User,
    task_timeout: Duration,
    /// The handle this user's protocol modules record through.
    recorder: Recorder,
}

impl VirtualUser {
    /// Instantiates the component as user `user_id`.
    pub async fn new(
        component: &UserComponent,
        services: &RunServices,
        user_id: u64,
    ) -> Result<Self, GuestError> {
        let recorder = services.recorder.for_user();
        let budget = services.budget.for_user();
        let max_resources = services.budget.budgets().max_resources as usize;
        let setup = UserSetup {
            user_id,
            recorder: &recorder,
            budget: &budget,
            source: services.local_ips.for_user(user_id),
            log: &services.log,
        };
        let protocols = ProtocolUsers::new(&services.protocols, &setup);
        let mut wasi_table = ResourceTable::new();
        wasi_table.set_max_capacity(max_resources.saturating_mul(WASI_RESOURCES_PER_BUDGETED));
        let state = UserState {
            // No preopens, no environment, no arguments: a guest reaches
            // the outside world only through our interfaces. Its stdout and
            // stderr become lines of the run's log, budgeted.
            wasi: WasiCtx::builder()
                .stdout(protocols.context.output("stdout"))
                .stderr(protocols.context.output("stderr"))
                .build(),
            wasi_table,
            wasi_http: WasiHttpUser::new(&protocols.http),
            protocols,
            limits: StoreLimitsBuilder::new()
                .memory_size(services.sandbox.max_memory)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(component.engine(), state);
        store.limiter(|state| &mut state.limits);
        // Yield to the scheduler every epoch tick so a busy guest cannot
        // starve the users sharing its thread.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let bindings = component.pre().instantiate_async(&mut store).await.map_err(trapped)?;
        Ok(VirtualUser { store, bindings, task_timeout: services.sandbox.task_timeout, recorder })
    }

    /// Gives back the fiber stack the store keeps between calls: a user about
    /// to wait holds no stack pages until its next call takes one again.
    pub fn rest(&mut self) {
        self.store.release_fiber_stack();
    }

    /// The classes the component declares, within a task's time: every made
    /// user's instance is described too, and one that never answers must not
    /// hold the run before its start.
    pub async fn describe(&mut self) -> Result<Vec<UserClass>, GuestError> {
        let call = self.bindings.wasmload_user_behaviour().call_describe(&mut self.store);
        within(self.task_timeout, call).await
    }

    /// Makes this user one of class `class`.
    pub async fn on_start(&mut self, class: u32) -> Result<(), GuestError> {
        let call = self.bindings.wasmload_user_behaviour().call_on_start(&mut self.store, class);
        refused(within(self.task_timeout, call).await?)
    }

    /// Runs task `task` of this user's class.
    pub async fn run_task(&mut self, task: u32) -> Result<(), GuestError> {
        let call = self.bindings.wasmload_user_behaviour().call_run_task(&mut self.store, task);
        refused(within(self.task_timeout, call).await?)
    }

    /// Lets the user clean up before it goes.
    pub async fn on_stop(&mut self) -> Result<(), GuestError> {
        let call = self.bindings.wasmload_user_behaviour().call_on_stop(&mut self.store);
        refused(within(self.task_timeout, call).await?)
    }

    /// The load the component's shape asks for `run_time` into the run.
    pub async fn shape(&mut self, run_time: Duration) -> Result<LoadTarget, GuestError> {
        let micros = u64::try_from(run_time.as_micros()).unwrap_or(u64::MAX);
        let call = self.bindings.wasmload_user_behaviour().call_shape(&mut self.store, micros);
        within(self.task_timeout, call).await
    }

    /// Marks how late the user's next iteration starts behind its schedule.
    pub fn set_lateness(&self, lateness: Duration) {
        self.recorder.set_lateness(lateness);
    }

    /// This user's random generator.
    pub fn rng(&mut self) -> &mut fastrand::Rng {
        self.store.data_mut().protocols.context.rng()
    }
}

/// Runs a guest call for at most `timeout`. A guest in an endless loop
/// still yields at every epoch tick, so the timeout interrupts it too.
async fn within<T>(
    timeout: Duration,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> Result<T, GuestError> {
    let Ok(outcome) = tokio::time::timeout(timeout, call).await else {
        let limit = humantime::format_duration(timeout);
        return Err(GuestError::Trapped(format!(
            "interrupted: ran longer than {limit} (--task-timeout)"
        )));
    };
    outcome.map_err(trapped)
}

/// A lifecycle call's own error: the guest refused, the user can go on.
fn refused(outcome: Result<(), String>) -> Result<(), GuestError> {
    outcome.map_err(GuestError::Failed)
}

/// A trap as one line: what happened and the innermost guest function of
/// the user's own code, e.g. `wasm trap: ... at my_user::Shopper::browse`.
fn trapped(error: wasmtime::Error) -> GuestError {
    let reason = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    let location = error.downcast_ref::<wasmtime::WasmBacktrace>().and_then(|backtrace| {
        backtrace
            .frames()
            .iter()
            .filter_map(|frame| frame.func_name())
            .map(|name| format!("{:#}", rustc_demangle::demangle(name)))
            .find(|name| !is_runtime_frame(name))
    });
    GuestError::Trapped(match location {
        Some(location) => format!("{reason} at {location}"),
        None => reason,
    })
}

/// Frames of language runtimes and of our SDK, which say nothing about
/// where the user's code failed.
fn is_runtime_frame(name: &str) -> bool {
    const RUNTIME_PREFIXES: [&str; 9] =
        ["std::", "core::", "alloc::", "__rust", "rust_", "abort", "<std::", "<core::", "<alloc::"];
    RUNTIME_PREFIXES.iter().any(|prefix| name.starts_with(prefix)) || name.contains("wasmload_sdk")
}
