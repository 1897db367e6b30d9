//! The final stats and failures tables, as printed on stdout.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::stats::{RequestRow, Summary};

const REQUEST_HEADER: [&str; 11] =
    ["Type", "Name", "# reqs", "# fails", "Median", "90%", "95%", "99%", "Max", "Avg", "req/s"];

/// The run's tables as text: requests (with the Aggregated row), then
/// failures and task errors when there were any.
pub fn render(summary: &Summary) -> String {
    let mut text =
        format!("Response times in ms; {} users over {:.1} s\n", summary.users, summary.duration_s);
    let mut requests = new_table(&REQUEST_HEADER, &[2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for row in summary.requests.iter().chain([&summary.aggregated]) {
        requests.add_row(request_cells(row));
    }
    text.push_str(&requests.to_string());
    text.push('\n');

    if !summary.errors.is_empty() {
        let mut failures = new_table(&["# occurrences", "Type", "Name", "Error"], &[0]);
        for error in &summary.errors {
            failures.add_row(vec![
                error.occurrences.to_string(),
                error.kind.clone(),
                error.name.clone(),
                error.error.clone(),
            ]);
        }
        text.push_str("\nFailures\n");
        text.push_str(&failures.to_string());
        text.push('\n');
    }
    if !summary.task_errors.is_empty() {
        let mut errors = new_table(&["# occurrences", "Class", "Task", "Error"], &[0]);
        for error in &summary.task_errors {
            errors.add_row(vec![
                error.occurrences.to_string(),
                error.class.clone(),
                error.task.clone(),
                error.error.clone(),
            ]);
        }
        text.push_str("\nTask errors\n");
        text.push_str(&errors.to_string());
        text.push('\n');
    }
    text
}

fn request_cells(row: &RequestRow) -> Vec<String> {
    vec![
        row.kind.clone(),
        row.name.clone(),
        row.count.to_string(),
        format!("{} ({:.1}%)", row.failures, percent(row.failures, row.count)),
        ms(row.p50_ms),
        ms(row.p90_ms),
        ms(row.p95_ms),
        ms(row.p99_ms),
        ms(row.max_ms),
        ms(row.avg_ms),
        format!("{:.1}", row.rps),
    ]
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
