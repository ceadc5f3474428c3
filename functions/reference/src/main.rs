#![forbid(unsafe_code)]

use keiryoku_fn_reference::app;
use keiryoku_http::Site;
use keiryoku_store::AwsClients;

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // AWS only to read the published reference tables (template.yaml: REFERENCE_DATA_BUCKET).
    let aws = AwsClients::from_env().await;
    keiryoku_http::run_with_tables(app(Site::from_env()?), &aws).await
}
