//! The daily digests to reviewers (期限が近い案件のお知らせ): one per authority and day, claimed
//! with a conditional write before it is sent, so a schedule that fires twice (EventBridge
//! delivers at least once) mails once. A claim whose sending did not finish may be taken over
//! after its lease.

use keiryoku_domain::application::OfficeId;
use time::Date;

use crate::StoreError;
use crate::item::{key, n, s};

/// How long the records are kept (DynamoDB TTL): 90 days.
const KEEP_SECONDS: i64 = 90 * 86_400;

#[derive(Clone)]
pub struct Digests {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn digest_key(day: Date, office: &OfficeId) -> crate::item::Item {
    key(format!("DIGEST#{day}"), &format!("OFFICE#{office}"))
}

impl Digests {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Digests {
        Digests {
            client,
            table: table.into(),
        }
    }

    /// Claims the digest of `office` for `day` for `lease` seconds: `true` when this run is to
    /// send it, `false` when it was sent or another run is sending it.
    pub async fn claim(
        &self,
        day: Date,
        office: &OfficeId,
        now: i64,
        lease: i64,
    ) -> Result<bool, StoreError> {
        let mut item = digest_key(day, office);
        item.extend([
            ("kind".to_string(), s("digest")),
            ("state".to_string(), s("sending")),
            ("until".to_string(), n(now + lease)),
            ("ttl".to_string(), n(now + KEEP_SECONDS)),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :sending AND #until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) => match crate::error::conditional(e, StoreError::ConditionFailed) {
                StoreError::ConditionFailed => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Gives up a claim whose sending failed, so the schedule's retry sends the digest.
    pub async fn release(&self, day: Date, office: &OfficeId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(digest_key(day, office)))
            .condition_expression("#state = :sending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sending", s("sending"))
            .send()
            .await
            .map_err(|e| crate::error::conditional(e, StoreError::ConditionFailed))?;
        Ok(())
    }

    /// Marks the digest sent (with the mail's id).
    pub async fn sent(
        &self,
        day: Date,
        office: &OfficeId,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(digest_key(day, office)))
            .update_expression("SET #state = :sent, message_id = :id")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", s("sent"))
            .expression_attribute_values(":id", s(message_id))
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }
}
