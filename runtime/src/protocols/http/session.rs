//! One user's HTTP session: cookie jar, keep-alive pool, redirects.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use cookie_store::CookieStore;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio_util::task::AbortOnDropHandle;
use url::Url;

use super::pool::{Outgoing, Pool};
use crate::bindings::http::Request;
use crate::protocols::connect;
use crate::sandbox::{Exceeded, NetworkPolicy, UserBudget};
use crate::sync::lock;

/// Redirects followed before giving up, like browsers and `requests`.
const MAX_REDIRECTS: usize = 10;

/// Why a request produced no response. The texts group failures in the
/// stats, so they hold no per-request detail.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The sandbox does not allow the destination.
    #[error("{0}")]
    Denied(String),
    #[error("timeout")]
    Timeout,
    #[error("connect: {0}")]
    Connect(String),
    #[error("transport: {0}")]
    Transport(String),
    #[error("too many redirects")]
    TooManyRedirects,
    /// The request would take more of the host than the user's budgets allow.
    #[error("{0}")]
    OverBudget(Exceeded),
}

/// A complete response, body included.
pub struct Fetched {
    pub status: StatusCode,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Cookie jar and pooled connections of one user. Clones share both, so
/// wasi:http requests made on other tasks stay in the user's session.
#[derive(Clone)]
pub struct Session {
    connections: Arc<Pool>,
    cookies: Arc<Mutex<CookieStore>>,
    network: Arc<NetworkPolicy>,
    max_body: usize,
    budget: Arc<UserBudget>,
}

/// Resolves `target` against `base` (`--host`) unless it is absolute. A
/// path starting with `/` is appended to the base, as Locust does, so
/// `--host http://h/api` with `/users` gives `http://h/api/users` (a query
/// or fragment of the base gives way to the path's own).
pub fn resolve(base: Option<&Url>, target: &str) -> Result<Url, SendError> {
    let bad_url =
        |e: url::ParseError| SendError::InvalidRequest(format!("bad URL `{target}`: {e}"));
    let url = match Url::parse(target) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => match base {
            Some(base) if target.starts_with('/') => append_path(base, target),
            Some(base) => base.join(target).map_err(bad_url)?,
            None => {
                return Err(SendError::InvalidRequest(format!(
                    "relative URL `{target}` needs --host"
                )))
            }
        },
        Err(e) => return Err(bad_url(e)),
    };
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => {
            Err(SendError::InvalidRequest(format!("unsupported scheme `{other}` (http or https)")))
        }
    }
}

