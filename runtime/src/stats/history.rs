//! The run over time: one sample per second of current rates and
//! response-time percentiles (over the last 10 s, as Locust reports them)
//! beside the running totals.

use std::collections::VecDeque;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::shard::{rank_percentiles_ms, unix_now, Entry, Shard};

/// The percentiles Locust's CSVs carry, as fractions.
pub const PERCENTILES: [f64; 11] =
    [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0];

// A history row's `total_p50_ms` is its first total percentile.
const _: () = assert!(PERCENTILES[0] == 0.5, "PERCENTILES starts at the median");

/// How far back "current" rates and percentiles look.
const WINDOW: usize = 10;

/// One (type, name) group, or the Aggregated row, at one moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct HistoryRow {
    /// Unix time, seconds.
    pub timestamp: u64,
    pub users: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// Over the last 10 s.
    pub rps: f64,
    pub failures_per_s: f64,
    /// Response times at [`PERCENTILES`] over the last 10 s, in ms.
    pub percentiles_ms: Vec<f64>,
    /// Response times at [`PERCENTILES`] over the whole run so far, in ms.
    #[serde(default)]
    pub total_percentiles_ms: Vec<f64>,
    pub total_requests: u64,
    pub total_failures: u64,
    pub total_p50_ms: f64,
    pub total_avg_ms: f64,
    pub total_min_ms: f64,
    pub total_max_ms: f64,
    pub total_avg_length: f64,
}

/// Samples the run and keeps the rows.
pub struct History {
    /// Every (type, name) too, not only Aggregated (`--csv-full-history`).
    full: bool,
    /// The first window starts here, with no events.
    started: Instant,
    /// Recent samples and when they were taken.
    recent: VecDeque<(Instant, Shard)>,
    rows: Vec<HistoryRow>,
}

impl History {
    /// An empty history; `full` keeps a row per (type, name) as well.
    pub fn new(full: bool) -> Self {
        History { full, started: Instant::now(), recent: VecDeque::new(), rows: Vec::new() }
    }

    /// Adds a sample from `now` (every event so far) with `users` running.
    pub fn sample(&mut self, now: Shard, users: u64) {
        let timestamp = unix_now();
        // One sample per second: a later one in the same second replaces it.
        self.rows.retain(|row| row.timestamp != timestamp);
        let empty = Shard::default();
        let (since, oldest) =
            self.recent.front().map_or((self.started, &empty), |(at, shard)| (*at, shard));
        let seconds = since.elapsed().as_secs_f64().max(1e-3);
        let row = |kind: &str, name: &str, entry: &Entry, before: &Entry| {
            history_row(timestamp, users, (kind, name), entry, before, seconds)
        };
        // As Locust orders them: each name, then Aggregated.
        if self.full {
            let mut groups: Vec<_> = now.entries().collect();
            groups.sort_by_key(|(kind, name, _)| (*name, *kind));
            for (kind, name, entry) in groups {
                let before = oldest.entry(kind, name).cloned().unwrap_or_default();
                self.rows.push(row(kind, name, entry, &before));
            }
        }
        self.rows.push(row("", "Aggregated", &now.aggregated(), &oldest.aggregated()));
        self.recent.push_back((Instant::now(), now));
        if self.recent.len() > WINDOW {
            self.recent.pop_front();
        }
    }

    /// Every row so far, oldest first.
    pub fn rows(&self) -> &[HistoryRow] {
        &self.rows
    }

    /// The newest Aggregated row.
    pub fn latest(&self) -> Option<&HistoryRow> {
        self.rows.iter().rev().find(|row| row.kind.is_empty() && row.name == "Aggregated")
    }
}

fn history_row(
    timestamp: u64,
    users: u64,
    (kind, name): (&str, &str),
    entry: &Entry,
    before: &Entry,
    seconds: f64,
) -> HistoryRow {
    let total = entry.histogram();
    let mut window = total.clone();
    // `before` is an earlier state of the same group, so it is contained in `total`.
    let _ = window.subtract(before.histogram());
    let ms = |micros: u64| micros as f64 / 1000.0;
    let total_percentiles = rank_percentiles_ms(total, &PERCENTILES);
    let count = total.len();
    HistoryRow {
        timestamp,
        users,
        kind: kind.to_owned(),
        name: name.to_owned(),
        rps: window.len() as f64 / seconds,
        failures_per_s: entry.failures().saturating_sub(before.failures()) as f64 / seconds,
        percentiles_ms: rank_percentiles_ms(&window, &PERCENTILES),
        total_p50_ms: total_percentiles[0],
        total_percentiles_ms: total_percentiles,
        total_requests: count,
        total_failures: entry.failures(),
        total_avg_ms: if count == 0 { 0.0 } else { total.mean() / 1000.0 },
        total_min_ms: if count == 0 { 0.0 } else { ms(total.min()) },
        total_max_ms: if count == 0 { 0.0 } else { ms(total.max()) },
        total_avg_length: if count == 0 { 0.0 } else { entry.total_length() as f64 / count as f64 },
    }
}
