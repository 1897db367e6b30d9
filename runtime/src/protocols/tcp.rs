//! `tcp`: raw TCP connections, plain or TLS, with a timed request helper.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::tcp::{self, ConnectOptions, Error};
use crate::protocols::connect::{self, Source, Stream, Unreached};
use crate::protocols::{timeout_or, within, Protocol, RunSetup, UserSetup, UserSockets};
use crate::sandbox::{
    push_budgeted, ConnectionPermit, Exceeded, HostBytes, NetworkPolicy, UserBudget,
};

/// The most bytes one receive may return; larger guest limits are cut to it.
const MAX_RECEIVE: usize = 16 << 20;
/// How much is read from the socket at a time while looking for a delimiter.
const READ_CHUNK: usize = 8 << 10;

/// Run-wide TCP settings.
pub struct TcpConfig {
    /// Used when a call gives no timeout.
    pub default_timeout: Duration,
    /// For connections that ask for TLS.
    pub tls: TlsConnector,
    /// Where users may connect.
    pub network: Arc<NetworkPolicy>,
}

/// One user's TCP state: its open connections.
pub struct TcpUser {
    config: Arc<TcpConfig>,
    sockets: UserSockets,
}

impl Protocol for TcpUser {
    type Config = TcpConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<TcpConfig> {
        Ok(TcpConfig {
            default_timeout: run.guest.timeout,
            tls: TlsConnector::from(Arc::new(run.tls.clone())),
            network: Arc::clone(&run.sandbox.network),
        })
    }

    /// A user with no connections yet.
    fn for_user(config: &Arc<TcpConfig>, user: &UserSetup<'_>) -> Self {
        TcpUser { config: Arc::clone(config), sockets: UserSockets::new(user) }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        tcp::add_to_linker::<T, HasSelf<TcpUser>>(linker, get)
    }
}

impl TcpUser {
    fn timeout(&self, timeout_us: Option<u64>) -> Duration {
        timeout_or(self.config.default_timeout, timeout_us)
    }

    fn record(&self, name: &str, started: Instant, length: usize, error: Option<&Error>) {
        self.sockets.record("tcp", name, started, length as u64, error.map(describe));
    }
}

/// An open connection and the bytes read past the last delimiter.
pub struct Connection {
    stream: Box<dyn Stream>,
    buffered: Vec<u8>,
    /// The buffer's share of the user's `--max-host-memory`.
    held: HostBytes,
    _permit: ConnectionPermit,
}

impl Connection {
    async fn open(
        address: &str,
        tls: Option<&TlsConnector>,
        network: &NetworkPolicy,
        budget: &Arc<UserBudget>,
        source: Source,
    ) -> Result<Self, Error> {
        let (host, port) = split_address(address)?;
        let permit = budget.connect().map_err(|exceeded| Error::Connect(exceeded.to_string()))?;
        let held = budget.hold(0).map_err(over_budget)?;
        let stream =
            connect::open_stream(network, host, port, tls, source).await.map_err(|unreached| {
                match unreached {
                    Unreached::Refused(reason) | Unreached::Failed(reason) => {
                        Error::Connect(reason)
                    }
                }
            })?;
        Ok(Connection { stream, buffered: Vec::new(), held, _permit: permit })
    }

    async fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.stream.write_all(data).await.map_err(io_error)?;
        self.stream.flush().await.map_err(io_error)
    }

    async fn receive(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        if !self.buffered.is_empty() {
            let take = max.min(self.buffered.len());
            let taken = self.buffered.drain(..take).collect();
            let _ = self.held.resize(self.buffered.len());
            return Ok(taken);
        }
        let mut data = vec![0; max.min(MAX_RECEIVE)];
        let read = self.stream.read(&mut data).await.map_err(io_error)?;
        data.truncate(read);
        Ok(data)
    }

    async fn receive_until(&mut self, delimiter: &[u8], max: usize) -> Result<Vec<u8>, Error> {
        let max = max.min(MAX_RECEIVE);
        let mut searched = 0;
        loop {
            if let Some(at) = find(&self.buffered[searched..], delimiter) {
                let end = searched + at + delimiter.len();
                let found = self.buffered.drain(..end).collect();
                // Shrinking always fits the budget.
                let _ = self.held.resize(self.buffered.len());
                return Ok(found);
            }
            if self.buffered.len() >= max {
                return Err(Error::TooLarge);
            }
            // The delimiter may straddle what was read and what comes next.
            searched = self.buffered.len().saturating_sub(delimiter.len().saturating_sub(1));
            let start = self.buffered.len();
            self.held.resize(start + READ_CHUNK).map_err(over_budget)?;
            self.buffered.resize(start + READ_CHUNK, 0);
            let read = self.stream.read(&mut self.buffered[start..]).await;
            self.buffered.truncate(start + read.as_ref().map_or(0, |read| *read));
            let _ = self.held.resize(self.buffered.len());
            if read.map_err(io_error)? == 0 {
                return Err(Error::Closed);
            }
        }
    }
}

