//! `websocket`: WebSocket connections through tokio-tungstenite over the
//! user's own sockets (and our TLS), with timed request and ping helpers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::WebSocketStream;
use url::Url;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::websocket::{self, ConnectOptions, Error, Message};
use crate::protocols::connect::{self, Source, Stream, Unreached, UrlConfig};
use crate::protocols::{
    error_chain, timeout_or, within, Protocol, RunSetup, UserSetup, UserSockets,
};
use crate::sandbox::{push_budgeted, ConnectionPermit, Exceeded, HostBytes, UserBudget};

/// What the connection reads from its socket at a time (tungstenite's
/// default, 128 KiB, is a lot for thousands of users).
const READ_BUFFER: usize = 8 << 10;

/// One user's WebSocket state: its open connections.
pub struct WebSocketUser {
    config: Arc<UrlConfig>,
    sockets: UserSockets,
}

/// An open connection, and the messages that arrived while it waited for
/// a pong.
pub struct Connection {
    socket: WebSocketStream<Box<dyn Stream>>,
    subprotocol: Option<String>,
    waiting: VecDeque<Message>,
    /// The waiting messages' share of the user's `--max-host-memory`.
    held: HostBytes,
    _permit: ConnectionPermit,
}

impl Protocol for WebSocketUser {
    type Config = UrlConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<UrlConfig> {
        Ok(UrlConfig::new(run, &["ws", "wss"]))
    }

    /// A user with no connections yet.
    fn for_user(config: &Arc<UrlConfig>, user: &UserSetup<'_>) -> Self {
        WebSocketUser { config: Arc::clone(config), sockets: UserSockets::new(user) }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        websocket::add_to_linker::<T, HasSelf<WebSocketUser>>(linker, get)
    }
}

impl WebSocketUser {
    fn timeout(&self, timeout_us: Option<u64>) -> Duration {
        timeout_or(self.config.default_timeout, timeout_us)
    }

    fn record(&self, name: &str, started: Instant, length: usize, error: Option<&Error>) {
        self.sockets.record("ws", name, started, length as u64, error.map(describe));
    }
}

impl Connection {
    /// Connects to `url` from `source`, within the sandbox and `budget`,
    /// and does the handshake.
    async fn open(
        config: &UrlConfig,
        url: &str,
        options: &ConnectOptions,
        budget: &Arc<UserBudget>,
        source: Source,
    ) -> Result<Self, Error> {
        let url = connect::guest_url(url, config.default_url.as_ref(), &["ws", "wss"])
            .map_err(Error::InvalidAddress)?;
        let secure = url.scheme() == "wss";
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or(if secure { 443 } else { 80 });
        let request = handshake_request(&url, options)?;
        let permit = budget.connect().map_err(|e| Error::Connect(e.to_string()))?;
        let held = budget.hold(0).map_err(over_budget)?;
        let tls = secure.then_some(&config.tls);
        let stream = connect::open_stream(&config.network, host, port, tls, source)
            .await
            .map_err(unreached)?;
        let limit = budget.budgets().max_call_size;
        let settings = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(limit))
            .max_frame_size(Some(limit));
        let (socket, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(settings))
                .await
                .map_err(|e| Error::Connect(error_chain(&e)))?;
        let subprotocol = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Connection { socket, subprotocol, waiting: VecDeque::new(), held, _permit: permit })
    }

    async fn send(&mut self, message: Message) -> Result<(), Error> {
        let message = match message {
            Message::Text(text) => WsMessage::text(text),
            Message::Binary(data) => WsMessage::binary(data),
        };
        self.socket.send(message).await.map_err(socket_error)
    }

    /// The next text or binary message, first any that waited.
    async fn receive(&mut self) -> Result<Message, Error> {
        if let Some(message) = self.waiting.pop_front() {
            let _ = self.held.resize(self.waiting.iter().map(message_size).sum());
            return Ok(message);
        }
        loop {
            if let Frame::Data(message) = self.next_frame().await? {
                return Ok(message);
            }
        }
    }

    /// Sends a ping and reads until its pong, keeping the messages that
    /// arrive meanwhile for `receive`.
    async fn ping(&mut self) -> Result<(), Error> {
        self.socket.send(WsMessage::Ping(Default::default())).await.map_err(socket_error)?;
        loop {
            match self.next_frame().await? {
                Frame::Pong => return Ok(()),
                Frame::Data(message) => {
                    self.waiting.push_back(message);
                    let size = self.waiting.iter().map(message_size).sum();
                    self.held.resize(size).map_err(over_budget)?;
                }
                Frame::Other => {}
            }
        }
    }

    async fn next_frame(&mut self) -> Result<Frame, Error> {
        let Some(read) = self.socket.next().await else {
            return Err(Error::Closed("by the peer".into()));
        };
        Ok(match read.map_err(socket_error)? {
            WsMessage::Text(text) => Frame::Data(Message::Text(text.as_str().to_owned())),
            WsMessage::Binary(data) => Frame::Data(Message::Binary(data.to_vec())),
            WsMessage::Pong(_) => Frame::Pong,
            WsMessage::Close(frame) => return Err(Error::Closed(closed_by(frame.as_ref()))),
            // tungstenite answers pings itself.
            WsMessage::Ping(_) | WsMessage::Frame(_) => Frame::Other,
        })
    }

    async fn close(&mut self, code: u16, reason: String) -> Result<(), Error> {
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
        self.socket.close(Some(frame)).await.map_err(socket_error)
    }
}

