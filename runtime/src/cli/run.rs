//! `wasmload run`: load the component, start the run (here, as a worker
//! of a split test, or as the collector of worker processes), show it
//! live, stop it on signals, print and write its results.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cli::{LiveArgs, LocalArgs, OutputArgs, Processes, RunArgs};
use crate::engine::UserComponent;
use crate::limits;
use crate::report;
use crate::report::thresholds::Verdict;
use crate::run::{self, BadInput, Finished, RunHandle, RunLog, RunSetting, RunSpec, Segment};
use crate::split::{self, Collector, Worker, WorkerCommand};
use crate::stats::Summary;

/// How long worker processes may take to load and plan their segments.
const WORKERS_READY: Duration = Duration::from_secs(300);

/// Runs the load test `args` describes and writes its reports.
pub async fn run(args: RunArgs) -> Result<()> {
    // Listen first, so a signal during loading stops the run, not the process.
    let stops = Stops::new(args.spec.stop_timeout);
    let path = args.component.clone().ok_or_else(|| {
        BadInput(anyhow::anyhow!(
            "no component to run: give its .wasm path, or `component = \"PATH\"` in wasmload.toml"
        ))
    })?;
    if let Some(ips) = &args.local_ips {
        ips.check().map_err(|error| BadInput(anyhow::anyhow!("--local-ips: {error}")))?;
    }
    if args.spec.guest.insecure && args.split.collector.is_none() {
        eprintln!("wasmload: --insecure: TLS certificates are not verified for any protocol");
    }
    let asked = run::asked_users(&args.spec);
    let processes = match args.split.processes {
        Some(Processes::Count(count)) => count,
        Some(Processes::Auto) => split::processes_for(asked),
        None if args.split.segment.is_none() => {
            let needed = split::processes_for(asked);
            if needed > 1 {
                eprintln!(
                    "wasmload: {asked} users are more than one process holds here ({} with its \
                     open files and vm.max_map_count); running {needed} worker processes (--processes)",
                    limits::users_per_process()
                );
            }
            needed
        }
        None => 1,
    };
    if processes > 1 {
        return coordinate(args, &path, processes, stops).await;
    }
    let segment = args.split.segment.unwrap_or(Segment::WHOLE);
    let users = segment.share_of_users(asked);
    limits::check_map_count(users, limits::MAPS_PER_USER)
        .map_err(|error| BadInput(error.into()))?;
    if let Some(warning) = limits::raise_open_files(users) {
        eprintln!("{warning}");
    }
    let spec = args.spec;
    // Whether the component has a shape is not known before it loads.
    let capacity = segment.share_of_users(run::capacity(&spec, true)).saturating_add(1);
    let component = load(&path, capacity, &spec, &args.local)?;
    let setting = RunSetting {
        name: path.display().to_string(),
        log: RunLog::stderr(),
        ca_files: args.local.ca_cert.clone(),
        trust_host_addresses: true,
        segment,
        local_ips: args.local_ips.clone().unwrap_or_default(),
    };
    let test = split::test_id(&spec, &component);
    let mut prepared = run::prepare(Arc::new(component), spec, setting).await?;
    // Before a segment says it is ready, so the start instant finds its users
    // made. A stop meanwhile drops them; the run then starts stopped.
    tokio::select! {
        _ = prepared.make_users() => {}
        () = stops.stop.cancelled() => {}
    }
    let Some(collector) = args.split.collector else {
        let finished = follow(prepared.start(), &args.live, &stops).await?;
        return report_finished(&finished, &args.outputs);
    };
    let worker = Worker::new(collector, segment, RunLog::stderr(), &args.local.ca_cert)?;
    let start_at = tokio::select! {
        start_at = worker.ready(test) => start_at?,
        () = stops.stop.cancelled() => bail!("segment {segment}: stopped before the test started"),
    };
    if let Ok(wait) = start_at.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let handle = prepared.start();
    stops.forward(&handle);
    let finished = worker.report(handle, &stops.stop).await?;
    // The collector judges the test; a worker only shows its own share.
    write_outputs(&finished.summary, &args.outputs)
}

