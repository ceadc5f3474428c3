//! The documents function: certificates (認定書) and application PDFs (申請書).
//!
//! - `GET /verify/{id}` (public, no login): whether a certificate is valid, superseded by a
//!   change or withdrawn, with the SHA-256 of its PDF; every check is recorded.
//! - `GET /applications/{id}/certificate`: the owner's download, through a presigned URL valid
//!   for a minute; every download is recorded (who, when, from where) before the link is given.
//! - `GET /applications/{id}/certificate/downloads` and `GET /review/cases/{id}/downloads`: the
//!   download history, for the owner and for the reviewers of the case.
//! - `GET /applications/{id}/application.pdf`: the whole 様式第1 as filed, for paper filing and
//!   for the record.

#![forbid(unsafe_code)]

use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_domain::plan::Plan;
use keiryoku_http::{
    ApiError, ApplicantSession, ClientInfo, Site, StaffSession, is_issued_id, owned_application,
};
use keiryoku_store::{
    ApplicationRecord, Applications, Cases, Certificates, CheckEntry, Documents, DownloadEntry,
    Sessions, StaffDirectory, StoreError, certificate_id,
};
use serde_json::json;

#[derive(Clone)]
pub struct DocumentsState {
    pub site: Site,
    pub sessions: Sessions,
    pub staff: StaffDirectory,
    pub applications: Applications,
    pub cases: Cases,
    pub certificates: Certificates,
    pub documents: Documents,
}

impl FromRef<DocumentsState> for Sessions {
    fn from_ref(state: &DocumentsState) -> Sessions {
        state.sessions.clone()
    }
}

impl FromRef<DocumentsState> for StaffDirectory {
    fn from_ref(state: &DocumentsState) -> StaffDirectory {
        state.staff.clone()
    }
}

pub fn app(state: DocumentsState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/verify/{id}", get(verify))
            .route("/applications/{id}/certificate", get(download))
            .route(
                "/applications/{id}/certificate/downloads",
                get(owner_downloads),
            )
            .route("/applications/{id}/application.pdf", get(application_pdf))
            .route("/review/cases/{id}/downloads", get(reviewer_downloads))
            .with_state(state),
    )
}

/// How long a download link works.
const LINK_VALID: Duration = Duration::from_secs(60);

fn status_label(status: &str) -> &'static str {
    match status {
        "valid" => "有効",
        "superseded" => "変更後の計画の認定により置き換えられています",
        "withdrawn" => "取り消されています",
        _ => "不明",
    }
}

