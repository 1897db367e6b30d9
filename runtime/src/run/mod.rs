//! The run as a value: a [`RunSpec`] and a loaded component in, a
//! [`RunHandle`] out, to stop, watch and await. `wasmload run`, `serve`
//! and `submit` are clients of this; none of them schedules users,
//! gathers stats or judges thresholds itself.

mod component;
mod live;
mod log;
pub mod spec;

pub use crate::scheduler::Segment;
pub use component::{inspect_component, ClassInfo, ComponentInfo, TaskInfo};
pub use live::{Goal, LiveRow, LiveSnapshot};
pub use log::RunLog;
pub use spec::{BadOption, GuestSpec, LogLevel, RunSpec};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::UserComponent;
pub use crate::protocols::connect::LocalIps;
use crate::protocols::{tls, ProtocolConfigs, RunSetup};
use crate::report::thresholds::{Threshold, Verdict};
use crate::sandbox::{NetworkPolicy, RunBudget, Sandbox};
use crate::scheduler::{
    self, ClassPlan, Instances, LoadPlan, Model, PoolPlan, Progress, RateLoad, RatePlan, Shape,
    ShapeModel, StageUnit, Stages, TagFilter, UserLoad,
};
use crate::stats::{History, HistoryRow, Recorder, RunInfo, Shard, Summary};
use crate::sync::lock;
use crate::user::{RunServices, VirtualUser};

/// The run completed, but these many thresholds failed.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} thresholds failed")]
pub struct ThresholdsFailed {
    pub failed: usize,
    pub total: usize,
}

/// A split test ended without some of its segments.
#[derive(Debug, thiserror::Error)]
#[error("{lost} of {total} segments were lost ({first}); the results hold what they sent before")]
pub struct SegmentsLost {
    pub lost: usize,
    pub total: usize,
    /// The first lost segment and why.
    pub first: String,
}

/// Input the user can fix: a bad option, file or component.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BadInput(#[from] pub anyhow::Error);

/// Exit code of a run whose thresholds did not all hold.
pub const EXIT_THRESHOLDS_FAILED: u8 = 99;

/// What a run is started with besides its spec.
#[derive(Debug, Clone)]
pub struct RunSetting {
    /// How messages name the component, e.g. its path.
    pub name: String,
    /// Where the run's own messages go.
    pub log: RunLog,
    /// CA certificates (PEM files) to trust besides the Mozilla roots.
    pub ca_files: Vec<PathBuf>,
    /// Allow the addresses the `host` name resolves to now, even internal
    /// ones: the person who named the host meant it.
    pub trust_host_addresses: bool,
    /// The share of the test this process runs (`--segment`).
    pub segment: Segment,
    /// The local addresses users' connections go out from (`--local-ips`).
    pub local_ips: LocalIps,
}

/// A run checked and planned, ready to start: its component described,
/// its classes and load worked out.
pub struct PreparedRun {
    instances: Instances,
    services: RunServices,
    budget: Arc<RunBudget>,
    classes: Vec<ClassPlan>,
    plan: LoadPlan,
    thresholds: Vec<Threshold>,
    abort_on_threshold: bool,
    full_history: bool,
    goal: Goal,
    info: RunInfo,
}

/// Checks `spec` against `component` and plans the run; every error is
/// [`BadInput`], naming what to fix.
pub async fn prepare(
    component: Arc<UserComponent>,
    spec: RunSpec,
    setting: RunSetting,
) -> Result<PreparedRun> {
    let shown = &setting.name;
    let sandbox =
        Arc::new(sandbox(&spec.guest, setting.trust_host_addresses).await.map_err(BadInput)?);
    sandbox
        .check_imports(component.imports().iter().map(String::as_str))
        .with_context(|| format!("{shown} cannot run"))
        .map_err(BadInput)?;
    let mut budgets = spec.guest.budgets.clone();
    // A run-wide budget is the whole test's: each segment holds its share.
    budgets.max_run_connections =
        budgets.max_run_connections.map(|all| setting.segment.share_of_users(all).max(1));
    let budget = RunBudget::new(budgets, crate::limits::open_files());
    let recorder = Recorder::new(spec.guest.budgets.max_names);
    let services = services(&spec.guest, &setting, sandbox, recorder, Arc::clone(&budget))?;
    let filter = TagFilter { include: spec.tags.clone(), exclude: spec.exclude_tags.clone() };
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
    let plan = load_plan(&spec, shape, &classes, setting.segment).map_err(BadInput)?;
    if let Model::Open(_) = plan.model {
        services.recorder.correct_for_omission();
    }
    let info = RunInfo::starting(shown, component.digest(), &spec, setting.segment.total);
    Ok(PreparedRun {
        info,
        goal: goal(&spec),
        instances: Instances::none(component),
        services,
        budget,
        classes,
        plan,
        thresholds: spec.threshold,
        abort_on_threshold: spec.abort_on_threshold,
        full_history: spec.csv_full_history,
    })
}

