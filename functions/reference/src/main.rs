#![forbid(unsafe_code)]

use keiryoku_fn_reference::app;
use keiryoku_http::Site;
use keiryoku_store::AwsClients;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // AWS only to read the published reference tables (template.yaml: REFERENCE_DATA_BUCKET).
    let aws = AwsClients::from_env().await;
    keiryoku_http::run_with_tables(app(Site::from_env()?), &aws).await
}
