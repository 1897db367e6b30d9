//! Which runs go when. Every run reserves its users' share of the server's
//! capacity (`--max-users`); queued runs start as capacity frees, the next
//! one always from the tenant using least, so one tenant's queue cannot
//! hold back another's. One task owns these decisions, so a run is never
//! started and stopped at once. Each started run is driven by a task of its
//! own: it checkpoints the summary every few seconds, and writes the final
//! one, durably, before the run counts as ended.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, oneshot};

use super::now;
use super::quotas::Quotas;
use super::store::{ComponentFiles, RunEnd, RunRecord, RunResults, RunState, Store};
use crate::engine::{Engine, UserComponent};
use crate::run::{self, BadInput, Finished, RunLog, RunSetting, RunSpec, RunWatch};
use crate::sync::lock;

/// How often a running run's summary is kept.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// Bytes of a run's own log kept (its newest lines).
const RUN_LOG_BYTES: usize = 256 << 10;

/// Hands runs to the scheduling task. Cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<Shared>,
}

/// What the scheduling task and the runs' tasks share.
struct Shared {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    files: Arc<ComponentFiles>,
    compiled: PathBuf,
    /// Users every run together may reserve.
    capacity: u32,
    /// Runs going now, readable without asking the scheduling task.
    watches: RwLock<HashMap<String, RunWatch>>,
    /// Components loaded, by digest, while some run uses them.
    components: Mutex<HashMap<String, Weak<UserComponent>>>,
}

enum Command {
    /// Something may start now: a run was added, or capacity freed.
    Wake,
    /// Stop a run (at once with `now`), answering how it went.
    Stop { id: String, now: bool, answer: oneshot::Sender<Result<StopOutcome>> },
    /// A run's task is done; its end is stored.
    Ended { id: String },
}

/// What a stop request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// The run is stopping (its tasks get the stop timeout, unless now).
    Stopping,
    /// The run was queued and is now stopped without having started.
    StoppedQueued,
    /// Nothing to stop: the run had ended.
    AlreadyEnded,
}

/// A run the scheduling task has started.
struct Active {
    tenant_id: String,
    reserved: u32,
    /// Set by a stop request; the run's task reads it.
    control: Arc<Control>,
}

/// A stop request for a run that may still be starting.
#[derive(Default)]
struct Control {
    stop: Mutex<Option<bool>>,
}

impl Control {
    /// Records a stop request (`now`: kill) and applies it to `watch` if
    /// the run has started its users.
    fn request(&self, now: bool, watch: Option<&RunWatch>) {
        let mut stop = lock(&self.stop);
        let now = now || stop.unwrap_or(false);
        *stop = Some(now);
        if let Some(watch) = watch {
            if now {
                watch.kill();
            } else {
                watch.stop();
            }
        }
    }

    fn requested(&self) -> Option<bool> {
        *lock(&self.stop)
    }
}

impl Dispatcher {
    /// Starts the scheduling task for a server holding `capacity` users.
    pub fn start(
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        files: Arc<ComponentFiles>,
        compiled: PathBuf,
        capacity: u32,
    ) -> Dispatcher {
        let (commands, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            engine,
            store,
            files,
            compiled,
            capacity,
            watches: RwLock::default(),
            components: Mutex::default(),
        });
        let dispatcher = Dispatcher { commands, shared };
        tokio::spawn(schedule(dispatcher.clone(), receiver));
        dispatcher.wake();
        dispatcher
    }

    /// Users every run together may reserve.
    pub fn capacity(&self) -> u32 {
        self.shared.capacity
    }

    /// Asks the scheduling task to start what fits.
    pub fn wake(&self) {
        let _ = self.commands.send(Command::Wake);
    }

    /// A running run's watch.
    pub fn watch(&self, id: &str) -> Option<RunWatch> {
        self.shared.watches.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    /// Stops run `id` (which the caller has checked is its tenant's).
    pub async fn stop(&self, id: &str, now: bool) -> Result<StopOutcome> {
        let (answer, outcome) = oneshot::channel();
        self.commands
            .send(Command::Stop { id: id.to_owned(), now, answer })
            .map_err(|_| anyhow::anyhow!("the scheduler has stopped"))?;
        outcome.await.context("the scheduler has stopped")?
    }

    /// Keeps a checkpoint of every running run; for a server going down.
    pub async fn checkpoint_all(&self) {
        let watches: Vec<(String, RunWatch)> = self
            .shared
            .watches
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, watch)| (id.clone(), watch.clone()))
            .collect();
        for (id, watch) in watches {
            checkpoint(&self.shared, &id, &watch).await;
        }
    }

    /// The component `digest` loaded into the server's engine: the one a
    /// run uses already, or compiled (or read from the compile cache).
    pub async fn component(
        &self,
        digest: &str,
        bytes: Option<Vec<u8>>,
    ) -> Result<Arc<UserComponent>> {
        if let Some(loaded) = lock(&self.shared.components).get(digest).and_then(Weak::upgrade) {
            return Ok(loaded);
        }
        let shared = Arc::clone(&self.shared);
        let owned = digest.to_owned();
        let loaded = tokio::task::spawn_blocking(move || {
            let bytes = match bytes {
                Some(bytes) => bytes,
                None => shared.files.get(&owned)?,
            };
            UserComponent::load(&shared.engine, &bytes, Some(&shared.compiled))
        })
        .await
        .context("loading a component failed")??;
        let loaded = Arc::new(loaded);
        lock(&self.shared.components).insert(digest.to_owned(), Arc::downgrade(&loaded));
        Ok(loaded)
    }
}

