//! Where guests may connect: the `--host` target plus `--allow-host`
//! patterns. Every protocol asks this policy before it connects, by name
//! and again for the addresses a name resolves to.

use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Result};
use ipnet::IpNet;

/// One allowed destination.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    /// A host name; `*.` matches any subdomain.
    Name { pattern: String, port: Option<u16> },
    /// An address or network, e.g. `10.0.0.0/8`.
    Net { net: IpNet, port: Option<u16> },
}

/// The run's network allow-list.
#[derive(Debug, Clone, Default)]
pub struct NetworkPolicy {
    rules: Vec<Rule>,
}

/// Why a destination is refused; the text goes into the failed event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("denied: {0} is not an allowed host (see --allow-host)")]
pub struct Denied(pub String);

impl NetworkPolicy {
    /// The `--host` target (host and port; the scheme's port when none is
    /// given) and each `--allow-host` pattern.
    pub fn new(target: Option<&url::Url>, patterns: &[String]) -> Result<Self> {
        let mut rules = Vec::new();
        if let Some(url) = target {
            let host =
                url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
            rules.push(rule(host, url.port_or_known_default())?);
        }
        for pattern in patterns {
            let (host, port) = split_pattern(pattern)?;
            rules.push(rule(host, port)?);
        }
        Ok(NetworkPolicy { rules })
    }

    /// Whether `host` (a name or an address literal) on `port` may be
    /// contacted, before any name is resolved.
    pub fn check_target(&self, host: &str, port: u16) -> Result<(), Denied> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let allowed = match host.parse::<IpAddr>() {
            Ok(ip) => self.allows_address(ip, port),
            Err(_) => self.rules.iter().any(|rule| match rule {
                Rule::Name { pattern, port: wanted } => {
                    port_matches(*wanted, port) && name_matches(pattern, &host.to_ascii_lowercase())
                }
                Rule::Net { .. } => false,
            }),
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied(format!("{host}:{port}")))
        }
    }

    /// Also allows `addresses` (with their ports): what the `--host` name
    /// resolved to when the run started.
    pub fn allow_addresses(&mut self, addresses: impl IntoIterator<Item = SocketAddr>) {
        for address in addresses {
            self.rules
                .push(Rule::Net { net: IpNet::from(address.ip()), port: Some(address.port()) });
        }
    }

    /// The resolved addresses of a name already allowed by
    /// [`check_target`](Self::check_target) that may be used: those an
    /// address rule allows, and any address that is not loopback, private,
    /// link-local or otherwise internal. A name resolving only to forbidden
    /// addresses is denied.
    pub fn filter_resolved(
        &self,
        name: &str,
        addresses: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Denied> {
        let kept: Vec<SocketAddr> = addresses
            .iter()
            .copied()
            .filter(|address| self.allows_ip(address.ip()) || is_public(address.ip()))
            .collect();
        if kept.is_empty() {
            let shown: Vec<String> =
                addresses.iter().map(|address| address.ip().to_string()).collect();
            return Err(Denied(format!("{name} (resolves to {})", shown.join(", "))));
        }
        Ok(kept)
    }

    /// Whether an address rule covers `ip` on any port (the port was
    /// checked with the name).
    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.rules.iter().any(|rule| matches!(rule, Rule::Net { net, .. } if net.contains(&ip)))
    }

    /// Whether an address rule covers all of `net` on `port`.
    pub fn covers_network(&self, net: IpNet, port: u16) -> bool {
        self.rules.iter().any(|rule| match rule {
            Rule::Net { net: allowed, port: wanted } => {
                port_matches(*wanted, port) && allowed.contains(&net)
            }
            Rule::Name { .. } => false,
        })
    }

    /// Splits an `--allow-host` pattern into its host (name, address or
    /// network) and optional port.
    pub fn split_pattern(pattern: &str) -> Result<(&str, Option<u16>)> {
        split_pattern(pattern)
    }

    fn allows_address(&self, ip: IpAddr, port: u16) -> bool {
        self.rules.iter().any(|rule| match rule {
            Rule::Net { net, port: wanted } => port_matches(*wanted, port) && net.contains(&ip),
            Rule::Name { .. } => false,
        })
    }
}

