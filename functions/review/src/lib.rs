//! The review function (審査): the staff side. A reviewer works the queue of their own authority
//! only: cases routed elsewhere answer 404, exactly as cases that do not exist.
//!
//! - `GET /review/queue`: applications waiting for this authority's decision, earliest due date
//!   first, overdue ones flagged.
//! - `GET /review/cases` and `/review/cases.csv`: search with every condition in the URL, cursor
//!   pagination; the CSV extract of the same search (UTF-8 with BOM, CRLF, Japanese header),
//!   written to the documents bucket and downloaded through a short-lived link.
//! - `GET /review/cases/{id}`: the case, with the diff against the version returned (on
//!   resubmission) or against the certified plan (change applications).
//! - `POST /review/cases/{id}/return | approve | reject`: decisions, each with `If-Match`.
//!   Approval allocates this authority's 認定番号 (gapless per authority and fiscal year); a joint
//!   (共管) plan is certified when every competent authority has approved.

#![forbid(unsafe_code)]

mod csv;
mod pages;
mod statistics;

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keiryoku_domain::application::Application;
use keiryoku_domain::status::Status;
use keiryoku_domain::validation::Report;
use keiryoku_http::{
    ApiError, FieldError, JsonBody, LogParams, QueryParams, Site, StaffSession, etag, if_match,
};
use keiryoku_lifecycle as lifecycle;
use keiryoku_lifecycle::application_id;
use keiryoku_store::{
    Applications, CaseFilter, CaseRecord, Cases, Documents, ReadKind, Sessions, StaffDirectory,
    StaffReads,
};
use serde::{Deserialize, Serialize};

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct ReviewState {
    pub site: Site,
    pub sessions: Sessions,
    pub staff: StaffDirectory,
    pub applications: Applications,
    pub cases: Cases,
    /// The documents bucket (CSV extracts are written there).
    pub documents: Documents,
    /// The audit of staff reads.
    pub reads: StaffReads,
}

impl FromRef<ReviewState> for keiryoku_http::Site {
    fn from_ref(state: &ReviewState) -> keiryoku_http::Site {
        state.site.clone()
    }
}

impl FromRef<ReviewState> for Sessions {
    fn from_ref(state: &ReviewState) -> Sessions {
        state.sessions.clone()
    }
}

impl FromRef<ReviewState> for StaffDirectory {
    fn from_ref(state: &ReviewState) -> StaffDirectory {
        state.staff.clone()
    }
}

pub fn app(state: ReviewState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/review/queue", get(queue))
            .route("/review/cases", get(search))
            .route("/review/cases.csv", get(csv::extract))
            .route("/review/cases/{id}", get(case))
            .route("/review/cases/{id}/history", get(history))
            .route("/review/cases/{id}/return", post(return_for_correction))
            .route("/review/cases/{id}/approve", post(approve))
            .route("/review/cases/{id}/reject", post(reject))
            .route(
                "/review/cases/{id}/paper-certification",
                post(record_paper_certification),
            )
            .merge(pages_router())
            .with_state(state),
    )
    .layer(axum::middleware::from_fn(keiryoku_http::notices::guard))
    // A browser's refusal (a page's form during maintenance) as a page; JSON clients do not ask
    // for HTML and keep problem+json.
    .layer(axum::middleware::from_fn(keiryoku_web::problems_as_pages))
}

/// The staff's web pages: errors answered as pages, never as problem+json.
fn pages_router() -> Router<ReviewState> {
    Router::new()
        .route("/staff", get(pages::home))
        .route("/staff/cases", get(pages::search))
        .route("/staff/statistics", get(statistics::page))
        .route("/staff/statistics.csv", get(statistics::csv))
        .route("/staff/cases/{id}", get(pages::case))
        .route(
            "/staff/cases/{id}/return",
            get(pages::return_form).post(pages::return_post),
        )
        .route(
            "/staff/cases/{id}/approve",
            get(pages::approve_confirm).post(pages::approve),
        )
        .route(
            "/staff/cases/{id}/reject",
            get(pages::reject_form).post(pages::reject),
        )
        .route(
            "/staff/cases/{id}/paper-certification",
            get(pages::paper_form).post(pages::paper_certification),
        )
}

pub(crate) fn today() -> time::Date {
    keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc())
}

/// A case as listed: the entry and whether its due date has passed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Listed {
    #[serde(flatten)]
    pub(crate) case: CaseRecord,
    /// The standard processing period has passed without a decision.
    pub(crate) overdue: bool,
    /// Not overdue, but due within 3 business days.
    pub(crate) due_soon: bool,
    /// Stable URL of the case.
    url: String,
}

