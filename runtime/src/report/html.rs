//! `--html PATH`: one self-contained page (no network) to open after a
//! run: interactive charts (zoom by dragging, values on hover, series
//! toggled from the legend) drawn by uPlot, vendored in `assets/`, from
//! data this module works out of the summary: rates, users and
//! percentiles over time for the whole run and, with per-name history, for
//! each (type, name); each name's response-time distribution and
//! percentile curve from its exact histogram; thresholds, failures, task
//! errors, custom metrics and what was run. `wasmload compare --html` adds
//! the comparison with a base run.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::report::compare::Comparison;
use crate::stats::{decode_histogram, HistoryRow, RequestRow, ResponseTimes, Summary};

const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const REPORT_JS: &str = include_str!("assets/report.js");
const REPORT_CSS: &str = include_str!("assets/report.css");

/// The percentiles of a name's percentile curve.
const CURVE: [f64; 21] = [
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0, 97.5, 99.0, 99.5,
    99.9, 99.95, 99.99, 99.999, 100.0,
];

/// Bars of a name's response-time distribution.
const DISTRIBUTION_BARS: usize = 30;

/// Writes the page for `summary` to `path`.
pub fn write(summary: &Summary, path: &Path) -> Result<()> {
    write_page(summary, None, path)
}

/// Writes the page for `new`, with its comparison against a base run.
pub fn write_compared(new: &Summary, comparison: &Comparison, path: &Path) -> Result<()> {
    write_page(new, Some(comparison), path)
}

fn write_page(summary: &Summary, comparison: Option<&Comparison>, path: &Path) -> Result<()> {
    std::fs::write(path, page(summary, comparison)?)
        .with_context(|| format!("cannot write the HTML report to {}", path.display()))
}

/// The page as text.
pub fn render(summary: &Summary) -> Result<String> {
    page(summary, None)
}

fn page(summary: &Summary, comparison: Option<&Comparison>) -> Result<String> {
    let data = serde_json::to_string(&Data::of(summary, comparison)?)
        .context("encoding the report's data")?
        // Inside a <script> element, `</script` would end it and `<!--`
        // change how it ends: JSON may spell these characters as escapes.
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    Ok(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>wasmload report</title><style>{UPLOT_CSS}</style><style>{REPORT_CSS}</style></head>\
         <body><main id=\"report\"></main>\
         <script type=\"application/json\" id=\"report-data\">{data}</script>\
         <script>{UPLOT_JS}</script><script>{REPORT_JS}</script></body></html>\n"
    ))
}

/// What the page draws.
#[derive(Serialize)]
struct Data<'a> {
    summary: Lean<'a>,
    rows: Vec<Row>,
    /// Open model: the same rows timed from the actual send.
    uncorrected: Vec<Row>,
    /// Over time, by group (`Aggregated`, or `TYPE NAME`).
    series: BTreeMap<String, Series>,
    comparison: Option<&'a Comparison>,
}

/// The summary without its histograms (the page has them worked out).
#[derive(Serialize)]
struct Lean<'a> {
    users: u64,
    duration_s: f64,
    user_restarts: u64,
    dropped_iterations: u64,
    log_dropped_bytes: u64,
    all_users_started_s: Option<f64>,
    totals: &'a crate::stats::Totals,
    errors: &'a [crate::stats::ErrorRow],
    task_errors: &'a [crate::stats::TaskErrorRow],
    metrics: Vec<MetricView<'a>>,
    thresholds: &'a [crate::report::thresholds::Verdict],
    lost_segments: &'a [crate::stats::LostSegment],
    run: Option<&'a crate::stats::RunInfo>,
}

#[derive(Serialize)]
struct MetricView<'a> {
    name: &'a str,
    kind: &'a str,
    value: f64,
    min: f64,
    avg: f64,
    p50: f64,
    p95: f64,
    max: f64,
}

/// One (type, name), or Aggregated, with its curve and distribution.
#[derive(Serialize)]
struct Row {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    count: u64,
    failures: u64,
    rps: f64,
    avg_length: f64,
    p50_ms: f64,
    p90_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    avg_ms: f64,
    /// (percentile, ms) at [`CURVE`].
    curve: Vec<(f64, f64)>,
    /// (from ms, to ms, requests), log-spaced bars.
    distribution: Vec<(f64, f64, u64)>,
}

/// One group over time, a value a second.
#[derive(Serialize, Default)]
struct Series {
    /// Unix seconds.
    t: Vec<u64>,
    users: Vec<u64>,
    rps: Vec<f64>,
    failures_per_s: Vec<f64>,
    /// Over the last 10 s; none while that window had no requests.
    p50: Vec<Option<f64>>,
    p90: Vec<Option<f64>>,
    p95: Vec<Option<f64>>,
    p99: Vec<Option<f64>>,
}

