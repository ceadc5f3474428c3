//! The staff directory (職員名簿): which staff identity reviews for which authority, in which
//! role. Staff log in through their own OIDC client; only identities listed here and active get
//! a staff session, and every staff request re-reads the entry, so removing someone takes effect
//! at once.

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::item::{Item, get_item, get_json, key, query_all, s};

use keiryoku_domain::application::OfficeId;
pub use keiryoku_domain::staff::{Scope, StaffPermission, StaffRole};

/// One entry of the staff directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DirectoryEntry", into = "DirectoryEntry")]
pub struct StaffMember {
    /// The `sub` of the staff identity at the staff identity provider.
    pub sub: String,
    /// 氏名.
    pub name: String,
    pub email: Option<String>,
    pub role: StaffRole,
    /// A deactivated entry keeps its history but cannot log in or act.
    pub active: bool,
}

/// The role names of the directory file and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// 審査担当 (needs `office_id`).
    Reviewer,
    /// 局・本省 閲覧 (needs exactly one of `office_id`, `network_id`, `ministry_id`).
    Reader,
    /// 企画課.
    Planning,
    /// 管理者.
    Administrator,
}

/// A directory entry as the file and the table hold it: flat, so that an operator can write it
/// by hand (`infra/staff-directory.json`). [`StaffMember`] is what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryEntry {
    pub sub: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: RoleName,
    /// The authority (office id of the domain tables, e.g. `meti-kanto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_id: Option<String>,
    /// A network of offices (`meti-bureaus`), for a reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<String>,
    /// A ministry (`meti`), for a reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ministry_id: Option<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

impl TryFrom<DirectoryEntry> for StaffMember {
    type Error = String;

    fn try_from(entry: DirectoryEntry) -> Result<StaffMember, String> {
        let place = (
            entry.office_id.clone(),
            entry.network_id.clone(),
            entry.ministry_id.clone(),
        );
        let role = match (entry.role, place) {
            (RoleName::Reviewer, (Some(office), None, None)) => {
                StaffRole::Reviewer(OfficeId::from(office))
            }
            (RoleName::Reader, (Some(office), None, None)) => {
                StaffRole::Reader(Scope::Office(OfficeId::from(office)))
            }
            (RoleName::Reader, (None, Some(network), None)) => {
                StaffRole::Reader(Scope::Network(network))
            }
            (RoleName::Reader, (None, None, Some(ministry))) => {
                StaffRole::Reader(Scope::Ministry(ministry))
            }
            (RoleName::Planning, (None, None, None)) => StaffRole::Planning,
            (RoleName::Administrator, (None, None, None)) => StaffRole::Administrator,
            (RoleName::Reviewer, _) => {
                return Err(format!("{}: a reviewer needs office_id only", entry.sub));
            }
            (RoleName::Reader, _) => {
                return Err(format!(
                    "{}: a reader needs exactly one of office_id, network_id, ministry_id",
                    entry.sub
                ));
            }
            (RoleName::Planning | RoleName::Administrator, _) => {
                return Err(format!("{}: this role has no office", entry.sub));
            }
        };
        Ok(StaffMember {
            sub: entry.sub,
            name: entry.name,
            email: entry.email,
            role,
            active: entry.active,
        })
    }
}

impl From<StaffMember> for DirectoryEntry {
    fn from(member: StaffMember) -> DirectoryEntry {
        let (role, office_id, network_id, ministry_id) = match member.role {
            StaffRole::Reviewer(office) => {
                (RoleName::Reviewer, Some(office.to_string()), None, None)
            }
            StaffRole::Reader(Scope::Office(office)) => {
                (RoleName::Reader, Some(office.to_string()), None, None)
            }
            StaffRole::Reader(Scope::Network(network)) => {
                (RoleName::Reader, None, Some(network), None)
            }
            StaffRole::Reader(Scope::Ministry(ministry)) => {
                (RoleName::Reader, None, None, Some(ministry))
            }
            StaffRole::Reader(Scope::National) | StaffRole::Planning => {
                (RoleName::Planning, None, None, None)
            }
            StaffRole::Administrator => (RoleName::Administrator, None, None, None),
        };
        DirectoryEntry {
            sub: member.sub,
            name: member.name,
            email: member.email,
            role,
            office_id,
            network_id,
            ministry_id,
            active: member.active,
        }
    }
}

