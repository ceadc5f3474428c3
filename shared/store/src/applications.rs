use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::StoreError;
use crate::error::conditional;
use crate::item::{Item, get_n, get_s, key, n, s};

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
}

/// A plan finalised for paper: the applicant prints the application PDF and posts it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct PaperFiling {
    pub finalised_at: String,
    pub office_ids: Vec<String>,
    /// The routing answer with its explanation.
    pub routing: serde_json::Value,
}

/// What is recorded when an application is submitted (受付).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
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
}

/// A one-shot action already done under an idempotency key: a retry answers the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResult {
    /// What the key was used for (`submit:<application id>`); another use of the key is refused.
    pub fingerprint: String,
    pub application_id: String,
    pub status: u16,
}

/// The outcome of a submission attempt.
#[derive(Debug, Clone)]
pub enum SubmitOutcome {
    Submitted(Box<ApplicationRecord>),
    /// The idempotency key was already used; here is what it did.
    AlreadyDone(IdempotentResult),
}

/// The fields a new draft starts with.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub company_id: String,
    pub created_by: String,
    pub plan: serde_json::Value,
}

/// One page of a company's applications, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationRecord>,
    /// Pass back as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
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

impl Applications {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Applications {
        Applications {
            client,
            table: table.into(),
        }
    }

