//! gRPC calls with messages as protobuf bytes: encode and decode them with
//! the protobuf library of your choice (e.g. `prost`). The host keeps one
//! HTTP/2 channel per endpoint for this user and records each call as one
//! event (type `grpc`, named after the method); any status but OK fails it.
//!
//! ```ignore
//! let reply = grpc::call("/helloworld.Greeter/SayHello").unary(&request.encode_to_vec())?;
//! let greeting = HelloReply::decode(reply.message())?;
//! ```

use std::time::Duration;

use crate::bindings::wasmload::user::grpc::{self as host, CallOptions};

/// Why a call returned no reply (the host has recorded a failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrpcError {
    /// The call ended with this gRPC status (never 0, OK).
    Status { code: u32, message: String },
    /// The call could not be made: bad endpoint, method path or metadata.
    InvalidRequest(String),
}

impl GrpcError {
    /// The gRPC status code, if the call got that far.
    pub fn code(&self) -> Option<u32> {
        match self {
            GrpcError::Status { code, .. } => Some(*code),
            GrpcError::InvalidRequest(_) => None,
        }
    }

    /// What went wrong, in words.
    pub fn describe(&self) -> String {
        match self {
            GrpcError::Status { code, message } => format!("status {code}: {message}"),
            GrpcError::InvalidRequest(reason) => format!("invalid request: {reason}"),
        }
    }
}

/// gRPC status codes the checks of a user most often name.
pub mod code {
    pub const INVALID_ARGUMENT: u32 = 3;
    pub const DEADLINE_EXCEEDED: u32 = 4;
    pub const NOT_FOUND: u32 = 5;
    pub const UNIMPLEMENTED: u32 = 12;
    pub const UNAVAILABLE: u32 = 14;
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Every reply message: one for a unary call.
    pub messages: Vec<Vec<u8>>,
    /// Response headers and trailers.
    pub metadata: Vec<(String, String)>,
}

impl Reply {
    /// The first (for a unary call, the only) message.
    pub fn message(&self) -> &[u8] {
        self.messages.first().map_or(&[], Vec::as_slice)
    }
}

/// A call being set up; see [`call`].
#[derive(Debug, Clone)]
pub struct Call {
    method: String,
    options: CallOptions,
}

/// A call of `method` (`/package.Service/Method`) to `--host`.
pub fn call(method: &str) -> Call {
    Call {
        method: method.to_owned(),
        options: CallOptions { endpoint: None, metadata: Vec::new(), timeout_us: None },
    }
}

impl Call {
    /// Calls `endpoint` (`http://host:port` or `https://...`) instead of `--host`.
    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.options.endpoint = Some(endpoint.to_owned());
        self
    }

    /// Adds request metadata.
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.options.metadata.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets the call's deadline (default: the run's `--timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout_us = Some(u64::try_from(timeout.as_micros()).unwrap_or(u64::MAX));
        self
    }

    /// Makes a unary call with `message`.
    pub fn unary(&self, message: &[u8]) -> Result<Reply, GrpcError> {
        host::unary(&self.method, message, &self.options).map(into_reply).map_err(into_error)
    }

    /// Makes a server-streaming call and collects every reply.
    pub fn server_streaming(&self, message: &[u8]) -> Result<Reply, GrpcError> {
        host::server_streaming(&self.method, message, &self.options)
            .map(into_reply)
            .map_err(into_error)
    }
}

fn into_reply(reply: host::Reply) -> Reply {
    Reply { messages: reply.messages, metadata: reply.metadata }
}

fn into_error(error: host::Error) -> GrpcError {
    match error {
        host::Error::Status(status) => {
            GrpcError::Status { code: status.code, message: status.message }
        }
        host::Error::InvalidRequest(reason) => GrpcError::InvalidRequest(reason),
    }
}
