//! The platform function: `GET /health`, `GET /openapi.json` (the API's OpenAPI 3.1 document),
//! and the `$default` route that answers 404 or 405 as problem+json for every request no other
//! route takes.

#![forbid(unsafe_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_http::{ApiError, Site, fallback};
use keiryoku_store::Health;
use serde_json::json;

include!(concat!(env!("OUT_DIR"), "/routes.rs"));

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct PlatformState {
    pub site: Site,
    pub health: Health,
    /// The last health answer and when it was made: reused for [`HEALTH_FRESH`], so a flood of
    /// /health costs no AWS calls.
    pub last_health: Arc<Mutex<Option<(Instant, StatusCode, serde_json::Value)>>>,
}

impl PlatformState {
    pub fn new(site: Site, health: Health) -> PlatformState {
        PlatformState {
            site,
            health,
            last_health: Arc::new(Mutex::new(None)),
        }
    }
}

/// How long one health answer stands.
pub const HEALTH_FRESH: Duration = Duration::from_secs(10);

pub fn app(state: PlatformState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/health", get(health))
            .route("/openapi.json", get(openapi))
            .fallback(unmatched)
            .with_state(state),
    )
}

/// 200 when the table and the bucket answer, 503 naming what does not.
/// The platform routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(health, openapi))]
pub struct Api;

#[utoipa::path(get, path = "/health", tag = "platform", summary = "稼働確認（DynamoDB と S3 への到達性。結果は10秒間再利用）", responses((status = 200, description = "正常", body = Object), (status = 503, description = "到達できない依存先を示す")))]
async fn health(State(state): State<PlatformState>) -> Response {
    let cached = state
        .last_health
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if let Some((at, status, body)) = cached
        && at.elapsed() < HEALTH_FRESH
    {
        return (status, Json(body)).into_response();
    }
    let (table, bucket) = tokio::join!(
        state.health.table_reachable(),
        state.health.bucket_reachable()
    );
    let describe = |r: &Result<(), keiryoku_store::StoreError>| match r {
        Ok(()) => "reachable",
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            "unreachable"
        }
    };
    let status = if table.is_ok() && bucket.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if status == StatusCode::OK { "ok" } else { "degraded" },
        "dynamodb": describe(&table),
        "s3": describe(&bucket),
        // To the nanosecond: an answer reused from the cache shows the same instant.
        "checked_at": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    });
    *state
        .last_health
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((Instant::now(), status, body.clone()));
    (status, Json(body)).into_response()
}

/// The OpenAPI 3.1 document of every route (`openapi.json`, kept in step with template.yaml by
/// a test).
pub const OPENAPI: &str = include_str!("../openapi.json");

#[utoipa::path(get, path = "/openapi.json", tag = "platform", summary = "この API 定義（OpenAPI 3.1）", responses((status = 200, description = "OpenAPI 3.1 文書", body = Object)))]
async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

/// 404 / 405 for what no route takes: problem+json, or the page a person reads when a browser
/// asks (a mistyped or outdated address).
async fn unmatched(request: Request) -> Response {
    let error = fallback::unmatched(ROUTES, request.method(), request.uri().path());
    let browser = keiryoku_web::wants_html(request.headers());
    match error {
        ApiError::NotFound if browser => keiryoku_web::PageError::NotFound.into_response(),
        other => other.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of template.yaml is documented, and every documented operation is a route.
    #[test]
    fn openapi_documents_exactly_the_template_routes() {
        let doc: serde_json::Value = match serde_json::from_str(OPENAPI) {
            Ok(doc) => doc,
            Err(e) => panic!("openapi.json: {e}"),
        };
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "patch", "delete"] {
                if item.get(method).is_some() {
                    documented.push((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        let mut routes: Vec<(String, String)> = ROUTES
            .iter()
            .filter(|route| !PAGE_ROUTES.contains(route))
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        routes.sort();
        for route in &routes {
            assert!(
                documented.contains(route),
                "{route:?} is in template.yaml but not in openapi.json"
            );
        }
        for operation in &documented {
            assert!(
                routes.contains(operation),
                "{operation:?} is in openapi.json but not a route of template.yaml"
            );
        }
    }

    #[test]
    fn route_table_comes_from_the_template() {
        assert!(ROUTES.contains(&("GET", "/applications/{id}")));
        assert!(ROUTES.contains(&("POST", "/auth/logout")));
        assert!(!ROUTES.iter().any(|(_, p)| *p == "$default"));
        assert!(PAGE_ROUTES.contains(&("GET", "/plans/{id}")));
        assert!(PAGE_ROUTES.contains(&("POST", "/staff/cases/{id}/approve")));
        assert!(!PAGE_ROUTES.contains(&("GET", "/staff/login")));
        assert!(ROUTES.contains(&("GET", "/plans/{id}")));
    }
}