pub(crate) fn listed(case: CaseRecord, today: time::Date) -> Listed {
    let overdue = case.is_pending() && case.due_on < today;
    let soon = keiryoku_domain::dates::add_business_days(today, DUE_SOON_BUSINESS_DAYS);
    let due_soon = case.is_pending() && !overdue && soon.is_some_and(|d| case.due_on <= d);
    let url = format!("/review/cases/{}", case.application_id);
    Listed {
        case,
        overdue,
        due_soon,
        url,
    }
}

/// A pending case due within this many business days is flagged.
const DUE_SOON_BUSINESS_DAYS: u32 = 3;

/// A page of cases.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    /// The authorities searched, as people name them (関東経済産業局, 経済産業省, 全国).
    pub scope: String,
    pub items: Vec<Listed>,
    /// Pass back as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// The URL of the next page (searches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The queue's conditions: all in the URL.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueueParams {
    /// 受付日 from (YYYY-MM-DD).
    pub(crate) received_from: Option<String>,
    /// 受付日 to (YYYY-MM-DD).
    pub(crate) received_to: Option<String>,
    /// Only joint (共管) plans, or only the others.
    pub(crate) joint: Option<bool>,
    /// Only resubmissions, or only first submissions.
    pub(crate) resubmission: Option<bool>,
    pub(crate) limit: Option<i32>,
    pub(crate) cursor: Option<String>,
}

impl QueueParams {
    /// The store filter (the queue holds submitted cases only).
    pub(crate) fn filter(&self) -> Result<CaseFilter, ApiError> {
        SearchParams {
            received_from: self.received_from.clone(),
            received_to: self.received_to.clone(),
            joint: self.joint,
            resubmission: self.resubmission,
            ..SearchParams::default()
        }
        .filter()
    }
}

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 200;

pub(crate) fn page_limit(limit: Option<i32>) -> Result<i32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::BadRequest(format!(
            "limit は 1 から {MAX_PAGE} の整数で指定してください。"
        )))
    }
}

/// The authority's queue: waiting for its decision, earliest due date first.
#[utoipa::path(get, path = "/review/queue", tag = "review", summary = "自庁の審査キュー（処理期限の早い順、期限超過を表示）", params(QueueParams), responses((status = 200, description = "判断待ちの案件", body = CaseList)), security(("staff_session" = [])))]
async fn queue(
    State(state): State<ReviewState>,
    staff: StaffSession,
    QueryParams(params): QueryParams<QueueParams>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let reviewer = staff.reviewer()?;
    let filter = params.filter()?;
    let limit = page_limit(params.limit)?;
    let page = state
        .cases
        .queue(
            &reviewer.office,
            &filter,
            usize::try_from(limit).unwrap_or(50),
            params.cursor.as_deref(),
        )
        .await?;
    let today = today();
    let next = page
        .next_cursor
        .as_deref()
        .map(|cursor| next_url(&uri, cursor));
    Ok(Json(CaseList {
        scope: reviewer.scope().label(),
        items: page.items.into_iter().map(|c| listed(c, today)).collect(),
        next_cursor: page.next_cursor,
        next,
    })
    .into_response())
}

/// An audit trail, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct History {
    pub items: Vec<keiryoku_store::AuditRecord>,
    /// The `cursor` of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The review routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    queue,
    search,
    csv::extract,
    case,
    history,
    return_for_correction,
    approve,
    reject,
    record_paper_certification
))]
pub struct Api;

/// The search conditions, all in the URL so that a search is a link.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    pub(crate) status: Option<Status>,
    received_from: Option<String>,
    received_to: Option<String>,
    certified_from: Option<String>,
    certified_to: Option<String>,
    prefecture: Option<String>,
    industry: Option<String>,
    company: Option<String>,
    corporate_number: Option<String>,
    certification_number: Option<String>,
    /// Only joint (共管) plans, or only the others.
    joint: Option<bool>,
    /// Only resubmissions, or only first submissions.
    resubmission: Option<bool>,
    limit: Option<i32>,
    cursor: Option<String>,
}

