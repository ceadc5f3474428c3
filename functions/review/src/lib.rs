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

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keiryoku_domain::diff::{FieldChange, changes};
use keiryoku_domain::status::{Action, Role, Status, transition_stored};
use keiryoku_domain::validation::{Context, Level, Report, validate_json};
use keiryoku_http::{
    ApiError, FieldError, JsonBody, QueryParams, Site, StaffSession, etag, if_match, is_issued_id,
};
use keiryoku_store::{
    Actor, ApplicationRecord, Applications, AuditNote, CaseFilter, CaseRecord, Cases,
    Certification, CommitError, Decision, Documents, Extra, FieldComment, Rejection, ReturnNote,
    Sessions, StaffDirectory,
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
            .with_state(state),
    )
}

fn today() -> time::Date {
    keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc())
}

/// A case as listed: the entry and whether its due date has passed.
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    case: CaseRecord,
    /// The standard processing period has passed without a decision.
    overdue: bool,
    /// Stable URL of the case.
    url: String,
}

fn listed(case: CaseRecord, today: &str) -> Listed {
    let overdue = case.is_pending() && case.due_on.as_str() < today;
    let url = format!("/review/cases/{}", case.application_id);
    Listed { case, overdue, url }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageParams {
    limit: Option<i32>,
    cursor: Option<String>,
}

const DEFAULT_PAGE: i32 = 50;
const MAX_PAGE: i32 = 200;

fn page_limit(limit: Option<i32>) -> Result<i32, ApiError> {
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
async fn queue(
    State(state): State<ReviewState>,
    staff: StaffSession,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<Response, ApiError> {
    let limit = page_limit(params.limit)?;
    let page = state
        .cases
        .queue(&staff.member.office_id, limit, params.cursor.as_deref())
        .await?;
    let today = today().to_string();
    let items: Vec<Listed> = page.items.into_iter().map(|c| listed(c, &today)).collect();
    Ok(Json(serde_json::json!({
        "office_id": staff.member.office_id,
        "items": items,
        "next_cursor": page.next_cursor,
    }))
    .into_response())
}

/// The search conditions, all in the URL so that a search is a link.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    status: Option<Status>,
    received_from: Option<String>,
    received_to: Option<String>,
    certified_from: Option<String>,
    certified_to: Option<String>,
    prefecture: Option<String>,
    industry: Option<String>,
    company: Option<String>,
    corporate_number: Option<String>,
    certification_number: Option<String>,
    limit: Option<i32>,
    cursor: Option<String>,
}

impl SearchParams {
    /// The store filter, or every problem with the conditions at once.
    pub(crate) fn filter(&self) -> Result<CaseFilter, ApiError> {
        let mut errors = Vec::new();
        let mut date = |name: &str, value: &Option<String>| -> Option<String> {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            match time::Date::parse(value, &time::format_description::well_known::Iso8601::DATE) {
                Ok(d) => Some(d.to_string()),
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
            status: self.status.map(|s| s.as_str().to_string()),
            received_from,
            received_to,
            certified_from,
            certified_to,
            prefecture,
            industry,
            company,
            corporate_number,
            certification_number,
        })
    }
}

/// Search of the authority's cases. Every condition is a URL parameter; `next` is the URL of the
/// next page.
async fn search(
    State(state): State<ReviewState>,
    staff: StaffSession,
    QueryParams(params): QueryParams<SearchParams>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let filter = params.filter()?;
    let limit = page_limit(params.limit)?;
    let page = state
        .cases
        .search(
            &staff.member.office_id,
            &filter,
            usize::try_from(limit).unwrap_or(50),
            params.cursor.as_deref(),
        )
        .await?;
    let today = today().to_string();
    let next = page
        .next_cursor
        .as_deref()
        .map(|cursor| next_url(&uri, cursor));
    let items: Vec<Listed> = page.items.into_iter().map(|c| listed(c, &today)).collect();
    Ok(Json(serde_json::json!({
        "office_id": staff.member.office_id,
        "items": items,
        "next_cursor": page.next_cursor,
        "next": next,
    }))
    .into_response())
}

/// The same search URL with `cursor` replaced.
fn next_url(uri: &axum::http::Uri, cursor: &str) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if k != "cursor" {
            url.append_pair(&k, &v);
        }
    }
    url.append_pair("cursor", cursor);
    format!("{}?{}", uri.path(), url.finish())
}

