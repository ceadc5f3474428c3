//! Submission (申請): full validation, routing with its explanation, a receipt number, the
//! received-at time and due date, and idempotent retries. End to end over HTTP.

use keiryoku_e2e::{Browser, Sent, complete_plan, json, logged_in, problem, unique_key};
use serde_json::{Value, json};

async fn draft(browser: &Browser, plan: Value) -> String {
    let created = json(
        browser
            .post("/applications")
            .json(&json!({ "plan": plan }))
            .sent()
            .await,
    )
    .await;
    created["id"].as_str().unwrap_or_default().to_string()
}

async fn submit(browser: &Browser, id: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = browser.post(&format!("/applications/{id}/submit"));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.sent().await
}

#[tokio::test]
async fn a_complete_plan_is_received_routed_and_dated() {
    let browser = logged_in("applicant-tokyo").await;
    let id = draft(&browser, complete_plan()).await;
    let key = unique_key("submit");
    let response = submit(&browser, &id, Some(&key)).await;
    assert_eq!(response.status(), 200);
    let submitted = json(response).await;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["version"], 2);
    let receipt = submitted["submission"]["receipt_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(receipt.starts_with('R') && receipt.len() == 12, "{receipt}");
    let received_on = submitted["submission"]["received_on"]
        .as_str()
        .unwrap_or_default();
    let due_on = submitted["submission"]["due_on"]
        .as_str()
        .unwrap_or_default();
    assert!(
        due_on > received_on,
        "due {due_on} after received {received_on}"
    );
    assert!(
        submitted["submission"]["received_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let routing = &submitted["submission"]["routing"];
    assert_eq!(
        routing["authorities"][0]["addressee_title"],
        "関東経済産業局長"
    );
    assert_eq!(routing["processing_days"], 14);
    assert!(
        routing["explanation"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );

    // The same key again: the same answer, no second submission.
    let again = json(submit(&browser, &id, Some(&key)).await).await;
    assert_eq!(again["submission"]["receipt_number"], receipt.as_str());
    assert_eq!(again["version"], 2);
    // A new key cannot submit it twice, and a submitted plan cannot be edited.
    problem(submit(&browser, &id, Some(&unique_key("other"))).await, 409).await;
    let edit = browser
        .http
        .patch(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", browser.csrf())
        .header("if-match", "\"2\"")
        .header("content-type", "application/merge-patch+json")
        .body("{\"note\":1}")
        .sent()
        .await;
    problem(edit, 409).await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_submit_once() {
    let browser = std::sync::Arc::new(logged_in("applicant-tokyo").await);
    let id = draft(&browser, complete_plan()).await;
    let key = unique_key("parallel");
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (browser, id, key) = (browser.clone(), id.clone(), key.clone());
        tries.spawn(async move {
            let response = submit(&browser, &id, Some(&key)).await;
            let status = response.status().as_u16();
            (
                status,
                json(response).await["submission"]["receipt_number"].clone(),
            )
        });
    }
    let mut receipts = Vec::new();
    while let Some(joined) = tries.join_next().await {
        let Ok((status, receipt)) = joined else {
            panic!("a try panicked")
        };
        assert_eq!(status, 200, "every retry with the key answers as the first");
        receipts.push(receipt);
    }
    receipts.dedup();
    assert_eq!(receipts.len(), 1, "one receipt number: {receipts:?}");
    let stored = json(browser.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(stored["version"], 2, "submitted exactly once");
}

#[tokio::test]
async fn an_incomplete_plan_is_refused_with_every_problem_and_stays_a_draft() {
    let browser = logged_in("applicant-osaka").await;
    let id = draft(
        &browser,
        json!({"applicant": {"corporate_number": "7120001234562"}}),
    )
    .await;
    let body = problem(
        submit(&browser, &id, Some(&unique_key("incomplete"))).await,
        422,
    )
    .await;
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let paths: Vec<&str> = errors.iter().filter_map(|e| e["path"].as_str()).collect();
    for expected in [
        "/plan/applicant/corporate_number",
        "/plan/period",
        "/plan/indicators",
        "/plan/measures",
        "/plan/contact",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(
        errors
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_ascii()))
    );
    let stored = json(browser.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(
        (stored["status"].clone(), stored["version"].clone()),
        (json!("draft"), json!(1))
    );
}

#[tokio::test]
async fn submit_needs_an_idempotency_key_used_once() {
    let browser = logged_in("sole-hokkaido").await;
    let id = draft(&browser, json!({})).await;
    problem(submit(&browser, &id, None).await, 400).await;
    // A key used for one application cannot be reused for another.
    let first = draft(&browser, complete_sole_plan()).await;
    let key = unique_key("reuse");
    assert_eq!(submit(&browser, &first, Some(&key)).await.status(), 200);
    let body = problem(submit(&browser, &id, Some(&key)).await, 422).await;
    assert_eq!(body["errors"][0]["code"], "reused");
}

fn complete_sole_plan() -> Value {
    let mut plan = complete_plan();
    plan["applicant"]["entity_type"] = json!("sole_proprietor");
    plan["applicant"]["name"] = json!("大通り珈琲店");
    if let Some(applicant) = plan["applicant"].as_object_mut() {
        applicant.remove("corporate_number");
        applicant.remove("capital_yen");
        applicant.remove("representative_title");
    }
    plan["applicant"]["head_office"]["prefecture_code"] = json!("01");
    plan
}

#[tokio::test]
async fn authorities_without_e_filing_cannot_receive_an_electronic_submission() {
    let browser = logged_in("applicant-tokyo").await;
    let mut plan = complete_plan();
    plan["business_fields"] = json!([{"middle_code": "72", "detail_code": "7242"}]);
    plan["guideline_id"] = json!("basic_policy");
    let id = draft(&browser, plan).await;
    let body = problem(submit(&browser, &id, Some(&unique_key("paper"))).await, 409).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("紙")),
        "{body}"
    );
}

async fn act(browser: &Browser, id: &str, action: &str, version: Option<i64>) -> reqwest::Response {
    let mut request = browser.post(&format!("/applications/{id}/{action}"));
    if let Some(version) = version {
        request = request.header("if-match", format!("\"{version}\""));
    }
    request.sent().await
}

#[tokio::test]
async fn withdrawing_follows_the_status_machine() {
    let browser = logged_in("applicant-osaka").await;
    let id = draft(&browser, json!({})).await;
    problem(act(&browser, &id, "withdraw", None).await, 428).await;
    problem(act(&browser, &id, "withdraw", Some(5)).await, 412).await;
    let withdrawn = json(act(&browser, &id, "withdraw", Some(1)).await).await;
    assert_eq!(
        (withdrawn["status"].clone(), withdrawn["version"].clone()),
        (json!("withdrawn"), json!(2))
    );
    // A withdrawn application can do nothing more; the reason comes in Japanese.
    let body = problem(act(&browser, &id, "withdraw", Some(2)).await, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("取下げ")),
        "{body}"
    );
    problem(
        submit(&browser, &id, Some(&unique_key("after-withdraw"))).await,
        409,
    )
    .await;

    // A submitted application can be withdrawn too.
    let tokyo = logged_in("applicant-tokyo").await;
    let id = draft(&tokyo, complete_plan()).await;
    assert_eq!(
        submit(&tokyo, &id, Some(&unique_key("then-withdraw")))
            .await
            .status(),
        200
    );
    let withdrawn = json(act(&tokyo, &id, "withdraw", Some(2)).await).await;
    assert_eq!(withdrawn["status"], "withdrawn");
}

#[tokio::test]
async fn paper_only_plans_are_finalised_for_paper_not_submitted() {
    let browser = logged_in("applicant-tokyo").await;
    let mut plan = complete_plan();
    plan["business_fields"] = json!([{"middle_code": "72", "detail_code": "7242"}]);
    plan["guideline_id"] = json!("basic_policy");
    let id = draft(&browser, plan).await;
    let finalised = act(&browser, &id, "finalise", Some(1)).await;
    assert_eq!(finalised.status(), 200);
    let finalised = json(finalised).await;
    assert_eq!(finalised["status"], "finalised_for_paper");
    assert_eq!(
        finalised["paper"]["routing"]["authorities"][0]["office_name"],
        "東京国税局"
    );
    assert_eq!(finalised["paper"]["routing"]["e_filing"], false);
    problem(
        submit(&browser, &id, Some(&unique_key("after-paper"))).await,
        409,
    )
    .await;

    // A plan every authority takes electronically is not put on paper.
    let e_filed = draft(&browser, complete_plan()).await;
    problem(act(&browser, &e_filed, "finalise", Some(1)).await, 409).await;
    // Nor is an incomplete one.
    let incomplete = draft(&browser, json!({})).await;
    problem(act(&browser, &incomplete, "finalise", Some(1)).await, 422).await;
}
