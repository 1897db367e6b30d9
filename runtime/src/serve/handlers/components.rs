//! Components: a tenant's uploaded users, kept by their SHA-256.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Param;
use crate::one_line;
use crate::run::{inspect_component, ComponentInfo, RunLog, RunSetting, RunSpec};
use crate::serve::auth::Tenant;
use crate::serve::error::{ApiError, ErrorBody};
use crate::serve::store::ComponentRecord;
use crate::serve::{now, AppState};

/// The longest an upload's bytes may take to arrive.
const UPLOAD_TIME: std::time::Duration = std::time::Duration::from_secs(60);

/// A component as its tenant sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComponentView {
    /// SHA-256 of its bytes, hex: what a run names.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Unix time, seconds.
    pub uploaded_at: i64,
    #[serde(flatten)]
    pub info: ComponentInfo,
}

/// Uploads a component (the `.wasm` bytes), checked as `wasmload inspect`
/// checks it: a component of the `wasmload:user/user` world, importing
/// only what users are granted, whose `describe` answers.
#[utoipa::path(post, path = "/v1/components", tag = "components",
    request_body(description = "The component's bytes", content(
        (Vec<u8> = "application/wasm"),
        (Vec<u8> = "application/octet-stream"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Kept", body = ComponentView),
        (status = 200, description = "Kept already", body = ComponentView),
        (status = 400, description = "Not a usable component", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "It imports what users are not granted", body = ErrorBody),
        (status = 413, description = "Larger than the tenant's component-size quota", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    tenant: Tenant,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<ComponentView>), ApiError> {
    // One slot per upload read, compiled and described: a flood of uploads
    // waits here instead of holding their bytes at once.
    let _slot = state.uploads.acquire().await.map_err(anyhow::Error::from)?;
    let limit = tenant.quotas.component_size;
    let reading = tokio::time::timeout(UPLOAD_TIME, axum::body::to_bytes(body, limit));
    let bytes = reading
        .await
        .map_err(|_| ApiError::bad_request(format!("the upload took longer than {UPLOAD_TIME:?}")))?
        .map_err(|_| {
            ApiError::too_large(format!(
                "the component is larger than this tenant's component-size quota of {limit} bytes"
            ))
        })?;
    let digest = crate::engine::digest(&bytes);
    let (tenant_id, key) = (tenant.id.clone(), digest.clone());
    if let Some(record) = state.db(move |store| store.component(&tenant_id, &key)).await? {
        return Ok((StatusCode::OK, Json(view(record)?)));
    }
    let component =
        state.dispatcher.component(&digest, Some(bytes.to_vec())).await.map_err(|e| {
            ApiError::bad_request(format!(
                "the upload cannot be run: {}",
                one_line(&format!("{e:#}"))
            ))
        })?;
    let mut guest = RunSpec::default().guest;
    guest.task_timeout = guest.task_timeout.min(tenant.quotas.task_timeout);
    guest.max_memory = guest.max_memory.min(tenant.quotas.max_memory);
    let sandbox = crate::run::sandbox(&guest, false).await?;
    sandbox
        .check_imports(component.imports().iter().map(String::as_str))
        .map_err(|e| ApiError::forbidden(format!("the component cannot run here: {e:#}")))?;
    let setting = RunSetting {
        name: "the component".into(),
        log: RunLog::kept(16 << 10),
        ca_files: Vec::new(),
        trust_host_addresses: false,
        segment: crate::scheduler::Segment::WHOLE,
        local_ips: crate::run::LocalIps::default(),
    };
    let info = inspect_component(component, &guest, &setting)
        .await
        .map_err(|e| ApiError::bad_request(one_line(&format!("{e:#}"))))?;
    let record = ComponentRecord {
        digest: digest.clone(),
        size: bytes.len() as u64,
        description: serde_json::to_string(&info).map_err(anyhow::Error::from)?,
        uploaded_at: now(),
    };
    let files = std::sync::Arc::clone(&state.files);
    let (stored, tenant_id) = (record.clone(), tenant.id.clone());
    state
        .db(move |store| {
            files.put(&stored.digest, &bytes)?;
            store.add_component(&tenant_id, &stored)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ComponentView { digest, size: record.size, uploaded_at: record.uploaded_at, info }),
    ))
}

/// Lists the tenant's components, newest first.
#[utoipa::path(get, path = "/v1/components", tag = "components", security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant's components", body = Vec<ComponentView>),
        (status = 401, description = "No token", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<ComponentView>>, ApiError> {
    let records = state.db(move |store| store.components(&tenant.id)).await?;
    records.into_iter().map(view).collect::<Result<_, _>>().map(Json)
}

/// One of the tenant's components.
#[utoipa::path(get, path = "/v1/components/{digest}", tag = "components",
    params(("digest" = String, Path, description = "The component's SHA-256, hex")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The component", body = ComponentView),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "The tenant has no such component", body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    Param(digest): Param<String>,
) -> Result<Json<ComponentView>, ApiError> {
    let key = digest.clone();
    let record = state.db(move |store| store.component(&tenant.id, &key)).await?;
    let record = record.ok_or_else(|| ApiError::not_found(format!("no component `{digest}`")))?;
    Ok(Json(view(record)?))
}

fn view(record: ComponentRecord) -> Result<ComponentView, ApiError> {
    let info = serde_json::from_str(&record.description)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("component {}: {e}", record.digest)))?;
    Ok(ComponentView {
        digest: record.digest,
        size: record.size,
        uploaded_at: record.uploaded_at,
        info,
    })
}