impl tcp::Host for TcpUser {}

impl tcp::HostConnection for TcpUser {
    async fn connect(
        &mut self,
        address: String,
        options: ConnectOptions,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let started = Instant::now();
        let tls = options.tls.then_some(&self.config.tls);
        let open = Connection::open(
            &address,
            tls,
            &self.config.network,
            &self.sockets.budget,
            self.sockets.source,
        );
        let opened = within(self.timeout(options.timeout_us), open, Error::Timeout).await;
        self.record("connect", started, 0, opened.as_ref().err());
        Ok(match opened {
            Ok(connection) => {
                Ok(push_budgeted(&mut self.sockets.table, connection, "TCP connections")?)
            }
            Err(error) => Err(error),
        })
    }

    async fn send(
        &mut self,
        connection: Resource<Connection>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        if let Err(exceeded) = self.sockets.budget.check_call(data.len()) {
            return Ok(Err(over_budget(exceeded)));
        }
        let timeout = self.timeout(None);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.send(&data), Error::Timeout).await)
    }

    async fn receive(
        &mut self,
        connection: Resource<Connection>,
        max: u32,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let timeout = self.timeout(timeout_us);
        let connection = self.sockets.table.get_mut(&connection)?;
        Ok(within(timeout, connection.receive(max as usize), Error::Timeout).await)
    }

    async fn receive_until(
        &mut self,
        connection: Resource<Connection>,
        delimiter: Vec<u8>,
        max: u32,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let timeout = self.timeout(timeout_us);
        let connection = self.sockets.table.get_mut(&connection)?;
        let received = connection.receive_until(&delimiter, max as usize);
        Ok(within(timeout, received, Error::Timeout).await)
    }

    async fn request(
        &mut self,
        connection: Resource<Connection>,
        name: String,
        payload: Vec<u8>,
        until: Vec<u8>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let started = Instant::now();
        if let Err(exceeded) = self.sockets.budget.check_call(payload.len() + until.len()) {
            let error = over_budget(exceeded);
            self.record(&name, started, 0, Some(&error));
            return Ok(Err(error));
        }
        let timeout = self.timeout(timeout_us);
        let connection = self.sockets.table.get_mut(&connection)?;
        let exchange = async {
            connection.send(&payload).await?;
            connection.receive_until(&until, MAX_RECEIVE).await
        };
        let outcome = within(timeout, exchange, Error::Timeout).await;
        let length = outcome.as_ref().map_or(0, Vec::len);
        self.record(&name, started, length, outcome.as_ref().err());
        Ok(outcome)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.sockets.table.delete(connection)?;
        Ok(())
    }
}

/// The host and port of `host:port` (or `[v6]:port`).
pub(crate) fn split_address(address: &str) -> Result<(&str, u16), Error> {
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => match port.parse::<u16>() {
            Ok(port) => Ok((host.trim_start_matches('[').trim_end_matches(']'), port)),
            Err(_) => Err(Error::InvalidAddress(format!("`{address}` is not host:port"))),
        },
        _ => Err(Error::InvalidAddress(format!("`{address}` is not host:port"))),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn io_error(error: std::io::Error) -> Error {
    Error::Io(error.to_string())
}

/// A budget breach, as the interface's error.
fn over_budget(exceeded: Exceeded) -> Error {
    Error::Io(exceeded.to_string())
}

/// The error's text in the stats: stable per kind of failure.
fn describe(error: &Error) -> String {
    match error {
        Error::InvalidAddress(reason) => format!("invalid address: {reason}"),
        Error::Connect(reason) => format!("connect: {reason}"),
        Error::Timeout => "timeout".into(),
        Error::Closed => "closed by peer".into(),
        Error::TooLarge => "too large".into(),
        Error::Io(reason) => format!("io: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_a_host_and_a_port() {
        assert_eq!(split_address("127.0.0.1:6379").ok(), Some(("127.0.0.1", 6379)));
        assert_eq!(split_address("[::1]:80").ok(), Some(("::1", 80)));
        assert!(split_address("localhost").is_err());
        assert!(split_address(":80").is_err());
        assert!(split_address("h:port").is_err());
    }

    #[test]
    fn delimiters_are_found_anywhere() {
        assert_eq!(find(b"+OK\r\n", b"\r\n"), Some(3));
        assert_eq!(find(b"abc", b"\r\n"), None);
    }
}
