//! A test split over processes or machines. Every worker runs one segment
//! of the same test (`run --segment I/N --collector URL`) and reports to
//! one collector, which starts them all at one instant, merges what they
//! send into one live run and, at the end, one exact summary, judges the
//! thresholds on the whole, and names any segment that was lost.
//! `run --processes N` is a collector with N workers of itself; across
//! machines, `wasmload collect` is the collector and each pod of a
//! Kubernetes Indexed Job a worker.

mod collector;
mod processes;
pub mod wire;
mod worker;

pub use collector::Collector;
pub use processes::{absolute, spawn, WorkerCommand};
pub use worker::Worker;

use anyhow::{Context, Result};

use crate::run::RunSpec;
use wire::TestId;

/// What every segment of `spec` run on `component` must agree on.
pub fn test_id(spec: &RunSpec, component: &crate::engine::UserComponent) -> TestId {
    TestId { spec: spec.to_options(), component: component.digest().to_owned() }
}

/// `spec` as a `wasmload.toml` file: how a worker process is given it.
pub fn spec_file(spec: &RunSpec) -> Result<String> {
    let mut options = spec.to_options();
    options.retain(|_, value| !value.is_null());
    for value in options.values_mut() {
        // TOML's integers stop at i64's; a seed may not. Options are read as
        // the text of their flags anyway.
        if let serde_json::Value::Number(number) = value {
            *value = serde_json::Value::String(number.to_string());
        }
    }
    toml::to_string(&options).context("writing the run's options as TOML")
}

/// How many processes `users` users need here, each holding what its
/// open files and `vm.max_map_count` allow: 1 when one holds them all.
pub fn processes_for(users: u32) -> u32 {
    users.div_ceil(crate::limits::users_per_process()).max(1)
}
