//! `--csv PREFIX`: the four CSV files Locust 2.47 writes (stats,
//! history, failures, exceptions), with its columns in its order, its
//! number formats and its CRLF line ends, so tools that read Locust's
//! files read ours; and a few of our own beside them.

use std::path::Path;

use anyhow::{Context, Result};

use super::table::{metric_cells, METRIC_HEADER};
use crate::stats::{
    decode_histogram, rank_percentile_ms, rank_percentiles_ms, RequestRow, ResponseTimes, Seen,
    Summary, PERCENTILES,
};

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

const FAILURES_HEADER: [&str; 6] =
    ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"];

const EXCEPTIONS_HEADER: [&str; 4] = ["Count", "Message", "Traceback", "Nodes"];

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

/// Writes Locust's `PREFIX_stats.csv`, `PREFIX_failures.csv`,
/// `PREFIX_exceptions.csv` (task errors) and `PREFIX_stats_history.csv`
/// from a finished run, and files Locust does not have: `PREFIX_run.csv` (whole-run figures, with dropped
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
    files.push(("exceptions", exceptions(summary)));
    files.push(("stats_history", history(summary)));
    files.push(("run", run(summary)));
    if !summary.metrics.is_empty() {
        let header = METRIC_HEADER.iter().map(|s| (*s).to_owned()).collect();
        let metrics = std::iter::once(header).chain(summary.metrics.iter().map(metric_cells));
        files.push(("custom_metrics", metrics.collect()));
    }
    Ok(files)
}

/// Rows as CSV text, as Python's `csv` module writes them: quoted only
/// where needed, CRLF after every row.
pub fn text(rows: &[Vec<String>]) -> Result<String> {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
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
    let ms = |micros: u64| micros as f64 / 1000.0;
    let (min, max) = if histogram.is_empty() {
        (None, None)
    } else {
        (Some(ms(histogram.min())), Some(times.max_ms))
    };
    let mut cells = vec![
        row.kind.clone(),
        row.name.clone(),
        row.count.to_string(),
        row.failures.to_string(),
        median(rank_percentile_ms(&histogram, 0.5), min, max),
        py_float(times.avg_ms),
        min.map_or_else(|| "0".to_owned(), py_float),
        max.map_or_else(|| "0".to_owned(), py_float),
        content_size(row.count, row.avg_length),
        py_float(row.rps),
        py_float(if seconds > 0.0 { row.failures as f64 / seconds } else { 0.0 }),
    ];
    cells.extend(rank_percentiles_ms(&histogram, &PERCENTILES).into_iter().map(|at| {
        if histogram.is_empty() {
            "N/A".into()
        } else {
            bucket(at).to_string()
        }
    }));
    Ok(cells)
}

/// Locust's median: the 50% bucket, unless outside the extremes, then
/// the extreme itself; 0 with no requests.
fn median(p50_ms: f64, min: Option<f64>, max: Option<f64>) -> String {
    let (Some(min), Some(max)) = (min, max) else { return "0".into() };
    let bucketed = bucket(p50_ms) as f64;
    if bucketed < min {
        py_float(min)
    } else if bucketed > max {
        py_float(max)
    } else {
        bucket(p50_ms).to_string()
    }
}

/// Locust's average content size: a float, but a bare 0 with no requests.
fn content_size(requests: u64, average: f64) -> String {
    if requests == 0 {
        "0".into()
    } else {
        py_float(average)
    }
}

/// A response time in ms as Locust keeps it for percentiles: whole ms
/// below 100 ms, then two significant digits (rounding halves to even,
/// as Python does).
fn bucket(ms: f64) -> u64 {
    let step = if ms < 100.0 {
        1.0
    } else if ms < 1_000.0 {
        10.0
    } else if ms < 10_000.0 {
        100.0
    } else {
        1_000.0
    };
    ((ms / step).round_ties_even() * step) as u64
}

