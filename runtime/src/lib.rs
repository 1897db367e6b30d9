//! The wasmload runtime: runs WebAssembly components as virtual users of a
//! load test. The `wasmload` binary is its command line.

#[doc(hidden)]
pub mod benching;
mod bindings;
pub mod cli;
pub mod config;
mod engine;
pub mod inspect;
mod limits;
mod protocols;
pub mod report;
pub mod run;
mod sandbox;
pub mod saved;
mod scheduler;
pub mod starter;
mod stats;
mod sync;
mod user;

/// The parsers of guest-supplied and server-supplied data, for fuzzing.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::bindings::xmlrpc::Node;
    pub use crate::protocols::http::{guest_headers, resolve};
    pub use crate::protocols::xmlrpc::{decode_response, from_nodes};
    pub use crate::sandbox::NetworkPolicy;
}
