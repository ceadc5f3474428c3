#![forbid(unsafe_code)]

use keiryoku_fn_platform::{PlatformState, app};
use keiryoku_http::{Site, env_var};
use keiryoku_store::{AwsClients, Health};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let state = PlatformState::new(
        Site::from_env()?,
        Health::new(&aws, env_var("TABLE_NAME")?, env_var("DOCUMENTS_BUCKET")?),
    );
    keiryoku_http::run(app(state)).await
}
