//! The live view while a run goes, drawn from its published snapshots (a
//! local run's, or a server's through `submit`). On a terminal: a progress
//! bar over the run time or iterations, with users, current RPS, failures
//! and the busiest names, redrawn in place. Otherwise: a plain status line
//! every 5 s on stderr.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use comfy_table::presets::NOTHING;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::table::percent;
use crate::run::{Goal, LiveSnapshot};

/// How often the status line is written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Shows each new snapshot on stderr until `done` (or the snapshots end).
pub async fn show(mut snapshots: watch::Receiver<Arc<LiveSnapshot>>, done: CancellationToken) {
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<ProgressBar> = None;
    let mut last_plain = Instant::now();
    loop {
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { break },
            _ = done.cancelled() => break,
        }
        let snapshot = Arc::clone(&snapshots.borrow_and_update());
        let status = status(&snapshot);
        if !terminal {
            if last_plain.elapsed() >= PLAIN_EVERY {
                last_plain = Instant::now();
                eprintln!("[{:>5.0}s] {status}", snapshot.elapsed_s);
            }
            continue;
        }
        let bar = bar.get_or_insert_with(|| new_bar(snapshot.goal));
        bar.set_position(match snapshot.goal {
            Goal::Time(_) | Goal::Unbounded => snapshot.elapsed_s as u64,
            Goal::Iterations(_) => snapshot.tasks,
        });
        bar.set_message(format!("{status}\n{}", busiest(&snapshot)));
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// The one-line status: users, current rate, totals.
fn status(snapshot: &LiveSnapshot) -> String {
    let mut status = format!(
        "users {} | {:.1} req/s | requests {} | failures {} ({:.1}%)",
        snapshot.users,
        snapshot.rps,
        snapshot.requests,
        snapshot.failures,
        percent(snapshot.failures, snapshot.requests),
    );
    if snapshot.dropped_iterations > 0 {
        status.push_str(&format!(" | dropped iterations {}", snapshot.dropped_iterations));
    }
    status
}

fn new_bar(goal: Goal) -> ProgressBar {
    let (length, unit) = match goal {
        Goal::Time(seconds) => ((seconds as u64).max(1), "s"),
        Goal::Iterations(count) => (count, " tasks"),
        Goal::Unbounded => (0, "s"),
    };
    let bar = match goal {
        Goal::Unbounded => ProgressBar::new_spinner(),
        _ => ProgressBar::new(length),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    let template = match goal {
        Goal::Unbounded => format!("{{spinner}} {{pos}}{unit}\n{{msg}}"),
        _ => format!("{{wide_bar}} {{pos}}/{{len}}{unit}\n{{msg}}"),
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// The five names with the most requests, as a compact table.
fn busiest(snapshot: &LiveSnapshot) -> String {
    let mut rows: Vec<_> = snapshot.rows.iter().collect();
    rows.sort_by_key(|row| (std::cmp::Reverse(row.requests), &row.name, &row.kind));
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header([
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Median ms",
        "99% ms",
    ]);
    for row in rows.into_iter().take(5) {
        table.add_row([
            row.kind.clone(),
            row.name.clone(),
            row.requests.to_string(),
            row.failures.to_string(),
            format!("{:.2}", row.p50_ms),
            format!("{:.2}", row.p99_ms),
        ]);
    }
    table.to_string()
}