/// The application of a case of the reviewer's authority; 404 for anything else.
async fn case_of(
    state: &ReviewState,
    staff: &StaffSession,
    id: &str,
) -> Result<(ApplicationRecord, CaseRecord), ApiError> {
    if !is_issued_id(id) {
        return Err(ApiError::NotFound);
    }
    let case = state.cases.get(&staff.member.office_id, id).await?;
    let record = state.applications.get(id).await?;
    let routed_here = record
        .submission
        .as_ref()
        .is_some_and(|s| s.office_ids.contains(&staff.member.office_id));
    if !routed_here {
        return Err(ApiError::NotFound);
    }
    Ok((record, case))
}

/// What the reviewer compares the plan with.
#[derive(Serialize)]
struct Comparison {
    /// `returned` (the version sent back for correction) or `certified` (the plan a change
    /// application changes).
    against: &'static str,
    revision: i64,
    changes: Vec<FieldChange>,
}

#[derive(Serialize)]
struct CaseView<'a> {
    application: &'a ApplicationRecord,
    case: Listed,
    /// Submission-level validation as of the receipt date (warnings and indicators included).
    validation: Report,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    comparisons: Vec<Comparison>,
}

/// One case: the application, this authority's entry, validation and the diffs.
async fn case(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (record, case) = case_of(&state, &staff, &id).await?;
    let received = record
        .submission
        .as_ref()
        .and_then(|s| {
            time::Date::parse(
                &s.received_on,
                &time::format_description::well_known::Iso8601::DATE,
            )
            .ok()
        })
        .unwrap_or_else(today);
    let (_, validation) = validate_json(
        &record.plan,
        &Context {
            level: Level::Submission,
            filed_on: received,
        },
    );
    let mut comparisons = Vec::new();
    if let Some(returned) = &record.returned
        && record.submission.as_ref().map(|s| s.revision) != Some(returned.revision)
    {
        let before = state
            .applications
            .revision(&record.id, returned.revision)
            .await?;
        comparisons.push(Comparison {
            against: "returned",
            revision: returned.revision,
            changes: changes(&before, &record.plan, "/plan"),
        });
    }
    if let Some(change) = &record.change_of {
        let certified = state
            .applications
            .revision(&change.application_id, change.revision)
            .await?;
        comparisons.push(Comparison {
            against: "certified",
            revision: change.revision,
            changes: changes(&certified, &record.plan, "/plan"),
        });
    }
    let view = CaseView {
        application: &record,
        case: listed(case, &today().to_string()),
        validation,
        comparisons,
    };
    let mut response = Json(view).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(record.version));
    Ok(response)
}

/// The audit trail of a case of the reviewer's authority, oldest first.
async fn history(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    case_of(&state, &staff, &id).await?;
    let records = state.applications.history(&id).await?;
    Ok(Json(serde_json::json!({ "items": records })).into_response())
}

fn actor(staff: &StaffSession) -> Actor {
    Actor {
        sub: staff.member.sub.clone(),
        name: Some(staff.member.name.clone()),
        role: "reviewer".into(),
        on_behalf_of: staff.member.office_id.clone(),
    }
}

/// The case and application if this authority may take `action` on it now: the application
/// is at the version in `If-Match`, the status machine allows it, and this authority has not
/// decided yet in this round.
async fn decidable(
    state: &ReviewState,
    staff: &StaffSession,
    id: &str,
    headers: &HeaderMap,
    action: Action,
) -> Result<(ApplicationRecord, String), ApiError> {
    let (record, _) = case_of(state, staff, id).await?;
    let expected = if_match(headers)?;
    let to = transition_stored(&record.status, action, Role::Reviewer)?;
    if let Some(decision) = record.decisions.get(&staff.member.office_id) {
        return Err(ApiError::Conflict(format!(
            "この申請は、貴庁で既に判断済みです（{}）。",
            decision_label(&decision.decision)
        )));
    }
    if expected != record.version {
        return Err(ApiError::PreconditionFailed);
    }
    Ok((record, to.as_str().to_string()))
}

