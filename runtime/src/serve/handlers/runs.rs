//! Runs: started from a spec naming one of the tenant's components,
//! watched live, stopped, and their reports downloaded.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

use super::{Body, Param};
use crate::report;
use crate::report::thresholds::Verdict;
use crate::run::{self, ComponentInfo, LiveSnapshot, RunSpec};
use crate::serve::auth::{new_id, Tenant};
use crate::serve::dispatch::StopOutcome;
use crate::serve::error::{ApiError, ErrorBody};
use crate::serve::store::{RunRecord, RunState};
use crate::serve::{now, AppState};
use crate::stats::{Summary, Totals};

/// A run as its tenant sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    pub id: String,
    pub state: RunState,
    /// What `wasmload run` would have exited with: 0, 99 when a threshold
    /// failed, 2 for a spec or component to fix, 1 for other failures.
    pub exit_code: Option<i64>,
    /// Why it failed, was interrupted, or stopped early.
    pub reason: Option<String>,
    /// The component's digest.
    pub component: String,
    /// The run's options, defaults and quota limits filled in.
    #[schema(value_type = Object)]
    pub options: Map<String, Value>,
    /// Unix times, seconds.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Users (and one scratch instance) it holds of the server's capacity.
    pub reserved_users: u32,
    /// Requests and failures so far (or in all, once ended).
    pub totals: Option<Totals>,
    /// How its thresholds fared, once ended.
    pub thresholds: Option<Vec<VerdictView>>,
}

/// How one threshold fared.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerdictView {
    pub held: bool,
    /// e.g. `p95<300ms: p95 = 12.3 ms`.
    pub line: String,
}

impl From<&Verdict> for VerdictView {
    fn from(verdict: &Verdict) -> VerdictView {
        VerdictView { held: verdict.held, line: verdict.line.clone() }
    }
}

/// A run just made.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewRunAnswer {
    pub id: String,
    pub state: RunState,
}

/// A run to make: `component` and any option of `wasmload run` by its
/// long name, as in wasmload.toml (`"users": 10`, `"run-time": "5m"`,
/// `"param": {"K": "V"}`, `"threshold": ["p95<300ms"]`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRun {
    /// The digest of one of the tenant's components.
    pub component: String,
    #[serde(flatten)]
    #[schema(schema_with = run_options_schema)]
    pub options: Map<String, Value>,
}

/// The run options, from the flags of `wasmload run`: one property per
/// option, with its help text.
fn run_options_schema() -> utoipa::openapi::schema::Object {
    use clap::Args;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let command = RunSpec::augment_args(clap::Command::new("run"));
    let mut object = ObjectBuilder::new().schema_type(Type::Object);
    for arg in command.get_arguments() {
        let Some(key) = run::spec::option_key(arg) else { continue };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        object = object.property(key, option_schema(arg, &help));
    }
    object.build()
}

/// One option's schema: a flag is a boolean, a repeatable option a list
/// (`param` a table of texts), any other a text or a number.
fn option_schema(arg: &clap::Arg, help: &str) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let scalar =
        || ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Number]));
    let schema = match arg.get_action() {
        clap::ArgAction::SetTrue => {
            ObjectBuilder::new().schema_type(Type::Boolean).description(Some(help)).into()
        }
        clap::ArgAction::Append if arg.get_id() == "params" => ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(help))
            .into(),
        clap::ArgAction::Append => {
            ArrayBuilder::new().items(scalar()).description(Some(help)).into()
        }
        _ => scalar().description(Some(help)).into(),
    };
    schema
}

/// `?now=true`: stop at once.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StopQuery {
    /// Abandon running tasks instead of giving them the stop timeout.
    #[serde(default)]
    pub now: bool,
}

