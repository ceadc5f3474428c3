//! The export function: what agencies' machine clients take out of the platform.
//!
//! - `GET /export/v1/feed`: every state change (submitted, returned, certified, rejected,
//!   withdrawn, changed, superseded, consent withdrawn) after an opaque, signed cursor, in order,
//!   each with a stable `event_id` a consumer deduplicates by. The client sees the plans its
//!   registration allows (a ministry: plans addressed to it; the SME Agency: all; ミラサポCONNECT:
//!   only plans whose data-use consent stands).
//!
//! - `POST /export/v1/extracts` and `GET /export/v1/extracts/{id}` (scope `export/extracts`):
//!   a bulk extract of the register as a job (CSV for Excel or NDJSON.gz), written by the worker
//!   ([`worker`], binary `export-worker`) and downloaded through a short-lived link.
//! - `GET /export/v1/public/certified-companies?month=YYYY-MM` (public, no token): the month's
//!   certified companies that chose 公表可, in the SME Agency's published columns (CSV for Excel).
//! - `GET /export/v1/companies/{corporate_number}/certifications` (scope `export/public`): a
//!   company's published certifications in the shape of gBizINFO's `certification` items, so
//!   the platform can feed gBizINFO.
//!
//! The HTTP API's JWT authorizer (template.yaml `AgencyAuthorizer`) checks the token before this
//! function runs; the function maps the token's client to its registration
//! ([`keiryoku_store::Agencies`]).

#![forbid(unsafe_code)]

mod cursor;
pub mod lake;
pub mod worker;

use std::sync::Arc;

use axum::extract::Path;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_domain::feed::{AgencyClient, FeedRecord};
use keiryoku_domain::register::{GbizCertification, PUBLIC_COLUMNS, parse_month};
use keiryoku_http::{ApiError, MachineCaller, QueryParams, Site};
use keiryoku_store::{
    Agencies, Documents, ExtractFormat, ExtractJob, ExtractState, Extracts, Feed, MAX_FEED_PAGE,
    MAX_REGISTER_PAGE, Register,
};
use serde::{Deserialize, Serialize};

pub use cursor::CursorKey;

/// The scope a token needs for the change feed.
pub const FEED_SCOPE: &str = "export/feed";
/// The scope a token needs for bulk extracts.
pub const EXTRACTS_SCOPE: &str = "export/extracts";
/// How long an extract's download link is valid.
const LINK_VALID: std::time::Duration = std::time::Duration::from_secs(300);
/// The scope a token needs for the published certifications of a company (gBizINFO).
pub const PUBLIC_SCOPE: &str = "export/public";

/// The most pages of 1,000 entries one month's public list reads (some 1,500 certifications are
/// made in a month; this bounds a pathological month, not a normal one).
const MONTH_PAGES: usize = 50;

#[derive(Clone)]
pub struct ExportState {
    pub site: Site,
    pub feed: Feed,
    pub agencies: Agencies,
    pub register: Register,
    pub extracts: Extracts,
    /// The bucket extracts are written to (their download links).
    pub documents: Documents,
    pub cursor_key: Arc<CursorKey>,
}

pub fn app(state: ExportState) -> Router {
    let site = state.site.clone();
    site.protect_machine(
        Router::new()
            .route("/export/v1/feed", get(feed))
            .route("/export/v1/extracts", axum::routing::post(request_extract))
            .route("/export/v1/extracts/{id}", get(extract_status))
            .route(
                "/export/v1/public/certified-companies",
                get(certified_companies),
            )
            .route(
                "/export/v1/companies/{corporate_number}/certifications",
                get(company_certifications),
            )
            .with_state(state),
    )
}

/// The export routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        feed,
        request_extract,
        extract_status,
        certified_companies,
        company_certifications
    ),
    components(schemas(
        FeedPageView,
        FeedRecord,
        CompanyCertifications,
        GbizCertification,
        ExtractRequest,
        ExtractView
    ))
)]
pub struct Api;

/// `?cursor=&limit=` of the feed.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// `next_cursor` of the previous page; absent: from the beginning.
    pub cursor: Option<String>,
    /// Events read per page (1–1000, default 100). A page may show fewer: events the client may
    /// not see are skipped.
    pub limit: Option<usize>,
}

/// One page of the change feed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedPageView {
    /// The events this client may see, oldest first.
    pub events: Vec<FeedRecord>,
    /// Where the next page starts: pass it back as `cursor`, also when `events` is empty.
    pub next_cursor: String,
    /// Whether more events already wait after this page (otherwise poll again later).
    pub more: bool,
}