fn decision_label(decision: &str) -> &'static str {
    match decision {
        "approved" => "認定",
        "returned" => "差戻し",
        "rejected" => "不認定",
        _ => "判断",
    }
}

/// The body of a return for correction.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    /// What the applicant should do, overall.
    message: String,
    /// Comments anchored to fields of the plan.
    #[serde(default)]
    comments: Vec<CommentBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    path: String,
    message: String,
}

const MESSAGE_LIMIT: usize = 2000;
const COMMENT_LIMIT: usize = 100;

/// A reviewer's text: present, not too long, no control characters except line breaks.
fn reviewer_text(value: &str, path: &str, what: &str, errors: &mut Vec<FieldError>) -> String {
    let text = keiryoku_domain::normalize::text(value);
    let error = |code: &str, message: String| FieldError {
        path: path.into(),
        code: code.into(),
        message,
    };
    if text.is_empty() {
        errors.push(error("required", format!("{what}を入力してください。")));
    } else if text.chars().count() > MESSAGE_LIMIT {
        errors.push(error(
            "too_long",
            format!("{what}は{MESSAGE_LIMIT}文字以内で入力してください。"),
        ));
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(error(
            "control_character",
            format!("{what}に使用できない制御文字が含まれています。"),
        ));
    }
    text
}

