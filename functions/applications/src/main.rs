#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use keiryoku_auth::ClientSecret;
use keiryoku_fn_applications::{ApplicationsState, Prefiller, app};
use keiryoku_gbizinfo::GbizInfoClient;
use keiryoku_http::{ConfigError, Site, env_var};
use keiryoku_store::{Applications, AwsClients, Cache, Sessions};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let state = ApplicationsState {
        site: Site::from_env()?,
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        applications: Applications::new(aws.dynamodb.clone(), &table),
        prefiller: Prefiller {
            gbizinfo: gbizinfo_client(&aws)?,
            cache: Cache::new(aws.dynamodb.clone(), &table, "gbizinfo"),
        },
    };
    keiryoku_http::run(app(state)).await
}

/// The gBizINFO client, or `None` when `GBIZINFO_BASE_URL` is empty (prefill then uses GビズID
/// only). The token is read from SSM at the first lookup.
fn gbizinfo_client(aws: &AwsClients) -> Result<Option<Arc<GbizInfoClient>>, ConfigError> {
    let base_url = std::env::var("GBIZINFO_BASE_URL").unwrap_or_default();
    if base_url.trim().is_empty() {
        return Ok(None);
    }
    let timeout_ms: u64 = std::env::var("GBIZINFO_TIMEOUT_MS")
        .ok()
        .map(|v| v.parse())
        .transpose()
        .map_err(|e| ConfigError(format!("GBIZINFO_TIMEOUT_MS: {e}")))?
        .unwrap_or(2000);
    let token =
        ClientSecret::from_parameter(aws.sdk_config(), env_var("GBIZINFO_TOKEN_PARAMETER")?);
    Ok(Some(Arc::new(GbizInfoClient::new(
        base_url,
        token,
        Duration::from_millis(timeout_ms),
    ))))
}
