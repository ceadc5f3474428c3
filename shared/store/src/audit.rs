//! The audit trail (監査記録): one append-only record per mutation and decision.
//!
//! Records live under their own partition `AUDIT#<application id>`, written with
//! `attribute_not_exists` in the same transaction as the change they describe, so a change
//! without its record (or a record without its change) cannot exist. No route updates or deletes
//! them, and template.yaml denies `UpdateItem` / `DeleteItem` on `AUDIT#*` to every function.

use keiryoku_domain::application::{Actor, ApplicationId, AuditAction};
use keiryoku_domain::status::Status;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::item::{Item, get_json, key, s};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub application_id: ApplicationId,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Actor,
    pub action: AuditAction,
    /// JSON Pointers of what changed (`/plan/period/start`, `/status`): the first
    /// [`MAX_CHANGED_PATHS`] of them.
    pub changed_paths: Vec<String>,
    /// How many paths changed in all (a save may replace a whole plan of thousands of fields:
    /// the record stays small and says how much it left out).
    #[serde(default)]
    pub changed_count: usize,
    /// The version the change produced (absent when it deleted the application).
    pub version: Option<i64>,
    /// SHA-256 (hex) of the resulting version: see [`version_hash`].
    pub version_hash: Option<String>,
    /// What else the action recorded (receipt number, certification number, comments…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The SHA-256 (hex) identifying one version of an application:
/// `sha256("<id>\n<version>\n<status>\n<plan as stored>")`.
pub fn version_hash(id: &ApplicationId, version: i64, status: Status, plan_json: &str) -> String {
    let status = status.as_str();
    let digest = Sha256::digest(format!("{id}\n{version}\n{status}\n{plan_json}").as_bytes());
    hex::encode(digest)
}

/// The most changed paths one audit record lists.
pub const MAX_CHANGED_PATHS: usize = 100;

/// The paths an audit record lists, and how many changed in all.
pub(crate) fn capped(mut paths: Vec<String>) -> (Vec<String>, usize) {
    let count = paths.len();
    paths.truncate(MAX_CHANGED_PATHS);
    (paths, count)
}

pub(crate) fn audit_partition(application_id: &ApplicationId) -> String {
    format!("AUDIT#{application_id}")
}

/// The item of a new audit record (written only inside a transaction, never alone).
pub(crate) fn audit_item(record: &AuditRecord) -> Result<Item, StoreError> {
    let body = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = key(
        audit_partition(&record.application_id),
        &format!("{}#{}", record.at, uuid::Uuid::now_v7()),
    );
    item.extend([
        ("kind".to_string(), s("audit")),
        ("body".to_string(), s(body)),
    ]);
    Ok(item)
}

pub(crate) fn from_audit_item(item: &Item) -> Result<AuditRecord, StoreError> {
    get_json(item, "body")
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    #[test]
    fn a_record_lists_at_most_a_hundred_paths_and_counts_them_all() {
        let paths: Vec<String> = (0..2500).map(|i| format!("/plan/x/{i}")).collect();
        let (listed, count) = capped(paths);
        assert_eq!((listed.len(), count), (MAX_CHANGED_PATHS, 2500));
        assert_eq!(listed[0], "/plan/x/0");
        assert_eq!(
            capped(vec!["/status".into()]),
            (vec!["/status".to_string()], 1)
        );
    }
}
