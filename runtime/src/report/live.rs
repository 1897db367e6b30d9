//! The live view while a run goes. On a terminal: a progress bar over the
//! run time or iterations, with users, current RPS, failures and the
//! busiest names, redrawn in place. Otherwise: a plain status line every
//! 5 s on stderr.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use comfy_table::presets::NOTHING;
use comfy_table::Table;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::table::percent;
use crate::scheduler::Progress;
use crate::stats::Recorder;

/// How the bar measures progress.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// Toward `-t`, in seconds.
    Time(Duration),
    /// Toward `-i` tasks.
    Iterations(u64),
    /// Until stopped.
    Unbounded,
}

/// Shows the run's progress on stderr until `done`.
pub async fn show(
    recorder: Recorder,
    progress: Arc<Progress>,
    goal: Goal,
    done: CancellationToken,
) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal { Duration::from_secs(1) } else { Duration::from_secs(5) };
    let bar = terminal.then(|| new_bar(goal));
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at((started + every).into(), every);
    let mut last = (0u64, started);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = done.cancelled() => break,
        }
        let (requests, failures) = recorder.totals();
        let now = Instant::now();
        let rps = (requests - last.0) as f64 / now.duration_since(last.1).as_secs_f64();
        last = (requests, now);
        let mut status = format!(
            "users {} | {:.1} req/s | requests {requests} | failures {failures} ({:.1}%)",
            progress.running(),
            rps,
            percent(failures, requests),
        );
        if progress.dropped() > 0 {
            status.push_str(&format!(" | dropped iterations {}", progress.dropped()));
        }
        match &bar {
            Some(bar) => {
                bar.set_position(match goal {
                    Goal::Time(_) | Goal::Unbounded => started.elapsed().as_secs(),
                    Goal::Iterations(_) => progress.tasks(),
                });
                bar.set_message(format!("{status}\n{}", busiest(&recorder)));
            }
            None => eprintln!("[{:>5.0}s] {status}", started.elapsed().as_secs_f64()),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn new_bar(goal: Goal) -> ProgressBar {
    let (length, unit) = match goal {
        Goal::Time(run_time) => (run_time.as_secs().max(1), "s"),
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
fn busiest(recorder: &Recorder) -> String {
    let snapshot = recorder.snapshot();
    let mut groups: Vec<_> = snapshot.entries().collect();
    groups.sort_by_key(|(kind, name, entry)| {
        (std::cmp::Reverse(entry.histogram().len()), *name, *kind)
    });
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header([
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Median ms",
        "99% ms",
    ]);
    for (kind, name, entry) in groups.into_iter().take(5) {
        let histogram = entry.histogram();
        let ms = |q: f64| format!("{:.2}", histogram.value_at_quantile(q) as f64 / 1000.0);
        table.add_row([
            kind.to_owned(),
            name.to_owned(),
            histogram.len().to_string(),
            entry.failures().to_string(),
            ms(0.5),
            ms(0.99),
        ]);
    }
    table.to_string()
}
