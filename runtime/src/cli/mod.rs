//! The command line: every command's flags, and the commands themselves,
//! each a thin client of the library (a run is [`crate::run`]'s).

pub mod collect;
pub mod config;
pub mod inspect;
pub mod new;
pub mod run;
pub mod saved;
pub mod submit;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::run::{GuestSpec, RunSpec};
use new::Language;

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
    /// Compare a run with an earlier one (JSON summaries): what got slower or
    /// failed more, from the exact histograms; exit code 99 if anything did.
    Compare(CompareArgs),
    /// Make a starter project for a user in Rust, C, Zig, Python, JavaScript or Go.
    New(NewArgs),
    /// Serve many tenants' load tests: a JSON API, a web UI, SQLite storage.
    Serve(ServeArgs),
    /// Run a load test on a `wasmload serve` server, shown and reported here.
    Submit(Box<SubmitArgs>),
    /// Gather the segments of a test run on many machines (`run --segment
    /// I/N --collector URL`): one start, one merged result, one exit code.
    Collect(Box<CollectArgs>),
}

/// Flags of `wasmload collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// How many segments make the test: every one must report.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub segments: u32,

    /// Address the workers report to.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: std::net::SocketAddr,

    /// How long to wait for every segment to be ready, e.g. 5m.
    #[arg(long, default_value = "5m", value_parser = crate::run::spec::parse_duration)]
    pub ready_timeout: std::time::Duration,

    #[command(flatten)]
    pub outputs: OutputArgs,

    #[command(flatten)]
    pub live: LiveArgs,
}

/// Where a run's figures go while it runs.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Serve live Prometheus metrics on this address, e.g. 127.0.0.1:9464 (path /metrics).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,

    /// Push live figures elsewhere every 5 s: prometheus-rw=URL (a
    /// Prometheus remote-write receiver, e.g. http://prometheus:9090/api/v1/write); repeatable.
    #[arg(long, value_name = "KIND=URL", value_parser = crate::report::remote_write::parse_output)]
    pub out: Vec<url::Url>,
}

/// Flags of `wasmload serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; on loopback with no tenants made, requests
    /// without a token act for a local tenant.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: std::net::SocketAddr,

    /// Where the database (SQLite), components and compiled code are kept.
    #[arg(long, default_value = "./wasmload-data")]
    pub data: PathBuf,

    /// Users every run together may have at once [default: 10,000, or
    /// fewer if vm.max_map_count allows fewer].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_users: Option<u32>,

    /// Largest linear memory any user may have, e.g. 64MiB (tenants'
    /// max-memory quotas stay within it).
    #[arg(long, default_value = "64MiB", value_parser = crate::sandbox::parse_size)]
    pub max_memory: usize,
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

    #[command(flatten)]
    pub spec: RunSpec,

    #[command(flatten)]
    pub outputs: OutputArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    /// Spread users' connections over these local addresses, user by user:
    /// addresses, ranges and networks, e.g. 127.0.0.1-127.0.0.8,10.0.1.0/28
    /// (one address has about 28,000 ports to reach one target with).
    #[arg(long, value_name = "IPS", value_parser = crate::run::LocalIps::parse)]
    pub local_ips: Option<crate::run::LocalIps>,

    #[command(flatten)]
    pub split: SplitArgs,

    #[command(flatten)]
    pub local: LocalArgs,
}

/// How a run is split over processes or machines.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// Run the test in N worker processes, one segment each, shown and
    /// reported here as one; `auto`: as many as the users need [default:
    /// 1, or as many as the users need when one process cannot hold them].
    #[arg(long, value_name = "N|auto", value_parser = parse_processes, conflicts_with = "segment")]
    pub processes: Option<Processes>,

    /// Run only segment I of N of the test (I from 0, as Kubernetes'
    /// JOB_COMPLETION_INDEX): every Nth user and iteration, N segments
    /// together being exactly the whole test.
    #[arg(long, value_name = "I/N", value_parser = crate::run::Segment::parse)]
    pub segment: Option<crate::run::Segment>,

    /// Report the segment to this collector (`wasmload collect`) and start
    /// when it says every segment is ready.
    #[arg(long, value_name = "URL", requires = "segment")]
    pub collector: Option<url::Url>,
}

/// `--processes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processes {
    /// As many as the users need.
    Auto,
    Count(u32),
}

fn parse_processes(text: &str) -> Result<Processes, String> {
    match text {
        "auto" => Ok(Processes::Auto),
        _ => match text.parse::<u32>() {
            Ok(count) if count >= 1 => Ok(Processes::Count(count)),
            _ => Err(format!("`{text}` is not a number of processes (1 or more) or `auto`")),
        },
    }
}

/// Flags of `wasmload submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The user component (.wasm) to upload and run.
    pub component: PathBuf,

    /// The `wasmload serve` server, e.g. http://loadtest.internal:8089.
    #[arg(long, env = "WASMLOAD_SERVER")]
    pub server: url::Url,

    /// A tenant's token [default: none, for a server on loopback with no tenants].
    #[arg(long, env = "WASMLOAD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Also trust the CA certificates in this PEM file for an https server; repeatable.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,

    #[command(flatten)]
    pub spec: RunSpec,

    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Options that name files of the machine the command runs on.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Also trust the CA certificates in this PEM file for TLS; repeatable.
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Vec<PathBuf>,

    /// Keep compiled components here, so the next run of the same .wasm
    /// skips compiling [default: $XDG_CACHE_HOME/wasmload or ~/.cache/wasmload].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Compile the component afresh and keep nothing on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

/// Flags of `wasmload inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component (.wasm) to inspect.
    pub component: PathBuf,

    #[command(flatten)]
    pub guest: GuestSpec,

    #[command(flatten)]
    pub local: LocalArgs,
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

/// Flags of `wasmload compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run's summary (`--json` of run, merge, collect or submit,
    /// or a server's report.json).
    pub base: PathBuf,

    /// The run to judge against it.
    pub new: PathBuf,

    /// How much a percentile (p50, p90, p95, p99) may grow before it counts
    /// as worse, e.g. 10% or 0.1.
    #[arg(long, default_value = "10%", value_parser = parse_fraction)]
    pub max_regression: f64,

    /// A percentile may always grow this much, e.g. 1ms: runs of one target
    /// differ by that anyway.
    #[arg(long, default_value = "1ms", value_parser = crate::run::spec::parse_duration)]
    pub min_change: std::time::Duration,

    /// How much the failure ratio may grow, in points, e.g. 1% or 0.01.
    #[arg(long, default_value = "1%", value_parser = parse_fraction)]
    pub max_failure_increase: f64,

    /// Also write the new run's HTML report with the comparison in it.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

/// `10%` or `0.1`: a fraction, at least 0.
fn parse_fraction(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value >= 0.0 && value.is_finite() => Ok(value / scale),
        _ => Err(format!("`{text}` is not a fraction like 10% or 0.1")),
    }
}

/// Report files to write from a summary, besides the table.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the summary (stats, histograms, failures) as JSON to this file.
    #[arg(short = 'o', long = "json", value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Write the CSV files Locust 2.47 writes: PREFIX_stats.csv,
    /// PREFIX_stats_history.csv, PREFIX_failures.csv, PREFIX_exceptions.csv
    /// (and PREFIX_run.csv).
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<String>,

    /// Write a self-contained HTML report with charts to this file.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,

    /// Write the thresholds' verdicts as a JUnit XML report to this file
    /// (a test case per threshold), for CI to show.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

impl LocalArgs {
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
}
