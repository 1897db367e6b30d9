//! The final stats and failures tables, as printed on stdout.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::stats::{MetricRow, RequestRow, ResponseTimes, Summary};

const REQUEST_HEADER: [&str; 11] =
    ["Type", "Name", "# reqs", "# fails", "Median", "90%", "95%", "99%", "Max", "Avg", "req/s"];

/// The run's tables as text: requests (with the Aggregated row), then
/// failures and task errors when there were any.
pub fn render(summary: &Summary) -> String {
    let mut text =
        format!("Response times in ms; {} users over {:.1} s", summary.users, summary.duration_s);
    if let Some(seconds) = summary.all_users_started_s {
        text.push_str(&format!(" (all started in {seconds:.2} s)"));
    }
    if summary.user_restarts > 0 {
        text.push_str(&format!("; {} user instances replaced after traps", summary.user_restarts));
    }
    let open_model = summary.aggregated.uncorrected.is_some();
    if open_model {
        text.push_str(&format!(
            "; {} dropped iterations\nOpen model: times from each iteration's intended start (corrected for coordinated omission)",
            summary.dropped_iterations
        ));
    }
    text.push('\n');
    let rows = || summary.requests.iter().chain([&summary.aggregated]);
    text.push_str(&request_table(rows().map(|row| (row, &row.times))));
    if open_model {
        text.push_str("\nThe same requests timed from the actual send (uncorrected)\n");
        let uncorrected = rows().filter_map(|row| Some((row, row.uncorrected.as_ref()?)));
        text.push_str(&request_table(uncorrected));
    }

    let failures = summary
        .errors
        .iter()
        .map(|e| [e.occurrences.to_string(), e.kind.clone(), e.name.clone(), e.error.clone()]);
    push_groups(&mut text, "Failures", ["# occurrences", "Type", "Name", "Error"], failures);
    let task_errors = summary
        .task_errors
        .iter()
        .map(|e| [e.occurrences.to_string(), e.class.clone(), e.task.clone(), e.error.clone()]);
    push_groups(&mut text, "Task errors", ["# occurrences", "Class", "Task", "Error"], task_errors);
    if !summary.metrics.is_empty() {
        let mut metrics = new_table(&METRIC_HEADER, &[2, 3, 4, 5, 6, 7]);
        for metric in &summary.metrics {
            metrics.add_row(metric_cells(metric));
        }
        text.push_str(&format!("\nCustom metrics\n{metrics}\n"));
    }
    let lost = summary.lost_segments.iter().map(|lost| [lost.segment.clone(), lost.reason.clone()]);
    push_groups(
        &mut text,
        "Lost segments (only what they sent before is counted)",
        ["Segment", "Why"],
        lost,
    );
    text
}

/// Columns of the custom metrics table.
pub const METRIC_HEADER: [&str; 8] =
    ["Name", "Kind", "Total / samples", "Min", "Avg", "Median", "95%", "Max"];

/// A custom metric as table cells; trend statistics are blank for counters.
pub fn metric_cells(metric: &MetricRow) -> Vec<String> {
    let trend = metric.kind == "trend";
    let stat = |value: f64| if trend { format!("{value:.3}") } else { String::new() };
    vec![
        metric.name.clone(),
        metric.kind.clone(),
        format!("{}", metric.value),
        stat(metric.min),
        stat(metric.avg),
        stat(metric.p50),
        stat(metric.p95),
        stat(metric.max),
    ]
}

/// Appends a titled table of counted groups, unless there are none.
fn push_groups<const COLUMNS: usize>(
    text: &mut String,
    title: &str,
    header: [&str; COLUMNS],
    rows: impl Iterator<Item = [String; COLUMNS]>,
) {
    let mut table = new_table(&header, &[0]);
    for row in rows {
        table.add_row(row.to_vec());
    }
    if table.row_count() == 0 {
        return;
    }
    text.push_str(&format!("\n{title}\n{table}\n"));
}

/// The requests table, with these times for each row.
fn request_table<'a>(rows: impl Iterator<Item = (&'a RequestRow, &'a ResponseTimes)>) -> String {
    let mut table = new_table(&REQUEST_HEADER, &[2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (row, times) in rows {
        table.add_row(vec![
            row.kind.clone(),
            row.name.clone(),
            row.count.to_string(),
            format!("{} ({:.1}%)", row.failures, percent(row.failures, row.count)),
            ms(times.p50_ms),
            ms(times.p90_ms),
            ms(times.p95_ms),
            ms(times.p99_ms),
            ms(times.max_ms),
            ms(times.avg_ms),
            format!("{:.1}", row.rps),
        ]);
    }
    format!("{table}\n")
}

/// A table whose `numeric` columns are right-aligned.
fn new_table(header: &[&str], numeric: &[usize]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    for (index, column) in table.column_iter_mut().enumerate() {
        if numeric.contains(&index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Milliseconds with precision that suits their size.
fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// `part` as a percentage of `whole`.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
