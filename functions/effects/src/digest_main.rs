#![forbid(unsafe_code)]

//! The digest function: invoked by the EventBridge schedule of template.yaml each business
//! morning (and by the local stack's scheduler), sends the reviewers' daily digests.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use keiryoku_fn_effects::digest::Digester;
use keiryoku_http::env_var;
use keiryoku_mail::Mailer;
use keiryoku_store::{AwsClients, Cases, Digests, StaffDirectory};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let digester = Digester {
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        cases: Cases::new(aws.dynamodb.clone(), &table),
        digests: Digests::new(aws.dynamodb.clone(), &table),
        mailer: Mailer::new(
            aws.sdk_config(),
            env_var("MAIL_FROM")?,
            std::env::var("MAIL_CONFIGURATION_SET").ok(),
        ),
        public_base_url: env_var("PUBLIC_BASE_URL")?,
    };
    let digester = &digester;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            let at = event
                .payload
                .time
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t.timestamp()).ok())
                .unwrap_or_else(time::OffsetDateTime::now_utc);
            let today = keiryoku_domain::dates::japan_date(at);
            match digester.run(today, at.unix_timestamp()).await {
                Ok(sent) => {
                    tracing::info!(%today, %sent, "digests sent");
                    Ok(sent)
                }
                // A failure is retried by EventBridge; the claims keep what was sent sent once.
                Err(error) => {
                    tracing::error!(%today, %error, "digest failed");
                    Err(lambda_runtime::Error::from(error))
                }
            }
        },
    ))
    .await
}
