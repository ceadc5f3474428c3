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

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_domain::application::CertificateStatus;
use keiryoku_http::{ApiError, ApplicantSession, ClientInfo, Site, StaffSession, see_other};
use keiryoku_lifecycle::{self as lifecycle, UseCaseError, application_id};
use keiryoku_store::{Applications, Cases, Certificates, Documents, Sessions, StaffDirectory};
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

/// Public verification of a certificate by the id printed on it (and in its QR code).
async fn verify(
    State(state): State<DocumentsState>,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let found = lifecycle::verify_certificate(&state.certificates, &id, client.into())
        .await
        .map_err(|e| match e {
            UseCaseError::NotFound => ApiError::UnknownCertificate,
            other => other.into(),
        })?;
    let certificate = &found.certificate;
    Ok(Json(json!({
        "certificate_id": certificate.id,
        "valid": certificate.status == CertificateStatus::Valid,
        "status": certificate.status,
        "status_label": certificate.status.label(),
        "certification_number": certificate.certification_number,
        "certified_on": certificate.certified_on,
        "certified_on_wareki": found.certified_on_wareki,
        "company_name": certificate.company_name,
        "authorities": found.authorities,
        "superseded_by_change": certificate.superseded_by.is_some(),
        "sha256": certificate.documents.last().map(|d| d.sha256.clone()),
        "documents": certificate.documents.iter().map(|d| json!({
            "sha256": d.sha256,
            "template_version": d.template_version,
            "rendered_at": d.rendered_at,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The owner's download of the certificate: recorded, then a one-minute link (303).
async fn download(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let link = lifecycle::download_certificate(
        &state.applications,
        &state.certificates,
        &state.documents,
        &session.applicant(),
        &application_id(&id)?,
        client.into(),
    )
    .await?;
    see_other(
        &link.url,
        json!({
            "url": link.url,
            "sha256": link.sha256,
            "expires_in_seconds": link.valid_for.as_secs(),
        }),
    )
}

async fn owner_downloads(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let record = lifecycle::owned(&state.applications, &session.applicant(), &id).await?;
    let items = state.certificates.downloads(record.id.as_str()).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// The download history of a case of the reviewer's authority.
async fn reviewer_downloads(
    State(state): State<DocumentsState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    lifecycle::case_of(&state.applications, &state.cases, &staff.reviewer(), &id).await?;
    let items = state.certificates.downloads(id.as_str()).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

/// The application (申請書) as a PDF: the plan as filed (see [`lifecycle::application_pdf`]).
async fn application_pdf(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pdf = lifecycle::application_pdf(
        &state.applications,
        &state.documents,
        &session.applicant(),
        &application_id(&id)?,
    )
    .await?;
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"application-{id}.pdf\""))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/pdf"),
        ),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, pdf).into_response())
}