impl StaffMember {
    /// Where the member works, for sorting the directory: the office, network or ministry id,
    /// or the role for national roles.
    fn place(&self) -> String {
        match &self.role {
            StaffRole::Reviewer(office) | StaffRole::Reader(Scope::Office(office)) => {
                office.to_string()
            }
            StaffRole::Reader(Scope::Network(id) | Scope::Ministry(id)) => id.clone(),
            StaffRole::Reader(Scope::National) | StaffRole::Planning => "~planning".into(),
            StaffRole::Administrator => "~administrator".into(),
        }
    }
}

/// What a change did to a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryAction {
    /// A new entry.
    Added,
    /// Name, mail, role or place changed.
    Changed,
    /// Sessions refused from now on; the entry and its history stay.
    Deactivated,
    /// Active again.
    Reactivated,
    /// Removed by the operator command.
    Removed,
    /// Every session of the member ended by an administrator (the entry is unchanged).
    SessionsEnded,
}

impl DirectoryAction {
    pub fn label(self) -> &'static str {
        match self {
            DirectoryAction::Added => "追加",
            DirectoryAction::Changed => "変更",
            DirectoryAction::Deactivated => "無効化",
            DirectoryAction::Reactivated => "再有効化",
            DirectoryAction::Removed => "削除",
            DirectoryAction::SessionsEnded => "セッションを終了",
        }
    }

    /// What going from `before` to `after` is.
    pub fn between(before: Option<&StaffMember>, after: &StaffMember) -> DirectoryAction {
        match before {
            None => DirectoryAction::Added,
            Some(b) if b.active && !after.active => DirectoryAction::Deactivated,
            Some(b) if !b.active && after.active => DirectoryAction::Reactivated,
            Some(_) => DirectoryAction::Changed,
        }
    }
}

/// Who changed the directory: an administrator on the page, or the operator command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryActor {
    /// The administrator's `sub`, or `operator`.
    pub sub: String,
    pub name: String,
}

impl DirectoryActor {
    /// The operator command (`keiryoku-admin staff …`) and the local stack's seed.
    pub fn operator() -> DirectoryActor {
        DirectoryActor {
            sub: "operator".into(),
            name: "運用担当 keiryoku-admin".into(),
        }
    }
}

/// One change of the staff directory, kept for ever (職員名簿の変更記録): append-only like the
/// application audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryChange {
    /// RFC 3339, UTC.
    pub at: String,
    pub by: DirectoryActor,
    pub action: DirectoryAction,
    pub sub: String,
    /// The entry before (absent for an addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<DirectoryEntry>,
    /// The entry after (absent for a removal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<DirectoryEntry>,
}

/// An entry as read, with the version a change must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedMember {
    pub member: StaffMember,
    pub version: i64,
}

/// The directory records (`STAFF#<sub>`), listed through `gsi1` partition `STAFF`; their
/// change log under `STAFFLOG#<sub>` (newest last), also listed through `gsi1` partition
/// `STAFFLOG` by time.
#[derive(Clone)]
pub struct StaffDirectory {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn staff_key(sub: &str) -> Item {
    key(format!("STAFF#{sub}"), "STAFF")
}

/// How many changes of one entry the entry page shows.
pub const CHANGES_SHOWN: i32 = 50;

impl StaffDirectory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> StaffDirectory {
        StaffDirectory {
            client,
            table: table.into(),
        }
    }

    fn entry_item(member: &StaffMember, version: i64) -> Result<Item, StoreError> {
        let body = serde_json::to_string(member).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = staff_key(&member.sub);
        item.extend([
            ("kind".to_string(), s("staff")),
            ("body".to_string(), s(body)),
            ("version".to_string(), crate::item::n(version)),
            ("gsi1pk".to_string(), s("STAFF")),
            (
                "gsi1sk".to_string(),
                s(format!("{}#{}", member.place(), member.sub)),
            ),
        ]);
        Ok(item)
    }

    fn change_item(change: &DirectoryChange) -> Result<Item, StoreError> {
        let body = serde_json::to_string(change).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let unique = uuid::Uuid::now_v7();
        let mut item = key(
            format!("STAFFLOG#{}", change.sub),
            &format!("{}#{unique}", change.at),
        );
        item.extend([
            ("kind".to_string(), s("staff_change")),
            ("body".to_string(), s(body)),
            ("gsi1pk".to_string(), s("STAFFLOG")),
            ("gsi1sk".to_string(), s(format!("{}#{unique}", change.at))),
        ]);
        Ok(item)
    }

