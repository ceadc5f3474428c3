//! The applications function: an applicant's own applications (申請): create, read, list, edit
//! and delete drafts. Every route is scoped to the session's company: another company's
//! application answers 404, exactly as one that does not exist.
//!
//! Edits never lose work: a write names the version it read in `If-Match` (the `ETag` of the
//! read), a stale version gets 412 and changes nothing, a missing one 428. Edits are JSON Merge
//! Patches (RFC 7396), cheap enough for autosave every few seconds. Draft-level validation
//! problems come back with the saved draft; they never refuse a save.

#![forbid(unsafe_code)]

pub use keiryoku_lifecycle::prefill::{Prefill, Prefiller};

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keiryoku_domain::application::{Application, PlanDocument};
use keiryoku_domain::status::Status;
use keiryoku_domain::validation::{Level, Report};
use keiryoku_http::{
    ApiError, ApplicantSession, FieldError, JsonBody, LogParams, QueryParams, Site, etag,
    idempotency_key, if_match, is_issued_id, wants_html,
};
use keiryoku_lifecycle as lifecycle;
use keiryoku_lifecycle::application_id;
use keiryoku_store::{Applications, Sessions};
use serde::{Deserialize, Serialize};

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct ApplicationsState {
    pub site: Site,
    pub sessions: Sessions,
    pub applications: Applications,
    pub prefiller: Prefiller,
}

impl FromRef<ApplicationsState> for keiryoku_http::Site {
    fn from_ref(state: &ApplicationsState) -> keiryoku_http::Site {
        state.site.clone()
    }
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
            .route("/applications/{id}", get(read).patch(update).delete(remove))
            .route("/applications/{id}/submit", post(submit))
            .route("/applications/{id}/withdraw", post(withdraw))
            .route("/applications/{id}/finalise", post(finalise))
            .route(
                "/applications/{id}/consent/withdraw",
                post(withdraw_consent),
            )
            .route("/applications/{id}/change", post(start_change))
            .route("/applications/{id}/history", get(history))
            .route("/prefill", get(preview_prefill))
            .with_state(state),
    )
    .layer(axum::middleware::from_fn(keiryoku_http::notices::guard))
}

/// The body of `POST /applications`: the plan (様式第1) as far as it has been filled in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The plan (様式第1) as far as it is filled in; `kind` cannot be sent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    plan: Option<serde_json::Value>,
    /// Fill the applicant section from GビズID and gBizINFO first.
    #[serde(default)]
    prefill: bool,
}

/// An application as answered: the stored record and what draft validation finds in its plan.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationView<'a> {
    #[serde(flatten)]
    record: &'a Application,
    validation: Report,
    /// What prefill filled in (only when the draft was created with `"prefill": true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    prefill: Option<&'a Prefill>,
}

/// What a new draft would be prefilled with, and where each value comes from.
#[utoipa::path(get, path = "/prefill", tag = "applications", summary = "GビズIDとGビズインフォから事前入力される内容（出典付き）", description = "Gビズインフォの障害時もGビズIDの情報で答える。", responses((status = 200, description = "事前入力の内容", body = Prefill)), security(("session" = [])))]
async fn preview_prefill(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
) -> Result<Response, ApiError> {
    Ok(Json(state.prefiller.prefill(&session.record).await).into_response())
}

/// The answer for one application: JSON with its draft-level validation, and its `ETag`.
fn respond(status: StatusCode, record: &Application, prefill: Option<&Prefill>) -> Response {
    let today = keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc());
    let seen = record.as_seen_by_applicant();
    let view = ApplicationView {
        record: &seen,
        validation: record.validate(Level::Draft, today),
        prefill,
    };
    let mut response = (status, Json(view)).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(record.version));
    response
}