/// Public verification of a certificate by the id printed on it (and in its QR code).
async fn verify(
    State(state): State<DocumentsState>,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    if !is_issued_id(&id) {
        return Err(ApiError::UnknownCertificate);
    }
    let (certificate, _) = match state.certificates.get(&id).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(ApiError::UnknownCertificate),
        Err(other) => return Err(other.into()),
    };
    state
        .certificates
        .log_check(
            &id,
            &CheckEntry {
                at: keiryoku_store::now_rfc3339(),
                source_ip: client.source_ip,
                user_agent: client.user_agent,
                status: certificate.status.clone(),
            },
        )
        .await?;
    let tables = keiryoku_domain::tables::tables();
    let authorities: Vec<String> = certificate
        .office_ids
        .iter()
        .map(|o| {
            tables
                .office(o)
                .map_or_else(|| o.clone(), |(_, office)| office.name.clone())
        })
        .collect();
    let current = certificate.documents.last();
    let certified_on_wareki = time::Date::parse(
        &certificate.certified_on,
        &time::format_description::well_known::Iso8601::DATE,
    )
    .ok()
    .and_then(keiryoku_domain::dates::wareki);
    Ok(Json(json!({
        "certificate_id": certificate.id,
        "valid": certificate.status == "valid",
        "status": certificate.status,
        "status_label": status_label(&certificate.status),
        "certification_number": certificate.certification_number,
        "certified_on": certificate.certified_on,
        "certified_on_wareki": certified_on_wareki,
        "company_name": certificate.company_name,
        "authorities": authorities,
        "superseded_by_change": certificate.superseded_by.is_some(),
        "sha256": current.map(|d| d.sha256.clone()),
        "documents": certificate.documents.iter().map(|d| json!({
            "sha256": d.sha256,
            "template_version": d.template_version,
            "rendered_at": d.rendered_at,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The application if it exists and belongs to the session's company; 404 otherwise.
async fn owned(
    state: &DocumentsState,
    session: &ApplicantSession,
    id: &str,
) -> Result<ApplicationRecord, ApiError> {
    owned_application(&state.applications, &session.record.company_id, id).await
}

/// The certificate id of a certified application.
fn certificate_of(record: &ApplicationRecord) -> Result<String, ApiError> {
    let certification = record.certification.as_ref().ok_or_else(|| {
        ApiError::Conflict("この申請は認定されていないため、認定書はありません。".into())
    })?;
    Ok(certificate_id(&record.id, certification.revision))
}

/// The owner's download of the certificate: recorded, then a one-minute link (303).
async fn download(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let record = owned(&state, &session, &id).await?;
    let certificate = certificate_of(&record)?;
    let (found, _) = match state.certificates.get(&certificate).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => {
            return Err(ApiError::Conflict(
                "認定書を作成しています。しばらくしてからもう一度お試しください。".into(),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let document = found
        .documents
        .last()
        .ok_or_else(|| ApiError::Internal("certificate without a document".into()))?;
    state
        .certificates
        .log_download(
            &record.id,
            &DownloadEntry {
                at: keiryoku_store::now_rfc3339(),
                certificate_id: certificate.clone(),
                sub: session.record.sub.clone(),
                name: session.record.user_name.clone(),
                role: "applicant".into(),
                source_ip: client.source_ip,
                user_agent: client.user_agent,
            },
        )
        .await?;
    let url = state
        .documents
        .presigned_version(&document.key, document.version_id.as_deref(), LINK_VALID)
        .await?;
    let location = HeaderValue::from_str(&url).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (
        StatusCode::SEE_OTHER,
        Json(json!({ "url": url, "sha256": document.sha256, "expires_in_seconds": LINK_VALID.as_secs() })),
    )
        .into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

async fn owner_downloads(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = owned(&state, &session, &id).await?;
    let items = state.certificates.downloads(&record.id).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// The download history of a case of the reviewer's authority.
async fn reviewer_downloads(
    State(state): State<DocumentsState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if !is_issued_id(&id) {
        return Err(ApiError::NotFound);
    }
    state.cases.get(&staff.member.office_id, &id).await?;
    let items = state.certificates.downloads(&id).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// The application (申請書) as a PDF: the plan as filed, for printing and posting (plans
/// finalised for paper) or for the record (submitted ones).
async fn application_pdf(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = owned(&state, &session, &id).await?;
    let (office_ids, applied_on, receipt) = match (&record.submission, &record.paper) {
        (Some(s), _) => (
            s.office_ids.clone(),
            s.received_on.clone(),
            Some(s.receipt_number.clone()),
        ),
        (None, Some(p)) => (
            p.office_ids.clone(),
            // The day it was finalised in Japan (finalised_at is UTC).
            time::OffsetDateTime::parse(
                &p.finalised_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|at| keiryoku_domain::dates::japan_date(at).to_string())
            .unwrap_or_default(),
            None,
        ),
        (None, None) => {
            return Err(ApiError::Conflict(
                "申請書のPDFは、申請した後か紙申請用に確定した後に作成できます。".into(),
            ));
        }
    };
    let applied_on = time::Date::parse(
        &applied_on,
        &time::format_description::well_known::Iso8601::DATE,
    )
    .map_err(|e| ApiError::Internal(format!("stored date: {e}")))?;
    let plan = Plan::from_json(record.plan.clone())
        .map_err(|_| ApiError::Internal("stored plan is not an object".into()))?;
    let pdf = keiryoku_pdf::application::render(
        &plan,
        &keiryoku_pdf::application::ApplicationMeta::for_offices(applied_on, &office_ids, receipt),
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"application-{id}.pdf\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
