//! Command-line flags, their parsing and checking.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::bindings::context::Level;
use crate::report::thresholds::Threshold;
use crate::scheduler::Stages;
use crate::starter::Language;

/// Load testing where each virtual user is a WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "wasmload", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test with the users of a component.
    Run(Box<RunArgs>),
    /// Show a component's user classes, tasks and the imports it asks for.
    Inspect(Box<InspectArgs>),
    /// Rebuild the table and report files from a saved JSON summary.
    Report(ReportArgs),
    /// Merge JSON summaries of runs made side by side (histograms added exactly).
    Merge(MergeArgs),
    /// Make a starter project for a user in Rust, C, Zig, Python or JavaScript.
    New(NewArgs),
}

/// Flags of `wasmload new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The language of the user.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: Language,
    /// The project's directory, created; its last part names the project.
    pub name: PathBuf,
}

/// Flags of `wasmload run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The user component (.wasm, built for the `wasmload:user/user` world);
    /// may come from the config file instead.
    pub component: Option<PathBuf>,

    /// Read options from this TOML file [default: wasmload.toml, if present].
    /// Flags and WASMLOAD_* variables override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Closed model: concurrent users [default: 1]. Open model: users made
    /// before the first iteration.
    #[arg(short = 'u', long, value_parser = clap::value_parser!(u32).range(1..))]
    pub users: Option<u32>,

    /// Closed model: users started per second [default: all at once].
    #[arg(short = 'r', long, value_parser = parse_spawn_rate, conflicts_with_all = ["stages", "rate"])]
    pub spawn_rate: Option<f64>,

    /// Open model: start iterations at this rate whatever the response
    /// times, e.g. 500, 500/s, 30/m.
    #[arg(long, value_parser = parse_rate, conflicts_with = "stages")]
    pub rate: Option<f64>,

    /// Open model (and shapes): the most users at once [default: -u, at least 1000].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_users: Option<u32>,

    /// Open model: how long a due iteration may wait for a busy user
    /// before it counts as dropped (0s: drop at once, like k6).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub max_delay: Duration,

    /// Ramp linearly from 0 through targets: users (30s:100,2m:100,30s:0)
    /// or, for the open model, rates (30s:50/s,1m:50/s). The run time is
    /// their sum.
    #[arg(long, value_parser = Stages::parse, conflicts_with = "run_time")]
    pub stages: Option<Stages>,

    /// Stop after this long, e.g. 30s, 5m, 1h30m [default: run until stopped].
    #[arg(short = 't', long, value_parser = parse_duration)]
    pub run_time: Option<Duration>,

    /// Stop after this many tasks in all (every user together).
    #[arg(short = 'i', long, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: Option<u64>,

    /// Once the run stops, how long running tasks may take to finish.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub stop_timeout: Duration,

    /// Run only tasks with at least one of these tags (comma-separated).
    #[arg(short = 'T', long, value_delimiter = ',')]
    pub tags: Vec<String>,

    /// Never run tasks with any of these tags (comma-separated).
    #[arg(short = 'E', long, value_delimiter = ',')]
    pub exclude_tags: Vec<String>,

    /// Write the summary (stats, histograms, failures) as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write Locust-compatible PREFIX_stats.csv, PREFIX_failures.csv and
    /// PREFIX_stats_history.csv.
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<String>,

    /// Write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,

    /// Also give every (type, name) a row per second in the history, not only Aggregated.
    #[arg(long)]
    pub csv_full_history: bool,

    /// Serve live Prometheus metrics on this address, e.g. 127.0.0.1:9464 (path /metrics).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// A pass criterion `[TYPE NAME:] METRIC OP VALUE`, e.g. 'p95<300ms' or
    /// 'GET /login: fail_ratio<1%'; metrics p50 p90 p95 p99 max avg fail_ratio rps.
    /// Any that fails makes the exit code 99. Repeatable.
    #[arg(long, value_name = "EXPR", value_parser = Threshold::parse)]
    pub threshold: Vec<Threshold>,

    /// Check the thresholds every second once the run is 5 s old, and stop
    /// the run (exit code 99) as soon as one fails.
    #[arg(long)]
    pub abort_on_threshold: bool,

    #[command(flatten)]
    pub guest: GuestArgs,
}

