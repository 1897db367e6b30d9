//! A local HTTP target (hyper) that serves a small shop API and counts
//! every request it answers, by method and path.
//!
//! Routes:
//! - `POST /login`: sets a new `session` cookie, returns `{"token": ..}`
//! - `GET /`, `GET /a`, `GET /b`, ...: any other path answers 200 `ok`
//! - `GET /items?page=N`: a JSON list
//! - `GET /items/{id}`: `{"id": id, "in_stock": bool}`; 404 above id 1000
//! - `GET /me`, `GET /cart`: 200 with the session cookie, else 401
//! - `GET /status/{code}`: answers with that status
//! - `GET /redirect/{n}`: 302 to `/redirect/{n-1}`, and `/redirect/0` to `/`
//! - `GET /slow/{ms}`: answers after that many milliseconds
//! - `/bytes/{n}` (any method): a body of `n` bytes
//! - `POST /logout`: 200
//! - `POST /xmlrpc/garbage`: a broken XML-RPC answer
//! - `GET /headers`: the request's `content-type` and `accept` as JSON
//!
//! [`TargetServer::stall`] holds every answer for a while.
//!
//! [`TargetServer::start_tls`] serves the same over TLS with a fresh
//! self-signed certificate for `localhost`, offering HTTP/2 and HTTP/1.1.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use crate::background::Background;

/// What the server has seen.
#[derive(Default)]
struct Seen {
    /// (method, path) -> requests answered.
    counts: HashMap<(String, String), u64>,
    /// Sessions handed out by `/login`.
    logins: u64,
    /// Session cookies presented to `/me`.
    sessions_on_me: HashSet<String>,
    /// Requests that arrived over HTTP/2.
    http2_requests: u64,
    /// Connections accepted.
    connections: u64,
    /// While set and in the future, every answer waits until then.
    stalled_until: Option<tokio::time::Instant>,
    /// How long every answer takes at least.
    delay: Duration,
}

/// A running target; stops when dropped.
pub struct TargetServer {
    server: Background,
    seen: Arc<Mutex<Seen>>,
    /// The self-signed certificate (PEM) when serving TLS.
    certificate: Option<String>,
}

impl TargetServer {
    /// Starts the server on a free port of 127.0.0.1, on its own thread.
    pub fn start() -> TargetServer {
        Self::start_on("127.0.0.1:0").expect("starting the target server")
    }

    /// Starts the server on `addr`.
    pub fn start_on(addr: &str) -> anyhow::Result<TargetServer> {
        Self::serve(addr, None)
    }

    /// Starts a TLS server on a free port of 127.0.0.1 whose certificate,
    /// for `localhost`, is [`TargetServer::certificate_pem`].
    pub fn start_tls() -> TargetServer {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])
            .expect("generating a certificate");
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                builder
                    .with_no_client_auth()
                    .with_single_cert(vec![certified.cert.der().clone()], key)
            })
            .expect("a TLS server configuration");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let tls = Some((TlsAcceptor::from(Arc::new(config)), certified.cert.pem()));
        Self::serve("127.0.0.1:0", tls).expect("starting the TLS target server")
    }

    fn serve(addr: &str, tls: Option<(TlsAcceptor, String)>) -> anyhow::Result<TargetServer> {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let served = Arc::clone(&seen);
        let (acceptor, certificate) = tls.unzip();
        let server =
            Background::start(addr, move |listener| accept_loop(listener, acceptor, served))?;
        Ok(TargetServer { server, seen, certificate })
    }

    /// The certificate of a TLS server, PEM-encoded.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    /// Holds every answer, those in flight and those arriving, until
    /// `length` from now: a server that stops for a while.
    pub fn stall(&self, length: Duration) {
        let until = tokio::time::Instant::now() + length;
        self.seen.lock().expect("server state").stalled_until = Some(until);
    }

    /// Makes every answer from now on take at least `delay`: a slower server.
    pub fn slow_down(&self, delay: Duration) {
        self.seen.lock().expect("server state").delay = delay;
    }

    /// Requests that arrived over HTTP/2.
    pub fn http2_requests(&self) -> u64 {
        self.seen.lock().expect("server state").http2_requests
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.seen.lock().expect("server state").connections
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn url(&self) -> String {
        match self.certificate {
            Some(_) => format!("https://localhost:{}", self.server.addr().port()),
            None => format!("http://{}", self.server.addr()),
        }
    }

    /// Requests answered for (method, path).
    pub fn count(&self, method: &str, path: &str) -> u64 {
        let seen = self.seen.lock().expect("server state");
        let key = (method.to_owned(), path.to_owned());
        seen.counts.get(&key).copied().unwrap_or(0)
    }

    /// Every (method, path) with its count.
    pub fn counts(&self) -> HashMap<(String, String), u64> {
        self.seen.lock().expect("server state").counts.clone()
    }

    /// Sessions created by `/login`.
    pub fn logins(&self) -> u64 {
        self.seen.lock().expect("server state").logins
    }

    /// Distinct session cookies presented to `/me`.
    pub fn sessions_on_me(&self) -> usize {
        self.seen.lock().expect("server state").sessions_on_me.len()
    }
}