impl PreparedRun {
    /// How far the run will go.
    pub fn goal(&self) -> Goal {
        self.goal
    }

    /// Makes the users' instances now, before the run starts (k6's init
    /// stage), where the load has a fixed user count; `start` instantiates
    /// the others at their start. Gives how many were made.
    pub async fn make_users(&mut self) -> usize {
        self.instances.make(&self.services, &self.plan).await;
        self.instances.made()
    }

    /// Starts the users; the run goes on in the background.
    pub fn start(self) -> RunHandle {
        let progress = Arc::new(Progress::default());
        let (watch, publish) = RunWatch::new(
            self.services.recorder.clone(),
            Arc::clone(&progress),
            self.services.log.clone(),
            Arc::clone(&self.budget),
            self.goal,
            self.full_history,
            Instant::now(),
        );
        let (stop, kill) = (watch.0.stop.clone(), watch.0.kill.clone());
        let load = scheduler::run(
            self.instances,
            self.services,
            self.classes,
            self.plan,
            progress,
            stop,
            kill,
        );
        let thresholds = Checks { thresholds: self.thresholds, abort: self.abort_on_threshold };
        RunHandle::launch(
            watch,
            publish,
            thresholds,
            self.info.started_now(),
            load,
            |watch, outcome| watch.summary(outcome.duration),
        )
    }
}

/// The thresholds a run is judged by, and whether a failing one stops it.
pub(crate) struct Checks {
    pub thresholds: Vec<Threshold>,
    pub abort: bool,
}

/// A started run.
pub struct RunHandle {
    watch: RunWatch,
    task: tokio::task::JoinHandle<Result<Finished>>,
}

impl RunHandle {
    /// Samples `watch` every second while `work` goes, then makes the final
    /// summary with `conclude` and judges it: how a local run and a
    /// collector of segments alike become a handle.
    pub(crate) fn launch<W: Send + 'static>(
        watch: RunWatch,
        publish: watch::Sender<Arc<LiveSnapshot>>,
        checks: Checks,
        info: RunInfo,
        work: impl std::future::Future<Output = W> + Send + 'static,
        conclude: impl FnOnce(&RunWatch, W) -> Result<Summary> + Send + 'static,
    ) -> RunHandle {
        let sampling_done = CancellationToken::new();
        let aborting = if checks.abort { checks.thresholds.clone() } else { Vec::new() };
        let sampler = tokio::spawn(sample(watch.clone(), publish, aborting, sampling_done.clone()));
        let watched = watch.clone();
        let task = tokio::spawn(async move {
            let outcome = work.await;
            sampling_done.cancel();
            let stopped_by_threshold = sampler.await.unwrap_or_default();
            let summary = conclude(&watched, outcome)?;
            let mut summary = summary;
            summary.run = Some(info.ended());
            summary.thresholds = checks.thresholds.iter().map(|t| t.check(&summary)).collect();
            Ok(Finished { summary, stopped_by_threshold })
        });
        RunHandle { watch, task }
    }

    /// A view of the run that others may hold while this handle is awaited.
    pub fn watch(&self) -> RunWatch {
        self.watch.clone()
    }

    /// Waits for the run to end and gives its results.
    pub async fn finish(self) -> Result<Finished> {
        self.task.await.context("the run's task failed")?
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The results, with how each threshold fared on them.
    pub summary: Summary,
    /// `abort-on-threshold`: the threshold that stopped the run early.
    pub stopped_by_threshold: Option<String>,
}

