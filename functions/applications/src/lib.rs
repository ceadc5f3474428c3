//! The applications function: an applicant's own applications (申請). This first slice creates
//! drafts, reads one and lists the company's applications. Every route is scoped to the session's
//! company: another company's application answers 404, exactly as one that does not exist.

#![forbid(unsafe_code)]

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_http::{ApiError, CurrentSession, FieldError, JsonBody, QueryParams, Site};
use keiryoku_store::{ApplicationRecord, Applications, NewApplication, Sessions};
use serde::Deserialize;

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct ApplicationsState {
    pub site: Site,
    pub sessions: Sessions,
    pub applications: Applications,
}

impl FromRef<ApplicationsState> for Sessions {
    fn from_ref(state: &ApplicationsState) -> Sessions {
        state.sessions.clone()
    }
}

pub fn app(state: ApplicationsState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/applications", get(list).post(create))
            .route("/applications/{id}", get(read))
            .with_state(state),
    )
}

/// The body of `POST /applications`: the plan (様式第1) as far as it has been filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    plan: Option<serde_json::Value>,
}

/// The strong ETag of a version of an application.
fn etag(record: &ApplicationRecord) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", record.version))
        .unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Creates a draft owned by the session's company. 201 with `Location` and `ETag`.
async fn create(
    State(state): State<ApplicationsState>,
    session: CurrentSession,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let plan = match body.plan {
        None => serde_json::Value::Object(Default::default()),
        Some(plan @ serde_json::Value::Object(_)) => plan,
        Some(_) => {
            return Err(ApiError::Validation(vec![FieldError {
                path: "/plan".into(),
                code: "type".into(),
                message: "計画の内容はJSONオブジェクトで送信してください。".into(),
            }]));
        }
    };
    let record = state
        .applications
        .create(NewApplication {
            company_id: session.record.company_id.clone(),
            created_by: session.record.sub.clone(),
            plan,
        })
        .await?;
    tracing::info!(id = %record.id, company = %record.company_id, "draft created");
    let location = HeaderValue::from_str(&format!("/applications/{}", record.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (StatusCode::CREATED, Json(&record)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::ETAG, etag(&record));
    Ok(response)
}

/// Application ids are UUIDs we issue; anything else cannot exist.
fn is_application_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// One application of the session's company, with its `ETag`.
async fn read(
    State(state): State<ApplicationsState>,
    session: CurrentSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !is_application_id(&id) {
        return Err(ApiError::NotFound);
    }
    let record = state.applications.get(&id).await?;
    if record.company_id != session.record.company_id {
        return Err(ApiError::NotFound);
    }
    let mut response = Json(&record).into_response();
    response.headers_mut().insert(header::ETAG, etag(&record));
    Ok(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i32>,
    cursor: Option<String>,
}

const DEFAULT_PAGE: i32 = 20;
const MAX_PAGE: i32 = 100;

/// The company's applications, newest first, `limit` (1–100) per page with a cursor.
async fn list(
    State(state): State<ApplicationsState>,
    session: CurrentSession,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit は 1 から {MAX_PAGE} の整数で指定してください。"
        )));
    }
    let page = state
        .applications
        .list_for_company(&session.record.company_id, limit, params.cursor.as_deref())
        .await?;
    Ok(Json(page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuid_shaped_ids_are_looked_up() {
        assert!(is_application_id("01890a5d-ac96-774b-bcce-b302099a8057"));
        assert!(!is_application_id("../../etc/passwd"));
        assert!(!is_application_id(""));
        assert!(!is_application_id("01890a5d-ac96-774b-bcce-b302099a8057x"));
    }
}
