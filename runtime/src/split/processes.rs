//! `run --processes N`: N workers of this very binary on this machine,
//! one segment each, reporting to a collector on loopback. Each worker's
//! messages come out on this process's stderr with its segment in front;
//! a worker that exits without its summary is declared lost, by index.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::Collector;
use crate::run::RunLog;

/// The longest line of a worker's messages passed on, in characters.
const MAX_LINE: usize = 4096;

/// What every worker is started with besides its segment.
pub struct WorkerCommand {
    /// The component, as an absolute path.
    pub component: PathBuf,
    /// The spec as a `wasmload.toml` file, which the workers read.
    pub config: PathBuf,
    /// Flags about this machine: CA files, the compile cache.
    pub local_flags: Vec<String>,
}

/// Starts `total` workers reporting to `collector`; each is watched until
/// it exits and killed if this process drops the returned handles first.
pub fn spawn(
    command: &WorkerCommand,
    total: u32,
    collector: &Arc<Collector>,
    log: &RunLog,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let program = std::env::current_exe().context("cannot find the wasmload binary to start")?;
    let url = format!("http://{}/", collector.address());
    // The workers share this machine's cores: more threads than cores only
    // switch between each other (measured: a third of the time at 100,000
    // users in 9 workers on 2 cores went to context switches).
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = (cores / total as usize).max(1);
    let mut watchers = Vec::new();
    for index in 0..total {
        let mut worker = Command::new(&program);
        worker
            .arg("run")
            .arg(&command.component)
            .arg(format!("--config={}", command.config.display()))
            .args(&command.local_flags)
            .arg(format!("--segment={index}/{total}"))
            .arg(format!("--collector={url}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // The spec is all in the file: no variable may change it.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WASMLOAD_") {
                worker.env_remove(name);
            }
        }
        worker.env("TOKIO_WORKER_THREADS", threads.to_string());
        let mut child = worker
            .spawn()
            .with_context(|| format!("cannot start worker {index} ({})", program.display()))?;
        let stderr = child.stderr.take();
        let (collector, log) = (Arc::clone(collector), log.clone());
        watchers.push(tokio::spawn(async move {
            if let Some(stderr) = stderr {
                // Read to the end whatever comes: a worker writing to a
                // closed pipe would die of it.
                let mut reader = BufReader::new(stderr);
                let mut line = Vec::new();
                while let Ok(read) = reader.read_until(b'\n', &mut line).await {
                    if read == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&line);
                    let text: String = text.trim_end().chars().take(MAX_LINE).collect();
                    let text = text.strip_prefix("wasmload: ").unwrap_or(&text);
                    log.line(&format!("wasmload: [segment {index}/{total}] {text}"));
                    line.clear();
                }
            }
            let exit = match child.wait().await {
                Ok(status) => describe_exit(status),
                Err(error) => format!("could not be waited for ({error})"),
            };
            collector.lose(index, format!("worker {index} {exit} before it sent its summary"));
        }));
    }
    Ok(watchers)
}

/// "exited with code 1", "was killed by signal 9 (SIGKILL)".
fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                2 => " (SIGINT)",
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "exited".to_owned(),
    }
}

/// `path` as an absolute path, for a worker started elsewhere.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
