//! Creates template.yaml's tables and buckets in moto, with the same SDK the functions use, plus
//! the SSM parameter that holds the dev client secret. Idempotent: existing resources are kept.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    VersioningConfiguration,
};
use keiryoku_template::KeyElement;

use crate::LocalError;
use crate::config::{CLIENT_SECRET, LocalConfig, REGION, STAFF_CLIENT_SECRET};

fn sdk_error<E: std::error::Error>(what: &str) -> impl FnOnce(E) -> LocalError + '_ {
    move |e| {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(inner) = source {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            source = inner.source();
        }
        LocalError::Setup(format!("{what}: {message}"))
    }
}

fn key_schema(elements: &[KeyElement]) -> Result<Vec<KeySchemaElement>, LocalError> {
    elements
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute)
                .key_type(if k.is_hash {
                    KeyType::Hash
                } else {
                    KeyType::Range
                })
                .build()
                .map_err(sdk_error("key schema"))
        })
        .collect()
}

pub async fn sdk_config(config: &LocalConfig) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(config.moto_url())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}

/// Creates every table and bucket of the template and the client-secret parameter.
pub async fn provision(config: &LocalConfig) -> Result<Vec<String>, LocalError> {
    let sdk = sdk_config(config).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let mut created = Vec::new();

    for table in &config.template.tables {
        let name = config
            .physical_name(&table.logical_id)
            .ok_or_else(|| LocalError::Setup(format!("cannot name table {}", table.logical_id)))?;
        let mut request = dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(&table.key_schema)?));
        for (attribute, kind) in &table.attributes {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::from(kind.as_str()))
                    .build()
                    .map_err(sdk_error("attribute definition"))?,
            );
        }
        for index in &table.indexes {
            let mut projection = Projection::builder()
                .projection_type(ProjectionType::from(index.projection.as_str()));
            for attribute in &index.non_key_attributes {
                projection = projection.non_key_attributes(attribute);
            }
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&index.name)
                    .set_key_schema(Some(key_schema(&index.key_schema)?))
                    .projection(projection.build())
                    .build()
                    .map_err(sdk_error("index"))?,
            );
        }
        if let Some(view) = &table.stream_view_type {
            request = request.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(view.as_str()))
                    .build()
                    .map_err(sdk_error("stream"))?,
            );
        }
        match request.send().await {
            Ok(_) => created.push(format!("DynamoDB table {name} ({})", table.logical_id)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                created.push(format!("DynamoDB table {name} (kept)"));
            }
            Err(e) => return Err(sdk_error("create table")(e)),
        }
        if let Some(attribute) = &table.ttl_attribute {
            dynamodb
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(true)
                        .build()
                        .map_err(sdk_error("ttl"))?,
                )
                .send()
                .await
                .map_err(sdk_error("update time to live"))?;
        }
    }

    for bucket in &config.template.buckets {
        let name = config.physical_name(&bucket.logical_id).ok_or_else(|| {
            LocalError::Setup(format!("cannot name bucket {}", bucket.logical_id))
        })?;
        let result = s3
            .create_bucket()
            .bucket(&name)
            .object_lock_enabled_for_bucket(bucket.object_lock.is_some())
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => created.push(format!("S3 bucket {name} ({})", bucket.logical_id)),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                created.push(format!("S3 bucket {name} (kept)"));
            }
            Err(e) => return Err(sdk_error("create bucket")(e)),
        }
        if bucket.versioned {
            s3.put_bucket_versioning()
                .bucket(&name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .map_err(sdk_error("bucket versioning"))?;
        }
        if let Some(lock) = &bucket.object_lock {
            use aws_sdk_s3::types::{
                DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled,
                ObjectLockRetentionMode, ObjectLockRule,
            };
            let retention = DefaultRetention::builder()
                .mode(ObjectLockRetentionMode::from(lock.mode.as_str()))
                .set_days(lock.days)
                .set_years(lock.years)
                .build();
            s3.put_object_lock_configuration()
                .bucket(&name)
                .object_lock_configuration(
                    ObjectLockConfiguration::builder()
                        .object_lock_enabled(ObjectLockEnabled::Enabled)
                        .rule(
                            ObjectLockRule::builder()
                                .default_retention(retention)
                                .build(),
                        )
                        .build(),
                )
                .send()
                .await
                .map_err(sdk_error("bucket object lock"))?;
        }
    }

    // The operator creates these SecureStrings before deploying (README); locally we do.
    for (name, secret) in [
        ("OidcClientSecretParameter", CLIENT_SECRET),
        ("StaffOidcClientSecretParameter", STAFF_CLIENT_SECRET),
        ("GbizInfoTokenParameter", crate::gbizinfo::TOKEN),
        ("FeedCursorKeyParameter", crate::config::FEED_CURSOR_KEY),
    ] {
        let Some(parameter) = config.parameter(name) else {
            continue;
        };
        ssm.put_parameter()
            .name(&parameter)
            .value(secret)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .map_err(sdk_error("put client secret parameter"))?;
        created.push(format!("SSM SecureString {parameter}"));
    }

    // SES identities (moto verifies them at once) and configuration sets.
    let ses = aws_sdk_sesv2::Client::new(&sdk);
    for identity in &config.template.email_identities {
        let name = identity
            .resolve(&|n| config.lookup(n))
            .map_err(|e| LocalError::Setup(format!("email identity: {e}")))?;
        ensure_email_identity(&ses, &name).await?;
        created.push(format!("SES identity {name}"));
    }
    for (id, kind) in &config.template.resources {
        if kind == "AWS::SES::ConfigurationSet"
            && let Some(name) = config.lookup(id)
        {
            // Not every moto version has configuration sets; sending does not depend on it.
            if ses
                .create_configuration_set()
                .configuration_set_name(&name)
                .send()
                .await
                .is_ok()
            {
                created.push(format!("SES configuration set {name}"));
            }
        }
    }

    // The staff directory, seeded from infra/staff-directory.json (the operator manages it in
    // AWS with `keiryoku-admin staff …`, which uses the same store code).
    let table = config
        .template
        .tables
        .first()
        .and_then(|t| config.physical_name(&t.logical_id))
        .ok_or_else(|| LocalError::Setup("template.yaml has no table".into()))?;
    let directory = keiryoku_store::StaffDirectory::new(dynamodb.clone(), &table);
    let seed = config.root.join("infra/staff-directory.json");
    let text = std::fs::read_to_string(&seed)
        .map_err(LocalError::io(format!("read {}", seed.display())))?;
    let members: Vec<keiryoku_store::StaffMember> = serde_json::from_str(&text)
        .map_err(|e| LocalError::Setup(format!("{}: {e}", seed.display())))?;
    for member in &members {
        directory
            .put(member, keiryoku_store::DirectoryActor::operator())
            .await
            .map_err(|e| LocalError::Setup(format!("seed staff {}: {e}", member.sub)))?;
    }
    created.push(format!("staff directory: {} entries", members.len()));

    // The agencies' machine clients, seeded from infra/agency-clients.json (the operator
    // registers them in AWS with `keiryoku-admin agency put`).
    let agencies = keiryoku_store::Agencies::new(dynamodb.clone(), &table);
    let clients = agency_clients(config)?;
    for client in &clients {
        agencies
            .put(client)
            .await
            .map_err(|e| LocalError::Setup(format!("seed agency {}: {e}", client.client_id)))?;
    }
    created.push(format!("agency clients: {} entries", clients.len()));
    Ok(created)
}

