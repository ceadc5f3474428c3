//! The documents of an application: public verification of a 認定書, the owner's recorded
//! download, and the application PDF (申請書) as filed.

use std::time::Duration;

use keiryoku_domain::application::{ApplicationId, CertificateStatus, LifecycleError, OfficeId};
use keiryoku_domain::register::{RegisterEntry, RegisterQuery};
use keiryoku_domain::status::Role;
use keiryoku_store::{
    Applications, CertificateRecord, Certificates, CheckEntry, Documents, DownloadEntry, Register,
    certificate_id,
};

use crate::{Applicant, UseCaseError, owned};

/// Who asks, as the request shows it (kept with every check and download).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub source_ip: String,
    pub user_agent: String,
}

/// What public verification answers about a certificate.
#[derive(Debug, Clone)]
pub struct Verification {
    pub certificate: CertificateRecord,
    /// The certifying offices, by name.
    pub authorities: Vec<String>,
    /// 認定日 in 和暦.
    pub certified_on_wareki: Option<String>,
}

/// Public verification of a certificate by the id printed on it: recorded, then answered.
/// [`UseCaseError::NotFound`] when no certificate has that id.
pub async fn verify_certificate(
    certificates: &Certificates,
    register: &Register,
    id: &str,
    visitor: Visitor,
) -> Result<Verification, UseCaseError> {
    ApplicationId::parse(id).ok_or(UseCaseError::NotFound)?;
    let (mut certificate, _) = certificates.get(id).await?;
    // The mark of the change that replaced it is written with that change's certification; the
    // certificate itself is marked later by an effect, and not at all when the change was
    // certified on paper.
    if certificate.status == CertificateStatus::Valid
        && let Some(supersession) = register.superseded(&certificate.application_id).await?
    {
        certificate.status = CertificateStatus::Superseded;
        certificate.superseded_by = Some(supersession.by);
    }
    certificates
        .log_check(
            id,
            &CheckEntry {
                at: keiryoku_store::now_rfc3339(),
                source_ip: visitor.source_ip,
                user_agent: visitor.user_agent,
                status: certificate.status,
            },
        )
        .await?;
    let authorities = office_names(certificate.office_ids.iter().map(String::as_str));
    let certified_on_wareki = time::Date::parse(
        &certificate.certified_on,
        &time::format_description::well_known::Iso8601::DATE,
    )
    .ok()
    .and_then(keiryoku_domain::dates::wareki);
    Ok(Verification {
        certificate,
        authorities,
        certified_on_wareki,
    })
}

/// The offices by name (an unknown id as it is).
fn office_names<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let tables = keiryoku_domain::tables::tables();
    ids.map(|o| {
        tables
            .office(o)
            .map_or_else(|| o.to_string(), |(_, office)| office.name.clone())
    })
    .collect()
}

/// What public verification by 法人番号, 認定番号 and 認定日 answers about a certification of
/// any origin (made here, migrated, recorded from paper).
#[derive(Debug, Clone)]
pub struct Registration {
    pub entry: RegisterEntry,
    /// 有効, or superseded by a certified change.
    pub status: CertificateStatus,
    /// The certifying offices, by name.
    pub authorities: Vec<String>,
    /// 認定日 in 和暦.
    pub certified_on_wareki: Option<String>,
}

/// Public verification of a certification by what its 認定書 prints (法人番号, 認定番号,
/// 認定日), whatever its origin; [`UseCaseError::NotFound`] when the register has no such
/// certification. Not recorded: the question names no certificate of ours, and who asks gains
/// nothing the 認定書 in their hands does not already say.
pub async fn verify_registration(
    register: &Register,
    query: &RegisterQuery,
) -> Result<Registration, UseCaseError> {
    let entry = register
        .of_company_on(&query.corporate_number, query.certified_on)
        .await?
        .into_iter()
        .find(|entry| query.matches(entry))
        .ok_or(UseCaseError::NotFound)?;
    let status = match register.superseded(entry.application_id.as_str()).await? {
        Some(_) => CertificateStatus::Superseded,
        None => CertificateStatus::Valid,
    };
    Ok(Registration {
        authorities: office_names(entry.office_ids.iter().map(|o| o.as_str())),
        certified_on_wareki: keiryoku_domain::dates::wareki(entry.certified_on),
        status,
        entry,
    })
}

/// A short-lived link to a certificate's current rendering.
#[derive(Debug, Clone)]
pub struct DownloadLink {
    pub url: String,
    pub sha256: String,
    pub valid_for: Duration,
}