/// `host[:port]`, `[v6]:port`, `net/len`; ports must be numbers.
fn split_pattern(pattern: &str) -> Result<(&str, Option<u16>)> {
    if let Some(rest) = pattern.strip_prefix('[') {
        let (host, port) = rest.split_once(']').unwrap_or((rest, ""));
        let port = port.strip_prefix(':').map(str::parse).transpose();
        return Ok((
            host,
            port.map_err(|_| anyhow::anyhow!("bad port in --allow-host {pattern}"))?,
        ));
    }
    match pattern.rsplit_once(':') {
        // An IPv6 address or network without brackets has several colons.
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => Ok((host, Some(port))),
            Err(_) => bail!("bad port in --allow-host {pattern}"),
        },
        _ => Ok((pattern, None)),
    }
}

fn rule(host: &str, port: Option<u16>) -> Result<Rule> {
    if host.is_empty() {
        bail!("an allowed host needs a name or an address");
    }
    if let Ok(net) = host.parse::<IpNet>() {
        return Ok(Rule::Net { net, port });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Rule::Net { net: IpNet::from(ip), port });
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    if name.contains('*') || name.contains('/') {
        bail!("`{host}` is not a host name, *.domain, address or network");
    }
    Ok(Rule::Name { pattern: host.to_ascii_lowercase(), port })
}

fn port_matches(wanted: Option<u16>, port: u16) -> bool {
    wanted.is_none_or(|wanted| wanted == port)
}

fn name_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => {
            host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1)
        }
        None => pattern == host,
    }
}

/// Whether `ip` is on the public internet, as opposed to this machine,
/// private networks, link-local (cloud metadata) and other special ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(target: Option<&str>, patterns: &[&str]) -> NetworkPolicy {
        let target = target.map(|t| url::Url::parse(t).unwrap());
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        NetworkPolicy::new(target.as_ref(), &patterns).unwrap()
    }

    #[test]
    fn only_the_target_is_allowed_by_default() {
        let only_target = policy(Some("http://127.0.0.1:8080"), &[]);
        assert!(only_target.check_target("127.0.0.1", 8080).is_ok());
        assert!(only_target.check_target("127.0.0.1", 8081).is_err());
        assert!(only_target.check_target("10.0.0.1", 8080).is_err());
        let named = policy(Some("https://api.example.test"), &[]);
        assert!(named.check_target("API.example.test", 443).is_ok());
        assert!(named.check_target("api.example.test", 80).is_err());
        assert!(policy(None, &[]).check_target("127.0.0.1", 80).is_err());
    }

    #[test]
    fn patterns_cover_wildcards_networks_and_ports() {
        let allowed =
            policy(None, &["*.example.test", "10.0.0.0/8", "db.internal:5432", "[::1]:9000"]);
        assert!(allowed.check_target("a.example.test", 443).is_ok());
        assert!(allowed.check_target("a.b.example.test", 80).is_ok());
        assert!(allowed.check_target("example.test", 80).is_err());
        assert!(allowed.check_target("badexample.test", 80).is_err());
        assert!(allowed.check_target("10.1.2.3", 1).is_ok());
        assert!(allowed.check_target("11.1.2.3", 1).is_err());
        assert!(allowed.check_target("db.internal", 5432).is_ok());
        assert!(allowed.check_target("db.internal", 5433).is_err());
        assert!(allowed.check_target("[::1]", 9000).is_ok());
        assert!(allowed.check_target("::1", 9001).is_err());
    }

    #[test]
    fn names_may_not_resolve_to_internal_addresses() {
        let allowed = policy(None, &["*.example.test", "192.168.1.0/24"]);
        let resolved =
            |ips: &[&str]| ips.iter().map(|ip| SocketAddr::new(ip.parse().unwrap(), 80)).collect();
        assert!(allowed.filter_resolved("a.example.test", resolved(&["93.184.216.34"])).is_ok());
        for internal in ["127.0.0.1", "10.0.0.5", "169.254.169.254", "0.0.0.0", "::1", "fd00::1"] {
            let denied = allowed.filter_resolved("a.example.test", resolved(&[internal]));
            assert!(denied.is_err(), "{internal} was let through");
        }
        // Unless the address itself is allowed; forbidden ones are dropped.
        assert_eq!(
            allowed
                .filter_resolved("a.example.test", resolved(&["127.0.0.1", "192.168.1.7"]))
                .unwrap(),
            resolved(&["192.168.1.7"]) as Vec<SocketAddr>
        );
    }

    #[test]
    fn bad_patterns_are_refused() {
        for pattern in ["", "a*b.test", "host:port", "*.x/8"] {
            assert!(NetworkPolicy::new(None, &[pattern.to_owned()]).is_err(), "{pattern}");
        }
    }
}
