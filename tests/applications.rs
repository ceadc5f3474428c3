//! The applicant's applications: create a draft, read it back, list, isolation between companies,
//! bad input. End to end over HTTP; storage checked in moto's table.

use aws_sdk_dynamodb::types::AttributeValue;
use keiryoku_e2e::{Browser, Sent, header, json, logged_in, problem, table_name};
use serde_json::{Value, json};

async fn create(browser: &Browser, plan: Value) -> reqwest::Response {
    browser
        .post("/applications")
        .json(&json!({ "plan": plan }))
        .sent()
        .await
}

async fn list_ids(browser: &Browser) -> Vec<String> {
    let page = json(browser.get("/applications?limit=100").sent().await).await;
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn draft_round_trip_is_stored_in_the_table() {
    let browser = logged_in("applicant-tokyo").await;
    let plan =
        json!({"applicant": {"name": "株式会社霞が関精機", "employees": 42}, "period_months": 36});
    let response = create(&browser, plan.clone()).await;
    assert_eq!(response.status(), 201);
    let location = header(&response, "location");
    let etag = header(&response, "etag");
    assert_eq!(etag, "\"1\"");
    let created = json(response).await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(location, format!("/applications/{id}"));
    assert_eq!(created["status"], "draft");
    assert_eq!(created["kind"], "new");

    let read = browser.get(&location).sent().await;
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"1\"")
    );
    let read = json(read).await;
    assert_eq!(read["plan"], plan);
    assert_eq!(read["company_id"], "corp-9010401234567");

    assert!(list_ids(&browser).await.contains(&id));

    // The item is in moto's table, owned by the company.
    let item = keiryoku_e2e::dynamodb()
        .await
        .get_item()
        .table_name(table_name())
        .key("pk", AttributeValue::S(format!("APP#{id}")))
        .key("sk", AttributeValue::S("APP".into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .item
        .unwrap_or_else(|| panic!("application {id} is not in the table"));
    assert_eq!(
        item.get("company_id")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("corp-9010401234567")
    );
    assert_eq!(
        item.get("status")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("draft")
    );
}

#[tokio::test]
async fn a_draft_may_start_empty() {
    let browser = logged_in("sole-hokkaido").await;
    let response = browser.post("/applications").sent().await;
    assert_eq!(response.status(), 201);
    assert_eq!(json(response).await["plan"], json!({}));
}

#[tokio::test]
async fn another_company_cannot_see_it() {
    let tokyo = logged_in("applicant-tokyo").await;
    let osaka = logged_in("applicant-osaka").await;
    let created = json(create(&tokyo, json!({"secret": "東京の計画"})).await).await;
    let id = created["id"].as_str().unwrap_or_default().to_string();

    let response = osaka.get(&format!("/applications/{id}")).sent().await;
    let body = problem(response, 404).await;
    assert!(!body.to_string().contains("東京の計画"));
    assert!(!list_ids(&osaka).await.contains(&id));
    // The owner still sees it.
    assert_eq!(
        tokyo
            .get(&format!("/applications/{id}"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );
}

#[tokio::test]
async fn members_of_one_company_share_its_applications_but_not_others() {
    let osaka = logged_in("applicant-osaka").await;
    let created = json(create(&osaka, json!({"note": "大阪"})).await).await;
    assert_eq!(created["company_id"], "corp-7120001234561");
    let sole = logged_in("sole-hokkaido").await;
    assert!(
        !list_ids(&sole)
            .await
            .contains(&created["id"].as_str().unwrap_or_default().to_string())
    );
}

#[tokio::test]
async fn not_logged_in_gets_401() {
    let anonymous = Browser::new();
    problem(anonymous.get("/applications").sent().await, 401).await;
    problem(
        anonymous
            .get("/applications/01a2163b-281e-757c-9b68-e7abde7eced8")
            .sent()
            .await,
        401,
    )
    .await;
}

#[tokio::test]
async fn bad_input_gets_4xx_problems_and_stores_nothing() {
    let browser = logged_in("applicant-osaka").await;
    let before = list_ids(&browser).await.len();
    let raw = |body: Vec<u8>, content_type: &'static str| {
        browser
            .post("/applications")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    problem(
        raw(b"{\"plan\":".to_vec(), "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        400,
    )
    .await;
    problem(
        raw(
            vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}'],
            "application/json",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}")),
        400,
    )
    .await;
    let deep = format!("{{\"plan\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    problem(
        raw(deep.into_bytes(), "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        400,
    )
    .await;
    problem(
        raw(b"{\"plna\":{}}".to_vec(), "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        400,
    )
    .await;
    problem(
        raw(b"{}".to_vec(), "text/plain")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        415,
    )
    .await;
    let huge = format!("{{\"plan\":{{\"text\":\"{}\"}}}}", "あ".repeat(100_000));
    let body = problem(
        raw(huge.into_bytes(), "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        413,
    )
    .await;
    assert!(body["detail"].as_str().unwrap_or_default().contains("KiB"));
    let body = problem(
        raw(b"{\"plan\":[1,2]}".to_vec(), "application/json")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["path"], "/plan");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_ascii()),
        "message in Japanese"
    );
    problem(browser.get("/applications?limit=0").sent().await, 400).await;
    problem(browser.get("/applications?limit=abc").sent().await, 400).await;
    problem(
        browser
            .get("/applications?cursor=bm90LWEtY3Vyc29y")
            .sent()
            .await,
        400,
    )
    .await;
    problem(browser.get("/applications/..%2F..%2Fetc").sent().await, 404).await;
    assert_eq!(
        list_ids(&browser).await.len(),
        before,
        "no rejected request stored anything"
    );
}

#[tokio::test]
async fn listing_pages_newest_first_with_a_cursor() {
    let browser = logged_in("sole-hokkaido").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = json(create(&browser, json!({"n": n})).await).await;
        ids.push(created["id"].as_str().unwrap_or_default().to_string());
        // Creation times have one-second resolution: keep the order observable.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let first = json(browser.get("/applications?limit=2").sent().await).await;
    let first_ids: Vec<&str> = first["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(
        first_ids,
        vec![ids[2].as_str(), ids[1].as_str()],
        "newest first"
    );
    let cursor = first["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("a next page exists"));
    let second = json(
        browser
            .get(&format!("/applications?limit=2&cursor={cursor}"))
            .sent()
            .await,
    )
    .await;
    let second_ids: Vec<&str> = second["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(second_ids.first().copied(), Some(ids[0].as_str()));

    // Another company cannot use this cursor to page through it.
    let osaka = logged_in("applicant-osaka").await;
    problem(
        osaka
            .get(&format!("/applications?cursor={cursor}"))
            .sent()
            .await,
        400,
    )
    .await;
}
