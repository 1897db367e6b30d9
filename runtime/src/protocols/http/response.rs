//! The `response` resource: a fetched response whose event is recorded once,
//! when the guest settles it or when it is dropped.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use url::Url;

use super::session::Fetched;
use crate::sandbox::HostBytes;
use crate::stats::{Recorder, RequestEvent};

/// A response held for the guest, with its not yet recorded event.
pub struct Response {
    fetched: Fetched,
    /// The body's share of the user's `--max-host-memory`.
    _held: HostBytes,
    elapsed: Duration,
    method: String,
    name: String,
    /// `None` once the event has been recorded.
    recorder: Option<Recorder>,
}

impl Response {
    pub(super) fn new(
        fetched: Fetched,
        held: HostBytes,
        elapsed: Duration,
        method: String,
        name: String,
        recorder: Recorder,
    ) -> Self {
        Response { fetched, _held: held, elapsed, method, name, recorder: Some(recorder) }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.fetched.status.as_u16()
    }

    /// The final URL, after redirects.
    pub fn url(&self) -> &Url {
        &self.fetched.url
    }

    /// Every header as (name, value) text; values that are not UTF-8 are
    /// decoded lossily.
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect()
    }

    /// The first value of header `name`, if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let value = self.headers().get(name)?;
        Some(String::from_utf8_lossy(value.as_bytes()).into_owned())
    }

    /// The whole body.
    pub fn body(&self) -> &Bytes {
        &self.fetched.body
    }

    /// From sending the request to the end of the body.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    fn headers(&self) -> &HeaderMap {
        &self.fetched.headers
    }

    /// Records the event with this outcome, unless it was recorded already.
    pub fn settle(&mut self, error: Option<&str>) {
        let Some(recorder) = self.recorder.take() else {
            return;
        };
        recorder.record(&RequestEvent {
            kind: &self.method,
            name: &self.name,
            response_time: self.elapsed,
            response_length: self.fetched.body.len() as u64,
            error,
        });
    }
}

impl Drop for Response {
    fn drop(&mut self) {
        if self.recorder.is_some() {
            self.settle(status_failure(self.fetched.status).as_deref());
        }
    }
}

/// The failure of a response nobody judged: any status but 2xx and 3xx,
/// e.g. `HTTP 404 Not Found`.
pub fn status_failure(status: StatusCode) -> Option<String> {
    if status.is_success() || status.is_redirection() {
        return None;
    }
    let reason = status.canonical_reason().unwrap_or("");
    Some(format!("HTTP {} {reason}", status.as_u16()).trim_end().to_owned())
}
