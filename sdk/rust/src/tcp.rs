//! Raw TCP connections, plain or TLS. The host records connecting as an
//! event (type `tcp`, name `connect`), and each [`Connection::request`] as
//! one event; for anything else, time it with [`crate::events`].
//!
//! ```ignore
//! let mut redis = tcp::connect("127.0.0.1:6379")?;
//! let pong = redis.request("PING", b"PING\r\n", b"\r\n")?;
//! ```

use std::time::Duration;

use crate::micros;

pub use crate::bindings::wasmload::user::tcp::Error as TcpError;
use crate::bindings::wasmload::user::tcp::{ConnectOptions, Connection as HostConnection};

impl TcpError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            TcpError::InvalidAddress(reason) => format!("invalid address: {reason}"),
            TcpError::Connect(reason) => format!("connect: {reason}"),
            TcpError::Timeout => "timeout".into(),
            TcpError::Closed => "closed by peer".into(),
            TcpError::TooLarge => "too large".into(),
            TcpError::Io(reason) => format!("io: {reason}"),
        }
    }
}

/// An open connection; closed when dropped.
pub struct Connection {
    inner: HostConnection,
    /// The most bytes a `receive_until` waits for.
    max_message: u32,
    timeout_us: Option<u64>,
}

/// Connects to `address` (`host:port`).
pub fn connect(address: &str) -> Result<Connection, TcpError> {
    open(address, false, None)
}

/// Connects to `address` and speaks TLS, checking the server's certificate
/// for the address's host.
pub fn connect_tls(address: &str) -> Result<Connection, TcpError> {
    open(address, true, None)
}

/// Connects with a timeout for the connection and TLS handshake.
pub fn connect_with(address: &str, tls: bool, timeout: Duration) -> Result<Connection, TcpError> {
    open(address, tls, Some(micros(timeout)))
}

fn open(address: &str, tls: bool, timeout_us: Option<u64>) -> Result<Connection, TcpError> {
    let inner = HostConnection::connect(address, ConnectOptions { timeout_us, tls })?;
    Ok(Connection { inner, max_message: 1 << 20, timeout_us: None })
}

impl Connection {
    /// Sets the timeout of every later call (default: the run's `--timeout`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout_us = Some(micros(timeout));
    }

    /// Sets the most bytes `receive_until` and `request` wait for (default 1 MiB).
    pub fn set_max_message(&mut self, bytes: u32) {
        self.max_message = bytes;
    }

    /// Sends all of `data`.
    pub fn send(&mut self, data: &[u8]) -> Result<(), TcpError> {
        self.inner.send(data)
    }

    /// Up to `max` bytes as soon as any arrive; empty once the peer closed.
    pub fn receive(&mut self, max: u32) -> Result<Vec<u8>, TcpError> {
        self.inner.receive(max, self.timeout_us)
    }

    /// Everything up to and including `delimiter`.
    pub fn receive_until(&mut self, delimiter: &[u8]) -> Result<Vec<u8>, TcpError> {
        self.inner.receive_until(delimiter, self.max_message, self.timeout_us)
    }

    /// Exactly `count` bytes.
    pub fn receive_exact(&mut self, count: usize) -> Result<Vec<u8>, TcpError> {
        let mut data = Vec::with_capacity(count);
        while data.len() < count {
            let want = u32::try_from(count - data.len()).unwrap_or(u32::MAX);
            let chunk = self.receive(want)?;
            if chunk.is_empty() {
                return Err(TcpError::Closed);
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    /// Sends `payload` and reads through `until`, recorded as one event
    /// (type `tcp`) named `name`.
    pub fn request(
        &mut self,
        name: &str,
        payload: &[u8],
        until: &[u8],
    ) -> Result<Vec<u8>, TcpError> {
        self.inner.request(name, payload, until, self.timeout_us)
    }
}
