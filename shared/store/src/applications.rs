//! Application records (`APP#<id>`) and every write to them.
//!
//! Every change is one DynamoDB transaction built by [`Applications::commit`]: the whole new
//! record, conditional on the version that was read (so a lost race changes nothing), plus the
//! authority case entries derived from it ([`crate::cases`]), the audit record
//! ([`crate::audit`]) and whatever the action needs besides (idempotency key, counter,
//! revision). Either all of it happens or none of it.

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use keiryoku_domain::application::{Actor, Application, ApplicationId, AuditAction, CompanyId};
use keiryoku_domain::status::Status;
use serde::Serialize;

use crate::StoreError;
use crate::audit::{AuditRecord, audit_item, version_hash};
use crate::cases::case_item;
use crate::cursor::{decode_cursor, encode_cursor};
use crate::item::{Item, get_item, get_json, get_n, get_s, key, n, s};

/// A one-shot action already done under an idempotency key: a retry answers the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResult {
    /// What the key was used for (`submit:<application id>`); another use of the key is refused.
    pub fingerprint: String,
    pub application_id: ApplicationId,
    pub status: u16,
}

/// One page of a company's applications, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<Application>,
    /// Pass back as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// How often a commit retries when other commits took its change-feed position meanwhile.
const FEED_ATTEMPTS: u32 = 40;

/// What else a commit writes besides the application, its case entries and its audit record.
#[derive(Debug, Clone)]
pub enum Extra {
    /// Remember an idempotency key of a company (fails the commit if the key was used).
    IdempotencyKey {
        company_id: CompanyId,
        key: String,
        fingerprint: String,
    },
    /// Keep the plan of this version as a revision (submissions).
    Revision,
    /// Move a gapless counter from `current` to `current + 1` (fails if it moved meanwhile).
    Counter { name: String, current: i64 },
    /// Remove the case entry of an authority that is no longer competent (a resubmission
    /// routed elsewhere): it leaves that authority's queue, search, CSV and download history.
    DropCase {
        office_id: keiryoku_domain::application::OfficeId,
    },
}

/// What the applicant and the reviewer are told when a change application cannot be certified
/// because another change of the same certification was certified first.
pub const ALREADY_CHANGED: &str = "変更前の認定は、既に別の変更申請の認定によって変更されています。この変更申請は認定できません。";

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
    /// The certification a change application changes was changed by another one meanwhile.
    #[error("the certification was changed by another change application")]
    AlreadyChanged,
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
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

const OWNER_INDEX: &str = "gsi1";

fn owner_partition(company_id: &CompanyId) -> String {
    format!("OWNER#{company_id}")
}

fn app_key(id: &ApplicationId) -> Item {
    key(format!("APP#{id}"), "APP")
}

/// The attribute the item-type discriminator takes in every record of the table; an
/// application's own kind (new / change) is stored as `application_kind`.
const ITEM_KIND: &str = "kind";
const APPLICATION_KIND: &str = "application_kind";

/// The record as the table stores it (the attribute map a stream image carries), and the plan's
/// JSON text it holds (what the version hash and a revision are made of). The plan is kept as
/// one JSON string: DynamoDB maps nest at most 32 levels and a draft may hold anything.
///
/// The record is borrowed mutably only to lend its plan out while the other fields are mapped
/// (a plan of hundreds of kilobytes, on every autosave, is not built as an attribute map only to
/// be dropped); it is put back before this returns.
pub fn to_item(record: &mut Application) -> Result<(Item, String), StoreError> {
    let plan = record
        .plan
        .to_json()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let document = std::mem::take(&mut record.plan);
    let mapped = serde_dynamo::to_item::<_, Item>(&*record);
    record.plan = document;
    let mut item = mapped.map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(kind) = item.remove(ITEM_KIND) {
        item.insert(APPLICATION_KIND.into(), kind);
    }
    item.extend(app_key(&record.id));
    item.extend([
        (ITEM_KIND.to_string(), s("application")),
        ("plan".to_string(), s(plan.clone())),
        ("gsi1pk".to_string(), s(owner_partition(&record.company_id))),
        (
            "gsi1sk".to_string(),
            s(format!(
                "{}#{}",
                keiryoku_domain::application::rfc3339(record.created_at),
                record.id
            )),
        ),
    ]);
    Ok((item, plan))
}