/// `base` with `target` (a path, maybe with a query and a fragment) after
/// its path. Setting the parts on a copy of the base, rather than parsing
/// the two joined, skips parsing the host again: 0.1 µs, not 0.7, on every
/// request to `--host`.
fn append_path(base: &Url, target: &str) -> Url {
    let (rest, fragment) = match target.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (target, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let mut url = base.clone();
    match base.path().trim_end_matches('/') {
        "" => url.set_path(path),
        prefix => url.set_path(&format!("{prefix}{path}")),
    }
    url.set_query(query);
    url.set_fragment(fragment);
    url
}

impl Session {
    /// An empty session whose TLS connections use `tls`, reaching only
    /// what `network` allows, reading bodies of at most `max_body` bytes,
    /// connecting (from `source`) and sending within the user's `budget`.
    pub fn new(
        tls: &rustls::ClientConfig,
        network: &Arc<NetworkPolicy>,
        max_body: usize,
        budget: &Arc<UserBudget>,
        source: connect::Source,
    ) -> Self {
        let tcp = connect::TcpConnector::new(network, source);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        Session {
            connections: Arc::new(Pool::new(connector, Arc::clone(budget))),
            cookies: Arc::default(),
            network: Arc::clone(network),
            max_body,
            budget: Arc::clone(budget),
        }
    }

    /// Sends `request` to `url`, following redirects, within `timeout`.
    ///
    /// The exchange runs on a task of its own, on the worker thread's stack,
    /// which is always resident. On a guest's fiber its frames took the
    /// stack 15 KiB deep, four pages that a cold stack faults in: at 100,000
    /// users, a seventh of the CPU a user's start took (docs/BENCHMARKS.md,
    /// Scale, "Requests off the fiber stack"). The guest waits on the
    /// task's handle; a request dropped unfinished (a stop) ends the task.
    pub async fn send(
        &self,
        request: Request,
        url: Url,
        timeout: Duration,
    ) -> Result<Fetched, SendError> {
        let exchange = self.spawn_exchange(request, url, timeout);
        match exchange.await {
            Ok(fetched) => fetched.map(|fetched| *fetched),
            // A panic is the host's bug: it goes on as it would have on the
            // fiber. Only dropping the handle aborts the task.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(SendError::Transport("the request's task was cancelled".into())),
        }
    }

    /// Starts [`Session::send`]'s task. Apart, and not inlined, so that the
    /// spawn's frames are not part of the frame `send` keeps on the fiber
    /// while it waits; what crosses from the task, and what the spawn moves,
    /// is boxed, a pointer each.
    #[inline(never)]
    fn spawn_exchange(
        &self,
        request: Request,
        url: Url,
        timeout: Duration,
    ) -> AbortOnDropHandle<Result<Box<Fetched>, SendError>> {
        let session = self.clone();
        // From the call, not from when the task is first run.
        let deadline = tokio::time::Instant::now() + timeout;
        AbortOnDropHandle::new(tokio::spawn(Box::pin(async move {
            // Boxed inside the task too: nested futures are each laid out
            // twice in their caller's, and this one grew to 26 KiB.
            let exchange = Box::pin(session.exchange(&request, url));
            let fetched = tokio::time::timeout_at(deadline, exchange).await;
            fetched.unwrap_or(Err(SendError::Timeout)).map(Box::new)
        })))
    }

    async fn exchange(&self, request: &Request, mut url: Url) -> Result<Fetched, SendError> {
        let headers_size: usize =
            request.headers.iter().map(|(name, value)| name.len() + value.len()).sum();
        self.check_call(request.url.len() + headers_size + request.body.len())?;
        let mut method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| SendError::InvalidRequest(format!("bad method `{}`", request.method)))?;
        let mut headers = guest_headers(&request.headers)?;
        let mut body = Bytes::from(request.body.clone());
        let origin = url.origin();
        for _ in 0..=MAX_REDIRECTS {
            let response = self.exchange_once(&method, &url, &headers, body.clone()).await?;
            let status = response.status();
            let location = response.headers().get(LOCATION).cloned();
            let (Some(location), true) =
                (location, request.follow_redirects && status.is_redirection())
            else {
                let (parts, body) = response.into_parts();
                return Ok(Fetched { status: parts.status, url, headers: parts.headers, body });
            };
            let location = location
                .to_str()
                .map_err(|_| SendError::Transport("redirect location is not text".into()))?;
            url = url
                .join(location)
                .map_err(|e| SendError::Transport(format!("bad redirect location: {e}")))?;
            let becomes_get = status == StatusCode::SEE_OTHER && method != Method::HEAD
                || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && method == Method::POST;
            if becomes_get {
                method = Method::GET;
                body = Bytes::new();
                headers.remove(CONTENT_TYPE);
                headers.remove(CONTENT_LENGTH);
            }
            if url.origin() != origin {
                headers.remove(AUTHORIZATION);
            }
        }
        Err(SendError::TooManyRedirects)
    }

    /// One exchange, no redirects followed, within `timeout`: for clients
    /// (wasi:http) that handle redirects themselves.
    pub async fn fetch_once(
        &self,
        method: &Method,
        url: Url,
        headers: &HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Fetched, SendError> {
        let headers_size: usize =
            headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
        self.check_call(url.as_str().len() + headers_size + body.len())?;
        let exchange = async {
            let (parts, body) = self.exchange_once(method, &url, headers, body).await?.into_parts();
            Ok(Fetched { status: parts.status, url: url.clone(), headers: parts.headers, body })
        };
        tokio::time::timeout(timeout, exchange).await.unwrap_or(Err(SendError::Timeout))
    }

    async fn exchange_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<http::Response<Bytes>, SendError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or_default();
        self.network
            .check_target(host, port)
            .map_err(|denied| SendError::Denied(denied.to_string()))?;
        let uri: http::Uri = url
            .as_str()
            .parse()
            .map_err(|e: http::uri::InvalidUri| SendError::InvalidRequest(e.to_string()))?;
        let mut all_headers = headers.clone();
        if let Some(cookie) = self.cookie_header(url, headers.get(COOKIE)) {
            all_headers.insert(COOKIE, cookie);
        }
        let request = Outgoing { method: method.clone(), uri, headers: all_headers, body };
        let response = Box::pin(self.connections.send(&request, self.max_body)).await?;
        for set_cookie in response.headers().get_all(SET_COOKIE) {
            if let Ok(text) = set_cookie.to_str() {
                // A cookie the jar refuses is ignored, as browsers do.
                let _ = self.jar().parse(text, url);
            }
        }
        Ok(response)
    }

    /// The `Cookie` header for `url`: the jar's cookies after any the guest
    /// set itself.
    fn cookie_header(&self, url: &Url, guest: Option<&HeaderValue>) -> Option<HeaderValue> {
        let mut text = guest.and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        for (name, value) in self.jar().get_request_values(url) {
            if !text.is_empty() {
                text.push_str("; ");
            }
            text.push_str(name);
            text.push('=');
            text.push_str(value);
        }
        if text.is_empty() {
            return None;
        }
        HeaderValue::from_str(&text).ok()
    }
}

