//! The change feed's outbox (`FEED` / `SEQ#<n>`) and the consent marks it is filtered by
//! (`CONSENT#<application id>`).
//!
//! [`crate::Applications::commit`] writes a commit's events in the same transaction as the
//! change, numbered by a gapless counter (`COUNTER#feed`) moved in that transaction too. Because
//! event `n + 1` can only commit after event `n` did, a consistent read of the partition never
//! skips one that commits later: a reader that has seen `n` has seen everything before it. The
//! feed therefore needs no stream (DynamoDB Streams keep 24 hours only); the lake copy is made
//! from it.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use keiryoku_domain::application::{Application, ApplicationId};
use keiryoku_domain::feed::FeedRecord;

use crate::StoreError;
use crate::item::{Item, batch_get, get_item, get_n, get_s, key, n, s};

const FEED_PARTITION: &str = "FEED";
const COUNTER_NAME: &str = "COUNTER#feed";

/// The most events one page of the feed may hold.
pub const MAX_FEED_PAGE: usize = 1000;

fn feed_sort_key(seq: i64) -> String {
    format!("SEQ#{seq:015}")
}

fn consent_key(id: &ApplicationId) -> Item {
    key(format!("CONSENT#{id}"), "CONSENT")
}

/// One page of the feed: events after a position, in order, and the position of the last one
/// read (the next page starts there, also when the agency saw none of them).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub events: Vec<(i64, FeedRecord)>,
    /// The position after which the next page starts.
    pub position: i64,
    /// Whether events after `position` already exist.
    pub more: bool,
}

/// Reads the feed (the export function's handle).
#[derive(Clone)]
pub struct Feed {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Feed {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Feed {
        Feed {
            client,
            table: table.into(),
        }
    }

    /// The newest position (0 before the first event).
    pub async fn head(&self) -> Result<i64, StoreError> {
        head(&self.client, &self.table).await
    }

    /// Up to `limit` events after position `after` (1 ≤ limit ≤ [`MAX_FEED_PAGE`]).
    pub async fn page(&self, after: i64, limit: usize) -> Result<FeedPage, StoreError> {
        let limit = limit.clamp(1, MAX_FEED_PAGE);
        let mut events = Vec::with_capacity(limit.min(100));
        let mut start = after;
        let mut more = false;
        'read: loop {
            // One more than wanted tells whether anything follows the page.
            let wanted = limit - events.len() + 1;
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", s(FEED_PARTITION))
                .expression_attribute_values(":after", s(feed_sort_key(start)))
                .consistent_read(true)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(StoreError::sdk)?;
            let exhausted = output.last_evaluated_key.is_none();
            for item in output.items.unwrap_or_default() {
                if events.len() == limit {
                    more = true;
                    break 'read;
                }
                let seq = get_n(&item, "seq")?;
                // A Query is only read-committed: a later commit's event may show before an
                // earlier one's. A position exists only with its event, so a gap is one still
                // being written: stop before it, and the next read finds it.
                if seq != start + 1 {
                    more = true;
                    break 'read;
                }
                let event: FeedRecord = serde_json::from_str(get_s(&item, "event")?)
                    .map_err(|e| StoreError::Corrupt(format!("feed event {seq}: {e}")))?;
                start = seq;
                events.push((seq, event));
            }
            // A page of DynamoDB ends at 1 MB too: go on until the limit or the end.
            if exhausted {
                break;
            }
        }
        Ok(FeedPage {
            position: start,
            events,
            more,
        })
    }

    /// How far the lake copy of the feed got (0 before the first run).
    pub async fn lake_position(&self) -> Result<i64, StoreError> {
        match get_item(&self.client, &self.table, key("LAKE".into(), "POSITION")).await? {
            Some(item) => get_n(&item, "position"),
            None => Ok(0),
        }
    }

