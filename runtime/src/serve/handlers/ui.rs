//! The web UI: one page, with its script and styles inside, that drives
//! the same API as everyone else; and the server's health.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The page, built into the binary: no outside assets.
const PAGE: &str = include_str!("../ui/index.html");

/// The web UI.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:"),
        ],
        PAGE,
    )
        .into_response()
}

/// Whether the server answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// The server's wasmload version.
    pub version: String,
    /// Whether requests without a token act for the local tenant.
    pub local_mode: bool,
}

/// The server's health; needs no token.
#[utoipa::path(get, path = "/v1/health", tag = "server",
    responses((status = 200, description = "The server answers", body = Health)))]
pub async fn health(
    axum::extract::State(state): axum::extract::State<crate::serve::AppState>,
) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        local_mode: state.local_mode(),
    })
}
