#![forbid(unsafe_code)]

use std::sync::Arc;

use keiryoku_auth::{ClientSecret, OidcClient, OidcConfig};
use keiryoku_fn_auth::{AuthState, app};
use keiryoku_http::{ConfigError, Site, env_var};
use keiryoku_store::{AwsClients, LoginStates, Sessions, StaffDirectory};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let site = Site::from_env()?;
    let table = env_var("TABLE_NAME")?;
    let secret =
        ClientSecret::from_parameter(aws.sdk_config(), env_var("OIDC_CLIENT_SECRET_PARAMETER")?);
    let oidc = OidcClient::new(
        OidcConfig {
            issuer: env_var("OIDC_ISSUER")?,
            client_id: env_var("OIDC_CLIENT_ID")?,
            redirect_uri: site.url("/auth/callback"),
            scopes: "openid profile user email".into(),
        },
        secret,
    );
    let staff_secret = ClientSecret::from_parameter(
        aws.sdk_config(),
        env_var("STAFF_OIDC_CLIENT_SECRET_PARAMETER")?,
    );
    let staff_oidc = OidcClient::new(
        OidcConfig {
            issuer: env_var("STAFF_OIDC_ISSUER")?,
            client_id: env_var("STAFF_OIDC_CLIENT_ID")?,
            redirect_uri: site.url("/staff/callback"),
            scopes: "openid profile user email".into(),
        },
        staff_secret,
    );
    let session_ttl_seconds = env_var("SESSION_TTL_SECONDS")?
        .parse()
        .map_err(|e| ConfigError(format!("SESSION_TTL_SECONDS: {e}")))?;
    let state = AuthState {
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        logins: LoginStates::new(aws.dynamodb.clone(), &table),
        oidc: Arc::new(oidc),
        staff_oidc: Arc::new(staff_oidc),
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        staff_home_path: std::env::var("STAFF_HOME_PATH")
            .unwrap_or_else(|_| "/review/queue".into()),
        session_ttl_seconds,
        home_path: std::env::var("APP_HOME_PATH").unwrap_or_else(|_| "/me".into()),
        site,
    };
    keiryoku_http::run(app(state)).await
}
