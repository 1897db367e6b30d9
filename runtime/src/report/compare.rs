//! `wasmload compare BASE.json NEW.json`: is this run slower than that one?
//! Per (type, name) and for the whole, the change in requests, failure
//! ratio and p50/p90/p95/p99, each percentile read from the runs' exact
//! histograms; a name got worse when a percentile grew by more than the
//! tolerance (and by more than a floor in ms, below which runs of one
//! target differ anyway), its failure ratio by more than its own, or its
//! requests vanished.

use anyhow::{Context, Result};
use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::stats::{decode_histogram, RequestRow, Summary};

/// The percentiles compared, as (label, quantile).
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)];

/// The new run got worse than the base beyond the tolerance.
#[derive(Debug, thiserror::Error)]
#[error("{worse} of {compared} rows got worse than the base run")]
pub struct Regressed {
    pub worse: usize,
    pub compared: usize,
}

/// How much worse counts as a regression.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Tolerance {
    /// A percentile may grow by this fraction (0.1: 10%)...
    pub percentile: f64,
    /// ...or by this many ms, whichever is more.
    pub min_change_ms: f64,
    /// The failure ratio may grow by this much (0.01: one point).
    pub failure_ratio: f64,
}

/// One (type, name), or the whole run, in both runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub base: Option<Side>,
    pub new: Option<Side>,
    /// What got worse beyond the tolerance, e.g. `p95 +104%`.
    pub worse: Vec<String>,
}

/// One row's figures in one run.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Side {
    pub requests: u64,
    pub failure_ratio: f64,
    /// At [`PERCENTILES`], in ms.
    pub percentiles_ms: [f64; 4],
}

/// Every row of both runs, the whole run last.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub changes: Vec<Change>,
    pub tolerance: Tolerance,
}

impl Comparison {
    /// The rows that got worse.
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|change| !change.worse.is_empty())
    }
}

/// Compares `new` against `base`.
pub fn compare(base: &Summary, new: &Summary, tolerance: Tolerance) -> Result<Comparison> {
    let mut keys: Vec<(&str, &str)> = base
        .requests
        .iter()
        .chain(&new.requests)
        .map(|row| (row.kind.as_str(), row.name.as_str()))
        .collect();
    keys.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    keys.dedup();
    let find = |summary: &Summary, (kind, name): (&str, &str)| {
        summary
            .requests
            .iter()
            .find(|row| row.kind == kind && row.name == name)
            .map(side)
            .transpose()
    };
    let mut changes = Vec::new();
    for key in keys {
        let (before, after) = (find(base, key)?, find(new, key)?);
        changes.push(change(key.0, key.1, before, after, tolerance));
    }
    let whole = change(
        "",
        "Aggregated",
        Some(side(&base.aggregated)?),
        Some(side(&new.aggregated)?),
        tolerance,
    );
    changes.push(whole);
    Ok(Comparison { changes, tolerance })
}

fn side(row: &RequestRow) -> Result<Side> {
    let histogram = decode_histogram(&row.times.histogram)
        .with_context(|| format!("the histogram of {} {}", row.kind, row.name))?;
    let mut percentiles_ms = [0.0; 4];
    if !histogram.is_empty() {
        for (slot, (_, quantile)) in percentiles_ms.iter_mut().zip(PERCENTILES) {
            *slot = histogram.value_at_quantile(quantile) as f64 / 1000.0;
        }
    }
    let failure_ratio = if row.count == 0 { 0.0 } else { row.failures as f64 / row.count as f64 };
    Ok(Side { requests: row.count, failure_ratio, percentiles_ms })
}

fn change(
    kind: &str,
    name: &str,
    base: Option<Side>,
    new: Option<Side>,
    tolerance: Tolerance,
) -> Change {
    let mut worse = Vec::new();
    match (base, new) {
        (Some(base), None) if base.requests > 0 => worse.push("no requests any more".to_owned()),
        (Some(base), Some(new)) if base.requests > 0 && new.requests == 0 => {
            worse.push("no requests any more".to_owned())
        }
        (Some(base), Some(new)) => {
            for ((label, _), (before, after)) in
                PERCENTILES.iter().zip(base.percentiles_ms.iter().zip(new.percentiles_ms))
            {
                let allowed = (before * tolerance.percentile).max(tolerance.min_change_ms);
                if *before > 0.0 && after > before + allowed {
                    worse.push(format!("{label} {:+.0}%", (after / before - 1.0) * 100.0));
                }
            }
            let rise = new.failure_ratio - base.failure_ratio;
            if rise > tolerance.failure_ratio {
                worse.push(format!("failures {:+.1} points", rise * 100.0));
            }
        }
        _ => {}
    }
    Change { kind: kind.to_owned(), name: name.to_owned(), base, new, worse }
}

