//! A stand-in for gBizINFO's REST API on the local stack: `GET /hojin/v2/hojin/{number}` answers
//! from `infra/gbizinfo/hojin.json` (the shapes of docs/integrations.md §2.3, including `"Null"`
//! strings and numbers as strings), 404 for numbers it does not list, 401 without the token, and
//! misbehaves on purpose where the file says so (late answers, 5xx) so prefill's tolerance can be
//! tested.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::LocalError;

/// The token the stand-in expects (put in moto's SSM for the applications function).
pub const TOKEN: &str = "keiryoku-local-gbizinfo-token";

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    #[serde(default)]
    answer: Option<serde_json::Value>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    status: Option<u16>,
}

#[derive(Debug, Deserialize)]
struct Fixture {
    companies: HashMap<String, Entry>,
}

/// Loads the answers and serves them on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    fixture: &std::path::Path,
) -> Result<(), LocalError> {
    let text = std::fs::read_to_string(fixture)
        .map_err(LocalError::io(format!("read {}", fixture.display())))?;
    let fixture: Fixture = serde_json::from_str(&text)
        .map_err(|e| LocalError::Setup(format!("{}: {e}", fixture.display())))?;
    let router = Router::new()
        .route("/hojin/v2/hojin/{number}", get(hojin))
        .with_state(Arc::new(fixture.companies));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("[gbizinfo] stopped: {e}");
        }
    });
    Ok(())
}

async fn hojin(
    State(companies): State<Arc<HashMap<String, Entry>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    if headers
        .get("x-hojininfo-api-token")
        .and_then(|v| v.to_str().ok())
        != Some(TOKEN)
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"id": null, "message": "401 - Unauthorized.", "errors": [{"item": "X-hojinInfo-api-token", "message": "invalid token"}], "hojin-infos": null})),
        )
            .into_response();
    }
    let Some(entry) = companies.get(&number) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"id": number, "message": "404 - Not Found.", "errors": [{"item": "corporate_number", "message": "該当するデータが存在しません"}], "hojin-infos": null})),
        )
            .into_response();
    };
    if let Some(ms) = entry.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(status) = entry.status {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    axum::Json(json!({
        "id": number,
        "message": "200 - OK.",
        "errors": null,
        "hojin-infos": entry.answer.iter().collect::<Vec<_>>(),
    }))
    .into_response()
}
