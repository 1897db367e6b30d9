//! A run's live figures for Prometheus: users, requests and failures per
//! (type, name), response-time histograms, dropped iterations and custom
//! metrics, read from the live stats. [`families`] is the one list of
//! them; `--metrics-addr` serves it to be scraped (OpenMetrics text), and
//! `--out prometheus-rw=URL` pushes it ([`super::remote_write`]).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::run::RunWatch;
use crate::stats::Entry;

/// Response-time bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// What a family's samples are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric and its samples.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

/// One value: the family's name plus `suffix` (`_total`, `_bucket`, ...)
/// is the series' name.
#[derive(Debug, Clone)]
pub struct Sample {
    pub suffix: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Sample {
    fn of(suffix: &'static str, labels: Vec<(&'static str, String)>, value: f64) -> Sample {
        Sample { suffix, labels, value }
    }
}

/// The run's figures now.
pub fn families(run: &RunWatch) -> Vec<Family> {
    let snapshot = run.stats();
    let progress = run.progress();
    let mut groups: Vec<_> = snapshot.entries().collect();
    groups.sort_by_key(|(kind, name, _)| (*name, *kind));
    let named = |kind: &str, name: &str| vec![("type", kind.to_owned()), ("name", name.to_owned())];
    let counts = |count: &dyn Fn(&Entry) -> u64| -> Vec<Sample> {
        groups
            .iter()
            .map(|(kind, name, entry)| Sample::of("_total", named(kind, name), count(entry) as f64))
            .collect()
    };
    let mut families = vec![
        Family {
            name: "wasmload_users",
            help: "Users running now",
            kind: Kind::Gauge,
            samples: vec![Sample::of("", Vec::new(), progress.running() as f64)],
        },
        Family {
            name: "wasmload_requests",
            help: "Requests recorded",
            kind: Kind::Counter,
            samples: counts(&|entry| entry.histogram().len()),
        },
        Family {
            name: "wasmload_failures",
            help: "Failed requests",
            kind: Kind::Counter,
            samples: counts(&Entry::failures),
        },
        Family {
            name: "wasmload_dropped_iterations",
            help: "Open model: due iterations that found no free user in time",
            kind: Kind::Counter,
            samples: vec![Sample::of("_total", Vec::new(), progress.dropped() as f64)],
        },
        Family {
            name: "wasmload_response_time_seconds",
            help: "Response times (open model: from each iteration's intended start)",
            kind: Kind::Histogram,
            samples: groups
                .iter()
                .flat_map(|(kind, name, entry)| histogram(named(kind, name), entry.histogram()))
                .collect(),
        },
    ];
    if groups.iter().any(|(_, _, entry)| entry.uncorrected().is_some()) {
        families.push(Family {
            name: "wasmload_response_time_uncorrected_seconds",
            help: "Open model: response times from the actual send",
            kind: Kind::Histogram,
            samples: groups
                .iter()
                .filter_map(|(kind, name, entry)| {
                    Some(histogram(named(kind, name), entry.uncorrected()?))
                })
                .flatten()
                .collect(),
        });
    }
    families.push(Family {
        name: "wasmload_custom",
        help: "Custom counters from guests",
        kind: Kind::Counter,
        samples: snapshot
            .counters()
            .map(|(name, total)| Sample::of("_total", vec![("name", name.to_owned())], total))
            .collect(),
    });
    families.push(Family {
        name: "wasmload_custom_trend",
        help: "Custom trends from guests: median and 95th percentile",
        kind: Kind::Gauge,
        samples: snapshot
            .trends()
            .flat_map(|(name, samples)| {
                [(0.5, "0.5"), (0.95, "0.95")].map(|(quantile, label)| {
                    let labels = vec![("name", name.to_owned()), ("quantile", label.to_owned())];
                    Sample::of("", labels, samples.value_at_quantile(quantile) as f64 / 1000.0)
                })
            })
            .collect(),
    });
    families
}

