//! Reading an append-only log partition (an application's audit trail, a certificate's downloads
//! and checks) one bounded page at a time: a determined client can make a log long, and a
//! Lambda answer is capped at 6 MB, so no read takes a whole log.

use crate::StoreError;
use crate::cursor::{CursorShape, decode_cursor, encode_cursor};
use crate::item::{Item, s};

/// Which end of the log a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// One page of a log, and the cursor of the rest (absent on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> LogPage<T> {
    pub(crate) fn map<U>(
        self,
        f: impl FnMut(T) -> Result<U, StoreError>,
    ) -> Result<LogPage<U>, StoreError> {
        Ok(LogPage {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// The most entries one page of a log may hold.
pub const MAX_LOG_PAGE: i32 = 200;

const LOG_CURSOR: CursorShape = CursorShape {
    keys: &["pk", "sk"],
    partition: "pk",
    prefixes: &[],
};

/// Up to `limit` items of `partition` (1 ≤ limit ≤ [`MAX_LOG_PAGE`]) in `order`, from `cursor`.
pub(crate) async fn log_page(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    partition: String,
    order: Order,
    limit: i32,
    cursor: Option<&str>,
) -> Result<LogPage<Item>, StoreError> {
    log_page_in(client, table, None, partition, order, limit, cursor).await
}

/// [`log_page`] of a partition of the table (`index` `None`) or of index `gsi1`
/// (`Some("gsi1")`, read eventually consistent as indexes are).
pub(crate) async fn log_page_in(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    index: Option<&str>,
    partition: String,
    order: Order,
    limit: i32,
    cursor: Option<&str>,
) -> Result<LogPage<Item>, StoreError> {
    let (shape, key) = match index {
        None => (&LOG_CURSOR, "pk"),
        Some(_) => (&crate::applications::GSI1_CURSOR, "gsi1pk"),
    };
    let start = cursor
        .map(|c| decode_cursor(c, shape, &partition))
        .transpose()?;
    let out = client
        .query()
        .table_name(table)
        .set_index_name(index.map(str::to_string))
        .key_condition_expression(format!("{key} = :pk"))
        .expression_attribute_values(":pk", s(partition))
        .scan_index_forward(order == Order::OldestFirst)
        .limit(limit.clamp(1, MAX_LOG_PAGE))
        .consistent_read(index.is_none())
        .set_exclusive_start_key(start.clone())
        .send()
        .await
        .map_err(|e| crate::error::query_failed(e, start.is_some()))?;
    let next_cursor = out
        .last_evaluated_key()
        .map(|k| encode_cursor(k, shape))
        .transpose()?;
    Ok(LogPage {
        items: out.items.unwrap_or_default(),
        next_cursor,
    })
}

/// The JSON `body` of the newest `limit` items of a partition of the table (`index` `None`) or
/// of `gsi1`: the short, newest-first lists (notices, directory changes).
pub(crate) async fn newest_bodies<T: serde::de::DeserializeOwned>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    index: Option<&str>,
    partition: String,
    limit: i32,
) -> Result<Vec<T>, StoreError> {
    let page = log_page_in(
        client,
        table,
        index,
        partition,
        Order::NewestFirst,
        limit,
        None,
    )
    .await?;
    page.items
        .iter()
        .map(|item| crate::item::get_json(item, "body"))
        .collect()
}
