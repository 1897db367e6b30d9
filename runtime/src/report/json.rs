//! `--json`: the summary as a JSON document.

use std::path::Path;

use anyhow::{Context, Result};

use crate::stats::Summary;

/// Reads a summary written by [`write`].
pub fn read(path: &Path) -> Result<Summary> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    serde_json::from_str(&text).with_context(|| format!("{shown} is not a wasmload JSON summary"))
}

/// Writes `summary` to `path`, pretty-printed.
pub fn write(summary: &Summary, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(summary).context("cannot encode the summary")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the JSON summary to {}", path.display()))
}