/// One (type, name)'s response times as a Prometheus histogram: cumulative
/// buckets in seconds, then the sum and the count.
fn histogram(labels: Vec<(&'static str, String)>, times: &Histogram<u64>) -> Vec<Sample> {
    let bounds = BUCKETS
        .iter()
        .map(|bound| (canonical(*bound), times.count_between(0, (bound * 1e6) as u64)));
    let mut samples: Vec<Sample> = bounds
        .chain([("+Inf".to_owned(), times.len())])
        .map(|(bound, cumulative)| {
            let mut labels_with_bound = vec![("le", bound)];
            labels_with_bound.extend(labels.iter().cloned());
            Sample::of("_bucket", labels_with_bound, cumulative as f64)
        })
        .collect();
    let sum = times.mean() * times.len() as f64 / 1e6;
    samples.push(Sample::of("_sum", labels.clone(), sum));
    samples.push(Sample::of("_count", labels, times.len() as f64));
    samples
}

/// A bucket bound as OpenMetrics wants it: `1.0`, not `1`.
fn canonical(bound: f64) -> String {
    let text = format!("{bound}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

/// The families in the OpenMetrics text format.
pub fn openmetrics(families: &[Family]) -> String {
    let mut text = String::new();
    for family in families {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(text, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(text, "# TYPE {} {kind}", family.name);
        for sample in &family.samples {
            text.push_str(family.name);
            text.push_str(sample.suffix);
            if !sample.labels.is_empty() {
                let labels: Vec<String> = sample
                    .labels
                    .iter()
                    .map(|(name, value)| format!("{name}=\"{}\"", escape_label(value)))
                    .collect();
                let _ = write!(text, "{{{}}}", labels.join(","));
            }
            let _ = writeln!(text, " {}", number(sample.value));
        }
    }
    text.push_str("# EOF\n");
    text
}

/// A label value with `\`, `"` and line ends escaped.
fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Whole numbers without a fraction, others as Rust writes them.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

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
    Ok(tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = done.cancelled() => return,
            };
            let Ok((stream, _)) = accepted else { continue };
            let run = run.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let text = openmetrics(&families(&run));
                    async move { Ok::<_, Infallible>(scrape(text)) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }))
}

fn scrape(text: String) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names families() gives its series.
    const SERIES: [&str; 10] = [
        "wasmload_users",
        "wasmload_requests_total",
        "wasmload_failures_total",
        "wasmload_dropped_iterations_total",
        "wasmload_response_time_seconds_bucket",
        "wasmload_response_time_seconds_sum",
        "wasmload_response_time_seconds_count",
        "wasmload_response_time_uncorrected_seconds_bucket",
        "wasmload_custom_total",
        "wasmload_custom_trend",
    ];

    #[test]
    fn the_grafana_dashboard_asks_only_for_series_we_send() {
        let dashboard: serde_json::Value =
            serde_json::from_str(include_str!("../../../deploy/grafana/wasmload.json"))
                .expect("the dashboard is JSON");
        let panels = dashboard["panels"].as_array().expect("panels");
        assert!(!panels.is_empty());
        for target in
            panels.iter().flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
        {
            let expr = target["expr"].as_str().expect("an expression");
            let asked: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|word| word.starts_with("wasmload_"))
                .collect();
            assert!(!asked.is_empty(), "{expr}");
            for name in asked {
                assert!(SERIES.contains(&name), "{expr} asks for {name}");
            }
        }
    }

    #[test]
    fn openmetrics_text_escapes_labels_and_ends_with_eof() {
        let families = [Family {
            name: "wasmload_requests",
            help: "Requests recorded",
            kind: Kind::Counter,
            samples: vec![Sample::of("_total", vec![("name", "/a\"b".into())], 3.0)],
        }];
        let text = openmetrics(&families);
        assert!(text.contains("# TYPE wasmload_requests counter\n"), "{text}");
        assert!(text.contains("wasmload_requests_total{name=\"/a\\\"b\"} 3\n"), "{text}");
        assert!(text.ends_with("# EOF\n"));
        let bounds: Vec<String> = BUCKETS.iter().map(|bound| canonical(*bound)).collect();
        assert_eq!(bounds[0], "0.001");
        assert_eq!(bounds[8], "1.0");
        assert_eq!(bounds[11], "10.0");
    }
}
