//! The whole HTTP surface in one table. Each route names its handler; the
//! OpenAPI document is generated from the same handlers, so every route is
//! documented (the test `openapi_document_is_committed` keeps the copy in
//! docs/openapi.json equal to it).

use std::sync::Arc;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::handlers::{components, runs, tenants, ui};
use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wasmload serve",
        description = "Many tenants' load tests side by side, each virtual user a sandboxed \
                       WebAssembly component. Every call but /v1/health and /v1/openapi.json \
                       takes `Authorization: Bearer TOKEN`: the admin's for tenants, a tenant's \
                       for its components and runs. Refusals are `{\"error\": REASON}`."
    ),
    modifiers(&BearerTokens),
    tags(
        (name = "tenants", description = "Made by the admin, each with its token and quotas"),
        (name = "components", description = "A tenant's users, kept by SHA-256"),
        (name = "runs", description = "Load tests: started, watched live, stopped"),
        (name = "reports", description = "A run's results, as `wasmload run` writes them"),
        (name = "server", description = "The server itself"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme the operations name.
struct BearerTokens;

impl Modify for BearerTokens {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every documented route.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ui::health))
        .routes(routes!(tenants::create, tenants::list))
        .routes(routes!(tenants::set_quotas))
        .routes(routes!(tenants::me))
        .routes(routes!(components::upload, components::list))
        .routes(routes!(components::get))
        .routes(routes!(runs::create, runs::list))
        .routes(routes!(runs::get, runs::delete))
        .routes(routes!(runs::stop))
        .routes(routes!(runs::live))
        .routes(routes!(runs::report_json))
        .routes(routes!(runs::report_html))
        .routes(routes!(runs::report_csv))
        .routes(routes!(runs::log))
}

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The service: the API, its document, the web UI.
pub fn router(state: AppState) -> Router {
    let (routes, document) = api().split_for_parts();
    let document: Arc<str> = document.to_pretty_json().unwrap_or_default().into();
    routes
        .route(
            "/v1/openapi.json",
            get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], document.to_string())
            }),
        )
        .route("/", get(ui::page))
        .fallback(|| async {
            ApiError::not_found("no such path; the API is under /v1 (see /v1/openapi.json)".into())
        })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// docs/openapi.json is what the handlers document; to refresh it after
    /// changing them: `WASMLOAD_WRITE_OPENAPI=1 cargo test -p wasmload openapi`.
    #[test]
    fn openapi_document_is_committed() {
        let generated = openapi().to_pretty_json().expect("the document encodes") + "\n";
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        if std::env::var_os("WASMLOAD_WRITE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("writing docs/openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is not the handlers' document: run \
             `WASMLOAD_WRITE_OPENAPI=1 cargo test -p wasmload openapi` and commit it"
        );
    }

    #[test]
    fn every_operation_says_what_it_refuses() {
        let document = openapi();
        for (path, item) in &document.paths.paths {
            let operations = [&item.get, &item.post, &item.put, &item.delete];
            for operation in operations.into_iter().flatten() {
                let statuses: Vec<&String> = operation.responses.responses.keys().collect();
                assert!(
                    statuses.iter().any(|status| status.starts_with('2')),
                    "{path}: {statuses:?}"
                );
                let public = path == "/v1/health";
                assert!(
                    public || statuses.contains(&&"401".to_owned()),
                    "{path} does not document 401"
                );
            }
        }
    }
}
