//! The platform function: `GET /health`, and the `$default` route that answers 404 or 405 as
//! problem+json for every request no other route takes.

#![forbid(unsafe_code)]

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
}

pub fn app(state: PlatformState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/health", get(health))
            .fallback(unmatched)
            .with_state(state),
    )
}

/// 200 when the table and the bucket answer, 503 naming what does not.
async fn health(State(state): State<PlatformState>) -> Response {
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
    });
    (status, Json(body)).into_response()
}

async fn unmatched(request: Request) -> ApiError {
    fallback::unmatched(ROUTES, request.method(), request.uri().path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_comes_from_the_template() {
        assert!(ROUTES.contains(&("GET", "/applications/{id}")));
        assert!(ROUTES.contains(&("POST", "/auth/logout")));
        assert!(!ROUTES.iter().any(|(_, p)| *p == "$default"));
    }
}
