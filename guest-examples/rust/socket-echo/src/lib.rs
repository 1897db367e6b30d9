//! Talks to echo servers over TCP and UDP with the request helpers, which
//! the host times as one event per exchange.
//!
//! Parameters: `-e TCP=host:port -e UDP=host:port`.

use wasmload_sdk::prelude::*;

struct Echoer {
    tcp: tcp::Connection,
    udp: udp::Socket,
}

impl User for Echoer {
    fn class() -> Class<Self> {
        Class::new("echoer")
            .task(Task::new("tcp line", Self::tcp_line))
            .task(Task::new("udp datagram", Self::udp_datagram))
    }

    fn on_start() -> Result<Self> {
        let tcp_address = context::param("TCP").ok_or("set -e TCP=host:port")?;
        let udp_address = context::param("UDP").ok_or("set -e UDP=host:port")?;
        Ok(Echoer { tcp: tcp::connect(&tcp_address)?, udp: udp::connect(&udp_address)? })
    }
}

impl Echoer {
    fn tcp_line(&mut self) -> Result<()> {
        let line = format!("hello from user {}\n", context::user_id());
        let echoed = self.tcp.request("echo line", line.as_bytes(), b"\n")?;
        ensure(echoed == line.as_bytes(), "TCP echo differs")
    }

    fn udp_datagram(&mut self) -> Result<()> {
        let echoed = self.udp.request("echo datagram", b"ping")?;
        ensure(echoed == b"ping", "UDP echo differs")
    }
}

wasmload_sdk::users!(Echoer);
