//! Writing migrated certifications (the legacy import): each record with everything a
//! certification made here has — its kept revision, the authorities' case entries, the register
//! entry, the consent mark and the first audit record — in one transaction per group of records,
//! so nothing is half-written. Records that already exist are left alone (the import is
//! idempotent and can be run again after a crash).

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use keiryoku_domain::application::{Actor, Application, ApplicationId, AuditAction};
use keiryoku_domain::register::RegisterEntry;
use keiryoku_domain::status::Role;

use crate::audit::{AuditRecord, audit_item, record_hash, version_hash};
use crate::item::{Item, batch_get, get_s, key, s};
use crate::{Applications, StoreError};

/// DynamoDB's limit of items in one transaction.
const TRANSACTION_ITEMS: usize = 100;

/// What one batch of the import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportBatch {
    /// Records written now.
    pub written: usize,
    /// Records that were already there (an earlier run).
    pub existing: usize,
}

impl Applications {
    /// Writes migrated certified records that do not exist yet (at most 100 per call).
    pub async fn import(&self, records: &mut [Application]) -> Result<ImportBatch, StoreError> {
        let existing = self.existing(records.iter().map(|r| &r.id)).await?;
        let mut batch = ImportBatch {
            existing: existing.len(),
            ..ImportBatch::default()
        };
        let mut pending: Vec<TransactWriteItem> = Vec::new();
        for record in records.iter_mut().filter(|r| !existing.contains(&r.id)) {
            let items = self.migrated_items(record)?;
            if pending.len() + items.len() > TRANSACTION_ITEMS {
                self.write_all(std::mem::take(&mut pending)).await?;
            }
            pending.extend(items);
            batch.written += 1;
        }
        if !pending.is_empty() {
            self.write_all(pending).await?;
        }
        Ok(batch)
    }

    /// Which of these applications exist.
    async fn existing(
        &self,
        ids: impl Iterator<Item = &ApplicationId>,
    ) -> Result<HashSet<ApplicationId>, StoreError> {
        let keys: Vec<Item> = ids.map(|id| key(format!("APP#{id}"), "APP")).collect();
        let mut found = HashSet::new();
        for item in batch_get(&self.client, &self.table, keys, Some("pk")).await? {
            let pk = get_s(&item, "pk")?;
            if let Some(id) = pk.strip_prefix("APP#").and_then(ApplicationId::parse) {
                found.insert(id);
            }
        }
        Ok(found)
    }

    /// Everything a migrated record is made of, each item conditional on not existing.
    fn migrated_items(
        &self,
        record: &mut Application,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (item, plan) = crate::applications::to_item(record)?;
        let record = &*record;
        let mut items: Vec<Item> = vec![item];
        let mut revision = key(format!("APP#{}", record.id), "REV#0000000001");
        revision.extend([
            ("kind".to_string(), s("revision")),
            ("plan".to_string(), s(plan.clone())),
            (
                "at".to_string(),
                s(keiryoku_domain::application::rfc3339(record.updated_at)),
            ),
        ]);
        items.push(revision);
        if let Some(submission) = &record.submission {
            for office in &submission.office_ids {
                items.push(crate::cases::case_item(record, office)?);
            }
        }
        if let Some(entry) = RegisterEntry::of(record) {
            items.push(crate::register::register_attributes(&entry)?);
        }
        let mut audit = AuditRecord {
            application_id: record.id.clone(),
            at: crate::now_rfc3339(),
            // The trail's first record names the company it belongs to (who may read it), as
            // the creation of a draft does: the company filed the original application.
            actor: Actor {
                sub: "migration".into(),
                name: None,
                role: Role::Applicant,
                on_behalf_of: record.company_id.to_string(),
            },
            action: AuditAction::Migrate,
            changed_paths: vec!["/".into()],
            changed_count: 1,
            version: Some(record.version),
            version_hash: Some(version_hash(
                &record.id,
                record.version,
                record.status,
                &plan,
            )),
            detail: record
                .migration
                .as_ref()
                .map(|m| serde_json::json!({ "legacy_id": m.legacy_id })),
            previous_hash: None,
            hash: None,
        };
        audit.hash = Some(record_hash(&audit)?);
        items.push(audit_item(&audit, record.version)?);
        let mut writes = items
            .into_iter()
            .map(|item| {
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
                    .map_err(StoreError::sdk)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(consent) = crate::feed::consent_item(&self.table, record)? {
            writes.push(consent);
        }
        Ok(writes)
    }

    async fn write_all(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}
