//! A real nginx on a free loopback port that answers every request with a
//! short body and logs each one, so a test can count what it served.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx (Debian's `nginx-light`; `scripts/test-tools.sh`
/// installs it); stopped and its directory removed when dropped.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    /// Starts nginx in the foreground with `workers` worker processes on an
    /// address of loopback (`127.0.0.1`, or another 127.x for a test of
    /// source addresses), and waits until it accepts connections.
    pub fn start(workers: u32) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("wasmload-nginx-{}-{port}", std::process::id()));
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
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ return 200 \"hello world\\n\"; }}
  }}
}}
",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("writing nginx.conf");
        let child = Command::new("nginx")
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
        let server = Nginx { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
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
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
