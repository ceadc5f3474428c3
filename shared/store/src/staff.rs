//! The staff directory (職員名簿): which staff identity reviews for which authority, in which
//! role. Staff log in through their own OIDC client; only identities listed here and active get
//! a staff session, and every staff request re-reads the entry, so removing someone takes effect
//! at once.

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::item::{Item, get_item, get_json, key, put_item, query_all, s};

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 審査担当: works the authority's queue and decides.
    Reviewer,
}

/// One entry of the staff directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    /// The `sub` of the staff identity at the staff identity provider.
    pub sub: String,
    /// 氏名.
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// The authority (office id of the domain tables, e.g. `meti-kanto`) this person reviews for.
    pub office_id: String,
    pub role: StaffRole,
    /// A deactivated entry keeps its history but cannot log in or act.
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// The directory records (`STAFF#<sub>`), listed through `gsi1` partition `STAFF`.
#[derive(Clone)]
pub struct StaffDirectory {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn staff_key(sub: &str) -> Item {
    key(format!("STAFF#{sub}"), "STAFF")
}

impl StaffDirectory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> StaffDirectory {
        StaffDirectory {
            client,
            table: table.into(),
        }
    }

    /// Adds or replaces an entry.
    pub async fn put(&self, member: &StaffMember) -> Result<(), StoreError> {
        let body = serde_json::to_string(member).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = staff_key(&member.sub);
        item.extend([
            ("kind".to_string(), s("staff")),
            ("body".to_string(), s(body)),
            ("gsi1pk".to_string(), s("STAFF")),
            (
                "gsi1sk".to_string(),
                s(format!("{}#{}", member.office_id, member.sub)),
            ),
        ]);
        put_item(&self.client, &self.table, item).await
    }

    /// The entry of a staff identity, `NotFound` when absent.
    pub async fn get(&self, sub: &str) -> Result<StaffMember, StoreError> {
        let item = get_item(&self.client, &self.table, staff_key(sub)).await?;
        get_json(&item.ok_or(StoreError::NotFound)?, "body")
    }

    /// The active entry of a staff identity: `NotFound` when absent or deactivated.
    pub async fn active(&self, sub: &str) -> Result<StaffMember, StoreError> {
        let member = self.get(sub).await?;
        if member.active {
            Ok(member)
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// Every entry, ordered by office then identity.
    pub async fn list(&self) -> Result<Vec<StaffMember>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :staff")
            .expression_attribute_values(":staff", s("STAFF"));
        query_all(query)
            .await?
            .iter()
            .map(|item| get_json(item, "body"))
            .collect()
    }

    /// Removes an entry (its past actions stay in the audit trail under its `sub`).
    pub async fn remove(&self, sub: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(staff_key(sub)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(|e| crate::error::conditional(e, StoreError::NotFound))?;
        Ok(())
    }
}