/// How long a download link works.
const LINK_VALID: Duration = Duration::from_secs(60);

/// The owner's download of the certificate of a certified application: recorded (who, when,
/// from where) before the link is given.
pub async fn download_certificate(
    applications: &Applications,
    certificates: &Certificates,
    documents: &Documents,
    applicant: &Applicant,
    id: &ApplicationId,
    visitor: Visitor,
) -> Result<DownloadLink, UseCaseError> {
    let record = owned(applications, applicant, id).await?;
    let certification = record.certification.as_ref().ok_or_else(|| {
        LifecycleError::Conflict("この申請は認定されていないため、認定書はありません。".into())
    })?;
    let certificate = certificate_id(record.id.as_str(), certification.revision);
    let (found, _) = match certificates.get(&certificate).await {
        Ok(found) => found,
        Err(keiryoku_store::StoreError::NotFound) => {
            return Err(LifecycleError::Conflict(
                "認定書を作成しています。しばらくしてからもう一度お試しください。".into(),
            )
            .into());
        }
        Err(other) => return Err(other.into()),
    };
    let document = found
        .documents
        .last()
        .ok_or_else(|| UseCaseError::Internal("certificate without a document".into()))?;
    certificates
        .log_download(
            record.id.as_str(),
            &DownloadEntry {
                at: keiryoku_store::now_rfc3339(),
                certificate_id: certificate.clone(),
                sub: applicant.actor.sub.clone(),
                name: applicant.actor.name.clone(),
                role: Role::Applicant,
                source_ip: visitor.source_ip,
                user_agent: visitor.user_agent,
            },
        )
        .await?;
    let url = documents
        .presigned_version(&document.key, document.version_id.as_deref(), LINK_VALID)
        .await?;
    Ok(DownloadLink {
        url,
        sha256: document.sha256.clone(),
        valid_for: LINK_VALID,
    })
}

/// The application (申請書) as a PDF: the plan as filed. For a submission, the PDF the effects
/// function keeps for the submitted revision; until it is stored (a moment after submitting),
/// and for plans finalised for paper, the filed revision rendered now. Never the current draft,
/// which may have been edited since.
pub async fn application_pdf(
    applications: &Applications,
    documents: &Documents,
    applicant: &Applicant,
    id: &ApplicationId,
) -> Result<Vec<u8>, UseCaseError> {
    let record = owned(applications, applicant, id).await?;
    filed_pdf(applications, documents, &record).await
}

/// The application PDF of a case inside `scope` (a staff member's), as
/// [`application_pdf`] gives it to the applicant.
pub async fn case_pdf(
    applications: &Applications,
    cases: &keiryoku_store::Cases,
    documents: &Documents,
    scope: &keiryoku_domain::staff::Scope,
    id: &ApplicationId,
) -> Result<Vec<u8>, UseCaseError> {
    let (record, _) = crate::case_of(applications, cases, scope, id).await?;
    filed_pdf(applications, documents, &record).await
}

/// The PDF of the revision `record` filed (kept by the effects function, or rendered now).
async fn filed_pdf(
    applications: &Applications,
    documents: &Documents,
    record: &keiryoku_domain::application::Application,
) -> Result<Vec<u8>, UseCaseError> {
    let (office_ids, applied_on, receipt, revision) = match (&record.submission, &record.paper) {
        (Some(s), _) => (
            &s.office_ids,
            s.received_on,
            Some(s.receipt_number.clone()),
            s.revision,
        ),
        (None, Some(p)) => (&p.office_ids, p.finalised_on, None, p.revision),
        (None, None) => {
            return Err(LifecycleError::Conflict(
                "申請書のPDFは、申請した後か紙申請用に確定した後に作成できます。".into(),
            )
            .into());
        }
    };
    if record.submission.is_some() {
        let key = keiryoku_store::application_pdf_key(&record.id, revision);
        if let Some(pdf) = documents.get(&key).await? {
            return Ok(pdf);
        }
    }
    let mut filed = record.clone();
    filed.plan = applications.revision(&record.id, revision).await?;
    let offices: Vec<String> = office_ids.iter().map(OfficeId::to_string).collect();
    keiryoku_pdf::application::render(
        &filed.typed_plan(),
        &keiryoku_pdf::application::ApplicationMeta::for_offices(applied_on, &offices, receipt),
    )
    .map_err(|e| UseCaseError::Internal(e.to_string()))
}
