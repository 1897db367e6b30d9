//! UDP datagrams to one peer. [`Socket::request`] sends one datagram and
//! waits for one back, recorded as one event (type `udp`).

use std::time::Duration;

pub use crate::bindings::wasmload::user::udp::Error as UdpError;
use crate::bindings::wasmload::user::udp::Socket as HostSocket;

impl UdpError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            UdpError::InvalidAddress(reason) => format!("invalid address: {reason}"),
            UdpError::Timeout => "timeout".into(),
            UdpError::Io(reason) => format!("io: {reason}"),
        }
    }
}

/// A socket that talks to one peer.
pub struct Socket {
    inner: HostSocket,
    timeout_us: Option<u64>,
}

/// Opens a socket to `address` (`host:port`).
pub fn connect(address: &str) -> Result<Socket, UdpError> {
    Ok(Socket { inner: HostSocket::connect(address)?, timeout_us: None })
}

impl Socket {
    /// Sets the receive timeout (default: the run's `--timeout`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout_us = Some(u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX));
    }

    /// Sends one datagram.
    pub fn send(&self, data: &[u8]) -> Result<(), UdpError> {
        self.inner.send(data)
    }

    /// The next datagram, cut to `max` bytes.
    pub fn receive(&self, max: u32) -> Result<Vec<u8>, UdpError> {
        self.inner.receive(max, self.timeout_us)
    }

    /// Sends `payload` and waits for the answer, recorded as one event
    /// (type `udp`) named `name`.
    pub fn request(&self, name: &str, payload: &[u8]) -> Result<Vec<u8>, UdpError> {
        self.inner.request(name, payload, self.timeout_us)
    }
}