impl Finished {
    /// How each threshold fared on the final summary.
    pub fn verdicts(&self) -> &[Verdict] {
        &self.summary.thresholds
    }

    /// 0, or 99 when a threshold failed: what `wasmload run` exits with.
    pub fn exit_code(&self) -> u8 {
        if self.failed_thresholds() > 0 {
            EXIT_THRESHOLDS_FAILED
        } else {
            0
        }
    }

    /// How many thresholds failed.
    pub fn failed_thresholds(&self) -> usize {
        self.verdicts().iter().filter(|verdict| !verdict.held).count()
    }

    /// Ok, or [`SegmentsLost`], or else [`ThresholdsFailed`]: a test
    /// that did not run whole fails whatever its thresholds say.
    pub fn check(&self) -> Result<()> {
        if let Some(first) = self.summary.lost_segments.first() {
            let total = Segment::parse(&first.segment).map_or(0, |segment| segment.total);
            return Err(SegmentsLost {
                lost: self.summary.lost_segments.len(),
                total: total as usize,
                first: format!("segment {}: {}", first.segment, first.reason),
            }
            .into());
        }
        self.check_thresholds()
    }

    /// Ok, or [`ThresholdsFailed`].
    pub fn check_thresholds(&self) -> Result<()> {
        match self.failed_thresholds() {
            0 => Ok(()),
            failed => Err(ThresholdsFailed { failed, total: self.verdicts().len() }.into()),
        }
    }
}

/// A run seen from outside while it goes: stop it, read its newest
/// snapshot, checkpoint its summary. Cheap to clone.
#[derive(Clone)]
pub struct RunWatch(Arc<Watched>);

struct Watched {
    recorder: Recorder,
    progress: Arc<Progress>,
    history: Mutex<History>,
    started: Instant,
    snapshots: watch::Receiver<Arc<LiveSnapshot>>,
    stop: CancellationToken,
    kill: CancellationToken,
    log: RunLog,
    budget: Arc<RunBudget>,
    goal: Goal,
}

impl RunWatch {
    /// The view of a run about to start, and where its snapshots are published.
    pub(crate) fn new(
        recorder: Recorder,
        progress: Arc<Progress>,
        log: RunLog,
        budget: Arc<RunBudget>,
        goal: Goal,
        full_history: bool,
        started: Instant,
    ) -> (RunWatch, watch::Sender<Arc<LiveSnapshot>>) {
        let (publish, snapshots) =
            watch::channel(Arc::new(LiveSnapshot { goal, ..LiveSnapshot::default() }));
        let watched = Watched {
            recorder,
            progress,
            history: Mutex::new(History::new(full_history)),
            started,
            snapshots,
            stop: CancellationToken::new(),
            kill: CancellationToken::new(),
            log,
            budget,
            goal,
        };
        (RunWatch(Arc::new(watched)), publish)
    }

    /// Whether the run has been told to stop at once.
    pub fn killed(&self) -> bool {
        self.0.kill.is_cancelled()
    }

    /// Guest log bytes dropped by `--max-log-rate` so far.
    pub(crate) fn log_dropped(&self) -> u64 {
        self.0.budget.log_dropped()
    }

    /// The history rows sampled so far.
    pub(crate) fn history(&self) -> Vec<HistoryRow> {
        lock(&self.0.history).rows().to_vec()
    }

    /// Stops the run gracefully: no new tasks; running ones get the stop
    /// timeout.
    pub fn stop(&self) {
        self.0.stop.cancel();
    }

    /// Stops the run now, abandoning running tasks.
    pub fn kill(&self) {
        self.0.kill.cancel();
        self.0.stop.cancel();
    }

    /// Whether the run has been asked to stop (or is stopping by itself).
    pub fn stopping(&self) -> bool {
        self.0.stop.is_cancelled()
    }

    /// The newest snapshot (one a second).
    pub fn snapshot(&self) -> Arc<LiveSnapshot> {
        Arc::clone(&self.0.snapshots.borrow())
    }

    /// Snapshots as they are published.
    pub fn subscribe(&self) -> watch::Receiver<Arc<LiveSnapshot>> {
        self.0.snapshots.clone()
    }

    /// The run's goal.
    pub fn goal(&self) -> Goal {
        self.0.goal
    }

