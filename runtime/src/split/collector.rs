//! The collector: where the segments of a split test meet. It waits until
//! every segment is ready, gives all of them one start instant, merges
//! what they report each second into one live run (the live view,
//! Prometheus and `--abort-on-threshold` read it as they read a local
//! run), and at the end merges their summaries exactly. A segment that
//! stops reporting, or is stopped on its own machine, is named by index
//! and reason; the test then ends without the rest of it and says so.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State as AppState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::wire::{End, Orders, Ready, Start, TestId, Tick};
use crate::run::{self, Checks, LiveSnapshot, RunHandle, RunLog, RunSpec, RunWatch};
use crate::sandbox::RunBudget;
use crate::scheduler::{Figures, Progress, Segment};
use crate::stats::{LostSegment, Recorder, RunInfo, Shard, Summary};
use crate::sync::lock;

/// How long after the last segment is ready they all start: time for the
/// answers to reach every worker.
const START_MARGIN: Duration = Duration::from_millis(1500);

/// A running segment that sends nothing for this long is lost (it sends
/// every second).
const SILENCE: Duration = Duration::from_secs(15);

/// The largest report a worker may send: a summary with many names and
/// their histograms.
const MAX_REPORT: usize = 64 << 20;

/// Gathers the segments of one test.
pub struct Collector {
    shared: Arc<Shared>,
    address: SocketAddr,
    done: CancellationToken,
}

struct Shared {
    total: u32,
    state: Mutex<Gathered>,
    /// Bumped on every change of `state`, for those waiting on one.
    changes: watch::Sender<u64>,
    live: OnceLock<Live>,
}

/// The merged run, made when the start instant is fixed.
struct Live {
    spec: RunSpec,
    recorder: Recorder,
    progress: Arc<Progress>,
    budget: Arc<RunBudget>,
    watch: RunWatch,
    /// Where the run's snapshots go, taken when it is launched.
    publish: Mutex<Option<watch::Sender<Arc<LiveSnapshot>>>>,
    start_at: SystemTime,
    started: Instant,
}

#[derive(Default)]
struct Gathered {
    /// The test every segment must run: given, or the first ready one's.
    test: Option<TestId>,
    /// Why the collector stopped waiting for segments to be ready.
    gave_up: Option<String>,
    parts: Vec<Part>,
}

/// One segment as the collector knows it.
enum Part {
    Waiting,
    Ready,
    Running(Heard),
    /// Its summary; and why, if it was stopped on its own machine.
    Ended(Heard, Box<Summary>, Option<String>),
    Lost(Heard, String),
}

/// What a segment has reported since the start.
#[derive(Default)]
struct Heard {
    at: Option<Instant>,
    figures: Figures,
    log_dropped: u64,
    /// Every event it has reported.
    events: Shard,
}

