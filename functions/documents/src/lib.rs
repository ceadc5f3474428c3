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
use keiryoku_http::{
    ApiError, ApplicantSession, ClientInfo, LogParams, QueryParams, Site, StaffSession, see_other,
};
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
    /// The audit of staff reads.
    pub reads: keiryoku_store::StaffReads,
}

impl FromRef<DocumentsState> for keiryoku_http::Site {
    fn from_ref(state: &DocumentsState) -> keiryoku_http::Site {
        state.site.clone()
    }
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
            .route("/review/cases/{id}/application.pdf", get(case_pdf))
            .with_state(state),
    )
    .layer(axum::middleware::from_fn(keiryoku_web::problems_as_pages))
}

/// The documents routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    verify,
    download,
    owner_downloads,
    application_pdf,
    reviewer_downloads,
    case_pdf
))]
pub struct Api;

/// Public verification of a certificate by the id printed on it (and in its QR code).
#[utoipa::path(get, path = "/verify/{id}", tag = "documents", summary = "認定書の真正性を確認する（ログイン不要）。確認は記録される", params(("id" = String, Path, description = "認定書に印刷された確認ID（QRコード）")), responses((status = 200, description = "確認結果", body = VerificationView)))]
async fn verify(
    State(state): State<DocumentsState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    let found = lifecycle::verify_certificate(&state.certificates, &id, client.into())
        .await
        .map_err(|e| match e {
            UseCaseError::NotFound => ApiError::UnknownCertificate,
            other => other.into(),
        })?;
    let certificate = found.certificate;
    let view = VerificationView {
        valid: certificate.status == CertificateStatus::Valid,
        status_label: certificate.status.label(),
        sha256: certificate.documents.last().map(|d| d.sha256.clone()),
        superseded_by_change: certificate.superseded_by.is_some(),
        certificate_id: certificate.id,
        status: certificate.status,
        certification_number: certificate.certification_number,
        certified_on: certificate.certified_on,
        certified_on_wareki: found.certified_on_wareki,
        company_name: certificate.company_name,
        authorities: found.authorities,
        documents: certificate
            .documents
            .into_iter()
            .map(|d| Rendering {
                sha256: d.sha256,
                template_version: d.template_version,
                rendered_at: d.rendered_at,
            })
            .collect(),
    };
    // A person who scanned the QR code or followed the printed URL gets a page.
    if keiryoku_web::wants_html(&headers) {
        return Ok(keiryoku_web::render(
            axum::http::StatusCode::OK,
            &VerifyPage {
                chrome: keiryoku_web::Chrome::new("認定書の確認", None),
                authorities: view.authorities.join("、"),
                v: view,
            },
        ));
    }
    Ok(Json(view).into_response())
}

/// The verification as a page.
#[derive(askama::Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: keiryoku_web::Chrome,
    v: VerificationView,
    authorities: String,
}

/// What public verification answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct VerificationView {
    pub certificate_id: String,
    /// 有効 (not superseded or withdrawn).
    pub valid: bool,
    pub status: CertificateStatus,
    pub status_label: &'static str,
    /// 認定番号.
    pub certification_number: String,
    /// 認定日 (YYYY-MM-DD) and in 和暦.
    pub certified_on: String,
    pub certified_on_wareki: Option<String>,
    pub company_name: String,
    /// The certifying offices, by name.
    pub authorities: Vec<String>,
    pub superseded_by_change: bool,
    /// SHA-256 of the current rendering's PDF.
    pub sha256: Option<String>,
    /// Every rendering, oldest first.
    pub documents: Vec<Rendering>,
}

/// One rendering of a certificate.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Rendering {
    pub sha256: String,
    pub template_version: String,
    pub rendered_at: String,
}

/// One page of the downloads of a certificate, oldest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Downloads {
    pub items: Vec<keiryoku_store::DownloadEntry>,
    /// The `cursor` of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Downloads per page unless the client asks for fewer or more (up to 200).
