//! Runs the `wasmload` binary and reads what it produced.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

/// What one `wasmload` run produced.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `--json` summary, when the run wrote one.
    pub summary: Option<Value>,
}

impl Outcome {
    /// The summary; panics with the run's stderr when there is none.
    pub fn summary(&self) -> &Value {
        self.summary.as_ref().unwrap_or_else(|| panic!("no JSON summary; stderr:\n{}", self.stderr))
    }

    /// The summary row of (type, name), if any.
    pub fn row(&self, kind: &str, name: &str) -> Option<&Value> {
        self.summary()["requests"]
            .as_array()?
            .iter()
            .find(|row| row["type"] == kind && row["name"] == name)
    }

    /// Requests recorded for (type, name); 0 when there is no row.
    pub fn count(&self, kind: &str, name: &str) -> u64 {
        self.row(kind, name).map_or(0, |row| row["count"].as_u64().unwrap_or(0))
    }

    /// Failures recorded for (type, name); 0 when there is no row.
    pub fn failures(&self, kind: &str, name: &str) -> u64 {
        self.row(kind, name).map_or(0, |row| row["failures"].as_u64().unwrap_or(0))
    }
}

/// Runs `wasmload run` (the binary at `exe`) on the guest component
/// `guest` (its crate name) against `host`, with `flags` split on
/// whitespace, e.g. `"-u 4 -i 100"`.
pub fn run_guest(exe: &Path, guest: &str, host: &str, flags: &str) -> Outcome {
    run_component(exe, &crate::guest(guest), host, flags)
}

/// Like [`run_guest`], for the component at `component`.
pub fn run_component(exe: &Path, component: &Path, host: &str, flags: &str) -> Outcome {
    let mut args = vec!["run", component.to_str().expect("a UTF-8 path"), "--host", host];
    args.extend(flags.split_whitespace());
    run_wasmload(exe, &args)
}

/// Runs `wasmload` (the binary at `exe`) with `args`, adding `--json` to a
/// temporary file for `run`, and collects everything it produced.
pub fn run_wasmload(exe: &Path, args: &[&str]) -> Outcome {
    run(exe, args, &[], &Setting::default())
}

/// Like [`run_wasmload`], but sends each signal (e.g. `TERM`) to the run
/// after waiting its delay.
pub fn run_wasmload_signalled(exe: &Path, args: &[&str], signals: &[(Duration, &str)]) -> Outcome {
    run(exe, args, signals, &Setting::default())
}

/// Where and with which extra environment variables a run starts.
#[derive(Debug, Default)]
pub struct Setting<'a> {
    /// The working directory [default: the test's].
    pub dir: Option<&'a Path>,
    pub env: &'a [(&'a str, &'a str)],
}

/// Like [`run_wasmload`], in a working directory and environment of its own.
pub fn run_wasmload_in(exe: &Path, args: &[&str], setting: &Setting<'_>) -> Outcome {
    run(exe, args, &[], setting)
}

fn run(exe: &Path, args: &[&str], signals: &[(Duration, &str)], setting: &Setting<'_>) -> Outcome {
    let dir = std::env::temp_dir().join(format!(
        "wasmload-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("creating a temporary directory");
    let json = dir.join("summary.json");
    let mut command = Command::new(exe);
    command.args(args).envs(setting.env.iter().copied());
    if let Some(dir) = setting.dir {
        command.current_dir(dir);
    }
    if args.first() == Some(&"run") {
        command.arg("--json").arg(&json);
    }
    let child =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting wasmload");
    for (delay, signal) in signals {
        std::thread::sleep(*delay);
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -{signal} failed");
    }
    let output = child.wait_with_output().expect("waiting for wasmload");
    let summary = std::fs::read_to_string(&json)
        .ok()
        .map(|text| serde_json::from_str(&text).expect("the summary is valid JSON"));
    let _ = std::fs::remove_dir_all(&dir);
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        summary,
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// GETs `url` and reads its JSON answer; `None` while nothing answers there.
pub fn get_json(url: &str) -> Option<Value> {
    serde_json::from_str(&get_text(url)?).ok()
}

/// GETs `url` and reads its answer as text; `None` unless it answers 2xx.
pub fn get_text(url: &str) -> Option<String> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    agent.get(url).call().ok()?.body_mut().read_to_string().ok()
}

/// A tool `scripts/test-tools.sh` installed under `$WASMLOAD_TOOLS`
/// (default `~/.cache/wasmload-tools`); a missing one fails the test
/// naming the script.
pub fn tool(path: &str) -> PathBuf {
    let tools = std::env::var_os("WASMLOAD_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/wasmload-tools")
    });
    let tool = tools.join(path);
    assert!(tool.exists(), "{} is missing: run scripts/test-tools.sh", tool.display());
    tool
}

/// Starts a Python server from `script`, which prints its port as its
/// first line; returns the process (the caller kills it) and the port.
pub fn python_server(script: &str, what: &str) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed for {what}: {e}"));
    let stdout = child.stdout.take().expect("the server's stdout");
    let mut first_line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first_line).expect("the server's port");
    let port = first_line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{what} printed no port: {first_line:?}"));
    (child, port)
}
