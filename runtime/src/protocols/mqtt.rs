//! `mqtt`: MQTT 3.1.1 over the user's own sockets (and our TLS), with
//! rumqttc's packets; each publish timed to its acknowledgement.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{self, v4, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::mqtt::{self, ConnectOptions, Error, Message, Qos};
use crate::protocols::connect::{self, Source, Stream, Unreached, UrlConfig};
use crate::protocols::{timeout_or, within, Protocol, RunSetup, UserSetup, UserSockets};
use crate::sandbox::{push_budgeted, ConnectionPermit, Exceeded, HostBytes, UserBudget};

/// What is read from the socket at a time.
const READ_CHUNK: usize = 4 << 10;
/// Bytes a held message is counted as on top of its topic and payload.
const MESSAGE_OVERHEAD: usize = 64;

/// One user's MQTT state: its open connections.
pub struct MqttUser {
    config: Arc<UrlConfig>,
    sockets: UserSockets,
    user_id: u64,
}

/// An open connection: bytes read but not yet a packet, and the messages
/// that arrived while it waited for an acknowledgement.
pub struct Connection {
    stream: Box<dyn Stream>,
    read: BytesMut,
    arrived: VecDeque<Message>,
    next_packet_id: u16,
    /// The largest packet read or written: `--max-call-size`.
    max_packet: usize,
    /// The read buffer's and arrived messages' share of `--max-host-memory`.
    held: HostBytes,
    _permit: ConnectionPermit,
}

impl Protocol for MqttUser {
    type Config = UrlConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<UrlConfig> {
        Ok(UrlConfig::new(run, &["mqtt", "mqtts"]))
    }

    /// A user with no connections yet.
    fn for_user(config: &Arc<UrlConfig>, user: &UserSetup<'_>) -> Self {
        MqttUser {
            config: Arc::clone(config),
            sockets: UserSockets::new(user),
            user_id: user.user_id,
        }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        mqtt::add_to_linker::<T, HasSelf<MqttUser>>(linker, get)
    }
}

impl MqttUser {
    fn timeout(&self, timeout_us: Option<u64>) -> Duration {
        timeout_or(self.config.default_timeout, timeout_us)
    }

    fn record(&self, name: &str, started: Instant, length: usize, error: Option<&Error>) {
        self.sockets.record("mqtt", name, started, length as u64, error.map(describe));
    }
}

impl Connection {
    /// Connects to `url` from `source`, within the sandbox and `budget`,
    /// and waits for the broker's CONNACK.
    async fn open(
        config: &UrlConfig,
        url: &str,
        options: &ConnectOptions,
        client_id: String,
        budget: &Arc<UserBudget>,
        source: Source,
    ) -> Result<Self, Error> {
        let url = connect::guest_url(url, config.default_url.as_ref(), &["mqtt", "mqtts"])
            .map_err(Error::InvalidAddress)?;
        let secure = url.scheme() == "mqtts";
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port().unwrap_or(if secure { 8883 } else { 1883 });
        let permit = budget.connect().map_err(|e| Error::Connect(e.to_string()))?;
        let held = budget.hold(0).map_err(over_budget)?;
        let tls = secure.then_some(&config.tls);
        let stream = connect::open_stream(&config.network, host, port, tls, source)
            .await
            .map_err(unreached)?;
        let mut connection = Connection {
            stream,
            read: BytesMut::new(),
            arrived: VecDeque::new(),
            next_packet_id: 0,
            max_packet: budget.budgets().max_call_size,
            held,
            _permit: permit,
        };
        let mut connect = v4::Connect::new(client_id);
        connect.keep_alive = options.keep_alive_s;
        connect.clean_session = options.clean_session;
        if !url.username().is_empty() {
            let password = url.password().unwrap_or_default();
            connect.login = Some(v4::Login::new(url.username(), password));
        }
        connection.write(|buffer| connect.write(buffer)).await?;
        match connection.next_packet().await? {
            v4::Packet::ConnAck(ack) if ack.code == v4::ConnectReturnCode::Success => {
                Ok(connection)
            }
            v4::Packet::ConnAck(ack) => Err(Error::Refused(format!("{:?}", ack.code))),
            other => Err(Error::Protocol(format!("{other:?} before CONNACK"))),
        }
    }

    /// A packet id for a new exchange: 1 to 65535, never 0.
    fn packet_id(&mut self) -> u16 {
        self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
        self.next_packet_id
    }

    /// Writes one packet that `encode` puts in a buffer.
    async fn write(
        &mut self,
        encode: impl FnOnce(&mut BytesMut) -> Result<usize, mqttbytes::Error>,
    ) -> Result<(), Error> {
        let mut buffer = BytesMut::new();
        encode(&mut buffer).map_err(|e| Error::Protocol(e.to_string()))?;
        self.stream.write_all(&buffer).await.map_err(io_error)?;
        self.stream.flush().await.map_err(io_error)
    }