const DOWNLOADS_PAGE: i32 = 50;

async fn downloads_page(
    certificates: &Certificates,
    id: &keiryoku_domain::application::ApplicationId,
    params: &LogParams,
) -> Result<Response, ApiError> {
    let page = certificates
        .downloads(
            id.as_str(),
            keiryoku_store::Order::OldestFirst,
            params.limit(DOWNLOADS_PAGE)?,
            params.cursor.as_deref(),
        )
        .await?;
    Ok(Json(Downloads {
        items: page.items,
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// The owner's download of the certificate: recorded, then a one-minute link (303).
#[utoipa::path(get, path = "/applications/{id}/certificate", tag = "documents", summary = "認定書をダウンロードする（自社のみ。ダウンロードは記録され、60秒有効のURLへ 303）", params(("id" = String, Path, description = "申請ID")), responses((status = 303, description = "署名付きURL（Location）")), security(("session" = [])))]
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

#[utoipa::path(get, path = "/applications/{id}/certificate/downloads", tag = "documents", summary = "認定書のダウンロード履歴（自社）", params(("id" = String, Path, description = "申請ID"), LogParams), responses((status = 200, description = "古い順、1ページ分（続きは next_cursor）", body = Downloads)), security(("session" = [])))]
async fn owner_downloads(
    State(state): State<DocumentsState>,
    session: ApplicantSession,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<LogParams>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    let record = lifecycle::owned(&state.applications, &session.applicant(), &id).await?;
    downloads_page(&state.certificates, &record.id, &params).await
}

/// The download history of a case within the staff member's scope.
#[utoipa::path(get, path = "/review/cases/{id}/downloads", tag = "documents", summary = "案件の認定書ダウンロード履歴（自庁の案件）", params(("id" = String, Path, description = "申請ID"), LogParams), responses((status = 200, description = "古い順、1ページ分（続きは next_cursor）", body = Downloads)), security(("staff_session" = [])))]
async fn reviewer_downloads(
    State(state): State<DocumentsState>,
    staff: StaffSession,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<LogParams>,
) -> Result<Response, ApiError> {
    let id = application_id(&id)?;
    lifecycle::case_of(&state.applications, &state.cases, &staff.scope()?, &id).await?;
    state
        .reads
        .record(&staff.read(keiryoku_store::ReadKind::Downloads, Some(&id), None))
        .await?;
    downloads_page(&state.certificates, &id, &params).await
}

/// The application (申請書) as a PDF: the plan as filed (see [`lifecycle::application_pdf`]).
#[utoipa::path(get, path = "/applications/{id}/application.pdf", tag = "documents", summary = "申請書（様式第1）のPDF（提出した版）", params(("id" = String, Path, description = "申請ID")), responses((status = 200, description = "PDF", content_type = "application/pdf", body = Vec<u8>)), security(("session" = [])))]
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
    pdf_response(&id, pdf)
}

fn pdf_response(id: &str, pdf: Vec<u8>) -> Result<Response, ApiError> {
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

/// The application PDF of a case within the staff member's scope (the read is recorded).
#[utoipa::path(get, path = "/review/cases/{id}/application.pdf", tag = "documents", summary = "案件の申請書（様式第1）のPDF（提出された版）", params(("id" = String, Path, description = "申請ID")), responses((status = 200, description = "PDF", content_type = "application/pdf", body = Vec<u8>)), security(("staff_session" = [])))]
async fn case_pdf(
    State(state): State<DocumentsState>,
    staff: StaffSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let application = application_id(&id)?;
    let scope = staff.scope()?;
    let pdf = lifecycle::case_pdf(
        &state.applications,
        &state.cases,
        &state.documents,
        &scope,
        &application,
    )
    .await?;
    state
        .reads
        .record(&staff.read(
            keiryoku_store::ReadKind::ApplicationPdf,
            Some(&application),
            None,
        ))
        .await?;
    pdf_response(&id, pdf)
}
