//! The restore of docs/runbook.md, rehearsed: the table restored to a point in time into a new
//! table, the platform's own store code and operator command reading an application and its
//! intact audit trail back from the copy, and the platform brought up on the copy answering its
//! owner; a certificate overwritten in the versioned bucket and its recorded version copied back
//! on top, after which it verifies again.

use std::time::Duration;

use keiryoku_e2e::{Sent, certified, json, logged_in, unique_key};
use keiryoku_store::Applications;

/// `local-stack serve-copy`: the platform on a restored table, beside the running stack, until
/// dropped.
struct CopyOfThePlatform {
    child: std::process::Child,
    url: String,
}

impl CopyOfThePlatform {
    async fn start(table: &str) -> CopyOfThePlatform {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("a free port: {e}"));
        let child =
            std::process::Command::new(keiryoku_e2e::admin_binary().with_file_name("local-stack"))
                .args(["serve-copy", "--table", table])
                .env("API_PORT", port.to_string())
                .env("LOCAL_FUNCTION_INSTANCES", "1")
                .env(
                    "KEIRYOKU_ROOT",
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("local-stack serve-copy: {e}"));
        let copy = CopyOfThePlatform {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..600 {
            let health = reqwest::get(format!("{}/health", copy.url)).await;
            if health.is_ok_and(|r| r.status() == 200) {
                return copy;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the platform on the restored copy did not come up within a minute")
    }
}

impl Drop for CopyOfThePlatform {
    fn drop(&mut self) {
        // SIGTERM, so that it stops its function processes too.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_point_in_time_restore_and_a_document_version_restore_read_back() {
    let owner = logged_in("applicant-tokyo").await;
    let plan = certified(&owner).await;
    let id = plan["id"].as_str().unwrap_or_default().to_string();

    // The table, restored into a new one (the live table is untouched).
    let dynamodb = keiryoku_e2e::dynamodb().await;
    let table = keiryoku_e2e::table_name();
    let restored = format!("{table}-restored-{}", &unique_key("r")[..12]);
    dynamodb
        .restore_table_to_point_in_time()
        .source_table_name(&table)
        .target_table_name(&restored)
        .use_latest_restorable_time(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("restore: {e:?}"));
    let copy = Applications::new(dynamodb.clone(), &restored);
    let Some(application_id) = keiryoku_domain::application::ApplicationId::parse(&id) else {
        panic!("id {id}")
    };
    let read = copy
        .get(&application_id)
        .await
        .unwrap_or_else(|e| panic!("read back: {e}"));
    assert_eq!(read.status.as_str(), "certified");
    assert_eq!(read.version, plan["version"].as_i64().unwrap_or_default());
    let output = std::process::Command::new(keiryoku_e2e::admin_binary())
        .args(["audit", "verify", "--id", &id])
        .env("TABLE_NAME", &restored)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("intact"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The platform brought up on the copy (its functions and gateway, with their own policies
    // on the restored table) answers the owner, whose session was restored with the rest.
    let copy = CopyOfThePlatform::start(&restored).await;
    let answer = owner
        .http
        .get(format!("{}/applications/{id}", copy.url))
        .sent()
        .await;
    assert_eq!(answer.status(), 200);
    let answer = json(answer).await;
    assert_eq!(answer["status"], "certified", "{answer}");
    assert_eq!(answer["version"], plan["version"]);
    assert_eq!(
        answer["certification"]["number"],
        plan["certification"]["number"]
    );
    drop(copy);
    let _ = dynamodb.delete_table().table_name(&restored).send().await;

    // A certificate overwritten by mistake, and its recorded version put back on top.
    for _ in 0..300 {
        let page = owner
            .get(&format!("/applications/{id}/certificate"))
            .sent()
            .await;
        if page.status() != 409 {
            assert_eq!(page.status(), 200);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bucket = std::env::var("KEIRYOKU_BUCKET").unwrap_or_default();
    let s3 = keiryoku_e2e::s3().await;
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(format!("certificates/{id}/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let key = listed
        .contents()
        .first()
        .and_then(|o| o.key())
        .unwrap_or_else(|| panic!("no certificate stored"))
        .to_string();
    let verify_url = format!(
        "/verify/{}",
        key.rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".pdf")
    );
    let anyone = keiryoku_e2e::Browser::new();
    let before = json(anyone.get(&verify_url).sent().await).await;
    let versions = s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let original = versions
        .versions()
        .iter()
        .find(|v| v.is_latest() == Some(true))
        .and_then(|v| v.version_id())
        .unwrap_or_default()
        .to_string();
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(b"not a certificate".to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    s3.copy_object()
        .bucket(&bucket)
        .key(&key)
        .copy_source(format!("{bucket}/{key}?versionId={original}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let restored_bytes = s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .body
        .collect()
        .await
        .map(|b| b.into_bytes().to_vec())
        .unwrap_or_default();
    assert!(restored_bytes.starts_with(b"%PDF"));
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&restored_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        before["sha256"],
        sha.as_str(),
        "the certificate verifies again"
    );
}
