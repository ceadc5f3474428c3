//! Application records (`APP#<id>`) and every write to them.
//!
//! Every change is one DynamoDB transaction built by [`Applications::commit`]: the whole new
//! record, conditional on the version that was read (so a lost race changes nothing), plus the
//! authority case entries derived from it ([`crate::cases`]), the audit record
//! ([`crate::audit`]) and whatever the action needs besides (idempotency key, counter,
//! revision). Either all of it happens or none of it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::audit::{Actor, AuditRecord, audit_item, version_hash};
use crate::cases::case_item;
use crate::cursor::{decode_cursor, encode_cursor};
use crate::item::{Item, get_item, get_json, get_n, get_s, key, n, query_all, s};

/// An application (申請) as stored: its state and the plan (様式第1) as entered so far.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationRecord {
    pub id: String,
    /// The company that owns it; only its users can see it.
    pub company_id: String,
    /// GビズID `sub` of the person who created it.
    pub created_by: String,
    /// `new` (新規申請) or `change` (変更申請).
    pub kind: String,
    /// `draft`, `submitted`, … (see PRODUCT.md §4).
    pub status: String,
    /// Increases by one on every write; the ETag is made from it.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The plan as entered (may be partial while a draft).
    pub plan: serde_json::Value,
    /// What submission recorded; absent until the first submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submission: Option<Submission>,
    /// What finalising for paper recorded (authorities without e-filing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperFiling>,
    /// Each competent authority's decision in the current review round (office id → decision).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub decisions: BTreeMap<String, Decision>,
    /// The latest return for correction (差戻し), with its comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<ReturnNote>,
    /// 認定: set when every competent authority approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<Certification>,
    /// 不認定.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// For a change application (変更申請): the certified application it changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_of: Option<ChangeOf>,
    /// Where notices go: the GビズID address of the account that last created or submitted it
    /// (never an address from a request body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_to: Option<String>,
}

/// A plan finalised for paper: the applicant prints the application PDF and posts it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PaperFiling {
    pub finalised_at: String,
    pub office_ids: Vec<String>,
    /// The routing answer with its explanation.
    pub routing: serde_json::Value,
}

/// What is recorded when an application is submitted (受付).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Submission {
    /// 受付番号: unique, never reused.
    pub receipt_number: String,
    /// 受付日時 (RFC 3339, UTC): legally material for the 60-day equipment rule.
    pub received_at: String,
    /// 受付日 in Japan.
    pub received_on: String,
    /// The due date of the standard processing period (標準処理期間) in business days.
    pub due_on: String,
    /// The competent authorities' office ids.
    pub office_ids: Vec<String>,
    /// The routing answer with its explanation, as shown to the applicant.
    pub routing: serde_json::Value,
    /// The version this submission produced; its plan is kept as a revision.
    #[serde(default)]
    pub revision: i64,
}

/// One authority's decision on the current submission.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    /// `approved`, `returned` or `rejected`.
    pub decision: String,
    pub by: Actor,
    pub at: String,
    /// 認定番号 allocated by this authority (approvals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification_number: Option<String>,
}

/// A comment anchored to a field of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FieldComment {
    /// JSON Pointer into the plan (`/plan/period/start`).
    pub path: String,
    pub message: String,
}

/// 差戻し: what the reviewer asks to be corrected.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReturnNote {
    pub at: String,
    pub by: Actor,
    pub office_id: String,
    pub message: String,
    pub comments: Vec<FieldComment>,
    /// The submitted revision that was returned (the resubmission is compared with it).
    pub revision: i64,
}

/// 認定.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Certification {
    /// 認定番号 of the first competent authority (the one printed first).
    pub number: String,
    /// Every authority's 認定番号 (joint plans have one per authority).
    pub numbers: BTreeMap<String, String>,
    /// 認定日 in Japan.
    pub certified_on: String,
    pub certified_at: String,
    pub office_ids: Vec<String>,
    /// The submitted revision that was certified.
    pub revision: i64,
}