/// Creates an SES email identity unless it exists (tests delete and restore it to make SES fail).
pub async fn ensure_email_identity(
    ses: &aws_sdk_sesv2::Client,
    name: &str,
) -> Result<(), LocalError> {
    if ses
        .get_email_identity()
        .email_identity(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    ses.create_email_identity()
        .email_identity(name)
        .send()
        .await
        .map_err(sdk_error("create email identity"))?;
    Ok(())
}

/// The entries of `infra/agency-clients.json`: each an agency client's registration and, under
/// `local`, what the dev identity provider gives it.
fn agency_seed(config: &LocalConfig) -> Result<Vec<serde_json::Value>, LocalError> {
    let seed = config.root.join("infra/agency-clients.json");
    let text = std::fs::read_to_string(&seed)
        .map_err(LocalError::io(format!("read {}", seed.display())))?;
    serde_json::from_str(&text).map_err(|e| LocalError::Setup(format!("{}: {e}", seed.display())))
}

/// The seeded agency clients' registrations.
pub fn agency_clients(
    config: &LocalConfig,
) -> Result<Vec<keiryoku_domain::feed::AgencyClient>, LocalError> {
    agency_seed(config)?
        .into_iter()
        .map(|entry| {
            serde_json::from_value(entry)
                .map_err(|e| LocalError::Setup(format!("infra/agency-clients.json: {e}")))
        })
        .collect()
}

/// The dev identity provider's machine clients: one per seeded agency client, with the secret,
/// scopes and token lifetime of its `local` part.
pub fn agency_idp_clients(config: &LocalConfig) -> Result<Vec<serde_json::Value>, LocalError> {
    Ok(agency_seed(config)?
        .iter()
        .map(|entry| {
            let local = &entry["local"];
            let mut client = serde_json::json!({
                "client_id": entry["client_id"],
                "client_secret": local["secret"],
                "grant_types": ["client_credentials"],
                "scope": local["scope"],
            });
            if let Some(ttl) = local.get("access_token_ttl") {
                client["access_token_ttl"] = ttl.clone();
            }
            client
        })
        .collect())
}
