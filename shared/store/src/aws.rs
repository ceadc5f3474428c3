use std::sync::Arc;

use aws_config::BehaviorVersion;

use crate::StoreError;

/// What the Lambda runtime puts in a function's environment for the SDK: the region and the
/// execution role's credentials (`AWS_SESSION_TOKEN` with them), and locally `AWS_ENDPOINT_URL`.
///
/// Why not `aws_config::load_defaults`: at start-up it reads profile files and builds the whole
/// credential and region chains and their clients; a function needs none of it, its credentials
/// are in the environment for the life of the process. (Measured here: 0.3–0.5 ms of each cold
/// start; the larger part was the trust store, see [`https_client`].)
#[derive(Clone, PartialEq, Eq)]
pub struct LambdaEnvironment {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Never prints the secret key or the session token (a log line of this would leak them).
impl std::fmt::Debug for LambdaEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaEnvironment")
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

impl LambdaEnvironment {
    /// `None` unless the region and both keys are set (not in Lambda: use the default chain).
    pub fn from_env() -> Option<LambdaEnvironment> {
        LambdaEnvironment::from_vars(|name| std::env::var(name).ok())
    }

    /// From a lookup of environment variables (empty values count as unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<LambdaEnvironment> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        Some(LambdaEnvironment {
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"))?,
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
        })
    }

    /// The SDK configuration: static credentials, and one HTTPS client (rustls with aws-lc, as
    /// the SDK's default) shared by every service client of the process, so its TLS set-up and
    /// connection pool are made once. Retries, timeouts, sleep, clock and the identity cache are
    /// the clients' defaults for the behaviour version, as with `load_defaults`.
    pub fn sdk_config(self) -> aws_config::SdkConfig {
        use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
        let credentials = Credentials::new(
            self.access_key_id,
            self.secret_access_key,
            self.session_token,
            None,
            "lambda-environment",
        );
        let mut builder = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new(self.region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(https_client());
        if let Some(endpoint) = self.endpoint_url {
            builder = builder.endpoint_url(endpoint);
        }
        builder.build()
    }
}

/// The HTTPS client of the SDK: rustls with aws-lc (the SDK's default provider), trusting the
/// Mozilla root set compiled into the binary (webpki-root-certs, the set browsers trust).
///
/// Why not the SDK's default trust store: it reads the system's bundle *and* every file of its
/// certificate directory when a client is made, before the first answer. On Debian that is
/// about 300 files, and most of a function's start-up after the explicit configuration
/// (measured with `make perf`, see README). The compiled-in set is parsed without any I/O and
/// is the same on every image.
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{
        Provider, TlsContext, TrustStore, rustls_provider::CryptoMode,
    };
    let builder =
        aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(mozilla_roots_pem());
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        Err(error) => {
            tracing::warn!(%error, "compiled-in trust roots refused; using the system's");
            builder.build_https()
        }
    }
}

/// The compiled-in roots as one PEM bundle (the form the SDK's trust store takes).
fn mozilla_roots_pem() -> Vec<u8> {
    use base64::Engine;
    let mut pem = Vec::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2_000);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let body = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

/// The SDK configuration and the clients built from it, made once per process.
///
/// In Lambda the configuration is built from the environment the runtime sets (region, the
/// function's credentials, and `AWS_ENDPOINT_URL`, which points at moto locally), so the same code
/// talks to AWS in Lambda and to moto locally. Elsewhere (operators' commands, tests) the SDK's
/// default chain (profiles, SSO…) is used.
#[derive(Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    config: Arc<aws_config::SdkConfig>,
    /// The process's one S3 client, made when first asked for (making a client parses the SDK's
    /// endpoint rules; a function asked three times made three).
    s3: Arc<std::sync::OnceLock<aws_sdk_s3::Client>>,
}

impl AwsClients {
    /// The clients of a function ([`LambdaEnvironment`]) or, without one, of the default chain.
    /// Cheap: nothing is connected or loaded until the first call.
    pub async fn from_env() -> AwsClients {
        let config = match LambdaEnvironment::from_env() {
            Some(lambda) => lambda.sdk_config(),
            None => aws_config::load_defaults(BehaviorVersion::latest()).await,
        };
        AwsClients::with_config(config)
    }

    /// The clients of an SDK configuration built by the caller.
    pub fn with_config(config: aws_config::SdkConfig) -> AwsClients {
        AwsClients {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            config: Arc::new(config),
            s3: Arc::default(),
        }
    }

    /// The shared SDK configuration, for clients of other services.
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.config
    }

    /// An S3 client. Path-style addressing when a custom endpoint is set (moto serves buckets
    /// under its own host, not as sub-domains).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        self.s3
            .get_or_init(|| {
                let mut builder = aws_sdk_s3::config::Builder::from(self.config.as_ref());
                if self.config.endpoint_url().is_some() {
                    builder = builder.force_path_style(true);
                }
                aws_sdk_s3::Client::from_conf(builder.build())
            })
            .clone()
    }
}

/// Reachability checks of the table and the bucket, for `GET /health`.
#[derive(Clone)]
pub struct Health {
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    table: String,
    bucket: String,
}

impl Health {
    pub fn new(clients: &AwsClients, table: String, bucket: String) -> Health {
        Health {
            dynamodb: clients.dynamodb.clone(),
            s3: clients.s3(),
            table,
            bucket,
        }
    }

    /// Whether the table answers `DescribeTable`.
    pub async fn table_reachable(&self) -> Result<(), StoreError> {
        self.dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::sdk)
    }

    /// Whether the bucket answers `HeadBucket`.
    pub async fn bucket_reachable(&self) -> Result<(), StoreError> {
        self.s3
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::sdk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_function_configures_the_sdk_from_the_runtime_environment() {
        let lambda = LambdaEnvironment::from_vars(vars(&[
            ("AWS_REGION", "ap-northeast-1"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ]))
        .expect("complete environment");
        let config = lambda.sdk_config();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-northeast-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5000"));
        assert!(config.credentials_provider().is_some());
        assert!(config.http_client().is_some());
    }

    #[test]
    fn the_compiled_in_roots_make_a_trust_store() {
        use aws_smithy_http_client::tls::{TlsContext, TrustStore};
        let pem = mozilla_roots_pem();
        assert_eq!(
            pem.windows(27)
                .filter(|w| w == b"-----BEGIN CERTIFICATE-----")
                .count(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
        let trust = TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(pem);
        assert!(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn without_credentials_in_the_environment_the_default_chain_is_used() {
        assert_eq!(
            LambdaEnvironment::from_vars(vars(&[("AWS_REGION", "ap-northeast-1")])),
            None
        );
        assert_eq!(
            LambdaEnvironment::from_vars(vars(&[
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "secret"),
                ("AWS_REGION", ""),
            ])),
            None
        );
        let fallback = LambdaEnvironment::from_vars(vars(&[
            ("AWS_DEFAULT_REGION", "ap-northeast-3"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]))
        .expect("region from AWS_DEFAULT_REGION");
        assert_eq!(fallback.region, "ap-northeast-3");
        assert_eq!(fallback.session_token, None);
        assert!(!format!("{fallback:?}").contains("secret\""));
    }
}
