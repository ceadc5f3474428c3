#![forbid(unsafe_code)]

use keiryoku_fn_reference::app;
use keiryoku_http::Site;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    keiryoku_http::run(app(Site::from_env()?)).await
}
