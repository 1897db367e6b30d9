//! What a worker and its collector say to each other, as JSON over HTTP:
//!
//! | request | body | answer |
//! | --- | --- | --- |
//! | `POST /v1/segments/{index}/ready` | [`Ready`] | [`Start`], once every segment is ready |
//! | `POST /v1/segments/{index}/tick` | [`Tick`], once a second | [`Orders`] |
//! | `POST /v1/segments/{index}/end` | [`End`] | `{}` |
//! | `GET /v1/segments` | | each segment and its state |
//! | `GET /v1/health` | | `ok` |
//!
//! A refusal is a status with `{"error": "..."}`. Reports may be sent
//! again: a tick carries every event so far, so one taken twice adds
//! nothing.

use serde::{Deserialize, Serialize};

use crate::scheduler::Figures;
use crate::stats::Summary;

/// Which test a worker runs: every segment of one test has the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestId {
    /// The run's options (`RunSpec::to_options`).
    pub spec: serde_json::Map<String, serde_json::Value>,
    /// The component's sha256, in hex.
    pub component: String,
}

/// A worker has loaded its component and planned its segment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// Its `--segment`, e.g. `2/4`.
    pub segment: String,
    pub test: TestId,
}

/// When every segment starts: the same instant for all.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Start {
    /// Unix time in milliseconds.
    pub start_at_ms: u64,
}

/// A second of a segment's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tick {
    /// The segment's counts now.
    pub figures: Figures,
    /// Guest log bytes dropped so far.
    pub log_dropped_bytes: u64,
    /// Every event so far.
    pub events: Summary,
}

/// What the collector wants of a running segment.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Orders {
    /// Stop gracefully, as on Ctrl-C.
    pub stop: bool,
    /// Stop now.
    pub kill: bool,
}

/// A segment's final summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct End {
    pub summary: Summary,
    /// Why the segment ended early on its own machine (a signal), if it did:
    /// then it is not the share of the test it was to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
}
