//! `wasmload submit`: a run on a `wasmload serve` server, seen from here
//! as `run` shows a local one: upload the component, start the run, show
//! it live, print the table and thresholds, write the report files, and
//! exit with the run's exit code, so CI can gate on a shared server.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::run::{print_thresholds, write_outputs};
use super::SubmitArgs;
use crate::client::ApiClient;
use crate::report;
use crate::report::thresholds::Verdict;
use crate::run::{BadInput, LiveSnapshot};
use crate::stats::Summary;

/// Why `submit` could not see its run through; `code` is its exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SubmitFailed {
    pub code: u8,
    pub message: String,
}

/// Runs `args`'s test on the server and reports it here.
pub async fn submit(args: SubmitArgs) -> Result<()> {
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read {}", args.component.display()))
        .map_err(BadInput)?;
    let tls = crate::protocols::tls::client_config(&args.ca_cert, false).map_err(BadInput)?;
    let server = ApiClient::new(args.server.clone(), args.token.clone(), tls);
    let uploaded =
        server.call(Method::POST, "v1/components", "application/wasm", bytes.into()).await?;
    let digest = uploaded["digest"].as_str().ok_or_else(|| anyhow!("the server gave no digest"))?;
    let mut options = args.spec.to_options();
    options.insert("component".into(), Value::String(digest.to_owned()));
    let body = serde_json::to_vec(&options).context("encoding the run")?;
    let made = server.call(Method::POST, "v1/runs", "application/json", body.into()).await?;
    let id = made["id"].as_str().ok_or_else(|| anyhow!("the server gave no run id"))?.to_owned();
    eprintln!("wasmload: run {id} on {}", args.server);

    let (publish, snapshots) = watch::channel(Arc::new(LiveSnapshot::default()));
    let done = CancellationToken::new();
    let live = tokio::spawn(report::live::show(snapshots, done.clone()));
    let stops = tokio::spawn(forward_stops(Arc::new(server.clone()), id.clone()));
    let end = follow(&server, &id, &publish).await;
    stops.abort();
    done.cancel();
    let _ = live.await;
    let end = end?;
    finish(&server, &id, &end, &args).await
}

/// The first Ctrl-C or SIGTERM stops the run on the server gracefully, a
/// second one at once; either way the results are still fetched.
async fn forward_stops(server: Arc<ApiClient>, id: String) {
    for path in [format!("v1/runs/{id}/stop"), format!("v1/runs/{id}/stop?now=true")] {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("wasmload: stopping run {id} on the server");
        if let Err(error) = server.call(Method::POST, &path, "", Bytes::new()).await {
            eprintln!("wasmload: {error:#}");
        }
    }
}

/// Follows the run's events until its `end`, publishing snapshots.
async fn follow(
    server: &ApiClient,
    id: &str,
    publish: &watch::Sender<Arc<LiveSnapshot>>,
) -> Result<Value> {
    let response =
        server.send(Method::GET, &format!("v1/runs/{id}/live"), "", Bytes::new()).await?;
    if response.status() != StatusCode::OK {
        bail!("the server answered {} to the live view", response.status());
    }
    let mut body = response.into_body();
    let mut pending = String::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("the live view broke off")?;
        let Some(data) = frame.data_ref() else { continue };
        pending.push_str(&String::from_utf8_lossy(data));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let (kind, data) = parse_event(&event);
            match kind {
                "snapshot" => {
                    if let Ok(snapshot) = serde_json::from_str::<LiveSnapshot>(&data) {
                        publish.send_replace(Arc::new(snapshot));
                    }
                }
                "end" => return serde_json::from_str(&data).context("the run's end is unreadable"),
                _ => {}
            }
        }
    }
    bail!("the server closed the live view before the run ended")
}

/// An event's name and its data lines joined.
fn parse_event(event: &str) -> (&str, String) {
    let mut kind = "message";
    let mut data = Vec::new();
    for line in event.lines() {
        if let Some(name) = line.strip_prefix("event:") {
            kind = name.trim();
        } else if let Some(text) = line.strip_prefix("data:") {
            data.push(text.strip_prefix(' ').unwrap_or(text));
        }
    }
    (kind, data.join("\n"))
}

/// Prints and writes the run's results and gives its exit code.
async fn finish(server: &ApiClient, id: &str, end: &Value, args: &SubmitArgs) -> Result<()> {
    let state = end["state"].as_str().unwrap_or("unknown");
    let exit_code = end["exit_code"].as_u64().and_then(|code| u8::try_from(code).ok());
    let summary =
        server.call(Method::GET, &format!("v1/runs/{id}/report.json"), "", Bytes::new()).await;
    match summary {
        Ok(summary) => {
            let summary: Summary =
                serde_json::from_value(summary).context("the summary is unreadable")?;
            write_outputs(&summary, &args.outputs)?;
        }
        Err(error) if state == "finished" || state == "stopped" => return Err(error),
        Err(_) => {}
    }
    let verdicts: Vec<Verdict> = end["thresholds"]
        .as_array()
        .map(|verdicts| {
            verdicts
                .iter()
                .map(|verdict| Verdict {
                    threshold: String::new(),
                    held: verdict["held"].as_bool().unwrap_or(false),
                    line: verdict["line"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    print_thresholds(&verdicts);
    let reason = end["reason"].as_str();
    let failed = verdicts.iter().filter(|verdict| !verdict.held).count();
    match (state, exit_code) {
        ("finished" | "stopped", Some(0)) => Ok(()),
        ("finished" | "stopped", Some(code)) if failed > 0 => Err(SubmitFailed {
            code,
            message: format!("{failed} of {} thresholds failed", verdicts.len()),
        }
        .into()),
        (_, code) => Err(SubmitFailed {
            code: code.unwrap_or(1),
            message: match reason {
                Some(reason) => format!("run {id} {state}: {reason}"),
                None => format!("run {id} {state} with exit code {}", code.unwrap_or(1)),
            },
        }
        .into()),
    }
}
