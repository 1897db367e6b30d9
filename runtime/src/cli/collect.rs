//! `wasmload collect`: the collector of a test split over machines. Each
//! worker (`run --segment I/N --collector URL`, a Kubernetes pod, say)
//! reports here; every one starts at the same instant, and this command
//! shows the whole test live, writes its reports and exits with its code.

use anyhow::Result;

use super::run::{follow, report_finished, Stops};
use super::CollectArgs;
use crate::run::{BadInput, RunLog};
use crate::split::Collector;

/// Gathers `args.segments` segments of one test and reports the whole.
pub async fn collect(args: CollectArgs) -> Result<()> {
    let stops = Stops::new(std::time::Duration::from_secs(10));
    let collector = Collector::bind(args.listen, args.segments, None).await.map_err(BadInput)?;
    eprintln!(
        "wasmload collect: waiting for {} segments on {} (run --segment I/{} --collector http://ADDRESS)",
        args.segments,
        collector.address(),
        args.segments
    );
    collector.wait_for_segments(args.ready_timeout, &stops.stop, &RunLog::stderr()).await?;
    let handle = collector.start().await?;
    let finished = follow(handle, &args.live, &stops).await?;
    report_finished(&finished, &args.outputs)
}
