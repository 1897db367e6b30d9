//! Reaching a host the way the sandbox allows: every protocol checks its
//! destination by name, resolves it here, and keeps only allowed addresses.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::sandbox::NetworkPolicy;

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

/// An HTTP connector whose name lookups only return allowed addresses.
/// (Address literals skip the resolver: check them with
/// [`NetworkPolicy::check_target`] before each request.)
pub fn http_connector(policy: &Arc<NetworkPolicy>) -> HttpConnector<PolicyResolver> {
    let mut tcp = HttpConnector::new_with_resolver(PolicyResolver(Arc::clone(policy)));
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp
}

/// Name resolution filtered by the network policy.
#[derive(Clone)]
pub struct PolicyResolver(Arc<NetworkPolicy>);

type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl tower_service::Service<Name> for PolicyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = Arc::clone(&self.0);
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot resolve {name}: {e}")))?
                .collect();
            let allowed = policy.filter_resolved(name.as_str(), addresses).map_err(|denied| {
                std::io::Error::new(std::io::ErrorKind::PermissionDenied, denied)
            })?;
            Ok(allowed.into_iter())
        })
    }
}
