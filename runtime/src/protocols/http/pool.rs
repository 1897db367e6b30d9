//! One user's kept-alive connections, by origin.
//!
//! Requests come here from a task of their own, never a guest's fiber (see
//! `Session::send`; wasi:http's are spawned by wasmtime-wasi-http): the
//! deep paths, connecting above all (DNS, TCP, TLS, HTTP handshake), run on
//! the worker thread's stack, not on a user's.
//!
//! Plain-text HTTP/1.1 goes through our own exchange ([`http1`]); TLS and
//! HTTP/2 through hyper's client connections.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::HOST;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use http_body_util::Full;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::client::conn::{http1 as hyper_http1, http2};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioExecutor;
use tower_service::Service;

use super::http1::{self, ExchangeError};
use super::session::SendError;
use crate::protocols::connect::TcpConnector;
use crate::protocols::error_chain;
use crate::sandbox::{ConnectionPermit, UserBudget};
use crate::sync::lock;

type Connector = HttpsConnector<TcpConnector>;
type Body = Full<Bytes>;

/// Where a connection goes: scheme, host and port.
#[derive(Clone, PartialEq, Eq)]
struct Origin(Scheme, Authority);

impl Origin {
    fn of(uri: &Uri) -> Result<Origin, SendError> {
        match (uri.scheme(), uri.authority()) {
            (Some(scheme), Some(authority)) => Ok(Origin(scheme.clone(), authority.clone())),
            _ => Err(SendError::InvalidRequest(format!("`{uri}` has no scheme or host"))),
        }
    }
}

/// A request to send: what each kind of connection needs of it.
pub struct Outgoing {
    pub method: Method,
    /// Absolute.
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Outgoing {
    fn to_hyper(&self) -> Request<Body> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// A connection's sending half.
enum Sender {
    /// Plain-text HTTP/1.1: our own exchange.
    Plain(http1::Connection),
    /// HTTP/1.1 over TLS.
    Http1(hyper_http1::SendRequest<Body>),
    /// Multiplexed: clones share the connection.
    Http2(http2::SendRequest<Body>),
}

/// How an exchange on a connection failed.
enum Failed {
    /// Nothing was sent (or nothing answered a request that may be sent
    /// again): try another connection.
    Retry,
    Error(SendError),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Plain(connection) => connection.is_closed(),
            Sender::Http1(sender) => sender.is_closed(),
            Sender::Http2(sender) => sender.is_closed(),
        }
    }

    /// Sends `request` and reads the whole answer, its body at most
    /// `max_body` bytes.
    async fn exchange(
        &mut self,
        request: &Outgoing,
        max_body: usize,
    ) -> Result<Response<Bytes>, Failed> {
        match self {
            Sender::Plain(connection) => {
                let target = target(&request.uri);
                let head = http1::Head {
                    method: &request.method,
                    target: target.as_str(),
                    host: host(&request.uri),
                    headers: &request.headers,
                };
                let exchanged = connection.exchange(&head, &request.body, max_body).await;
                exchanged.map_err(|error| match error {
                    ExchangeError::Stale if request.method.is_idempotent() => Failed::Retry,
                    ExchangeError::Stale => Failed::Error(SendError::Transport(
                        "the server closed the connection without answering".into(),
                    )),
                    ExchangeError::Io(error) => {
                        Failed::Error(SendError::Transport(error_chain(&error)))
                    }
                    ExchangeError::TooLarge(_) | ExchangeError::Protocol(_) => {
                        Failed::Error(SendError::Transport(error.to_string()))
                    }
                })
            }
            // TLS and HTTP/2 on hyper, whose futures are large: boxed, they
            // do not size every plain exchange's future.
            Sender::Http1(sender) => {
                let mut hyper_request = request.to_hyper();
                if let (Some(host), false) =
                    (host(&request.uri), request.headers.contains_key(HOST))
                {
                    if let Ok(value) = HeaderValue::from_str(host) {
                        hyper_request.headers_mut().insert(HOST, value);
                    }
                }
                *hyper_request.uri_mut() = Uri::from(target(&request.uri));
                Box::pin(async {
                    read_answer(sender.try_send_request(hyper_request).await, max_body).await
                })
                .await
            }
            Sender::Http2(sender) => {
                let hyper_request = request.to_hyper();
                Box::pin(async {
                    read_answer(sender.try_send_request(hyper_request).await, max_body).await
                })
                .await
            }
        }
    }
}

/// The whole answer hyper sent, or why there is none: a request hyper
/// never sent may be tried again.
async fn read_answer(
    sent: Result<Response<Incoming>, hyper::client::conn::TrySendError<Request<Body>>>,
    max_body: usize,
) -> Result<Response<Bytes>, Failed> {
    let response = sent.map_err(|mut error| match error.take_message() {
        Some(_) => Failed::Retry,
        None => Failed::Error(transport(&error.into_error())),
    })?;
    let (parts, incoming) = response.into_parts();
    let body = read_body(incoming, max_body).await.map_err(Failed::Error)?;
    Ok(Response::from_parts(parts, body))
}

/// The whole body, refusing one over `max_body` (`--max-body`).
async fn read_body(body: Incoming, max_body: usize) -> Result<Bytes, SendError> {
    match Limited::new(body, max_body).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(SendError::Transport(format!(
            "response body larger than {max_body} bytes (--max-body)"
        ))),
        Err(error) => Err(SendError::Transport(error_chain(&*error))),
    }
}