    /// The summary of everything so far: a checkpoint.
    pub fn summary_so_far(&self) -> Result<Summary> {
        self.summary(self.0.started.elapsed())
    }

    /// The run's kept log lines (none when it logs to stderr).
    pub fn log_lines(&self) -> Vec<String> {
        self.0.log.lines()
    }

    /// Every event so far, merged.
    pub(crate) fn stats(&self) -> Shard {
        self.0.recorder.snapshot()
    }

    /// The scheduler's live counts.
    pub(crate) fn progress(&self) -> &Progress {
        &self.0.progress
    }

    fn summary(&self, duration: Duration) -> Result<Summary> {
        let progress = &self.0.progress;
        let mut summary = Summary::new(
            &self.0.recorder.snapshot(),
            progress.peak(),
            progress.restarts(),
            duration,
        )?;
        summary.dropped_iterations = progress.dropped();
        summary.all_users_started_s = progress.all_started_after().map(|after| after.as_secs_f64());
        summary.log_dropped_bytes = self.0.budget.log_dropped();
        summary.history = self.history();
        Ok(summary)
    }

    /// Takes this second's sample: a history row and a snapshot.
    fn sample(&self) -> (Shard, Arc<LiveSnapshot>) {
        let shard = self.0.recorder.snapshot();
        let mut history = lock(&self.0.history);
        history.sample(shard.clone(), self.0.progress.running());
        let snapshot = LiveSnapshot::new(
            &shard,
            history.latest(),
            &self.0.progress,
            self.0.started.elapsed(),
            self.0.goal,
        );
        (shard, Arc::new(snapshot))
    }
}

/// Samples the run every second until `done`, then once more, publishing
/// each snapshot. With `thresholds`, checks them on each sample once the
/// run is 5 s old (rates and percentiles of the first seconds say little)
/// and stops the run when one fails, returning its line.
async fn sample(
    run: RunWatch,
    publish: watch::Sender<Arc<LiveSnapshot>>,
    thresholds: Vec<Threshold>,
    done: CancellationToken,
) -> Option<String> {
    const WARM_UP: Duration = Duration::from_secs(5);
    let mut stopped_by = None;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = done.cancelled() => break,
        }
        let (shard, snapshot) = run.sample();
        publish.send_replace(snapshot);
        if stopped_by.is_some() || thresholds.is_empty() || run.0.started.elapsed() < WARM_UP {
            continue;
        }
        let progress = run.progress();
        let Ok(summary) = Summary::new(&shard, progress.peak(), 0, run.0.started.elapsed()) else {
            continue;
        };
        if let Some(failed) = thresholds.iter().map(|t| t.check(&summary)).find(|v| !v.held) {
            run.0.log.line(&format!(
                "wasmload: threshold failed during the run ({}); stopping",
                failed.line
            ));
            stopped_by = Some(failed.line);
            run.stop();
        }
    }
    publish.send_replace(run.sample().1);
    stopped_by
}

/// The users the spec asks for by name (`users`, `max-users`, user
/// stages): what the kernel's limits must allow.
pub fn asked_users(spec: &RunSpec) -> u32 {
    let stage_users = match &spec.stages {
        Some(stages) if stages.unit == StageUnit::Users => stages.peak().round() as u32,
        _ => 0,
    };
    spec.users.unwrap_or(1).max(spec.max_users.unwrap_or(0)).max(stage_users)
}

/// The most users the run may have at once. The closed model without a
/// shape has what it asks for; the open model and shapes (`shaped`: the
/// component has one) have up to `max-users`.
pub fn reserved_users(spec: &RunSpec, shaped: bool) -> u32 {
    let open = spec.rate.is_some()
        || spec.stages.as_ref().is_some_and(|stages| stages.unit == StageUnit::Rate);
    if open || shaped {
        max_users(spec).max(asked_users(spec))
    } else {
        asked_users(spec)
    }
}

/// The most instances the run may have at once, to size an instance pool
/// or reserve part of a shared one: its users, plus one for the instance
/// that describes the component and answers for its shape. Before the
/// component is loaded, whether it has a shape is unknown: `shaped` says.
pub fn capacity(spec: &RunSpec, shaped: bool) -> u32 {
    reserved_users(spec, shaped).saturating_add(1)
}