    /// Writes `member` and the record of the change in one transaction, if the entry is still
    /// at `expected` (`None`: it must not exist yet). `ConditionFailed` when someone changed it
    /// in between: nothing is written.
    pub async fn save(
        &self,
        member: &StaffMember,
        before: Option<&VersionedMember>,
        by: DirectoryActor,
    ) -> Result<i64, StoreError> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
        let version = before.map_or(1, |b| b.version + 1);
        let change = DirectoryChange {
            at: now_rfc3339(),
            by,
            action: DirectoryAction::between(before.map(|b| &b.member), member),
            sub: member.sub.clone(),
            before: before.map(|b| b.member.clone().into()),
            after: Some(member.clone().into()),
        };
        let mut entry = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::entry_item(member, version)?));
        entry = match before {
            None => entry.condition_expression("attribute_not_exists(pk)"),
            // Entries written before versions existed have none: they read as version 0.
            Some(b) if b.version == 0 => {
                entry.condition_expression("attribute_exists(pk) AND attribute_not_exists(version)")
            }
            Some(b) => entry
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", crate::item::n(b.version)),
        };
        let log = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::change_item(&change)?))
            .condition_expression("attribute_not_exists(pk)");
        let built = |put: aws_sdk_dynamodb::types::builders::PutBuilder| {
            put.build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        self.client
            .transact_write_items()
            .transact_items(built(entry)?)
            .transact_items(built(log)?)
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(_)) => {
                        StoreError::ConditionFailed
                    }
                    _ => StoreError::sdk(e),
                }
            })?;
        Ok(version)
    }

    /// Adds or changes an entry to read as `member` (the operator command, the local seed):
    /// recorded like a change on the page; nothing is written when it already reads so.
    /// Whether it wrote.
    pub async fn put(&self, member: &StaffMember, by: DirectoryActor) -> Result<bool, StoreError> {
        let before = match self.get_versioned(&member.sub).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other),
        };
        if before.as_ref().is_some_and(|b| &b.member == member) {
            return Ok(false);
        }
        self.save(member, before.as_ref(), by).await.map(|_| true)
    }

    /// The entry of a staff identity with its version, `NotFound` when absent.
    pub async fn get_versioned(&self, sub: &str) -> Result<VersionedMember, StoreError> {
        let item = get_item(&self.client, &self.table, staff_key(sub))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(VersionedMember {
            member: get_json(&item, "body")?,
            // Entries written before versions existed count as version 0.
            version: crate::item::get_n(&item, "version").unwrap_or(0),
        })
    }

    /// The entry of a staff identity, `NotFound` when absent.
    pub async fn get(&self, sub: &str) -> Result<StaffMember, StoreError> {
        self.get_versioned(sub).await.map(|v| v.member)
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

    /// Every entry, ordered by place (office, network, ministry, then national roles) then
    /// identity. The directory is a few hundred entries: read whole.
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

    /// The latest changes of one entry, newest first.
    pub async fn changes_of(&self, sub: &str) -> Result<Vec<DirectoryChange>, StoreError> {
        let partition = format!("STAFFLOG#{sub}");
        crate::log_page::newest_bodies(&self.client, &self.table, None, partition, CHANGES_SHOWN)
            .await
    }

    /// The latest changes of the whole directory, newest first.
    pub async fn recent_changes(&self, limit: i32) -> Result<Vec<DirectoryChange>, StoreError> {
        let partition = "STAFFLOG".to_string();
        crate::log_page::newest_bodies(&self.client, &self.table, Some("gsi1"), partition, limit)
            .await
    }

    /// Records in the directory's change log that an administrator ended every session of
    /// `member` (the entry itself is unchanged).
    pub async fn record_sessions_ended(
        &self,
        member: &StaffMember,
        by: DirectoryActor,
    ) -> Result<(), StoreError> {
        let change = DirectoryChange {
            at: now_rfc3339(),
            by,
            action: DirectoryAction::SessionsEnded,
            sub: member.sub.clone(),
            before: Some(member.clone().into()),
            after: Some(member.clone().into()),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::change_item(&change)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }

    /// Removes an entry (its past actions stay in the audit trail under its `sub`, and the
    /// removal in the directory's change log).
    pub async fn remove(&self, sub: &str, by: DirectoryActor) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
        let before = self.get(sub).await?;
        let change = DirectoryChange {
            at: now_rfc3339(),
            by,
            action: DirectoryAction::Removed,
            sub: sub.to_string(),
            before: Some(before.into()),
            after: None,
        };
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(staff_key(sub)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let log = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::change_item(&change)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().put(log).build())
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(_)) => {
                        StoreError::NotFound
                    }
                    _ => StoreError::sdk(e),
                }
            })?;
        Ok(())
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
