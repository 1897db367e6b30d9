//! `--json`: the summary as a JSON document.

use std::path::Path;

use anyhow::{Context, Result};

use crate::stats::Summary;

/// Writes `summary` to `path`, pretty-printed.
pub fn write(summary: &Summary, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(summary).context("cannot encode the summary")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the JSON summary to {}", path.display()))
}