    /// Moves the lake's position from `from` to `to`; `false` when another run moved it first.
    pub async fn move_lake_position(&self, from: i64, to: i64) -> Result<bool, StoreError> {
        let mut item = key("LAKE".into(), "POSITION");
        item.extend([
            ("kind".to_string(), s("lake-position")),
            ("position".to_string(), n(to)),
        ]);
        let condition = if from == 0 {
            "attribute_not_exists(pk) OR #position = :from"
        } else {
            "#position = :from"
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#position", "position")
            .expression_attribute_values(":from", n(from))
            .send()
            .await;
        crate::error::written(result)
    }

    /// Whether each application's data may be shared now (its data-use consent given and not
    /// withdrawn); an application without a consent mark shares nothing.
    pub async fn sharing(
        &self,
        ids: impl IntoIterator<Item = &ApplicationId>,
    ) -> Result<HashMap<ApplicationId, bool>, StoreError> {
        let unique: Vec<ApplicationId> = ids
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .cloned()
            .collect();
        let keys = unique.iter().map(consent_key).collect();
        let mut found = HashMap::with_capacity(unique.len());
        for item in batch_get(&self.client, &self.table, keys, None).await? {
            let shares = matches!(item.get("shares_data"), Some(AttributeValue::Bool(true)));
            if let Some(id) = ApplicationId::parse(get_s(&item, "application_id")?) {
                found.insert(id, shares);
            }
        }
        for id in unique {
            found.entry(id).or_insert(false);
        }
        Ok(found)
    }
}

/// The newest feed position (the counter).
pub(crate) async fn head(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<i64, StoreError> {
    let counter = key(COUNTER_NAME.to_string(), "COUNTER");
    match get_item(client, table, counter).await? {
        Some(item) => get_n(&item, "seq"),
        None => Ok(0),
    }
}

/// The transaction items that append `events` after position `head`: the counter moved from
/// `head` (the first item: its condition fails when another commit took the position) and one
/// item per event.
pub(crate) fn append_items(
    table: &str,
    head: i64,
    events: &[FeedRecord],
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let next = head + i64::try_from(events.len()).unwrap_or(i64::MAX);
    let condition = if head == 0 {
        "attribute_not_exists(pk)"
    } else {
        "#seq = :current"
    };
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key(COUNTER_NAME.to_string(), "COUNTER")))
        .update_expression("SET #seq = :next")
        .condition_expression(condition)
        .expression_attribute_names("#seq", "seq")
        .expression_attribute_values(":next", n(next));
    if head != 0 {
        update = update.expression_attribute_values(":current", n(head));
    }
    let mut items = vec![
        TransactWriteItem::builder()
            .update(update.build().map_err(StoreError::sdk)?)
            .build(),
    ];
    for (offset, event) in (1..).zip(events) {
        let seq = head + offset;
        let mut item = key(FEED_PARTITION.to_string(), &feed_sort_key(seq));
        let text = serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("kind".to_string(), s("feed")),
            ("seq".to_string(), n(seq)),
            ("event_id".to_string(), s(&event.event_id)),
            ("event".to_string(), s(text)),
        ]);
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::sdk)?;
        items.push(TransactWriteItem::builder().put(put).build());
    }
    Ok(items)
}

/// The consent mark of `record` (written whenever a commit sets or withdraws the consent).
pub(crate) fn consent_item(
    table: &str,
    record: &Application,
) -> Result<Option<TransactWriteItem>, StoreError> {
    let Some(consent) = &record.consent else {
        return Ok(None);
    };
    let mut item = consent_key(&record.id);
    item.extend([
        ("kind".to_string(), s("consent")),
        ("application_id".to_string(), s(record.id.as_str())),
        (
            "shares_data".to_string(),
            AttributeValue::Bool(consent.shares_data()),
        ),
        (
            "publication".to_string(),
            AttributeValue::Bool(consent.publication),
        ),
        ("wording_version".to_string(), s(&consent.wording_version)),
        (
            "given_at".to_string(),
            s(keiryoku_domain::application::rfc3339(consent.given_at)),
        ),
    ]);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(StoreError::sdk)?;
    Ok(Some(TransactWriteItem::builder().put(put).build()))
}
