//! The error type of user code.

use std::fmt;

use crate::grpc::GrpcError;
use crate::http::HttpError;
use crate::mqtt::MqttError;
use crate::postgres::PostgresError;
use crate::tcp::TcpError;
use crate::udp::UdpError;
use crate::websocket::WebSocketError;
use crate::xmlrpc::XmlRpcError;

/// Why a task (or `on_start`/`on_stop`) failed. wasmload counts it under
/// the task's name in the task errors; the user goes on with its next task.
#[derive(Debug)]
pub enum Error {
    /// An HTTP request got no response.
    Http(HttpError),
    /// A gRPC call returned no reply.
    Grpc(GrpcError),
    /// A TCP call failed.
    Tcp(TcpError),
    /// A UDP call failed.
    Udp(UdpError),
    /// A PostgreSQL call failed.
    Postgres(PostgresError),
    /// A WebSocket call failed.
    WebSocket(WebSocketError),
    /// An MQTT call failed.
    Mqtt(MqttError),
    /// An XML-RPC call returned no value.
    XmlRpc(XmlRpcError),
    /// A check did not hold (a response's check is also recorded as the
    /// response's failure).
    Check(String),
    /// Anything else the user reports.
    Other(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::Other(message.to_string())
    }
}

/// `Ok(())` when `condition` holds, else [`Error::Check`] with `reason`.
///
/// ```ignore
/// ensure(reply == Value::Int(5), "wrong sum")?;
/// ```
pub fn ensure(condition: bool, reason: impl Into<String>) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::Check(reason.into()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(error) => write!(f, "{error}"),
            Error::Grpc(error) => write!(f, "grpc: {}", error.describe()),
            Error::Tcp(error) => write!(f, "tcp: {}", error.describe()),
            Error::Udp(error) => write!(f, "udp: {}", error.describe()),
            Error::Postgres(error) => write!(f, "postgres: {}", error.describe()),
            Error::WebSocket(error) => write!(f, "ws: {}", error.describe()),
            Error::Mqtt(error) => write!(f, "mqtt: {}", error.describe()),
            Error::XmlRpc(error) => write!(f, "xmlrpc: {}", error.describe()),
            Error::Check(reason) => write!(f, "check failed: {reason}"),
            Error::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// `?` turns each protocol's error into [`Error`].
macro_rules! from_protocol_errors {
    ($($source:ty => $variant:ident),+ $(,)?) => {
        $(impl From<$source> for Error {
            fn from(error: $source) -> Self {
                Error::$variant(error)
            }
        })+
    };
}

from_protocol_errors!(
    HttpError => Http,
    GrpcError => Grpc,
    TcpError => Tcp,
    UdpError => Udp,
    PostgresError => Postgres,
    WebSocketError => WebSocket,
    MqttError => Mqtt,
    XmlRpcError => XmlRpc,
);

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Other(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::Other(message.to_owned())
    }
}
