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

/// The ids of a page of the listing.
fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

async fn list_ids(browser: &Browser) -> Vec<String> {
    ids_of(&json(browser.get("/applications?limit=100").sent().await).await)
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

async fn patch(
    browser: &Browser,
    id: &str,
    if_match: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = browser
        .http
        .patch(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", browser.csrf())
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    request.sent().await
}

async fn stored(browser: &Browser, id: &str) -> Value {
    json(browser.get(&format!("/applications/{id}")).sent().await).await
}

async fn new_draft(browser: &Browser, plan: Value) -> String {
    let created = json(create(browser, plan).await).await;
    created["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn edits_need_the_version_they_read() {
    let browser = logged_in("applicant-tokyo").await;
    let id = new_draft(
        &browser,
        json!({"applicant": {"name": "旧名称", "employees": 10}, "note": "消す"}),
    )
    .await;
    let before = stored(&browser, &id).await;

    problem(patch(&browser, &id, None, json!({"note": null})).await, 428).await;
    problem(
        patch(&browser, &id, Some("\"2\""), json!({"note": null})).await,
        412,
    )
    .await;
    assert_eq!(
        stored(&browser, &id).await["plan"],
        before["plan"],
        "refused writes change nothing"
    );

    let saved = patch(
        &browser,
        &id,
        Some("\"1\""),
        json!({"applicant": {"name": "新名称"}, "note": null}),
    )
    .await;
    assert_eq!(saved.status(), 200);
    assert_eq!(header(&saved, "etag"), "\"2\"");
    let saved = json(saved).await;
    // RFC 7396: nested objects merge, null removes.
    assert_eq!(
        saved["plan"],
        json!({"applicant": {"name": "新名称", "employees": 10}})
    );
    assert_eq!(saved["version"], 2);

    // A second writer still holding version 1 loses, and the stored plan is the first writer's.
    problem(
        patch(
            &browser,
            &id,
            Some("\"1\""),
            json!({"applicant": {"name": "上書き"}}),
        )
        .await,
        412,
    )
    .await;
    assert_eq!(
        stored(&browser, &id).await["plan"]["applicant"]["name"],
        "新名称"
    );
}

#[tokio::test]
async fn twenty_parallel_updates_with_one_etag_exactly_one_wins() {
    let browser = std::sync::Arc::new(logged_in("applicant-osaka").await);
    let id = new_draft(&browser, json!({"applicant": {"name": "初期値"}})).await;
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (browser, id) = (browser.clone(), id.clone());
        writers.spawn(async move {
            let response = patch(
                &browser,
                &id,
                Some("\"1\""),
                json!({"applicant": {"name": format!("writer-{n}")}}),
            )
            .await;
            (n, response.status().as_u16())
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = writers.join_next().await {
        let Ok((n, status)) = joined else {
            panic!("writer panicked")
        };
        match status {
            200 => winners.push(n),
            412 => {}
            other => panic!("writer {n} got {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 20 writers succeeds: {winners:?}"
    );
    let after = stored(&browser, &id).await;
    assert_eq!(after["version"], 2);
    assert_eq!(
        after["plan"]["applicant"]["name"],
        format!("writer-{}", winners[0])
    );
}

#[tokio::test]
async fn draft_problems_come_back_with_the_saved_draft() {
    let browser = logged_in("applicant-tokyo").await;
    let id = new_draft(&browser, json!({})).await;
    let saved = patch(
        &browser,
        &id,
        Some("\"1\""),
        json!({"applicant": {"corporate_number": "9010401234568", "employees": "たくさん"}}),
    )
    .await;
    assert_eq!(saved.status(), 200, "a draft with problems is still saved");
    let saved = json(saved).await;
    assert_eq!(
        saved["plan"]["applicant"]["corporate_number"],
        "9010401234568"
    );
    let errors = saved["validation"]["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let at = |path: &str| {
        errors
            .iter()
            .find(|e| e["path"] == path)
            .map(|e| e["code"].clone())
    };
    assert_eq!(
        at("/applicant/corporate_number"),
        Some(json!("check_digit"))
    );
    assert_eq!(at("/applicant/employees"), Some(json!("type")));
    assert!(
        errors
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_ascii()))
    );
}

#[tokio::test]
async fn bad_patches_are_refused_without_changes() {
    let browser = logged_in("sole-hokkaido").await;
    let id = new_draft(&browser, json!({"a": 1})).await;
    let body = problem(
        patch(&browser, &id, Some("\"1\""), json!([1, 2])).await,
        422,
    )
    .await;
    assert_eq!(body["type"], "urn:keiryoku:problem:validation");
    let huge = json!({"text": "あ".repeat(100_000)});
    problem(patch(&browser, &id, Some("\"1\""), huge).await, 413).await;
    problem(patch(&browser, &id, Some("*"), json!({"a": 2})).await, 412).await;
    let after = stored(&browser, &id).await;
    assert_eq!(
        (after["version"].clone(), after["plan"].clone()),
        (json!(1), json!({"a": 1}))
    );
}

#[tokio::test]
async fn only_the_current_draft_can_be_deleted() {
    let browser = logged_in("applicant-tokyo").await;
    let id = new_draft(&browser, json!({})).await;
    let delete = |tag: Option<&'static str>| {
        let mut request = browser
            .http
            .delete(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
            .header("x-csrf-token", browser.csrf());
        if let Some(tag) = tag {
            request = request.header("if-match", tag);
        }
        request.sent()
    };
    problem(delete(None).await, 428).await;
    problem(delete(Some("\"7\"")).await, 412).await;
    assert_eq!(delete(Some("\"1\"")).await.status(), 204);
    problem(
        browser.get(&format!("/applications/{id}")).sent().await,
        404,
    )
    .await;
}

#[tokio::test]
async fn another_company_cannot_edit_or_delete() {
    let tokyo = logged_in("applicant-tokyo").await;
    let osaka = logged_in("applicant-osaka").await;
    let id = new_draft(&tokyo, json!({"owner": "tokyo"})).await;
    problem(
        patch(&osaka, &id, Some("\"1\""), json!({"owner": "osaka"})).await,
        404,
    )
    .await;
    let deleted = osaka
        .http
        .delete(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", osaka.csrf())
        .header("if-match", "\"1\"")
        .sent()
        .await;
    problem(deleted, 404).await;
    let after = stored(&tokyo, &id).await;
    assert_eq!(
        (after["version"].clone(), after["plan"]["owner"].clone()),
        (json!(1), json!("tokyo"))
    );
}

#[tokio::test]
async fn listing_filters_by_status() {
    let browser = logged_in("applicant-osaka").await;
    let id = new_draft(&browser, json!({})).await;
    let listed = |status: &'static str| {
        let request = browser.get(&format!("/applications?status={status}&limit=100"));
        async move { ids_of(&json(request.sent().await).await) }
    };
    assert!(listed("draft").await.contains(&id));
    assert!(!listed("certified").await.contains(&id));
    problem(browser.get("/applications?status=bogus").sent().await, 400).await;
}
