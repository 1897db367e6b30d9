//! One user's kept-alive connections, by origin.
//!
//! A request on an idle connection is sent from the caller's task, which
//! for a guest is its fiber: a shallow path. A request that needs a new
//! connection connects (DNS, TCP, TLS, HTTP handshake) on a task of its
//! own. That path is deep, and on the fiber its pages would stay resident
//! for the user's whole life (about 30 KiB of stack per user).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use tokio_util::task::AbortOnDropHandle;
use tower_service::Service;

use super::session::SendError;
use crate::protocols::connect::PolicyResolver;
use crate::protocols::error_chain;
use crate::sandbox::{ConnectionPermit, UserBudget};
use crate::sync::lock;

type Connector = HttpsConnector<HttpConnector<PolicyResolver>>;
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

/// A connection's sending half.
enum Sender {
    Http1(http1::SendRequest<Body>),
    /// Multiplexed: clones share the connection.
    Http2(http2::SendRequest<Body>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(sender) => sender.is_closed(),
            Sender::Http2(sender) => sender.is_closed(),
        }
    }

    /// Sends `request`, or hands it back if the connection turned out to be
    /// closed before it was written.
    async fn send(
        &mut self,
        request: Request<Body>,
    ) -> Result<Response<Incoming>, (hyper::Error, Option<Request<Body>>)> {
        let sent = match self {
            Sender::Http1(sender) => sender.try_send_request(for_http1(request)).await,
            Sender::Http2(sender) => sender.try_send_request(request).await,
        };
        sent.map_err(|mut error| {
            let unsent = error.take_message();
            (error.into_error(), unsent)
        })
    }
}

/// A connection lent out for one exchange; give it back with
/// [`Pool::give_back`] once the response body is read.
pub struct Lent {
    origin: Origin,
    sender: Sender,
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

    /// Sends `request` (absolute URI) on an idle connection to its origin,
    /// or on a new one. A connection found closed before the request was
    /// written is dropped and the next one tried.
    pub async fn send(
        &self,
        mut request: Request<Body>,
    ) -> Result<(Response<Incoming>, Lent), SendError> {
        let uri = request.uri().clone();
        let origin = Origin::of(&uri)?;
        while let Some(mut sender) = self.take_idle(&origin) {
            match sender.send(request).await {
                Ok(response) => return Ok((response, Lent { origin, sender })),
                Err((_, Some(mut unsent))) => {
                    // HTTP/1 made it origin-form; the next connection may be HTTP/2.
                    *unsent.uri_mut() = uri.clone();
                    request = unsent;
                }
                Err((error, None)) => return Err(transport(&error)),
            }
        }
        let mut sender = self.connect_elsewhere(uri).await?;
        if let Sender::Http2(shared) = &sender {
            self.keep(&origin, Sender::Http2(shared.clone()));
        }
        match sender.send(request).await {
            Ok(response) => Ok((response, Lent { origin, sender })),
            Err((error, _)) => Err(transport(&error)),
        }
    }

    /// Keeps an HTTP/1 connection whose exchange is over for the next
    /// request, unless it was closed (`Connection: close`, an error). An
    /// HTTP/2 one never left the pool.
    pub fn give_back(&self, lent: Lent) {
        if let Sender::Http1(_) = lent.sender {
            self.keep(&lent.origin, lent.sender);
        }
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

    /// Connects to `uri`'s origin on a task of its own (see the module
    /// comment).
    async fn connect_elsewhere(&self, uri: Uri) -> Result<Sender, SendError> {
        let permit = self.budget.connect().map_err(SendError::OverBudget)?;
        let connector = self.connector.clone();
        // Boxed inside the task: the connect future is large, and even
        // moving it into the task would take that much of the fiber stack.
        // A request that times out drops the handle, which ends the connect.
        let connecting = AbortOnDropHandle::new(tokio::spawn(async move {
            Box::pin(connect(connector, uri, permit)).await
        }));
        connecting.await.unwrap_or_else(|e| Err(SendError::Connect(e.to_string())))
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
        let (sender, connection) =
            http1::handshake(stream).await.map_err(|e| SendError::Connect(error_chain(&e)))?;
        tokio::spawn(async move {
            let _permit = permit;
            let _ = connection.await;
        });
        Ok(Sender::Http1(sender))
    }
}

/// HTTP/1 wants the host in a header and only the path in the request
/// line; HTTP/2 takes both from the absolute URI.
fn for_http1(mut request: Request<Body>) -> Request<Body> {
    let uri = request.uri().clone();
    if let (Some(authority), false) =
        (uri.authority(), request.headers().contains_key(http::header::HOST))
    {
        // Requests come from `Url`s, which leave default ports out; only
        // user info, if any, must go.
        let host = authority.as_str().rsplit_once('@').map_or(authority.as_str(), |(_, host)| host);
        if let Ok(value) = HeaderValue::from_str(host) {
            request.headers_mut().insert(http::header::HOST, value);
        }
    }
    if let Some(path) = uri.path_and_query() {
        *request.uri_mut() = Uri::from(path.clone());
    }
    request
}

fn transport(error: &hyper::Error) -> SendError {
    SendError::Transport(error_chain(error))
}
