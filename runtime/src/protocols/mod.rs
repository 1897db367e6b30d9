//! Host implementations of the guest-facing interfaces, one module each.

pub mod context;
pub mod events;
pub mod http;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod xmlrpc;
