//! Debian's Prometheus, unpacked by `scripts/test-tools.sh`: a real HTTP API
//! to query, that receives remote write and counts its own requests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::runner::{get_json, get_text, tool};

/// A running Prometheus on a free port with an empty configuration; stopped
/// (and its data removed) when dropped.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    dir: PathBuf,
}

impl Prometheus {
    /// Starts it, accepting remote write, and waits for its API.
    pub fn start() -> Prometheus {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("wasmload-prometheus-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let child = Command::new(tool("prometheus/usr/bin/prometheus"))
            .arg("--config.file=/dev/null")
            .arg(format!("--storage.tsdb.path={}", dir.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while get_json(&format!("{url}/api/v1/status/buildinfo")).is_none() {
            assert!(Instant::now() < deadline, "prometheus did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Prometheus { child, url, dir }
    }

    /// The value of the instant query `query` (URL-encoded), if it has one.
    pub fn value(&self, query: &str) -> Option<f64> {
        let answer = get_json(&format!("{}/api/v1/query?query={query}", self.url))?;
        answer["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }

    /// How many requests Prometheus answered on `handler` with status
    /// `code`, by its own `prometheus_http_requests_total` (read from
    /// `/metrics`, which counts only under its own handler).
    pub fn requests_served(&self, handler: &str, code: u16) -> u64 {
        let metrics = get_text(&format!("{}/metrics", self.url)).expect("prometheus's /metrics");
        let series =
            format!("prometheus_http_requests_total{{code=\"{code}\",handler=\"{handler}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&series))
            .map_or(0, |value| value.trim().parse().expect("a counter"))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