/// An application from its stored attributes (a table item or a stream image).
pub fn from_item(mut item: Item) -> Result<Application, StoreError> {
    let plan = match item.remove("plan") {
        Some(AttributeValue::S(text)) => {
            keiryoku_domain::application::PlanDocument::from_json(&text)
                .map_err(|e| StoreError::Corrupt(format!("plan: {e}")))?
        }
        _ => return Err(StoreError::Corrupt("application without a plan".into())),
    };
    let audit_head = match item.remove(AUDIT_HEAD) {
        Some(AttributeValue::S(hash)) => Some(hash),
        _ => None,
    };
    for name in [ITEM_KIND, "pk", "sk", "gsi1pk", "gsi1sk"] {
        item.remove(name);
    }
    if let Some(kind) = item.remove(APPLICATION_KIND) {
        item.insert(ITEM_KIND.into(), kind);
    }
    let mut record: Application =
        serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    record.plan = plan;
    record.audit_head = audit_head;
    Ok(record)
}

/// The attribute of an application item that holds the hash of its latest audit record (the
/// chain's head): written by every commit with the record, so the next one needs no look-up.
/// An item written before it existed has none; its commit reads the trail instead.
const AUDIT_HEAD: &str = "audit_head";

/// What an audit record says about a commit, besides what the commit itself tells.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub actor: Actor,
    pub action: AuditAction,
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
    pub async fn get(&self, id: &ApplicationId) -> Result<Application, StoreError> {
        let item = get_item(&self.client, &self.table, app_key(id)).await?;
        from_item(item.ok_or(StoreError::NotFound)?)
    }

    /// Writes `next` (or deletes the application when `next` is `None`) if the stored record is
    /// still at `expected_version` (`None`: it must not exist yet), together with its case
    /// entries, `extras` and one audit record, in one transaction.
    pub async fn commit(
        &self,
        id: &ApplicationId,
        expected_version: Option<i64>,
        next: Option<&mut Application>,
        extras: &[Extra],
        note: AuditNote,
    ) -> Result<(), CommitError> {
        let mut items = Vec::new();
        // The chain's previous link: the head the record was read with. Every commit of this
        // application is serialised by the version condition, so the record's head is the
        // latest audit record. A new application has no trail (its record is the first, at
        // sequence 1, and written only if there is none there). Without a head (a deletion, an
        // item written before heads were kept), the latest record of the trail.
        let known_head = match (&next, expected_version) {
            (_, None) => Some(None),
            (Some(record), Some(_)) => record.audit_head.clone().map(Some),
            (None, Some(_)) => None,
        };
        let previous = match known_head {
            Some(head) => head,
            None => self
                .history(id, crate::Order::NewestFirst, 1, None)
                .await?
                .items
                .into_iter()
                .next()
                .and_then(|r| r.hash),
        };
        let mut next = next;
        // The plan is serialised once (it may be hundreds of kilobytes on every autosave): the
        // stored text is also what the version hash and a revision are made of.
        let (stored, plan_text) = match next.as_deref_mut() {
            Some(record) => {
                let (item, plan) = to_item(record)?;
                (Some(item), Some(plan))
            }
            None => (None, None),
        };
        let plan_json = plan_text.as_deref();

        let (changed_paths, changed_count) = crate::audit::capped(note.changed_paths);
        let record = next.as_deref();
        // Each commit moves the version on by one: the audit record's place in the trail.
        let sequence = record
            .map(|r| r.version)
            .or(expected_version.map(|v| v + 1))
            .unwrap_or(1);
        let mut audit = AuditRecord {
            application_id: id.clone(),
            at: crate::now_rfc3339(),
            actor: note.actor,
            action: note.action,
            changed_paths,
            changed_count,
            version: record.map(|r| r.version),
            version_hash: record
                .zip(plan_json)
                .map(|(r, plan)| version_hash(&r.id, r.version, r.status, plan)),
            detail: note.detail,
            previous_hash: previous,
            hash: None,
        };
        let head = crate::audit::record_hash(&audit)?;
        audit.hash = Some(head.clone());

        let condition = match expected_version {
            Some(_) => "attribute_exists(pk) AND #version = :expected",
            None => "attribute_not_exists(pk)",
        };
        let item = match stored {
            Some(mut attributes) => {
                // The record's new head is written with it.
                attributes.insert(AUDIT_HEAD.into(), s(head.clone()));
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

        if let Some(record) = record
            && let Some(filing) = record.filing()
        {
            for office in filing.office_ids {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(case_item(record, office)?))
                    .build()
                    .map_err(StoreError::sdk)?;
                items.push((Role::Other, TransactWriteItem::builder().put(put).build()));
            }
        }

        for extra in extras {
            items.push(self.extra_item(id, record, plan_json, extra)?);
        }

        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(audit_item(&audit, sequence)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::sdk)?;
        items.push((Role::Other, TransactWriteItem::builder().put(put).build()));

        // The consents are what a submission (or a withdrawal) says; the mark the feed is
        // filtered by follows them in the same transaction.
        if matches!(
            note.action,
            AuditAction::Submit
                | AuditAction::WithdrawConsent
                | AuditAction::RecordPaperCertification
        ) && let Some(record) = record
            && let Some(item) = crate::feed::consent_item(&self.table, record)?
        {
            items.push((Role::Other, item));
        }

        // The register of certifications follows a certification, and a data-use consent
        // withdrawn from a certified plan.
        if matches!(
            note.action,
            AuditAction::Approve
                | AuditAction::WithdrawConsent
                | AuditAction::RecordPaperCertification
        ) && let Some(entry) = record.and_then(keiryoku_domain::register::RegisterEntry::of)
        {
            items.push((
                Role::Other,
                crate::register::register_item(&self.table, &entry)?,
            ));
        }

        // A certification is changed once: the certified change that supersedes it takes its
        // mark, so a second change of the same certification cannot be certified as well (the
        // next change starts from the certified change instead). A change certified on paper
        // takes it too.
        if matches!(
            note.action,
            AuditAction::Approve | AuditAction::RecordPaperCertification
        ) && let Some(record) = record
            && record.status == Status::Certified
            && let Some(change) = &record.change_of
        {
            let mut mark = key(
                format!("SUPERSEDED#{}", change.application_id),
                "SUPERSEDED",
            );
            mark.extend([
                ("kind".to_string(), s("superseded")),
                ("by".to_string(), s(record.id.as_str())),
                ("at".to_string(), s(crate::now_rfc3339())),
            ]);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(mark))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::sdk)?;
            items.push((
                Role::Supersedes,
                TransactWriteItem::builder().put(put).build(),
            ));
        }

        // The change feed's events go in the same transaction (an outbox), at the next free
        // positions; a commit that lost the position to another one takes the next.
        let events = keiryoku_domain::feed::events_of(note.action, record);
        let mut attempt = 0u32;
        loop {
            let mut all = items.clone();
            if !events.is_empty() {
                let head = crate::feed::head(&self.client, &self.table).await?;
                let appended = crate::feed::append_items(&self.table, head, &events)?;
                for (i, item) in appended.into_iter().enumerate() {
                    let role = if i == 0 {
                        Role::FeedCounter
                    } else {
                        Role::Other
                    };
                    all.push((role, item));
                }
            }
            if self.send(all).await? == Sent::Done {
                // Written: the caller's record now has this commit's record as its head.
                if let Some(record) = next {
                    record.audit_head = Some(head);
                }
                return Ok(());
            }
            if attempt == FEED_ATTEMPTS {
                return Err(
                    StoreError::Unavailable("the change feed stayed contended".into()).into(),
                );
            }
            attempt += 1;
            // Spread the retries of commits that raced for the same position.
            let pause = rand::random_range(1..=10 * u64::from(attempt.min(10)));
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
    }

    /// Sends one commit's transaction and says which condition failed, if one did.
    async fn send(&self, items: Vec<(Role, TransactWriteItem)>) -> Result<Sent, CommitError> {
        let roles: Vec<Role> = items.iter().map(|(r, _)| *r).collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items.into_iter().map(|(_, i)| i).collect()))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(Sent::Done);
        };
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        else {
            return Err(StoreError::sdk(err).into());
        };
        // The first failed condition in our order says what happened.
        for (role, reason) in roles.iter().zip(cancelled.cancellation_reasons()) {
            let code = reason.code();
            if *role == Role::FeedCounter
                && matches!(code, Some("ConditionalCheckFailed" | "TransactionConflict"))
            {
                return Ok(Sent::FeedMoved);
            }
            if code == Some("ConditionalCheckFailed") {
                return Err(match role {
                    Role::Application => CommitError::Stale,
                    Role::Key => CommitError::KeyUsed,
                    Role::Counter => CommitError::CounterMoved,
                    Role::Supersedes => CommitError::AlreadyChanged,
                    Role::FeedCounter | Role::Other => {
                        CommitError::Store(StoreError::ConditionFailed)
                    }
                });
            }
        }
        Err(StoreError::sdk(err).into())
    }

    fn extra_item(
        &self,
        id: &ApplicationId,
        next: Option<&Application>,
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
                    ("application_id".to_string(), s(id.as_str())),
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
                    (
                        "at".to_string(),
                        s(keiryoku_domain::application::rfc3339(record.updated_at)),
                    ),
                ]);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(StoreError::sdk)?;
                (Role::Other, TransactWriteItem::builder().put(put).build())
            }
            Extra::DropCase { office_id } => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(crate::cases::case_key(office_id, id)))
                    .build()
                    .map_err(StoreError::sdk)?;
                (
                    Role::Other,
                    TransactWriteItem::builder().delete(delete).build(),
                )
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
    pub async fn revision(
        &self,
        id: &ApplicationId,
        revision: i64,
    ) -> Result<keiryoku_domain::application::PlanDocument, StoreError> {
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
        company_id: &CompanyId,
        key: &str,
    ) -> Result<Option<IdempotentResult>, StoreError> {
        let Some(item) =
            get_item(&self.client, &self.table, idempotency_key(company_id, key)).await?
        else {
            return Ok(None);
        };
        Ok(Some(IdempotentResult {
            fingerprint: get_s(&item, "fingerprint")?.to_string(),
            application_id: ApplicationId::parse(get_s(&item, "application_id")?)
                .ok_or_else(|| StoreError::Corrupt("idempotency record".into()))?,
            status: u16::try_from(get_n(&item, "status")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        }))
    }

    /// The audit trail of an application, oldest first.
    pub async fn history(
        &self,
        id: &ApplicationId,
        order: crate::Order,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<crate::LogPage<AuditRecord>, StoreError> {
        crate::log_page::log_page(
            &self.client,
            &self.table,
            crate::audit::audit_partition(id),
            order,
            limit,
            cursor,
        )
        .await?
        .map(|item| crate::audit::from_audit_item(&item))
    }

    /// Checks the whole audit trail of an application, page by page: every record follows the
    /// one before it and matches its hash. Returns each record's hash and time, oldest first.
    pub async fn verify_audit(
        &self,
        id: &ApplicationId,
    ) -> Result<Result<Vec<(Option<String>, String)>, crate::ChainBreak>, StoreError> {
        let mut previous = None;
        let mut hashes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .history(
                    id,
                    crate::Order::OldestFirst,
                    crate::MAX_LOG_PAGE,
                    cursor.as_deref(),
                )
                .await?;
            match crate::verify_chain(&page.items, previous, hashes.len() + 1) {
                Ok(last) => previous = last,
                Err(broken) => return Ok(Err(broken)),
            }
            hashes.extend(page.items.into_iter().map(|r| (r.hash, r.at)));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(Ok(hashes)),
            }
        }
    }

    /// A page of the company's applications, newest first, optionally of one status only.
    pub async fn list_for_company(
        &self,
        company_id: &CompanyId,
        status: Option<Status>,
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
            .set_exclusive_start_key(start.clone());
        if let Some(status) = status {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        let out = query
            .send()
            .await
            .map_err(|e| crate::error::query_failed(e, start.is_some()))?;
        let items = out
            .items()
            .iter()
            .cloned()
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
    prefixes: &[],
};

/// How a commit's transaction went, when no condition of the change itself failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Done,
    /// Another commit took the change feed's position first.
    FeedMoved,
}

