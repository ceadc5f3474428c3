#![forbid(unsafe_code)]

use std::sync::Arc;

use keiryoku_auth::ClientSecret;
use keiryoku_fn_export::{CursorKey, ExportState, app};
use keiryoku_http::{Site, env_var};
use keiryoku_store::{Agencies, AwsClients, Documents, Extracts, Feed, Register};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let state = ExportState {
        site: Site::from_env()?,
        feed: Feed::new(aws.dynamodb.clone(), &table),
        agencies: Agencies::new(aws.dynamodb.clone(), &table),
        register: Register::new(aws.dynamodb.clone(), &table),
        extracts: Extracts::new(aws.dynamodb.clone(), &table),
        documents: Documents::new(aws.s3(), env_var("DOCUMENTS_BUCKET")?),
        cursor_key: Arc::new(CursorKey::new(ClientSecret::from_parameter(
            aws.sdk_config(),
            env_var("FEED_CURSOR_KEY_PARAMETER")?,
        ))),
    };
    keiryoku_http::run(app(state)).await
}