/// Idle connections by origin, and the connector that makes new ones.
pub struct Pool {
    connector: Connector,
    /// Few origins per user: a list beats hashing.
    idle: Mutex<Vec<(Origin, Vec<Sender>)>>,
    /// Each connection holds a permit of the user's until it closes.
    budget: Arc<UserBudget>,
}

impl Pool {
    /// An empty pool making connections with `connector`, as many as
    /// `budget` allows.
    pub fn new(connector: Connector, budget: Arc<UserBudget>) -> Self {
        Pool { connector, idle: Mutex::default(), budget }
    }

    /// Sends `request` on an idle connection to its origin, or on a new
    /// one, and reads the whole answer (a body of at most `max_body`
    /// bytes). A kept connection found closed before it answered is
    /// dropped and the next one tried. Read to the end, an HTTP/1
    /// connection goes back to the pool.
    pub async fn send(
        &self,
        request: &Outgoing,
        max_body: usize,
    ) -> Result<Response<Bytes>, SendError> {
        let origin = Origin::of(&request.uri)?;
        while let Some(sender) = self.take_idle(&origin) {
            match self.exchange_on(sender, &origin, request, max_body).await {
                Err(Failed::Retry) => continue,
                Err(Failed::Error(error)) => return Err(error),
                Ok(response) => return Ok(response),
            }
        }
        let sender = self.open(request.uri.clone()).await?;
        if let Sender::Http2(shared) = &sender {
            self.keep(&origin, Sender::Http2(shared.clone()));
        }
        match self.exchange_on(sender, &origin, request, max_body).await {
            Ok(response) => Ok(response),
            Err(Failed::Retry) => {
                Err(SendError::Transport("the new connection closed before it answered".into()))
            }
            Err(Failed::Error(error)) => Err(error),
        }
    }

    /// One exchange on `sender`, which goes back to the pool after it, if
    /// it is HTTP/1 and still open (an HTTP/2 one never left).
    async fn exchange_on(
        &self,
        mut sender: Sender,
        origin: &Origin,
        request: &Outgoing,
        max_body: usize,
    ) -> Result<Response<Bytes>, Failed> {
        let response = sender.exchange(request, max_body).await?;
        if !matches!(sender, Sender::Http2(_)) {
            self.keep(origin, sender);
        }
        Ok(response)
    }

    fn keep(&self, origin: &Origin, sender: Sender) {
        let mut idle = lock(&self.idle);
        match idle.iter_mut().find(|(idle_origin, _)| idle_origin == origin) {
            Some((_, senders)) => {
                senders.retain(|sender| !sender.is_closed());
                if !sender.is_closed() {
                    senders.push(sender);
                }
            }
            None if !sender.is_closed() => idle.push((origin.clone(), vec![sender])),
            None => {}
        }
    }

    fn take_idle(&self, origin: &Origin) -> Option<Sender> {
        let mut idle = lock(&self.idle);
        let (_, senders) = idle.iter_mut().find(|(idle_origin, _)| idle_origin == origin)?;
        while let Some(sender) = senders.pop() {
            if sender.is_closed() {
                continue;
            }
            if let Sender::Http2(shared) = &sender {
                // Others may use the same connection meanwhile.
                senders.push(Sender::Http2(shared.clone()));
            }
            return Some(sender);
        }
        None
    }

    /// A new connection to `uri`'s origin, within the user's budget.
    async fn open(&self, uri: Uri) -> Result<Sender, SendError> {
        let permit = self.budget.connect().map_err(SendError::OverBudget)?;
        // Boxed: the connect future is large, and most requests find an
        // idle connection.
        Box::pin(connect(self.connector.clone(), uri, permit)).await
    }
}

/// Makes a connection to `uri`'s origin: HTTP/2 if TLS negotiated it. The
/// task that drives it holds `permit` until the connection closes.
async fn connect(
    mut connector: Connector,
    uri: Uri,
    permit: ConnectionPermit,
) -> Result<Sender, SendError> {
    let stream = connector.call(uri).await.map_err(|e| SendError::Connect(error_chain(&*e)))?;
    let connected: Connected = stream.connected();
    if let MaybeHttpsStream::Http(plain) = stream {
        return Ok(Sender::Plain(http1::Connection::new(plain.into_inner(), permit)));
    }
    if connected.is_negotiated_h2() {
        let (sender, connection) = http2::handshake(TokioExecutor::new(), stream)
            .await
            .map_err(|e| SendError::Connect(error_chain(&e)))?;
        tokio::spawn(async move {
            let _permit = permit;
            let _ = connection.await;
        });
        Ok(Sender::Http2(sender))
    } else {
        let (sender, connection) = hyper_http1::handshake(stream)
            .await
            .map_err(|e| SendError::Connect(error_chain(&e)))?;
        tokio::spawn(async move {
            let _permit = permit;
            let _ = connection.await;
        });
        Ok(Sender::Http1(sender))
    }
}

// HTTP/1 wants the host in a header and only the path in the request line;
// HTTP/2 takes both from the absolute URI.

/// The request target in origin form: path and query.
fn target(uri: &Uri) -> PathAndQuery {
    uri.path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"))
}

/// The `Host` header's value: the authority without user info. Requests
/// come from `Url`s, which leave default ports out.
fn host(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    Some(authority.rsplit_once('@').map_or(authority, |(_, host)| host))
}

fn transport(error: &hyper::Error) -> SendError {
    SendError::Transport(error_chain(error))
}
