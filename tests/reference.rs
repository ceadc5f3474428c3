//! Reference data and the routing preview, as an applicant's form uses them (no login needed).

use keiryoku_e2e::{Browser, Sent, json, problem};

async fn get(path: &str) -> reqwest::Response {
    Browser::new().get(path).sent().await
}

#[tokio::test]
async fn industries_are_searchable_by_name_and_code() {
    let by_name = json(get("/reference/industries?q=%E9%85%92%E5%B0%8F%E5%A3%B2").await).await; // 酒小売
    assert!(
        by_name["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["code"] == "5851"))
    );
    let by_code = json(get("/reference/industries?q=243").await).await;
    let codes: Vec<&str> = by_code["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"243") && codes.contains(&"2431"),
        "{codes:?}"
    );
    assert!(codes.iter().all(|c| c.starts_with("243")));
    problem(get("/reference/industries?nope=1").await, 400).await;
}

#[tokio::test]
async fn guidelines_come_with_indicators_and_the_basic_policy_first() {
    let body = json(get("/reference/guidelines").await).await;
    let guidelines = body["guidelines"].as_array().cloned().unwrap_or_default();
    assert_eq!(guidelines.len(), 22);
    assert_eq!(guidelines[0]["id"], "basic_policy");
    let care = guidelines
        .iter()
        .find(|g| g["id"] == "nursing_care")
        .cloned()
        .unwrap_or_default();
    let turnover = care["indicators"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["id"] == "turnover_rate")
        .cloned();
    assert_eq!(
        turnover.map(|t| t["rate_label"].clone()),
        Some(serde_json::json!("減少率"))
    );
    assert_eq!(
        care["items_known"], false,
        "unknown 該当箇所 are flagged, not invented"
    );
}

#[tokio::test]
async fn authorities_list_every_prefecture_and_e_filing() {
    let body = json(get("/reference/authorities").await).await;
    assert_eq!(body["prefectures"].as_array().map(Vec::len), Some(47));
    let nta = body["ministries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == "nta")
        .cloned()
        .unwrap_or_default();
    assert_eq!(nta["e_filing"], false);
}

#[tokio::test]
async fn routing_preview_explains_where_a_plan_goes() {
    let body =
        json(get("/routing/preview?fields=2431,0611&prefecture=13&guideline=manufacturing").await)
            .await;
    assert_eq!(body["outcome"], "authorities");
    assert_eq!(body["joint"], true);
    assert_eq!(body["processing_days"], 45);
    let titles: Vec<&str> = body["authorities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["addressee_title"].as_str())
        .collect();
    assert_eq!(titles, vec!["関東経済産業局長", "関東地方整備局長"]);
    let explanation = body["explanation"].as_array().cloned().unwrap_or_default();
    assert!(explanation.iter().any(|s| s["row"] == "fields.json#24"));
    assert!(
        explanation
            .iter()
            .all(|s| s["message"].as_str().is_some_and(|m| !m.is_ascii()))
    );
    assert!(body["table_versions"]["fields"].is_string());

    let hyogo_warehouse = json(get("/routing/preview?fields=4711&prefecture=28").await).await;
    assert_eq!(
        hyogo_warehouse["authorities"][0]["office_name"],
        "神戸運輸監理部"
    );
    let paper = json(get("/routing/preview?fields=7242&prefecture=27").await).await;
    assert_eq!(paper["e_filing"], false);
    let call_centre = json(get("/routing/preview?fields=9999&prefecture=13").await).await;
    assert_eq!(call_centre["outcome"], "call_centre");
}

#[tokio::test]
async fn routing_preview_refuses_bad_input_per_parameter() {
    let body = problem(get("/routing/preview").await, 422).await;
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(paths, vec!["/fields", "/prefecture"]);
    problem(get("/routing/preview?fields=0000&prefecture=13").await, 422).await;
    problem(get("/routing/preview?fields=2431&prefecture=99").await, 422).await;
}
