//! `http`: HTTP/1.1 and HTTP/2 requests through a per-user session.
//!
//! Shape shared by every protocol module: run-wide config ([`HttpConfig`]),
//! per-user state ([`HttpUser`]), `add_to_linker`, and the host traits, which
//! record one event per call.

mod http1;
mod pool;
mod response;
mod session;

pub use response::{status_failure, Response};
pub use session::{guest_headers, resolve, Fetched, SendError, Session};

use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::bindings::http::{self, Error as GuestError, Request};
use crate::protocols::{xmlrpc, Protocol, RunSetup, UserSetup};
use crate::sandbox::{budgeted_table, push_budgeted, NetworkPolicy, UserBudget};
use crate::stats::{Recorder, RequestEvent};

/// Run-wide HTTP settings shared by every user.
pub struct HttpConfig {
    /// `--host`: what relative URLs resolve against.
    pub base_url: Option<Url>,
    /// Used when a request gives no timeout.
    pub default_timeout: Duration,
    tls: rustls::ClientConfig,
    network: Arc<NetworkPolicy>,
    max_body: usize,
}

/// One user's HTTP session: cookie jar, connection pool, open responses.
pub struct HttpUser {
    config: Arc<HttpConfig>,
    session: Session,
    responses: ResourceTable,
    recorder: Recorder,
    budget: Arc<UserBudget>,
}

/// HTTP, and XML-RPC, which rides on the same session.
impl Protocol for HttpUser {
    type Config = HttpConfig;

    /// Relative URLs resolve against `--host`; TLS connections use the
    /// run's settings, reaching only what the sandbox allows and reading
    /// bodies up to its `max_body`.
    fn configure(run: &RunSetup<'_>) -> anyhow::Result<HttpConfig> {
        Ok(HttpConfig {
            base_url: run.guest.host.clone(),
            default_timeout: run.guest.timeout,
            tls: run.tls.clone(),
            network: Arc::clone(&run.sandbox.network),
            max_body: run.sandbox.max_body,
        })
    }

    /// A fresh session: no cookies, no connections.
    fn for_user(config: &Arc<HttpConfig>, user: &UserSetup<'_>) -> Self {
        HttpUser {
            session: Session::new(
                &config.tls,
                &config.network,
                config.max_body,
                user.budget,
                user.source,
            ),
            config: Arc::clone(config),
            responses: budgeted_table(user.budget.budgets().max_resources),
            recorder: user.recorder.clone(),
            budget: Arc::clone(user.budget),
        }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        http::add_to_linker::<T, HasSelf<HttpUser>>(linker, get)?;
        xmlrpc::add_to_linker(linker, get)
    }
}

impl HttpUser {
    /// Sends `request` through this session without recording an event,
    /// for protocols that ride on HTTP and record their own.
    pub async fn send_unrecorded(&mut self, request: Request) -> Result<Fetched, SendError> {
        let url = session::resolve(self.config.base_url.as_ref(), &request.url);
        self.exchange(request, url).await
    }

    /// This user's session (clones share cookies and connections).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Timeout of requests that give none.
    pub fn default_timeout(&self) -> Duration {
        self.config.default_timeout
    }

