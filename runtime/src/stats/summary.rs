//! The finished run as plain data: what every report renders and `--json`
//! writes.

use std::time::Duration;

use anyhow::{Context, Result};
use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::history::HistoryRow;
use super::shard::{unix_now, Entry, GroupKey, Occurrences, Shard};

/// The outcome of a run; the `--json` document.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    /// The most users that ran at once.
    pub users: u64,
    /// Seconds from the first user's start to the last user's stop.
    pub duration_s: f64,
    /// User instances discarded and replaced after a trap or a task over
    /// `--task-timeout`.
    pub user_restarts: u64,
    /// Open model: iterations that were due but found no free user within
    /// `--max-delay` (or were still waiting when the run ended).
    #[serde(default)]
    pub dropped_iterations: u64,
    /// Guest log bytes dropped by `--max-log-rate`.
    #[serde(default)]
    pub log_dropped_bytes: u64,
    /// Closed model with a fixed user count: seconds until every user was
    /// instantiated and through `on-start` (Locust's "All users spawned").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_users_started_s: Option<f64>,
    pub totals: Totals,
    /// One row per (type, name), sorted by name then type.
    pub requests: Vec<RequestRow>,
    /// Every request merged: Locust's "Aggregated" row.
    pub aggregated: RequestRow,
    /// Failed requests grouped by (type, name, error), most frequent first.
    pub errors: Vec<ErrorRow>,
    /// Tasks that returned an error or trapped, most frequent first.
    pub task_errors: Vec<TaskErrorRow>,
    /// One sample per second (Aggregated, and every group with
    /// `--csv-full-history`).
    pub history: Vec<HistoryRow>,
    /// Custom counters and trends from guests, by name.
    #[serde(default)]
    pub metrics: Vec<MetricRow>,
    /// What was run, where and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunInfo>,
    /// How each `--threshold` fared on these results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<crate::report::thresholds::Verdict>,
    /// A split test's segments that stopped reporting: their results are
    /// only what was heard of them before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_segments: Vec<LostSegment>,
}

/// What was run: the record a report keeps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RunInfo {
    /// The component as it was named (its path, say).
    pub component: String,
    /// The sha256 of its bytes, hex.
    pub sha256: String,
    /// Every run option, by name (defaults included); of the parameters
    /// only their names, and no user info in the host: they may be secret.
    #[schema(value_type = Object)]
    pub options: serde_json::Map<String, serde_json::Value>,
    /// Unix seconds.
    pub started_at: u64,
    pub ended_at: u64,
    /// The wasmload that ran it.
    pub version: String,
    /// Cores of the machine that ran it (of the collector's, for a split test).
    pub cores: u32,
    /// Segments it ran in (1: one process).
    pub segments: u32,
}

impl RunInfo {
    /// A record of `spec` run on the component `component` (`sha256`)
    /// from now, in `segments` segments; [`RunInfo::ended`] closes it.
    pub fn starting(
        component: &str,
        sha256: &str,
        spec: &crate::run::RunSpec,
        segments: u32,
    ) -> RunInfo {
        let mut options = spec.to_options();
        if let Some(serde_json::Value::Object(params)) = options.get_mut("param") {
            for value in params.values_mut() {
                *value = serde_json::Value::String("(not recorded)".into());
            }
        }
        if let Some(mut host) = spec.guest.host.clone() {
            let _ = host.set_username("");
            let _ = host.set_password(None);
            options.insert("host".into(), serde_json::Value::String(host.to_string()));
        }
        RunInfo {
            component: component.to_owned(),
            sha256: sha256.to_owned(),
            options,
            started_at: unix_now(),
            ended_at: 0,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            cores: std::thread::available_parallelism().map_or(1, |cores| cores.get() as u32),
            segments,
        }
    }

    /// The record, started now.
    pub fn started_now(self) -> RunInfo {
        RunInfo { started_at: unix_now(), ..self }
    }