/// Flags of `wasmload inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to inspect.
    pub component: PathBuf,

    #[command(flatten)]
    pub guest: GuestArgs,
}

/// Flags of `wasmload report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A summary written with `--json`.
    pub summary: PathBuf,

    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Flags of `wasmload merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Summaries written with `--json`, at least two.
    #[arg(required = true, num_args = 2..)]
    pub summaries: Vec<PathBuf>,

    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Report files to write from a summary.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the (merged) summary as JSON to this file.
    #[arg(short = 'o', long = "json", value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write Locust-compatible CSVs with this prefix.
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<String>,

    /// Write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

/// What every guest instance is given: target, parameters, limits, grants.
#[derive(Debug, Args)]
pub struct GuestArgs {
    /// The target: base URL for relative HTTP paths (http://127.0.0.1:8080), or
    /// any scheme://host:port a guest reads with `context::host`.
    #[arg(short = 'H', long, value_parser = parse_host)]
    pub host: Option<Url>,

    /// Also allow connecting to these (besides --host): a name, *.domain, an
    /// address, a network like 10.0.0.0/8, each with an optional :port; repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub allow_host: Vec<String>,

    /// Also trust the CA certificates in this PEM file for TLS; repeatable.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,

    /// Timeout of one request (HTTP, gRPC, sockets) when the guest gives none.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// A run parameter the guest reads with `param(KEY)`; repeatable.
    #[arg(short = 'e', long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,

    /// Largest linear memory one user may grow to, e.g. 64MiB; past it the user traps.
    #[arg(long, default_value = "64MiB", value_parser = crate::sandbox::parse_size)]
    pub max_memory: usize,

    /// Largest HTTP response body read, e.g. 64MiB; a larger one fails the request.
    #[arg(long, default_value = "64MiB", value_parser = crate::sandbox::parse_size)]
    pub max_body: usize,

    /// Longest a task (or on-start / on-stop) may run before it is interrupted.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub task_timeout: Duration,

    /// Grant imports beyond the defaults, by prefix (e.g. wasi:keyvalue); repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub allow_import: Vec<String>,

    /// Seed of the users' random generators [default: random].
    #[arg(long)]
    pub seed: Option<u64>,

    /// Keep compiled components here, so the next run of the same .wasm
    /// skips compiling [default: $XDG_CACHE_HOME/wasmload or ~/.cache/wasmload].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile the component afresh and keep nothing on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,

    /// Lowest level of guest log lines that are printed.
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    pub loglevel: LogLevel,
}

/// Guest log levels, lowest first.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl From<LogLevel> for Level {
    fn from(level: LogLevel) -> Level {
        match level {
            LogLevel::Debug => Level::Debug,
            LogLevel::Info => Level::Info,
            LogLevel::Warn => Level::Warn,
            LogLevel::Error => Level::Error,
        }
    }
}

impl GuestArgs {
    /// Where compiled components are kept, if anywhere.
    pub fn compile_cache(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("wasmload"))
    }

    /// `-e` parameters as a map; a later KEY wins.
    pub fn param_map(&self) -> HashMap<String, String> {
        self.params.iter().cloned().collect()
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration like 30s, 5m or 1h30m ({e})"))?;
    Ok(duration)
}

fn parse_spawn_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(rate),
        _ => Err(format!("`{text}` is not a positive number of users per second")),
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    crate::scheduler::parse_rate(text, false)
}

fn parse_host(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{text}` has no host; give scheme://host[:port]"));
    }
    Ok(url)
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_locust_style_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn hosts_must_be_urls_with_a_host() {
        assert!(parse_host("http://127.0.0.1:8080").is_ok());
        assert!(parse_host("tcp://127.0.0.1:6379").is_ok());
        assert!(parse_host("http://").is_err());
        assert!(parse_host("127.0.0.1:8080").is_err());
    }

    #[test]
    fn params_split_on_the_first_equals() {
        assert_eq!(parse_param("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(parse_param("=x").is_err());
        assert!(parse_param("novalue").is_err());
    }
}
