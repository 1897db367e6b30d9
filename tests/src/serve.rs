//! A real `wasmload serve` process, and a small client of its API.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The admin token every test server is started with.
pub const ADMIN: &str = "test-admin-token";

/// A `wasmload serve` on a free loopback port; killed when dropped.
pub struct ServeProcess {
    child: Child,
    exe: PathBuf,
    data: PathBuf,
    flags: Vec<String>,
    url: String,
}

/// An answer of the API.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The refusal's reason, `{"error": REASON}`.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

impl ServeProcess {
    /// Starts `wasmload serve` (the binary at `exe`) with a fresh data
    /// directory and `flags`, and waits until it answers.
    pub fn start(exe: &Path, flags: &[&str]) -> ServeProcess {
        let data = std::env::temp_dir().join(format!(
            "wasmload-serve-{}-{}",
            std::process::id(),
            fastrand_id()
        ));
        let flags: Vec<String> = flags.iter().map(|flag| (*flag).to_owned()).collect();
        Self::start_on(exe, &data, flags, "127.0.0.1:0")
    }

    fn start_on(exe: &Path, data: &Path, flags: Vec<String>, listen: &str) -> ServeProcess {
        let (child, url) = Self::spawn(exe, data, &flags, listen);
        let server = ServeProcess { child, exe: exe.to_owned(), data: data.to_owned(), flags, url };
        server.wait_until_it_answers();
        server
    }

    /// Starts the process; returns it with the URL it listens on.
    fn spawn(exe: &Path, data: &Path, flags: &[String], listen: &str) -> (Child, String) {
        let mut child = Command::new(exe)
            .args(["serve", "--listen", listen, "--data"])
            .arg(data)
            .args(flags)
            .env("WASMLOAD_ADMIN_TOKEN", ADMIN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting wasmload serve");
        let stdout = child.stdout.take().expect("serve's stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().and_then(Result::ok).unwrap_or_else(|| {
                let status = child.wait().expect("waiting for wasmload serve");
                panic!("wasmload serve ended ({status}) before it listened")
            });
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().expect("an address").to_owned();
            }
        };
        // Keep reading stdout so the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        (child, url)
    }

    fn wait_until_it_answers(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.call("GET", "/v1/health", None, None).status != 200 {
            assert!(Instant::now() < deadline, "wasmload serve did not answer within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the server keeps its data.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Kills the server with `signal` (e.g. `KILL`, `TERM`), waits for it to
    /// end, and starts it again on the same data directory and port.
    pub fn restart_after(&mut self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -{signal} failed");
        let _ = self.child.wait();
        let listen = self.url.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        // The port is free again once the old process is gone.
        loop {
            if std::net::TcpListener::bind(&listen).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "the old server's port stayed taken");
            std::thread::sleep(Duration::from_millis(50));
        }
        (self.child, self.url) = Self::spawn(&self.exe, &self.data, &self.flags, &listen);
        self.wait_until_it_answers();
    }

    /// Resident memory of the server, in KiB (from /proc).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    }

    /// Calls the API: `token` as the bearer, `body` as (content type, bytes).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let url = format!("{}{path}", self.url);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = match body {
            Some((content_type, bytes)) => {
                let request =
                    request.header("content-type", content_type).body(bytes).expect("a request");
                agent.run(request)
            }
            None => agent.run(request.body(()).expect("a request")),
        };
        let mut response = match response {
            Ok(response) => response,
            Err(error) => return Answer { status: 0, body: Value::Null, text: error.to_string() },
        };
        let status = response.status().as_u16();
        let text =
            response.body_mut().with_config().limit(256 << 20).read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    /// Calls the API with a JSON body.
    pub fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).expect("JSON");
        self.call(method, path, token, Some(("application/json", bytes)))
    }

    /// Makes a tenant with these quotas; returns its token.
    pub fn tenant(&self, name: &str, quotas: Value) -> String {
        let made = self.json(
            "POST",
            "/v1/tenants",
            Some(ADMIN),
            &serde_json::json!({"name": name, "quotas": quotas}),
        );
        assert_eq!(made.status, 201, "making tenant {name}: {}", made.text);
        made.body["token"].as_str().expect("a token").to_owned()
    }

    /// Uploads the component at `path` for `token`'s tenant; returns its digest.
    pub fn upload(&self, token: Option<&str>, path: &Path) -> String {
        let bytes = std::fs::read(path).expect("reading a component");
        let uploaded =
            self.call("POST", "/v1/components", token, Some(("application/wasm", bytes)));
        assert!(
            matches!(uploaded.status, 200 | 201),
            "uploading {}: {}",
            path.display(),
            uploaded.text
        );
        uploaded.body["digest"].as_str().expect("a digest").to_owned()
    }

    /// Starts a run; returns its id.
    pub fn start_run(&self, token: Option<&str>, run: Value) -> String {
        let made = self.json("POST", "/v1/runs", token, &run);
        assert_eq!(made.status, 201, "starting {run}: {}", made.text);
        made.body["id"].as_str().expect("a run id").to_owned()
    }

    /// Waits until run `id` has ended (at most `limit`); returns its view.
    pub fn wait_for_end(&self, token: Option<&str>, id: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let run = self.call("GET", &format!("/v1/runs/{id}"), token, None);
            let state = run.body["state"].as_str().unwrap_or_default().to_owned();
            if !matches!(state.as_str(), "queued" | "running" | "") {
                return run.body;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} still {state} after {limit:?}: {}",
                run.text
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The run's summary, `report.json`.
    pub fn summary(&self, token: Option<&str>, id: &str) -> Value {
        let report = self.call("GET", &format!("/v1/runs/{id}/report.json"), token, None);
        assert_eq!(report.status, 200, "report of {id}: {}", report.text);
        report.body
    }

    /// The events of the run's live view until its `end`: (event, data).
    pub fn live_events(&self, token: Option<&str>, id: &str) -> Vec<(String, Value)> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .new_agent();
        let mut request = agent.get(format!("{}/v1/runs/{id}/live", self.url));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut response = request.call().expect("the live view");
        let mut reader = BufReader::new(response.body_mut().as_reader());
        let mut events = Vec::new();
        let (mut kind, mut data) = (String::new(), String::new());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let text = line.trim_end().to_owned();
            line.clear();
            if let Some(name) = text.strip_prefix("event:") {
                kind = name.trim().to_owned();
            } else if let Some(value) = text.strip_prefix("data:") {
                data.push_str(value.trim_start());
            } else if text.is_empty() && !kind.is_empty() {
                let value = serde_json::from_str(&data).unwrap_or(Value::Null);
                let ended = kind == "end";
                events.push((std::mem::take(&mut kind), value));
                data.clear();
                if ended {
                    break;
                }
            }
        }
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        events
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn fastrand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}
