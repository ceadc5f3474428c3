//! The applications function: an applicant's own applications (申請): create, read, list, edit
//! and delete drafts. Every route is scoped to the session's company: another company's
//! application answers 404, exactly as one that does not exist.
//!
//! Edits never lose work: a write names the version it read in `If-Match` (the `ETag` of the
//! read), a stale version gets 412 and changes nothing, a missing one 428. Edits are JSON Merge
//! Patches (RFC 7396), cheap enough for autosave every few seconds. Draft-level validation
//! problems come back with the saved draft; they never refuse a save.

#![forbid(unsafe_code)]

mod prefill;

pub use prefill::{Prefill, Prefiller};

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keiryoku_domain::plan::{Plan, get as field, rows};
use keiryoku_domain::routing::{Outcome, RoutingRequest, route};
use keiryoku_domain::status::{Action, Role, Status, transition_stored};
use keiryoku_domain::validation::{Context, Level, Report, validate_json};
use keiryoku_http::{
    ApiError, ApplicantSession, FieldError, JsonBody, QueryParams, Site, etag, idempotency_key,
    if_match, is_issued_id, owned_application,
};
use keiryoku_store::{
    Actor, ApplicationRecord, Applications, AuditNote, ChangeOf, CommitError, Extra,
    IdempotentResult, PaperFiling, Sessions, Submission, new_draft,
};
use serde::{Deserialize, Serialize};

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct ApplicationsState {
    pub site: Site,
    pub sessions: Sessions,
    pub applications: Applications,
    pub prefiller: Prefiller,
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
            .route("/applications/{id}/change", post(start_change))
            .route("/applications/{id}/history", get(history))
            .route("/prefill", get(preview_prefill))
            .with_state(state),
    )
}

/// The body of `POST /applications`: the plan (様式第1) as far as it has been filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    plan: Option<serde_json::Value>,
    /// Fill the applicant section from GビズID and gBizINFO first.
    #[serde(default)]
    prefill: bool,
}

/// An application as answered: the stored record and what draft validation finds in its plan.
#[derive(Serialize)]
struct ApplicationView<'a> {
    #[serde(flatten)]
    record: &'a ApplicationRecord,
    validation: Report,
    /// What prefill filled in (only when the draft was created with `"prefill": true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    prefill: Option<&'a Prefill>,
}

/// What a new draft would be prefilled with, and where each value comes from.
async fn preview_prefill(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
) -> Result<Response, ApiError> {
    Ok(Json(state.prefiller.prefill(&session.record).await).into_response())
}

/// Draft-level validation of a plan, as of today in Japan.
fn draft_report(plan: &serde_json::Value) -> Report {
    let filed_on = keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc());
    validate_json(
        plan,
        &Context {
            level: Level::Draft,
            filed_on,
        },
    )
    .1
}

/// The answer for one application: JSON with its validation, and its `ETag`.
fn respond(status: StatusCode, record: &ApplicationRecord) -> Response {
    respond_with(status, record, None)
}

fn respond_with(
    status: StatusCode,
    record: &ApplicationRecord,
    prefill: Option<&Prefill>,
) -> Response {
    let view = ApplicationView {
        record,
        validation: draft_report(&record.plan),
        prefill,
    };
    let mut response = (status, Json(view)).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(record.version));
    response
}

