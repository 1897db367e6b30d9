//! `--out prometheus-rw=URL` (k6's name): pushes the run's Prometheus
//! figures ([`super::prometheus::families`], the same the scrape endpoint
//! serves) to a remote-write receiver every 5 s and once at the end,
//! labelled `job="wasmload"` and `run="<id>"` so runs never mix. A push
//! that fails is said once per failing streak and never stops the run.
//! Remote write 1.0: a protobuf `WriteRequest`, snappy block-compressed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::prometheus::{families, Family};
use crate::client::{http_client, HttpClient};
use crate::run::{RunLog, RunWatch};

/// How often figures are pushed.
const EVERY: Duration = Duration::from_secs(5);

/// The longest one push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(double, tag = "1")]
    value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

/// Parses `--out`: `prometheus-rw=URL`.
pub fn parse_output(text: &str) -> Result<Url, String> {
    let Some(url) = text.strip_prefix("prometheus-rw=") else {
        return Err(format!("`{text}` is not an output: the one there is prometheus-rw=URL"));
    };
    let url = Url::parse(url).map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("`{url}`: remote write goes over http or https, not {other}")),
    }
}

/// Pushes `run`'s figures to `url` every 5 s until `done`, then once more.
pub fn push_every(
    url: Url,
    run: RunWatch,
    log: RunLog,
    done: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let pusher = match Pusher::new(url) {
            Ok(pusher) => pusher,
            Err(error) => return log.line(&format!("wasmload: --out prometheus-rw: {error:#}")),
        };
        let run_id = crate::hex(&fastrand::u64(..).to_be_bytes());
        log.line(&format!("wasmload: pushing figures to {} as run=\"{run_id}\"", pusher.url));
        let mut failing = false;
        let mut ticks = tokio::time::interval(EVERY);
        // After a slow push, the next waits its 5 s rather than catching up.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let last = tokio::select! {
                _ = ticks.tick() => false,
                _ = done.cancelled() => true,
            };
            match pusher.push(&families(&run), &run_id).await {
                Ok(()) => failing = false,
                Err(error) if !failing => {
                    log.line(&format!(
                        "wasmload: --out prometheus-rw: {error:#} (the run goes on; pushes are tried again)"
                    ));
                    failing = true;
                }
                Err(_) => {}
            }
            if last {
                return;
            }
        }
    })
}

struct Pusher {
    url: Url,
    client: HttpClient,
}

impl Pusher {
    fn new(url: Url) -> Result<Pusher> {
        let tls = crate::protocols::tls::client_config(&[], false)?;
        Ok(Pusher { url, client: http_client(tls) })
    }

    async fn push(&self, families: &[Family], run_id: &str) -> Result<()> {
        let body = encode(families, run_id, SystemTime::now())?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .header(http::header::CONTENT_ENCODING, "snappy")
            .header(http::header::USER_AGENT, concat!("wasmload/", env!("CARGO_PKG_VERSION")))
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(Full::new(Bytes::from(body)))
            .context("building a remote-write request")?;
        let answered = tokio::time::timeout(PUSH_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| {
                anyhow!("{} did not answer within {} s", self.url, PUSH_TIMEOUT.as_secs())
            })?
            .map_err(|e| {
                anyhow!("cannot reach {}: {}", self.url, crate::protocols::error_chain(&e))
            })?;
        let status = answered.status();
        if status.is_success() {
            return Ok(());
        }
        let text =
            answered.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
        let reason = String::from_utf8_lossy(&text[..text.len().min(200)]).trim().to_owned();
        Err(anyhow!("{} answered {status}: {reason}", self.url))
    }
}

/// `families` as a snappy-compressed `WriteRequest`, every sample at `at`.
fn encode(families: &[Family], run_id: &str, at: SystemTime) -> Result<Vec<u8>> {
    let timestamp = at.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as i64);
    let mut timeseries = Vec::new();
    for family in families {
        for sample in &family.samples {
            let mut labels = vec![
                Label {
                    name: "__name__".into(),
                    value: format!("{}{}", family.name, sample.suffix),
                },
                Label { name: "job".into(), value: "wasmload".into() },
                Label { name: "run".into(), value: run_id.to_owned() },
            ];
            labels.extend(
                sample
                    .labels
                    .iter()
                    .map(|(name, value)| Label { name: (*name).to_owned(), value: value.clone() }),
            );
            // Receivers want labels sorted by name, and none empty.
            labels.retain(|label| !label.value.is_empty());
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            timeseries.push(TimeSeries {
                labels,
                samples: vec![Sample { value: sample.value, timestamp }],
            });
        }
    }
    let request = WriteRequest { timeseries };
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .context("compressing a remote-write request")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::prometheus::{Kind, Sample as Value};

    #[test]
    fn a_write_request_holds_sorted_labels_and_reads_back() {
        let families = [Family {
            name: "wasmload_requests",
            help: "",
            kind: Kind::Counter,
            samples: vec![Value {
                suffix: "_total",
                labels: vec![("type", "GET".into()), ("name", "/".into())],
                value: 7.0,
            }],
        }];
        let body = encode(&families, "abc", UNIX_EPOCH + Duration::from_secs(2)).unwrap();
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let request = WriteRequest::decode(raw.as_slice()).unwrap();
        let series = &request.timeseries[0];
        let names: Vec<&str> = series.labels.iter().map(|label| label.name.as_str()).collect();
        assert_eq!(names, ["__name__", "job", "name", "run", "type"]);
        assert_eq!(series.labels[0].value, "wasmload_requests_total");
        assert_eq!(series.samples, [Sample { value: 7.0, timestamp: 2000 }]);
        assert!(parse_output("influxdb=http://x").unwrap_err().contains("prometheus-rw=URL"));
        assert!(parse_output("prometheus-rw=ftp://x/").is_err());
    }
}
