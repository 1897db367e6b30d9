//! JSON APIs the way Locust's `RestUser` does them: JSON headers by
//! default, the body parsed for you, and anything wrong turned into a
//! failed request instead of a failed task.
//!
//! ```ignore
//! let id = rest("GET", "/items/7").send(|response| {
//!     if response.json["in_stock"] != true {
//!         return Err(Error::msg("out of stock"));   // the request fails; the task goes on
//!     }
//!     Ok(response.json["id"].as_u64())
//! })?;
//! ```
//!
//! API-specific helpers are plain functions on top:
//!
//! ```ignore
//! fn api(method: &str, path: &str) -> Rest {
//!     rest(method, path).header("x-api-key", &context::param_or("API_KEY", "dev"))
//! }
//! ```

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::http::{self, RequestBuilder, Response};
use crate::{Error, Result};

/// A JSON request being built; see [`rest`].
pub struct Rest {
    request: RequestBuilder,
    content_type: bool,
    accept: bool,
}

/// A JSON request with this method to `url`. `Content-Type` and `Accept`
/// are `application/json` unless set with [`Rest::header`].
pub fn rest(method: &str, url: &str) -> Rest {
    Rest { request: http::request(method, url), content_type: false, accept: false }
}

/// A response with its body parsed as JSON.
pub struct RestResponse {
    /// The raw response (status, headers, bytes).
    pub response: Response,
    /// The parsed body; `Null` when the body is empty.
    pub json: Value,
}

impl Rest {
    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.content_type |= name.eq_ignore_ascii_case("content-type");
        self.accept |= name.eq_ignore_ascii_case("accept");
        self.request = self.request.header(name, value);
        self
    }

    /// Serializes `body` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(Error::msg)?;
        self.request = self.request.body(bytes);
        Ok(self)
    }

    /// Groups the request under `name` in the stats.
    pub fn name(mut self, name: &str) -> Self {
        self.request = self.request.name(name);
        self
    }

    /// Fails the request if it takes longer (default: `--timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request = self.request.timeout(timeout);
        self
    }

    /// Sends the request and runs `check` on the parsed response.
    ///
    /// The request is recorded as a failure, and `Ok(None)` returned, when
    /// the body is not valid JSON or `check` returns an error (with that
    /// error as the reason); otherwise it is judged by its status and
    /// `check`'s value is returned. Only a request that got no response at
    /// all is an `Err`, as with [`http`].
    pub fn send<T>(self, check: impl FnOnce(&RestResponse) -> Result<T>) -> Result<Option<T>> {
        let mut request = self.request;
        if !self.content_type {
            request = request.header("content-type", "application/json");
        }
        if !self.accept {
            request = request.header("accept", "application/json");
        }
        let response = request.send()?;
        let json = match response.bytes() {
            [] => Value::Null,
            body => match serde_json::from_slice(body) {
                Ok(json) => json,
                Err(error) => {
                    response.failure(&format!("invalid JSON: {error}"));
                    return Ok(None);
                }
            },
        };
        let parsed = RestResponse { response, json };
        match check(&parsed) {
            Ok(value) => Ok(Some(value)),
            Err(error) => {
                parsed.response.failure(&error.to_string());
                Ok(None)
            }
        }
    }
}
