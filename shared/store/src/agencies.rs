//! The agencies' machine clients (`AGENCY#<client id>`): what each may see of the export. The
//! operator registers them (`keiryoku-admin agency put`); the export function only reads them.

use keiryoku_domain::feed::AgencyClient;

use crate::StoreError;
use crate::item::{Item, get_item, get_json, key, query_all, s};

fn agency_key(client_id: &str) -> Item {
    key(format!("AGENCY#{client_id}"), "AGENCY")
}

/// The agency client registry.
#[derive(Clone)]
pub struct Agencies {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Agencies {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Agencies {
        Agencies {
            client,
            table: table.into(),
        }
    }

    /// The client registered under `client_id` (`None`: a token of an unknown client sees
    /// nothing).
    pub async fn get(&self, client_id: &str) -> Result<Option<AgencyClient>, StoreError> {
        if client_id.is_empty() || client_id.len() > 256 {
            return Ok(None);
        }
        get_item(&self.client, &self.table, agency_key(client_id))
            .await?
            .map(|item| get_json(&item, "client"))
            .transpose()
    }

    /// Registers or replaces a client.
    pub async fn put(&self, agency: &AgencyClient) -> Result<(), StoreError> {
        let mut item = agency_key(&agency.client_id);
        let text = serde_json::to_string(agency).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend([
            ("kind".to_string(), s("agency")),
            ("client".to_string(), s(text)),
            ("gsi1pk".to_string(), s("AGENCIES")),
            ("gsi1sk".to_string(), s(&agency.client_id)),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }

    /// Every registered client (a handful), by client id.
    pub async fn list(&self) -> Result<Vec<AgencyClient>, StoreError> {
        let items = query_all(
            self.client
                .query()
                .table_name(&self.table)
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :p")
                .expression_attribute_values(":p", s("AGENCIES")),
        )
        .await?;
        items.iter().map(|item| get_json(item, "client")).collect()
    }
}
