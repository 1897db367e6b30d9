//! `wasmload report` and `wasmload merge`: outputs rebuilt from saved JSON
//! summaries, with no load run.

use anyhow::Result;

use crate::cli::{MergeArgs, OutputArgs, ReportArgs};
use crate::report;
use crate::run::BadInput;
use crate::stats::Summary;

/// Prints the table of a saved summary and writes the requested files.
pub fn report(args: ReportArgs) -> Result<()> {
    let summary = report::json::read(&args.summary).map_err(BadInput)?;
    emit(&summary, &args.outputs)
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
    emit(&merged, &args.outputs)
}

fn emit(summary: &Summary, outputs: &OutputArgs) -> Result<()> {
    print!("{}", report::table::render(summary));
    if let Some(path) = &outputs.json {
        report::json::write(summary, path)?;
    }
    if let Some(prefix) = &outputs.csv {
        report::csv::write(summary, prefix)?;
    }
    if let Some(path) = &outputs.html {
        report::html::write(summary, path)?;
    }
    Ok(())
}
