//! Tenants: made and given quotas by the admin.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, Param};
use crate::serve::auth::{hash_token, new_id, new_token, Admin, Tenant};
use crate::serve::error::{ApiError, ErrorBody};
use crate::serve::quotas::Quotas;
use crate::serve::store::TenantRecord;
use crate::serve::{now, AppState};

/// A tenant to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// A name unique on this server.
    pub name: String,
    /// Left out (or any quota left out): the server's defaults.
    #[serde(default)]
    #[schema(value_type = Option<Quotas>)]
    pub quotas: Option<serde_json::Value>,
}

/// A tenant as the admin sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub quotas: Quotas,
    /// Unix time, seconds.
    pub created_at: i64,
}

/// A tenant just made, with its token: shown this once, stored only hashed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewTenantAnswer {
    pub id: String,
    pub name: String,
    pub token: String,
    pub quotas: Quotas,
}

/// The longest tenant name.
const MAX_NAME: usize = 64;

/// Makes a tenant.
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = NewTenant,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Made; the token is shown only now", body = NewTenantAnswer),
        (status = 400, description = "Bad name or quotas", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Not the admin token", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _admin: Admin,
    Body(new): Body<NewTenant>,
) -> Result<(StatusCode, Json<NewTenantAnswer>), ApiError> {
    let name = new.name.trim().to_owned();
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err(ApiError::bad_request(format!(
            "`{}` is not a tenant name: 1 to {MAX_NAME} letters, digits, `-`, `_` or `.`",
            new.name.chars().take(MAX_NAME).collect::<String>()
        )));
    }
    let quotas = Quotas::from_given(new.quotas.as_ref(), state.max_users, state.max_memory)?;
    let token = new_token()?;
    let record = TenantRecord {
        id: new_id(8)?,
        name: name.clone(),
        quotas: serde_json::to_string(&quotas).map_err(anyhow::Error::from)?,
        created_at: now(),
    };
    let stored = record.clone();
    let hash = hash_token(&token);
    if !state.db(move |store| store.add_tenant(&stored, &hash)).await? {
        return Err(ApiError::conflict(format!("a tenant named `{name}` exists")));
    }
    state.has_tenants.store(true, Ordering::Release);
    Ok((StatusCode::CREATED, Json(NewTenantAnswer { id: record.id, name, token, quotas })))
}

/// Lists the tenants.
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every tenant", body = Vec<TenantView>),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Not the admin token", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    let records = state.db(|store| store.tenants()).await?;
    let mut views = Vec::new();
    for record in records {
        views.push(view(record)?);
    }
    Ok(Json(views))
}

/// Replaces a tenant's quotas; runs already made keep theirs.
#[utoipa::path(put, path = "/v1/tenants/{id}/quotas", tag = "tenants", request_body = Quotas,
    params(("id" = String, Path, description = "The tenant's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant with its new quotas", body = TenantView),
        (status = 400, description = "Bad quotas", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Not the admin token", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
pub async fn set_quotas(
    State(state): State<AppState>,
    _admin: Admin,
    Param(id): Param<String>,
    Body(given): Body<serde_json::Value>,
) -> Result<Json<TenantView>, ApiError> {
    let quotas = Quotas::from_given(Some(&given), state.max_users, state.max_memory)?;
    let text = serde_json::to_string(&quotas).map_err(anyhow::Error::from)?;
    let key = id.clone();
    if !state.db(move |store| store.set_quotas(&key, &text)).await? {
        return Err(ApiError::not_found(format!("no tenant `{id}`")));
    }
    let record = state.db(move |store| store.tenant(&id)).await?;
    let record = record.ok_or_else(|| ApiError::not_found("the tenant is gone".into()))?;
    Ok(Json(view(record)?))
}

fn view(record: TenantRecord) -> Result<TenantView, ApiError> {
    let quotas = serde_json::from_str(&record.quotas)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("tenant {}'s quotas: {e}", record.id)))?;
    Ok(TenantView { id: record.id, name: record.name, quotas, created_at: record.created_at })
}

/// The tenant a token acts for, and its quotas.
#[utoipa::path(get, path = "/v1/me", tag = "tenants", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's tenant", body = TenantView),
        (status = 401, description = "No token", body = ErrorBody),
    ))]
pub async fn me(tenant: Tenant) -> Json<TenantView> {
    Json(TenantView {
        id: tenant.id,
        name: tenant.name,
        quotas: tenant.quotas,
        created_at: tenant.created_at,
    })
}