impl Collector {
    /// Listens on `address` for the `total` segments of `test` (or, with
    /// `None`, of whichever test the first ready segment runs).
    pub async fn bind(address: SocketAddr, total: u32, test: Option<TestId>) -> Result<Collector> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} for the segments"))?;
        let address = listener.local_addr().context("the collector's address")?;
        let state = Gathered {
            test,
            parts: (0..total).map(|_| Part::Waiting).collect(),
            ..Gathered::default()
        };
        let shared = Arc::new(Shared {
            total,
            state: Mutex::new(state),
            changes: watch::channel(0).0,
            live: OnceLock::new(),
        });
        let router = Router::new()
            .route("/v1/health", get(|| async { "ok" }))
            .route("/v1/segments", get(segments))
            .route("/v1/segments/{index}/ready", post(ready))
            .route("/v1/segments/{index}/tick", post(tick))
            .route("/v1/segments/{index}/end", post(end))
            .layer(DefaultBodyLimit::max(MAX_REPORT))
            .with_state(Arc::clone(&shared));
        let done = CancellationToken::new();
        let stopped = done.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopped.cancelled().await });
            let _ = served.await;
        });
        Ok(Collector { shared, address, done })
    }

    /// Where workers reach it.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Waits until every segment is ready, then fixes their start instant
    /// and gives the test's options. Gives up after `patience`, when a
    /// segment is lost first, or when `stop` is cancelled.
    pub async fn wait_for_segments(
        &self,
        patience: Duration,
        stop: &CancellationToken,
        log: &RunLog,
    ) -> Result<RunSpec> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut changes = self.shared.changes.subscribe();
        let total = self.shared.total;
        loop {
            {
                let mut state = lock(&self.shared.state);
                let missing = self.shared.missing(&state, |part| matches!(part, Part::Ready));
                let lost = state.parts.iter().enumerate().find_map(|(index, part)| match part {
                    Part::Lost(_, reason) => Some(format!("segment {index}/{total}: {reason}")),
                    _ => None,
                });
                let reason = if let Some(lost) = lost {
                    format!("the test cannot start: {lost}")
                } else if missing.is_empty() {
                    let test = state.test.clone().context("every segment is ready with no test")?;
                    let spec = RunSpec::from_options(&test.spec)
                        .context("the segments' options were checked when they came")?;
                    for part in &mut state.parts {
                        *part = Part::Running(Heard::default());
                    }
                    self.shared.go_live(spec.clone(), log.clone());
                    self.shared.changed();
                    return Ok(spec);
                } else if stop.is_cancelled() {
                    "stopped while waiting for the segments to be ready".to_owned()
                } else if tokio::time::Instant::now() >= deadline {
                    format!(
                        "{} of {total} segments were not ready within {} ({})",
                        missing.len(),
                        humantime::format_duration(patience),
                        missing.join(", ")
                    )
                } else {
                    String::new()
                };
                if !reason.is_empty() {
                    state.gave_up = Some(reason.clone());
                    self.shared.changed();
                    bail!(reason);
                }
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep_until(deadline) => {}
                _ = stop.cancelled() => {}
            }
        }
    }

    /// Declares a segment lost (its worker exited, say), unless it ended.
    pub fn lose(&self, index: u32, reason: String) {
        let mut state = lock(&self.shared.state);
        let Some(part) = state.parts.get_mut(index as usize) else { return };
        let mut heard = match std::mem::replace(part, Part::Waiting) {
            ended @ (Part::Ended(..) | Part::Lost(..)) => {
                *part = ended;
                return;
            }
            Part::Running(heard) => heard,
            Part::Waiting | Part::Ready => Heard::default(),
        };
        heard.figures.running = 0;
        *part = Part::Lost(heard, reason);
        if let Some(live) = self.shared.live.get() {
            live.progress.show(self.shared.figures(&state));
        }
        self.shared.changed();
    }

    /// Starts the merged run at the segments' start instant; it ends when
    /// every segment has ended or is lost. A stop before then stops the
    /// segments as soon as they start.
    pub async fn start(&self) -> Result<RunHandle> {
        let live = self.shared.live.get().context("the segments are not all ready")?;
        if let Ok(wait) = live.start_at.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        let publish = lock(&live.publish).take().context("the test has started already")?;
        let spec = &live.spec;
        let checks = Checks { thresholds: spec.threshold.clone(), abort: spec.abort_on_threshold };
        let (waiting, concluding) = (Arc::clone(&self.shared), Arc::clone(&self.shared));
        let conclude = move |watch: &RunWatch, ()| concluding.conclude(watch);
        let test = lock(&self.shared.state).test.clone().context("the segments' test")?;
        let shown = format!("sha256 {}", short(&test.component));
        let info = RunInfo::starting(&shown, &test.component, &live.spec, self.shared.total);
        let watch = live.watch.clone();
        Ok(RunHandle::launch(watch, publish, checks, info, waiting.until_all_ended(), conclude))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.done.cancel();
    }
}

impl Shared {
    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    /// Makes the merged run of `spec`, starting `START_MARGIN` from now.
    fn go_live(&self, spec: RunSpec, log: RunLog) {
        let recorder = Recorder::new(spec.guest.budgets.max_names);
        let progress = Arc::new(Progress::default());
        let budget = RunBudget::new(spec.guest.budgets.clone(), crate::limits::open_files());
        let started = Instant::now() + START_MARGIN;
        let (watch, publish) = RunWatch::new(
            recorder.clone(),
            Arc::clone(&progress),
            log,
            Arc::clone(&budget),
            run::goal(&spec),
            spec.csv_full_history,
            started,
        );
        let live = Live {
            spec,
            recorder,
            progress,
            budget,
            watch,
            publish: Mutex::new(Some(publish)),
            start_at: SystemTime::now() + START_MARGIN,
            started,
        };
        // Only the first time counts: all were ready once.
        let _ = self.live.set(live);
    }