    /// The next packet from the broker.
    async fn next_packet(&mut self) -> Result<v4::Packet, Error> {
        loop {
            match v4::read(&mut self.read, self.max_packet) {
                Ok(packet) => {
                    self.hold_arrived()?;
                    return Ok(packet);
                }
                Err(mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(mqttbytes::Error::PayloadSizeLimitExceeded(size)) => {
                    return Err(Error::TooLarge(format!(
                        "a packet of {size} bytes, over --max-call-size {}",
                        self.max_packet
                    )))
                }
                Err(error) => return Err(Error::Protocol(error.to_string())),
            }
            self.read.reserve(READ_CHUNK);
            self.held.resize(self.read.capacity() + self.arrived_size()).map_err(over_budget)?;
            if self.stream.read_buf(&mut self.read).await.map_err(io_error)? == 0 {
                return Err(Error::Closed("by the broker".into()));
            }
        }
    }

    fn arrived_size(&self) -> usize {
        self.arrived
            .iter()
            .map(|message| MESSAGE_OVERHEAD + message.topic.len() + message.payload.len())
            .sum()
    }

    fn hold_arrived(&mut self) -> Result<(), Error> {
        self.held.resize(self.read.capacity() + self.arrived_size()).map_err(over_budget)
    }

    /// Reads until `wanted` picks a packet, answering and keeping what else
    /// arrives: messages for `receive`, the broker's half of their QoS.
    async fn wait_for<T>(
        &mut self,
        mut wanted: impl FnMut(&v4::Packet) -> Option<T>,
    ) -> Result<T, Error> {
        loop {
            let packet = self.next_packet().await?;
            if let Some(found) = wanted(&packet) {
                return Ok(found);
            }
            self.handle(packet).await?;
        }
    }

    /// Answers a packet nobody waits for: keeps a message, completes the
    /// broker's QoS 2 delivery, ends at a DISCONNECT.
    async fn handle(&mut self, packet: v4::Packet) -> Result<(), Error> {
        match packet {
            v4::Packet::Publish(publish) => self.arrive(publish).await,
            v4::Packet::PubRel(release) => {
                let complete = v4::PubComp::new(release.pkid);
                self.write(|buffer| complete.write(buffer)).await
            }
            v4::Packet::Disconnect => Err(Error::Closed("by the broker".into())),
            _ => Ok(()),
        }
    }

    /// Keeps a message the broker sent, acknowledging it as its QoS asks
    /// (QoS 2 is handed on at PUBLISH, its PUBREL answered when it comes).
    async fn arrive(&mut self, publish: v4::Publish) -> Result<(), Error> {
        match publish.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                let ack = v4::PubAck::new(publish.pkid);
                self.write(|buffer| ack.write(buffer)).await?;
            }
            QoS::ExactlyOnce => {
                let received = v4::PubRec::new(publish.pkid);
                self.write(|buffer| received.write(buffer)).await?;
            }
        }
        self.arrived.push_back(Message {
            topic: publish.topic,
            payload: publish.payload.to_vec(),
            qos: guest_qos(publish.qos),
            retain: publish.retain,
        });
        self.hold_arrived()
    }

    async fn publish(&mut self, message: Message) -> Result<(), Error> {
        let qos = host_qos(message.qos);
        let mut publish = v4::Publish::new(message.topic, qos, Bytes::from(message.payload));
        publish.retain = message.retain;
        let id = if qos == QoS::AtMostOnce { 0 } else { self.packet_id() };
        publish.pkid = id;
        self.write(|buffer| publish.write(buffer)).await?;
        match qos {
            QoS::AtMostOnce => Ok(()),
            QoS::AtLeastOnce => {
                self.wait_for(|packet| {
                    matches!(packet, v4::Packet::PubAck(ack) if ack.pkid == id).then_some(())
                })
                .await
            }
            QoS::ExactlyOnce => {
                self.wait_for(|packet| {
                    matches!(packet, v4::Packet::PubRec(rec) if rec.pkid == id).then_some(())
                })
                .await?;
                let release = v4::PubRel::new(id);
                self.write(|buffer| release.write(buffer)).await?;
                self.wait_for(|packet| {
                    matches!(packet, v4::Packet::PubComp(comp) if comp.pkid == id).then_some(())
                })
                .await
            }
        }
    }

    async fn subscribe(&mut self, filter: String, qos: Qos) -> Result<Qos, Error> {
        let id = self.packet_id();
        let mut subscribe = v4::Subscribe::new(filter.clone(), host_qos(qos));
        subscribe.pkid = id;
        self.write(|buffer| subscribe.write(buffer)).await?;
        let codes = self
            .wait_for(|packet| match packet {
                v4::Packet::SubAck(ack) if ack.pkid == id => Some(ack.return_codes.clone()),
                _ => None,
            })
            .await?;
        match codes.first() {
            Some(v4::SubscribeReasonCode::Success(granted)) => Ok(guest_qos(*granted)),
            _ => Err(Error::Refused(format!("the subscription to `{filter}`"))),
        }
    }

    async fn receive(&mut self) -> Result<Message, Error> {
        while self.arrived.is_empty() {
            let packet = self.next_packet().await?;
            self.handle(packet).await?;
        }
        let message =
            self.arrived.pop_front().ok_or_else(|| Error::Protocol("no message".into()))?;
        self.hold_arrived()?;
        Ok(message)
    }

    async fn ping(&mut self) -> Result<(), Error> {
        self.write(|buffer| v4::PingReq.write(buffer)).await?;
        self.wait_for(|packet| matches!(packet, v4::Packet::PingResp).then_some(())).await
    }

    async fn disconnect(&mut self) -> Result<(), Error> {
        self.write(|buffer| v4::Disconnect.write(buffer)).await?;
        self.stream.shutdown().await.map_err(io_error)
    }
}

