//! `udp`: datagrams to one peer, with a timed request helper.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::udp::{self, Error};
use crate::protocols::connect::{self, Source};
use crate::protocols::tcp::split_address;
use crate::protocols::{timeout_or, within, Protocol, RunSetup, UserSetup, UserSockets};
use crate::sandbox::{push_budgeted, ConnectionPermit, NetworkPolicy, UserBudget};
use crate::stats::RequestEvent;

/// The largest datagram kept; longer ones are cut (UDP's own limit).
const MAX_DATAGRAM: usize = 65_535;

/// Run-wide UDP settings.
pub struct UdpConfig {
    /// Used when a call gives no timeout.
    pub default_timeout: Duration,
    /// Where users may send.
    pub network: Arc<NetworkPolicy>,
}

/// One user's UDP state: its open sockets.
pub struct UdpUser {
    config: Arc<UdpConfig>,
    sockets: UserSockets,
}

impl Protocol for UdpUser {
    type Config = UdpConfig;

    fn configure(run: &RunSetup<'_>) -> anyhow::Result<UdpConfig> {
        Ok(UdpConfig {
            default_timeout: run.guest.timeout,
            network: Arc::clone(&run.sandbox.network),
        })
    }

    /// A user with no sockets yet.
    fn for_user(config: &Arc<UdpConfig>, user: &UserSetup<'_>) -> Self {
        UdpUser { config: Arc::clone(config), sockets: UserSockets::new(user) }
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: fn(&mut T) -> &mut Self,
    ) -> wasmtime::Result<()> {
        udp::add_to_linker::<T, HasSelf<UdpUser>>(linker, get)
    }
}

impl UdpUser {
    /// Refuses a datagram over `--max-call-size`.
    fn check_call(&self, size: usize) -> Result<(), Error> {
        self.sockets.budget.check_call(size).map_err(|exceeded| Error::Io(exceeded.to_string()))
    }

    fn timeout(&self, timeout_us: Option<u64>) -> Duration {
        timeout_or(self.config.default_timeout, timeout_us)
    }
}

/// A socket connected to one peer, holding one of the user's connections.
pub struct Socket {
    socket: UdpSocket,
    _permit: ConnectionPermit,
}

impl Socket {
    async fn open(
        address: &str,
        network: &NetworkPolicy,
        budget: &Arc<UserBudget>,
        source: Source,
    ) -> Result<Self, Error> {
        let (host, port) = split_address(address)
            .map_err(|_| Error::InvalidAddress(format!("`{address}` is not host:port")))?;
        let permit = budget.connect().map_err(|exceeded| Error::Io(exceeded.to_string()))?;
        let addresses =
            connect::resolve(network, host, port).await.map_err(Error::InvalidAddress)?;
        let peer = addresses[0];
        let socket = UdpSocket::bind(source.bind_for(&peer)).await.map_err(io_error)?;
        socket.connect(peer).await.map_err(io_error)?;
        Ok(Socket { socket, _permit: permit })
    }

    async fn receive(&self, max: usize) -> Result<Vec<u8>, Error> {
        let mut data = vec![0; MAX_DATAGRAM];
        let read = self.socket.recv(&mut data).await.map_err(io_error)?;
        data.truncate(read.min(max));
        Ok(data)
    }
}

impl udp::Host for UdpUser {}

impl udp::HostSocket for UdpUser {
    async fn connect(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Socket>, Error>> {
        Ok(
            match Socket::open(
                &address,
                &self.config.network,
                &self.sockets.budget,
                self.sockets.source,
            )
            .await
            {
                Ok(socket) => Ok(push_budgeted(&mut self.sockets.table, socket, "UDP sockets")?),
                Err(error) => Err(error),
            },
        )
    }

    async fn send(
        &mut self,
        socket: Resource<Socket>,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        if let Err(error) = self.check_call(data.len()) {
            return Ok(Err(error));
        }
        let socket = self.sockets.table.get(&socket)?;
        Ok(socket.socket.send(&data).await.map(drop).map_err(io_error))
    }

    async fn receive(
        &mut self,
        socket: Resource<Socket>,
        max: u32,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let timeout = self.timeout(timeout_us);
        let socket = self.sockets.table.get(&socket)?;
        Ok(within(timeout, socket.receive(max as usize), Error::Timeout).await)
    }

    async fn request(
        &mut self,
        socket: Resource<Socket>,
        name: String,
        payload: Vec<u8>,
        timeout_us: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let started = Instant::now();
        let timeout = self.timeout(timeout_us);
        let allowed = self.check_call(payload.len());
        let socket = self.sockets.table.get(&socket)?;
        let exchange = async {
            allowed?;
            socket.socket.send(&payload).await.map_err(io_error)?;
            socket.receive(MAX_DATAGRAM).await
        };
        let outcome = within(timeout, exchange, Error::Timeout).await;
        let error = outcome.as_ref().err().map(describe);
        self.sockets.recorder.record(&RequestEvent {
            kind: "udp",
            name: &name,
            response_time: started.elapsed(),
            response_length: outcome.as_ref().map_or(0, |data| data.len() as u64),
            error: error.as_deref(),
        });
        Ok(outcome)
    }

    async fn drop(&mut self, socket: Resource<Socket>) -> wasmtime::Result<()> {
        self.sockets.table.delete(socket)?;
        Ok(())
    }
}

fn io_error(error: std::io::Error) -> Error {
    Error::Io(error.to_string())
}

/// The error's text in the stats: stable per kind of failure.
fn describe(error: &Error) -> String {
    match error {
        Error::InvalidAddress(reason) => format!("invalid address: {reason}"),
        Error::Timeout => "timeout".into(),
        Error::Io(reason) => format!("io: {reason}"),
    }
}
