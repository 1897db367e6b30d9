//! HTTP requests through the user's session (cookies and keep-alive
//! connections are kept per user; redirects are followed).
//!
//! Every request is recorded by the host. A response is judged by its
//! status unless the user settles it first with [`Response::success`] or
//! [`Response::failure`], like Locust's `catch_response`.

use std::cell::OnceCell;
use std::fmt;
use std::time::Duration;

use crate::bindings::wasmload::user::http as host;
use crate::{Error, Result};

/// Why a request got no response (already recorded as a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The request could not be built: bad URL, method or header.
    InvalidRequest(String),
    /// The timeout elapsed.
    Timeout,
    /// No connection could be made.
    Connect(String),
    /// The connection failed during the exchange.
    Transport(String),
    /// More than 10 redirects.
    TooManyRedirects,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidRequest(reason) => write!(f, "invalid request: {reason}"),
            HttpError::Timeout => f.write_str("timeout"),
            HttpError::Connect(reason) => write!(f, "connect: {reason}"),
            HttpError::Transport(reason) => write!(f, "transport: {reason}"),
            HttpError::TooManyRedirects => f.write_str("too many redirects"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<host::Error> for HttpError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::InvalidRequest(reason) => HttpError::InvalidRequest(reason),
            host::Error::Timeout => HttpError::Timeout,
            host::Error::Connect(reason) => HttpError::Connect(reason),
            host::Error::Transport(reason) => HttpError::Transport(reason),
            host::Error::TooManyRedirects => HttpError::TooManyRedirects,
        }
    }
}

/// A request being built; [`RequestBuilder::send`] sends it.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: host::Request,
}

/// A request with this method to `url` (absolute, or a path under `--host`).
pub fn request(method: &str, url: &str) -> RequestBuilder {
    RequestBuilder {
        request: host::Request {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            name: None,
            timeout_us: None,
            follow_redirects: true,
        },
    }
}

/// A `GET` request.
pub fn get(url: &str) -> RequestBuilder {
    request("GET", url)
}

/// A `POST` request.
pub fn post(url: &str) -> RequestBuilder {
    request("POST", url)
}

/// A `PUT` request.
pub fn put(url: &str) -> RequestBuilder {
    request("PUT", url)
}

/// A `PATCH` request.
pub fn patch(url: &str) -> RequestBuilder {
    request("PATCH", url)
}

/// A `DELETE` request.
pub fn delete(url: &str) -> RequestBuilder {
    request("DELETE", url)
}

/// A `HEAD` request.
pub fn head(url: &str) -> RequestBuilder {
    request("HEAD", url)
}

impl RequestBuilder {
    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.request.body = body.into();
        self
    }

    /// Sets a JSON text as the body, with `Content-Type: application/json`.
    pub fn json_text(self, json: impl Into<String>) -> Self {
        self.header("content-type", "application/json").body(json.into().into_bytes())
    }

    /// Groups the request under `name` in the stats (default: the path
    /// without its query), e.g. `/items/[id]`.
    pub fn name(mut self, name: &str) -> Self {
        self.request.name = Some(name.to_owned());
        self
    }

    /// Fails the request if it takes longer (default: `--timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request.timeout_us = Some(u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX));
        self
    }

    /// Returns 3xx responses as they are instead of following them.
    pub fn no_redirects(mut self) -> Self {
        self.request.follow_redirects = false;
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        let response = host::send(&self.request)?;
        Ok(Response { inner: response, body: OnceCell::new() })
    }
}

/// A response. Its event is recorded when it is settled with
/// [`success`](Response::success) or [`failure`](Response::failure), or
/// when it is dropped: then a status of 400 or more is a failure.
pub struct Response {
    inner: host::Response,
    body: OnceCell<Vec<u8>>,
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.inner.status()
    }

    /// The final URL, after redirects.
    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.inner.header(name)
    }

    /// Every header as (name, value).
    pub fn headers(&self) -> Vec<(String, String)> {
        self.inner.headers()
    }

    /// The body, fetched from the host once.
    pub fn bytes(&self) -> &[u8] {
        self.body.get_or_init(|| self.inner.body())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    /// From sending the request to the end of the body.
    pub fn elapsed(&self) -> Duration {
        Duration::from_micros(self.inner.elapsed_us())
    }

    /// Records the request as a success, whatever its status.
    pub fn success(&self) {
        self.inner.success();
    }

    /// Records the request as a failure with `reason`.
    pub fn failure(&self, reason: &str) {
        self.inner.failure(reason);
    }

    /// Fails the request (and returns an error) unless the status is
    /// `expected`.
    pub fn expect_status(self, expected: u16) -> Result<Self> {
        let status = self.status();
        self.check(status == expected, || format!("expected status {expected}, got {status}"))
    }

    /// Fails the request (and returns an error) unless the body contains
    /// `needle`.
    pub fn expect_text(self, needle: &str) -> Result<Self> {
        let found = self.text().contains(needle);
        self.check(found, || format!("body does not contain {needle:?}"))
    }

    /// Fails the request with `reason()` and returns an error unless `ok`.
    pub fn check(self, ok: bool, reason: impl FnOnce() -> String) -> Result<Self> {
        if ok {
            return Ok(self);
        }
        let reason = reason();
        self.failure(&reason);
        Err(Error::Check(reason))
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response").field("status", &self.status()).finish_non_exhaustive()
    }
}