/// Starts a run (or queues it until the server has room).
#[utoipa::path(post, path = "/v1/runs", tag = "runs", request_body = NewRun,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Made; queued or running", body = NewRunAnswer),
        (status = 400, description = "A bad option", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "A host, import or option the tenant may not use", body = ErrorBody),
        (status = 404, description = "The tenant has no such component", body = ErrorBody),
        (status = 429, description = "Over a quota (named)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    Body(NewRun { component, options }): Body<NewRun>,
) -> Result<(StatusCode, Json<NewRunAnswer>), ApiError> {
    let (tenant_id, key) = (tenant.id.clone(), component.clone());
    let record = state.db(move |store| store.component(&tenant_id, &key)).await?;
    let record =
        record.ok_or_else(|| ApiError::not_found(format!("no component `{component}`")))?;
    let info: ComponentInfo =
        serde_json::from_str(&record.description).map_err(anyhow::Error::from)?;
    let mut spec = RunSpec::from_options(&options).map_err(|e| ApiError::bad_request(e.0))?;
    tenant.quotas.fit(&mut spec, info.shaped).await?;
    let reserved = run::capacity(&spec, info.shaped);
    let capacity = state.dispatcher.capacity();
    if reserved > capacity {
        return Err(ApiError::quota(format!(
            "the run needs {reserved} user instances at once; this server holds {capacity} (--max-users)"
        )));
    }
    let tenant_id = tenant.id.clone();
    let (stored, active) = state.db(move |store| store.run_counts(&tenant_id)).await?;
    if stored >= tenant.quotas.stored_runs {
        return Err(ApiError::quota(format!(
            "this tenant keeps {stored} runs, its stored-runs quota; delete old ones (DELETE /v1/runs/ID)"
        )));
    }
    if active >= u64::from(tenant.quotas.concurrent_runs) {
        return Err(ApiError::quota(format!(
            "this tenant has {active} runs queued or running, its concurrent-runs quota"
        )));
    }
    let run = RunRecord {
        id: new_id(8)?,
        tenant_id: tenant.id.clone(),
        component,
        spec: serde_json::to_string(&spec).map_err(anyhow::Error::from)?,
        state: RunState::Queued,
        exit_code: None,
        reason: None,
        created_at: now(),
        started_at: None,
        ended_at: None,
        reserved_users: reserved,
    };
    let stored = run.clone();
    state.db(move |store| store.add_run(&stored)).await?;
    state.dispatcher.wake();
    Ok((StatusCode::CREATED, Json(NewRunAnswer { id: run.id, state: RunState::Queued })))
}

/// Lists the tenant's runs, newest first.
#[utoipa::path(get, path = "/v1/runs", tag = "runs", security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's runs", body = Vec<RunView>),
        (status = 401, description = "No token", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<RunView>>, ApiError> {
    let records = state.db(move |store| store.runs(&tenant.id)).await?;
    let mut views = Vec::new();
    for record in records {
        views.push(view(record, None, None)?);
    }
    Ok(Json(views))
}

/// One of the tenant's runs.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The run", body = RunView),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "The tenant has no such run", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<Json<RunView>, ApiError> {
    let record = find(&state, &tenant, &id).await?;
    Ok(Json(full_view(&state, record).await?))
}

/// A run with its totals (live while it runs) and its thresholds' verdicts.
async fn full_view(state: &AppState, record: RunRecord) -> Result<RunView, ApiError> {
    let watch = state.dispatcher.watch(&record.id).filter(|_| !record.state.ended());
    if let Some(watch) = watch {
        let snapshot = watch.snapshot();
        let totals =
            Totals { requests: snapshot.requests, failures: snapshot.failures, rps: snapshot.rps };
        return view(record, Some(totals), None);
    }
    let id = record.id.clone();
    let results = state.db(move |store| store.run_results(&id)).await?;
    #[derive(Deserialize)]
    struct Partial {
        totals: Totals,
    }
    let totals = results
        .summary
        .as_deref()
        .and_then(|text| serde_json::from_str::<Partial>(text).ok())
        .map(|partial| partial.totals);
    let verdicts = results.verdicts.as_deref().and_then(|text| serde_json::from_str(text).ok());
    view(record, totals, verdicts)
}

/// Stops a run: no new tasks; running ones get the stop timeout (or,
/// with `now`, are abandoned). A queued run is stopped without starting.
#[utoipa::path(post, path = "/v1/runs/{id}/stop", tag = "runs",
    params(("id" = String, Path, description = "The run's id"), StopQuery),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Stopping (or stopped, if it was queued)", body = NewRunAnswer),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "The tenant has no such run", body = ErrorBody),
        (status = 409, description = "The run has ended", body = ErrorBody),
    ))]