/// A float as Python's `repr` writes it (`6.0`, `0.125`, `1e-05`): the
/// shortest text that reads back exactly, as Rust's `{:?}` writes it, with
/// Python's exponent form.
fn py_float(value: f64) -> String {
    let text = format!("{value:?}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// A Unix time as Locust writes it: ISO 8601, whole seconds, UTC;
/// empty when unknown.
fn timestamp(seconds: u64) -> String {
    if seconds == 0 {
        return String::new();
    }
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The header row followed by one row per failure group.
pub fn failures(summary: &Summary) -> Vec<Vec<String>> {
    let header = FAILURES_HEADER.iter().map(|s| (*s).to_owned()).collect();
    let groups = summary.errors.iter().map(|error| {
        let Seen { first_seen, last_seen } = error.seen;
        vec![
            error.kind.clone(),
            error.name.clone(),
            error.error.clone(),
            error.occurrences.to_string(),
            timestamp(first_seen),
            timestamp(last_seen),
        ]
    });
    std::iter::once(header).chain(groups).collect()
}

/// The header row followed by one row per group of task errors (Locust's
/// exceptions: a task that raised). Its traceback names where, as a frame.
pub fn exceptions(summary: &Summary) -> Vec<Vec<String>> {
    let header = EXCEPTIONS_HEADER.iter().map(|s| (*s).to_owned()).collect();
    let groups = summary.task_errors.iter().map(|error| {
        vec![
            error.occurrences.to_string(),
            error.error.clone(),
            format!("  in user class {}, task {}\n", error.class, error.task),
            "local".to_owned(),
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
    // Locust's history has the whole run's percentiles, and the last 10 s's
    // only with a row per name (--csv-full-history).
    let full = summary.history.iter().any(|row| row.name != "Aggregated" || !row.kind.is_empty());
    let samples = summary.history.iter().map(|row| {
        let mut cells = vec![
            row.timestamp.to_string(),
            row.users.to_string(),
            row.kind.clone(),
            row.name.clone(),
            format!("{:.6}", row.rps),
            format!("{:.6}", row.failures_per_s),
        ];
        let none = row.total_requests == 0;
        // (Summaries from before the whole run's were kept have only the window's.)
        let whole = &row.total_percentiles_ms;
        let percentiles = if full || whole.is_empty() { &row.percentiles_ms } else { whole };
        cells.extend(percentiles.iter().map(|ms| {
            if none {
                "N/A".to_owned()
            } else {
                bucket(*ms).to_string()
            }
        }));
        let (min, max) =
            if none { (None, None) } else { (Some(row.total_min_ms), Some(row.total_max_ms)) };
        cells.extend([
            row.total_requests.to_string(),
            row.total_failures.to_string(),
            median(row.total_p50_ms, min, max),
            py_float(row.total_avg_ms),
            min.map_or_else(|| "0".to_owned(), py_float),
            max.map_or_else(|| "0".to_owned(), py_float),
            content_size(row.total_requests, row.total_avg_length),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_python_writes_them() {
        assert_eq!(py_float(6.0), "6.0");
        assert_eq!(py_float(0.125), "0.125");
        assert_eq!(py_float(0.00001), "1e-05");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(8.082055785897476), "8.082055785897476");
    }

    #[test]
    fn percentiles_fall_in_locusts_buckets_and_ranks() {
        assert_eq!([bucket(2.5), bucket(3.5), bucket(99.4)], [2, 4, 99]);
        assert_eq!(
            [bucket(145.0), bucket(155.0), bucket(999.9), bucket(12_345.0)],
            [140, 160, 1000, 12_000]
        );
        let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        for ms in 1..=10u64 {
            histogram.record(ms * 1000).unwrap();
        }
        let at = |q: f64| bucket(rank_percentile_ms(&histogram, q));
        assert_eq!([at(0.5), at(0.66), at(0.8), at(0.9), at(1.0)], [6, 7, 9, 10, 10]);
        // The median is its bucket, or the extreme when the bucket lies past it.
        assert_eq!(median(6.2, Some(1.0), Some(10.0)), "6");
        assert_eq!(median(0.3, Some(0.45), Some(2.0)), "0.45");
        assert_eq!(median(0.0, None, None), "0");
    }
}
