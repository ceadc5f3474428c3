//! The audit trail's write-once copy: every audit record as the table's stream delivered it,
//! at `audit/<application>/<sort key>.json` in the Object Lock (compliance) bucket. What the
//! table's hash chain cannot show alone (its last records replaced with recomputed hashes, or
//! dropped) shows against this copy ([`crate::audit::compare_with_archive`]).

use aws_sdk_s3::primitives::ByteStream;
use keiryoku_domain::application::ApplicationId;

use crate::StoreError;
use crate::audit::AuditRecord;
use crate::item::{Item, get_s};

/// The archive bucket.
#[derive(Clone)]
pub struct AuditArchive {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// The key of an application's archived records.
fn prefix(application: &str) -> String {
    format!("audit/{application}/")
}

impl AuditArchive {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> AuditArchive {
        AuditArchive {
            s3,
            bucket: bucket.into(),
        }
    }

    /// Archives one audit item of the stream (`pk` `AUDIT#<application>`, `sk`, `body`), once:
    /// `false` when a copy was already there (a redelivery; a copy that differs stays as it was
    /// first written, and `audit verify` names the difference).
    pub async fn archive_item(&self, item: &Item) -> Result<bool, StoreError> {
        let application = get_s(item, "pk")?
            .strip_prefix("AUDIT#")
            .ok_or_else(|| StoreError::Corrupt("not an audit record".into()))?;
        let sort_key = get_s(item, "sk")?;
        let body = get_s(item, "body")?;
        let result = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{}{sort_key}.json", prefix(application)))
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(aws_sdk_s3::error::SdkError::ServiceError(e))
                if e.raw().status().as_u16() == 412 =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// An application's archived records with their sequence (oldest first). Each key's first
    /// version is read, whatever came after it: a delete marker (which Object Lock allows, and
    /// which hides a key from a plain listing) or a later write hides nothing here.
    pub async fn records(
        &self,
        application: &ApplicationId,
    ) -> Result<Vec<(i64, AuditRecord)>, StoreError> {
        let prefix = prefix(application.as_str());
        // key → (first written, its version id)
        let mut first: std::collections::BTreeMap<String, (i64, String)> =
            std::collections::BTreeMap::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(StoreError::sdk)?;
            for version in page.versions() {
                let (Some(key), Some(version_id)) = (version.key(), version.version_id()) else {
                    continue;
                };
                let written = version
                    .last_modified()
                    .map_or(i64::MAX, |t| t.as_nanos().try_into().unwrap_or(i64::MAX));
                let entry = first
                    .entry(key.to_string())
                    .or_insert((written, version_id.to_string()));
                // Versions of a key come newest first: the last one seen is the oldest.
                if written <= entry.0 {
                    *entry = (written, version_id.to_string());
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() {
                break;
            }
        }
        let mut records = Vec::with_capacity(first.len());
        for (key, (_, version_id)) in first {
            let sequence = key
                .strip_prefix(&prefix)
                .and_then(|k| k.strip_prefix('V'))
                .and_then(|k| k.strip_suffix(".json"))
                .and_then(|k| k.parse::<i64>().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("archive key {key}")))?;
            let body = self
                .s3
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .version_id(version_id)
                .send()
                .await
                .map_err(StoreError::sdk)?
                .body
                .collect()
                .await
                .map_err(StoreError::sdk)?
                .into_bytes();
            let record: AuditRecord = serde_json::from_slice(&body)
                .map_err(|e| StoreError::Corrupt(format!("{key}: {e}")))?;
            records.push((sequence, record));
        }
        records.sort_by_key(|(sequence, _)| *sequence);
        Ok(records)
    }
}
