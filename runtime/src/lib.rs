//! The wasmload runtime: runs WebAssembly components as virtual users of a
//! load test. The library is the engine, the users, their protocols, the
//! scheduler, the stats and the reports; a run is a value of [`run`].
//! The commands of the `wasmload` binary are clients of it, in [`cli`].

pub mod allocator;
#[doc(hidden)]
pub mod benching;
mod bindings;
pub mod cli;
pub mod client;
pub mod engine;
mod limits;
mod protocols;
pub mod report;
pub mod run;
pub mod sandbox;
mod scheduler;
pub mod serve;
pub mod split;
pub mod stats;
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

/// The first paragraph of a message on one line, without clap's leading
/// `error: `: how every refusal is shown, on a terminal or in an answer.
pub fn one_line(text: &str) -> String {
    let paragraph = text.split("\n\n").next().unwrap_or(text);
    let joined: Vec<&str> = paragraph.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    joined.join(" ").trim_start_matches("error: ").to_owned()
}

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
