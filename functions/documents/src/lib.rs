//! The documents function: certificates (認定書) and application PDFs (申請書).
//!
//! - `GET /verify/{id}` (public, no login): whether a certificate is valid, superseded by a
//!   change or withdrawn, with the SHA-256 of its PDF; every check is recorded.
//! - `GET /verify` (public, no login): the same question by 法人番号, 認定番号 and 認定日, for a
//!   certification of any origin (made here, migrated from the legacy system, issued on paper);
//!   a form for people, JSON for machines.
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
use keiryoku_store::{
    Applications, Cases, Certificates, Documents, Register, Sessions, StaffDirectory,
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
    /// 認定台帳, for verification by 法人番号 and 認定番号.
    pub register: Register,
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
            .route("/verify", get(verify_registration))
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
    verify_registration,
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
    let found =
        lifecycle::verify_certificate(&state.certificates, &state.register, &id, client.into())
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

/// What a verification by the printed facts asks (each field as a person typed it).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// 法人番号 (13 digits; full-width digits, spaces and hyphens accepted).
    pub corporate_number: Option<String>,
    /// 認定番号 as printed on the 認定書.
    pub certification_number: Option<String>,
    /// 認定日 (`YYYY-MM-DD` or `YYYY/MM/DD`).
    pub certified_on: Option<String>,
}

/// Public verification of a certification of any origin by what its 認定書 prints.
#[utoipa::path(get, path = "/verify", tag = "documents", summary = "認定の確認：法人番号・認定番号・認定日で、認定が有効かを確認する（ログイン不要。移行分・紙申請分も含む）", params(RegistrationQuery), responses((status = 200, description = "確認結果", body = RegistrationView), (status = 404, description = "該当する認定がない"), (status = 422, description = "入力の誤り（項目ごと）")))]
async fn verify_registration(
    State(state): State<DocumentsState>,
    QueryParams(asked): QueryParams<RegistrationQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    use keiryoku_domain::register::RegisterQuery;
    let page = keiryoku_web::wants_html(&headers);
    let form = |status, errors: Vec<(String, String)>, not_found: bool| {
        keiryoku_web::render(
            status,
            &LookupPage {
                chrome: keiryoku_web::Chrome::new("認定の確認", None)
                    .with_error(!errors.is_empty()),
                corporate_number: asked.corporate_number.clone().unwrap_or_default(),
                certification_number: asked.certification_number.clone().unwrap_or_default(),
                certified_on: asked.certified_on.clone().unwrap_or_default(),
                errors,
                not_found,
            },
        )
    };
    let nothing_asked = asked.corporate_number.is_none()
        && asked.certification_number.is_none()
        && asked.certified_on.is_none();
    if page && nothing_asked {
        return Ok(form(axum::http::StatusCode::OK, Vec::new(), false));
    }
    let query = match RegisterQuery::parse(
        asked.corporate_number.as_deref().unwrap_or_default(),
        asked.certification_number.as_deref().unwrap_or_default(),
        asked.certified_on.as_deref().unwrap_or_default(),
    ) {
        Ok(query) => query,
        Err(findings) if page => {
            let errors = findings
                .into_iter()
                .map(|f| (f.path.trim_start_matches('/').to_string(), f.message))
                .collect();
            return Ok(form(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                false,
            ));
        }
        Err(findings) => {
            return Err(UseCaseError::Refused(
                keiryoku_domain::application::LifecycleError::Invalid(findings),
            )
            .into());
        }
    };
    let found = match lifecycle::verify_registration(&state.register, &query).await {
        Ok(found) => found,
        Err(UseCaseError::NotFound) if page => {
            return Ok(form(axum::http::StatusCode::NOT_FOUND, Vec::new(), true));
        }
        Err(UseCaseError::NotFound) => return Err(ApiError::UnknownCertification),
        Err(other) => return Err(other.into()),
    };
    let entry = found.entry;
    let view = RegistrationView {
        valid: found.status == CertificateStatus::Valid,
        status: found.status,
        status_label: found.status.label(),
        certification_number: entry.certification_number,
        certified_on: entry.certified_on.to_string(),
        certified_on_wareki: found.certified_on_wareki,
        company_name: entry.company_name,
        corporate_number: entry.corporate_number.unwrap_or_default(),
        authorities: found.authorities,
        change: entry.application_kind == keiryoku_domain::application::ApplicationKind::Change,
        origin: entry.origin,
        period_end_wareki: entry
            .period_end
            .as_deref()
            .and_then(keiryoku_domain::register::parse_month)
            .and_then(|m| keiryoku_domain::dates::wareki_month(m.year, m.month)),
        period_end: entry.period_end,
    };
    if page {
        return Ok(keiryoku_web::render(
            axum::http::StatusCode::OK,
            &RegistrationPage {
                chrome: keiryoku_web::Chrome::new("認定の確認", None),
                authorities: view.authorities.join("、"),
                v: view,
            },
        ));
    }
    Ok(Json(view).into_response())
}

/// What verification by the printed facts answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RegistrationView {
    /// 有効 (not superseded by a certified change).
    pub valid: bool,
    pub status: CertificateStatus,
    pub status_label: &'static str,
    /// 認定番号 as the register holds it.
    pub certification_number: String,
    /// 認定日 (YYYY-MM-DD) and in 和暦.
    pub certified_on: String,
    pub certified_on_wareki: Option<String>,
    pub company_name: String,
    /// 法人番号.
    pub corporate_number: String,
    /// The certifying offices, by name.
    pub authorities: Vec<String>,
    /// A 変更認定 (the certification of a change).
    pub change: bool,
    /// Where it was certified: here, in the legacy system, or on paper.
    pub origin: keiryoku_domain::register::Origin,
    /// The last month of the plan's 実施期間 (`YYYY-MM`), when known, and in 和暦. The
    /// certification stays in force after it; a verifier may want to know the plan has ended.
    pub period_end: Option<String>,
    pub period_end_wareki: Option<String>,
}

/// The form of verification by the printed facts (and its errors).
#[derive(askama::Template)]
#[template(path = "verify_lookup.html")]
struct LookupPage {
    chrome: keiryoku_web::Chrome,
    corporate_number: String,
    certification_number: String,
    certified_on: String,
    /// field, message
    errors: Vec<(String, String)>,
    /// Asked well, but the register holds no such certification.
    not_found: bool,
}

impl LookupPage {
    fn error_at(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(path, _)| path == field)
            .map(|(_, message)| message.as_str())
    }
}

/// The answer of verification by the printed facts, as a page.
#[derive(askama::Template)]
#[template(path = "verify_registration.html")]
struct RegistrationPage {
    chrome: keiryoku_web::Chrome,
    v: RegistrationView,
    authorities: String,
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
