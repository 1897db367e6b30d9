//! `wasmload run`: load the component, drive the users, report.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

use crate::cli::{GuestArgs, RunArgs};
use crate::engine::UserComponent;
use crate::limits;
use crate::protocols::context::ContextConfig;
use crate::protocols::grpc::GrpcConfig;
use crate::protocols::http::HttpConfig;
use crate::protocols::tcp::TcpConfig;
use crate::protocols::tls;
use crate::protocols::udp::UdpConfig;
use crate::report;
use crate::report::live::Goal;
use crate::report::thresholds::Threshold;
use crate::sandbox::{NetworkPolicy, Sandbox};
use crate::scheduler::{
    self, ClassPlan, LoadPlan, Model, PoolPlan, Progress, RateLoad, RatePlan, Shape, ShapeModel,
    StageUnit, TagFilter, UserLoad,
};
use crate::stats::{History, Recorder, Summary};
use crate::user::{RunServices, VirtualUser};

/// The run completed, but these many `--threshold`s failed.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} thresholds failed")]
pub struct ThresholdsFailed {
    pub failed: usize,
    pub total: usize,
}

/// Input the user can fix: a bad flag value, file or component.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BadInput(#[from] pub anyhow::Error);

/// Runs the load test `args` describes and writes its reports.
pub async fn run(args: RunArgs) -> Result<()> {
    // Listen first, so a signal during loading stops the run, not the process.
    let (stop, kill) = (CancellationToken::new(), CancellationToken::new());
    tokio::spawn(stop_on_signals(stop.clone(), kill.clone(), args.stop_timeout));
    let path = args.component.clone().ok_or_else(|| {
        BadInput(anyhow::anyhow!(
            "no component to run: give its .wasm path, or `component = \"PATH\"` in wasmload.toml"
        ))
    })?;
    let shown = path.display().to_string();
    let sandbox = Arc::new(sandbox(&args.guest).await?);
    let asked = asked_users(&args);
    limits::check_map_count(asked).map_err(|error| BadInput(error.into()))?;
    if let Some(warning) = limits::raise_open_files(asked) {
        eprintln!("{warning}");
    }
    let component = UserComponent::load(
        &path,
        capacity(&args),
        sandbox.max_memory,
        args.guest.compile_cache().as_deref(),
    )
    .map_err(BadInput)?;
    sandbox
        .check_imports(component.imports().iter().map(String::as_str))
        .with_context(|| format!("{shown} cannot run"))
        .map_err(BadInput)?;
    let component = Arc::new(component);
    let recorder = Recorder::new();
    let services = services(&args.guest, sandbox, recorder.clone())?;
    let filter = TagFilter { include: args.tags.clone(), exclude: args.exclude_tags.clone() };
    let (scratch, described) = describe(&component, &services)
        .await
        .with_context(|| format!("{shown}: describe() failed"))
        .map_err(BadInput)?;
    let classes = scheduler::plan_classes(described, &filter)
        .with_context(|| format!("{shown} cannot run"))
        .map_err(BadInput)?;
    let shape = Shape::detect(scratch)
        .await
        .with_context(|| format!("{shown}: shape() failed"))
        .map_err(BadInput)?;
    let plan = load_plan(&args, shape, &classes).map_err(BadInput)?;
    if let Model::Open(_) = plan.model {
        recorder.correct_for_omission();
    }

    let progress = Arc::new(Progress::default());
    let live_done = CancellationToken::new();
    let goal = match (plan.run_time, plan.iterations) {
        (Some(run_time), _) => Goal::Time(run_time),
        (None, Some(iterations)) => Goal::Iterations(iterations),
        (None, None) => Goal::Unbounded,
    };
    let live = tokio::spawn(report::live::show(
        recorder.clone(),
        Arc::clone(&progress),
        goal,
        live_done.clone(),
    ));
    let metrics = match args.metrics_addr {
        Some(addr) => {
            let served = report::prometheus::serve(
                addr,
                recorder.clone(),
                Arc::clone(&progress),
                live_done.clone(),
            );
            Some(served.await.map_err(BadInput)?)
        }
        None => None,
    };
    if args.abort_on_threshold && !args.threshold.is_empty() {
        let watch = watch_thresholds(
            args.threshold.clone(),
            recorder.clone(),
            Arc::clone(&progress),
            stop.clone(),
        );
        tokio::spawn(watch);
    }
    let sampler = tokio::spawn(sample_history(
        recorder.clone(),
        Arc::clone(&progress),
        live_done.clone(),
        args.csv_full_history,
    ));
    let outcome =
        scheduler::run(component, services, classes, plan, Arc::clone(&progress), stop, kill).await;
    live_done.cancel();
    let _ = live.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }

    let mut summary =
        Summary::new(&recorder.snapshot(), progress.peak(), progress.restarts(), outcome.duration)?;
    summary.dropped_iterations = progress.dropped();
    summary.all_users_started_s = progress.all_started_after().map(|after| after.as_secs_f64());
    summary.history = sampler.await.map(History::into_rows).unwrap_or_default();
    print!("{}", report::table::render(&summary));
    if let Some(path) = &args.json {
        report::json::write(&summary, path)?;
    }
    if let Some(prefix) = &args.csv {
        report::csv::write(&summary, prefix)?;
    }
    if let Some(path) = &args.html {
        report::html::write(&summary, path)?;
    }
    check_thresholds(&args.threshold, &summary)
}