pub async fn stop(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
    query: Result<Query<StopQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(StatusCode, Json<NewRunAnswer>), ApiError> {
    let Query(query) = query?;
    let record = find(&state, &tenant, &id).await?;
    if record.state.ended() {
        return Err(ApiError::conflict(format!("run {id} has ended ({})", record.state.as_str())));
    }
    let state_now = match state.dispatcher.stop(&id, query.now).await? {
        StopOutcome::Stopping => RunState::Running,
        StopOutcome::StoppedQueued => RunState::Stopped,
        StopOutcome::AlreadyEnded => {
            return Err(ApiError::conflict(format!("run {id} has ended")));
        }
    };
    Ok((StatusCode::ACCEPTED, Json(NewRunAnswer { id, state: state_now })))
}

/// Deletes an ended run and its results.
#[utoipa::path(delete, path = "/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "The tenant has no such run", body = ErrorBody),
        (status = 409, description = "The run is queued or running: stop it first", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<StatusCode, ApiError> {
    let record = find(&state, &tenant, &id).await?;
    if !record.state.ended() {
        return Err(ApiError::conflict(format!(
            "run {id} is {}: stop it first",
            record.state.as_str()
        )));
    }
    let tenant_id = tenant.id.clone();
    if !state.db(move |store| store.delete_run(&tenant_id, &id)).await? {
        return Err(ApiError::conflict("the run cannot be deleted now".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The run live, as Server-Sent Events: a `snapshot` event a second while
/// it runs (a `state` event while it is queued), then one `end` event
/// with its state and exit code.
#[utoipa::path(get, path = "/v1/runs/{id}/live", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Events: `snapshot` (a LiveSnapshot), `state`, `end` (a RunView)", content_type = "text/event-stream", body = LiveSnapshot),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "The tenant has no such run", body = ErrorBody),
        (status = 429, description = "The tenant has too many live views open", body = ErrorBody),
    ))]
pub async fn live(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    find(&state, &tenant, &id).await?;
    let view = crate::serve::Service::open_live_view(&state, &tenant.id).ok_or_else(|| {
        ApiError::quota(format!(
            "this tenant has {} live views open, all it may; close one",
            crate::serve::LIVE_VIEWS_PER_TENANT
        ))
    })?;
    let (events, stream) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        let _view = view;
        let send = |event: Event| {
            let events = events.clone();
            async move { events.send(Ok(event)).await.is_ok() }
        };
        let mut streamed = false;
        loop {
            if let (Some(watch), false) = (state.dispatcher.watch(&id), streamed) {
                streamed = true;
                let mut snapshots = watch.subscribe();
                loop {
                    let snapshot = std::sync::Arc::clone(&snapshots.borrow_and_update());
                    let Ok(event) = Event::default().event("snapshot").json_data(&*snapshot) else {
                        return;
                    };
                    if !send(event).await {
                        return;
                    }
                    if snapshots.changed().await.is_err() {
                        break;
                    }
                }
            }
            let key = id.clone();
            let Ok(Some(record)) = state.db(move |store| store.run(None, &key)).await else {
                return;
            };
            if record.state.ended() {
                let Ok(view) = full_view(&state, record).await else { return };
                if let Ok(event) = Event::default().event("end").json_data(&view) {
                    send(event).await;
                }
                return;
            }
            if record.state == RunState::Queued {
                let Ok(event) = Event::default()
                    .event("state")
                    .json_data(serde_json::json!({"state": "queued"}))
                else {
                    return;
                };
                if !send(event).await {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    Ok(Sse::new(ReceiverStream::new(stream)).keep_alive(KeepAlive::default()))
}

/// The run's summary: what `wasmload run --json` writes (so far, while
/// it runs).
#[utoipa::path(get, path = "/v1/runs/{id}/report.json", tag = "reports",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The summary", body = Summary),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "No such run, or it has no results", body = ErrorBody),
        (status = 409, description = "The run has not started", body = ErrorBody),
    ))]
pub async fn report_json(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(summary(&state, &tenant, &id).await?))
}

/// The run's self-contained HTML report.
#[utoipa::path(get, path = "/v1/runs/{id}/report.html", tag = "reports",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content_type = "text/html", body = String),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "No such run, or it has no results", body = ErrorBody),
        (status = 409, description = "The run has not started", body = ErrorBody),
    ))]