    /// The record, ended now.
    pub fn ended(mut self) -> RunInfo {
        self.ended_at = unix_now();
        self
    }
}

/// A segment of a split test that was lost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct LostSegment {
    /// `I/N`.
    pub segment: String,
    /// Why, e.g. "worker 2 exited with signal 9 (SIGKILL)".
    pub reason: String,
}

/// A guest's custom counter or trend.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct MetricRow {
    pub name: String,
    /// `counter` or `trend`.
    pub kind: String,
    /// A counter's total; a trend's sample count.
    pub value: f64,
    /// Trend statistics (0 for counters).
    pub min: f64,
    pub avg: f64,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
    /// A trend's samples in thousandths, like `RequestRow::histogram`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub histogram: String,
}

/// Whole-run counts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
    /// Requests per second over `duration_s`.
    pub rps: f64,
}

/// Response-time statistics of one (type, name) group.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub count: u64,
    pub failures: u64,
    pub rps: f64,
    /// In the open model, measured from each iteration's intended start.
    #[serde(flatten)]
    pub times: ResponseTimes,
    /// Average response length in bytes.
    pub avg_length: f64,
    /// Open model only: the same requests measured from the actual send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncorrected: Option<ResponseTimes>,
}

/// Percentiles of a set of response times, in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseTimes {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub avg_ms: f64,
    /// The times in microseconds: an HdrHistogram in the V2 deflate
    /// encoding, base64 (standard alphabet, padded).
    pub histogram: String,
}

impl ResponseTimes {
    fn new(histogram: &Histogram<u64>) -> Result<ResponseTimes> {
        let empty = histogram.is_empty();
        let ms = |micros: u64| if empty { 0.0 } else { micros as f64 / 1000.0 };
        let percentile = |q: f64| ms(histogram.value_at_quantile(q));
        Ok(ResponseTimes {
            p50_ms: percentile(0.50),
            p90_ms: percentile(0.90),
            p95_ms: percentile(0.95),
            p99_ms: percentile(0.99),
            max_ms: ms(histogram.max()),
            avg_ms: if empty { 0.0 } else { histogram.mean() / 1000.0 },
            histogram: encode_histogram(histogram)?,
        })
    }
}

/// One failure group.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
    /// When it first and last occurred (Unix seconds).
    #[serde(default, flatten)]
    pub seen: Seen,
}

/// When a group first and last occurred, in Unix seconds (0: unknown).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Seen {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_seen: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub last_seen: u64,
}

impl Seen {
    fn from(occurrences: Occurrences) -> Seen {
        Seen { first_seen: occurrences.first, last_seen: occurrences.last }
    }