/// The scheduling task: starts what fits, handles stops and ends.
async fn schedule(dispatcher: Dispatcher, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut active: HashMap<String, Active> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Wake => {}
            Command::Ended { id } => {
                active.remove(&id);
                dispatcher.shared.watches.write().unwrap_or_else(|e| e.into_inner()).remove(&id);
            }
            Command::Stop { id, now, answer } => {
                let outcome = stop(&dispatcher, &active, &id, now).await;
                let _ = answer.send(outcome);
            }
        }
        if let Err(error) = start_what_fits(&dispatcher, &mut active).await {
            eprintln!("wasmload serve: cannot start queued runs: {error:#}");
        }
    }
}

async fn stop(
    dispatcher: &Dispatcher,
    active: &HashMap<String, Active>,
    id: &str,
    now: bool,
) -> Result<StopOutcome> {
    if let Some(run) = active.get(id) {
        run.control.request(now, dispatcher.watch(id).as_ref());
        return Ok(StopOutcome::Stopping);
    }
    let store = Arc::clone(&dispatcher.shared.store);
    let owned = id.to_owned();
    blocking(move || {
        let Some(record) = store.run(None, &owned)? else {
            return Ok(StopOutcome::AlreadyEnded);
        };
        if record.state != RunState::Queued {
            return Ok(StopOutcome::AlreadyEnded);
        }
        store.end_run(
            &owned,
            &RunEnd {
                state: RunState::Stopped,
                exit_code: None,
                reason: Some("stopped before it started".into()),
                ended_at: now_seconds(),
                results: RunResults::default(),
            },
        )?;
        Ok(StopOutcome::StoppedQueued)
    })
    .await
}

/// Starts queued runs while they fit: each time the oldest queued run of
/// the tenant whose running runs reserve least.
async fn start_what_fits(
    dispatcher: &Dispatcher,
    active: &mut HashMap<String, Active>,
) -> Result<()> {
    let store = Arc::clone(&dispatcher.shared.store);
    let queued = blocking(move || store.queued_runs()).await?;
    let mut waiting: Vec<RunRecord> = queued;
    loop {
        let used: u32 = active.values().map(|run| run.reserved).sum();
        let usage = |tenant: &str| -> u32 {
            active.values().filter(|run| run.tenant_id == tenant).map(|run| run.reserved).sum()
        };
        // The first queued run of each tenant, oldest first.
        let mut firsts: Vec<&RunRecord> = Vec::new();
        for run in &waiting {
            if !firsts.iter().any(|first| first.tenant_id == run.tenant_id) {
                firsts.push(run);
            }
        }
        let Some(next) =
            firsts.iter().min_by_key(|run| usage(&run.tenant_id)).map(|run| run.id.clone())
        else {
            return Ok(());
        };
        let Some(at) = waiting.iter().position(|run| run.id == next) else { return Ok(()) };
        if used + waiting[at].reserved_users > dispatcher.shared.capacity {
            return Ok(());
        }
        let record = waiting.remove(at);
        let store = Arc::clone(&dispatcher.shared.store);
        let id = record.id.clone();
        let started = now_seconds();
        blocking(move || store.set_running(&id, started)).await?;
        let control = Arc::new(Control::default());
        active.insert(
            record.id.clone(),
            Active {
                tenant_id: record.tenant_id.clone(),
                reserved: record.reserved_users,
                control: Arc::clone(&control),
            },
        );
        tokio::spawn(drive(dispatcher.clone(), record, control));
    }
}

/// Why a run ended without finishing.
struct Failure {
    /// What `wasmload run` would have exited with: 2 for input to fix.
    exit_code: i64,
    reason: String,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        let exit_code = if error.is::<BadInput>() { 2 } else { 1 };
        Failure { exit_code, reason: crate::one_line(&format!("{error:#}")) }
    }
}

