#![forbid(unsafe_code)]

use keiryoku_fn_effects::{Effector, StreamEvent, handle};
use keiryoku_http::env_var;
use keiryoku_lifecycle::reference_tables::TablesSource;
use keiryoku_mail::Mailer;
use keiryoku_store::{Applications, AwsClients, Certificates, Documents, Effects, StaffDirectory};
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_http::tracing::init_default_subscriber();
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let effector = Effector {
        applications: Applications::new(aws.dynamodb.clone(), &table),
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        certificates: Certificates::new(aws.dynamodb.clone(), &table),
        effects: Effects::new(aws.dynamodb.clone(), &table),
        documents: Documents::new(aws.s3(), env_var("DOCUMENTS_BUCKET")?),
        mailer: Mailer::new(
            aws.sdk_config(),
            env_var("MAIL_FROM")?,
            std::env::var("MAIL_CONFIGURATION_SET").ok(),
        ),
        public_base_url: env_var("PUBLIC_BASE_URL")?,
        max_attempts: 5,
        archive: Some(keiryoku_store::AuditArchive::new(
            aws.s3(),
            env_var("AUDIT_ARCHIVE_BUCKET")?,
        )),
        tables: TablesSource::from_env(&aws),
    };
    let effector = &effector;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<StreamEvent>| async move {
            Ok::<_, lambda_runtime::Error>(handle(effector, event.payload).await)
        },
    ))
    .await
}