/// The most users the run may have at once, to size the instance pool: a
/// shape, unknown until the component is loaded, may ask for up to
/// `--max-users`.
fn capacity(args: &RunArgs) -> u32 {
    max_users(args).max(asked_users(args)).saturating_add(1)
}

/// The most users the flags ask for by name (`-u`, `--max-users`, user
/// stages): what the kernel's limits must allow. Unlike [`capacity`], no
/// default ceiling, whose slots cost address space but no maps or files
/// until used.
fn asked_users(args: &RunArgs) -> u32 {
    let stage_users = match &args.stages {
        Some(stages) if stages.unit == StageUnit::Users => stages.peak().round() as u32,
        _ => 0,
    };
    args.users.unwrap_or(1).max(args.max_users.unwrap_or(0)).max(stage_users)
}

/// `--max-users`, by default `-u` but at least 1,000.
fn max_users(args: &RunArgs) -> u32 {
    args.max_users.unwrap_or_else(|| args.users.unwrap_or(1).max(DEFAULT_MAX_USERS))
}

/// The ceiling of the open model and of shapes when `--max-users` is not given.
const DEFAULT_MAX_USERS: u32 = 1000;

/// The model and load the flags and the component's shape ask for.
fn load_plan(args: &RunArgs, shape: Option<Shape>, classes: &[ClassPlan]) -> Result<LoadPlan> {
    let users = args.users.unwrap_or(1);
    let max_users = max_users(args);
    let mut run_time = args.run_time;
    let model = match (shape, args.rate, &args.stages) {
        (Some(shape), rate, stages) => {
            if rate.is_some() || stages.is_some() || args.spawn_rate.is_some() {
                bail!("the component's load shape sets the load; drop --rate, --stages and -r");
            }
            match shape.model() {
                ShapeModel::Closed if args.users.is_some() => {
                    bail!("the component's load shape sets the users; drop -u")
                }
                ShapeModel::Closed => Model::Closed(UserLoad::Shaped(shape)),
                ShapeModel::Open => Model::Open(RateLoad::Shaped(shape)),
            }
        }
        (None, Some(rate), _) => Model::Open(RateLoad::Planned(RatePlan::constant(rate))),
        (None, None, Some(stages)) => {
            run_time = Some(stages.total());
            match stages.unit {
                StageUnit::Rate => Model::Open(RateLoad::Planned(RatePlan::ramps(stages))),
                StageUnit::Users if args.users.is_some() => {
                    bail!("--stages gives the user counts; drop -u (or write rates like 10/s)")
                }
                StageUnit::Users => Model::Closed(UserLoad::Stages(stages.clone())),
            }
        }
        (None, None, None) => Model::Closed(UserLoad::Fixed {
            users,
            spawn_rate: args.spawn_rate.unwrap_or(f64::INFINITY),
        }),
    };
    if let Model::Open(_) = model {
        if users > max_users {
            bail!("-u {users} is above --max-users {max_users}");
        }
        if classes.iter().all(|class| class.weight == 0) {
            bail!("the open model deals iterations by class weight, and every class has weight 0");
        }
    }
    Ok(LoadPlan {
        model,
        max_users,
        pool: PoolPlan { preallocated: users, max_delay: args.max_delay },
        run_time,
        iterations: args.iterations,
        stop_timeout: args.stop_timeout,
    })
}

/// Samples the run every second until `done`, then once more.
async fn sample_history(
    recorder: Recorder,
    progress: Arc<Progress>,
    done: CancellationToken,
    full: bool,
) -> History {
    let mut history = History::new(full);
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => history.sample(recorder.snapshot(), progress.running()),
            _ = done.cancelled() => break,
        }
    }
    history.sample(recorder.snapshot(), progress.running());
    history
}

