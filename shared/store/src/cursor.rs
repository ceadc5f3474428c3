//! Opaque pagination cursors: a `LastEvaluatedKey` as base64url JSON, accepted back only for the
//! same listing (same key shape, same partition), so a client cannot page into data it may not
//! list.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;
use crate::item::{Item, get_s};

/// Which attributes a listing's keys have, and which of them names the partition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CursorShape {
    pub keys: &'static [&'static str],
    pub partition: &'static str,
    /// Key attributes whose values must start with a prefix (the listing's key range, as in
    /// `begins_with(sk, :case)`): a key outside it is refused by DynamoDB.
    pub prefixes: &'static [(&'static str, &'static str)],
}

/// DynamoDB's limit for a sort key value (a partition key may have 2048): longer is refused.
const KEY_BYTES: usize = 1024;

pub(crate) fn encode_cursor(last: &Item, shape: &CursorShape) -> Result<String, StoreError> {
    let mut plain = serde_json::Map::new();
    for name in shape.keys {
        plain.insert(
            (*name).to_string(),
            serde_json::Value::String(get_s(last, name)?.to_string()),
        );
    }
    Ok(URL_SAFE_NO_PAD.encode(serde_json::Value::Object(plain).to_string()))
}

/// Decodes a client-supplied cursor, refusing anything that is not a key of the same listing.
pub(crate) fn decode_cursor(
    cursor: &str,
    shape: &CursorShape,
    partition: &str,
) -> Result<Item, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let plain: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if plain.len() != shape.keys.len()
        || plain.get(shape.partition).map(String::as_str) != Some(partition)
        || shape.keys.iter().any(|k| !plain.contains_key(*k))
        // Values DynamoDB would refuse with a ValidationException (a 5xx for the client).
        || plain.values().any(|v| v.is_empty() || v.len() > KEY_BYTES)
        || shape
            .prefixes
            .iter()
            .any(|(k, p)| !plain.get(*k).is_some_and(|v| v.starts_with(p)))
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
    use crate::item::s;

    const SHAPE: CursorShape = CursorShape {
        keys: &["pk", "sk", "gsi1pk", "gsi1sk"],
        partition: "gsi1pk",
        prefixes: &[("pk", "APP#")],
    };

    fn last_key(owner: &str) -> Item {
        HashMap::from([
            ("pk".to_string(), s("APP#1")),
            ("sk".to_string(), s("APP")),
            ("gsi1pk".to_string(), s(format!("OWNER#{owner}"))),
            ("gsi1sk".to_string(), s("2026-01-01T00:00:00Z#1")),
        ])
    }

    #[test]
    fn cursor_round_trips_for_the_same_partition() {
        let cursor = encode_cursor(&last_key("corp-1"), &SHAPE).unwrap_or_default();
        let decoded = decode_cursor(&cursor, &SHAPE, "OWNER#corp-1");
        assert_eq!(decoded.ok(), Some(last_key("corp-1")));
    }

    #[test]
    fn cursor_of_another_partition_or_garbage_is_refused() {
        let cursor = encode_cursor(&last_key("corp-2"), &SHAPE).unwrap_or_default();
        assert!(matches!(
            decode_cursor(&cursor, &SHAPE, "OWNER#corp-1"),
            Err(StoreError::InvalidCursor)
        ));
        for junk in ["", "!!!", "e30", "bnVsbA"] {
            assert!(matches!(
                decode_cursor(junk, &SHAPE, "OWNER#corp-1"),
                Err(StoreError::InvalidCursor)
            ));
        }
    }

    #[test]
    fn key_values_dynamodb_would_refuse_are_refused_here() {
        let refused = |key: Item| {
            let cursor = encode_cursor(&key, &SHAPE).unwrap_or_default();
            matches!(
                decode_cursor(&cursor, &SHAPE, "OWNER#corp-1"),
                Err(StoreError::InvalidCursor)
            )
        };
        let mut empty = last_key("corp-1");
        empty.insert("sk".into(), s(""));
        assert!(refused(empty), "empty key value");
        let mut long = last_key("corp-1");
        long.insert("gsi1sk".into(), s("x".repeat(1025)));
        assert!(refused(long), "longer than a key may be");
        let mut outside = last_key("corp-1");
        outside.insert("pk".into(), s("STAFF#1"));
        assert!(refused(outside), "outside the listing's key range");
    }
}