/// Loads the component at `path` with a pool of `capacity` instances.
fn load(path: &Path, capacity: u32, spec: &RunSpec, local: &LocalArgs) -> Result<UserComponent> {
    UserComponent::load_file(
        path,
        capacity,
        spec.guest.max_memory,
        local.compile_cache().as_deref(),
    )
    .map_err(|error| BadInput(error).into())
}

/// Runs the test as `processes` worker processes of this binary, one
/// segment each, and shows and reports them here as one run.
async fn coordinate(args: RunArgs, path: &Path, processes: u32, stops: Stops) -> Result<()> {
    let local_flags = local_flags(&args)?;
    let mut spec = args.spec;
    // One seed for every segment, so each user draws what it would alone.
    spec.guest.seed.get_or_insert_with(|| fastrand::u64(..));
    // Check the component and the options here, once, with a clear error;
    // the workers then load it from the compile cache.
    let component = load(path, 2, &spec, &args.local)?;
    let test = split::test_id(&spec, &component);
    let setting = RunSetting {
        name: path.display().to_string(),
        log: RunLog::stderr(),
        ca_files: args.local.ca_cert.clone(),
        trust_host_addresses: true,
        segment: Segment { index: 0, total: processes },
        local_ips: args.local_ips.clone().unwrap_or_default(),
    };
    drop(run::prepare(Arc::new(component), spec.clone(), setting).await?);
    let scratch = Scratch::new()?;
    let config = scratch.0.join("wasmload.toml");
    std::fs::write(&config, split::spec_file(&spec)?)
        .with_context(|| format!("cannot write {}", config.display()))?;
    let command = WorkerCommand { component: split::absolute(path)?, config, local_flags };
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let collector = Arc::new(Collector::bind(loopback, processes, Some(test)).await?);
    let log = RunLog::stderr();
    let workers = split::spawn(&command, processes, &collector, &log)?;
    eprintln!("wasmload: {processes} worker processes, one segment each");
    collector.wait_for_segments(WORKERS_READY, &stops.stop, &log).await?;
    let handle = collector.start().await?;
    let finished = follow(handle, &args.live, &stops).await?;
    // Workers exit once their summaries are in; wait a little, then end them.
    let exits = all_exited(workers);
    let _ = tokio::time::timeout(Duration::from_secs(10), exits).await;
    report_finished(&finished, &args.outputs)
}

async fn all_exited(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}

/// The flags about this machine (its files, its addresses), for a worker
/// to get the same.
fn local_flags(args: &RunArgs) -> Result<Vec<String>> {
    let local = &args.local;
    let mut flags = Vec::new();
    for file in &local.ca_cert {
        flags.push(format!("--ca-cert={}", split::absolute(file)?.display()));
    }
    if let Some(ips) = &args.local_ips {
        flags.push(format!("--local-ips={ips}"));
    }
    match local.compile_cache() {
        Some(dir) => flags.push(format!("--cache-dir={}", split::absolute(&dir)?.display())),
        None => flags.push("--no-cache".to_owned()),
    }
    Ok(flags)
}

/// A directory of this process's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!(
            "wasmload-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        // Only this user may read it: the spec may hold secrets (-e).
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Shows a started run live (and to Prometheus, as `live` asks), passes
/// signals on to it, and gives how it ended.
pub(crate) async fn follow(handle: RunHandle, live: &LiveArgs, stops: &Stops) -> Result<Finished> {
    let watch = handle.watch();
    stops.forward(&handle);
    let live_done = CancellationToken::new();
    let view = tokio::spawn(report::live::show(watch.subscribe(), live_done.clone()));
    let pushes: Vec<_> = live
        .out
        .iter()
        .map(|url| {
            report::remote_write::push_every(
                url.clone(),
                watch.clone(),
                RunLog::stderr(),
                live_done.clone(),
            )
        })
        .collect();
    let metrics = match live.metrics_addr {
        Some(addr) => {
            let served = report::prometheus::serve(addr, watch.clone(), live_done.clone());
            match served.await {
                Ok(served) => Some(served),
                Err(error) => {
                    watch.kill();
                    let _ = handle.finish().await;
                    live_done.cancel();
                    return Err(BadInput(error).into());
                }
            }
        }
        None => None,
    };
    let finished = handle.finish().await;
    live_done.cancel();
    let _ = view.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    for push in pushes {
        let _ = push.await;
    }
    finished
}