/// Returns the application for correction (差戻し) with comments anchored to field paths.
async fn return_for_correction(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ReturnBody>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let message = reviewer_text(&body.message, "/message", "差戻しの理由", &mut errors);
    if body.comments.len() > COMMENT_LIMIT {
        errors.push(FieldError {
            path: "/comments".into(),
            code: "too_many".into(),
            message: format!("コメントは{COMMENT_LIMIT}件以内にしてください。"),
        });
    }
    let (record, to) = decidable(&state, &staff, &id, &headers, Action::Return).await?;
    let mut comments = Vec::new();
    for (i, comment) in body.comments.iter().enumerate() {
        let path = comment.path.trim();
        let anchored = path == "/plan"
            || (path.starts_with("/plan/")
                && path.len() <= 300
                && !path.chars().any(char::is_control));
        if !anchored {
            errors.push(FieldError {
                path: format!("/comments/{i}/path"),
                code: "format".into(),
                message: "コメントの対象は計画の項目（/plan/… の形式）で指定してください。".into(),
            });
        }
        let text = reviewer_text(
            &comment.message,
            &format!("/comments/{i}/message"),
            "コメント",
            &mut errors,
        );
        comments.push(FieldComment {
            path: path.to_string(),
            message: text,
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let submitted_revision = record
        .submission
        .as_ref()
        .map(|s| s.revision)
        .unwrap_or(record.version);
    let mut next = record.next_version();
    next.status = to;
    let now = keiryoku_store::now_rfc3339();
    next.decisions.insert(
        staff.member.office_id.clone(),
        Decision {
            decision: "returned".into(),
            by: actor(&staff),
            at: now.clone(),
            certification_number: None,
        },
    );
    next.returned = Some(ReturnNote {
        at: now,
        by: actor(&staff),
        office_id: staff.member.office_id.clone(),
        message,
        comments: comments.clone(),
        revision: submitted_revision,
    });
    let note = AuditNote {
        actor: actor(&staff),
        action: "return".into(),
        changed_paths: vec!["/status".into(), "/returned".into()],
        detail: Some(serde_json::json!({ "comments": comments })),
    };
    state
        .applications
        .commit(&id, Some(record.version), Some(&next), &[], note)
        .await?;
    tracing::info!(%id, office = %staff.member.office_id, "returned for correction");
    answer(&next)
}

/// The answer to a decision: the application with its new ETag.
fn answer(record: &ApplicationRecord) -> Result<Response, ApiError> {
    let mut response = Json(record).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(record.version));
    Ok(response)
}

/// How many times an approval retries when another authority's approval took the counter.
const COUNTER_RETRIES: usize = 5;

/// Approves (認定) for this authority: allocates its 認定番号 (unique per authority and fiscal
/// year, gapless, never reused) and, once every competent authority approved, certifies.
async fn approve(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let office = staff.member.office_id.clone();
    for _ in 0..COUNTER_RETRIES {
        let (record, _) = decidable(&state, &staff, &id, &headers, Action::Approve).await?;
        let now = time::OffsetDateTime::now_utc();
        let today = keiryoku_domain::dates::japan_date(now);
        let fiscal = keiryoku_domain::dates::fiscal_year(today);
        let counter = format!("cert#{office}#{fiscal}");
        let current = state.applications.counter(&counter).await?;
        let number = keiryoku_domain::tables::tables()
            .rules
            .certification_number(&office, fiscal, current + 1);
        let at = keiryoku_store::format_rfc3339(now);
        let mut next = record.next_version();
        next.decisions.insert(
            office.clone(),
            Decision {
                decision: "approved".into(),
                by: actor(&staff),
                at: at.clone(),
                certification_number: Some(number.clone()),
            },
        );
        let offices = record
            .submission
            .as_ref()
            .map(|s| s.office_ids.clone())
            .unwrap_or_default();
        let approvals: std::collections::BTreeMap<String, String> = next
            .decisions
            .iter()
            .filter_map(|(o, d)| {
                (d.decision == "approved")
                    .then(|| d.certification_number.clone().map(|n| (o.clone(), n)))
                    .flatten()
            })
            .collect();
        let all_approved = offices.iter().all(|o| approvals.contains_key(o));
        let mut changed = vec!["/decisions".to_string()];
        if all_approved {
            next.status = "certified".into();
            next.certification = Some(Certification {
                number: offices
                    .first()
                    .and_then(|o| approvals.get(o))
                    .cloned()
                    .unwrap_or_else(|| number.clone()),
                numbers: approvals.clone(),
                certified_on: today.to_string(),
                certified_at: at.clone(),
                office_ids: offices.clone(),
                revision: record
                    .submission
                    .as_ref()
                    .map(|s| s.revision)
                    .unwrap_or(record.version),
            });
            changed.extend(["/status".to_string(), "/certification".to_string()]);
        }
        let note = AuditNote {
            actor: actor(&staff),
            action: "approve".into(),
            changed_paths: changed,
            detail: Some(serde_json::json!({
                "certification_number": number,
                "certified": all_approved,
                "waiting_for": offices.iter().filter(|o| !approvals.contains_key(*o)).collect::<Vec<_>>(),
            })),
        };
        let extras = [Extra::Counter {
            name: counter,
            current,
        }];
        match state
            .applications
            .commit(&id, Some(record.version), Some(&next), &extras, note)
            .await
        {
            Ok(()) => {
                tracing::info!(%id, %office, %number, certified = all_approved, "approved");
                return answer(&next);
            }
            // Another approval of this authority took the number: take the next one.
            Err(CommitError::CounterMoved) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Unavailable(
        "認定番号の割り当てが混み合っています。もう一度操作してください。".into(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
}

/// Rejects (不認定) with a reason. One competent authority's rejection ends the application.
async fn reject(
    State(state): State<ReviewState>,
    staff: StaffSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let reason = reviewer_text(&body.reason, "/reason", "不認定の理由", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (record, to) = decidable(&state, &staff, &id, &headers, Action::Reject).await?;
    let mut next = record.next_version();
    next.status = to;
    let at = keiryoku_store::now_rfc3339();
    next.decisions.insert(
        staff.member.office_id.clone(),
        Decision {
            decision: "rejected".into(),
            by: actor(&staff),
            at: at.clone(),
            certification_number: None,
        },
    );
    next.rejection = Some(Rejection {
        at,
        by: actor(&staff),
        office_id: staff.member.office_id.clone(),
        reason: reason.clone(),
    });
    let note = AuditNote {
        actor: actor(&staff),
        action: "reject".into(),
        changed_paths: vec!["/status".into(), "/rejection".into()],
        detail: Some(serde_json::json!({ "reason": reason })),
    };
    state
        .applications
        .commit(&id, Some(record.version), Some(&next), &[], note)
        .await?;
    tracing::info!(%id, office = %staff.member.office_id, "rejected");
    answer(&next)
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
