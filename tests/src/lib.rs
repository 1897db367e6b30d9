//! Support for wasmload's end-to-end tests: a local HTTP target that counts
//! what it serves, guest components built from source, and a way to run
//! the `wasmload` binary and read its JSON summary; TCP/UDP echo servers and
//! a real redis-server for the socket protocols; Debian's PostgreSQL; PyPI's `websockets`; Debian's mosquitto; Python's XML-RPC server; a
//! tonic gRPC server; a server that breaks HTTP; a private network of
//! namespaces for what runs as many machines; and the checks the examples
//! of every language must pass.

mod background;
pub mod checks;
pub mod echo;
pub mod edges;
pub mod faulty;
pub mod grpc;
pub mod guests;
pub mod mosquitto;
pub mod netns;
pub mod nginx;
pub mod postgres;
pub mod prometheus;
pub mod redis;
pub mod runner;
pub mod serve;
pub mod target;
pub mod websocket;
pub mod xmlrpc;

pub use echo::EchoServers;
pub use edges::EdgeServer;
pub use faulty::FaultyServer;
pub use grpc::GrpcServer;
pub use guests::{example, guest, guest_target_dir, test_guest};
pub use mosquitto::Mosquitto;
pub use netns::{Host, Network};
pub use nginx::Nginx;
pub use postgres::PostgresServer;
pub use prometheus::Prometheus;
pub use redis::RedisServer;
pub use runner::{
    get_json, get_text, run_component, run_guest, run_wasmload, run_wasmload_in,
    run_wasmload_signalled, tool, Outcome, Setting,
};
pub use serve::ServeProcess;
pub use target::TargetServer;
pub use websocket::WebSocketServer;
pub use xmlrpc::XmlRpcServer;
