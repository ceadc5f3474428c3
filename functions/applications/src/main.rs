#![forbid(unsafe_code)]

use keiryoku_fn_applications::{ApplicationsState, Prefiller, app};
use keiryoku_http::{ConfigError, Site, env_var};
use keiryoku_store::{Applications, AwsClients, Sessions};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    keiryoku_http::notices::install(
        keiryoku_store::Notices::new(aws.dynamodb.clone(), &table),
        keiryoku_store::NoticeAudience::Applicants,
        &[],
    );
    let state = ApplicationsState {
        site: Site::from_env()?,
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        applications: Applications::new(aws.dynamodb.clone(), &table),
        prefiller: Prefiller::from_env(&aws, &table).map_err(ConfigError)?,
    };
    keiryoku_http::run_with_tables(app(state), &aws).await
}
