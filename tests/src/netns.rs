//! A private network of Linux network namespaces, for tests of what runs
//! as many machines (the pods of a Kubernetes Job): each host has a
//! namespace of its own, so it listens on the ports a manifest names
//! (`0.0.0.0:8090` in three hosts at once), one address on a bridge shared
//! with the others, and its own `/etc/hosts`, so it reaches the others by
//! the names a manifest uses.
//!
//! The bridge is in a namespace of its own too, so nothing is added to
//! the machine's own network: two networks with the same addresses never
//! meet, and tests running side by side cannot clash. Needs root and
//! iproute2 (`ip netns`).

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The namespaces of one network; all deleted when dropped. Drop the
/// processes running in them first: a namespace lives on, nameless, until
/// its last process ends.
pub struct Network {
    prefix: String,
    bridge: String,
    hosts: Vec<String>,
}

/// One host of a [`Network`].
#[derive(Debug, Clone)]
pub struct Host {
    namespace: String,
    address: Ipv4Addr,
}

impl Network {
    /// A network without hosts yet: a namespace holding a bridge.
    pub fn new() -> Network {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let prefix =
            format!("wasmload-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let bridge = format!("{prefix}-bridge");
        let network = Network { prefix, bridge: bridge.clone(), hosts: Vec::new() };
        ip(&["netns", "add", &bridge]);
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge, "link", "set", "br0", "up"]);
        network
    }

    /// Adds host `name` with `address` (on a /24 with the other hosts)
    /// and an `/etc/hosts` that maps each of `names` to its address.
    pub fn host(&mut self, name: &str, address: Ipv4Addr, names: &[(&str, Ipv4Addr)]) -> Host {
        let namespace = format!("{}-{name}", self.prefix);
        ip(&["netns", "add", &namespace]);
        self.hosts.push(namespace.clone());
        // Both ends are made in their namespaces, never in the machine's.
        let port = format!("port{}", self.hosts.len());
        let bridge = &self.bridge;
        ip(&[
            "link", "add", "eth0", "netns", &namespace, "type", "veth", "peer", "name", &port,
            "netns", bridge,
        ]);
        ip(&["-n", &self.bridge, "link", "set", &port, "master", "br0", "up"]);
        ip(&["-n", &namespace, "addr", "add", &format!("{address}/24"), "dev", "eth0"]);
        ip(&["-n", &namespace, "link", "set", "eth0", "up"]);
        ip(&["-n", &namespace, "link", "set", "lo", "up"]);
        // `ip netns exec` lays the files of /etc/netns/NAME/ over /etc/.
        let mut hosts = format!("127.0.0.1 localhost\n{address} {name}\n");
        for (name, address) in names {
            hosts.push_str(&format!("{address} {name}\n"));
        }
        std::fs::create_dir_all(etc(&namespace)).expect("creating /etc/netns/NAME");
        std::fs::write(etc(&namespace).join("hosts"), hosts)
            .expect("writing the host's hosts file");
        Host { namespace, address }
    }
}

impl Default for Network {
    fn default() -> Network {
        Network::new()
    }
}

impl Host {
    /// The host's address on the bridge.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// A command running `program` inside this host: its network, its
    /// `/etc/hosts`. `ip netns exec` execs `program`, so the child's id is
    /// the program's.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.namespace]).arg(program);
        command
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for namespace in self.hosts.iter().chain([&self.bridge]) {
            let _ = Command::new("ip").args(["netns", "del", namespace]).status();
            let _ = std::fs::remove_dir_all(etc(namespace));
        }
        // Only if no other network's files are left in it.
        let _ = std::fs::remove_dir("/etc/netns");
    }
}

fn etc(namespace: &str) -> PathBuf {
    PathBuf::from("/etc/netns").join(namespace)
}

/// Runs `ip ARGS`; panics with its error, saying what the tests need.
fn ip(args: &[&str]) {
    let output = Command::new("ip").args(args).output().unwrap_or_else(|error| {
        panic!("cannot run `ip` ({error}): install iproute2 (scripts/test-tools.sh)")
    });
    assert!(
        output.status.success(),
        "`ip {}` failed: {} (network namespaces need root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}