fn host_qos(qos: Qos) -> QoS {
    match qos {
        Qos::AtMostOnce => QoS::AtMostOnce,
        Qos::AtLeastOnce => QoS::AtLeastOnce,
        Qos::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn guest_qos(qos: QoS) -> Qos {
    match qos {
        QoS::AtMostOnce => Qos::AtMostOnce,
        QoS::AtLeastOnce => Qos::AtLeastOnce,
        QoS::ExactlyOnce => Qos::ExactlyOnce,
    }
}

impl mqtt::Host for MqttUser {}

impl mqtt::HostConnection for MqttUser {
    async fn connect(
        &mut self,
        url: String,
        options: ConnectOptions,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let started = Instant::now();
        let client_id = options
            .client_id
            .clone()
            .unwrap_or_else(|| format!("wasmload-{}-{:08x}", self.user_id, fastrand::u32(..)));
        let size = url.len() + client_id.len();
        let opened = match self.sockets.budget.check_call(size) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let open = Connection::open(
                    &self.config,
                    &url,
                    &options,
                    client_id,
                    &self.sockets.budget,
                    self.sockets.source,
                );
                within(self.timeout(options.timeout_us), open, Error::Timeout).await
            }
        };
        self.record("connect", started, 0, opened.as_ref().err());
        Ok(match opened {
            Ok(connection) => {
                Ok(push_budgeted(&mut self.sockets.table, connection, "MQTT connections")?)
            }
            Err(error) => Err(error),
        })
    }

    async fn publish(
        &mut self,
        connection: Resource<Connection>,
        name: Option<String>,
        message: Message,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let started = Instant::now();
        let name = name.unwrap_or_else(|| message.topic.clone());
        let length = message.payload.len();
        let outcome = match self.sockets.budget.check_call(message.topic.len() + length) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let timeout = self.timeout(timeout_us);
                let connection = self.sockets.table.get_mut(&connection)?;
                within(timeout, connection.publish(message), Error::Timeout).await
            }
        };
        self.record(&name, started, length, outcome.as_ref().err());
        Ok(outcome)
    }

    async fn subscribe(
        &mut self,
        connection: Resource<Connection>,
        filter: String,
        qos: Qos,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Qos, Error>> {
        let started = Instant::now();
        let name = format!("subscribe {filter}");
        let outcome = match self.sockets.budget.check_call(filter.len()) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let timeout = self.timeout(timeout_us);
                let connection = self.sockets.table.get_mut(&connection)?;
                within(timeout, connection.subscribe(filter, qos), Error::Timeout).await
            }
        };
        self.record(&name, started, 0, outcome.as_ref().err());
        Ok(outcome)
    }

    async fn receive(
        &mut self,
        connection: Resource<Connection>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Message, Error>> {
        let timeout = self.timeout(timeout_us);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.receive(), Error::Timeout).await)
    }

    async fn ping(
        &mut self,
        connection: Resource<Connection>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let started = Instant::now();
        let timeout = self.timeout(timeout_us);
        let connection = self.sockets.table.get_mut(&connection)?;
        let outcome = within(timeout, connection.ping(), Error::Timeout).await;
        self.record("ping", started, 0, outcome.as_ref().err());
        Ok(outcome)
    }

    async fn disconnect(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let timeout = self.timeout(None);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.disconnect(), Error::Timeout).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.sockets.table.delete(connection)?;
        Ok(())
    }
}

fn io_error(error: std::io::Error) -> Error {
    Error::Protocol(error.to_string())
}

/// A destination not reached, as the interface's error.
fn unreached(unreached: Unreached) -> Error {
    match unreached {
        Unreached::Refused(reason) => Error::InvalidAddress(reason),
        Unreached::Failed(reason) => Error::Connect(reason),
    }
}

/// A budget breach, as the interface's error.
fn over_budget(exceeded: Exceeded) -> Error {
    Error::TooLarge(exceeded.to_string())
}

/// The error's text in the stats: stable per kind of failure.
fn describe(error: &Error) -> String {
    match error {
        Error::InvalidAddress(reason) => format!("invalid address: {reason}"),
        Error::Connect(reason) => format!("connect: {reason}"),
        Error::Refused(reason) => format!("refused: {reason}"),
        Error::Timeout => "timeout".into(),
        Error::Closed(reason) => format!("closed {reason}"),
        Error::TooLarge(reason) => format!("too large: {reason}"),
        Error::Protocol(reason) => format!("protocol: {reason}"),
    }
}