    /// Creates a draft with a fresh id, version 1.
    pub async fn create(&self, new: NewApplication) -> Result<ApplicationRecord, StoreError> {
        let now = crate::now_rfc3339();
        let record = ApplicationRecord {
            id: uuid::Uuid::now_v7().to_string(),
            company_id: new.company_id,
            created_by: new.created_by,
            kind: "new".into(),
            status: "draft".into(),
            version: 1,
            created_at: now.clone(),
            updated_at: now,
            plan: new.plan,
            submission: None,
            paper: None,
        };
        let plan =
            serde_json::to_string(&record.plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = key(format!("APP#{}", record.id), "APP");
        item.extend([
            ("kind".to_string(), s("application")),
            ("id".to_string(), s(&record.id)),
            ("company_id".to_string(), s(&record.company_id)),
            ("created_by".to_string(), s(&record.created_by)),
            ("application_kind".to_string(), s(&record.kind)),
            ("status".to_string(), s(&record.status)),
            ("version".to_string(), n(record.version)),
            ("created_at".to_string(), s(&record.created_at)),
            ("updated_at".to_string(), s(&record.updated_at)),
            ("plan".to_string(), s(plan)),
            ("gsi1pk".to_string(), s(owner_partition(&record.company_id))),
            (
                "gsi1sk".to_string(),
                s(format!("{}#{}", record.created_at, record.id)),
            ),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        Ok(record)
    }

    /// Reads one application by id.
    pub async fn get(&self, id: &str) -> Result<ApplicationRecord, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("APP#{id}"), "APP")))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        from_item(&out.item.ok_or(StoreError::NotFound)?)
    }

    /// Replaces the plan of an editable application, if it is still at `expected_version` and
    /// in one of `editable_statuses`; the version goes up by one. A lost race is
    /// [`StoreError::ConditionFailed`] and changes nothing.
    pub async fn update_plan(
        &self,
        id: &str,
        expected_version: i64,
        editable_statuses: &[&str],
        plan: &serde_json::Value,
    ) -> Result<ApplicationRecord, StoreError> {
        let plan = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let placeholders: Vec<String> = (0..editable_statuses.len())
            .map(|i| format!(":s{i}"))
            .collect();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("APP#{id}"), "APP")))
            .update_expression("SET #plan = :plan, #version = :next, updated_at = :now")
            .condition_expression(format!(
                "attribute_exists(pk) AND #version = :expected AND #status IN ({})",
                placeholders.join(", ")
            ))
            .expression_attribute_names("#plan", "plan")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":plan", s(plan))
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":next", n(expected_version + 1))
            .expression_attribute_values(":now", s(crate::now_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        for (placeholder, status) in placeholders.iter().zip(editable_statuses) {
            request = request.expression_attribute_values(placeholder, s(*status));
        }
        let out = request
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        from_item(&out.attributes.ok_or(StoreError::NotFound)?)
    }

    /// Moves an application from `from` to `to` if it is still at `expected_version` in `from`,
    /// optionally recording the paper filing. A lost race is [`StoreError::ConditionFailed`].
    pub async fn change_status(
        &self,
        id: &str,
        expected_version: i64,
        from: &str,
        to: &str,
        paper: Option<&PaperFiling>,
    ) -> Result<ApplicationRecord, StoreError> {
        let mut expression = "SET #status = :to, #version = :next, updated_at = :now".to_string();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("APP#{id}"), "APP")))
            .condition_expression(
                "attribute_exists(pk) AND #version = :expected AND #status = :from",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":next", n(expected_version + 1))
            .expression_attribute_values(":now", s(crate::now_rfc3339()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if let Some(paper) = paper {
            expression.push_str(", paper = :paper");
            let body =
                serde_json::to_string(paper).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            request = request.expression_attribute_values(":paper", s(body));
        }
        let out = request
            .update_expression(expression)
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        from_item(&out.attributes.ok_or(StoreError::NotFound)?)
    }

    /// Deletes a draft that is still at `expected_version`.
    pub async fn delete_draft(&self, id: &str, expected_version: i64) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("APP#{id}"), "APP")))
            .condition_expression(
                "attribute_exists(pk) AND #version = :expected AND #status = :draft",
            )
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":draft", s("draft"))
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        Ok(())
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
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(idempotency_key(company_id, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        Ok(Some(IdempotentResult {
            fingerprint: get_s(&item, "fingerprint")?.to_string(),
            application_id: get_s(&item, "application_id")?.to_string(),
            status: u16::try_from(get_n(&item, "status")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        }))
    }

    /// Records a submission and its idempotency key in one transaction: either both happen or
    /// neither. The application must still be at `expected_version` in one of `from_statuses`.
    pub async fn submit(
        &self,
        id: &str,
        expected_version: i64,
        from_statuses: &[&str],
        submission: &Submission,
        company_id: &str,
        idempotency_key_text: &str,
    ) -> Result<SubmitOutcome, StoreError> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
        let body =
            serde_json::to_string(submission).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let placeholders: Vec<String> =
            (0..from_statuses.len()).map(|i| format!(":s{i}")).collect();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("APP#{id}"), "APP")))
            .update_expression("SET #status = :submitted, #version = :next, updated_at = :now, submission = :submission")
            .condition_expression(format!(
                "attribute_exists(pk) AND #version = :expected AND #status IN ({})",
                placeholders.join(", ")
            ))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":submitted", s("submitted"))
            .expression_attribute_values(":expected", n(expected_version))
            .expression_attribute_values(":next", n(expected_version + 1))
            .expression_attribute_values(":now", s(crate::now_rfc3339()))
            .expression_attribute_values(":submission", s(body));
        for (placeholder, status) in placeholders.iter().zip(from_statuses) {
            update = update.expression_attribute_values(placeholder, s(*status));
        }
        let fingerprint = format!("submit:{id}");
        let mut idem = idempotency_key(company_id, idempotency_key_text);
        idem.extend([
            ("kind".to_string(), s("idempotency")),
            ("fingerprint".to_string(), s(&fingerprint)),
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
            .set_item(Some(idem))
            .condition_expression("attribute_not_exists(pk)");
        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(update.build().map_err(StoreError::sdk)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put.build().map_err(StoreError::sdk)?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(SubmitOutcome::Submitted(Box::new(self.get(id).await?))),
            Err(err) => {
                let reasons: Vec<String> = match err.as_service_error() {
                    Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect()
                    }
                    _ => return Err(StoreError::sdk(err)),
                };
                // The key was used meanwhile (a concurrent retry): answer what it did.
                if reasons
                    .get(1)
                    .is_some_and(|r| r == "ConditionalCheckFailed")
                {
                    return match self
                        .idempotent_result(company_id, idempotency_key_text)
                        .await?
                    {
                        Some(done) => Ok(SubmitOutcome::AlreadyDone(done)),
                        None => Err(StoreError::ConditionFailed),
                    };
                }
                Err(StoreError::ConditionFailed)
            }
        }
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
        let start = cursor.map(|c| decode_cursor(c, &partition)).transpose()?;
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
        let next_cursor = out.last_evaluated_key().map(encode_cursor).transpose()?;
        Ok(ApplicationPage { items, next_cursor })
    }
}

