//! Issuing the certificate (認定書) of a certified application: rendered once, stored in the
//! documents bucket under ids only with its SHA-256 and template version as metadata, recorded
//! as a certificate; a change application's certificate supersedes the one it changes.

use keiryoku_domain::application::{Application, ApplicationId, CertificateStatus};
use keiryoku_domain::plan::{get, rows};
use keiryoku_pdf::certificate::{CertificateData, Issuer};
use keiryoku_store::{
    CertificateDocument, CertificateRecord, FileInfo, StoreError, certificate_id,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Effector;

/// What the certificate of `record` states.
fn certificate_data(
    record: &Application,
    id: &str,
    public_base_url: &str,
) -> Result<CertificateData, String> {
    let certification = record.certification.as_ref().ok_or("not certified")?;
    let submission = record.submission.as_ref().ok_or("never submitted")?;
    let plan = record.typed_plan();
    let applicant = get(&plan.applicant).ok_or("plan without applicant")?;
    let text = |field: &Option<keiryoku_domain::plan::Typed<String>>| {
        get(field).cloned().unwrap_or_default()
    };
    let head_office = get(&applicant.head_office);
    let tables = keiryoku_domain::tables::tables();
    let prefecture = head_office
        .and_then(|h| get(&h.prefecture_code))
        .and_then(|code| tables.prefecture(code))
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let address = head_office
        .and_then(|h| get(&h.address))
        .cloned()
        .unwrap_or_default();
    let issuers = certification
        .office_ids
        .iter()
        .map(|office| {
            let (network, found) = tables
                .office(office.as_str())
                .ok_or_else(|| format!("unknown office {office}"))?;
            Ok(Issuer {
                office_id: office.to_string(),
                ministry_id: network.ministry.clone(),
                title: found.title.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let business_fields = rows(&plan.business_fields)
        .filter_map(|(_, f)| get(&f.detail_code).cloned())
        .map(|code| match tables.jsic.name(&code) {
            Some(name) => format!("{code} {name}"),
            None => code,
        })
        .collect();
    Ok(CertificateData {
        certificate_id: id.to_string(),
        certification_number: certification.number.clone(),
        certified_on: certification.certified_on,
        applied_on: submission.received_on,
        // The company GビズID vouched for at submission, never what a form said.
        company_name: record.company_name(),
        representative: format!(
            "{}　{}",
            text(&applicant.representative_title),
            text(&applicant.representative_name)
        )
        .trim()
        .to_string(),
        address: format!("{prefecture}{address}"),
        issuers,
        period: get(&plan.period).copied().ok_or("plan without period")?,
        business_fields,
        verify_url: format!("{public_base_url}/verify/{id}"),
    })
}

/// SHA-256 of bytes, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn storage_key(application_id: &ApplicationId, certificate: &str) -> String {
    format!("certificates/{application_id}/{certificate}.pdf")
}

/// Renders and stores one document of a certificate: a new S3 version of its key.
async fn store(
    effector: &Effector,
    data: &CertificateData,
    key: &str,
) -> Result<CertificateDocument, String> {
    let rendered = keiryoku_pdf::certificate::render(data).map_err(|e| format!("render: {e}"))?;
    let sha256 = sha256_hex(&rendered.pdf);
    // ASCII ids (`rules.json#certification_number`), so they fit S3 metadata.
    let unverified = rendered.unverified.join(" ");
    let size = i64::try_from(rendered.pdf.len()).unwrap_or(i64::MAX);
    let info = FileInfo {
        key: key.to_string(),
        content_type: "application/pdf".into(),
        disposition: format!(
            "attachment; filename=\"certificate-{}.pdf\"",
            data.certificate_id
        ),
    };
    let version_id = effector
        .documents
        .put(
            &info,
            rendered.pdf,
            &[
                ("sha256", &sha256),
                ("template-version", &rendered.template_version),
                ("certificate-id", &data.certificate_id),
                ("unverified-facts", &unverified),
            ],
        )
        .await
        .map_err(|e| format!("store PDF: {e}"))?;
    Ok(CertificateDocument {
        key: key.to_string(),
        version_id,
        sha256,
        template_version: rendered.template_version,
        unverified_facts: rendered.unverified,
        size,
        rendered_at: keiryoku_store::now_rfc3339(),
    })
}

/// Issues the certificate of a certified application, exactly once.
pub(crate) async fn issue(effector: &Effector, record: &Application) -> Result<Value, String> {
    let certification = record.certification.as_ref().ok_or("not certified")?;
    let id = certificate_id(record.id.as_str(), certification.revision);
    if let Ok((existing, _)) = effector.certificates.get(&id).await
        && let Some(document) = existing.documents.first()
    {
        return Ok(json!({ "certificate_id": id, "sha256": document.sha256, "existing": true }));
    }
    let key = storage_key(&record.id, &id);
    // A previous attempt may have stored the PDF and failed before recording it: use that one,
    // so a certification never has two different first documents.
    let document = match effector
        .documents
        .head(&key)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(file) if file.metadata.contains_key("sha256") => CertificateDocument {
            key: key.clone(),
            version_id: file.version_id,
            sha256: file.metadata.get("sha256").cloned().unwrap_or_default(),
            template_version: file
                .metadata
                .get("template-version")
                .cloned()
                .unwrap_or_default(),
            unverified_facts: file
                .metadata
                .get("unverified-facts")
                .map(|f| f.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            size: file.size,
            rendered_at: keiryoku_store::now_rfc3339(),
        },
        _ => {
            let data = certificate_data(record, &id, &effector.public_base_url)?;
            store(effector, &data, &key).await?
        }
    };
    let certificate = CertificateRecord {
        id: id.clone(),
        application_id: record.id.to_string(),
        company_id: record.company_id.to_string(),
        company_name: record.company_name(),
        certification_number: certification.number.clone(),
        certified_on: certification.certified_on.to_string(),
        office_ids: certification
            .office_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        status: CertificateStatus::Valid,
        superseded_by: None,
        documents: vec![document.clone()],
        created_at: keiryoku_store::now_rfc3339(),
    };
    match effector.certificates.create(&certificate).await {
        Ok(()) | Err(StoreError::ConditionFailed) => {}
        Err(e) => return Err(format!("record certificate: {e}")),
    }
    if let Some(change) = &record.change_of {
        supersede(
            effector,
            &certificate_id(change.application_id.as_str(), change.revision),
            record.id.as_str(),
        )
        .await?;
    }
    Ok(json!({ "certificate_id": id, "sha256": document.sha256, "key": key }))
}

/// Marks the certificate a certified change replaces as superseded (idempotent).
async fn supersede(effector: &Effector, old: &str, by: &str) -> Result<(), String> {
    for _ in 0..3 {
        let (mut certificate, revision) = match effector.certificates.get(old).await {
            Ok(found) => found,
            // Certified before this platform issued certificates: nothing to mark.
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        if certificate.status == CertificateStatus::Superseded {
            return Ok(());
        }
        certificate.status = CertificateStatus::Superseded;
        certificate.superseded_by = Some(by.to_string());
        match effector.certificates.save(&certificate, revision).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("certificate changed concurrently".into())
}

/// Renders a certificate again (after a template fix): a new document version; the first and
/// every earlier one are kept (S3 versioning and the record's document list).
pub async fn rerender(
    effector: &Effector,
    certificate: &str,
) -> Result<CertificateDocument, String> {
    let (mut record, revision) = effector
        .certificates
        .get(certificate)
        .await
        .map_err(|e| e.to_string())?;
    let application_id =
        ApplicationId::parse(&record.application_id).ok_or("certificate of an unknown id")?;
    let application = effector
        .applications
        .get(&application_id)
        .await
        .map_err(|e| e.to_string())?;
    let data = certificate_data(&application, &record.id, &effector.public_base_url)?;
    let document = store(effector, &data, &storage_key(&application_id, &record.id)).await?;
    record.documents.push(document.clone());
    effector
        .certificates
        .save(&record, revision)
        .await
        .map_err(|e| e.to_string())?;
    Ok(document)
}
