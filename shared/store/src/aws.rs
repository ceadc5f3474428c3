use std::sync::Arc;

use aws_config::BehaviorVersion;

use crate::StoreError;

/// The SDK configuration and the clients built from it, made once per process.
///
/// `aws_config` reads `AWS_ENDPOINT_URL`, the region and the credentials from the environment, so
/// the same code talks to AWS in Lambda and to moto locally.
#[derive(Clone)]
pub struct AwsClients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    config: Arc<aws_config::SdkConfig>,
}

impl AwsClients {
    /// Loads the configuration from the environment. Cheap: credentials are resolved lazily on the
    /// first call.
    pub async fn from_env() -> AwsClients {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        AwsClients {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            config: Arc::new(config),
        }
    }

    /// The shared SDK configuration, for clients of other services.
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.config
    }

    /// An S3 client. Path-style addressing when a custom endpoint is set (moto serves buckets
    /// under its own host, not as sub-domains).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(self.config.as_ref());
        if self.config.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(builder.build())
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
