//! Who a request acts for. A handler that takes [`Tenant`] cannot run
//! without a tenant's token, and gets only that tenant's id to scope its
//! queries by; one that takes [`Admin`] needs the admin token. Tokens are
//! random, shown once, and stored only as SHA-256 hashes.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ring::rand::SecureRandom;

use super::error::ApiError;
use super::quotas::Quotas;
use super::store::TenantRecord;
use super::AppState;
use crate::hex;

/// The id of the token-less tenant of a server on loopback with no tenants.
pub const LOCAL_TENANT: &str = "local";

/// The tenant a request acts for.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub quotas: Quotas,
    pub created_at: i64,
}

/// A request made with the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// A new token: 32 random bytes, hex, after a `wl_` prefix.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("no random numbers for a token"))?;
    Ok(format!("wl_{}", hex(&bytes)))
}

/// A random id of `bytes` random bytes, hex.
pub fn new_id(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buffer)
        .map_err(|_| anyhow::anyhow!("no random numbers for an id"))?;
    Ok(hex(&buffer))
}

/// The SHA-256 of a token, hex: what is stored.
pub fn hash_token(token: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// The bearer token of a request, if it has one.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    match text.strip_prefix("Bearer ") {
        Some(token) if !token.trim().is_empty() => Ok(Some(token.trim())),
        _ => Err(ApiError::unauthorized("give the token as `Authorization: Bearer TOKEN`")),
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Tenant, ApiError> {
        let record = match bearer(parts)? {
            Some(token) => {
                let hash = hash_token(token);
                if hash == state.admin_hash {
                    return Err(ApiError::forbidden(
                        "the admin token manages tenants; act on runs with a tenant's token".into(),
                    ));
                }
                state
                    .db(move |store| store.tenant_by_token(&hash))
                    .await?
                    .ok_or_else(|| ApiError::unauthorized("unknown token"))?
            }
            None if state.local_mode() => local_tenant(state).await?,
            None => {
                return Err(ApiError::unauthorized(
                    "this request needs a tenant's token: `Authorization: Bearer TOKEN`",
                ))
            }
        };
        let quotas = serde_json::from_str(&record.quotas).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("tenant {}'s quotas: {e}", record.id))
        })?;
        Ok(Tenant { id: record.id, name: record.name, quotas, created_at: record.created_at })
    }
}

/// The local tenant, made on first use with quotas as wide as the server.
async fn local_tenant(state: &AppState) -> Result<TenantRecord, ApiError> {
    if let Some(record) = state.db(|store| store.tenant(LOCAL_TENANT)).await? {
        return Ok(record);
    }
    let quotas = Quotas::local(state.max_users, state.max_memory);
    let record = TenantRecord {
        id: LOCAL_TENANT.into(),
        name: LOCAL_TENANT.into(),
        quotas: serde_json::to_string(&quotas).map_err(anyhow::Error::from)?,
        created_at: super::now(),
    };
    let stored = record.clone();
    // No token: only token-less requests reach it, and only in local mode.
    let unguessable = hash_token(&new_token()?);
    state.db(move |store| store.add_tenant(&stored, &unguessable)).await?;
    Ok(record)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        match bearer(parts)? {
            Some(token) if hash_token(token) == state.admin_hash => Ok(Admin),
            Some(_) => Err(ApiError::forbidden("this needs the admin token".into())),
            None => Err(ApiError::unauthorized(
                "this needs the admin token: `Authorization: Bearer TOKEN`",
            )),
        }
    }
}