fn from_item(item: &Item) -> Result<ApplicationRecord, StoreError> {
    Ok(ApplicationRecord {
        id: get_s(item, "id")?.to_string(),
        company_id: get_s(item, "company_id")?.to_string(),
        created_by: get_s(item, "created_by")?.to_string(),
        kind: get_s(item, "application_kind")?.to_string(),
        status: get_s(item, "status")?.to_string(),
        version: get_n(item, "version")?,
        created_at: get_s(item, "created_at")?.to_string(),
        updated_at: get_s(item, "updated_at")?.to_string(),
        plan: crate::item::get_json(item, "plan")?,
        submission: match item.get("submission") {
            Some(_) => Some(crate::item::get_json(item, "submission")?),
            None => None,
        },
        paper: match item.get("paper") {
            Some(_) => Some(crate::item::get_json(item, "paper")?),
            None => None,
        },
    })
}

/// The record of an idempotency key, per company (the key itself is kept only as a hash).
fn idempotency_key(company_id: &str, idempotency_key: &str) -> Item {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{company_id}\n{idempotency_key}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    key(format!("IDEM#{hex}"), "IDEM")
}

/// The attributes of a `LastEvaluatedKey` on `gsi1`.
const CURSOR_KEYS: [&str; 4] = ["pk", "sk", "gsi1pk", "gsi1sk"];

fn encode_cursor(last: &Item) -> Result<String, StoreError> {
    let mut plain = serde_json::Map::new();
    for name in CURSOR_KEYS {
        plain.insert(
            name.to_string(),
            serde_json::Value::String(get_s(last, name)?.to_string()),
        );
    }
    let json = serde_json::Value::Object(plain).to_string();
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a client-supplied cursor, refusing anything that is not a key of the same listing.
fn decode_cursor(cursor: &str, partition: &str) -> Result<Item, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let plain: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if plain.len() != CURSOR_KEYS.len()
        || plain.get("gsi1pk").map(String::as_str) != Some(partition)
        || CURSOR_KEYS.iter().any(|k| !plain.contains_key(*k))
    {
        return Err(StoreError::InvalidCursor);
    }
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_key(owner: &str) -> Item {
        HashMap::from([
            ("pk".to_string(), s("APP#1")),
            ("sk".to_string(), s("APP")),
            ("gsi1pk".to_string(), s(owner_partition(owner))),
            ("gsi1sk".to_string(), s("2026-01-01T00:00:00Z#1")),
        ])
    }

    #[test]
    fn cursor_round_trips_for_the_same_company() {
        let cursor = encode_cursor(&last_key("corp-1")).unwrap_or_default();
        let decoded = decode_cursor(&cursor, &owner_partition("corp-1"));
        assert_eq!(decoded.ok(), Some(last_key("corp-1")));
    }

    #[test]
    fn cursor_of_another_company_or_garbage_is_refused() {
        let cursor = encode_cursor(&last_key("corp-2")).unwrap_or_default();
        assert!(matches!(
            decode_cursor(&cursor, &owner_partition("corp-1")),
            Err(StoreError::InvalidCursor)
        ));
        for junk in ["", "!!!", "e30", "bnVsbA"] {
            assert!(matches!(
                decode_cursor(junk, &owner_partition("corp-1")),
                Err(StoreError::InvalidCursor)
            ));
        }
    }
}
