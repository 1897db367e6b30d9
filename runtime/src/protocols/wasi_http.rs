//! `wasi:http/outgoing-handler` for guests that use an ordinary HTTP
//! library: every request goes through the user's HTTP session (cookies,
//! pooled connections) and is recorded like an `http` call. This is the
//! interceptor on that session, not a second HTTP stack.
//!
//! The event's name is the URL's path, unless the request carries a
//! `x-wasmload-name` header: then that (the header is not sent on).

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderName;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use url::Url;
use wasmtime::component::ResourceTable;
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
};

use crate::protocols::http::{status_failure, Fetched, HttpUser, SendError, Session};
use crate::sandbox::HostBytes;
use crate::stats::{Recorder, RequestEvent};

/// One user's wasi:http state.
pub struct WasiHttpUser {
    ctx: WasiHttpCtx,
    hooks: SessionHooks,
}

/// Sends wasi:http requests through a user's session and records them.
struct SessionHooks {
    session: Session,
    recorder: Recorder,
    timeout: Duration,
}

impl WasiHttpUser {
    /// wasi:http riding on `http`'s session.
    pub fn new(http: &HttpUser) -> Self {
        let hooks = SessionHooks {
            session: http.session().clone(),
            recorder: http.recorder().clone(),
            timeout: http.default_timeout(),
        };
        WasiHttpUser { ctx: WasiHttpCtx::new(), hooks }
    }

    /// The view wasmtime-wasi-http works on; its resources live in the WASI
    /// `table`, beside the streams they use.
    pub fn view<'a>(&'a mut self, table: &'a mut ResourceTable) -> WasiHttpCtxView<'a> {
        WasiHttpCtxView { ctx: &mut self.ctx, table, hooks: &mut self.hooks }
    }
}

type BodyDone = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// A request header that names the event instead of the path.
const NAME_HEADER: HeaderName = HeaderName::from_static("x-wasmload-name");

impl WasiHttpHooks for SessionHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _body_done: BodyDone,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, BodyDone), Error>> + Send> {
        let (session, recorder, timeout) =
            (self.session.clone(), self.recorder.clone(), self.timeout);
        Box::new(async move {
            let started = Instant::now();
            let mut request = request;
            let method = request.method().as_str().to_owned();
            let name = match request.headers_mut().remove(NAME_HEADER) {
                Some(name) => String::from_utf8_lossy(name.as_bytes()).into_owned(),
                None => request.uri().path().to_owned(),
            };
            let outcome = forward(&session, request, timeout).await;
            let error = match &outcome {
                Ok(fetched) => status_failure(fetched.status),
                Err(error) => Some(error.to_string()),
            };
            recorder.record(&RequestEvent {
                kind: &method,
                name: &name,
                response_time: started.elapsed(),
                response_length: outcome.as_ref().map_or(0, |fetched| fetched.body.len() as u64),
                error: error.as_deref(),
            });
            let fetched = outcome.map_err(into_wasi_error)?;
            // The body stays on the host until the guest drops the response.
            let held = session
                .budget()
                .hold(fetched.body.len())
                .map_err(|_| Error::HttpResponseBodySize(Some(fetched.body.len() as u64)))?;
            let body = HeldBody { body: Full::new(fetched.body), _held: held }
                .map_err(|never| match never {})
                .boxed_unsync();
            let mut response = http::Response::new(body);
            *response.status_mut() = fetched.status;
            *response.headers_mut() = fetched.headers;
            Ok((response, Box::new(async { Ok(()) }) as BodyDone))
        })
    }
}

async fn forward(
    session: &Session,
    request: http::Request<WasiBody>,
    timeout: Duration,
) -> Result<Fetched, SendError> {
    let (parts, body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| SendError::InvalidRequest(format!("bad URL `{}`: {e}", parts.uri)))?;
    // The guest streams the body in; stop at the call size, before it is all copied.
    let limit = session.budget().budgets().max_call_size;
    let body: Bytes = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| match e.downcast::<LengthLimitError>() {
            Ok(_) => {
                SendError::InvalidRequest(format!("request body over --max-call-size {limit}"))
            }
            Err(e) => SendError::InvalidRequest(format!("request body: {e:?}")),
        })?
        .to_bytes();
    session.fetch_once(&parts.method, url, &parts.headers, body, timeout).await
}

fn into_wasi_error(error: SendError) -> Error {
    match error {
        SendError::InvalidRequest(_) => Error::HttpRequestUriInvalid,
        SendError::Denied(_) => Error::HttpRequestDenied,
        SendError::Timeout => Error::ConnectionReadTimeout,
        SendError::Connect(_) => Error::ConnectionRefused,
        SendError::Transport(_) => Error::HttpProtocolError,
        SendError::TooManyRedirects => Error::LoopDetected,
        SendError::OverBudget(_) => Error::HttpRequestDenied,
    }
}

/// A response body that keeps its share of the user's `--max-host-memory`
/// until the guest drops it.
struct HeldBody {
    body: Full<Bytes>,
    _held: HostBytes,
}

impl hyper::body::Body for HeldBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(context)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