    /// `count` occurrences at these times.
    fn of(self, count: u64) -> Occurrences {
        Occurrences { count, first: self.first_seen, last: self.last_seen }
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// One group of task errors.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskErrorRow {
    pub class: String,
    pub task: String,
    pub error: String,
    pub occurrences: u64,
    /// When it first and last occurred (Unix seconds).
    #[serde(default, flatten)]
    pub seen: Seen,
}

impl Summary {
    /// Summarises every event of `shard`, with rates over `duration`.
    pub fn new(
        shard: &Shard,
        peak_users: u64,
        user_restarts: u64,
        duration: Duration,
    ) -> Result<Summary> {
        let seconds = duration.as_secs_f64();
        let mut requests = Vec::new();
        for (kind, name, entry) in shard.entries() {
            requests.push(RequestRow::new(kind, name, entry, seconds)?);
        }
        let all = shard.aggregated();
        requests.sort_by(|a, b| (&a.name, &a.kind).cmp(&(&b.name, &b.kind)));
        let aggregated = RequestRow::new("", "Aggregated", &all, seconds)?;

        let errors = by_frequency(shard.errors(), |(kind, name, error), seen| ErrorRow {
            kind: kind.clone(),
            name: name.clone(),
            error: error.clone(),
            occurrences: seen.count,
            seen: Seen::from(seen),
        });
        let task_errors =
            by_frequency(shard.task_errors(), |(class, task, error), seen| TaskErrorRow {
                class: class.clone(),
                task: task.clone(),
                error: error.clone(),
                occurrences: seen.count,
                seen: Seen::from(seen),
            });

        Ok(Summary {
            users: peak_users,
            duration_s: seconds,
            user_restarts,
            dropped_iterations: 0,
            log_dropped_bytes: 0,
            all_users_started_s: None,
            totals: Totals {
                requests: aggregated.count,
                failures: aggregated.failures,
                rps: aggregated.rps,
            },
            requests,
            aggregated,
            errors,
            task_errors,
            history: Vec::new(),
            metrics: metric_rows(shard)?,
            run: None,
            thresholds: Vec::new(),
            lost_segments: Vec::new(),
        })
    }
}

impl RequestRow {
    fn new(kind: &str, name: &str, entry: &Entry, seconds: f64) -> Result<RequestRow> {
        let count = entry.histogram().len();
        Ok(RequestRow {
            kind: kind.to_owned(),
            name: name.to_owned(),
            count,
            failures: entry.failures(),
            rps: if seconds > 0.0 { count as f64 / seconds } else { 0.0 },
            times: ResponseTimes::new(entry.histogram())?,
            avg_length: if count == 0 { 0.0 } else { entry.total_length() as f64 / count as f64 },
            uncorrected: entry.uncorrected().map(ResponseTimes::new).transpose()?,
        })
    }
}

impl Summary {
    /// Merges runs that happened side by side (e.g. segments of one test):
    /// histograms are added, not percentiles averaged; users, restarts and
    /// dropped iterations add up; the duration is the longest. Histories cannot be merged
    /// exactly and are left out.
    pub fn merge(summaries: &[Summary]) -> Result<Summary> {
        let mut shard = Shard::default();
        for summary in summaries {
            shard.merge(&summary.events()?);
        }
        let users = summaries.iter().map(|summary| summary.users).sum();
        let restarts = summaries.iter().map(|summary| summary.user_restarts).sum();
        let longest = summaries.iter().map(|summary| summary.duration_s).fold(0.0, f64::max);
        let mut merged = Summary::new(&shard, users, restarts, Duration::from_secs_f64(longest))?;
        merged.dropped_iterations =
            summaries.iter().map(|summary| summary.dropped_iterations).sum();
        merged.log_dropped_bytes = summaries.iter().map(|summary| summary.log_dropped_bytes).sum();
        // Generators started on their own: the slowest one is when all had.
        merged.all_users_started_s = summaries
            .iter()
            .map(|summary| summary.all_users_started_s)
            .reduce(max_started)
            .flatten();
        merged.lost_segments =
            summaries.iter().flat_map(|summary| summary.lost_segments.clone()).collect();
        Ok(merged)
    }
}

impl Summary {
    /// The summary's events as a shard again: its histograms decoded, its
    /// failure groups, task errors and metrics counted.
    pub fn events(&self) -> Result<Shard> {
        let mut shard = Shard::default();
        for row in &self.requests {
            let decode = |times: &ResponseTimes| {
                decode_histogram(&times.histogram)
                    .with_context(|| format!("the histogram of {} {}", row.kind, row.name))
            };
            let uncorrected = row.uncorrected.as_ref().map(decode).transpose()?;
            let total_length = (row.avg_length * row.count as f64).round() as u64;
            let entry =
                Entry::from_parts(decode(&row.times)?, uncorrected, row.failures, total_length);
            shard.add_entry(&row.kind, &row.name, &entry);
        }
        for error in &self.errors {
            let key = (error.kind.clone(), error.name.clone(), error.error.clone());
            shard.add_error(key, error.seen.of(error.occurrences));
        }
        for error in &self.task_errors {
            let key = (error.class.clone(), error.task.clone(), error.error.clone());
            shard.add_task_error(key, error.seen.of(error.occurrences));
        }
        for metric in &self.metrics {
            match metric.kind.as_str() {
                "counter" => shard.add_counter(&metric.name, metric.value),
                _ => shard.add_trend_histogram(&metric.name, &decode_histogram(&metric.histogram)?),
            }
        }
        Ok(shard)
    }
}

/// The later of two start times; unknown if either is.
fn max_started(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a?.max(b?))
}

