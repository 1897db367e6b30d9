//! Support for wasmload's end-to-end tests: a local HTTP target that counts
//! what it serves, guest components built from source, and a way to run
//! the `wasmload` binary and read its JSON summary.

pub mod guests;
pub mod runner;
pub mod target;

pub use guests::guest;
pub use runner::{run_guest, run_wasmload, run_wasmload_signalled, Outcome};
pub use target::TargetServer;
