//! Small helpers to read and write DynamoDB attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::Corrupt(format!(
            "attribute {name} missing or not a string"
        ))),
    }
}

pub(crate) fn get_n(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not an integer"))),
        _ => Err(StoreError::Corrupt(format!(
            "attribute {name} missing or not a number"
        ))),
    }
}

/// Reads a JSON document kept in a string attribute.
pub(crate) fn get_json<T: serde::de::DeserializeOwned>(
    item: &Item,
    name: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, name)?)
        .map_err(|e| StoreError::Corrupt(format!("attribute {name}: {e}")))
}

pub(crate) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// Every item a query finds, page after page through the SDK's paginator (for listings known
/// to be small: a staff directory, one application's audit trail).
pub(crate) async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<Item>, StoreError> {
    query
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(StoreError::sdk)
}

/// One item by key, read consistently; `None` when absent.
pub(crate) async fn get_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: Item,
) -> Result<Option<Item>, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(StoreError::sdk)?;
    Ok(out.item)
}

/// Writes an item unconditionally (replacing any item with its key).
pub(crate) async fn put_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    item: Item,
) -> Result<(), StoreError> {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(StoreError::sdk)?;
    Ok(())
}

/// The items of `keys` that exist (any number of keys: 100 per request, unprocessed keys asked
/// again), read consistently; `projection`: only these attributes.
pub(crate) async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: Vec<Item>,
    projection: Option<&str>,
) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let mut pending = chunk.to_vec();
        // BatchGetItem may leave keys unprocessed under load: ask again for those.
        for _ in 0..10 {
            if pending.is_empty() {
                break;
            }
            let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .set_projection_expression(projection.map(str::to_string))
                .consistent_read(true)
                .build()
                .map_err(StoreError::sdk)?;
            let output = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(StoreError::sdk)?;
            found.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable(format!(
                "{} items could not be read",
                pending.len()
            )));
        }
    }
    Ok(found)
}