impl SearchParams {
    /// The store filter, or every problem with the conditions at once.
    pub(crate) fn filter(&self) -> Result<CaseFilter, ApiError> {
        let mut errors = Vec::new();
        let mut date = |name: &str, value: &Option<String>| -> Option<time::Date> {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            match time::Date::parse(value, &time::format_description::well_known::Iso8601::DATE) {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError {
                        path: format!("/{name}"),
                        code: "format".into(),
                        message: "日付は YYYY-MM-DD で指定してください。".into(),
                    });
                    None
                }
            }
        };
        let received_from = date("received_from", &self.received_from);
        let received_to = date("received_to", &self.received_to);
        let certified_from = date("certified_from", &self.certified_from);
        let certified_to = date("certified_to", &self.certified_to);
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(keiryoku_domain::normalize::text)
                .filter(|v| !v.is_empty())
        };
        let mut check =
            |name: &str, value: Option<String>, ok: fn(&str) -> bool, message: &str| match value {
                Some(v) if !ok(&v) => {
                    errors.push(FieldError {
                        path: format!("/{name}"),
                        code: "format".into(),
                        message: message.into(),
                    });
                    None
                }
                other => other,
            };
        let prefecture = check(
            "prefecture",
            text(&self.prefecture),
            |v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()),
            "都道府県は2桁のコード（例: 13）で指定してください。",
        );
        let industry = check(
            "industry",
            text(&self.industry),
            |v| (2..=4).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()),
            "業種は日本標準産業分類の中分類・細分類コード（2〜4桁）で指定してください。",
        );
        let corporate_number = check(
            "corporate_number",
            text(&self.corporate_number),
            |v| v.len() == 13 && v.bytes().all(|b| b.is_ascii_digit()),
            "法人番号は13桁の数字で指定してください。",
        );
        let company = check(
            "company",
            text(&self.company),
            |v| v.chars().count() <= 100 && !v.chars().any(char::is_control),
            "会社名は100文字以内で指定してください。",
        );
        let certification_number = check(
            "certification_number",
            text(&self.certification_number),
            |v| v.chars().count() <= 64 && !v.chars().any(char::is_control),
            "認定番号は64文字以内で指定してください。",
        );
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(CaseFilter {
            status: self.status,
            received_from,
            received_to,
            certified_from,
            certified_to,
            prefecture,
            industry,
            company,
            corporate_number,
            certification_number,
            joint: self.joint,
            resubmission: self.resubmission,
        })
    }
}

/// Search of the authority's cases. Every condition is a URL parameter; `next` is the URL of the
/// next page.
#[utoipa::path(get, path = "/review/cases", tag = "review", summary = "自庁の案件を検索する（条件はすべてURLパラメータ）", params(SearchParams), responses((status = 200, description = "検索結果", body = CaseList)), security(("staff_session" = [])))]
async fn search(
    State(state): State<ReviewState>,
    staff: StaffSession,
    QueryParams(params): QueryParams<SearchParams>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let scope = staff.scope()?;
    let filter = params.filter()?;
    let limit = page_limit(params.limit)?;
    let page = state
        .cases
        .search_in(
            &scope.offices(),
            &filter,
            usize::try_from(limit).unwrap_or(50),
            params.cursor.as_deref(),
        )
        .await?;
    let today = today();
    let next = page
        .next_cursor
        .as_deref()
        .map(|cursor| next_url(&uri, cursor));
    Ok(Json(CaseList {
        scope: scope.label(),
        items: page.items.into_iter().map(|c| listed(c, today)).collect(),
        next_cursor: page.next_cursor,
        next,
    })
    .into_response())
}

/// The same search URL with `cursor` replaced.
pub(crate) fn next_url(uri: &axum::http::Uri, cursor: &str) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if k != "cursor" {
            url.append_pair(&k, &v);
        }
    }
    url.append_pair("cursor", cursor);
    format!("{}?{}", uri.path(), url.finish())
}

/// A case as a reviewer reads it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseJson<'a> {
    application: &'a Application,
    case: Listed,
    /// Submission-level validation as of the receipt date (warnings and indicators included).
    validation: &'a Report,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    comparisons: &'a [lifecycle::Comparison],
}

/// One case: the application, this authority's entry, validation and the diffs.
#[utoipa::path(get, path = "/review/cases/{id}", tag = "review", summary = "案件（差戻し版・認定済み計画との差分を含む）", params(("id" = String, Path, description = "申請ID")), responses((status = 200, description = "案件。ETag は申請の版", body = CaseJson)), security(("staff_session" = [])))]
async fn case(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let view =
        lifecycle::case_view(&state.applications, &state.cases, &staff.scope()?, &id).await?;
    state
        .reads
        .record(&staff.read(keiryoku_store::ReadKind::Case, Some(&id), None))
        .await?;
    let body = CaseJson {
        application: &view.application,
        case: listed(view.case, today()),
        validation: &view.validation,
        comparisons: &view.comparisons,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(view.application.version));
    Ok(response)
}