async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, seen: Arc<Mutex<Seen>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        seen.lock().expect("server state").connections += 1;
        let seen = Arc::clone(&seen);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        serve_connection(stream, seen).await;
                    }
                }
                None => serve_connection(stream, seen).await,
            }
        });
    }
}

/// Serves HTTP/1.1 or HTTP/2 (by ALPN, or prior knowledge) on one connection.
async fn serve_connection<S>(stream: S, seen: Arc<Mutex<Seen>>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let seen = Arc::clone(&seen);
        async move { Ok::<_, Infallible>(answer(request, &seen).await) }
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn answer(request: Request<Incoming>, seen: &Mutex<Seen>) -> Response<Full<Bytes>> {
    let method = request.method().as_str().to_owned();
    let http2 = request.version() == Version::HTTP_2;
    let path = request.uri().path().to_owned();
    let session = session_cookie(&request);
    let header = |name: &str| {
        request.headers().get(name).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned()
    };
    let content_headers = format!(
        r#"{{"content-type":"{}","accept":"{}"}}"#,
        header("content-type"),
        header("accept")
    );
    // Read the whole body so the connection stays reusable.
    let _ = request.into_body().collect().await;
    let (stalled_until, delay) = {
        let seen = seen.lock().expect("server state");
        (seen.stalled_until, seen.delay)
    };
    if let Some(until) = stalled_until {
        tokio::time::sleep_until(until).await;
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();

    let response = match (method.as_str(), segments.as_slice()) {
        ("POST", ["login"]) => {
            let number = {
                let mut seen = seen.lock().expect("server state");
                seen.logins += 1;
                seen.logins
            };
            let mut response = text(StatusCode::OK, format!(r#"{{"token":"t-{number}"}}"#));
            let cookie = format!("session=s{number}; Path=/");
            response
                .headers_mut()
                .insert("set-cookie", cookie.parse().expect("a valid cookie header"));
            response
        }
        ("GET", ["me"]) | ("GET", ["cart"]) => match &session {
            Some(session) => {
                if path == "/me" {
                    let mut seen = seen.lock().expect("server state");
                    seen.sessions_on_me.insert(session.clone());
                }
                text(StatusCode::OK, format!(r#"{{"session":"{session}","items":[]}}"#))
            }
            None => text(StatusCode::UNAUTHORIZED, "log in first".into()),
        },
        ("POST", ["xmlrpc", "garbage"]) => {
            text(StatusCode::OK, "<methodResponse><params><param><value><int>lots".into())
        }
        ("GET", ["headers"]) => text(StatusCode::OK, content_headers),
        ("GET", ["items"]) => text(StatusCode::OK, r#"[{"id":1},{"id":2},{"id":3}]"#.into()),
        ("GET", ["items", id]) => match id.parse::<u64>() {
            Ok(id) if id <= 1000 => {
                text(StatusCode::OK, format!(r#"{{"id":{id},"in_stock":{}}}"#, id % 10 != 0))
            }
            _ => text(StatusCode::NOT_FOUND, "no such item".into()),
        },
        ("GET", ["status", code]) => {
            let status = code
                .parse::<u16>()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            text(status, format!("status {}", status.as_u16()))
        }
        ("GET", ["redirect", n]) => {
            let next = match n.parse::<u32>() {
                Ok(0) | Err(_) => "/".to_owned(),
                Ok(n) => format!("/redirect/{}", n - 1),
            };
            let mut response = text(StatusCode::FOUND, String::new());
            response.headers_mut().insert("location", next.parse().expect("a valid location"));
            response
        }
        (_, ["bytes", length]) => {
            let length = length.parse::<usize>().unwrap_or(0).min(16 << 20);
            text(StatusCode::OK, "x".repeat(length))
        }
        ("GET", ["slow", ms]) => {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
            text(StatusCode::OK, "slow".into())
        }
        _ => text(StatusCode::OK, "ok".into()),
    };
    let mut seen = seen.lock().expect("server state");
    *seen.counts.entry((method, path)).or_default() += 1;
    seen.http2_requests += u64::from(http2);
    response
}

fn session_cookie(request: &Request<Incoming>) -> Option<String> {
    let header = request.headers().get("cookie")?.to_str().ok()?;
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "session")
        .map(|(_, value)| value.to_owned())
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
