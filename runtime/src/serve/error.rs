//! Refusals: an HTTP status and one line saying why, as
//! `{"error": "..."}`. Every handler and extractor answers with these, so a
//! client never has to parse text.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do, in one line.
    pub error: String,
}

/// A refusal with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    reason: String,
}

impl ApiError {
    fn new(status: StatusCode, reason: String) -> ApiError {
        ApiError { status, reason }
    }

    /// 400: the request is malformed or names a bad option.
    pub fn bad_request(reason: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }

    /// 401: no token, or one the server does not know.
    pub fn unauthorized(reason: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, reason.to_owned())
    }

    /// 403: known, but not allowed to do this.
    pub fn forbidden(reason: String) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, reason)
    }

    /// 404: nothing of the caller's by that name.
    pub fn not_found(reason: String) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, reason)
    }

    /// 409: not in this state.
    pub fn conflict(reason: String) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, reason)
    }

    /// 413: the body is larger than allowed.
    pub fn too_large(reason: String) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, reason)
    }

    /// 429: a quota says no.
    pub fn quota(reason: String) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, reason)
    }

    /// 500: the server failed; the cause is logged, not shown.
    pub fn internal(error: anyhow::Error) -> ApiError {
        eprintln!("wasmload serve: {error:#}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server's log".into(),
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> ApiError {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody { error: self.reason })).into_response()
    }
}

/// axum's own refusals of a body, path or query, as one-line errors.
fn rejection(status: StatusCode, text: String) -> ApiError {
    let line = text.lines().next().unwrap_or_default().to_owned();
    ApiError::new(status, line)
}

impl From<JsonRejection> for ApiError {
    /// A body that is JSON but not what the call takes is a 400 too.
    fn from(rejection_: JsonRejection) -> ApiError {
        let status = match rejection_.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            status => status,
        };
        rejection(status, rejection_.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection_: BytesRejection) -> ApiError {
        rejection(rejection_.status(), rejection_.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection_: PathRejection) -> ApiError {
        rejection(rejection_.status(), rejection_.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection_: QueryRejection) -> ApiError {
        rejection(rejection_.status(), rejection_.body_text())
    }
}
