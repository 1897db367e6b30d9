//! A running run at one moment: what the live view, the service's
//! Server-Sent Events and `wasmload submit` show. Published once a second.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scheduler::Progress;
use crate::stats::{HistoryRow, Shard, PERCENTILES};

/// How far a run has to go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Toward a run time, in seconds.
    Time(f64),
    /// Toward a number of tasks.
    Iterations(u64),
    /// Until stopped.
    #[default]
    Unbounded,
}

impl Goal {
    /// The goal of a run that stops after `run_time`, or else after
    /// `iterations`, or else when stopped.
    pub fn of(run_time: Option<Duration>, iterations: Option<u64>) -> Goal {
        match (run_time, iterations) {
            (Some(run_time), _) => Goal::Time(run_time.as_secs_f64()),
            (None, Some(iterations)) => Goal::Iterations(iterations),
            (None, None) => Goal::Unbounded,
        }
    }
}

/// The run now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct LiveSnapshot {
    /// Seconds since the first user started.
    pub elapsed_s: f64,
    pub goal: Goal,
    /// Users running now.
    pub users: u64,
    /// Tasks started so far.
    pub tasks: u64,
    /// Open model: due iterations that found no free user in time.
    pub dropped_iterations: u64,
    pub requests: u64,
    pub failures: u64,
    /// Requests and failures per second over the last 10 s.
    pub rps: f64,
    pub failures_per_s: f64,
    /// Response-time percentiles over the last 10 s, in ms.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Every (type, name) so far, by name then type.
    pub rows: Vec<LiveRow>,
}

/// One (type, name) group's totals so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LiveRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
}

impl LiveSnapshot {
    /// The snapshot of `shard` (every event so far) with `current`, the
    /// newest Aggregated history row.
    pub(crate) fn new(
        shard: &Shard,
        current: Option<&HistoryRow>,
        progress: &Progress,
        elapsed: Duration,
        goal: Goal,
    ) -> LiveSnapshot {
        let (requests, failures) = shard.totals();
        let window = |q: f64| {
            let at = PERCENTILES.iter().position(|p| *p == q);
            current.zip(at).and_then(|(row, at)| row.percentiles_ms.get(at).copied()).unwrap_or(0.0)
        };
        let mut rows: Vec<LiveRow> = shard
            .entries()
            .map(|(kind, name, entry)| {
                let times = entry.histogram();
                let ms = |micros: u64| if times.is_empty() { 0.0 } else { micros as f64 / 1000.0 };
                LiveRow {
                    kind: kind.to_owned(),
                    name: name.to_owned(),
                    requests: times.len(),
                    failures: entry.failures(),
                    p50_ms: ms(times.value_at_quantile(0.5)),
                    p95_ms: ms(times.value_at_quantile(0.95)),
                    p99_ms: ms(times.value_at_quantile(0.99)),
                    avg_ms: if times.is_empty() { 0.0 } else { times.mean() / 1000.0 },
                    max_ms: ms(times.max()),
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.name, &a.kind).cmp(&(&b.name, &b.kind)));
        LiveSnapshot {
            elapsed_s: elapsed.as_secs_f64(),
            goal,
            users: progress.running(),
            tasks: progress.tasks(),
            dropped_iterations: progress.dropped(),
            requests,
            failures,
            rps: current.map_or(0.0, |row| row.rps),
            failures_per_s: current.map_or(0.0, |row| row.failures_per_s),
            p50_ms: window(0.50),
            p95_ms: window(0.95),
            p99_ms: window(0.99),
            rows,
        }
    }
}
