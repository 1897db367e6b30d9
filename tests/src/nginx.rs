//! A real nginx that answers every request with a short body and logs
//! each one, so a test can count what it served: on a free loopback port,
//! or on any address, e.g. inside a network namespace.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A running nginx (Debian's `nginx-light`; `scripts/test-tools.sh`
/// installs it); stopped and its directory removed when dropped.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    address: SocketAddr,
}

impl Nginx {
    /// Starts nginx in the foreground with `workers` worker processes on a
    /// free port of `127.0.0.1`, and waits until it accepts connections.
    pub fn start(workers: u32) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let server = Nginx::start_on(([127, 0, 0, 1], port).into(), workers, Command::new("nginx"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts `nginx` (a command naming the program, e.g. one that runs it
    /// in a network namespace: [`crate::netns::Host::command`]) with
    /// `workers` worker processes, listening on `address`, which must be
    /// an address of that namespace. Returns once nginx has bound the
    /// address (it writes its pid file only then), without connecting,
    /// since the caller's namespace may have no route to it.
    pub fn start_on(address: SocketAddr, workers: u32, mut nginx: Command) -> Nginx {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wasmload-nginx-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("nginx's directory");
        let config = format!(
            "worker_processes {workers};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 16384; }}
http {{
  log_format counted '$request_method $uri $remote_addr';
  access_log {dir}/access.log counted;
  client_body_temp_path {dir}/body;
  keepalive_requests 1000000;
  server {{
    listen {address} backlog=4096;
    location / {{ return 200 \"hello world\\n\"; }}
  }}
}}
",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("writing nginx.conf");
        let child = nginx
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is not installed: run scripts/test-tools.sh (Debian's nginx-light)");
        let mut server = Nginx { child, dir, address };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.dir.join("nginx.pid").exists() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(server.dir.join("error.log")).unwrap_or_default();
                panic!("nginx on {address} ended ({status}) before it listened: {log}");
            }
            assert!(Instant::now() < deadline, "nginx did not listen on {address} within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `http://ADDRESS:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Requests of `method` for `path` in the access log. nginx writes each
    /// line as its request ends, so count after the load has stopped.
    pub fn count(&self, method: &str, path: &str) -> u64 {
        self.log_lines().filter(|line| line.starts_with(&format!("{method} {path} "))).count()
            as u64
    }

    /// Requests from each client address, as (address, count).
    pub fn by_client(&self) -> std::collections::HashMap<String, u64> {
        let mut counts = std::collections::HashMap::new();
        for line in self.log_lines() {
            if let Some(address) = line.rsplit(' ').next() {
                *counts.entry(address.to_owned()).or_default() += 1;
            }
        }
        counts
    }

    fn log_lines(&self) -> impl Iterator<Item = String> {
        let log = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        log.lines().map(str::to_owned).collect::<Vec<_>>().into_iter()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM: the master stops its workers before it exits. A killed
        // master would leave them running, and holding the port.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
