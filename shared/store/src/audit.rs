//! The audit trail (監査記録): one append-only record per mutation and decision.
//!
//! Records live under their own partition `AUDIT#<application id>`, written with
//! `attribute_not_exists` in the same transaction as the change they describe, so a change
//! without its record (or a record without its change) cannot exist. No route updates or deletes
//! them, and template.yaml denies `UpdateItem` / `DeleteItem` on `AUDIT#*` to every function.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::item::{Item, get_json, key, s};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The identity's `sub` (GビズID for applicants, the staff provider for staff).
    pub sub: String,
    /// Name as known when acting.
    #[serde(default)]
    pub name: Option<String>,
    /// `applicant` or `reviewer`.
    pub role: String,
    /// The company (applicants) or authority (staff) acted for.
    pub on_behalf_of: String,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub application_id: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: Actor,
    /// `create`, `edit`, `submit`, `return`, `approve`, …
    pub action: String,
    /// JSON Pointers of what changed (`/plan/period/start`, `/status`).
    pub changed_paths: Vec<String>,
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
pub fn version_hash(id: &str, version: i64, status: &str, plan_json: &str) -> String {
    let digest = Sha256::digest(format!("{id}\n{version}\n{status}\n{plan_json}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn audit_partition(application_id: &str) -> String {
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
