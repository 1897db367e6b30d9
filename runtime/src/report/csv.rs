//! `--csv PREFIX`: Locust's three CSV files, with exactly its columns and
//! column order, so tools that read Locust's CSVs read ours.

use std::path::Path;

use anyhow::{Context, Result};

use super::table::{metric_cells, METRIC_HEADER};
use crate::stats::{decode_histogram, RequestRow, ResponseTimes, Summary, PERCENTILES};

/// Locust's percentile column names, in order.
const PERCENTILE_COLUMNS: [&str; 11] =
    ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"];

const STATS_HEADER: [&str; 11] = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
];

const FAILURES_HEADER: [&str; 4] = ["Method", "Name", "Error", "Occurrences"];

const HISTORY_HEAD: [&str; 6] =
    ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"];

const HISTORY_TAIL: [&str; 7] = [
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

const RUN_HEADER: [&str; 7] = [
    "User Count",
    "Duration",
    "Request Count",
    "Failure Count",
    "Requests/s",
    "User Restarts",
    "Dropped Iterations",
];

/// Writes Locust's `PREFIX_stats.csv`, `PREFIX_failures.csv` and
/// `PREFIX_stats_history.csv` from a finished run, and files Locust does
/// not have: `PREFIX_run.csv` (whole-run figures, with dropped
/// iterations), `PREFIX_stats_uncorrected.csv` in the open model (times
/// from the send; `_stats.csv` has them from the intended start), and
/// `PREFIX_custom_metrics.csv` when guests reported custom metrics.
pub fn write(summary: &Summary, prefix: &str) -> Result<()> {
    for (name, rows) in files(summary)? {
        let path = format!("{prefix}_{name}.csv");
        std::fs::write(Path::new(&path), text(&rows)?)
            .with_context(|| format!("cannot write {path}"))?;
    }
    Ok(())
}

/// A CSV file's rows, header first.
pub type Rows = Vec<Vec<String>>;

/// Every CSV file of a summary, by name (`stats`, `failures`, ...): what
/// [`write`] writes after its prefix.
pub fn files(summary: &Summary) -> Result<Vec<(&'static str, Rows)>> {
    let mut files = vec![("stats", stats(summary, Times::Default)?)];
    if summary.aggregated.uncorrected.is_some() {
        files.push(("stats_uncorrected", stats(summary, Times::Uncorrected)?));
    }
    files.push(("failures", failures(summary)));
    files.push(("stats_history", history(summary)));
    files.push(("run", run(summary)));
    if !summary.metrics.is_empty() {
        let header = METRIC_HEADER.iter().map(|s| (*s).to_owned()).collect();
        let metrics = std::iter::once(header).chain(summary.metrics.iter().map(metric_cells));
        files.push(("custom_metrics", metrics.collect()));
    }
    Ok(files)
}

/// Rows as CSV text.
pub fn text(rows: &[Vec<String>]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).context("cannot encode a CSV row")?;
    }
    let bytes = writer.into_inner().context("cannot encode CSV")?;
    String::from_utf8(bytes).context("CSV is not UTF-8")
}

/// Which response times a stats file shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The default ones (from the intended start in the open model).
    Default,
    /// Open model: from the actual send.
    Uncorrected,
}

/// The header row followed by one row per (type, name) and Aggregated.
pub fn stats(summary: &Summary, times: Times) -> Result<Vec<Vec<String>>> {
    let mut rows =
        vec![STATS_HEADER.iter().chain(&PERCENTILE_COLUMNS).map(|s| (*s).to_owned()).collect()];
    for row in summary.requests.iter().chain([&summary.aggregated]) {
        let chosen = match times {
            Times::Uncorrected => row.uncorrected.as_ref().unwrap_or(&row.times),
            Times::Default => &row.times,
        };
        rows.push(stats_row(row, chosen, summary.duration_s)?);
    }
    Ok(rows)
}

/// The header row and the run's one row.
pub fn run(summary: &Summary) -> Vec<Vec<String>> {
    let header = RUN_HEADER.iter().map(|s| (*s).to_owned()).collect();
    let row = vec![
        summary.users.to_string(),
        number(summary.duration_s),
        summary.totals.requests.to_string(),
        summary.totals.failures.to_string(),
        number(summary.totals.rps),
        summary.user_restarts.to_string(),
        summary.dropped_iterations.to_string(),
    ];
    vec![header, row]
}

fn stats_row(row: &RequestRow, times: &ResponseTimes, seconds: f64) -> Result<Vec<String>> {
    let histogram = decode_histogram(&times.histogram)?;
    let ms = |micros: u64| number(micros as f64 / 1000.0);
    let empty = histogram.is_empty();
    let mut cells = vec![
        row.kind.clone(),
        row.name.clone(),
        row.count.to_string(),
        row.failures.to_string(),
        number(times.p50_ms),
        number(times.avg_ms),
        if empty { "0".into() } else { ms(histogram.min()) },
        number(times.max_ms),
        number(row.avg_length),
        number(row.rps),
        number(if seconds > 0.0 { row.failures as f64 / seconds } else { 0.0 }),
    ];
    cells.extend(PERCENTILES.iter().map(|q| {
        if empty {
            "0".into()
        } else {
            ms(histogram.value_at_quantile(*q))
        }
    }));
    Ok(cells)
}

/// The header row followed by one row per failure group.
pub fn failures(summary: &Summary) -> Vec<Vec<String>> {
    let header = FAILURES_HEADER.iter().map(|s| (*s).to_owned()).collect();
    let groups = summary.errors.iter().map(|error| {
        vec![
            error.kind.clone(),
            error.name.clone(),
            error.error.clone(),
            error.occurrences.to_string(),
        ]
    });
    std::iter::once(header).chain(groups).collect()
}

/// The header row followed by every history sample.
pub fn history(summary: &Summary) -> Vec<Vec<String>> {
    let header = HISTORY_HEAD
        .iter()
        .chain(&PERCENTILE_COLUMNS)
        .chain(&HISTORY_TAIL)
        .map(|s| (*s).to_owned())
        .collect();
    let samples = summary.history.iter().map(|row| {
        let mut cells = vec![
            row.timestamp.to_string(),
            row.users.to_string(),
            row.kind.clone(),
            row.name.clone(),
            number(row.rps),
            number(row.failures_per_s),
        ];
        cells.extend(row.percentiles_ms.iter().map(|ms| number(*ms)));
        cells.extend([
            row.total_requests.to_string(),
            row.total_failures.to_string(),
            number(row.total_p50_ms),
            number(row.total_avg_ms),
            number(row.total_min_ms),
            number(row.total_max_ms),
            number(row.total_avg_length),
        ]);
        cells
    });
    std::iter::once(header).chain(samples).collect()
}

/// A number with at most 3 decimals and no trailing zeros.
fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