/// The change feed after a cursor.
#[utoipa::path(get, path = "/export/v1/feed", tag = "export", summary = "変更情報（状態の変化）を順に取得する", params(FeedParams), responses((status = 200, description = "変更情報の1ページ", body = FeedPageView), (status = 401, description = "トークンがない、または無効（API Gateway が答える）"), (status = 403, description = "トークンに export/feed がない、または提供先として登録されていない")), security(("agency" = ["export/feed"])))]
async fn feed(
    State(state): State<ExportState>,
    caller: MachineCaller,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Response, ApiError> {
    let agency = registered(&state, &caller, FEED_SCOPE).await?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_FEED_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit は 1 から {MAX_FEED_PAGE} の整数で指定してください。"
        )));
    }
    let key = state.cursor_key.get().await?;
    let after = match params.cursor.as_deref() {
        Some(cursor) => key.open(&caller.client_id, cursor).ok_or_else(|| {
            ApiError::BadRequest(
                "cursor が正しくありません（前のページの next_cursor をそのまま渡してください）。"
                    .into(),
            )
        })?,
        None => 0,
    };
    let page = state.feed.page(after, limit).await?;
    // The consents of every plan the page speaks of (a `superseded` event: two).
    let sharing = if agency.view.needs_data_use_consent {
        let ids: Vec<keiryoku_domain::application::ApplicationId> = page
            .events
            .iter()
            .flat_map(|(_, e)| {
                std::iter::once(e.application_id.clone()).chain(e.related_application_id.clone())
            })
            .collect();
        state.feed.sharing(ids.iter()).await?
    } else {
        Default::default()
    };
    let shares = |id: &keiryoku_domain::application::ApplicationId| {
        sharing.get(id).copied().unwrap_or(false)
    };
    let events: Vec<FeedRecord> = page
        .events
        .into_iter()
        .map(|(_, event)| event)
        .filter(|event| agency.view.sees(event, shares))
        .collect();
    tracing::info!(
        client = %caller.client_id,
        after,
        position = page.position,
        shown = events.len(),
        "feed page"
    );
    Ok(Json(FeedPageView {
        events,
        next_cursor: key.seal(&caller.client_id, page.position),
        more: page.more,
    })
    .into_response())
}

/// The caller's registration, if its token carries `scope` and the client is registered.
async fn registered(
    state: &ExportState,
    caller: &MachineCaller,
    scope: &str,
) -> Result<AgencyClient, ApiError> {
    if !caller.has_scope(scope) {
        return Err(ApiError::Forbidden(format!(
            "このトークンには {scope} の権限がありません。"
        )));
    }
    state.agencies.get(&caller.client_id).await?.ok_or_else(|| {
        ApiError::Forbidden("このクライアントは提供先として登録されていません。".into())
    })
}

/// `?month=` of the public list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthParams {
    /// The month of 認定日 (`YYYY-MM`).
    pub month: String,
}

/// The certified companies of a month that chose 公表可 (認定事業者一覧), as the SME Agency
/// publishes them: CSV for Excel (UTF-8 with BOM, CRLF), columns 認定日, 認定番号, 事業者名,
/// 法人番号, 都道府県, 事業分野, 認定行政庁. Public: no token.
#[utoipa::path(get, path = "/export/v1/public/certified-companies", tag = "export", summary = "公表可の認定事業者一覧（月別、CSV）", params(MonthParams), responses((status = 200, description = "CSV（UTF-8 BOM付き、CRLF）", content_type = "text/csv"), (status = 400, description = "month が YYYY-MM でない")))]
async fn certified_companies(
    State(state): State<ExportState>,
    QueryParams(params): QueryParams<MonthParams>,
) -> Result<Response, ApiError> {
    let month = parse_month(&params.month).ok_or_else(|| {
        ApiError::BadRequest("month は YYYY-MM（例: 2026-04）で指定してください。".into())
    })?;
    let month = format!("{:04}-{:02}", month.year, month.month);
    let mut rows: Vec<Vec<String>> = vec![PUBLIC_COLUMNS.iter().map(|c| c.to_string()).collect()];
    let mut cursor: Option<String> = None;
    for _ in 0..MONTH_PAGES {
        let page = state
            .register
            .month(&month, true, MAX_REGISTER_PAGE, cursor.as_deref())
            .await?;
        rows.extend(page.entries.iter().map(|e| e.public_row().to_vec()));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    if cursor.is_some() {
        tracing::warn!(%month, "public list cut at {MONTH_PAGES} pages");
    }
    let mut response =
        keiryoku_http::csv::attachment(rows, &format!("certified-companies-{month}.csv"))?;
    // Public and the same for everyone: caches may keep it for an hour.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}

/// A company's published certifications, as gBizINFO's `certification` items.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompanyCertifications {
    /// 法人番号.
    pub corporate_number: String,
    /// Oldest first; only certifications whose applicant chose 公表可.
    pub certification: Vec<GbizCertification>,
}

/// The certifications of a company (by 法人番号) that may be published, in gBizINFO's shape.
#[utoipa::path(get, path = "/export/v1/companies/{corporate_number}/certifications", tag = "export", summary = "法人の認定情報（gBizINFO の certification 形式、公表可のみ）", params(("corporate_number" = String, Path, description = "法人番号（13桁）")), responses((status = 200, description = "認定情報", body = CompanyCertifications), (status = 400, description = "法人番号が正しくない"), (status = 401, description = "トークンがない、または無効（API Gateway が答える）"), (status = 403, description = "トークンに export/public がない")), security(("agency" = ["export/public"])))]
async fn company_certifications(
    State(state): State<ExportState>,
    caller: MachineCaller,
    Path(corporate_number): Path<String>,
) -> Result<Response, ApiError> {
    registered(&state, &caller, PUBLIC_SCOPE).await?;
    // Only the 13 ASCII digits we store match; anything else cannot be a key.
    if !corporate_number.bytes().all(|b| b.is_ascii_digit())
        || keiryoku_domain::corporate_number::validate(&corporate_number).is_err()
    {
        return Err(ApiError::BadRequest(
            "法人番号は13桁の数字で、チェックディジットが一致するものを指定してください。".into(),
        ));
    }
    let entries = state
        .register
        .of_company(&corporate_number, MAX_REGISTER_PAGE)
        .await?;
    Ok(Json(CompanyCertifications {
        corporate_number,
        certification: entries
            .iter()
            .filter(|e| e.publication_consent)
            .map(|e| e.gbizinfo())
            .collect(),
    })
    .into_response())
}

/// The body of `POST /export/v1/extracts`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractRequest {
    /// First month of 認定日 (`YYYY-MM`).
    pub from: String,
    /// Last month of 認定日 (`YYYY-MM`), at most 20 years after `from`.
    pub to: String,
    pub format: ExtractFormat,
}

