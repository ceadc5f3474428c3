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
    /// The `hash` of the application's previous audit record (absent on the first): the trail
    /// is a hash chain, so a record changed, removed or slipped in afterwards shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    /// SHA-256 (hex) of this record as stored, without this field: see [`record_hash`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// Compares an application's trail in the table (its records' hashes, oldest first: the record
/// at index `i` has sequence `i + 1`) with its write-once copy: every archived record must still
/// be in the table, unchanged. The chain alone cannot show a last record replaced with a
/// recomputed hash, or the last records dropped; this can, once the copy holds them.
pub fn compare_with_archive(
    trail: &[Option<String>],
    archived: &[(i64, AuditRecord)],
) -> Result<(), ChainBreak> {
    // Records the copy lacks are not a break here: the stream brings them within seconds;
    // [`missing_from_archive`] says which are missing, and the operator decides how long is
    // too long.
    for (sequence, record) in archived {
        let position = usize::try_from(*sequence).unwrap_or(0);
        let in_table = position.checked_sub(1).and_then(|index| trail.get(index));
        let reason = match in_table {
            None => "it is in the write-once copy but no longer in the table (removed)",
            Some(hash) if *hash != record.hash => "it differs from its write-once copy (replaced)",
            Some(_) => continue,
        };
        return Err(ChainBreak {
            position,
            at: record.at.clone(),
            reason: reason.into(),
        });
    }
    Ok(())
}

/// The positions (1-based) of the table's records that the write-once copy does not hold.
pub fn missing_from_archive(trail_len: usize, archived: &[(i64, AuditRecord)]) -> Vec<usize> {
    let held: std::collections::BTreeSet<i64> = archived.iter().map(|(s, _)| *s).collect();
    (1..=trail_len)
        .filter(|position| !held.contains(&(*position as i64)))
        .collect()
}

/// The hash a record carries: SHA-256 of its JSON without `hash` (the previous record's hash
/// included, which chains them).
pub fn record_hash(record: &AuditRecord) -> Result<String, StoreError> {
    let mut unhashed = record.clone();
    unhashed.hash = None;
    let text = serde_json::to_string(&unhashed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(text.as_bytes())))
}

/// Where an application's audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit record {position} ({at}): {reason}")]
pub struct ChainBreak {
    /// 1-based position in the trail.
    pub position: usize,
    pub at: String,
    pub reason: String,
}

/// Checks a trail, oldest first, continuing from `previous` (the hash of the record before
/// `records[0]`; `None` when it is the first). Returns the hash of the last record.
pub fn verify_chain(
    records: &[AuditRecord],
    mut previous: Option<String>,
    first_position: usize,
) -> Result<Option<String>, ChainBreak> {
    for (i, record) in records.iter().enumerate() {
        let broken = |reason: &str| ChainBreak {
            position: first_position + i,
            at: record.at.clone(),
            reason: reason.to_string(),
        };
        if record.previous_hash != previous {
            return Err(broken(
                "it does not follow the record before it (one was removed, inserted or changed)",
            ));
        }
        let expected = record_hash(record).map_err(|e| broken(&e.to_string()))?;
        if record.hash.as_deref() != Some(expected.as_str()) {
            return Err(broken(
                "its content does not match its hash (it was changed)",
            ));
        }
        previous = Some(expected);
    }
    Ok(previous)
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

/// The sort key of an application's `sequence`-th audit record (its version after the change):
/// the trail sorts in the order of the commits whatever the clocks of the machines said.
pub(crate) fn audit_sort_key(sequence: i64) -> String {
    format!("V{sequence:012}")
}

/// The item of a new audit record (written only inside a transaction, never alone).
pub(crate) fn audit_item(record: &AuditRecord, sequence: i64) -> Result<Item, StoreError> {
    let body = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = key(
        audit_partition(&record.application_id),
        &audit_sort_key(sequence),
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

    fn trail(n: usize) -> Vec<AuditRecord> {
        let mut previous = None;
        (0..n)
            .map(|i| {
                let mut record = AuditRecord {
                    application_id: ApplicationId::new(uuid::Uuid::nil()),
                    at: format!("2026-12-04T00:00:0{i}Z"),
                    actor: Actor {
                        sub: "100001".into(),
                        name: None,
                        role: keiryoku_domain::status::Role::Applicant,
                        on_behalf_of: "corp-1".into(),
                    },
                    action: AuditAction::Edit,
                    changed_paths: vec![format!("/plan/x/{i}")],
                    changed_count: 1,
                    version: Some(i as i64 + 1),
                    version_hash: None,
                    detail: None,
                    previous_hash: previous.clone(),
                    hash: None,
                };
                record.hash = record_hash(&record).ok();
                previous = record.hash.clone();
                record
            })
            .collect()
    }

    #[test]
    fn a_changed_removed_or_inserted_record_breaks_the_chain() {
        let good = trail(4);
        assert!(verify_chain(&good, None, 1).is_ok());
        let mut changed = good.clone();
        changed[1].changed_paths = vec!["/plan/other".into()];
        assert_eq!(
            verify_chain(&changed, None, 1).map_err(|b| b.position),
            Err(2)
        );
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, None, 1).map_err(|b| b.position),
            Err(2)
        );
        let mut rehashed = changed.clone();
        rehashed[1].hash = record_hash(&rehashed[1]).ok();
        assert_eq!(
            verify_chain(&rehashed, None, 1).map_err(|b| b.position),
            Err(3),
            "recomputing one hash breaks the link of the next"
        );
        // Page by page: a trail checked in two halves is the same check.
        let last = verify_chain(&good[..2], None, 1).unwrap_or_default();
        assert!(verify_chain(&good[2..], last, 3).is_ok());
    }

    #[test]
    fn the_write_once_copy_shows_a_replaced_or_dropped_tail_the_chain_cannot() {
        let good = trail(3);
        let archived: Vec<(i64, AuditRecord)> = good
            .iter()
            .enumerate()
            .map(|(i, r)| (i as i64 + 1, r.clone()))
            .collect();
        let hashes = |records: &[AuditRecord]| -> Vec<Option<String>> {
            records.iter().map(|r| r.hash.clone()).collect()
        };
        assert!(compare_with_archive(&hashes(&good), &archived).is_ok());
        // The last record rewritten with a recomputed hash: the chain holds, the copy does not.
        let mut replaced = good.clone();
        replaced[2].action = AuditAction::Withdraw;
        replaced[2].hash = record_hash(&replaced[2]).ok();
        assert!(verify_chain(&replaced, None, 1).is_ok());
        assert_eq!(
            compare_with_archive(&hashes(&replaced), &archived).map_err(|b| b.position),
            Err(3)
        );
        // The last record dropped: the same.
        let dropped = &good[..2];
        assert!(verify_chain(dropped, None, 1).is_ok());
        assert_eq!(
            compare_with_archive(&hashes(dropped), &archived).map_err(|b| b.position),
            Err(3)
        );
        // A copy that lags behind the table checks what it holds, and says what it lacks.
        assert!(compare_with_archive(&hashes(&good), &archived[..1]).is_ok());
        assert_eq!(missing_from_archive(3, &archived[..1]), [2, 3]);
        assert!(missing_from_archive(3, &archived).is_empty());
    }

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
