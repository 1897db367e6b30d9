//! `wasmload report` and `wasmload merge`: outputs rebuilt from saved JSON
//! summaries, with no load run.

use anyhow::Result;

use crate::cli::run::write_outputs;
use crate::cli::{CompareArgs, MergeArgs, ReportArgs};
use crate::report;
use crate::report::compare::{self, Regressed, Tolerance};
use crate::run::BadInput;
use crate::stats::Summary;

/// Prints the table of a saved summary and writes the requested files.
pub fn report(args: ReportArgs) -> Result<()> {
    let summary = report::json::read(&args.summary).map_err(BadInput)?;
    write_outputs(&summary, &args.outputs)
}

/// Merges saved summaries, prints the table and writes the requested files.
pub fn merge(args: MergeArgs) -> Result<()> {
    let summaries = args
        .summaries
        .iter()
        .map(|path| report::json::read(path))
        .collect::<Result<Vec<_>>>()
        .map_err(BadInput)?;
    let merged = Summary::merge(&summaries).map_err(BadInput)?;
    write_outputs(&merged, &args.outputs)
}

/// Compares two saved summaries; fails with [`Regressed`] when the new one
/// got worse beyond the tolerance.
pub fn compare(args: CompareArgs) -> Result<()> {
    let base = report::json::read(&args.base).map_err(BadInput)?;
    let new = report::json::read(&args.new).map_err(BadInput)?;
    let tolerance = Tolerance {
        percentile: args.max_regression,
        min_change_ms: args.min_change.as_secs_f64() * 1000.0,
        failure_ratio: args.max_failure_increase,
    };
    let comparison = compare::compare(&base, &new, tolerance).map_err(BadInput)?;
    print!("{}", compare::render(&comparison));
    if let Some(path) = &args.html {
        report::html::write_compared(&new, &comparison, path)?;
    }
    match comparison.regressions().count() {
        0 => Ok(()),
        worse => Err(Regressed { worse, compared: comparison.changes.len() }.into()),
    }
}
