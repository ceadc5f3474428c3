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
use crate::item::{Item, get_item, get_json, get_s, key, s};

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

/// The most certifications of one company on one day a verification reads.
const SAME_DAY_LIMIT: i32 = 100;

/// A certification replaced by a certified change (the `SUPERSEDED#<application>` mark the
/// change's certification wrote in its transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supersession {
    /// The change application whose certification replaced it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The entries of a query's items.
fn entries(items: Option<Vec<Item>>) -> Result<Vec<RegisterEntry>, StoreError> {
    items
        .unwrap_or_default()
        .iter()
        .map(|item| get_json(item, "entry"))
        .collect()
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
        let entries = entries(output.items)?;
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
        self.company_entries(corporate_number, None, limit.clamp(1, MAX_REGISTER_PAGE))
            .await
    }

    /// A company's certifications of one 認定日 (at most [`SAME_DAY_LIMIT`]): what a public
    /// verification compares the 認定番号 with.
    pub async fn of_company_on(
        &self,
        corporate_number: &str,
        certified_on: time::Date,
    ) -> Result<Vec<RegisterEntry>, StoreError> {
        self.company_entries(corporate_number, Some(certified_on), SAME_DAY_LIMIT)
            .await
    }

    /// One query of a company's entries (`gsi1`), of one 認定日 when `day` is given.
    async fn company_entries(
        &self,
        corporate_number: &str,
        day: Option<time::Date>,
        limit: i32,
    ) -> Result<Vec<RegisterEntry>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(format!("REGCORP#{corporate_number}")))
            .limit(limit);
        if let Some(day) = day {
            query = query
                .key_condition_expression("gsi1pk = :pk AND begins_with(gsi1sk, :day)")
                .expression_attribute_values(":day", s(format!("{day}#")));
        }
        let output = query.send().await.map_err(StoreError::sdk)?;
        entries(output.items)
    }

    /// Whether a certified change replaced the certification of `application_id`.
    pub async fn superseded(
        &self,
        application_id: &str,
    ) -> Result<Option<Supersession>, StoreError> {
        let mark = key(format!("SUPERSEDED#{application_id}"), "SUPERSEDED");
        let Some(item) = get_item(&self.client, &self.table, mark).await? else {
            return Ok(None);
        };
        Ok(Some(Supersession {
            by: get_s(&item, "by")?.to_string(),
            at: get_s(&item, "at")?.to_string(),
        }))
    }
}
