#![forbid(unsafe_code)]

use std::sync::Arc;

use keiryoku_auth::{ClientSecret, OidcClient, OidcConfig};
use keiryoku_fn_auth::{AuthState, app};
use keiryoku_http::{ConfigError, Site, env_var};
use keiryoku_store::{AwsClients, LoginStates, Sessions, StaffDirectory};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let site = Site::from_env()?;
    let table = env_var("TABLE_NAME")?;
    let oidc = oidc_client(&aws, &site, "OIDC", "/auth/callback")?;
    let staff_oidc = oidc_client(&aws, &site, "STAFF_OIDC", "/staff/callback")?;
    let session_ttl_seconds = env_var("SESSION_TTL_SECONDS")?
        .parse()
        .map_err(|e| ConfigError(format!("SESSION_TTL_SECONDS: {e}")))?;
    let state = AuthState {
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        logins: LoginStates::new(aws.dynamodb.clone(), &table),
        oidc: Arc::new(oidc),
        staff_oidc: Arc::new(staff_oidc),
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        staff_home_path: std::env::var("STAFF_HOME_PATH").unwrap_or_else(|_| "/staff".into()),
        session_ttl_seconds,
        idle_seconds: seconds("SESSION_IDLE_SECONDS", 1800)?,
        staff_idle_seconds: seconds("STAFF_SESSION_IDLE_SECONDS", 900)?,
        home_path: std::env::var("APP_HOME_PATH").unwrap_or_else(|_| "/me".into()),
        site,
    };
    keiryoku_http::run(app(state)).await
}

/// A number of seconds from the environment, `default` when unset.
fn seconds(name: &str, default: i64) -> Result<i64, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value
            .parse()
            .map_err(|e| ConfigError(format!("{name}: {e}"))),
        _ => Ok(default),
    }
}

/// The OIDC client configured by `<PREFIX>_ISSUER`, `<PREFIX>_CLIENT_ID` and
/// `<PREFIX>_CLIENT_SECRET_PARAMETER`, called back at `callback`.
fn oidc_client(
    aws: &AwsClients,
    site: &Site,
    prefix: &str,
    callback: &str,
) -> Result<OidcClient, ConfigError> {
    let secret = ClientSecret::from_parameter(
        aws.sdk_config(),
        env_var(&format!("{prefix}_CLIENT_SECRET_PARAMETER"))?,
    );
    let issuer = env_var(&format!("{prefix}_ISSUER"))?;
    keiryoku_auth::require_tls(&issuer).map_err(|e| ConfigError(format!("{prefix}_ISSUER {e}")))?;
    Ok(OidcClient::new(
        OidcConfig {
            issuer,
            client_id: env_var(&format!("{prefix}_CLIENT_ID"))?,
            redirect_uri: site.url(callback),
            scopes: "openid profile user email".into(),
        },
        secret,
    ))
}
