//! `--metrics-addr`: a Prometheus `/metrics` endpoint while the run goes:
//! users, requests and failures per (type, name), and response-time
//! histograms, computed from the live stats on each scrape.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::run::RunWatch;
use crate::stats::Entry;

/// Response-time bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Binds `addr` now (so a bad address is refused before the run), then
/// serves scrapes until `done`.
pub async fn serve(
    addr: SocketAddr,
    run: RunWatch,
    done: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on --metrics-addr {addr}"))?;
    let mut registry = Registry::default();
    registry.register_collector(Box::new(RunCollector { run }));
    let registry = Arc::new(registry);
    Ok(tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = done.cancelled() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let registry = Arc::clone(&registry);
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let registry = Arc::clone(&registry);
                    async move { Ok::<_, Infallible>(scrape(&registry)) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }))
}

fn scrape(registry: &Registry) -> http::Response<Full<Bytes>> {
    let mut text = String::new();
    let status = match prometheus_client::encoding::text::encode(&mut text, registry) {
        Ok(()) => http::StatusCode::OK,
        Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = http::Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    );
    response
}

/// Reads the live stats on each scrape.
struct RunCollector {
    run: RunWatch,
}

impl std::fmt::Debug for RunCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCollector").finish_non_exhaustive()
    }
}

impl Collector for RunCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.run.stats();
        let progress = self.run.progress();
        let mut groups: Vec<_> = snapshot.entries().collect();
        groups.sort_by_key(|(kind, name, _)| (*name, *kind));

        let mut users = encoder.encode_descriptor(
            "wasmload_users",
            "Users running now",
            None,
            MetricType::Gauge,
        )?;
        users.encode_gauge(&(progress.running() as i64))?;

        let requests = encoder.encode_descriptor(
            "wasmload_requests",
            "Requests recorded",
            None,
            MetricType::Counter,
        )?;
        encode_counts(requests, &groups, |entry| entry.histogram().len())?;
        let failures = encoder.encode_descriptor(
            "wasmload_failures",
            "Failed requests",
            None,
            MetricType::Counter,
        )?;
        encode_counts(failures, &groups, Entry::failures)?;

        let mut dropped = encoder.encode_descriptor(
            "wasmload_dropped_iterations",
            "Open model: due iterations that found no free user in time",
            None,
            MetricType::Counter,
        )?;
        dropped.encode_counter::<NoLabelSet, _, u64>(&progress.dropped(), None)?;

        let times = encoder.encode_descriptor(
            "wasmload_response_time_seconds",
            "Response times (open model: from each iteration's intended start)",
            None,
            MetricType::Histogram,
        )?;
        encode_times(
            times,
            groups.iter().map(|(kind, name, entry)| (*kind, *name, entry.histogram())),
        )?;
        if groups.iter().any(|(_, _, entry)| entry.uncorrected().is_some()) {
            let uncorrected = encoder.encode_descriptor(
                "wasmload_response_time_uncorrected_seconds",
                "Open model: response times from the actual send",
                None,
                MetricType::Histogram,
            )?;
            let histograms = groups
                .iter()
                .filter_map(|(kind, name, entry)| Some((*kind, *name, entry.uncorrected()?)));
            encode_times(uncorrected, histograms)?;
        }

        let mut counters = encoder.encode_descriptor(
            "wasmload_custom",
            "Custom counters from guests",
            None,
            MetricType::Counter,
        )?;
        for (name, total) in snapshot.counters() {
            counters
                .encode_family(&[("name", name)])?
                .encode_counter::<NoLabelSet, _, u64>(&total, None)?;
        }
        let mut trends = encoder.encode_descriptor(
            "wasmload_custom_trend",
            "Custom trends from guests: median and 95th percentile",
            None,
            MetricType::Gauge,
        )?;
        for (name, samples) in snapshot.trends() {
            for (quantile, label) in [(0.5, "0.5"), (0.95, "0.95")] {
                let value = samples.value_at_quantile(quantile) as f64 / 1000.0;
                trends
                    .encode_family(&[("name", name), ("quantile", label)])?
                    .encode_gauge(&value)?;
            }
        }
        Ok(())
    }
}

/// One counter per (type, name), of what `count` reads from its entry.
fn encode_counts(
    mut family: MetricEncoder<'_>,
    groups: &[(&str, &str, &Entry)],
    count: impl Fn(&Entry) -> u64,
) -> Result<(), std::fmt::Error> {
    for (kind, name, entry) in groups {
        let labels = [("type", *kind), ("name", *name)];
        family.encode_family(&labels)?.encode_counter::<NoLabelSet, _, u64>(&count(entry), None)?;
    }
    Ok(())
}

/// Each (type, name)'s response times as a Prometheus histogram family.
fn encode_times<'a>(
    mut family: MetricEncoder<'_>,
    histograms: impl Iterator<Item = (&'a str, &'a str, &'a Histogram<u64>)>,
) -> Result<(), std::fmt::Error> {
    for (kind, name, histogram) in histograms {
        // The encoder wants each bucket's own count and sums them itself.
        let mut below = 0;
        let buckets: Vec<(f64, u64)> = BUCKETS
            .iter()
            .map(|bound| (*bound, histogram.count_between(0, (bound * 1e6) as u64)))
            .chain([(f64::INFINITY, histogram.len())])
            .map(|(bound, cumulative)| {
                (bound, cumulative - std::mem::replace(&mut below, cumulative))
            })
            .collect();
        let sum = histogram.mean() * histogram.len() as f64 / 1e6;
        let labels = [("type", kind), ("name", name)];
        family.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
            sum,
            histogram.len(),
            &buckets,
            None,
        )?;
    }
    Ok(())
}
