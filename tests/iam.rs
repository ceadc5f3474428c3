//! Least privilege, proven here rather than in production: the local stack gives every function
//! its own key, and its AWS emulator refuses any call that function's template.yaml policy does
//! not allow (infra/moto/iam.py). Calls signed as a function show the policy's edges; a copy of
//! the template with one permission removed makes a certificate download fail, exactly as AWS
//! would, and the template as it is makes it work again.
//!
//! Its own test binary: it changes the policies the running stack enforces, so no other test may
//! run beside it.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use keiryoku_e2e::{Browser, Sent, logged_in, unique_key};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn config_as(function: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            format!("LOCAL{}", function.to_ascii_uppercase()),
            "testing",
            None,
            None,
            "e2e",
        ))
        .load()
        .await
}

async fn dynamodb_as(function: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config_as(function).await)
}

async fn s3_as(function: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config_as(function).await)
            .force_path_style(true)
            .build(),
    )
}

fn denied<T, E: std::fmt::Debug>(result: &Result<T, E>) -> bool {
    match result {
        Ok(_) => false,
        Err(e) => format!("{e:?}").contains("AccessDenied"),
    }
}

fn key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [
        ("pk".to_string(), AttributeValue::S(pk.to_string())),
        ("sk".to_string(), AttributeValue::S("x".to_string())),
    ]
    .into_iter()
    .collect()
}

#[tokio::test]
async fn a_function_may_do_what_its_policy_allows_and_nothing_else() {
    let table = keiryoku_e2e::table_name();
    // The web pages read sessions and applications, never the staff directory.
    let web = dynamodb_as("WebFunction").await;
    let session = web
        .get_item()
        .table_name(&table)
        .set_key(Some(key("SESSION#nobody")))
        .send()
        .await;
    assert!(session.is_ok(), "{session:?}");
    let staff = web
        .get_item()
        .table_name(&table)
        .set_key(Some(key("STAFF#900001")))
        .send()
        .await;
    assert!(denied(&staff), "dynamodb:LeadingKeys is enforced");
    // Nobody may rewrite the audit trail, not even the functions that append to it.
    let applications = dynamodb_as("ApplicationsFunction").await;
    let rewrite = applications
        .delete_item()
        .table_name(&table)
        .set_key(Some(key(&format!("AUDIT#{}", unique_key("audit")))))
        .send()
        .await;
    assert!(denied(&rewrite), "explicit Deny on AUDIT#");
    // A transaction is checked item by item: one item outside the policy refuses all.
    let put = |pk: &str| {
        aws_sdk_dynamodb::types::TransactWriteItem::builder()
            .put(
                aws_sdk_dynamodb::types::Put::builder()
                    .table_name(&table)
                    .set_item(Some(key(pk)))
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .build()
    };
    let mixed = applications
        .transact_write_items()
        .transact_items(put(&format!("IDEM#{}", unique_key("idem"))))
        .transact_items(put("STAFF#900001"))
        .send()
        .await;
    assert!(denied(&mixed), "{mixed:?}");
    // The documents function reads certificates and application PDFs, not reviewers' extracts.
    let bucket = std::env::var("KEIRYOKU_BUCKET").unwrap_or_default();
    let documents = s3_as("DocumentsFunction").await;
    let extract = documents
        .get_object()
        .bucket(&bucket)
        .key("exports/someone.csv")
        .send()
        .await;
    assert!(denied(&extract), "{extract:?}");
    // Without ListBucket a missing key is AccessDenied (the effects function needs it).
    let review = s3_as("ReviewFunction").await;
    let missing = review
        .get_object()
        .bucket(&bucket)
        .key(format!("exports/{}.csv", unique_key("missing")))
        .send()
        .await;
    assert!(denied(&missing), "{missing:?}");
    let listed = documents
        .head_object()
        .bucket(&bucket)
        .key(format!("applications/{}.pdf", unique_key("missing")))
        .send()
        .await;
    assert!(
        listed
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_not_found()),
        "with ListBucket a missing key is 404: {listed:?}"
    );
    // The effects function writes new audit records to the write-once copy and nothing else
    // there: it may not shorten a record's retention (an action of its own, not a PutObject),
    // nor copy in a file it may not read.
    let archive_bucket = std::env::var("KEIRYOKU_AUDIT_ARCHIVE_BUCKET").unwrap_or_default();
    let archive = s3_as("EffectsFunction").await;
    let own = format!("audit/{}/V000000000001.json", unique_key("iam"));
    let written = archive
        .put_object()
        .bucket(&archive_bucket)
        .key(&own)
        .body(b"{}".to_vec().into())
        .send()
        .await;
    assert!(written.is_ok(), "{written:?}");
    let retention = archive
        .put_object_retention()
        .bucket(&archive_bucket)
        .key(&own)
        .retention(
            aws_sdk_s3::types::ObjectLockRetention::builder()
                .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Governance)
                .retain_until_date(aws_sdk_s3::primitives::DateTime::from_secs(2_000_000_000))
                .build(),
        )
        .send()
        .await;
    assert!(denied(&retention), "{retention:?}");
    let copied = archive
        .copy_object()
        .bucket(&archive_bucket)
        .key(format!("audit/{}/V000000000001.json", unique_key("iam")))
        .copy_source(format!("{bucket}/exports/someone.csv"))
        .send()
        .await;
    assert!(denied(&copied), "a copy reads its source: {copied:?}");
}