/// 201 with `Location` for a new application.
fn created(record: &Application, prefill: Option<&Prefill>) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(&format!("/applications/{}", record.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = respond(StatusCode::CREATED, record, prefill);
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// Creates a draft owned by the session's company, prefilled from GビズID and gBizINFO when
/// asked (the request's own values win). 201 with `Location` and `ETag`.
#[utoipa::path(post, path = "/applications", tag = "applications", summary = "下書きを作成する", request_body = CreateBody, responses((status = 201, description = "作成した下書き（Location と ETag 付き）", body = ApplicationView)), security(("session" = [])))]
async fn create(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let plan = match body.plan {
        None => serde_json::Value::Object(Default::default()),
        Some(plan @ serde_json::Value::Object(_)) => plan,
        Some(_) => return Err(not_an_object("/plan")),
    };
    let prefill = match body.prefill {
        true => Some(state.prefiller.prefill(&session.record).await),
        false => None,
    };
    let plan = match &prefill {
        Some(prefill) => {
            let mut merged = prefill.plan.clone();
            json_patch::merge(&mut merged, &plan);
            merged
        }
        None => plan,
    };
    let plan = PlanDocument::from_value(plan).ok_or_else(|| not_an_object("/plan"))?;
    let record = lifecycle::create_draft(&state.applications, &session.applicant(), plan).await?;
    created(&record, prefill.as_ref())
}

fn not_an_object(path: &str) -> ApiError {
    ApiError::Validation(vec![FieldError {
        path: path.into(),
        code: "type".into(),
        message: "計画の内容はJSONオブジェクトで送信してください。".into(),
    }])
}

/// One application of the session's company, with its `ETag`.
#[utoipa::path(get, path = "/applications/{id}", tag = "applications", summary = "申請を読む（ETag 付き）", params(("id" = String, Path, description = "申請ID")), responses((status = 200, description = "申請と下書きの検証結果", body = ApplicationView)), security(("session" = [])))]
async fn read(
    State(state): State<ApplicationsState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    session: Result<ApplicantSession, ApiError>,
) -> Result<Response, ApiError> {
    // A person following a link (an older mail, a bookmark) gets the application's page.
    if wants_html(&headers) && is_issued_id(&id) {
        let mut response = StatusCode::SEE_OTHER.into_response();
        let location = HeaderValue::from_str(&format!("/plans/{id}"))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        response.headers_mut().insert(header::LOCATION, location);
        return Ok(response);
    }
    let session = session?;
    let record = lifecycle::owned(
        &state.applications,
        &session.applicant(),
        &application_id(&id)?,
    )
    .await?;
    Ok(respond(StatusCode::OK, &record, None))
}

/// Applies a JSON Merge Patch to the plan (RFC 7396: `null` removes a field) and saves it.
#[utoipa::path(patch, path = "/applications/{id}", tag = "applications", summary = "下書きを更新する（JSON Merge Patch）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), request_body(content = Object, content_type = "application/merge-patch+json", description = "計画（様式第1）への JSON Merge Patch（RFC 7396）。/kind は変更できない"), responses((status = 200, description = "保存した申請（新しい ETag）", body = ApplicationView)), security(("session" = [])))]
async fn update(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let serde_json::Value::Object(patch) = patch else {
        return Err(ApiError::Validation(vec![FieldError {
            path: String::new(),
            code: "type".into(),
            message: "変更内容はJSONオブジェクト（JSON Merge Patch）で送信してください。".into(),
        }]));
    };
    let applicant = session.applicant();
    let record = lifecycle::save(&state.applications, &applicant, &id, &patch, expected).await?;
    Ok(respond(StatusCode::OK, &record, None))
}

/// Deletes a draft (only drafts can be deleted; submitted applications are withdrawn instead).
#[utoipa::path(delete, path = "/applications/{id}", tag = "applications", summary = "下書きを削除する", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), responses((status = 204, description = "削除した")), security(("session" = [])))]
async fn remove(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    lifecycle::delete_draft(&state.applications, &session.applicant(), &id, expected).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Submits (申請) a draft or a returned application (see [`lifecycle::submit`]). `If-Match`
/// optional, `Idempotency-Key` required: a retry answers the same and never submits twice.
#[utoipa::path(post, path = "/applications/{id}/submit", tag = "applications", summary = "申請する（電子申請）", description = "全項目を検証し、名称・法人番号・代表者をGビズIDの情報にして、提出先・受付番号・受付日時・処理期限を記録する。同じ Idempotency-Key の再送は同じ結果を返す。", params(("id" = String, Path, description = "申請ID"), ("Idempotency-Key" = String, Header, description = "この操作に固有の値。再送時は同じ値"), ("If-Match" = Option<String>, Header, description = "読み込んだときの ETag（任意）")), responses((status = 200, description = "受け付けた申請", body = ApplicationView)), security(("session" = [])))]
async fn submit(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let key = idempotency_key(&headers)?;
    let expected = match headers.contains_key(header::IF_MATCH) {
        true => Some(if_match(&headers)?),
        false => None,
    };
    let applicant = session.applicant();
    let done = lifecycle::submit(&state.applications, &applicant, &id, expected, &key).await?;
    Ok(respond(StatusCode::OK, &done.application, None))
}

/// Withdraws (取下げ) a draft, a submitted or a returned application. `If-Match` required.
#[utoipa::path(post, path = "/applications/{id}/withdraw", tag = "applications", summary = "取り下げる", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), responses((status = 200, description = "取り下げた申請", body = ApplicationView)), security(("session" = [])))]
async fn withdraw(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let applicant = session.applicant();
    let record = lifecycle::withdraw(&state.applications, &applicant, &id, expected).await?;
    Ok(respond(StatusCode::OK, &record, None))
}

/// Withdraws the data-use consent (データ利活用同意の撤回) given with the filed plan: from now on
/// consent-bound agencies get nothing more of it, and the change feed tells them to delete what
/// they hold. `If-Match` required.
#[utoipa::path(post, path = "/applications/{id}/consent/withdraw", tag = "applications", summary = "データ利活用の同意を撤回する", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), responses((status = 200, description = "同意を撤回した申請", body = ApplicationView), (status = 409, description = "撤回できる同意がない")), security(("session" = [])))]
async fn withdraw_consent(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let applicant = session.applicant();
    let record =
        lifecycle::withdraw_data_use_consent(&state.applications, &applicant, &id, expected)
            .await?;
    Ok(respond(StatusCode::OK, &record, None))
}

/// Finalises a complete plan for paper when its authorities do not all take e-filing: the
/// applicant then prints the application PDF and posts it. `If-Match` required.
#[utoipa::path(post, path = "/applications/{id}/finalise", tag = "applications", summary = "紙申請用に確定する（電子申請を受け付けない提出先）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), responses((status = 200, description = "確定した申請", body = ApplicationView)), security(("session" = [])))]
async fn finalise(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let applicant = session.applicant();
    let record =
        lifecycle::finalise_for_paper(&state.applications, &applicant, &id, expected).await?;
    Ok(respond(StatusCode::OK, &record, None))
}

/// Starts a change application (変更申請) from a certified plan of the company. One-shot: takes
/// an `Idempotency-Key`, and a retry answers the draft the first call created.
#[utoipa::path(post, path = "/applications/{id}/change", tag = "applications", summary = "認定された計画から変更申請の下書きを作成する", params(("id" = String, Path, description = "申請ID"), ("Idempotency-Key" = String, Header, description = "この操作に固有の値。再送時は同じ値")), responses((status = 201, description = "変更申請の下書き", body = ApplicationView), (status = 200, description = "同じキーで作成済みの下書き", body = ApplicationView)), security(("session" = [])))]
async fn start_change(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let key = idempotency_key(&headers)?;
    let applicant = session.applicant();
    let done = lifecycle::start_change(&state.applications, &applicant, &id, &key).await?;
    match done.fresh {
        true => created(&done.application, None),
        false => Ok(respond(StatusCode::OK, &done.application, None)),
    }
}

/// The audit trail of one of the company's applications, oldest first. Read-only: no route
/// changes or deletes it.
#[utoipa::path(get, path = "/applications/{id}/history", tag = "applications", summary = "申請の監査記録（自社の申請のみ）", params(("id" = String, Path, description = "申請ID"), LogParams), responses((status = 200, description = "古い順、1ページ分（続きは next_cursor）", body = History)), security(("session" = [])))]
async fn history(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<LogParams>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let page = lifecycle::history(
        &state.applications,
        &session.applicant(),
        &id,
        keiryoku_store::Order::OldestFirst,
        params.limit(HISTORY_PAGE)?,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(Json(History::from(page)).into_response())
}

/// Audit records per page unless the client asks for fewer or more (up to 200).
pub const HISTORY_PAGE: i32 = 100;

/// One page of an audit trail, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct History {
    pub items: Vec<keiryoku_store::AuditRecord>,
    /// The `cursor` of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<keiryoku_store::LogPage<keiryoku_store::AuditRecord>> for History {
    fn from(page: keiryoku_store::LogPage<keiryoku_store::AuditRecord>) -> History {
        History {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

/// The applications routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list,
    create,
    read,
    update,
    remove,
    submit,
    withdraw,
    withdraw_consent,
    finalise,
    start_change,
    history,
    preview_prefill
))]
pub struct Api;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListParams {
    limit: Option<i32>,
    cursor: Option<String>,
    status: Option<Status>,
}

const DEFAULT_PAGE: i32 = 20;
const MAX_PAGE: i32 = 100;

/// The company's applications, newest first, `limit` (1–100) per page with a cursor.
#[utoipa::path(get, path = "/applications", tag = "applications", summary = "自社の申請の一覧（新しい順）", params(ListParams), responses((status = 200, description = "1ページ分の申請", body = keiryoku_store::ApplicationPage)), security(("session" = [])))]
async fn list(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit は 1 から {MAX_PAGE} の整数で指定してください。"
        )));
    }
    let mut page = state
        .applications
        .list_for_company(
            &session.applicant().company_id,
            params.status,
            limit,
            params.cursor.as_deref(),
        )
        .await?;
    for item in &mut page.items {
        *item = item.as_seen_by_applicant();
    }
    Ok(Json(page).into_response())
}