/// Counters, then trends, each sorted by name.
fn metric_rows(shard: &Shard) -> Result<Vec<MetricRow>> {
    let mut counters: Vec<MetricRow> = shard
        .counters()
        .map(|(name, total)| MetricRow {
            name: name.to_owned(),
            kind: "counter".into(),
            value: total,
            min: 0.0,
            avg: 0.0,
            p50: 0.0,
            p95: 0.0,
            max: 0.0,
            histogram: String::new(),
        })
        .collect();
    counters.sort_by(|a, b| a.name.cmp(&b.name));
    let mut trends = Vec::new();
    for (name, samples) in shard.trends() {
        let unit = |thousandths: u64| thousandths as f64 / 1000.0;
        trends.push(MetricRow {
            name: name.to_owned(),
            kind: "trend".into(),
            value: samples.len() as f64,
            min: unit(samples.min()),
            avg: samples.mean() / 1000.0,
            p50: unit(samples.value_at_quantile(0.5)),
            p95: unit(samples.value_at_quantile(0.95)),
            max: unit(samples.max()),
            histogram: encode_histogram(samples)?,
        });
    }
    trends.sort_by(|a, b| a.name.cmp(&b.name));
    counters.extend(trends);
    Ok(counters)
}

/// Counted groups as rows, most frequent first (ties in key order, so the
/// output is stable).
fn by_frequency<'a, R>(
    groups: impl Iterator<Item = (&'a GroupKey, Occurrences)>,
    row: impl Fn(&GroupKey, Occurrences) -> R,
) -> Vec<R> {
    let mut groups: Vec<_> = groups.collect();
    groups.sort_by(|(key_a, a), (key_b, b)| b.count.cmp(&a.count).then_with(|| key_a.cmp(key_b)));
    groups.into_iter().map(|(key, seen)| row(key, seen)).collect()
}

/// Reads back a histogram written by [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .context("a histogram is not base64")?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .context("a histogram is not in the HdrHistogram V2 encoding")
}

/// Serializes a histogram as base64 of its V2 deflate encoding.
pub fn encode_histogram(histogram: &Histogram<u64>) -> Result<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .context("cannot encode a histogram")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Recorder, RequestEvent};

    fn run_of(milliseconds: &[u64], failing: bool) -> Summary {
        let recorder = Recorder::new(1000);
        for ms in milliseconds {
            recorder.record(&RequestEvent {
                kind: "GET",
                name: "/x",
                response_time: Duration::from_millis(*ms),
                response_length: 10,
                error: failing.then_some("boom"),
            });
        }
        Summary::new(&recorder.snapshot(), 2, 1, Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn merging_adds_histograms_instead_of_averaging_percentiles() {
        let fast = run_of(&[1; 99], false);
        let slow = run_of(&[1000], true);
        let merged = Summary::merge(&[fast, slow]).unwrap();
        let row = &merged.requests[0];
        assert_eq!((row.count, row.failures, merged.users, merged.user_restarts), (100, 1, 4, 2));
        // 1 of 100 requests took a second: p99 stays fast, max does not.
        assert!(row.times.p99_ms < 2.0 && row.times.max_ms > 999.0, "{row:?}");
        assert_eq!(row.avg_length, 10.0);
        assert_eq!(merged.errors[0].occurrences, 1);
        assert_eq!(merged.totals.rps, 10.0);
    }
}