/// Stops the run when a threshold fails on the results so far, checking
/// every second after a 5 s warm-up (rates and percentiles of the first
/// seconds say little).
async fn watch_thresholds(
    thresholds: Vec<Threshold>,
    recorder: Recorder,
    progress: Arc<Progress>,
    stop: CancellationToken,
) {
    const WARM_UP: std::time::Duration = std::time::Duration::from_secs(5);
    let started = std::time::Instant::now();
    let mut ticks =
        tokio::time::interval_at((started + WARM_UP).into(), std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.cancelled() => return,
        }
        let Ok(summary) = Summary::new(&recorder.snapshot(), progress.peak(), 0, started.elapsed())
        else {
            continue;
        };
        if let Some(failed) =
            thresholds.iter().map(|t| t.check(&summary)).find(|verdict| !verdict.held)
        {
            eprintln!("wasmload: threshold failed during the run ({}); stopping", failed.line);
            stop.cancel();
            return;
        }
    }
}

/// Prints how each `--threshold` fared; an error if any failed.
fn check_thresholds(thresholds: &[Threshold], summary: &Summary) -> Result<()> {
    if thresholds.is_empty() {
        return Ok(());
    }
    println!("\nThresholds");
    let mut failed = 0;
    for threshold in thresholds {
        let verdict = threshold.check(summary);
        failed += usize::from(!verdict.held);
        println!("  {} {}", if verdict.held { "held  " } else { "FAILED" }, verdict.line);
    }
    if failed > 0 {
        return Err(ThresholdsFailed { failed, total: thresholds.len() }.into());
    }
    Ok(())
}

/// The guest policy the flags ask for. A `--host` name is resolved once
/// here, so the addresses it has now are allowed even if internal.
pub async fn sandbox(guest: &GuestArgs) -> Result<Sandbox> {
    let mut network = NetworkPolicy::new(guest.host.as_ref(), &guest.allow_host)
        .context("bad --allow-host")
        .map_err(BadInput)?;
    if let Some(url) = &guest.host {
        let host = url.host_str().unwrap_or_default();
        if let (Some(port), Ok(found)) =
            (url.port_or_known_default(), tokio::net::lookup_host((host, 0)).await)
        {
            network.allow_addresses(found.map(|address| SocketAddr::new(address.ip(), port)));
        }
    }
    Ok(Sandbox {
        allowed_imports: guest.allow_import.clone(),
        max_memory: guest.max_memory,
        task_timeout: guest.task_timeout,
        network: Arc::new(network),
        max_body: guest.max_body,
    })
}

/// The run-wide services users are built from.
pub fn services(
    guest: &GuestArgs,
    sandbox: Arc<Sandbox>,
    recorder: Recorder,
) -> Result<RunServices> {
    let tls = tls::client_config(&guest.ca_cert).map_err(BadInput)?;
    let host = guest.host.as_ref().map(|url| url.as_str().to_owned());
    Ok(RunServices {
        recorder,
        http: Arc::new(HttpConfig::new(guest.host.clone(), guest.timeout, tls.clone(), &sandbox)),
        grpc: Arc::new(GrpcConfig {
            default_endpoint: host.as_deref().map(|host| host.trim_end_matches('/').to_owned()),
            default_timeout: guest.timeout,
            tls: tls.clone(),
            network: Arc::clone(&sandbox.network),
        }),
        tcp: Arc::new(TcpConfig {
            default_timeout: guest.timeout,
            tls: TlsConnector::from(Arc::new(tls)),
            network: Arc::clone(&sandbox.network),
        }),
        udp: Arc::new(UdpConfig {
            default_timeout: guest.timeout,
            network: Arc::clone(&sandbox.network),
        }),
        sandbox,
        context: Arc::new(ContextConfig {
            host,
            params: guest.param_map(),
            seed: guest.seed.unwrap_or_else(|| fastrand::u64(..)),
            log_level: guest.loglevel.into(),
            started: std::time::Instant::now(),
        }),
    })
}

/// The classes the component offers, from a scratch instance (returned
/// too: it goes on to answer for the load shape).
pub(crate) async fn describe(
    component: &UserComponent,
    services: &RunServices,
) -> Result<(VirtualUser, Vec<crate::bindings::UserClass>)> {
    let mut scratch = VirtualUser::new(component, services, u64::MAX).await?;
    let classes = scratch.describe().await?;
    Ok((scratch, classes))
}

/// The first Ctrl-C or SIGTERM stops the run gracefully (`stop`); a second
/// one stops it at once (`kill`). Either way the results are written.
async fn stop_on_signals(
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
