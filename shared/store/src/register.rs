//! The register of certifications (認定台帳, [`RegisterEntry`]): `REGISTER#<YYYY-MM>` /
//! `<認定日>#<application id>`, one partition per month of 認定日, and by 法人番号 through index
//! `gsi1` (`REGCORP#<法人番号>`).
//!
//! A certification (or a data-use consent withdrawn from a certified plan) writes its entry in
//! the commit's transaction ([`crate::Applications::commit`]); the legacy import and paper
//! certifications write theirs with the record they create.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use keiryoku_domain::register::RegisterEntry;

use crate::StoreError;
use crate::cursor::{CursorShape, decode_cursor, encode_cursor};
use crate::item::{Item, get_json, s};

/// The most entries one page of a month may hold.
pub const MAX_REGISTER_PAGE: i32 = 1000;

const MONTH_CURSOR: CursorShape = CursorShape {
    keys: &["pk", "sk"],
    partition: "pk",
    prefixes: &[],
};

fn month_partition(month: &str) -> String {
    format!("REGISTER#{month}")
}

/// The entry as the table keeps it.
pub(crate) fn register_attributes(entry: &RegisterEntry) -> Result<Item, StoreError> {
    let text = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = crate::item::key(
        month_partition(&entry.month()),
        &format!("{}#{}", entry.certified_on, entry.application_id),
    );
    item.extend([
        ("kind".to_string(), s("register")),
        ("entry".to_string(), s(text)),
        (
            "publication".to_string(),
            AttributeValue::Bool(entry.publication_consent),
        ),
    ]);
    if let Some(number) = &entry.corporate_number {
        item.extend([
            ("gsi1pk".to_string(), s(format!("REGCORP#{number}"))),
            (
                "gsi1sk".to_string(),
                s(format!("{}#{}", entry.certified_on, entry.application_id)),
            ),
        ]);
    }
    Ok(item)
}

/// The transaction item that writes (or rewrites) an entry.
pub(crate) fn register_item(
    table: &str,
    entry: &RegisterEntry,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(register_attributes(entry)?))
        .build()
        .map_err(StoreError::sdk)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// One page of a month of the register.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterPage {
    pub entries: Vec<RegisterEntry>,
    pub next_cursor: Option<String>,
}

/// Reads the register (the export function's handle).
#[derive(Clone)]
pub struct Register {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Register {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Register {
        Register {
            client,
            table: table.into(),
        }
    }

    /// Up to `limit` entries of a month (`YYYY-MM`) in 認定日 order, from `cursor`;
    /// `published_only`: only 公表可 entries (filtered by DynamoDB, so a page may hold fewer).
    pub async fn month(
        &self,
        month: &str,
        published_only: bool,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<RegisterPage, StoreError> {
        let partition = month_partition(month);
        let start = cursor
            .map(|c| decode_cursor(c, &MONTH_CURSOR, &partition))
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(partition))
            .limit(limit.clamp(1, MAX_REGISTER_PAGE))
            .set_exclusive_start_key(start);
        if published_only {
            query = query
                .filter_expression("publication = :yes")
                .expression_attribute_values(":yes", AttributeValue::Bool(true));
        }
        let output = query.send().await.map_err(StoreError::sdk)?;
        let entries = output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| get_json(item, "entry"))
            .collect::<Result<Vec<RegisterEntry>, _>>()?;
        let next_cursor = output
            .last_evaluated_key
            .map(|key| encode_cursor(&key, &MONTH_CURSOR))
            .transpose()?;
        Ok(RegisterPage {
            entries,
            next_cursor,
        })
    }

    /// The certifications of a company by 法人番号 (at most `limit`, oldest first).
    pub async fn of_company(
        &self,
        corporate_number: &str,
        limit: i32,
    ) -> Result<Vec<RegisterEntry>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(format!("REGCORP#{corporate_number}")))
            .limit(limit.clamp(1, MAX_REGISTER_PAGE))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| get_json(item, "entry"))
            .collect()
    }
}
