//! Reaching a host the way the sandbox allows: every protocol checks its
//! destination by name, resolves it here, and keeps only allowed addresses.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::uri::{Scheme, Uri};
use hyper_util::rt::TokioIo;
use ipnet::IpNet;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

use crate::sandbox::NetworkPolicy;

/// `--local-ips`: the local addresses users' connections go out from,
/// dealt to users in turn, so that more connections reach one target than
/// one source address has ports for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalIps {
    v4: Vec<Ipv4Addr>,
    v6: Vec<Ipv6Addr>,
    /// As given, to hand on to worker processes.
    text: String,
}

/// The most addresses `--local-ips` may list.
const MAX_LOCAL_IPS: usize = 65_536;

impl LocalIps {
    /// Parses a comma-separated list of addresses, ranges
    /// (`127.0.0.1-127.0.0.8`) and networks (`10.1.0.0/24`, every host of it).
    pub fn parse(text: &str) -> Result<LocalIps, String> {
        let mut ips = LocalIps { text: text.to_owned(), ..LocalIps::default() };
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let addresses: Vec<IpAddr> = if let Some((first, last)) = item.split_once('-') {
                range(first.trim(), last.trim()).map_err(|e| format!("`{item}`: {e}"))?
            } else if item.contains('/') {
                let net: IpNet = item.parse().map_err(|e| format!("`{item}`: {e}"))?;
                net.hosts().take(MAX_LOCAL_IPS + 1).collect()
            } else {
                vec![item.parse().map_err(|e| format!("`{item}`: {e}"))?]
            };
            for address in addresses {
                match address {
                    IpAddr::V4(v4) => ips.v4.push(v4),
                    IpAddr::V6(v6) => ips.v6.push(v6),
                }
            }
            if ips.v4.len() + ips.v6.len() > MAX_LOCAL_IPS {
                return Err(format!("more than {MAX_LOCAL_IPS} addresses"));
            }
        }
        if ips.v4.is_empty() && ips.v6.is_empty() {
            return Err(format!("`{text}` names no address"));
        }
        Ok(ips)
    }

    /// Checks that this machine has every address: that a socket can be
    /// bound to each.
    pub fn check(&self) -> Result<(), String> {
        let v4 = self.v4.iter().map(|v4| IpAddr::V4(*v4));
        for address in v4.chain(self.v6.iter().map(|v6| IpAddr::V6(*v6))) {
            std::net::UdpSocket::bind((address, 0)).map_err(|error| {
                format!("{address} is not an address of this machine ({error})")
            })?;
        }
        Ok(())
    }

    /// Where user `user_id`'s connections come from.
    pub fn for_user(&self, user_id: u64) -> Source {
        fn pick<T: Copy>(list: &[T], user_id: u64) -> Option<T> {
            let count = u64::try_from(list.len()).ok().filter(|count| *count > 0)?;
            list.get(usize::try_from(user_id % count).ok()?).copied()
        }
        Source { v4: pick(&self.v4, user_id), v6: pick(&self.v6, user_id) }
    }
}

impl std::fmt::Display for LocalIps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Every address from `first` to `last`, both of one family.
fn range(first: &str, last: &str) -> Result<Vec<IpAddr>, String> {
    let parse = |text: &str| text.parse::<IpAddr>().map_err(|e| format!("`{text}`: {e}"));
    let (first, last) = (parse(first)?, parse(last)?);
    let (low, high) = match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b))),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b)),
        _ => return Err("a range is of one address family".into()),
    };
    if low > high {
        return Err("a range goes from the lower address to the higher".into());
    }
    if high - low >= MAX_LOCAL_IPS as u128 {
        return Err(format!("more than {MAX_LOCAL_IPS} addresses"));
    }
    Ok((low..=high)
        .map(|n| match first {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(n as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(n)),
        })
        .collect())
}

/// Where one user's connections come from: an address of each family, or
/// whatever the system picks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Source {
    v4: Option<Ipv4Addr>,
    v6: Option<Ipv6Addr>,
}