pub async fn report_html(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    let summary = summary(&state, &tenant, &id).await?;
    let page = report::html::render(&summary)?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
}

/// One of the run's Locust-compatible CSV files: `stats.csv`,
/// `failures.csv`, `stats_history.csv`, `run.csv`, and, when they apply,
/// `stats_uncorrected.csv` and `custom_metrics.csv`.
#[utoipa::path(get, path = "/v1/runs/{id}/csv/{file}", tag = "reports",
    params(("id" = String, Path, description = "The run's id"), ("file" = String, Path, description = "e.g. stats.csv")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file", content_type = "text/csv", body = String),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "No such run or file", body = ErrorBody),
        (status = 409, description = "The run has not started", body = ErrorBody),
    ))]
pub async fn report_csv(
    State(state): State<AppState>,
    tenant: Tenant,
    Param((id, file)): Param<(String, String)>,
) -> Result<Response, ApiError> {
    let summary = summary(&state, &tenant, &id).await?;
    let name = file.strip_suffix(".csv").unwrap_or(&file);
    let files = report::csv::files(&summary)?;
    let Some((_, rows)) = files.iter().find(|(file_name, _)| *file_name == name) else {
        let names: Vec<String> = files.iter().map(|(name, _)| format!("{name}.csv")).collect();
        return Err(ApiError::not_found(format!("no `{file}`: this run has {}", names.join(", "))));
    };
    let text = report::csv::text(rows)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// The run's own log: its first trap of each kind, its guests' log lines
/// (within `max-log-rate`), its newest 256 KiB.
#[utoipa::path(get, path = "/v1/runs/{id}/log", tag = "reports",
    params(("id" = String, Path, description = "The run's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The log", content_type = "text/plain", body = String),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
pub async fn log(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(id): Param<String>,
) -> Result<Response, ApiError> {
    find(&state, &tenant, &id).await?;
    let text = match state.dispatcher.watch(&id) {
        Some(watch) => watch.log_lines().join("\n"),
        None => state.db(move |store| store.run_results(&id)).await?.log.unwrap_or_default(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The tenant's run `id`: another tenant's is as absent as none.
async fn find(state: &AppState, tenant: &Tenant, id: &str) -> Result<RunRecord, ApiError> {
    let (tenant_id, key) = (tenant.id.clone(), id.to_owned());
    state
        .db(move |store| store.run(Some(&tenant_id), &key))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run `{id}`")))
}

/// The run's summary so far, or its stored one.
async fn summary(state: &AppState, tenant: &Tenant, id: &str) -> Result<Summary, ApiError> {
    let record = find(state, tenant, id).await?;
    if let Some(watch) = state.dispatcher.watch(id) {
        return Ok(watch.summary_so_far()?);
    }
    if record.state == RunState::Queued {
        return Err(ApiError::conflict(format!("run {id} has not started")));
    }
    let key = id.to_owned();
    let results = state.db(move |store| store.run_results(&key)).await?;
    match results.summary {
        Some(text) => Ok(serde_json::from_str(&text).map_err(anyhow::Error::from)?),
        None if record.state == RunState::Running => {
            Err(ApiError::conflict(format!("run {id} is starting; it has no results yet")))
        }
        None => {
            Err(ApiError::not_found(format!("run {id} has no results: it ended before it ran")))
        }
    }
}

fn view(
    record: RunRecord,
    totals: Option<Totals>,
    thresholds: Option<Vec<VerdictView>>,
) -> Result<RunView, ApiError> {
    let options = match serde_json::from_str(&record.spec) {
        Ok(Value::Object(options)) => options,
        _ => Map::new(),
    };
    Ok(RunView {
        id: record.id,
        state: record.state,
        exit_code: record.exit_code,
        reason: record.reason,
        component: record.component,
        options,
        created_at: record.created_at,
        started_at: record.started_at,
        ended_at: record.ended_at,
        reserved_users: record.reserved_users,
        totals,
        thresholds,
    })
}