/// An extract job as its client sees it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExtractView {
    pub id: String,
    pub state: ExtractState,
    pub from: String,
    pub to: String,
    pub format: ExtractFormat,
    pub created_at: String,
    /// When a worker started writing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Records written (done).
    pub rows: u64,
    /// Size of the file in bytes (done).
    pub bytes: u64,
    /// A link that downloads the file for five minutes (done); ask the job again for a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Why it failed (failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ExtractView {
    fn of(job: ExtractJob, download_url: Option<String>) -> ExtractView {
        ExtractView {
            id: job.id,
            state: job.state,
            from: job.from,
            to: job.to,
            format: job.format,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            rows: job.rows,
            bytes: job.bytes,
            download_url,
            reason: job.reason,
        }
    }
}

/// Asks for a bulk extract of the certifications (認定台帳) of a period that the client may
/// see; poll the job until it is `done`, then download the file by its link.
#[utoipa::path(post, path = "/export/v1/extracts", tag = "export", summary = "認定情報の一括抽出を依頼する（CSV または NDJSON.gz）", request_body = ExtractRequest, responses((status = 202, description = "受け付けた抽出（Location で状態を確認）", body = ExtractView), (status = 400, description = "期間または形式が正しくない"), (status = 401, description = "トークンがない、または無効（API Gateway が答える）"), (status = 403, description = "トークンに export/extracts がない、または提供先として登録されていない")), security(("agency" = ["export/extracts"])))]
async fn request_extract(
    State(state): State<ExportState>,
    caller: MachineCaller,
    keiryoku_http::JsonBody(body): keiryoku_http::JsonBody<ExtractRequest>,
) -> Result<Response, ApiError> {
    let agency = registered(&state, &caller, EXTRACTS_SCOPE).await?;
    if worker::months(&body.from, &body.to).is_none() {
        return Err(ApiError::BadRequest(
            "from と to は YYYY-MM で、from ≦ to、20年以内で指定してください。".into(),
        ));
    }
    let job = ExtractJob {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: caller.client_id.clone(),
        view: agency.view,
        from: body.from,
        to: body.to,
        format: body.format,
        state: ExtractState::Queued,
        created_at: keiryoku_store::now_rfc3339(),
        started_at: None,
        finished_at: None,
        rows: 0,
        bytes: 0,
        key: None,
        reason: None,
    };
    state.extracts.create(&job).await?;
    tracing::info!(client = %caller.client_id, id = %job.id, "extract requested");
    let location = format!("/export/v1/extracts/{}", job.id);
    let mut response = (
        axum::http::StatusCode::ACCEPTED,
        Json(ExtractView::of(job, None)),
    )
        .into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    Ok(response)
}

/// Where an extract stands; when done, a link valid for five minutes.
#[utoipa::path(get, path = "/export/v1/extracts/{id}", tag = "export", summary = "一括抽出の状態（完了していれば5分間有効なダウンロードURL）", params(("id" = String, Path, description = "抽出のID")), responses((status = 200, description = "抽出の状態", body = ExtractView), (status = 404, description = "この提供先の抽出ではない")), security(("agency" = ["export/extracts"])))]
async fn extract_status(
    State(state): State<ExportState>,
    caller: MachineCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    registered(&state, &caller, EXTRACTS_SCOPE).await?;
    let job = state
        .extracts
        .get(&id)
        .await?
        .filter(|job| job.client_id == caller.client_id)
        .ok_or(ApiError::NotFound)?;
    let link = match (&job.state, &job.key) {
        (ExtractState::Done, Some(key)) => {
            Some(state.documents.presigned_get(key, LINK_VALID).await?)
        }
        _ => None,
    };
    Ok(Json(ExtractView::of(job, link)).into_response())
}
