use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::error::conditional;
use crate::item::{get_json, get_n, key, n, s};

/// Our own login session, created after a successful GビズID login.
///
/// The table keeps only the SHA-256 of the session token, so reading the table does not give
/// anyone a usable session cookie.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionRecord {
    /// GビズID `sub` of the person who logged in.
    pub sub: String,
    /// アカウント種別: "2" プライム, "3" メンバー ("1" エントリー never gets a session).
    pub account_type: String,
    /// 法人区分: "1" 法人, "2" 個人事業主.
    pub corp_type: String,
    /// Our key for the company: every application belongs to one.
    pub company_id: String,
    /// 法人番号 (13 digits) for a corporation, when GビズID gives one.
    pub corporate_number: Option<String>,
    /// 法人名 or 屋号.
    pub company_name: String,
    /// 本店所在地の都道府県 (JIS X 0401 code).
    pub prefecture_code: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    /// 代表者氏名.
    pub representative_name: Option<String>,
    /// 利用者氏名 (the logged-in person).
    pub user_name: Option<String>,
    pub email: Option<String>,
    /// The double-submit CSRF token bound to this session.
    pub csrf_token: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the session is refused.
    pub expires_at: i64,
    /// Seconds without a request after which the session is refused (the idle timeout: 30
    /// minutes for applicants, 15 for staff unless configured); 0: none.
    #[serde(default)]
    pub idle_seconds: i64,
    /// When it was last used (Unix seconds). Kept as an attribute of its own, so renewing it is
    /// a small update; [`Sessions::get`] fills it in.
    #[serde(skip)]
    pub last_seen_at: i64,
    /// Set for a staff session (staff login): the directory entry at login. Staff sessions have
    /// no company and can never act as an applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<crate::StaffMember>,
    /// The ID token of the login, as the provider signed it: the `id_token_hint` of the
    /// provider's end-session endpoint at logout (it carries no personal data, only `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The session records (`SESSION#<sha256(token)>`).
#[derive(Clone)]
pub struct Sessions {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn session_key(token: &str) -> crate::item::Item {
    let hex = hex::encode(Sha256::digest(token.as_bytes()));
    key(format!("SESSION#{hex}"), "SESSION")
}

/// The index partition of one account's sessions: GビズID and the staff provider have separate
/// `sub` spaces.
pub fn account_partition(sub: &str, staff: bool) -> String {
    let provider = if staff { "staff" } else { "gbizid" };
    format!("ACCOUNT#{provider}#{sub}")
}

/// How often a session's last use is written back at most: the idle timeout slides forward
/// without a write on every request.
pub const RENEW_AFTER_SECONDS: i64 = 60;

/// The most sessions one account's listing reads.
const ACCOUNT_SESSIONS: i32 = 100;

/// One session of an account, as an operator lists it (never its token).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session item's key (the SHA-256 of its token).
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub idle_seconds: i64,
}

impl Sessions {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Sessions {
        Sessions {
            client,
            table: table.into(),
        }
    }

    /// Stores a session under its token. The token itself is not stored.
    pub async fn put(&self, token: &str, record: &SessionRecord) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = session_key(token);
        item.insert("kind".into(), s("session"));
        item.insert("body".into(), s(body));
        item.insert("expires_at".into(), n(record.expires_at));
        item.insert("last_seen_at".into(), n(record.created_at));
        // The account's sessions, to revoke them at the next login or by an operator.
        item.insert(
            "gsi1pk".into(),
            s(account_partition(&record.sub, record.staff.is_some())),
        );
        item.insert("gsi1sk".into(), s(format!("{:012}", record.created_at)));
        // TTL removes the item some time after expiry; reads check `expires_at` themselves.
        item.insert("ttl".into(), n(record.expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::ConditionFailed))?;
        Ok(())
    }

    /// The live session for a token: `NotFound` when unknown, revoked or expired at `now`.
    pub async fn get(&self, token: &str, now: i64) -> Result<SessionRecord, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(session_key(token)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        let item = out.item.ok_or(StoreError::NotFound)?;
        if get_n(&item, "expires_at")? <= now {
            return Err(StoreError::NotFound);
        }
        let mut record: SessionRecord = get_json(&item, "body")?;
        record.last_seen_at = get_n(&item, "last_seen_at").unwrap_or(record.created_at);
        if record.idle_seconds > 0 && record.last_seen_at + record.idle_seconds <= now {
            return Err(StoreError::NotFound);
        }
        Ok(record)
    }

    /// Records a use of the session at `now` (sliding the idle timeout). A session revoked
    /// meanwhile stays revoked.
    pub async fn touch(&self, token: &str, now: i64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(token)))
            .update_expression("SET last_seen_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::NotFound))?;
        Ok(())
    }

    /// The live sessions of one account (newest first, at most 100).
    pub async fn of_account(
        &self,
        sub: &str,
        staff: bool,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :account")
            .expression_attribute_values(":account", s(account_partition(sub, staff)))
            .scan_index_forward(false)
            .limit(ACCOUNT_SESSIONS)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        out.items()
            .iter()
            .map(|item| {
                let last_seen = get_n(item, "last_seen_at").unwrap_or_default();
                let record: SessionRecord = get_json(item, "body")?;
                Ok(SessionSummary {
                    id: crate::item::get_s(item, "pk")?
                        .trim_start_matches("SESSION#")
                        .to_string(),
                    created_at: record.created_at,
                    expires_at: record.expires_at,
                    last_seen_at: last_seen.max(record.created_at),
                    idle_seconds: record.idle_seconds,
                })
            })
            .collect()
    }

    /// Revokes every session of one account (at a new login, or by an operator); returns how
    /// many there were.
    pub async fn revoke_account(&self, sub: &str, staff: bool) -> Result<usize, StoreError> {
        let mut revoked = 0;
        // Page by page until none is left (the index shows deletions shortly after; deleting
        // twice is harmless), bounded.
        for _ in 0..50 {
            let sessions = self.of_account(sub, staff).await?;
            if sessions.is_empty() {
                break;
            }
            for session in &sessions {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key(format!("SESSION#{}", session.id), "SESSION")))
                    .send()
                    .await
                    .map_err(StoreError::sdk)?;
            }
            revoked += sessions.len();
            if sessions.len() < ACCOUNT_SESSIONS as usize {
                break;
            }
        }
        Ok(revoked)
    }

    /// Revokes a session. Revoking an unknown session is not an error (logout is idempotent).
    pub async fn delete(&self, token: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(token)))
            .return_values(ReturnValue::None)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}