/// 不認定.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rejection {
    pub at: String,
    pub by: Actor,
    pub office_id: String,
    pub reason: String,
}

/// The certification a change application (変更申請) changes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChangeOf {
    pub application_id: String,
    pub certification_number: String,
    pub certified_on: String,
    /// The authorities that certified it: the change goes back to them.
    pub office_ids: Vec<String>,
    /// The certified revision (the reviewer sees the change as a diff against it).
    pub revision: i64,
}

/// A one-shot action already done under an idempotency key: a retry answers the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResult {
    /// What the key was used for (`submit:<application id>`); another use of the key is refused.
    pub fingerprint: String,
    pub application_id: String,
    pub status: u16,
}

/// One page of a company's applications, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationRecord>,
    /// Pass back as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What else a commit writes besides the application, its case entries and its audit record.
#[derive(Debug, Clone)]
pub enum Extra {
    /// Remember an idempotency key of a company (fails the commit if the key was used).
    IdempotencyKey {
        company_id: String,
        key: String,
        fingerprint: String,
    },
    /// Keep the plan of this version as a revision (submissions).
    Revision,
    /// Move a gapless counter from `current` to `current + 1` (fails if it moved meanwhile).
    Counter { name: String, current: i64 },
}

/// Why a commit did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The application changed since it was read (or, creating, already exists).
    #[error("the application changed meanwhile")]
    Stale,
    #[error("the idempotency key was used meanwhile")]
    KeyUsed,
    #[error("the counter moved meanwhile")]
    CounterMoved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CommitError> for StoreError {
    fn from(e: CommitError) -> StoreError {
        match e {
            CommitError::Store(inner) => inner,
            _ => StoreError::ConditionFailed,
        }
    }
}

/// The application records (`APP#<id>`), listed per company through index `gsi1`.
#[derive(Clone)]
pub struct Applications {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const OWNER_INDEX: &str = "gsi1";

fn owner_partition(company_id: &str) -> String {
    format!("OWNER#{company_id}")
}

fn app_key(id: &str) -> Item {
    key(format!("APP#{id}"), "APP")
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A fresh draft, version 1, for `commit(None, …)`.
pub fn new_draft(
    company_id: &str,
    created_by: &str,
    kind: &str,
    plan: serde_json::Value,
    change_of: Option<ChangeOf>,
) -> ApplicationRecord {
    let now = crate::now_rfc3339();
    ApplicationRecord {
        id: uuid::Uuid::now_v7().to_string(),
        company_id: company_id.to_string(),
        created_by: created_by.to_string(),
        kind: kind.to_string(),
        status: "draft".into(),
        version: 1,
        created_at: now.clone(),
        updated_at: now,
        plan,
        submission: None,
        paper: None,
        decisions: BTreeMap::new(),
        returned: None,
        certification: None,
        rejection: None,
        change_of,
        notify_to: None,
    }
}

impl ApplicationRecord {
    /// The next version of this record: version + 1, updated now. Callers then change it.
    pub fn next_version(&self) -> ApplicationRecord {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = crate::now_rfc3339();
        next
    }

    /// The record as the table stores it (the attribute map a stream image carries).
    pub fn to_attributes(&self) -> Result<Item, StoreError> {
        let mut item = app_key(&self.id);
        item.extend([
            ("kind".to_string(), s("application")),
            ("id".to_string(), s(&self.id)),
            ("company_id".to_string(), s(&self.company_id)),
            ("created_by".to_string(), s(&self.created_by)),
            ("application_kind".to_string(), s(&self.kind)),
            ("status".to_string(), s(&self.status)),
            ("version".to_string(), n(self.version)),
            ("created_at".to_string(), s(&self.created_at)),
            ("updated_at".to_string(), s(&self.updated_at)),
            ("plan".to_string(), s(json(&self.plan)?)),
            ("gsi1pk".to_string(), s(owner_partition(&self.company_id))),
            (
                "gsi1sk".to_string(),
                s(format!("{}#{}", self.created_at, self.id)),
            ),
        ]);
        let mut document = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                item.insert(name.to_string(), s(value));
            }
        };
        document(
            "submission",
            self.submission.as_ref().map(json).transpose()?,
        );
        document("paper", self.paper.as_ref().map(json).transpose()?);
        document(
            "decisions",
            (!self.decisions.is_empty())
                .then(|| json(&self.decisions))
                .transpose()?,
        );
        document("returned", self.returned.as_ref().map(json).transpose()?);
        document(
            "certification",
            self.certification.as_ref().map(json).transpose()?,
        );
        document("rejection", self.rejection.as_ref().map(json).transpose()?);
        document("change_of", self.change_of.as_ref().map(json).transpose()?);
        if let Some(to) = &self.notify_to {
            item.insert("notify_to".to_string(), s(to));
        }
        Ok(item)
    }
}

