//! A small cache of answers from other services (`CACHE#<namespace>#<key>`), expiring by TTL.
//! Reads check the expiry themselves: DynamoDB's TTL deletes late.

use crate::StoreError;
use crate::item::{get_item, get_json, get_n, key, n, put_item, s};

#[derive(Clone)]
pub struct Cache {
    client: aws_sdk_dynamodb::Client,
    table: String,
    namespace: &'static str,
}

impl Cache {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        namespace: &'static str,
    ) -> Cache {
        Cache {
            client,
            table: table.into(),
            namespace,
        }
    }

    fn key(&self, key_text: &str) -> crate::item::Item {
        key(format!("CACHE#{}#{key_text}", self.namespace), "CACHE")
    }

    /// The cached value, `None` when absent or expired at `now` (Unix seconds).
    pub async fn get(
        &self,
        key_text: &str,
        now: i64,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(item) = get_item(&self.client, &self.table, self.key(key_text)).await? else {
            return Ok(None);
        };
        if get_n(&item, "ttl")? <= now {
            return Ok(None);
        }
        get_json(&item, "body").map(Some)
    }

    /// Stores a value until `expires_at` (Unix seconds).
    pub async fn put(
        &self,
        key_text: &str,
        value: &serde_json::Value,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut item = self.key(key_text);
        item.extend([
            ("kind".to_string(), s("cache")),
            ("body".to_string(), s(value.to_string())),
            ("ttl".to_string(), n(expires_at)),
        ]);
        put_item(&self.client, &self.table, item).await
    }
}