/// Ctrl-C and SIGTERM: the first stops gracefully, a second at once.
pub(crate) struct Stops {
    pub(crate) stop: CancellationToken,
    kill: CancellationToken,
}

impl Stops {
    /// Listens for signals from now on; `grace` is what the first one
    /// gives running tasks, as it says.
    pub(crate) fn new(grace: Duration) -> Stops {
        let (stop, kill) = (CancellationToken::new(), CancellationToken::new());
        tokio::spawn(signals::stop_on_signals(stop.clone(), kill.clone(), grace));
        Stops { stop, kill }
    }

    /// Passes the signals on to a started run.
    fn forward(&self, handle: &RunHandle) {
        signals::forward(self.stop.clone(), self.kill.clone(), handle.watch());
    }
}

/// Prints the table and the thresholds and writes the requested files:
/// what `run` and `submit` show when a run ends.
pub fn report_finished(finished: &Finished, outputs: &OutputArgs) -> Result<()> {
    write_outputs(&finished.summary, outputs)?;
    print_thresholds(finished.verdicts());
    finished.check()
}

/// Prints the summary's table and writes the files `outputs` ask for.
pub fn write_outputs(summary: &Summary, outputs: &OutputArgs) -> Result<()> {
    print!("{}", report::table::render(summary));
    if let Some(path) = &outputs.json {
        report::json::write(summary, path)?;
    }
    if let Some(prefix) = &outputs.csv {
        report::csv::write(summary, prefix)?;
    }
    if let Some(path) = &outputs.html {
        report::html::write(summary, path)?;
    }
    if let Some(path) = &outputs.junit {
        report::junit::write(summary, path)?;
    }
    Ok(())
}

/// How each threshold fared, after the table.
pub fn print_thresholds(verdicts: &[Verdict]) {
    if verdicts.is_empty() {
        return;
    }
    println!("\nThresholds");
    for verdict in verdicts {
        println!("  {} {}", if verdict.held { "held  " } else { "FAILED" }, verdict.line);
    }
}

mod signals {
    use tokio_util::sync::CancellationToken;

    use crate::run::RunWatch;

    /// Passes the signal handler's stop and kill on to the run.
    pub fn forward(stop: CancellationToken, kill: CancellationToken, watch: RunWatch) {
        tokio::spawn(async move {
            stop.cancelled().await;
            watch.stop();
            kill.cancelled().await;
            watch.kill();
        });
    }

    /// The first Ctrl-C or SIGTERM stops the run gracefully (`stop`); a
    /// second one stops it at once (`kill`). Either way the results are
    /// written.
    pub async fn stop_on_signals(
        stop: CancellationToken,
        kill: CancellationToken,
        grace: std::time::Duration,
    ) {
        for (first, token) in [(true, &stop), (false, &kill)] {
            tokio::select! {
                _ = next_signal() => {}
                _ = token.cancelled() => {}
            }
            if token.is_cancelled() {
                continue;
            }
            if first {
                let grace = humantime::format_duration(grace);
                eprintln!("wasmload: stopping; running tasks have {grace} to finish (interrupt again to stop now)");
            } else {
                eprintln!("wasmload: stopping now; writing what was gathered");
            }
            token.cancel();
        }
    }

    /// Waits for the next Ctrl-C or SIGTERM.
    async fn next_signal() {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                _ => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
