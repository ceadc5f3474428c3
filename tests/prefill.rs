//! Prefill from GビズID and gBizINFO (the local stack's stand-in), including gBizINFO's "Null"
//! strings, numbers as strings, unknown numbers, slowness and failure: the draft is always
//! created, and the answer says what gBizINFO contributed.

use keiryoku_e2e::{Browser, Sent, json, logged_in};
use serde_json::{Value, json};

async fn prefilled_draft(browser: &Browser, plan: Value) -> Value {
    let response = browser
        .post("/applications")
        .json(&json!({ "prefill": true, "plan": plan }))
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    json(response).await
}

fn source_of<'a>(draft: &'a Value, path: &str) -> Option<&'a str> {
    draft["prefill"]["sources"]
        .as_array()?
        .iter()
        .find(|s| s["path"] == path)?["source"]
        .as_str()
}

#[tokio::test]
async fn a_corporation_is_prefilled_from_gbizid_then_gbizinfo_and_its_own_entries_win() {
    let browser = logged_in("applicant-tokyo").await;
    let draft = prefilled_draft(
        &browser,
        json!({"applicant": {"representative_title": "代表取締役", "employees": 40}}),
    )
    .await;
    let applicant = &draft["plan"]["applicant"];
    assert_eq!(applicant["entity_type"], "corporation");
    assert_eq!(applicant["name"], "株式会社霞が関精機");
    assert_eq!(applicant["name_kana"], "カブシキガイシャカスミガセキセイキ");
    assert_eq!(applicant["representative_name"], "経済 一郎");
    assert_eq!(applicant["corporate_number"], "9010401234567");
    assert_eq!(applicant["capital_yen"], 30_000_000);
    assert_eq!(applicant["head_office"]["postal_code"], "100-8901");
    assert_eq!(applicant["head_office"]["prefecture_code"], "13");
    assert_eq!(
        applicant["head_office"]["address"],
        "千代田区霞が関一丁目3番1号"
    );
    // What the applicant sent wins over prefill.
    assert_eq!(applicant["representative_title"], "代表取締役");
    assert_eq!(applicant["employees"], 40);
    assert_eq!(draft["prefill"]["gbizinfo"]["status"], "found");
    assert_eq!(
        source_of(&draft, "/plan/applicant/capital_yen"),
        Some("gbizinfo")
    );
    assert_eq!(source_of(&draft, "/plan/applicant/name"), Some("gbizid"));
    // The draft is a normal draft: stored, versioned, validated.
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);

    // The answer is cached: the next prefill does not ask gBizINFO again.
    let preview = json(browser.get("/prefill").sent().await).await;
    assert_eq!(preview["gbizinfo"]["status"], "found");
    assert_eq!(preview["gbizinfo"]["cached"], true);
    assert_eq!(preview["plan"]["applicant"]["capital_yen"], 30_000_000);
}

#[tokio::test]
async fn null_strings_and_numbers_as_strings_are_read_leniently() {
    let browser = logged_in("applicant-osaka").await;
    let draft = prefilled_draft(&browser, json!({})).await;
    let applicant = &draft["plan"]["applicant"];
    assert!(applicant.get("name_kana").is_none(), "\"Null\" is no kana");
    // GビズID's representative is used; gBizINFO's "Null" is not.
    assert_eq!(applicant["representative_name"], "難波 次郎");
    assert_eq!(applicant["capital_yen"], 10_000_000);
    assert_eq!(applicant["employees"], 35);
}

#[tokio::test]
async fn a_slow_or_failing_gbizinfo_never_blocks_the_draft() {
    for account in ["applicant-slow", "applicant-unavailable"] {
        let browser = logged_in(account).await;
        for _ in 0..2 {
            let draft = prefilled_draft(&browser, json!({})).await;
            assert_eq!(
                draft["prefill"]["gbizinfo"]["status"], "unavailable",
                "{account}"
            );
            // Failures are not cached: the next prefill tries again.
            assert_eq!(draft["prefill"]["gbizinfo"]["cached"], false, "{account}");
            let message = draft["prefill"]["gbizinfo"]["message"]
                .as_str()
                .unwrap_or_default();
            assert!(message.contains("GビズIDの情報だけ"), "{message}");
            // GビズID's values are there; gBizINFO's are not.
            let applicant = &draft["plan"]["applicant"];
            assert!(applicant["name"].is_string(), "{account}");
            assert!(applicant.get("capital_yen").is_none(), "{account}");
        }
    }
}

#[tokio::test]
async fn a_sole_proprietor_without_a_corporate_number_is_not_looked_up() {
    let browser = logged_in("sole-hokkaido").await;
    let draft = prefilled_draft(&browser, json!({})).await;
    assert_eq!(draft["prefill"]["gbizinfo"]["status"], "not_applicable");
    assert_eq!(draft["plan"]["applicant"]["entity_type"], "sole_proprietor");
    assert!(draft["plan"]["applicant"].get("corporate_number").is_none());
}
