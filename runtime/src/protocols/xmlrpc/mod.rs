//! `xmlrpc`: XML-RPC calls that ride on the user's HTTP session (its
//! cookies and pooled connections) and record one `xmlrpc` event each.

mod codec;
mod value;

use std::time::Instant;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::http::Request;
use crate::bindings::xmlrpc::{self, Error, Fault, Node};
use crate::protocols::http::{HttpUser, SendError};
use crate::stats::RequestEvent;
pub use codec::decode_response;
use codec::Answer;
pub use value::from_nodes;

/// Adds the `xmlrpc` interface to `linker`; it shares the user's HTTP session.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut HttpUser,
) -> wasmtime::Result<()> {
    xmlrpc::add_to_linker::<T, HasSelf<HttpUser>>(linker, get)
}

impl xmlrpc::Host for HttpUser {
    async fn call(
        &mut self,
        url: String,
        method: String,
        params: Vec<Node>,
    ) -> wasmtime::Result<Result<Vec<Node>, Error>> {
        let started = Instant::now();
        let outcome = call(self, url, &method, params).await;
        let (length, error) = match &outcome {
            Ok((_, length)) => (*length, None),
            Err(error) => (0, Some(describe(error))),
        };
        self.recorder().record(&RequestEvent {
            kind: "xmlrpc",
            name: &method,
            response_time: started.elapsed(),
            response_length: length,
            error: error.as_deref(),
        });
        Ok(outcome.map(|(nodes, _)| nodes))
    }
}

/// Makes the call; on success also returns the response's length.
async fn call(
    user: &mut HttpUser,
    url: String,
    method: &str,
    params: Vec<Node>,
) -> Result<(Vec<Node>, u64), Error> {
    let params = value::from_nodes(params).map_err(Error::InvalidRequest)?;
    let request = Request {
        method: "POST".into(),
        url,
        headers: vec![("content-type".into(), "text/xml".into())],
        body: codec::encode_call(method, &params).into_bytes(),
        name: None,
        timeout_us: None,
        follow_redirects: true,
    };
    let fetched = user.send_unrecorded(request).await.map_err(|error| match error {
        SendError::InvalidRequest(reason) => Error::InvalidRequest(reason),
        other => Error::Transport(other.to_string()),
    })?;
    if fetched.status != http::StatusCode::OK {
        return Err(Error::Transport(format!("HTTP {}", fetched.status)));
    }
    match codec::decode_response(&fetched.body).map_err(Error::Malformed)? {
        Answer::Value(value) => {
            let mut nodes = Vec::new();
            value::to_nodes(value, &mut nodes);
            Ok((nodes, fetched.body.len() as u64))
        }
        Answer::Fault { code, message } => Err(Error::Fault(Fault { code, message })),
    }
}

/// The error's text in the stats.
fn describe(error: &Error) -> String {
    match error {
        Error::Fault(fault) => format!("fault {}: {}", fault.code, fault.message),
        Error::InvalidRequest(reason) => format!("invalid request: {reason}"),
        Error::Transport(reason) => reason.clone(),
        Error::Malformed(reason) => format!("malformed response: {reason}"),
    }
}
