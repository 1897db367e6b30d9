//! WebSocket connections, plain (`ws://`) or TLS (`wss://`). The host
//! records the handshake as an event (type `ws`, name `connect`), and each
//! [`Connection::request`] and [`Connection::ping`] as one event; for
//! anything else, time it with [`crate::events`].
//!
//! ```ignore
//! let mut chat = websocket::connect("")?;                 // --host ws://127.0.0.1:8765/chat
//! let reply = chat.request("hello", Message::Text("hello".into()))?;
//! chat.ping()?;
//! ```

use std::time::Duration;

use crate::micros;

use crate::bindings::wasmload::user::websocket::{ConnectOptions, Connection as HostConnection};
pub use crate::bindings::wasmload::user::websocket::{Error as WebSocketError, Message};

impl WebSocketError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            WebSocketError::InvalidAddress(reason) => format!("invalid address: {reason}"),
            WebSocketError::Connect(reason) => format!("connect: {reason}"),
            WebSocketError::Timeout => "timeout".into(),
            WebSocketError::Closed(reason) => format!("closed {reason}"),
            WebSocketError::TooLarge(reason) => format!("too large: {reason}"),
            WebSocketError::Protocol(reason) => format!("protocol: {reason}"),
        }
    }
}

impl Message {
    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The bytes of either kind of message.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) => data,
        }
    }
}

/// How to connect: extra handshake headers, subprotocols offered, a timeout.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra headers of the handshake request.
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered, most wanted first.
    pub subprotocols: Vec<String>,
    /// For the connection and handshake (default: the run's `--timeout`).
    pub timeout: Option<Duration>,
}

/// Connects to `url` (`ws://host:port/path` or `wss://...`); an empty `url`
/// is the run's `--host`.
pub fn connect(url: &str) -> Result<Connection, WebSocketError> {
    connect_with(url, Options::default())
}

/// Connects with headers, subprotocols or a timeout.
pub fn connect_with(url: &str, options: Options) -> Result<Connection, WebSocketError> {
    let options = ConnectOptions {
        headers: options.headers,
        subprotocols: options.subprotocols,
        timeout_us: options.timeout.map(micros),
    };
    let inner = HostConnection::connect(url, &options)?;
    Ok(Connection { inner, timeout_us: None })
}

/// An open connection; closed when dropped.
pub struct Connection {
    inner: HostConnection,
    timeout_us: Option<u64>,
}

impl Connection {
    /// Sets the timeout of every later call (default: the run's `--timeout`).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout_us = Some(micros(timeout));
    }

    /// The subprotocol the server chose, if any.
    pub fn subprotocol(&self) -> Option<String> {
        self.inner.subprotocol()
    }

    /// Sends `message`.
    pub fn send(&mut self, message: Message) -> Result<(), WebSocketError> {
        self.inner.send(&message)
    }

    /// The next text or binary message.
    pub fn receive(&mut self) -> Result<Message, WebSocketError> {
        self.inner.receive(self.timeout_us)
    }

    /// Sends `message` and waits for the next one, recorded as one event
    /// (type `ws`) named `name`.
    pub fn request(&mut self, name: &str, message: Message) -> Result<Message, WebSocketError> {
        self.inner.request(name, &message, self.timeout_us)
    }

    /// Sends a ping and waits for its pong: one event named `ping`.
    pub fn ping(&mut self) -> Result<(), WebSocketError> {
        self.inner.ping(self.timeout_us)
    }

    /// Closes normally (code 1000) with `reason`.
    pub fn close(&mut self, reason: &str) -> Result<(), WebSocketError> {
        self.inner.close(1000, reason)
    }
}
