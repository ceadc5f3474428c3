#![forbid(unsafe_code)]

use keiryoku_fn_export::worker::Worker;
use keiryoku_http::env_var;
use keiryoku_store::{AwsClients, Documents, Extracts, Register};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let worker = Worker {
        register: Register::new(aws.dynamodb.clone(), &table),
        extracts: Extracts::new(aws.dynamodb.clone(), &table),
        documents: Documents::new(aws.s3(), env_var("DOCUMENTS_BUCKET")?),
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::dynamodb::Event>| async move {
            worker.handle(event.payload).await;
            Ok::<_, lambda_runtime::Error>(())
        },
    ))
    .await
}