/// The audit trail of a case of the reviewer's authority, oldest first.
#[utoipa::path(get, path = "/review/cases/{id}/history", operation_id = "case_history", tag = "review", summary = "案件の監査記録", params(("id" = String, Path, description = "申請ID"), LogParams), responses((status = 200, description = "古い順、1ページ分（続きは next_cursor）", body = History)), security(("staff_session" = [])))]
async fn history(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<LogParams>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    lifecycle::case_of(&state.applications, &state.cases, &staff.scope()?, &id).await?;
    state
        .reads
        .record(&staff.read(ReadKind::History, Some(&id), None))
        .await?;
    let page = state
        .applications
        .history(
            &id,
            keiryoku_store::Order::OldestFirst,
            params.limit(HISTORY_PAGE)?,
            params.cursor.as_deref(),
        )
        .await?;
    Ok(Json(History {
        items: page.items,
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// Audit records per page unless the reviewer asks for fewer or more (up to 200).
const HISTORY_PAGE: i32 = 100;

/// The body of a return for correction.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// What the applicant should do, overall.
    message: String,
    /// Comments anchored to fields of the plan.
    #[serde(default)]
    comments: Vec<CommentBody>,
}

/// A comment at a field of the plan (`/plan/...`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    path: String,
    message: String,
}

/// Returns the application for correction (差戻し) with comments anchored to field paths.
#[utoipa::path(post, path = "/review/cases/{id}/return", tag = "review", summary = "差し戻す（項目ごとのコメント付き）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), request_body = ReturnBody, responses((status = 200, description = "差し戻した申請", body = Application)), security(("staff_session" = [])))]
async fn return_for_correction(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReturnBody>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let comments: Vec<(String, String)> = body
        .comments
        .into_iter()
        .map(|c| (c.path, c.message))
        .collect();
    let done = lifecycle::return_for_correction(
        &state.applications,
        &state.cases,
        &staff.reviewer()?,
        &id,
        &body.message,
        &comments,
        expected,
    )
    .await?;
    Ok(answer(&done.application))
}

/// The answer to a decision: the application with its new ETag.
fn answer(record: &Application) -> Response {
    let mut response = Json(record).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(record.version));
    response
}

/// Approves (認定) for this authority (see [`lifecycle::approve`]).
#[utoipa::path(post, path = "/review/cases/{id}/approve", tag = "review", summary = "認定する（自庁の認定番号を割り当て。共管はすべての行政庁の認定で認定）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), responses((status = 200, description = "判断後の申請", body = Application)), security(("staff_session" = [])))]
async fn approve(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let reviewer = staff.reviewer()?;
    let done =
        lifecycle::approve(&state.applications, &state.cases, &reviewer, &id, expected).await?;
    Ok(answer(&done.application))
}

/// The body of a rejection.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    reason: String,
}

/// Rejects (不認定) with a reason. One competent authority's rejection ends the application.
#[utoipa::path(post, path = "/review/cases/{id}/reject", tag = "review", summary = "不認定とする（理由付き）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), request_body = RejectBody, responses((status = 200, description = "不認定とした申請", body = Application)), security(("staff_session" = [])))]
async fn reject(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let reviewer = staff.reviewer()?;
    let done = lifecycle::reject(
        &state.applications,
        &state.cases,
        &reviewer,
        &id,
        &body.reason,
        expected,
    )
    .await?;
    Ok(answer(&done.application))
}

/// The body of a paper certification: what the certificate issued on paper says.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperCertificationBody {
    /// 認定番号 as printed on the paper certificate.
    certification_number: String,
    /// 認定日 (`YYYY-MM-DD`).
    certified_on: String,
}

/// Records the certification of a plan finalised for paper (see
/// [`lifecycle::record_paper_certification`]).
#[utoipa::path(post, path = "/review/cases/{id}/paper-certification", tag = "review", summary = "紙申請の認定を登録する（紙で交付した認定書の認定日と認定番号）", params(("id" = String, Path, description = "申請ID"), ("If-Match" = String, Header, description = "読み込んだときの ETag（例: \"3\"）")), request_body = PaperCertificationBody, responses((status = 200, description = "認定を登録した申請", body = Application)), security(("staff_session" = [])))]
async fn record_paper_certification(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PaperCertificationBody>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let expected = if_match(&headers)?;
    let done = lifecycle::record_paper_certification(
        &state.applications,
        &state.cases,
        &staff.reviewer()?,
        &id,
        &body.certification_number,
        &body.certified_on,
        expected,
    )
    .await?;
    Ok(answer(&done.application))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_url_keeps_the_conditions_and_replaces_the_cursor() {
        let uri: axum::http::Uri = "/review/cases?status=submitted&cursor=old&company=%E9%9C%9E"
            .parse()
            .unwrap_or_default();
        assert_eq!(
            next_url(&uri, "new"),
            "/review/cases?status=submitted&company=%E9%9C%9E&cursor=new"
        );
    }

    #[test]
    fn bad_conditions_are_reported_together() {
        let params = SearchParams {
            received_from: Some("2026/01/01".into()),
            prefecture: Some("東京".into()),
            corporate_number: Some("123".into()),
            ..SearchParams::default()
        };
        let Err(ApiError::Validation(errors)) = params.filter() else {
            panic!("expected a validation error");
        };
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/received_from", "/prefecture", "/corporate_number"]
        );
    }
}
