use axum::Router;

/// A missing or malformed setting. Fatal at start-up: Lambda reports it as an init error.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A required environment variable.
pub fn env_var(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError(format!("environment variable {name} is not set")))
}

/// Runs an axum router as a Lambda function behind API Gateway (HTTP API, payload v2). Logs are
/// JSON when Lambda's `LogFormat: JSON` is set (template.yaml), plain text locally.
pub async fn run(router: Router) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(router).await
}

/// Runs `router` as [`run`] does, keeping the reference tables in step with what the operator
/// published (`REFERENCE_DATA_BUCKET`, see `keiryoku_lifecycle::reference_tables`): looked at
/// once during start-up, then before a request at most once per interval.
///
/// The notices ([`crate::notices`]), which every answer of such a function waits for, are read
/// during start-up too, side by side with the tables: the two round trips (and in AWS their two
/// connections' TLS handshakes) overlap instead of following each other (`make perf`: the
/// applications function's start-up, see README, Performance).
pub async fn run_with_tables(
    router: Router,
    aws: &keiryoku_store::AwsClients,
) -> Result<(), lambda_http::Error> {
    use keiryoku_lifecycle::reference_tables::TablesSource;
    lambda_http::tracing::init_default_subscriber();
    let router = match TablesSource::from_env(aws) {
        Some(source) => {
            tokio::join!(source.refresh(), crate::notices::prefetch());
            router.layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    let source = source.clone();
                    async move {
                        source.refresh().await;
                        next.run(request).await
                    }
                },
            ))
        }
        None => router,
    };
    lambda_http::run(router).await
}
