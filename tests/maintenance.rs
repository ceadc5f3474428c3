//! お知らせ and maintenance, end to end: an administrator publishes a maintenance notice; every
//! page shows it; while its window is open every write is refused (503 with Retry-After, a page
//! for a browser, problem+json for the API) and changes nothing, reads go on, and the
//! administrator can still end it early, after which writes work again.
//!
//! Its own test binary: while the window is open no other test could write.

use std::time::Duration;

use keiryoku_e2e::{
    Browser, Sent, api_url, complete_plan, header, json, logged_in, staff_logged_in, unique_key,
};
use serde_json::json;

/// A time in Japan as the notice form takes it, `minutes` from now.
fn japan(minutes: i64) -> String {
    let at = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9))
        + time::Duration::minutes(minutes);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

async fn post_form(browser: &Browser, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
    let mut fields = fields.to_vec();
    fields.push(("csrf_token", browser.csrf()));
    browser
        .http
        .post(format!("{}{path}", api_url()))
        .header("accept", "text/html")
        .form(&fields)
        .sent()
        .await
}

/// Long enough for every function to have read the notices again (1 s locally).
async fn notices_read_again() {
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

#[tokio::test]
async fn a_maintenance_window_refuses_writes_keeps_reads_and_ends_early() {
    let admin = staff_logged_in("admin-staff").await;
    let applicant = logged_in("applicant-tokyo").await;
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let created = applicant
        .post("/applications")
        .json(&json!({ "plan": complete_plan() }))
        .sent()
        .await;
    assert_eq!(created.status(), 201);
    let draft = json(created).await;
    let id = draft["id"].as_str().unwrap_or_default().to_string();
    let etag = format!("\"{}\"", draft["version"]);

    // Published with the window open now.
    let title = format!("メンテナンス {}", &unique_key("m")[2..10]);
    let published = post_form(
        &admin,
        "/staff/notices",
        &[
            ("kind", "maintenance".into()),
            ("audience", "everyone".into()),
            ("title", title.clone()),
            ("body", "この間は保存・提出ができません。".into()),
            ("from", japan(-1)),
            ("until", japan(30)),
            ("maintenance_from", japan(-1)),
            ("maintenance_until", japan(20)),
        ],
    )
    .await;
    assert_eq!(published.status(), 200, "followed to the list");
    let list = published.text().await.unwrap_or_default();
    assert!(list.contains("掲載しました"));
    notices_read_again().await;

    // Every page shows it: the applicants' start page and the staff pages.
    let start = applicant
        .get("/")
        .sent()
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(start.contains(&title), "the start page shows the notice");
    let staff_page = reviewer
        .get("/staff/cases")
        .sent()
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(staff_page.contains(&title), "the staff pages show it");

    // Writes are refused and change nothing; reads go on.
    let refused = applicant
        .patch(&format!("/applications/{id}"))
        .header("if-match", &etag)
        .json(&json!({"current_state": {"challenges": "書き換え"}}))
        .sent()
        .await;
    assert_eq!(refused.status(), 503);
    assert_eq!(header(&refused, "content-type"), "application/problem+json");
    assert!(!header(&refused, "retry-after").is_empty(), "Retry-After");
    let problem = json(refused).await;
    assert_eq!(problem["type"], "urn:keiryoku:problem:maintenance");
    let read = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(read["version"], draft["version"], "nothing changed");

    // A page's form gets a page that says why.
    let page = post_form(
        &applicant,
        &format!("/plans/{id}/sections/contact"),
        &[("version", draft["version"].to_string())],
    )
    .await;
    assert_eq!(page.status(), 503);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert!(
        page.text()
            .await
            .unwrap_or_default()
            .contains("メンテナンス中です")
    );

    // The administrator ends it early (their pages keep working), and writes work again.
    let list = admin
        .get("/staff/notices")
        .sent()
        .await
        .text()
        .await
        .unwrap_or_default();
    let row = list
        .split("<tr><td>")
        .skip(1)
        .find(|row| row.contains(&title))
        .unwrap_or_default();
    let action = row
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    assert!(action.starts_with("/staff/notices/"), "{row}");
    let ended = post_form(&admin, &action, &[]).await;
    assert_eq!(ended.status(), 200);
    assert!(
        ended
            .text()
            .await
            .unwrap_or_default()
            .contains("掲載を終了しました")
    );
    notices_read_again().await;
    let saved = applicant
        .patch(&format!("/applications/{id}"))
        .header("if-match", &etag)
        .json(&json!({"current_state": {"challenges": "書き換え"}}))
        .sent()
        .await;
    assert_eq!(saved.status(), 200);
    let start = applicant
        .get("/")
        .sent()
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!start.contains(&title), "no longer shown");
}
