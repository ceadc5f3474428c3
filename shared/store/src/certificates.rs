//! Certificates (認定書) as recorded (`CERT#<certificate id>`), the log of their downloads
//! (`DOWNLOADS#<application id>`) and of public verification checks (`CHECKS#<certificate id>`).
//!
//! A certificate id is derived from the application and the certified revision, so every retry
//! of the effect that issues it names the same certificate: it is created once
//! (`attribute_not_exists`), and a re-render after a template fix adds a document version to it.

use keiryoku_domain::application::CertificateStatus;
use keiryoku_domain::status::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::error::conditional;
use crate::item::{get_item, get_json, get_n, key, n, put_item, s};

/// One rendering of a certificate, as stored in the documents bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CertificateDocument {
    /// S3 key (ids only).
    pub key: String,
    /// S3 version id (the bucket is versioned: every rendering is kept).
    pub version_id: Option<String>,
    /// SHA-256 (hex) of the PDF bytes.
    pub sha256: String,
    /// `<file version>/<template>@<revision>` of the template that rendered it.
    pub template_version: String,
    /// The unverified facts it prints (`table#row`); not empty: a provisional rendering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified_facts: Vec<String>,
    pub size: i64,
    pub rendered_at: String,
}

/// A certificate (認定書).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    pub id: String,
    pub application_id: String,
    pub company_id: String,
    pub company_name: String,
    /// 認定番号.
    pub certification_number: String,
    /// 認定日.
    pub certified_on: String,
    pub office_ids: Vec<String>,
    pub status: CertificateStatus,
    /// The change application that superseded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// Every rendering, oldest first; the last one is current.
    pub documents: Vec<CertificateDocument>,
    pub created_at: String,
}

/// How long a certificate download is kept: five years, the certification's own horizon (a
/// plan runs up to five years), after which who downloaded it has no use (docs/retention.md).
pub const DOWNLOADS_KEPT_DAYS: i64 = 5 * 366;

/// How long a public verification check (with the verifier's IP address and user agent) is
/// kept: one year, enough to investigate misuse (docs/retention.md).
pub const CHECKS_KEPT_DAYS: i64 = 366;

/// A download of a certificate (who, when, from where).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DownloadEntry {
    pub at: String,
    pub certificate_id: String,
    pub sub: String,
    pub name: Option<String>,
    pub role: Role,
    pub source_ip: String,
    pub user_agent: String,
}

/// A public verification check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckEntry {
    pub at: String,
    pub source_ip: String,
    pub user_agent: String,
    /// What the check answered.
    pub status: CertificateStatus,
}

/// The certificate id of an application's certified revision: the same on every retry.
pub fn certificate_id(application_id: &str, revision: i64) -> String {
    let digest = Sha256::digest(format!("certificate\n{application_id}\n{revision}").as_bytes());
    // The first 16 bytes, written as a UUID (the shape of every id the platform issues).
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

fn cert_key(id: &str) -> crate::item::Item {
    key(format!("CERT#{id}"), "CERT")
}

/// The certificate records and their logs.
#[derive(Clone)]
pub struct Certificates {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Certificates {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Certificates {
        Certificates {
            client,
            table: table.into(),
        }
    }

    /// The certificate and its revision (for [`Certificates::save`]).
    pub async fn get(&self, id: &str) -> Result<(CertificateRecord, i64), StoreError> {
        let item = get_item(&self.client, &self.table, cert_key(id))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((get_json(&item, "body")?, get_n(&item, "revision")?))
    }

    /// Records a new certificate; `ConditionFailed` when it exists already.
    pub async fn create(&self, record: &CertificateRecord) -> Result<(), StoreError> {
        self.write(record, None).await
    }

    /// Replaces a certificate read at `revision` (a lost race is `ConditionFailed`).
    pub async fn save(&self, record: &CertificateRecord, revision: i64) -> Result<(), StoreError> {
        self.write(record, Some(revision)).await
    }

    async fn write(
        &self,
        record: &CertificateRecord,
        revision: Option<i64>,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = cert_key(&record.id);
        item.extend([
            ("kind".to_string(), s("certificate")),
            ("body".to_string(), s(body)),
            ("application_id".to_string(), s(&record.application_id)),
            ("revision".to_string(), n(revision.unwrap_or(0) + 1)),
        ]);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        request = match revision {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(current) => request
                .condition_expression("revision = :current")
                .expression_attribute_values(":current", n(current)),
        };
        request
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        Ok(())
    }

    /// Appends a download to the application's download history.
    pub async fn log_download(
        &self,
        application_id: &str,
        entry: &DownloadEntry,
    ) -> Result<(), StoreError> {
        self.log(
            format!("DOWNLOADS#{application_id}"),
            &entry.at,
            entry,
            DOWNLOADS_KEPT_DAYS,
        )
        .await
    }

    /// The downloads of an application's certificates, oldest first.
    pub async fn downloads(
        &self,
        application_id: &str,
        order: crate::Order,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<crate::LogPage<DownloadEntry>, StoreError> {
        self.read_log(format!("DOWNLOADS#{application_id}"), order, limit, cursor)
            .await
    }

    /// Appends a verification check of a certificate.
    pub async fn log_check(
        &self,
        certificate_id: &str,
        entry: &CheckEntry,
    ) -> Result<(), StoreError> {
        self.log(
            format!("CHECKS#{certificate_id}"),
            &entry.at,
            entry,
            CHECKS_KEPT_DAYS,
        )
        .await
    }

    /// The verification checks of a certificate, oldest first.
    pub async fn checks(
        &self,
        certificate_id: &str,
        order: crate::Order,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<crate::LogPage<CheckEntry>, StoreError> {
        self.read_log(format!("CHECKS#{certificate_id}"), order, limit, cursor)
            .await
    }

    /// Appends `entry`, kept `days` (DynamoDB's TTL deletes it afterwards: docs/retention.md).
    async fn log<T: Serialize>(
        &self,
        partition: String,
        at: &str,
        entry: &T,
        days: i64,
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = key(partition, &format!("{at}#{}", uuid::Uuid::now_v7()));
        let expires = time::OffsetDateTime::now_utc().unix_timestamp() + days * 86_400;
        item.extend([
            ("kind".to_string(), s("log")),
            ("body".to_string(), s(body)),
            ("ttl".to_string(), n(expires)),
        ]);
        put_item(&self.client, &self.table, item).await
    }

    async fn read_log<T: serde::de::DeserializeOwned>(
        &self,
        partition: String,
        order: crate::Order,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<crate::LogPage<T>, StoreError> {
        crate::log_page::log_page(&self.client, &self.table, partition, order, limit, cursor)
            .await?
            .map(|item| get_json(&item, "body"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_ids_are_stable_per_certified_revision() {
        let a = certificate_id("0190-a", 7);
        assert_eq!(a, certificate_id("0190-a", 7));
        assert_ne!(a, certificate_id("0190-a", 8));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }
}