    /// Where this user's events go.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    async fn exchange(
        &mut self,
        request: Request,
        url: Result<Url, SendError>,
    ) -> Result<Fetched, SendError> {
        let timeout = request.timeout_us.map_or(self.config.default_timeout, Duration::from_micros);
        self.session.send(request, url?, timeout).await
    }

    /// The guest's answer to a request sent at `started`, and its event
    /// when it failed (a response records its own when settled). Not
    /// inlined: in `send` its locals would widen the frame that stays on the
    /// fiber stack while the request runs, taking the stack a page deeper.
    #[inline(never)]
    fn answer(
        &mut self,
        fetched: Result<Fetched, SendError>,
        started: Instant,
        method: String,
        name: String,
    ) -> wasmtime::Result<Result<Resource<Response>, GuestError>> {
        let fetched = fetched.and_then(|fetched| {
            let held = self.budget.hold(fetched.body.len()).map_err(SendError::OverBudget)?;
            Ok((fetched, held))
        });
        match fetched {
            Ok((fetched, held)) => {
                let response = Response::new(
                    fetched,
                    held,
                    started.elapsed(),
                    method,
                    name,
                    self.recorder.clone(),
                );
                Ok(Ok(push_budgeted(&mut self.responses, response, "responses")?))
            }
            Err(error) => {
                self.recorder.record(&RequestEvent {
                    kind: &method,
                    name: &name,
                    response_time: started.elapsed(),
                    response_length: 0,
                    error: Some(&error.to_string()),
                });
                Ok(Err(error.into()))
            }
        }
    }
}

/// The stats name of a request: the given name, else the URL's path
/// without its query (with scheme and host when the URL was absolute).
fn event_name(request: &Request, url: Option<&Url>) -> String {
    if let Some(name) = &request.name {
        return name.clone();
    }
    match url {
        Some(url) if request.url.starts_with('/') => url.path().to_owned(),
        Some(url) => format!("{}{}", &url[..url::Position::BeforePath], url.path()),
        None => request.url.clone(),
    }
}

impl http::Host for HttpUser {
    async fn send(
        &mut self,
        request: Request,
    ) -> wasmtime::Result<Result<Resource<Response>, GuestError>> {
        let started = Instant::now();
        let url = session::resolve(self.config.base_url.as_ref(), &request.url);
        let name = event_name(&request, url.as_ref().ok());
        let method = request.method.clone();
        let fetched = self.exchange(request, url).await;
        self.answer(fetched, started, method, name)
    }
}

impl http::HostResponse for HttpUser {
    fn status(&mut self, response: Resource<Response>) -> wasmtime::Result<u16> {
        Ok(self.responses.get(&response)?.status())
    }

    fn url(&mut self, response: Resource<Response>) -> wasmtime::Result<String> {
        Ok(self.responses.get(&response)?.url().to_string())
    }

    fn headers(&mut self, response: Resource<Response>) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.responses.get(&response)?.header_pairs())
    }

    fn header(
        &mut self,
        response: Resource<Response>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.responses.get(&response)?.header(&name))
    }

    fn body(&mut self, response: Resource<Response>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.responses.get(&response)?.body().to_vec())
    }

    fn text(&mut self, response: Resource<Response>) -> wasmtime::Result<String> {
        Ok(String::from_utf8_lossy(self.responses.get(&response)?.body()).into_owned())
    }

    fn elapsed_us(&mut self, response: Resource<Response>) -> wasmtime::Result<u64> {
        let elapsed = self.responses.get(&response)?.elapsed();
        Ok(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
    }

    fn success(&mut self, response: Resource<Response>) -> wasmtime::Result<()> {
        self.responses.get_mut(&response)?.settle(None);
        Ok(())
    }

    fn failure(&mut self, response: Resource<Response>, reason: String) -> wasmtime::Result<()> {
        self.responses.get_mut(&response)?.settle(Some(&reason));
        Ok(())
    }

    fn drop(&mut self, response: Resource<Response>) -> wasmtime::Result<()> {
        // Dropping the host value settles the event (see `Response`'s Drop).
        self.responses.delete(response)?;
        Ok(())
    }
}

impl From<SendError> for GuestError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::InvalidRequest(reason) => GuestError::InvalidRequest(reason),
            SendError::Denied(reason) => GuestError::Connect(reason),
            SendError::Timeout => GuestError::Timeout,
            SendError::Connect(reason) => GuestError::Connect(reason),
            SendError::Transport(reason) => GuestError::Transport(reason),
            SendError::TooManyRedirects => GuestError::TooManyRedirects,
            SendError::OverBudget(exceeded) => GuestError::InvalidRequest(exceeded.to_string()),
        }
    }
}