    /// The segments (as `I/N`) whose part is not yet as `wanted`.
    fn missing(&self, state: &Gathered, wanted: impl Fn(&Part) -> bool) -> Vec<String> {
        let total = self.total;
        let parts = state.parts.iter().enumerate();
        parts
            .filter(|(_, part)| !wanted(part))
            .map(|(index, _)| format!("{index}/{total}"))
            .collect()
    }

    /// Waits until every segment has ended or is lost, declaring lost those
    /// that fall silent.
    async fn until_all_ended(self: Arc<Self>) {
        let mut changes = self.changes.subscribe();
        loop {
            {
                let mut state = lock(&self.state);
                let started = self.live.get().map(|live| live.started);
                let mut silent = false;
                for part in &mut state.parts {
                    let Part::Running(heard) = part else { continue };
                    let last = heard.at.or(started).unwrap_or_else(Instant::now);
                    if last.elapsed() > SILENCE {
                        let mut heard = std::mem::take(heard);
                        heard.figures.running = 0;
                        let reason = format!("sent nothing for {} s", SILENCE.as_secs());
                        *part = Part::Lost(heard, reason);
                        silent = true;
                    }
                }
                if let (true, Some(live)) = (silent, self.live.get()) {
                    live.progress.show(self.figures(&state));
                }
                let over = |part: &Part| matches!(part, Part::Ended(..) | Part::Lost(..));
                if self.missing(&state, over).is_empty() {
                    return;
                }
            }
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// The whole test's summary: the segments' own, merged exactly, with
    /// what was heard of lost ones, the merged history and the losses named.
    fn conclude(&self, watch: &RunWatch) -> Result<Summary> {
        let state = lock(&self.state);
        let elapsed = self.live.get().map_or(Duration::ZERO, |live| live.started.elapsed());
        let mut parts = Vec::new();
        let mut lost = Vec::new();
        for (index, part) in state.parts.iter().enumerate() {
            let segment = format!("{index}/{}", self.total);
            match part {
                Part::Ended(_, summary, interrupted) => {
                    parts.push((**summary).clone());
                    if let Some(reason) = interrupted {
                        lost.push(LostSegment { segment, reason: reason.clone() });
                    }
                }
                Part::Lost(heard, reason) => {
                    let figures = heard.figures;
                    let mut partial =
                        Summary::new(&heard.events, 0, figures.user_restarts, elapsed)?;
                    partial.dropped_iterations = figures.dropped_iterations;
                    partial.log_dropped_bytes = heard.log_dropped;
                    parts.push(partial);
                    lost.push(LostSegment { segment, reason: reason.clone() });
                }
                Part::Waiting | Part::Ready | Part::Running(_) => {
                    lost.push(LostSegment { segment, reason: "never ended".into() })
                }
            }
        }
        let mut merged = Summary::merge(&parts)?;
        merged.history = watch.history();
        merged.lost_segments = lost;
        Ok(merged)
    }

    /// Takes a tick: every event the segment has had so far, and its counts.
    fn take_tick(&self, index: usize, tick: Tick, events: Shard) -> Result<Orders, Refusal> {
        let live = self.live.get().ok_or_else(|| Refusal::conflict("the test has not started"))?;
        let mut state = lock(&self.state);
        let (gained, dropped_before) = match state.parts.get_mut(index) {
            Some(Part::Running(heard)) => {
                // Only what is new counts: a tick sent again adds nothing.
                let gained = events.since(&heard.events);
                let before = heard.log_dropped;
                heard.at = Some(Instant::now());
                heard.figures = tick.figures;
                heard.log_dropped = tick.log_dropped_bytes.max(before);
                heard.events = events;
                (gained, before)
            }
            Some(part) => return Err(self.not_running(index, part)),
            None => return Err(Refusal::not_found(index, self.total)),
        };
        live.budget.drop_log(tick.log_dropped_bytes.saturating_sub(dropped_before));
        live.recorder.absorb(&gained);
        live.progress.show(self.figures(&state));
        Ok(Orders { stop: live.watch.stopping(), kill: live.watch.killed() })
    }

    /// Takes a segment's final summary.
    fn take_end(&self, index: usize, end: End) -> Result<(), Refusal> {
        let live = self.live.get().ok_or_else(|| Refusal::conflict("the test has not started"))?;
        let summary = end.summary;
        let events = summary.events().map_err(|e| Refusal::bad_request(format!("{e:#}")))?;
        let mut state = lock(&self.state);
        let part = match state.parts.get_mut(index) {
            Some(part @ Part::Running(_)) => part,
            Some(part) => return Err(self.not_running(index, part)),
            None => return Err(Refusal::not_found(index, self.total)),
        };
        let Part::Running(mut heard) = std::mem::replace(part, Part::Waiting) else {
            unreachable!("matched as running above")
        };
        // The last moments, between the last tick and the end.
        live.recorder.absorb(&events.since(&heard.events));
        heard.figures.running = 0;
        heard.figures.dropped_iterations = summary.dropped_iterations;
        heard.figures.user_restarts = summary.user_restarts;
        heard.events = events;
        *part = Part::Ended(heard, Box::new(summary), end.interrupted);
        live.progress.show(self.figures(&state));
        self.changed();
        Ok(())
    }

    /// Every segment's counts, added.
    fn figures(&self, state: &Gathered) -> Figures {
        let heard = state.parts.iter().filter_map(|part| match part {
            Part::Running(heard) | Part::Ended(heard, ..) | Part::Lost(heard, _) => Some(heard),
            Part::Waiting | Part::Ready => None,
        });
        heard.fold(Figures::default(), |sum, heard| sum + heard.figures)
    }

    fn not_running(&self, index: usize, part: &Part) -> Refusal {
        let segment = format!("segment {index}/{}", self.total);
        Refusal::conflict(match part {
            Part::Waiting | Part::Ready => format!("{segment} has not started"),
            Part::Running(_) => format!("{segment} is running"),
            Part::Ended(..) => format!("{segment} has ended already"),
            Part::Lost(_, reason) => {
                format!("{segment} was declared lost ({reason}); what it sends now is not counted")
            }
        })
    }

    /// Marks a segment ready, checking it runs this collector's test.
    fn mark_ready(&self, index: usize, ready: Ready) -> Result<(), Refusal> {
        let segment = Segment::parse(&ready.segment).map_err(Refusal::bad_request)?;
        if segment.total != self.total {
            return Err(Refusal::conflict(format!(
                "segment {segment} is of {} segments; this collector gathers {}",
                segment.total, self.total
            )));
        }
        if segment.index as usize != index {
            return Err(Refusal::bad_request(format!(
                "segment {segment} reported itself as segment {index}"
            )));
        }
        let mut state = lock(&self.state);
        if let Some(reason) = &state.gave_up {
            return Err(Refusal::unavailable(reason.clone()));
        }
        match &state.test {
            Some(test) if *test != ready.test => {
                return Err(Refusal::conflict(format!(
                    "segment {segment} runs another test than this collector's: {}",
                    difference(test, &ready.test)
                )));
            }
            Some(_) => {}
            None => {
                // Read here, so that a worker of another version is turned
                // away before any segment starts.
                RunSpec::from_options(&ready.test.spec).map_err(|error| {
                    Refusal::bad_request(format!("segment {segment}'s options: {error}"))
                })?;
                state.test = Some(ready.test);
            }
        }
        match &state.parts[index] {
            Part::Waiting | Part::Ready => state.parts[index] = Part::Ready,
            // Asked again after the start was fixed (its first answer lost):
            // the same answer, as long as it has not reported since.
            Part::Running(heard) if heard.at.is_none() => {}
            part => return Err(self.not_running(index, part)),
        }
        self.changed();
        Ok(())
    }

    /// Waits until the test starts (or the collector gives up).
    async fn start_instant(&self) -> Result<Start, Refusal> {
        let mut changes = self.changes.subscribe();
        loop {
            if let Some(live) = self.live.get() {
                let since_epoch = live.start_at.duration_since(UNIX_EPOCH).unwrap_or_default();
                let start_at_ms = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
                return Ok(Start { start_at_ms });
            }
            if let Some(reason) = &lock(&self.state).gave_up {
                return Err(Refusal::unavailable(reason.clone()));
            }
            if changes.changed().await.is_err() {
                return Err(Refusal::unavailable("the collector is stopping".into()));
            }
        }
    }

    /// Each segment and how it stands.
    fn states(&self) -> Vec<serde_json::Value> {
        let state = lock(&self.state);
        let parts = state.parts.iter().enumerate();
        parts
            .map(|(index, part)| {
                let (name, reason) = match part {
                    Part::Waiting => ("waiting", None),
                    Part::Ready => ("ready", None),
                    Part::Running(_) => ("running", None),
                    Part::Ended(_, _, None) => ("ended", None),
                    Part::Ended(_, _, Some(reason)) | Part::Lost(_, reason) => ("lost", Some(reason)),
                };
                json!({"segment": format!("{index}/{}", self.total), "state": name, "reason": reason})
            })
            .collect()
    }
}

/// What differs between two tests, in a few words.
fn difference(ours: &TestId, theirs: &TestId) -> String {
    if ours.component != theirs.component {
        return format!(
            "component sha256 {} here, {} there",
            short(&ours.component),
            short(&theirs.component)
        );
    }
    let keys = ours.spec.keys().chain(theirs.spec.keys());
    let differing = keys.filter(|key| ours.spec.get(*key) != theirs.spec.get(*key));
    let mut named: Vec<String> = differing
        .map(|key| {
            let shown = |spec: &serde_json::Map<String, serde_json::Value>| {
                spec.get(key).map_or_else(|| "unset".to_owned(), ToString::to_string)
            };
            format!("`{key}` is {} here, {} there", shown(&ours.spec), shown(&theirs.spec))
        })
        .collect();
    named.dedup();
    named.join("; ")
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// A refused report: its status and reason.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl Refusal {
    fn bad_request(reason: String) -> Refusal {
        Refusal(StatusCode::BAD_REQUEST, reason)
    }

    fn conflict(reason: impl Into<String>) -> Refusal {
        Refusal(StatusCode::CONFLICT, reason.into())
    }

    fn unavailable(reason: String) -> Refusal {
        Refusal(StatusCode::SERVICE_UNAVAILABLE, reason)
    }

    fn not_found(index: usize, total: u32) -> Refusal {
        Refusal(
            StatusCode::NOT_FOUND,
            format!("there is no segment {index}: this collector gathers {total}, from 0"),
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// A JSON body, or a 400 saying what is wrong with it.
fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Refusal> {
    body.map(|Json(value)| value).map_err(|rejection| Refusal::bad_request(rejection.body_text()))
}

async fn segments(AppState(shared): AppState<Arc<Shared>>) -> Json<Vec<serde_json::Value>> {
    Json(shared.states())
}

async fn ready(
    AppState(shared): AppState<Arc<Shared>>,
    Path(index): Path<usize>,
    report: Result<Json<Ready>, JsonRejection>,
) -> Result<Json<Start>, Refusal> {
    if index >= shared.total as usize {
        return Err(Refusal::not_found(index, shared.total));
    }
    shared.mark_ready(index, body(report)?)?;
    shared.start_instant().await.map(Json)
}

async fn tick(
    AppState(shared): AppState<Arc<Shared>>,
    Path(index): Path<usize>,
    report: Result<Json<Tick>, JsonRejection>,
) -> Result<Json<Orders>, Refusal> {
    let tick = body(report)?;
    let events = tick.events.events().map_err(|e| Refusal::bad_request(format!("{e:#}")))?;
    shared.take_tick(index, tick, events).map(Json)
}

async fn end(
    AppState(shared): AppState<Arc<Shared>>,
    Path(index): Path<usize>,
    report: Result<Json<End>, JsonRejection>,
) -> Result<Json<serde_json::Value>, Refusal> {
    shared.take_end(index, body(report)?)?;
    Ok(Json(json!({})))
}
