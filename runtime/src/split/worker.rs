//! A worker: runs one segment and reports it to the collector: ready once
//! its component is loaded and planned, then a tick a second (its counts
//! and the events since the last tick taken), then its final summary. It
//! obeys the stop the collector sends back, and stops by itself when the
//! collector is gone.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use http::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use super::wire::{End, Orders, Ready, Start, TestId, Tick};
use crate::client::{ApiClient, Refused};
use crate::run::{Finished, RunHandle, RunLog, RunWatch};
use crate::scheduler::Segment;
use crate::stats::{Shard, Summary};

/// How long a worker keeps trying to reach a collector that is not up
/// yet (a pod may start before the collector's).
const PATIENCE: Duration = Duration::from_secs(300);

/// A running worker that hears nothing from its collector for this long
/// stops: its results would go nowhere.
const ORPHANED: Duration = Duration::from_secs(30);

/// One segment's line to its collector.
pub struct Worker {
    client: ApiClient,
    segment: Segment,
    log: RunLog,
}

impl Worker {
    /// A worker of `segment`, reporting to the collector at `collector`.
    pub fn new(collector: Url, segment: Segment, log: RunLog) -> Result<Worker> {
        let tls = crate::protocols::tls::client_config(&[], false)?;
        Ok(Worker { client: ApiClient::new(collector, None, tls), segment, log })
    }

    fn path(&self, what: &str) -> String {
        format!("v1/segments/{}/{what}", self.segment.index)
    }

    /// Says this segment of `test` is ready and waits for every other:
    /// gives the instant they all start.
    pub async fn ready(&self, test: TestId) -> Result<SystemTime> {
        let ready = Ready { segment: self.segment.to_string(), test };
        let start: Start = self.call_patiently(&self.path("ready"), &ready, PATIENCE).await?;
        Ok(UNIX_EPOCH + Duration::from_millis(start.start_at_ms))
    }

    /// Reports the run of `handle` until it ends, then its summary; gives
    /// how it ended.
    pub async fn report(&self, handle: RunHandle) -> Result<Finished> {
        let watch = handle.watch();
        let ticking = async {
            let mut taken = Shard::default();
            let mut heard = Instant::now();
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            ticks.tick().await;
            loop {
                ticks.tick().await;
                match self.tick(&watch, &taken).await {
                    Ok((orders, events)) => {
                        taken = events;
                        heard = Instant::now();
                        if orders.kill {
                            watch.kill();
                        } else if orders.stop && !watch.stopping() {
                            watch.stop();
                        }
                    }
                    Err(error) if heard.elapsed() > ORPHANED && !watch.stopping() => {
                        self.log.line(&format!(
                            "wasmload: segment {}: the collector has not answered for {} s ({error:#}); stopping",
                            self.segment,
                            ORPHANED.as_secs()
                        ));
                        watch.stop();
                    }
                    Err(_) => {}
                }
            }
        };
        let finished = tokio::select! {
            finished = handle.finish() => finished?,
            () = ticking => unreachable!("ticks go on until the run ends"),
        };
        let end = End { summary: finished.summary.clone() };
        let _: serde_json::Value = self.call_patiently(&self.path("end"), &end, ORPHANED).await?;
        Ok(finished)
    }

    /// Sends the events since `taken`; gives the collector's orders and
    /// the events it has now taken.
    async fn tick(&self, watch: &RunWatch, taken: &Shard) -> Result<(Orders, Shard)> {
        let events = watch.stats();
        let since = Summary::new(&events.since(taken), 0, 0, Duration::from_secs(1))?;
        let tick = Tick {
            figures: watch.progress().figures(),
            log_dropped_bytes: watch.log_dropped(),
            events: since,
        };
        let orders = self.call(&self.path("tick"), &tick).await?;
        Ok((orders, events))
    }

    async fn call<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        let body = serde_json::to_vec(body).context("encoding a report")?;
        let answer = self.client.call(Method::POST, path, "application/json", body.into()).await?;
        serde_json::from_value(answer).with_context(|| format!("the collector's answer to {path}"))
    }

    /// [`Worker::call`], tried again every second while the collector
    /// cannot be reached, for up to `patience`; a refusal is final.
    async fn call_patiently<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        patience: Duration,
    ) -> Result<T> {
        let since = Instant::now();
        loop {
            match self.call(path, body).await {
                Ok(answer) => return Ok(answer),
                Err(error) if error.is::<Refused>() => return Err(error),
                Err(error) if since.elapsed() > patience => {
                    return Err(anyhow!(
                        "segment {}: gave up reaching the collector after {} s: {error:#}",
                        self.segment,
                        patience.as_secs()
                    ))
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }
}
