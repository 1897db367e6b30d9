//! `wasmload report` and `wasmload merge`: outputs rebuilt from saved JSON
//! summaries, with no load run.

use anyhow::Result;

use crate::cli::run::write_outputs;
use crate::cli::{MergeArgs, ReportArgs};
use crate::report;
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