impl Session {
    fn jar(&self) -> MutexGuard<'_, CookieStore> {
        lock(&self.cookies)
    }

    /// Refuses a request of `size` bytes over `--max-call-size`, before
    /// it is copied into a request.
    fn check_call(&self, size: usize) -> Result<(), SendError> {
        self.budget.check_call(size).map_err(SendError::OverBudget)
    }

    /// The user's budgets.
    pub fn budget(&self) -> &Arc<UserBudget> {
        &self.budget
    }
}

/// The guest's headers, refusing invalid names and values.
pub fn guest_headers(pairs: &[(String, String)]) -> Result<HeaderMap, SendError> {
    let mut headers = HeaderMap::with_capacity(pairs.len());
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SendError::InvalidRequest(format!("bad header name `{name}`")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| SendError::InvalidRequest(format!("bad value for header `{name}`")))?;
        headers.append(header, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(base: &str, target: &str) -> String {
        let base = Url::parse(base).unwrap();
        resolve(Some(&base), target).unwrap().to_string()
    }

    #[test]
    fn paths_are_appended_to_the_host_like_locust() {
        assert_eq!(resolved("http://h:1", "/a?b=c"), "http://h:1/a?b=c");
        assert_eq!(resolved("http://h:1/api/", "/users"), "http://h:1/api/users");
        assert_eq!(resolved("http://h:1/api/", "users"), "http://h:1/api/users");
        assert_eq!(resolved("http://h:1/api", "https://other/x"), "https://other/x");
        assert_eq!(resolved("http://h:1/api?k=v#top", "/u?q=1#f"), "http://h:1/api/u?q=1#f");
        assert_eq!(resolved("http://h:1", "/a b/../c?x y"), "http://h:1/c?x%20y");
        assert_eq!(resolved("http://h:1/", "//o/x"), "http://h:1//o/x");
    }

    #[test]
    fn unusable_urls_are_invalid_requests() {
        assert!(matches!(resolve(None, "/a"), Err(SendError::InvalidRequest(_))));
        let base = Url::parse("http://h").unwrap();
        assert!(matches!(resolve(Some(&base), "ftp://h/x"), Err(SendError::InvalidRequest(_))));
    }
}
