//! A worker: runs one segment and reports it to the collector: ready once
//! its component is loaded and planned, then a tick a second (its counts
//! and the events since the last tick taken), then its final summary. It
//! obeys the stop the collector sends back, and stops by itself when the
//! collector is gone.

use std::future::Future;
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
use crate::stats::Summary;
use tokio_util::sync::CancellationToken;

/// How long a worker keeps trying to reach a collector that is not up
/// yet (a pod may start before the collector's).
const PATIENCE: Duration = Duration::from_secs(300);

/// A running worker that hears nothing from its collector for this long
/// stops: its results would go nowhere.
const ORPHANED: Duration = Duration::from_secs(30);

/// The longest one report may take to be answered.
const ANSWER: Duration = Duration::from_secs(10);

/// The longest `ready` waits for its answer: the collector answers once
/// every segment is ready, or when it gives up waiting (`--ready-timeout`).
const START: Duration = Duration::from_secs(24 * 3600);

/// One segment's line to its collector.
pub struct Worker {
    client: ApiClient,
    segment: Segment,
    log: RunLog,
    /// A thread of its own for reporting: behind thousands of users busy
    /// starting, a tick on the run's threads could wait longer than the
    /// collector's patience.
    reporting: Option<tokio::runtime::Runtime>,
}

impl Worker {
    /// A worker of `segment`, reporting to the collector at `collector`
    /// (with https, trusting the CA certificates in `ca_files` too).
    pub fn new(
        collector: Url,
        segment: Segment,
        log: RunLog,
        ca_files: &[std::path::PathBuf],
    ) -> Result<Worker> {
        let tls = crate::protocols::tls::client_config(ca_files, false)?;
        let reporting = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wasmload-report")
            .enable_all()
            .build()
            .context("cannot start the reporting thread")?;
        Ok(Worker {
            client: ApiClient::new(collector, None, tls),
            segment,
            log,
            reporting: Some(reporting),
        })
    }

    fn path(&self, what: &str) -> String {
        format!("v1/segments/{}/{what}", self.segment.index)
    }

    /// Runs `work` on the reporting thread.
    async fn on_reporting<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let reporting = self.reporting.as_ref().context("the reporting thread is gone")?;
        reporting.spawn(work).await.context("the reporting thread failed")?
    }

    /// Says this segment of `test` is ready and waits for every other:
    /// gives the instant they all start.
    pub async fn ready(&self, test: TestId) -> Result<SystemTime> {
        let ready = Ready { segment: self.segment.to_string(), test };
        let start: Start =
            self.call_patiently(&self.path("ready"), &ready, PATIENCE, START).await?;
        Ok(UNIX_EPOCH + Duration::from_millis(start.start_at_ms))
    }

    /// Reports the run of `handle` until it ends, then its summary; gives
    /// how it ended. The segment was stopped on this machine (by a signal)
    /// if `signalled` is cancelled by then.
    pub async fn report(
        &self,
        handle: RunHandle,
        signalled: &CancellationToken,
    ) -> Result<Finished> {
        let watch = handle.watch();
        let ticking = async {
            let mut heard = Instant::now();
            let mut failing = false;
            // The first at once: a stop ordered before the start arrives now.
            let mut ticks = tokio::time::interval(Duration::from_secs(1));
            loop {
                ticks.tick().await;
                match self.tick(&watch).await {
                    Ok(orders) => {
                        heard = Instant::now();
                        failing = false;
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
                    Err(error) => {
                        if !failing {
                            self.log.line(&format!(
                                "wasmload: segment {}: cannot report to the collector ({error:#}); trying again",
                                self.segment
                            ));
                        }
                        failing = true;
                    }
                }
            }
        };
        let finished = tokio::select! {
            finished = handle.finish() => finished?,
            () = ticking => unreachable!("ticks go on until the run ends"),
        };
        let interrupted = signalled.is_cancelled().then(|| {
            format!(
                "stopped on its own machine (a signal) after {:.1} s",
                finished.summary.duration_s
            )
        });
        let end = End { summary: finished.summary.clone(), interrupted };
        let _: serde_json::Value =
            self.call_patiently(&self.path("end"), &end, ORPHANED, ANSWER).await?;
        Ok(finished)
    }

    /// Sends every event so far and the counts; gives the collector's orders.
    async fn tick(&self, watch: &RunWatch) -> Result<Orders> {
        let (watch, client, path) = (watch.clone(), self.client.clone(), self.path("tick"));
        self.on_reporting(async move {
            let tick = Tick {
                figures: watch.progress().figures(),
                log_dropped_bytes: watch.log_dropped(),
                events: Summary::new(&watch.stats(), 0, 0, Duration::from_secs(1))?,
            };
            call(&client, &path, &tick, ANSWER).await
        })
        .await
    }

    /// [`call`] with answers awaited up to `answer_within`, tried again
    /// every second while the collector cannot be reached, for up to
    /// `patience`; a refusal is final.
    async fn call_patiently<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        body: &impl Serialize,
        patience: Duration,
        answer_within: Duration,
    ) -> Result<T> {
        let body = serde_json::to_value(body).context("encoding a report")?;
        let (client, path, segment) = (self.client.clone(), path.to_owned(), self.segment);
        let log = self.log.clone();
        self.on_reporting(async move {
            let since = Instant::now();
            let mut said = false;
            loop {
                match call(&client, &path, &body, answer_within).await {
                    Ok(answer) => return Ok(answer),
                    Err(error) if error.is::<Refused>() => return Err(error),
                    Err(error) if !said => {
                        log.line(&format!(
                            "wasmload: segment {segment}: cannot reach the collector yet ({error:#}); trying for up to {} s",
                            patience.as_secs()
                        ));
                        said = true;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Err(error) if since.elapsed() > patience => {
                        return Err(anyhow!(
                        "segment {segment}: gave up reaching the collector after {} s: {error:#}",
                        patience.as_secs()
                    ))
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        })
        .await
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Dropping a runtime may block, which async code must not.
        if let Some(reporting) = self.reporting.take() {
            reporting.shutdown_background();
        }
    }
}

/// Posts `body` to the collector's `path` and reads its answer, within `limit`.
async fn call<T: DeserializeOwned>(
    client: &ApiClient,
    path: &str,
    body: &impl Serialize,
    limit: Duration,
) -> Result<T> {
    let body = serde_json::to_vec(body).context("encoding a report")?;
    let sent = client.call(Method::POST, path, "application/json", body.into());
    let answer = tokio::time::timeout(limit, sent)
        .await
        .map_err(|_| anyhow!("no answer within {} s", limit.as_secs()))??;
    serde_json::from_value(answer).with_context(|| format!("the collector's answer to {path}"))
}
