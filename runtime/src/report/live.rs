//! The status line printed every 2 s on a terminal while a run goes.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::table::percent;
use crate::scheduler::Progress;
use crate::stats::Recorder;

const INTERVAL: Duration = Duration::from_secs(2);

/// Prints users, current RPS and failures on stderr until `done`, when
/// stderr is a terminal; otherwise does nothing.
pub async fn status_lines(recorder: Recorder, progress: Arc<Progress>, done: CancellationToken) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let started = Instant::now();
    let mut ticks = tokio::time::interval_at((started + INTERVAL).into(), INTERVAL);
    let mut last = (0u64, started);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = done.cancelled() => return,
        }
        let (requests, failures) = recorder.totals();
        let now = Instant::now();
        let rps = (requests - last.0) as f64 / now.duration_since(last.1).as_secs_f64();
        last = (requests, now);
        let line = format!(
            "[{:>5.0}s] users {} | requests {} | {:.1} req/s | failures {} ({:.1}%)",
            started.elapsed().as_secs_f64(),
            progress.running(),
            requests,
            rps,
            failures,
            percent(failures, requests),
        );
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