fn optional<T: serde::de::DeserializeOwned>(
    item: &Item,
    name: &str,
) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        Some(_) => Ok(Some(get_json(item, name)?)),
        None => Ok(None),
    }
}

/// An application from its stored attributes (a table item or a stream image).
pub fn from_item(item: &Item) -> Result<ApplicationRecord, StoreError> {
    Ok(ApplicationRecord {
        id: get_s(item, "id")?.to_string(),
        company_id: get_s(item, "company_id")?.to_string(),
        created_by: get_s(item, "created_by")?.to_string(),
        kind: get_s(item, "application_kind")?.to_string(),
        status: get_s(item, "status")?.to_string(),
        version: get_n(item, "version")?,
        created_at: get_s(item, "created_at")?.to_string(),
        updated_at: get_s(item, "updated_at")?.to_string(),
        plan: get_json(item, "plan")?,
        submission: optional(item, "submission")?,
        paper: optional(item, "paper")?,
        decisions: optional(item, "decisions")?.unwrap_or_default(),
        returned: optional(item, "returned")?,
        certification: optional(item, "certification")?,
        rejection: optional(item, "rejection")?,
        change_of: optional(item, "change_of")?,
        notify_to: item.get("notify_to").and_then(|v| v.as_s().ok()).cloned(),
    })
}

/// What an audit record says about a commit, besides what the commit itself tells.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub actor: Actor,
    pub action: String,
    pub changed_paths: Vec<String>,
    pub detail: Option<serde_json::Value>,
}

impl Applications {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Applications {
        Applications {
            client,
            table: table.into(),
        }
    }

    /// Reads one application by id.
    pub async fn get(&self, id: &str) -> Result<ApplicationRecord, StoreError> {
        let item = get_item(&self.client, &self.table, app_key(id)).await?;
        from_item(&item.ok_or(StoreError::NotFound)?)
    }