/// `max-users`, by default `users` but at least 1,000.
fn max_users(spec: &RunSpec) -> u32 {
    spec.max_users.unwrap_or_else(|| spec.users.unwrap_or(1).max(DEFAULT_MAX_USERS))
}

/// The ceiling of the open model and of shapes when `max-users` is not given.
const DEFAULT_MAX_USERS: u32 = 1000;

/// How long the spec runs, if it says: `--stages` add up to their run time.
fn run_time(spec: &RunSpec) -> Option<Duration> {
    spec.stages.as_ref().map(Stages::total).or(spec.run_time)
}

/// How far a run of `spec` goes.
pub fn goal(spec: &RunSpec) -> Goal {
    Goal::of(run_time(spec), spec.iterations)
}

/// The model and load the spec and the component's shape ask for.
fn load_plan(
    spec: &RunSpec,
    shape: Option<Shape>,
    classes: &[ClassPlan],
    segment: Segment,
) -> Result<LoadPlan> {
    let users = spec.users.unwrap_or(1);
    let max_users = max_users(spec);
    let model = match (shape, spec.rate, &spec.stages) {
        (Some(shape), rate, stages) => {
            if rate.is_some() || stages.is_some() || spec.spawn_rate.is_some() {
                bail!("the component's load shape sets the load; drop --rate, --stages and -r");
            }
            match shape.model() {
                ShapeModel::Closed if spec.users.is_some() => {
                    bail!("the component's load shape sets the users; drop -u")
                }
                ShapeModel::Closed => Model::Closed(UserLoad::Shaped(shape)),
                ShapeModel::Open => Model::Open(RateLoad::Shaped(shape)),
            }
        }
        (None, Some(rate), _) => Model::Open(RateLoad::Planned(RatePlan::constant(rate))),
        (None, None, Some(stages)) => match stages.unit {
            StageUnit::Rate => Model::Open(RateLoad::Planned(RatePlan::ramps(stages))),
            StageUnit::Users if spec.users.is_some() => {
                bail!("--stages gives the user counts; drop -u (or write rates like 10/s)")
            }
            StageUnit::Users => Model::Closed(UserLoad::Stages(stages.clone())),
        },
        (None, None, None) => Model::Closed(UserLoad::Fixed {
            users,
            spawn_rate: spec.spawn_rate.unwrap_or(f64::INFINITY),
        }),
    };
    // Every segment must have a user to run its share with.
    let divisible = match &model {
        Model::Closed(UserLoad::Fixed { users, .. }) => *users,
        Model::Closed(UserLoad::Stages(stages)) => stages.peak().round() as u32,
        Model::Closed(UserLoad::Shaped(_)) | Model::Open(_) => max_users,
    };
    if segment.total > divisible {
        bail!(
            "a test of {divisible} users cannot be split in {} segments: each needs a user of its own",
            segment.total
        );
    }
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
        pool: PoolPlan { preallocated: users, max_delay: spec.max_delay },
        run_time: run_time(spec),
        iterations: spec.iterations,
        stop_timeout: spec.stop_timeout,
        segment,
    })
}

/// The guest policy the spec asks for. With `trust_host_addresses`, the
/// `host` name is resolved once here, so the addresses it has now are
/// allowed even if internal.
pub async fn sandbox(guest: &GuestSpec, trust_host_addresses: bool) -> Result<Sandbox> {
    let mut network =
        NetworkPolicy::new(guest.host.as_ref(), &guest.allow_host).context("bad --allow-host")?;
    if let (Some(url), true) = (&guest.host, trust_host_addresses) {
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
    guest: &GuestSpec,
    setting: &RunSetting,
    sandbox: Arc<Sandbox>,
    recorder: Recorder,
    budget: Arc<RunBudget>,
) -> Result<RunServices> {
    let tls = tls::client_config(&setting.ca_files, guest.insecure).map_err(BadInput)?;
    let protocols = ProtocolConfigs::new(&RunSetup { guest, sandbox: &sandbox, tls: &tls })?;
    Ok(RunServices {
        recorder,
        protocols,
        sandbox,
        budget,
        log: setting.log.clone(),
        local_ips: setting.local_ips.clone(),
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
