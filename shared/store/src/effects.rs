//! Side effects of changes (certificates, mail) run exactly once from an at-least-once stream.
//!
//! Each effect has a key made from the change that caused it (application, version, effect),
//! and a record `EFFECT#<key>` that a worker claims with a conditional write before doing it:
//! a second delivery finds it done (or running under a live lease) and does nothing. A failure
//! is counted; after the allowed number of attempts the effect is parked (listed under `gsi1`
//! partition `PARKED`) for an operator, who can replay it.

use keiryoku_domain::application::{ApplicationId, Effect};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::item::{Item, get_item, get_json, get_n, get_s, key, n, query_all, s};

/// What an effect is about, enough to run it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectSpec {
    pub application_id: ApplicationId,
    /// The application version whose change caused it.
    pub version: i64,
    pub effect: Effect,
}

impl EffectSpec {
    pub fn key(&self) -> String {
        format!(
            "{}#{}#{}",
            self.application_id,
            self.version,
            self.effect.as_str()
        )
    }
}

/// The outcome of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Do it now (this is attempt number `attempt`).
    Run { attempt: i64 },
    /// It was done: do nothing.
    Done,
    /// Another worker holds it under a live lease: try later.
    Busy,
    /// Given up after too many attempts: an operator replays it.
    Parked,
}

/// A parked effect, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedEffect {
    pub spec: EffectSpec,
    pub attempts: i64,
    pub last_error: String,
    pub parked_at: String,
}

#[derive(Clone)]
pub struct Effects {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn effect_key(spec: &EffectSpec) -> Item {
    key(format!("EFFECT#{}", spec.key()), "EFFECT")
}

impl Effects {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Effects {
        Effects {
            client,
            table: table.into(),
        }
    }

    /// Claims an effect for `lease_seconds` from `now` (Unix seconds).
    pub async fn claim(
        &self,
        spec: &EffectSpec,
        now: i64,
        lease_seconds: i64,
    ) -> Result<Claim, StoreError> {
        let body = serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(effect_key(spec)))
            .update_expression(
                "SET #status = :running, lease_until = :lease, attempts = if_not_exists(attempts, :zero) + :one, spec = :spec, kind = :kind",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #status = :failed OR (#status = :running AND lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":lease", n(now + lease_seconds))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":spec", s(body))
            .expression_attribute_values(":kind", s("effect"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Claim::Run {
                attempt: get_n(&out.attributes.unwrap_or_default(), "attempts")?,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                let item = get_item(&self.client, &self.table, effect_key(spec))
                    .await?
                    .ok_or(StoreError::ConditionFailed)?;
                Ok(match get_s(&item, "status")? {
                    "done" => Claim::Done,
                    "parked" => Claim::Parked,
                    _ => Claim::Busy,
                })
            }
            Err(e) => Err(StoreError::sdk(e)),
        }
    }

    /// Marks an effect done: later deliveries skip it.
    pub async fn done(
        &self,
        spec: &EffectSpec,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(effect_key(spec)))
            .update_expression("SET #status = :done, done_at = :at, detail = :detail REMOVE lease_until, gsi1pk, gsi1sk")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("done"))
            .expression_attribute_values(":at", s(crate::now_rfc3339()))
            .expression_attribute_values(":detail", s(detail.to_string()))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }

    /// Records a failed attempt; parks the effect when `attempt` reached `max_attempts`.
    /// Returns whether it is parked.
    pub async fn failed(
        &self,
        spec: &EffectSpec,
        attempt: i64,
        max_attempts: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        let parked = attempt >= max_attempts;
        let now = crate::now_rfc3339();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(effect_key(spec)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":error", s(error.chars().take(1000).collect::<String>()))
            .expression_attribute_values(":at", s(&now));
        request = if parked {
            request
                .update_expression("SET #status = :parked, last_error = :error, failed_at = :at, gsi1pk = :parked_pk, gsi1sk = :parked_sk REMOVE lease_until")
                .expression_attribute_values(":parked", s("parked"))
                .expression_attribute_values(":parked_pk", s("PARKED"))
                .expression_attribute_values(":parked_sk", s(format!("{now}#{}", spec.key())))
        } else {
            request
                .update_expression("SET #status = :failed, last_error = :error, failed_at = :at REMOVE lease_until")
                .expression_attribute_values(":failed", s("failed"))
        };
        request.send().await.map_err(StoreError::sdk)?;
        Ok(parked)
    }

    /// Every parked effect, oldest first.
    pub async fn parked(&self) -> Result<Vec<ParkedEffect>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :parked")
            .expression_attribute_values(":parked", s("PARKED"));
        query_all(query)
            .await?
            .iter()
            .map(|item| {
                Ok(ParkedEffect {
                    spec: get_json(item, "spec")?,
                    attempts: get_n(item, "attempts")?,
                    last_error: get_s(item, "last_error")?.to_string(),
                    parked_at: get_s(item, "failed_at")?.to_string(),
                })
            })
            .collect()
    }

    /// Makes a parked effect claimable again with a fresh count (an operator's replay).
    pub async fn unpark(&self, spec: &EffectSpec) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(effect_key(spec)))
            .update_expression("SET #status = :failed, attempts = :zero REMOVE gsi1pk, gsi1sk")
            .condition_expression("#status = :parked")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":parked", s("parked"))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(|e| crate::error::conditional(e, StoreError::NotFound))?;
        Ok(())
    }
}
