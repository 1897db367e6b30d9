//! TCP and UDP echo servers on 127.0.0.1 that count what they echo.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A TCP echo server and a UDP echo server; both stop when dropped.
pub struct EchoServers {
    tcp: SocketAddr,
    udp: SocketAddr,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    tcp_connections: AtomicU64,
    udp_datagrams: AtomicU64,
    stopped: AtomicBool,
}

impl EchoServers {
    /// Starts both servers on free ports, each on its own thread.
    pub fn start() -> EchoServers {
        let counts = Arc::new(Counts::default());
        let tcp = TcpListener::bind("127.0.0.1:0").expect("binding the TCP echo port");
        let udp = UdpSocket::bind("127.0.0.1:0").expect("binding the UDP echo port");
        let addresses =
            (tcp.local_addr().expect("tcp address"), udp.local_addr().expect("udp address"));
        tcp.set_nonblocking(true).expect("a non-blocking listener");
        udp.set_read_timeout(Some(Duration::from_millis(50))).expect("a read timeout");
        let tcp_counts = Arc::clone(&counts);
        std::thread::spawn(move || accept_tcp(tcp, &tcp_counts));
        let udp_counts = Arc::clone(&counts);
        std::thread::spawn(move || echo_udp(udp, &udp_counts));
        EchoServers { tcp: addresses.0, udp: addresses.1, counts }
    }

    /// `127.0.0.1:PORT` of the TCP echo server.
    pub fn tcp_address(&self) -> String {
        self.tcp.to_string()
    }

    /// `127.0.0.1:PORT` of the UDP echo server.
    pub fn udp_address(&self) -> String {
        self.udp.to_string()
    }

    /// TCP connections accepted so far.
    pub fn tcp_connections(&self) -> u64 {
        self.counts.tcp_connections.load(Ordering::Relaxed)
    }

    /// TCP connections accepted, read once `expected` have been or after
    /// 10 s: a connection the kernel completed may wait in the backlog for
    /// the accept loop after its client has gone (a user that connected in
    /// `on-start`, then found no iteration left or sent only datagrams).
    pub fn tcp_connections_when(&self, expected: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.tcp_connections() < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.tcp_connections()
    }

    /// UDP datagrams echoed so far.
    pub fn udp_datagrams(&self) -> u64 {
        self.counts.udp_datagrams.load(Ordering::Relaxed)
    }
}

impl Drop for EchoServers {
    fn drop(&mut self) {
        self.counts.stopped.store(true, Ordering::Relaxed);
    }
}

fn accept_tcp(listener: TcpListener, counts: &Counts) {
    while !counts.stopped.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                counts.tcp_connections.fetch_add(1, Ordering::Relaxed);
                std::thread::spawn(move || echo_tcp(stream));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn echo_tcp(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let mut buffer = [0; 8192];
    while let Ok(read) = stream.read(&mut buffer) {
        if read == 0 || stream.write_all(&buffer[..read]).is_err() {
            return;
        }
    }
}

fn echo_udp(socket: UdpSocket, counts: &Counts) {
    let mut buffer = [0; 65_535];
    while !counts.stopped.load(Ordering::Relaxed) {
        if let Ok((read, peer)) = socket.recv_from(&mut buffer) {
            counts.udp_datagrams.fetch_add(1, Ordering::Relaxed);
            let _ = socket.send_to(&buffer[..read], peer);
        }
    }
}