/// What a transaction item stands for, to tell which condition failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Application,
    Key,
    Counter,
    /// The change feed's counter: another commit took the position, so take the next one.
    FeedCounter,
    /// The mark of a certification superseded by a certified change: taken already.
    Supersedes,
    Other,
}

fn revision_sort_key(version: i64) -> String {
    format!("REV#{version:010}")
}

/// The record of an idempotency key, per company (the key itself is kept only as a hash).
fn idempotency_key(company_id: &CompanyId, idempotency_key: &str) -> Item {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{company_id}\n{idempotency_key}").as_bytes());
    key(format!("IDEM#{}", hex::encode(digest)), "IDEM")
}

#[cfg(test)]
mod tests {
    use super::*;
    use keiryoku_domain::application::PlanDocument;

    fn sample() -> Application {
        let plan = PlanDocument::from_value(serde_json::json!({
            "applicant": {"name": "株式会社霞が関精機", "extra": [1, {"deep": null}]},
            "unknown_key": true,
        }))
        .unwrap_or_default();
        Application::new_draft(
            ApplicationId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
                .unwrap_or_else(|| panic!("id")),
            "corp-1".into(),
            "100001".into(),
            plan,
            Some("a@example.jp".into()),
            time::macros::datetime!(2026-11-26 01:00:00.5 UTC),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_application_round_trips_through_its_item_and_a_stream_image() {
        let record = sample();
        let mut record = record;
        let (item, plan) = to_item(&mut record).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            item.get("kind")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("application")
        );
        assert_eq!(
            item.get("application_kind")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("new")
        );
        assert_eq!(
            item.get("status")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("draft")
        );
        assert!(plan.contains("unknown_key"));
        let back = from_item(item.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, record);
        // As a Lambda stream event carries it (DynamoDB JSON, read by serde_dynamo).
        let image: serde_dynamo::Item =
            serde_json::from_value(crate::item_to_json(&item)).unwrap_or_else(|e| panic!("{e}"));
        let through_stream = from_item(image.into()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(through_stream, record);
    }
}