/// The comparison as a table, then one line per regression.
pub fn render(comparison: &Comparison) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "Type",
            "Name",
            "# reqs",
            "Fail ratio",
            "p50 ms",
            "p90 ms",
            "p95 ms",
            "p99 ms",
            "",
        ]);
    for column in table.column_iter_mut().skip(2).take(6) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    for change in &comparison.changes {
        let pair = |pick: &dyn Fn(&Side) -> String| match (&change.base, &change.new) {
            (Some(base), Some(new)) => format!("{} → {}", pick(base), pick(new)),
            (Some(base), None) => format!("{} → none", pick(base)),
            (None, Some(new)) => format!("none → {}", pick(new)),
            (None, None) => String::new(),
        };
        let mut cells = vec![
            change.kind.clone(),
            change.name.clone(),
            pair(&|side| side.requests.to_string()),
            pair(&|side| format!("{:.2}%", side.failure_ratio * 100.0)),
        ];
        for slot in 0..PERCENTILES.len() {
            cells.push(pair(&|side| format!("{:.2}", side.percentiles_ms[slot])));
        }
        cells.push(if change.worse.is_empty() { String::new() } else { "WORSE".into() });
        table.add_row(cells);
    }
    let tolerance = comparison.tolerance;
    let mut text = format!(
        "Base → new. A row is worse when a percentile grew more than {:.0}% and {} ms, its failure ratio more than {:.1} points, or its requests vanished\n{table}\n",
        tolerance.percentile * 100.0,
        tolerance.min_change_ms,
        tolerance.failure_ratio * 100.0
    );
    for change in comparison.regressions() {
        let name = if change.kind.is_empty() {
            change.name.clone()
        } else {
            format!("{} {}", change.kind, change.name)
        };
        text.push_str(&format!("worse: {name}: {}\n", change.worse.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Recorder, RequestEvent};
    use std::time::Duration;

    fn run(ms: u64, failing: usize) -> Summary {
        let recorder = Recorder::new(100);
        for index in 0..100 {
            recorder.record(&RequestEvent {
                kind: "GET",
                name: "/",
                response_time: Duration::from_millis(ms),
                response_length: 1,
                error: (index < failing).then_some("boom"),
            });
        }
        Summary::new(&recorder.snapshot(), 1, 0, Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn twice_as_slow_is_worse_and_the_same_is_not() {
        let tolerance = Tolerance { percentile: 0.1, min_change_ms: 1.0, failure_ratio: 0.01 };
        let same = compare(&run(10, 0), &run(10, 0), tolerance).unwrap();
        assert_eq!(same.regressions().count(), 0);
        let slower = compare(&run(10, 0), &run(20, 0), tolerance).unwrap();
        let worse: Vec<_> = slower.regressions().map(|change| change.name.as_str()).collect();
        assert_eq!(worse, ["/", "Aggregated"]);
        assert!(slower.changes[0].worse.contains(&"p50 +100%".to_owned()), "{:?}", slower.changes);
        let failing = compare(&run(10, 0), &run(10, 5), tolerance).unwrap();
        assert!(failing.changes[0].worse.contains(&"failures +5.0 points".to_owned()));
        assert!(render(&slower).contains("worse: GET /: p50 +100%"), "{}", render(&slower));
        // Under the floor in ms, a bigger share is noise.
        assert_eq!(compare(&run(1, 0), &run(1, 0), tolerance).unwrap().regressions().count(), 0);
        let gone = compare(&run(10, 0), &run(10, 100), tolerance).unwrap();
        assert!(gone.changes[0].worse.contains(&"failures +100.0 points".to_owned()));
    }
}
