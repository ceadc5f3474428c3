use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::error::conditional;
use crate::item::{get_json, get_n, key, n, s};

/// What `/auth/login` remembers until the provider sends the browser back to `/auth/callback`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginState {
    pub state: String,
    pub nonce: String,
    /// PKCE `code_verifier` (the provider saw only its S256 challenge).
    pub pkce_verifier: String,
    /// Unix seconds after which the callback is refused.
    pub expires_at: i64,
    /// A staff login (`/staff/login`): only the staff callback completes it, and vice versa.
    #[serde(default)]
    pub staff: bool,
    /// The page to come back to after the login (a path on the platform), when a page started
    /// it. Such a login is a person's in a browser: a refusal then answers with a page too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// The pending login records (`LOGIN#<state>`), each usable once.
#[derive(Clone)]
pub struct LoginStates {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl LoginStates {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> LoginStates {
        LoginStates {
            client,
            table: table.into(),
        }
    }

    pub async fn put(&self, login: &LoginState) -> Result<(), StoreError> {
        let body = serde_json::to_string(login).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = key(format!("LOGIN#{}", login.state), "LOGIN");
        item.insert("kind".into(), s("login"));
        item.insert("body".into(), s(body));
        item.insert("expires_at".into(), n(login.expires_at));
        item.insert("ttl".into(), n(login.expires_at));
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

    /// Removes and returns the login state: a second callback with the same `state` finds nothing.
    pub async fn take(&self, state: &str, now: i64) -> Result<LoginState, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LOGIN#{state}"), "LOGIN")))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| conditional(e, StoreError::NotFound))?;
        let item = out.attributes.ok_or(StoreError::NotFound)?;
        if get_n(&item, "expires_at")? <= now {
            return Err(StoreError::NotFound);
        }
        get_json(&item, "body")
    }
}
