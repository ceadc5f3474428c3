//! Corrections of the reference tables take effect without a new build: the operator publishes
//! a corrected document (`keiryoku-admin tables publish`), every function puts it in force
//! within the refresh interval (2 s locally), and every routing decision and validation report
//! records which tables it used, down to the object's version id. A document that does not check
//! out is refused by the command and, if put in the bucket anyway, by the functions, which use
//! the newest earlier version that does.
//!
//! Its own test binary: while it runs, the tables in force differ from the build's, so no other
//! test may run beside it (cargo runs test binaries one after another).

use std::process::Output;
use std::time::Duration;

use keiryoku_e2e::{Browser, Sent, json, logged_in, unique_key};
use serde_json::Value;

fn admin(args: &[&str]) -> Output {
    std::process::Command::new(keiryoku_e2e::admin_binary())
        .args(args)
        .env(
            "REFERENCE_DATA_BUCKET",
            std::env::var("KEIRYOKU_REFERENCE_BUCKET").unwrap_or_default(),
        )
        .output()
        .unwrap_or_else(|e| panic!("keiryoku-admin: {e} (make build builds it)"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whatever happens, the build's tables are back in force when the test ends: the published
/// object is withdrawn and every function has passed its refresh interval.
struct Withdraw;

impl Drop for Withdraw {
    fn drop(&mut self) {
        let _ = admin(&["tables", "withdraw"]);
        std::thread::sleep(Duration::from_millis(2500));
    }
}

const KOBE: &str = "/routing/preview?fields=3131&prefecture=28";

/// Asks the routing preview until `done` holds (each function looks every 2 s).
async fn routing_until(done: impl Fn(&Value) -> bool) -> Value {
    let anyone = Browser::new();
    let mut last = Value::Null;
    for _ in 0..60 {
        last = json(anyone.get(KOBE).sent().await).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the routing never got there: {last}")
}

/// Puts `document` in the bucket directly (not through `tables publish`, which would refuse
/// it), then waits out the functions' refresh interval.
async fn put_behind_the_commands_back(document: &Value) {
    let s3 = keiryoku_e2e::s3().await;
    s3.put_object()
        .bucket(std::env::var("KEIRYOKU_REFERENCE_BUCKET").unwrap_or_default())
        .key(keiryoku_store::TABLES_KEY)
        .body(document.to_string().into_bytes().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put: {e}"));
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

fn write(label: &str, document: &Value) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}.json", unique_key(label)));
    std::fs::write(&path, document.to_string()).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[tokio::test]
async fn a_published_correction_is_in_force_everywhere_and_recorded_on_every_answer() {
    let _withdraw = Withdraw;
    // The build's tables, as the operator starts from them.
    let before = routing_until(|r| r["table_versions"]["published"].is_null()).await;
    assert_eq!(
        before["authorities"][0]["addressee_title"],
        "神戸運輸監理部長"
    );
    let mut document: Value = serde_json::from_str(&stdout(&admin(&["tables", "export"])))
        .unwrap_or_else(|e| panic!("export: {e}"));

    // A correction: the ministry confirms the office and its title is written differently.
    let version = unique_key("authorities");
    document["authorities"]["version"] = Value::from(version.clone());
    let offices = document["authorities"]["networks"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|n| n["offices"].as_array_mut().into_iter().flatten());
    let mut corrected = 0;
    for office in offices {
        if office["id"] == "mlit-transport-kobe" {
            office["title"] = Value::from("国土交通省神戸運輸監理部長");
            office["verified"] = Value::from(true);
            office["source"] = Value::from("e2e: a confirmation by the ministry");
            corrected += 1;
        }
    }
    assert_eq!(corrected, 1);
    let file = write("tables", &document);
    let checked: Value = serde_json::from_str(&stdout(&admin(&[
        "tables",
        "check",
        &file.to_string_lossy(),
    ])))
    .unwrap_or_default();
    assert_eq!(checked["authorities"], version.as_str());

    // The corrected fact no longer appears among the unverified ones.
    let unverified = stdout(&admin(&[
        "facts",
        "unverified",
        "--tables",
        &file.to_string_lossy(),
    ]));
    assert!(!unverified.contains("\"row\":\"mlit-transport-kobe\""));
    assert!(stdout(&admin(&["facts", "unverified"])).contains("\"row\":\"mlit-transport-kobe\""));

    // Published: in force within the refresh interval, and every answer names the object.
    let published: Value = serde_json::from_str(&stdout(&admin(&[
        "tables",
        "publish",
        &file.to_string_lossy(),
    ])))
    .unwrap_or_default();
    let location = published["published"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(location.contains("versionId="), "{published}");
    let after = routing_until(|r| r["table_versions"]["published"] == location.as_str()).await;
    assert_eq!(
        after["authorities"][0]["addressee_title"],
        "国土交通省神戸運輸監理部長"
    );
    assert_eq!(after["authorities"][0]["verified"], true);
    assert_eq!(after["table_versions"]["authorities"], version.as_str());

    // A validation report records the same tables (the applications function reads them too).
    let applicant = logged_in("applicant-tokyo").await;
    let mut draft = Value::Null;
    for _ in 0..20 {
        draft = json(
            applicant
                .post("/applications")
                .header("idempotency-key", unique_key("draft"))
                .json(&serde_json::json!({ "plan": {} }))
                .sent()
                .await,
        )
        .await;
        if draft["validation"]["tables"]["published"] == location.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        draft["validation"]["tables"]["published"],
        location.as_str(),
        "{draft}"
    );
    assert_eq!(
        draft["validation"]["tables"]["authorities"],
        version.as_str()
    );

    // A broken correction is refused by the command, and nothing changes.
    let mut broken = document.clone();
    broken["fields"]["middle_categories"][0]["route"] =
        serde_json::json!({"networks": ["nowhere"]});
    let refused = admin(&[
        "tables",
        "publish",
        &write("broken", &broken).to_string_lossy(),
    ]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let current: Value =
        serde_json::from_str(&stdout(&admin(&["tables", "current"]))).unwrap_or_default();
    assert_eq!(current["published"], location.as_str());

    // Put in the bucket behind the command's back, the functions refuse it too and use the
    // newest version that checks out (every instance, also one started after it): no request
    // fails.
    put_behind_the_commands_back(&broken).await;
    let kept = routing_until(|_| true).await;
    assert_eq!(kept["table_versions"]["published"], location.as_str());
    assert_eq!(
        kept["authorities"][0]["addressee_title"],
        "国土交通省神戸運輸監理部長"
    );
    let current: Value =
        serde_json::from_str(&stdout(&admin(&["tables", "current"]))).unwrap_or_default();
    assert!(
        current["refused"][0]["refused"]
            .as_str()
            .is_some_and(|r| r.contains("nowhere")),
        "{current}"
    );
    assert_eq!(current["in_force"]["published"], location.as_str());

    // Withdrawn: the build's tables again.
    stdout(&admin(&["tables", "withdraw"]));
    let back = routing_until(|r| r["table_versions"]["published"].is_null()).await;
    assert_eq!(
        back["authorities"][0]["addressee_title"],
        "神戸運輸監理部長"
    );

    // A broken version after the withdrawal does not bring the withdrawn one back.
    put_behind_the_commands_back(&broken).await;
    let still = routing_until(|_| true).await;
    assert!(still["table_versions"]["published"].is_null(), "{still}");
    assert_eq!(
        still["authorities"][0]["addressee_title"],
        "神戸運輸監理部長"
    );
}
