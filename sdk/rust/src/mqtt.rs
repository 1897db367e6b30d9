//! MQTT 3.1.1, plain (`mqtt://`) or TLS (`mqtts://`). The host records
//! connecting as an event (type `mqtt`, name `connect`), each publish as
//! one event timed to its acknowledgement (named by its topic, or the name
//! given), each subscribe and ping as one; a received message is not an
//! event (time its journey with [`crate::events`]).
//!
//! ```ignore
//! let mut broker = mqtt::connect("")?;                  // --host mqtt://127.0.0.1:1883
//! broker.subscribe("commands/#", Qos::AtLeastOnce)?;
//! broker.publish("sensors/temperature", b"21.5", Qos::AtLeastOnce)?;
//! let command = broker.receive()?;
//! ```

use std::time::Duration;

use crate::micros;

use crate::bindings::wasmload::user::mqtt::{ConnectOptions, Connection as HostConnection};
pub use crate::bindings::wasmload::user::mqtt::{Error as MqttError, Message, Qos};

impl MqttError {
    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            MqttError::InvalidAddress(reason) => format!("invalid address: {reason}"),
            MqttError::Connect(reason) => format!("connect: {reason}"),
            MqttError::Refused(reason) => format!("refused: {reason}"),
            MqttError::Timeout => "timeout".into(),
            MqttError::Closed(reason) => format!("closed {reason}"),
            MqttError::TooLarge(reason) => format!("too large: {reason}"),
            MqttError::Protocol(reason) => format!("protocol: {reason}"),
        }
    }
}

/// How to connect.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Default: `wasmload-USER-RANDOM`.
    pub client_id: Option<String>,
    /// Seconds the broker waits for a packet before it disconnects; 0 (the
    /// default) never. Nothing pings for you: call [`Connection::ping`].
    pub keep_alive_s: u16,
    /// Start with no session state on the broker.
    pub clean_session: bool,
    /// For the connection and CONNACK (default: the run's `--timeout`).
    pub timeout: Option<Duration>,
}

/// Connects to `url` (`mqtt://[user:password@]host:1883`) with a clean
/// session; an empty `url` is the run's `--host`.
pub fn connect(url: &str) -> Result<Connection, MqttError> {
    connect_with(url, Options { clean_session: true, ..Options::default() })
}

/// Connects with a client id, keep-alive, session or timeout.
pub fn connect_with(url: &str, options: Options) -> Result<Connection, MqttError> {
    let options = ConnectOptions {
        client_id: options.client_id,
        keep_alive_s: options.keep_alive_s,
        clean_session: options.clean_session,
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

    /// Publishes `payload` to `topic` at `qos`: one event named by the topic.
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: Qos) -> Result<(), MqttError> {
        self.publish_message(None, topic, payload, qos, false)
    }

    /// [`Connection::publish`], its event named `name`.
    pub fn publish_named(
        &mut self,
        name: &str,
        topic: &str,
        payload: &[u8],
        qos: Qos,
    ) -> Result<(), MqttError> {
        self.publish_message(Some(name), topic, payload, qos, false)
    }

    /// Publishes a retained message: the broker keeps it for later subscribers.
    pub fn publish_retained(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: Qos,
    ) -> Result<(), MqttError> {
        self.publish_message(None, topic, payload, qos, true)
    }

    fn publish_message(
        &mut self,
        name: Option<&str>,
        topic: &str,
        payload: &[u8],
        qos: Qos,
        retain: bool,
    ) -> Result<(), MqttError> {
        let message = Message { topic: topic.to_owned(), payload: payload.to_vec(), qos, retain };
        self.inner.publish(name, &message, self.timeout_us)
    }

    /// Subscribes to `filter`; the QoS the broker granted.
    pub fn subscribe(&mut self, filter: &str, qos: Qos) -> Result<Qos, MqttError> {
        self.inner.subscribe(filter, qos, self.timeout_us)
    }

    /// The next message from a subscription.
    pub fn receive(&mut self) -> Result<Message, MqttError> {
        self.inner.receive(self.timeout_us)
    }

    /// Pings the broker: one event named `ping`.
    pub fn ping(&mut self) -> Result<(), MqttError> {
        self.inner.ping(self.timeout_us)
    }

    /// Says goodbye (DISCONNECT) and closes.
    pub fn disconnect(&mut self) -> Result<(), MqttError> {
        self.inner.disconnect()
    }
}