/// Drives one run from start to stored end.
async fn drive(dispatcher: Dispatcher, record: RunRecord, control: Arc<Control>) {
    let log = RunLog::kept(RUN_LOG_BYTES);
    let outcome = execute(&dispatcher, &record, &control, &log).await;
    let stopped = control.requested().is_some();
    let end = match outcome {
        Ok(finished) => ended(&finished, stopped, &log),
        Err(failure) => RunEnd {
            state: RunState::Failed,
            exit_code: Some(failure.exit_code),
            reason: Some(failure.reason),
            ended_at: now_seconds(),
            results: RunResults {
                summary: None,
                verdicts: None,
                log: Some(log.lines().join("\n")),
            },
        },
    };
    let store = Arc::clone(&dispatcher.shared.store);
    let id = record.id.clone();
    if let Err(error) = blocking(move || store.end_run(&id, &end)).await {
        eprintln!("wasmload serve: cannot store the end of run {}: {error:#}", record.id);
    }
    let _ = dispatcher.commands.send(Command::Ended { id: record.id });
}

/// Loads, plans and runs `record`, checkpointing as it goes.
async fn execute(
    dispatcher: &Dispatcher,
    record: &RunRecord,
    control: &Control,
    log: &RunLog,
) -> Result<Finished, Failure> {
    let shared = &dispatcher.shared;
    let spec: RunSpec =
        serde_json::from_str(&record.spec).context("the stored spec is unreadable")?;
    let store = Arc::clone(&shared.store);
    let tenant_id = record.tenant_id.clone();
    let tenant =
        blocking(move || store.tenant(&tenant_id)).await?.context("the run's tenant is gone")?;
    let quotas: Quotas =
        serde_json::from_str(&tenant.quotas).context("the tenant's quotas are unreadable")?;
    let component = dispatcher
        .component(&record.component, None)
        .await
        .map_err(|error| anyhow::Error::from(BadInput(error)))?;
    let setting = RunSetting {
        name: format!("component {}", short(&record.component)),
        log: log.clone(),
        ca_files: Vec::new(),
        // Addresses the tenant may target were checked when the run was
        // made; a tenant limited to public addresses gets no others.
        trust_host_addresses: !quotas.allow_host.is_empty(),
        segment: crate::scheduler::Segment::WHOLE,
        local_ips: crate::run::LocalIps::default(),
    };
    let mut prepared = run::prepare(component, spec, setting).await?;
    prepared.make_users().await;
    let handle = prepared.start();
    let watch = handle.watch();
    shared
        .watches
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(record.id.clone(), watch.clone());
    if let Some(now) = control.requested() {
        control.request(now, Some(&watch));
    }
    let finishing = handle.finish();
    tokio::pin!(finishing);
    let mut ticks = tokio::time::interval(CHECKPOINT_EVERY);
    ticks.tick().await;
    loop {
        tokio::select! {
            finished = &mut finishing => return Ok(finished?),
            _ = ticks.tick() => checkpoint(shared, &record.id, &watch).await,
        }
    }
}

/// The stored end of a run that ran its course (or was stopped).
fn ended(finished: &Finished, stopped: bool, log: &RunLog) -> RunEnd {
    let state = if stopped { RunState::Stopped } else { RunState::Finished };
    let verdicts: Vec<super::handlers::runs::VerdictView> =
        finished.verdicts().iter().map(super::handlers::runs::VerdictView::from).collect();
    RunEnd {
        state,
        exit_code: Some(i64::from(finished.exit_code())),
        reason: finished
            .stopped_by_threshold
            .as_ref()
            .map(|line| format!("a threshold failed during the run: {line}")),
        ended_at: now_seconds(),
        results: RunResults {
            summary: serde_json::to_string(&finished.summary).ok(),
            verdicts: serde_json::to_string(&verdicts).ok(),
            log: Some(log.lines().join("\n")),
        },
    }
}

/// Keeps the run's summary so far.
async fn checkpoint(shared: &Shared, id: &str, watch: &RunWatch) {
    let Ok(summary) = watch.summary_so_far() else { return };
    let Ok(text) = serde_json::to_string(&summary) else { return };
    let store = Arc::clone(&shared.store);
    let id = id.to_owned();
    if let Err(error) = blocking(move || store.checkpoint(&id, &text)).await {
        eprintln!("wasmload serve: cannot keep a checkpoint: {error:#}");
    }
}

/// Runs blocking store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.context("a database task failed")?
}

fn now_seconds() -> i64 {
    now()
}

/// The first 12 characters of a digest, for messages.
pub fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
