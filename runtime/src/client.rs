//! A JSON-over-HTTP client of wasmload's own services: `submit` talks to
//! `serve` with it, a worker to its collector.

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use url::Url;

/// The server answered with a refusal: its status and its reason.
#[derive(Debug, thiserror::Error)]
#[error("the server refused ({status}): {reason}")]
pub struct Refused {
    pub status: u16,
    pub reason: String,
}

impl Refused {
    /// The exit code of a command that got this refusal: 2 when the
    /// request was at fault (4xx), else 1.
    pub fn exit_code(&self) -> u8 {
        if (400..500).contains(&self.status) {
            2
        } else {
            1
        }
    }
}

/// An HTTP/1 client of http and https URLs.
pub(crate) type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client of http and https URLs, https trusting as `tls` says.
pub(crate) fn http_client(tls: rustls::ClientConfig) -> HttpClient {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Talks to one server with one token.
#[derive(Clone)]
pub struct ApiClient {
    base: Url,
    token: Option<String>,
    client: HttpClient,
}

impl ApiClient {
    /// A client of the server at `base`, sending `token` if any.
    pub fn new(base: Url, token: Option<String>, tls: rustls::ClientConfig) -> ApiClient {
        ApiClient { base, token, client: http_client(tls) }
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path).with_context(|| format!("`{path}` on {}", self.base))
    }

    /// Sends a request and gives the answer as it comes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<hyper::Response<hyper::body::Incoming>> {
        let url = self.url(path)?;
        let mut request = Request::builder().method(method).uri(url.as_str());
        if let Some(token) = &self.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if !body.is_empty() {
            request = request.header(http::header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Full::new(body)).context("building a request")?;
        self.client.request(request).await.map_err(|e| {
            anyhow!("cannot reach {}: {}", self.base, crate::protocols::error_chain(&e))
        })
    }

    /// Sends a request and reads its JSON answer; a refusal is an error
    /// saying the server's reason.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Value> {
        let response = self.send(method, path, content_type, body).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await.context("reading an answer")?.to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let reason = value["error"].as_str().map_or_else(|| status.to_string(), str::to_owned);
        Err(Refused { status: status.as_u16(), reason }.into())
    }
}
