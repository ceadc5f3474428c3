#![forbid(unsafe_code)]

//! The lake function: invoked by the EventBridge schedule of template.yaml (and by the local
//! stack's scheduler), copies the change feed's new events to the lake bucket.

use keiryoku_fn_export::lake::Lake;
use keiryoku_http::env_var;
use keiryoku_store::{AwsClients, Documents, Feed};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let lake = Lake {
        feed: Feed::new(aws.dynamodb.clone(), &table),
        bucket: Documents::new(aws.s3(), env_var("LAKE_BUCKET")?),
    };
    let lake = &lake;
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let run = lake.run().await.map_err(|e| {
                tracing::error!(error = %e, "lake copy failed");
                lambda_runtime::Error::from(e.to_string())
            })?;
            tracing::info!(
                events = run.events,
                objects = run.objects,
                position = run.position,
                "lake copy"
            );
            Ok::<_, lambda_runtime::Error>(())
        },
    ))
    .await
}