    /// Writes `next` (or deletes the application when `next` is `None`) if the stored record is
    /// still at `expected_version` (`None`: it must not exist yet), together with its case
    /// entries, `extras` and one audit record, in one transaction.
    pub async fn commit(
        &self,
        id: &str,
        expected_version: Option<i64>,
        next: Option<&ApplicationRecord>,
        extras: &[Extra],
        note: AuditNote,
    ) -> Result<(), CommitError> {
        let mut items = Vec::new();
        // The plan is serialised once (it may be hundreds of kilobytes on every autosave): the
        // stored text is also what the version hash and a revision are made of.
        let stored = next.map(ApplicationRecord::to_attributes).transpose()?;
        let plan_text = stored
            .as_ref()
            .map(|i| get_s(i, "plan").map(str::to_string))
            .transpose()?;
        let plan_json = plan_text.as_deref();
        let condition = match expected_version {
            Some(_) => "attribute_exists(pk) AND #version = :expected",
            None => "attribute_not_exists(pk)",
        };
        let item = match stored {
            Some(attributes) => {
                let mut put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(attributes))
                    .condition_expression(condition);
                if let Some(expected) = expected_version {
                    put = put
                        .expression_attribute_names("#version", "version")
                        .expression_attribute_values(":expected", n(expected));
                }
                TransactWriteItem::builder()
                    .put(put.build().map_err(StoreError::sdk)?)
                    .build()
            }
            None => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(app_key(id)))
                    .condition_expression(condition)
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", n(expected_version.unwrap_or(0)));
                TransactWriteItem::builder()
                    .delete(delete.build().map_err(StoreError::sdk)?)
                    .build()
            }
        };
        items.push((Role::Application, item));

        if let Some(record) = next
            && let Some(submission) = &record.submission
        {
            for office in &submission.office_ids {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(case_item(record, office)?))
                    .build()
                    .map_err(StoreError::sdk)?;
                items.push((Role::Other, TransactWriteItem::builder().put(put).build()));
            }
        }

        for extra in extras {
            items.push(self.extra_item(id, next, plan_json, extra)?);
        }

        let audit = AuditRecord {
            application_id: id.to_string(),
            at: crate::now_rfc3339(),
            actor: note.actor,
            action: note.action,
            changed_paths: note.changed_paths,
            version: next.map(|r| r.version),
            version_hash: next
                .zip(plan_json)
                .map(|(r, plan)| version_hash(&r.id, r.version, &r.status, plan)),
            detail: note.detail,
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(&audit)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::sdk)?;
        items.push((Role::Other, TransactWriteItem::builder().put(put).build()));

        let roles: Vec<Role> = items.iter().map(|(r, _)| *r).collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items.into_iter().map(|(_, i)| i).collect()))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        else {
            return Err(StoreError::sdk(err).into());
        };
        // The first failed condition in our order says what happened.
        for (role, reason) in roles.iter().zip(cancelled.cancellation_reasons()) {
            if reason.code() == Some("ConditionalCheckFailed") {
                return Err(match role {
                    Role::Application => CommitError::Stale,
                    Role::Key => CommitError::KeyUsed,
                    Role::Counter => CommitError::CounterMoved,
                    Role::Other => CommitError::Store(StoreError::ConditionFailed),
                });
            }
        }
        Err(StoreError::sdk(err).into())
    }

    fn extra_item(
        &self,
        id: &str,
        next: Option<&ApplicationRecord>,
        plan_json: Option<&str>,
        extra: &Extra,
    ) -> Result<(Role, TransactWriteItem), StoreError> {
        Ok(match extra {
            Extra::IdempotencyKey {
                company_id,
                key,
                fingerprint,
            } => {
                let mut item = idempotency_key(company_id, key);
                item.extend([
                    ("kind".to_string(), s("idempotency")),
                    ("fingerprint".to_string(), s(fingerprint)),
                    ("application_id".to_string(), s(id)),
                    ("status".to_string(), n(200)),
                    // Keys are remembered for a day, long enough for any client retry.
                    (
                        "ttl".to_string(),
                        n(time::OffsetDateTime::now_utc().unix_timestamp() + 86_400),
                    ),
                ]);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(StoreError::sdk)?;
                (Role::Key, TransactWriteItem::builder().put(put).build())
            }
            Extra::Revision => {
                let (Some(record), Some(plan)) = (next, plan_json) else {
                    return Err(StoreError::Corrupt(
                        "a revision needs the new record".into(),
                    ));
                };
                let mut item = key(format!("APP#{id}"), &revision_sort_key(record.version));
                item.extend([
                    ("kind".to_string(), s("revision")),
                    ("plan".to_string(), s(plan)),
                    ("at".to_string(), s(&record.updated_at)),
                ]);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(StoreError::sdk)?;
                (Role::Other, TransactWriteItem::builder().put(put).build())
            }
            Extra::Counter { name, current } => {
                let condition = if *current == 0 {
                    "attribute_not_exists(pk)"
                } else {
                    "#seq = :current"
                };
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(format!("COUNTER#{name}"), "COUNTER")))
                    .update_expression("SET #seq = :next")
                    .condition_expression(condition)
                    .expression_attribute_names("#seq", "seq")
                    .expression_attribute_values(":next", n(current + 1));
                if *current != 0 {
                    update = update.expression_attribute_values(":current", n(*current));
                }
                (
                    Role::Counter,
                    TransactWriteItem::builder()
                        .update(update.build().map_err(StoreError::sdk)?)
                        .build(),
                )
            }
        })
    }

    /// The plan as it was at a submitted revision.
    pub async fn revision(&self, id: &str, revision: i64) -> Result<serde_json::Value, StoreError> {
        let key = key(format!("APP#{id}"), &revision_sort_key(revision));
        let item = get_item(&self.client, &self.table, key).await?;
        get_json(&item.ok_or(StoreError::NotFound)?, "plan")
    }

    /// The current value of a gapless counter (0 when it never moved).
    pub async fn counter(&self, name: &str) -> Result<i64, StoreError> {
        let key = key(format!("COUNTER#{name}"), "COUNTER");
        match get_item(&self.client, &self.table, key).await? {
            Some(item) => get_n(&item, "seq"),
            None => Ok(0),
        }
    }

    /// The next 受付番号 sequence of a year: an atomic counter, so a number is never issued twice
    /// (a failed submission leaves a gap, never a reuse).
    pub async fn next_receipt_sequence(&self, year: i32) -> Result<i64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("COUNTER#receipt#{year}"), "COUNTER")))
            .update_expression("ADD #seq :one")
            .expression_attribute_names("#seq", "seq")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        get_n(&out.attributes.unwrap_or_default(), "seq")
    }

    /// What an idempotency key of a company was already used for, if anything.
    pub async fn idempotent_result(
        &self,
        company_id: &str,
        key: &str,
    ) -> Result<Option<IdempotentResult>, StoreError> {
        let Some(item) =
            get_item(&self.client, &self.table, idempotency_key(company_id, key)).await?
        else {
            return Ok(None);
        };
        Ok(Some(IdempotentResult {
            fingerprint: get_s(&item, "fingerprint")?.to_string(),
            application_id: get_s(&item, "application_id")?.to_string(),
            status: u16::try_from(get_n(&item, "status")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        }))
    }

    /// The audit trail of an application, oldest first.
    pub async fn history(&self, id: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(crate::audit::audit_partition(id)))
            .consistent_read(true);
        query_all(query)
            .await?
            .iter()
            .map(crate::audit::from_audit_item)
            .collect()
    }

    /// A page of the company's applications, newest first, optionally of one status only.
    pub async fn list_for_company(
        &self,
        company_id: &str,
        status: Option<&str>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<ApplicationPage, StoreError> {
        let partition = owner_partition(company_id);
        let start = cursor
            .map(|c| decode_cursor(c, &GSI1_CURSOR, &partition))
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(OWNER_INDEX)
            .key_condition_expression("gsi1pk = :owner")
            .expression_attribute_values(":owner", s(partition))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start);
        if let Some(status) = status {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status));
        }
        let out = query.send().await.map_err(StoreError::sdk)?;
        let items = out
            .items()
            .iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out
            .last_evaluated_key()
            .map(|k| encode_cursor(k, &GSI1_CURSOR))
            .transpose()?;
        Ok(ApplicationPage { items, next_cursor })
    }
}

/// The cursor of a listing on `gsi1`: (pk, sk, gsi1pk, gsi1sk), bound to its partition.
pub(crate) const GSI1_CURSOR: crate::cursor::CursorShape = crate::cursor::CursorShape {
    keys: &["pk", "sk", "gsi1pk", "gsi1sk"],
    partition: "gsi1pk",
};

/// What a transaction item stands for, to tell which condition failed.
#[derive(Debug, Clone, Copy)]
enum Role {
    Application,
    Key,
    Counter,
    Other,
}

fn revision_sort_key(version: i64) -> String {
    format!("REV#{version:010}")
}

/// The record of an idempotency key, per company (the key itself is kept only as a hash).
fn idempotency_key(company_id: &str, idempotency_key: &str) -> Item {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{company_id}\n{idempotency_key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    key(format!("IDEM#{hex}"), "IDEM")
}