impl<'a> Data<'a> {
    fn of(summary: &'a Summary, comparison: Option<&'a Comparison>) -> Result<Data<'a>> {
        let all = || summary.requests.iter().chain([&summary.aggregated]);
        let rows = all().map(|row| Row::of(row, &row.times)).collect::<Result<_>>()?;
        let uncorrected = all()
            .filter_map(|row| Some((row, row.uncorrected.as_ref()?)))
            .map(|(row, times)| Row::of(row, times))
            .collect::<Result<_>>()?;
        let mut series: BTreeMap<String, Series> = BTreeMap::new();
        for row in &summary.history {
            series.entry(group(&row.kind, &row.name)).or_default().push(row);
        }
        let metrics = summary
            .metrics
            .iter()
            .map(|metric| MetricView {
                name: &metric.name,
                kind: &metric.kind,
                value: metric.value,
                min: metric.min,
                avg: metric.avg,
                p50: metric.p50,
                p95: metric.p95,
                max: metric.max,
            })
            .collect();
        let lean = Lean {
            users: summary.users,
            duration_s: summary.duration_s,
            user_restarts: summary.user_restarts,
            dropped_iterations: summary.dropped_iterations,
            log_dropped_bytes: summary.log_dropped_bytes,
            all_users_started_s: summary.all_users_started_s,
            totals: &summary.totals,
            errors: &summary.errors,
            task_errors: &summary.task_errors,
            metrics,
            thresholds: &summary.thresholds,
            lost_segments: &summary.lost_segments,
            run: summary.run.as_ref(),
        };
        Ok(Data { summary: lean, rows, uncorrected, series, comparison })
    }
}

/// How the page names a group: `Aggregated`, or `TYPE NAME`.
fn group(kind: &str, name: &str) -> String {
    if kind.is_empty() {
        name.to_owned()
    } else {
        format!("{kind} {name}")
    }
}

impl Series {
    fn push(&mut self, row: &HistoryRow) {
        // Locust's percentiles: 50, 66, 75, 80, 90, 95, 98, 99, ...
        let quiet = row.rps == 0.0;
        let at = |index: usize| row.percentiles_ms.get(index).copied().filter(|_| !quiet);
        self.t.push(row.timestamp);
        self.users.push(row.users);
        self.rps.push(row.rps);
        self.failures_per_s.push(row.failures_per_s);
        self.p50.push(at(0));
        self.p90.push(at(4));
        self.p95.push(at(5));
        self.p99.push(at(7));
    }
}

impl Row {
    fn of(row: &RequestRow, times: &ResponseTimes) -> Result<Row> {
        let histogram = decode_histogram(&times.histogram)
            .with_context(|| format!("the histogram of {} {}", row.kind, row.name))?;
        Ok(Row {
            kind: row.kind.clone(),
            name: row.name.clone(),
            count: row.count,
            failures: row.failures,
            rps: row.rps,
            avg_length: row.avg_length,
            p50_ms: times.p50_ms,
            p90_ms: times.p90_ms,
            p95_ms: times.p95_ms,
            p99_ms: times.p99_ms,
            max_ms: times.max_ms,
            avg_ms: times.avg_ms,
            curve: curve(&histogram),
            distribution: distribution(&histogram),
        })
    }
}

/// (percentile, ms) of `histogram` at [`CURVE`].
fn curve(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    CURVE
        .iter()
        .map(|percentile| (*percentile, ms(histogram.value_at_percentile(*percentile))))
        .collect()
}

/// The requests of `histogram` in log-spaced bars from its least to its
/// greatest value: (from ms, to ms, requests).
fn distribution(histogram: &Histogram<u64>) -> Vec<(f64, f64, u64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let (low, high) = (histogram.min().max(1) as f64, histogram.max().max(1) as f64 + 1.0);
    let ratio = (high / low).powf(1.0 / DISTRIBUTION_BARS as f64);
    let edges: Vec<f64> = (0..=DISTRIBUTION_BARS).map(|bar| low * ratio.powi(bar as i32)).collect();
    let mut counts = vec![0u64; DISTRIBUTION_BARS];
    for value in histogram.iter_recorded() {
        let micros = histogram.highest_equivalent(value.value_iterated_to()) as f64;
        let bar = edges.partition_point(|edge| *edge <= micros).saturating_sub(1);
        counts[bar.min(DISTRIBUTION_BARS - 1)] += value.count_since_last_iteration();
    }
    edges
        .windows(2)
        .zip(counts)
        .map(|(edge, count)| (edge[0] / 1000.0, edge[1] / 1000.0, count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Recorder, RequestEvent};
    use std::time::Duration;

    #[test]
    fn a_page_carries_every_request_in_its_distribution_and_no_script_end() {
        let recorder = Recorder::new(10);
        for ms in [1, 2, 2, 3, 50, 400] {
            recorder.record(&RequestEvent {
                kind: "GET",
                name: "/x</script><!--<script>&",
                response_time: Duration::from_millis(ms),
                response_length: 1,
                error: None,
            });
        }
        let summary = Summary::new(&recorder.snapshot(), 1, 0, Duration::from_secs(1)).unwrap();
        let data = Data::of(&summary, None).unwrap();
        let bars: u64 = data.rows[0].distribution.iter().map(|(_, _, count)| count).sum();
        assert_eq!(bars, 6);
        assert_eq!(data.rows[0].curve.last().map(|(p, _)| *p), Some(100.0));
        let page = render(&summary).unwrap();
        assert!(!page.contains("/x</script>"), "the name cannot end the data's script");
        assert!(page.contains("/x\\u003c/script\\u003e\\u003c!--"), "it is there, escaped");
        assert!(page.contains("uPlot"), "the charting library is inlined");
    }
}