/// Writes the policies of `template` where the running stack's emulator enforces them.
fn enforce(template: &std::path::Path) {
    let output =
        std::process::Command::new(keiryoku_e2e::admin_binary().with_file_name("local-stack"))
            .args(["policies", "--template", &template.to_string_lossy()])
            .env("KEIRYOKU_ROOT", root())
            .output()
            .unwrap_or_else(|e| panic!("local-stack policies: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whatever happens, the template's own policies are in force again when the test ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        enforce(&root().join("template.yaml"));
    }
}

/// The certificate as its owner downloads it (the browser follows the presigned link to the
/// exact version): the final status, once the certificate is made.
async fn download(owner: &Browser, id: &str) -> u16 {
    // The effects function may still be working through an earlier suite's backlog (the
    // stream is in order): up to two minutes.
    for _ in 0..1200 {
        let answer = owner
            .get(&format!("/applications/{id}/certificate"))
            .sent()
            .await;
        if answer.status() != 409 {
            return answer.status().as_u16();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no certificate for {id} within two minutes")
}

#[tokio::test]
async fn without_get_object_version_the_certificate_download_fails_as_in_aws() {
    let _restore = Restore;
    // A certified plan, its certificate downloaded with the template's policies.
    let owner = logged_in("applicant-tokyo").await;
    let approved = keiryoku_e2e::certified(&owner).await;
    let id = approved["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(download(&owner, &id).await, 200);

    // A copy of the template without s3:GetObjectVersion for the documents function, as the
    // template was before: the versioned download link is refused, as AWS would refuse it.
    let template =
        std::fs::read_to_string(root().join("template.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let documents = template
        .find("  DocumentsFunction:")
        .unwrap_or_else(|| panic!("DocumentsFunction"));
    let (before, after) = template.split_at(documents);
    let reduced = format!(
        "{before}{}",
        after.replacen("                - s3:GetObjectVersion\n", "", 1)
    );
    assert_ne!(reduced, template, "the permission was there to remove");
    let copy = std::env::temp_dir().join(format!("{}.yaml", unique_key("template")));
    std::fs::write(&copy, reduced).unwrap_or_else(|e| panic!("{e}"));
    enforce(&copy);
    assert_eq!(download(&owner, &id).await, 403);

    // The template as it is: the download works again.
    enforce(&root().join("template.yaml"));
    assert_eq!(download(&owner, &id).await, 200);
}