impl Source {
    /// The local address, port 0, of a socket that reaches `peer`.
    pub fn bind_for(&self, peer: &SocketAddr) -> SocketAddr {
        let ip = match peer {
            SocketAddr::V4(_) => IpAddr::V4(self.v4.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            SocketAddr::V6(_) => IpAddr::V6(self.v6.unwrap_or(Ipv6Addr::UNSPECIFIED)),
        };
        SocketAddr::new(ip, 0)
    }

    fn bound(&self, peer: &SocketAddr) -> bool {
        match peer {
            SocketAddr::V4(_) => self.v4.is_some(),
            SocketAddr::V6(_) => self.v6.is_some(),
        }
    }

    /// A TCP connection to the first of `addresses` that answers, from
    /// this source.
    pub async fn connect_tcp(&self, addresses: &[SocketAddr]) -> std::io::Result<TcpStream> {
        // A source of one family reaches only that family's addresses when
        // the name has some (as hyper's connector did): an address of the
        // other would be reached unbound, from outside `--local-ips`.
        let ours: Vec<SocketAddr> =
            addresses.iter().filter(|peer| self.bound(peer)).copied().collect();
        let addresses = if ours.is_empty() { addresses } else { &ours };
        let mut last = None;
        for peer in addresses {
            let socket = match peer {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            if self.bound(peer) {
                leave_port_to_connect(&socket);
                socket.bind(self.bind_for(peer))?;
            }
            match socket.connect(*peer).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
    }
}

/// Binding to an address with port 0 makes the kernel pick a port no
/// other socket on that address holds, whatever its peer: with tens of
/// thousands of connections about, that search walked the port range for
/// every connect (a third of all CPU while 15,000 users started from one
/// address). `IP_BIND_ADDRESS_NO_PORT` leaves the port to `connect`, which
/// only needs the four-tuple to be unique (and, with `tcp_tw_reuse`, may
/// reuse TIME_WAIT ports). Without it, binding still works, only slower;
/// so a refusal is ignored.
#[cfg_attr(not(target_os = "linux"), allow(unused_variables))]
fn leave_port_to_connect(socket: &TcpSocket) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let on: libc::c_int = 1;
        // SAFETY: the descriptor is the socket's own, open while it lives,
        // and the value is a c_int of the length given.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// Resolves `host` (a name or an address literal) on `port`, after checking
/// the destination, and returns the allowed addresses.
pub async fn resolve(
    policy: &NetworkPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    policy.check_target(host, port).map_err(|denied| denied.to_string())?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| format!("cannot resolve {bare}: {e}"))?
        .collect();
    policy.filter_resolved(bare, addresses).map_err(|denied| denied.to_string())
}

/// A byte stream to a peer, plain or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<S: AsyncRead + AsyncWrite + Send + Unpin> Stream for S {}

/// Why [`open_stream`] reached nothing.
#[derive(Debug)]
pub enum Unreached {
    /// The sandbox refuses the destination, or it is no name for TLS.
    Refused(String),
    /// Nothing answered, or the TLS handshake failed.
    Failed(String),
}

/// A TCP connection to `host:port` from `source`, if the sandbox allows the
/// destination, with TLS over it (checking the certificate for `host`)
/// when `tls` is given.
pub async fn open_stream(
    network: &NetworkPolicy,
    host: &str,
    port: u16,
    tls: Option<&TlsConnector>,
    source: Source,
) -> Result<Box<dyn Stream>, Unreached> {
    let addresses = resolve(network, host, port).await.map_err(Unreached::Refused)?;
    let tcp = source.connect_tcp(&addresses).await.map_err(|e| Unreached::Failed(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let Some(connector) = tls else {
        return Ok(Box::new(tcp));
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let name =
        ServerName::try_from(bare).map_err(|e| Unreached::Refused(format!("`{host}`: {e}")))?;
    let stream =
        connector.connect(name, tcp).await.map_err(|e| Unreached::Failed(format!("tls: {e}")))?;
    Ok(Box::new(stream))
}

/// Run-wide settings of a protocol whose guests name their server by a URL
/// (`--host` by default) and reach it over a stream of our own.
pub struct UrlConfig {
    /// `--host`, when its scheme is one of the protocol's: used by `connect("")`.
    pub default_url: Option<url::Url>,
    /// Used when a call gives no timeout.
    pub default_timeout: std::time::Duration,
    /// For the protocol's TLS scheme.
    pub tls: TlsConnector,
    /// Where users may connect.
    pub network: Arc<NetworkPolicy>,
}

impl UrlConfig {
    /// The settings of a run set up as `run`, for URLs of `schemes`.
    pub fn new(run: &super::RunSetup<'_>, schemes: &[&str]) -> UrlConfig {
        UrlConfig {
            default_url: run.guest.host.clone().filter(|url| schemes.contains(&url.scheme())),
            default_timeout: run.guest.timeout,
            tls: TlsConnector::from(Arc::new(run.tls.clone())),
            network: Arc::clone(&run.sandbox.network),
        }
    }
}

/// The URL a guest's `connect(url)` means: `url`, or `--host` (`default`)
/// when it is empty; its scheme one of `schemes`.
pub fn guest_url(
    url: &str,
    default: Option<&url::Url>,
    schemes: &[&str],
) -> Result<url::Url, String> {
    let url = match (url, default) {
        ("", Some(host)) => host.clone(),
        ("", None) => {
            return Err(format!("no URL given, and --host is not a {}:// URL", schemes[0]))
        }
        (url, _) => url::Url::parse(url).map_err(|e| format!("`{url}`: {e}"))?,
    };
    if !schemes.contains(&url.scheme()) {
        return Err(format!("`{}:` is not {}", url.scheme(), schemes.join(": or ") + ":"));
    }
    if url.host_str().is_none() {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// The TCP connector of users' HTTP and gRPC clients (hyper's, under
/// TLS): it connects from the user's source address to the allowed
/// addresses of a URI's host, as every other protocol does
/// ([`resolve`], [`Source::connect_tcp`]).
#[derive(Clone)]
pub struct TcpConnector {
    policy: Arc<NetworkPolicy>,
    source: Source,
}

impl TcpConnector {
    /// Connects within `policy`, from `source`.
    pub fn new(policy: &Arc<NetworkPolicy>, source: Source) -> TcpConnector {
        TcpConnector { policy: Arc::clone(policy), source }
    }
}

type Connecting = Pin<Box<dyn Future<Output = std::io::Result<TokioIo<TcpStream>>> + Send>>;

impl tower_service::Service<Uri> for TcpConnector {
    type Response = TokioIo<TcpStream>;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let policy = Arc::clone(&self.policy);
        let source = self.source;
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("`{uri}` has no host"),
                )
            })?;
            let default_port = if uri.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 };
            let port = uri.port_u16().unwrap_or(default_port);
            let addresses = resolve(&policy, host, port).await.map_err(std::io::Error::other)?;
            let tcp = source.connect_tcp(&addresses).await?;
            let _ = tcp.set_nodelay(true);
            Ok(TokioIo::new(tcp))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ips_take_addresses_ranges_and_networks() {
        let ips = LocalIps::parse("127.0.0.1-127.0.0.3, 10.0.0.0/30,::1").unwrap();
        let v4: Vec<String> = ips.v4.iter().map(ToString::to_string).collect();
        assert_eq!(v4, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "10.0.0.1", "10.0.0.2"]);
        assert_eq!(ips.v6, [Ipv6Addr::LOCALHOST]);
        for (text, error) in [
            ("127.0.0.9-127.0.0.1", "from the lower address"),
            ("127.0.0.1-::1", "one address family"),
            ("10.0.0.0/8", "more than 65536"),
            ("localhost", "invalid IP address syntax"),
            (",", "names no address"),
        ] {
            let refused = LocalIps::parse(text).unwrap_err();
            assert!(refused.contains(error), "{text}: {refused}");
        }
    }

    #[test]
    fn users_take_the_addresses_in_turn() {
        let ips = LocalIps::parse("127.0.0.1-127.0.0.3").unwrap();
        let peer: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let sources: Vec<String> =
            (0..4).map(|user| ips.for_user(user).bind_for(&peer).ip().to_string()).collect();
        assert_eq!(sources, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.1"]);
        // No IPv6 address given: an IPv6 peer is reached from any.
        let v6_peer: SocketAddr = "[::1]:80".parse().unwrap();
        assert!(ips.for_user(0).bind_for(&v6_peer).ip().is_unspecified());
        assert_eq!(Source::default().bind_for(&peer).ip(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }

    #[tokio::test]
    async fn tcp_connections_come_from_the_users_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap();
        let source = LocalIps::parse("127.0.0.7").unwrap().for_user(0);
        let _stream = source.connect_tcp(&[target]).await.unwrap();
        let (_, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.7");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_bound_connection_leaves_its_port_to_connect() {
        use std::os::fd::AsRawFd;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let source = LocalIps::parse("127.0.0.7").unwrap().for_user(0);
        let stream = source.connect_tcp(&[listener.local_addr().unwrap()]).await.unwrap();
        let mut value: libc::c_int = 0;
        let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: the stream's own descriptor; value and length as the
        // option's type needs.
        let status = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&mut value as *mut libc::c_int).cast(),
                &mut length,
            )
        };
        assert_eq!((status, value), (0, 1));
    }

    #[tokio::test]
    async fn a_source_of_one_family_skips_the_other_familys_addresses() {
        let v4 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // Where the other family is there, the connection must not go to it.
        let v6 = tokio::net::TcpListener::bind("[::1]:0").await.ok();
        let mut addresses: Vec<SocketAddr> =
            v6.iter().map(|listener| listener.local_addr().unwrap()).collect();
        addresses.push(v4.local_addr().unwrap());
        let source = LocalIps::parse("127.0.0.7").unwrap().for_user(0);
        let _stream = source.connect_tcp(&addresses).await.unwrap();
        let (_, peer) = v4.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.7");
        // Without an address of its family, it connects unbound.
        if let Some(v6) = v6 {
            let _stream = source.connect_tcp(&[v6.local_addr().unwrap()]).await.unwrap();
            let (_, peer) = v6.accept().await.unwrap();
            assert!(peer.ip().is_loopback());
        }
    }
}