/// What one read from the socket gave.
enum Frame {
    Data(Message),
    Pong,
    Other,
}

/// The handshake request for `url`, with the guest's headers and
/// subprotocols.
fn handshake_request(url: &Url, options: &ConnectOptions) -> Result<http::Request<()>, Error> {
    let mut request =
        url.as_str().into_client_request().map_err(|e| Error::InvalidAddress(error_chain(&e)))?;
    let headers = request.headers_mut();
    for (name, value) in &options.headers {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|e| Error::Connect(format!("header `{name}`: {e}")))?;
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|e| Error::Connect(format!("header `{name}`: {e}")))?;
        headers.append(name, value);
    }
    if !options.subprotocols.is_empty() {
        let offered = HeaderValue::try_from(options.subprotocols.join(", "))
            .map_err(|e| Error::Connect(format!("subprotocols: {e}")))?;
        headers.insert("sec-websocket-protocol", offered);
    }
    Ok(request)
}

impl websocket::Host for WebSocketUser {}

impl websocket::HostConnection for WebSocketUser {
    async fn connect(
        &mut self,
        url: String,
        options: ConnectOptions,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let started = Instant::now();
        let size = url.len()
            + options.headers.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>()
            + options.subprotocols.iter().map(String::len).sum::<usize>();
        let opened = match self.sockets.budget.check_call(size) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let open = Connection::open(
                    &self.config,
                    &url,
                    &options,
                    &self.sockets.budget,
                    self.sockets.source,
                );
                within(self.timeout(options.timeout_us), open, Error::Timeout).await
            }
        };
        self.record("connect", started, 0, opened.as_ref().err());
        Ok(match opened {
            Ok(connection) => {
                Ok(push_budgeted(&mut self.sockets.table, connection, "WebSocket connections")?)
            }
            Err(error) => Err(error),
        })
    }

    async fn subprotocol(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.sockets.table.get(&connection)?.subprotocol.clone())
    }

    async fn send(
        &mut self,
        connection: Resource<Connection>,
        message: Message,
    ) -> wasmtime::Result<Result<(), Error>> {
        if let Err(exceeded) = self.sockets.budget.check_call(message_size(&message)) {
            return Ok(Err(over_budget(exceeded)));
        }
        let timeout = self.timeout(None);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.send(message), Error::Timeout).await)
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

    async fn request(
        &mut self,
        connection: Resource<Connection>,
        name: String,
        message: Message,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Message, Error>> {
        let started = Instant::now();
        let outcome = match self.sockets.budget.check_call(message_size(&message)) {
            Err(exceeded) => Err(over_budget(exceeded)),
            Ok(()) => {
                let timeout = self.timeout(timeout_us);
                let connection = self.sockets.table.get_mut(&connection)?;
                let exchange = async {
                    connection.send(message).await?;
                    connection.receive().await
                };
                within(timeout, exchange, Error::Timeout).await
            }
        };
        let length = outcome.as_ref().map_or(0, message_size);
        self.record(&name, started, length, outcome.as_ref().err());
        Ok(outcome)
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

    async fn close(
        &mut self,
        connection: Resource<Connection>,
        code: u16,
        reason: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        let timeout = self.timeout(None);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.close(code, reason), Error::Timeout).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.sockets.table.delete(connection)?;
        Ok(())
    }
}

/// A message's bytes.
fn message_size(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(data) => data.len(),
    }
}

/// Who closed, with what code and reason.
fn closed_by(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(frame) if frame.reason.is_empty() => format!("by the peer: {}", u16::from(frame.code)),
        Some(frame) => format!("by the peer: {} {}", u16::from(frame.code), frame.reason),
        None => "by the peer".into(),
    }
}

/// A failed read or write as the interface's error.
fn socket_error(error: tungstenite::Error) -> Error {
    match error {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            Error::Closed("already closed".into())
        }
        tungstenite::Error::Capacity(capacity) => Error::TooLarge(capacity.to_string()),
        other => Error::Protocol(error_chain(&other)),
    }
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
        Error::Timeout => "timeout".into(),
        Error::Closed(reason) => format!("closed {reason}"),
        Error::TooLarge(reason) => format!("too large: {reason}"),
        Error::Protocol(reason) => format!("protocol: {reason}"),
    }
}