/// Creates a draft owned by the session's company. 201 with `Location` and `ETag`.
async fn create(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
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
    // Prefilled values sit under what the request sent: the applicant's own entries win.
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
    let mut record = new_draft(
        &session.record.company_id,
        &session.record.sub,
        "new",
        plan,
        None,
    );
    record.notify_to = session.record.email.clone();
    let paths = keiryoku_domain::diff::changed_paths(
        &serde_json::Value::Object(Default::default()),
        &record.plan,
        "/plan",
    );
    state
        .applications
        .commit(
            &record.id,
            None,
            Some(&record),
            &[],
            note(&session, "create", paths),
        )
        .await?;
    tracing::info!(id = %record.id, company = %record.company_id, "draft created");
    let location = HeaderValue::from_str(&format!("/applications/{}", record.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = respond_with(StatusCode::CREATED, &record, prefill.as_ref());
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// One application of the session's company, with its `ETag`.
async fn read(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = owned(&state, &session, &id).await?;
    Ok(respond(StatusCode::OK, &record))
}

/// The application if it exists and belongs to the session's company; 404 otherwise.
async fn owned(
    state: &ApplicationsState,
    session: &ApplicantSession,
    id: &str,
) -> Result<ApplicationRecord, ApiError> {
    owned_application(&state.applications, &session.record.company_id, id).await
}

/// The applicant as recorded in the audit trail.
fn actor(session: &ApplicantSession) -> Actor {
    Actor {
        sub: session.record.sub.clone(),
        name: session.record.user_name.clone(),
        role: "applicant".into(),
        on_behalf_of: session.record.company_id.clone(),
    }
}

/// The audit note of an applicant's action.
fn note(session: &ApplicantSession, action: &str, changed_paths: Vec<String>) -> AuditNote {
    AuditNote {
        actor: actor(session),
        action: action.into(),
        changed_paths,
        detail: None,
    }
}

/// Statuses in which the applicant may edit the plan.
const EDITABLE: [&str; 2] = ["draft", "returned"];

/// The largest plan we store, under DynamoDB's 400 KB item limit with room for the other fields.
const PLAN_LIMIT_BYTES: usize = 300 * 1024;

/// Applies a JSON Merge Patch to the plan (RFC 7396: `null` removes a field) and saves it.
async fn update(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let current = owned(&state, &session, &id).await?;
    let expected = if_match(&headers)?;
    if !EDITABLE.contains(&current.status.as_str()) {
        return Err(ApiError::Conflict(format!(
            "この申請は「{}」のため編集できません。",
            status_label(&current.status)
        )));
    }
    if expected != current.version {
        return Err(ApiError::PreconditionFailed);
    }
    if !patch.is_object() {
        return Err(ApiError::Validation(vec![FieldError {
            path: String::new(),
            code: "type".into(),
            message: "変更内容はJSONオブジェクト（JSON Merge Patch）で送信してください。".into(),
        }]));
    }
    let mut plan = current.plan.clone();
    json_patch::merge(&mut plan, &patch);
    if serde_json::to_vec(&plan)
        .map(|b| b.len())
        .unwrap_or(usize::MAX)
        > PLAN_LIMIT_BYTES
    {
        return Err(ApiError::PayloadTooLarge {
            limit: PLAN_LIMIT_BYTES,
        });
    }
    let paths = keiryoku_domain::diff::changed_paths(&current.plan, &plan, "/plan");
    let mut record = current.next_version();
    record.plan = plan;
    state
        .applications
        .commit(
            &id,
            Some(expected),
            Some(&record),
            &[],
            note(&session, "edit", paths),
        )
        .await?;
    tracing::info!(id = %record.id, version = record.version, "draft saved");
    Ok(respond(StatusCode::OK, &record))
}

/// Deletes a draft (only drafts can be deleted; submitted applications are withdrawn instead).
async fn remove(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let current = owned(&state, &session, &id).await?;
    let expected = if_match(&headers)?;
    if current.status != "draft" {
        return Err(ApiError::Conflict(format!(
            "この申請は「{}」のため削除できません。",
            status_label(&current.status)
        )));
    }
    if expected != current.version {
        return Err(ApiError::PreconditionFailed);
    }
    state
        .applications
        .commit(
            &id,
            Some(expected),
            None,
            &[],
            note(&session, "delete", vec!["/".into()]),
        )
        .await?;
    tracing::info!(%id, "draft deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// When the idempotency key was already used, the answer of the action it was used for.
async fn replay_done(
    state: &ApplicationsState,
    session: &ApplicantSession,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Response>, ApiError> {
    let company = &session.record.company_id;
    match state.applications.idempotent_result(company, key).await? {
        Some(done) => Ok(Some(replay(state, session, done, fingerprint).await?)),
        None => Ok(None),
    }
}

/// Answers a retried one-shot action as it was answered the first time.
async fn replay(
    state: &ApplicationsState,
    session: &ApplicantSession,
    done: IdempotentResult,
    fingerprint: &str,
) -> Result<Response, ApiError> {
    if done.fingerprint != fingerprint {
        return Err(ApiError::Validation(vec![FieldError {
            path: "/idempotency-key".into(),
            code: "reused".into(),
            message:
                "この Idempotency-Key は別の操作で使われています。新しい値を指定してください。"
                    .into(),
        }]));
    }
    let record = owned(state, session, &done.application_id).await?;
    Ok(respond(
        StatusCode::from_u16(done.status).unwrap_or(StatusCode::OK),
        &record,
    ))
}

/// Submits (申請) a draft or a returned application: full validation (every problem at once),
/// routing to the competent authorities, a receipt number, the received-at time and the due date
/// of the standard processing period. A retry with the same `Idempotency-Key` answers the same
/// and never submits twice.
async fn submit(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let fingerprint = format!("submit:{id}");
    if let Some(answer) = replay_done(&state, &session, &key, &fingerprint).await? {
        return Ok(answer);
    }
    match submit_once(&state, &session, &id, &headers, &key).await {
        // A concurrent retry with the same key may have won between our check and our write:
        // then this request was done, and answers as that one did.
        Err(ApiError::Conflict(_) | ApiError::PreconditionFailed)
            if let Some(answer) = replay_done(&state, &session, &key, &fingerprint).await? =>
        {
            Ok(answer)
        }
        other => other,
    }
}

/// One attempt at a submission, after the idempotency key was found unused.
async fn submit_once(
    state: &ApplicationsState,
    session: &ApplicantSession,
    id: &str,
    headers: &HeaderMap,
    key: &str,
) -> Result<Response, ApiError> {
    let fingerprint = format!("submit:{id}");
    let company = session.record.company_id.clone();
    let current = owned(state, session, id).await?;
    if !EDITABLE.contains(&current.status.as_str()) {
        return Err(ApiError::Conflict(format!(
            "この申請は「{}」のため申請できません。",
            status_label(&current.status)
        )));
    }
    if headers.contains_key(header::IF_MATCH) && if_match(headers)? != current.version {
        return Err(ApiError::PreconditionFailed);
    }
    let now = time::OffsetDateTime::now_utc();
    let today = keiryoku_domain::dates::japan_date(now);
    let routing = ready_to_file(&current.plan, today)?;
    let mut routing_json =
        serde_json::to_value(&routing).map_err(|e| ApiError::Internal(e.to_string()))?;
    // A change application goes back to the authorities that certified the plan.
    let office_ids = match &current.change_of {
        Some(change) => {
            if let Some(steps) = routing_json
                .get_mut("explanation")
                .and_then(serde_json::Value::as_array_mut)
            {
                steps.insert(
                    0,
                    serde_json::json!({
                        "rule": "change",
                        "row": format!("certification#{}", change.certification_number),
                        "message": format!(
                            "変更申請は、変更前の計画を認定した行政庁（{}）に提出します（認定番号 {}）。",
                            change.office_ids.join("、"),
                            change.certification_number
                        ),
                        "verified": true,
                        "source": "domain.md §5.3",
                    }),
                );
            }
            change.office_ids.clone()
        }
        None => {
            if !routing.e_filing {
                return Err(ApiError::Conflict(
                    "提出先に電子申請を受け付けない省庁が含まれるため、電子申請できません。紙申請用に確定し、申請書を印刷して郵送してください。".into(),
                ));
            }
            routing
                .authorities
                .iter()
                .map(|a| a.office_id.clone())
                .collect()
        }
    };
    let fiscal = keiryoku_domain::dates::fiscal_year(today);
    let sequence = state.applications.next_receipt_sequence(fiscal).await?;
    let due_on = keiryoku_domain::dates::add_business_days(today, routing.processing_days)
        .ok_or_else(|| ApiError::Internal("due date out of range".into()))?;
    let mut record = current.next_version();
    record.status = "submitted".into();
    record.decisions.clear();
    // Notices about this submission go to the GビズID address of who submitted it.
    if session.record.email.is_some() {
        record.notify_to = session.record.email.clone();
    }
    let submission = Submission {
        receipt_number: format!("R{fiscal}-{sequence:06}"),
        received_at: keiryoku_store::format_rfc3339(now),
        received_on: today.to_string(),
        due_on: due_on.to_string(),
        office_ids,
        routing: routing_json,
        revision: record.version,
    };
    let detail = serde_json::json!({
        "receipt_number": submission.receipt_number,
        "received_at": submission.received_at,
        "due_on": submission.due_on,
        "office_ids": submission.office_ids,
    });
    record.submission = Some(submission);
    let extras = [
        Extra::IdempotencyKey {
            company_id: company.clone(),
            key: key.to_string(),
            fingerprint: fingerprint.clone(),
        },
        Extra::Revision,
    ];
    let mut audit = note(
        session,
        "submit",
        vec!["/status".into(), "/submission".into()],
    );
    audit.detail = Some(detail);
    match state
        .applications
        .commit(id, Some(current.version), Some(&record), &extras, audit)
        .await
    {
        Ok(()) => {
            tracing::info!(%id, version = record.version, "submitted");
            Ok(respond(StatusCode::OK, &record))
        }
        Err(CommitError::KeyUsed) => replay_done(state, session, key, &fingerprint)
            .await?
            .ok_or(ApiError::PreconditionFailed),
        Err(other) => Err(other.into()),
    }
}

/// A plan ready to file as of `today`: valid at submission level (every problem at once, paths
/// under `/plan`), and where it goes.
fn ready_to_file(
    plan: &serde_json::Value,
    today: time::Date,
) -> Result<keiryoku_domain::routing::Routing, ApiError> {
    let (_, report) = validate_json(
        plan,
        &Context {
            level: Level::Submission,
            filed_on: today,
        },
    );
    if !report.errors.is_empty() {
        return Err(ApiError::Validation(
            report
                .errors
                .into_iter()
                .map(|f| FieldError {
                    path: format!("/plan{}", f.path),
                    code: f.code.to_string(),
                    message: f.message,
                })
                .collect(),
        ));
    }
    route_plan(plan)
}

/// The competent authorities of a (validated) plan; plans the platform cannot route are refused
/// with the explanation of why.
fn route_plan(plan: &serde_json::Value) -> Result<keiryoku_domain::routing::Routing, ApiError> {
    let parsed = Plan::from_json(plan.clone())
        .map_err(|_| ApiError::Internal("validated plan does not parse".into()))?;
    let codes: Vec<String> = rows(&parsed.business_fields)
        .filter_map(|(_, f)| field(&f.detail_code).cloned())
        .collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let prefecture = field(&parsed.applicant)
        .and_then(|a| field(&a.head_office))
        .and_then(|h| field(&h.prefecture_code))
        .cloned()
        .unwrap_or_default();
    let request = RoutingRequest {
        fields: &codes,
        guideline_id: field(&parsed.guideline_id).map(String::as_str),
        prefecture: &prefecture,
    };
    match route(&request) {
        Ok(Outcome::Authorities(routing)) => Ok(routing),
        Ok(Outcome::CallCentre { reasons, .. }) => Err(ApiError::Conflict(format!(
            "提出先を自動で判定できない事業分野があります（{}）。{}にお問い合わせください。",
            reasons.join("、"),
            keiryoku_domain::routing::CALL_CENTRE
        ))),
        Err(e) => Err(ApiError::Internal(format!("routing a validated plan: {e}"))),
    }
}

/// The owned application at the version in `If-Match`, and the status `action` leads it to
/// (409 with the status machine's reason when it cannot, 412 when the version is stale).
async fn transitionable(
    state: &ApplicationsState,
    session: &ApplicantSession,
    id: &str,
    headers: &HeaderMap,
    action: Action,
) -> Result<(ApplicationRecord, Status), ApiError> {
    let current = owned(state, session, id).await?;
    let expected = if_match(headers)?;
    let to = transition_stored(&current.status, action, Role::Applicant)?;
    if expected != current.version {
        return Err(ApiError::PreconditionFailed);
    }
    Ok((current, to))
}

/// Withdraws (取下げ) a draft, a submitted or a returned application. `If-Match` required.
async fn withdraw(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (current, to) = transitionable(&state, &session, &id, &headers, Action::Withdraw).await?;
    let expected = current.version;
    let mut record = current.next_version();
    record.status = to.as_str().into();
    state
        .applications
        .commit(
            &id,
            Some(expected),
            Some(&record),
            &[],
            note(&session, "withdraw", vec!["/status".into()]),
        )
        .await?;
    tracing::info!(%id, "withdrawn");
    Ok(respond(StatusCode::OK, &record))
}

/// Finalises a complete plan for paper when its authorities do not all take e-filing: the
/// applicant then prints the application PDF and posts it. `If-Match` required.
async fn finalise(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (current, to) =
        transitionable(&state, &session, &id, &headers, Action::FinaliseForPaper).await?;
    let expected = current.version;
    let now = time::OffsetDateTime::now_utc();
    let today = keiryoku_domain::dates::japan_date(now);
    let routing = ready_to_file(&current.plan, today)?;
    if routing.e_filing {
        return Err(ApiError::Conflict(
            "提出先はすべて電子申請を受け付けています。紙ではなく電子申請してください。".into(),
        ));
    }
    let paper = PaperFiling {
        finalised_at: keiryoku_store::format_rfc3339(now),
        office_ids: routing
            .authorities
            .iter()
            .map(|a| a.office_id.clone())
            .collect(),
        routing: serde_json::to_value(&routing).map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let mut record = current.next_version();
    record.status = to.as_str().into();
    record.paper = Some(paper);
    state
        .applications
        .commit(
            &id,
            Some(expected),
            Some(&record),
            &[],
            note(
                &session,
                "finalise_for_paper",
                vec!["/status".into(), "/paper".into()],
            ),
        )
        .await?;
    tracing::info!(%id, "finalised for paper");
    Ok(respond(StatusCode::OK, &record))
}

/// Starts a change application (変更申請) from a certified plan of the company: a new draft
/// carrying the certification it changes, going back to the authorities that certified it.
/// Refused once the certified period has ended (a new application is needed then). One-shot:
/// takes an `Idempotency-Key`, and a retry answers the draft the first call created.
async fn start_change(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let fingerprint = format!("change:{id}");
    if let Some(answer) = replay_done(&state, &session, &key, &fingerprint).await? {
        return Ok(answer);
    }
    let company = session.record.company_id.clone();
    let source = owned(&state, &session, &id).await?;
    let (Some(certification), "certified") = (&source.certification, source.status.as_str()) else {
        return Err(ApiError::Conflict(format!(
            "変更申請は認定された計画からのみ作成できます（この申請は「{}」です）。",
            status_label(&source.status)
        )));
    };
    let certified_plan = state
        .applications
        .revision(&source.id, certification.revision)
        .await?;
    let period = Plan::from_json(certified_plan.clone())
        .ok()
        .and_then(|p| field(&p.period).copied())
        .ok_or_else(|| ApiError::Internal("certified plan without a period".into()))?;
    let today = keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc());
    if period.end() < keiryoku_domain::plan::YearMonth::of(today) {
        return Err(ApiError::Conflict(
            "認定された計画の実施期間が終了しているため、変更申請はできません。新たに計画を申請してください。".into(),
        ));
    }
    let mut plan = certified_plan;
    if let Some(object) = plan.as_object_mut() {
        object.insert(
            "kind".into(),
            serde_json::json!({
                "type": "change",
                "certification": {
                    "number": certification.number,
                    "certified_on": certification.certified_on,
                    "office_id": certification.office_ids.first(),
                    "period": plan_period_json(&period),
                },
            }),
        );
    }
    let change_of = ChangeOf {
        application_id: source.id.clone(),
        certification_number: certification.number.clone(),
        certified_on: certification.certified_on.clone(),
        office_ids: certification.office_ids.clone(),
        revision: certification.revision,
    };
    let mut record = new_draft(
        &company,
        &session.record.sub,
        "change",
        plan,
        Some(change_of),
    );
    record.notify_to = session.record.email.clone();
    let mut audit = note(&session, "create_change", vec!["/plan".into()]);
    audit.detail = Some(serde_json::json!({
        "changes": source.id,
        "certification_number": certification.number,
    }));
    let extras = [Extra::IdempotencyKey {
        company_id: company.clone(),
        key: key.clone(),
        fingerprint: fingerprint.clone(),
    }];
    match state
        .applications
        .commit(&record.id, None, Some(&record), &extras, audit)
        .await
    {
        Ok(()) => {}
        Err(CommitError::KeyUsed) => {
            return replay_done(&state, &session, &key, &fingerprint)
                .await?
                .ok_or(ApiError::PreconditionFailed);
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(id = %record.id, source = %source.id, "change application started");
    let location = HeaderValue::from_str(&format!("/applications/{}", record.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = respond(StatusCode::CREATED, &record);
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// The period as the plan JSON writes it.
fn plan_period_json(period: &keiryoku_domain::plan::Period) -> serde_json::Value {
    serde_json::to_value(period).unwrap_or(serde_json::Value::Null)
}

/// The audit trail of one of the company's applications, oldest first. Read-only: no route
/// changes or deletes it.
async fn history(
    State(state): State<ApplicationsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !is_issued_id(&id) {
        return Err(ApiError::NotFound);
    }
    // The owner's history stays readable after a draft was deleted, so ownership is checked
    // on the trail itself: its first record names the company that created it.
    let records = state.applications.history(&id).await?;
    match records.first() {
        Some(first) if first.actor.on_behalf_of == session.record.company_id => {
            Ok(Json(serde_json::json!({ "items": records })).into_response())
        }
        _ => Err(ApiError::NotFound),
    }
}

/// 日本語の表示名 of a stored status.
fn status_label(status: &str) -> &'static str {
    Status::parse(status).map_or("不明", Status::label)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i32>,
    cursor: Option<String>,
    status: Option<keiryoku_domain::status::Status>,
}

const DEFAULT_PAGE: i32 = 20;
const MAX_PAGE: i32 = 100;

/// The company's applications, newest first, `limit` (1–100) per page with a cursor.
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
    let status = params.status.map(Status::as_str);
    let page = state
        .applications
        .list_for_company(
            &session.record.company_id,
            status,
            limit,
            params.cursor.as_deref(),
        )
        .await?;
    Ok(Json(page).into_response())
}
