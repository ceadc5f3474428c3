#![forbid(unsafe_code)]

//! The audit archive function: invoked by the table's stream (new audit records only, by the
//! event source's filter in template.yaml).

use keiryoku_fn_effects::archive::archive;
use keiryoku_http::env_var;
use keiryoku_store::{AuditArchive, AwsClients};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = AwsClients::from_env().await;
    let store = AuditArchive::new(aws.s3(), env_var("AUDIT_ARCHIVE_BUCKET")?);
    let store = &store;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::dynamodb::Event>| async move {
            match archive(store, event.payload).await {
                Ok(written) => {
                    tracing::info!(written, "audit records archived");
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit records not archived; the batch is retried");
                    Err(lambda_runtime::Error::from(e))
                }
            }
        },
    ))
    .await
}
