//! The legacy import, end to end: an extract imported by the operator's command becomes
//! certified records that staff find, that the company sees after logging in, that the register
//! lists, and from which the company files a 変更申請; a second run writes nothing.

use keiryoku_e2e::{
    Sent, api_url, change_of, complete_plan, json, logged_in, problem, staff_logged_in, unique_key,
    verify_by_facts,
};
use serde_json::{Value, json};

/// The operator's command, its output read as one JSON object a line.
fn admin(args: &[&str]) -> Vec<Value> {
    keiryoku_e2e::admin(args)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test]
async fn a_legacy_extract_becomes_certifications_staff_find_and_the_company_changes() {
    // One certification of 株式会社霞が関精機 whose period starts next month (so a change is
    // still possible), made 40 days ago; and rows the import must refuse.
    let plan = complete_plan();
    let start = plan["period"]["start"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let certified_on = (time::OffsetDateTime::now_utc() - time::Duration::days(40))
        .date()
        .to_string();
    let legacy_id = format!("E2E-{}", uuid::Uuid::new_v4());
    let number = format!("移行第{}号", &legacy_id[4..12]);
    let header = "旧申請番号,認定番号,認定日,法人番号,事業者名,都道府県コード,事業分野コード,認定行政庁コード,計画開始年月,計画期間（月）,公表可否,データ利活用同意";
    let rows = [
        format!(
            "{legacy_id},{number},{certified_on},9010401234567,株式会社霞が関精機,13,2431 2592,meti-kanto,{start},36,可,可"
        ),
        format!(
            "{legacy_id}-b,x,2024-02-31,9010401234567,株式会社霞が関精機,13,2431,meti-kanto,{start},36,可,否"
        ),
        format!(
            "{legacy_id}-c,x,2024-02-01,9010401234568,株式会社霞が関精機,13,2431,meti-kanto,{start},36,可,否"
        ),
        format!(
            "{legacy_id}-d,x,2024-02-01,9010401234567,株式会社霞が関精機,13,2431,meti-atlantis,{start},36,可,否"
        ),
        format!(
            "{legacy_id},{number},{certified_on},9010401234567,株式会社霞が関精機,13,2431,meti-kanto,{start},36,可,可"
        ),
    ];
    let path = std::env::temp_dir().join(format!("{legacy_id}.csv"));
    std::fs::write(
        &path,
        format!("\u{feff}{header}\r\n{}\r\n", rows.join("\r\n")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = path.display().to_string();

    let out = admin(&["legacy", "import", &file]);
    let rejected: Vec<(u64, String)> = out
        .iter()
        .filter(|l| l.get("line").is_some())
        .map(|l| {
            (
                l["line"].as_u64().unwrap_or_default(),
                l["rejected"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rejected.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [3, 4, 5, 6],
        "each bad row by its line: {rejected:?}"
    );
    assert!(rejected[0].1.contains("認定日"));
    assert!(rejected[1].1.contains("法人番号"));
    assert!(rejected[2].1.contains("認定行政庁コード"));
    assert!(rejected[3].1.contains("重複"));
    let summary = out.last().cloned().unwrap_or_default();
    assert_eq!(summary["written"], 1, "{summary}");
    assert_eq!(summary["rows"], 5);

    // Again: nothing is written twice.
    let again = admin(&["legacy", "import", &file]);
    let summary = again.last().cloned().unwrap_or_default();
    assert_eq!(summary["written"], 0, "{summary}");
    assert_eq!(summary["already_there"], 1);

    // Anyone checks it by what the legacy 認定書 prints, typed as people type (full-width
    // digits, a slash in the date, spaces).
    let wide = |t: &str| -> String {
        t.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
                other => other,
            })
            .collect()
    };
    let answer = json(
        verify_by_facts(
            &wide("9010401234567"),
            &format!(" {} ", wide(&number)),
            &certified_on.replace('-', "/"),
        )
        .await,
    )
    .await;
    assert_eq!(answer["status"], "valid", "{answer}");
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["origin"], "migrated");
    assert_eq!(answer["company_name"], "株式会社霞が関精機");
    assert_eq!(answer["certification_number"], number.as_str());
    assert_eq!(answer["authorities"], json!(["関東経済産業局"]));
    // Any of the three wrong: no such certification, and nothing said about the company.
    let day_before = (time::OffsetDateTime::now_utc() - time::Duration::days(41))
        .date()
        .to_string();
    for (corporate, asked_number, on) in [
        ("9010401234567", number.as_str(), day_before.as_str()),
        ("9010401234567", "移行第0号", certified_on.as_str()),
        ("4000012090001", number.as_str(), certified_on.as_str()),
    ] {
        let refused = problem(verify_by_facts(corporate, asked_number, on).await, 404).await;
        assert_eq!(
            refused["type"],
            "urn:keiryoku:problem:unknown-certification"
        );
        assert!(!refused.to_string().contains("霞が関"), "{refused}");
    }
    // Asked badly: each field says what is wrong.
    let refused = problem(
        verify_by_facts("9010401234568", "", "2024-02-30").await,
        422,
    )
    .await;
    let paths: Vec<&str> = refused["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/corporate_number",
            "/certification_number",
            "/certified_on"
        ],
        "{refused}"
    );
    // A person gets the same as pages that work without JavaScript: a form, its errors linked
    // to the fields, the answer.
    let page = |query: String| async move {
        reqwest::Client::new()
            .get(format!("{}/verify{query}", api_url()))
            .header("accept", "text/html")
            .sent()
            .await
    };
    let form = page(String::new()).await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap_or_default();
    assert!(
        form.contains(r#"<form method="get" action="/verify""#),
        "{form}"
    );
    let errors = page("?corporate_number=1&certification_number=&certified_on=".into()).await;
    assert_eq!(errors.status(), 422);
    let errors = errors.text().await.unwrap_or_default();
    for field in ["corporate_number", "certification_number", "certified_on"] {
        assert!(
            errors.contains(&format!(r##"href="#{field}""##)),
            "{errors}"
        );
        assert!(
            errors.contains(&format!(r#"id="{field}-error""#)),
            "{errors}"
        );
    }
    let query = format!(
        "?corporate_number=9010401234567&certification_number={}&certified_on={certified_on}",
        urlencode(&number)
    );
    let answer = page(query).await;
    assert_eq!(answer.status(), 200);
    let answer = answer.text().await.unwrap_or_default();
    assert!(answer.contains("この認定は有効です"), "{answer}");
    assert!(answer.contains("旧システム"), "{answer}");
    let missing = page(format!(
        "?corporate_number=9010401234567&certification_number=x&certified_on={certified_on}"
    ))
    .await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .unwrap_or_default()
            .contains("該当する認定が見つかりません")
    );

    // The company sees it after logging in (matched by 法人番号).
    let tokyo = logged_in("applicant-tokyo").await;
    let mut found: Option<Value> = None;
    let mut path = "/applications?limit=100&status=certified".to_string();
    while found.is_none() {
        let page = json(tokyo.get(&path).sent().await).await;
        found = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["certification"]["number"] == number.as_str())
            .cloned();
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/applications?limit=100&status=certified&cursor={cursor}")
            }
            None => break,
        }
    }
    let migrated = found.unwrap_or_else(|| panic!("the migrated certification is the company's"));
    let id = migrated["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(migrated["migration"]["legacy_id"], legacy_id.as_str());
    assert_eq!(
        migrated["certification"]["certified_on"],
        certified_on.as_str()
    );
    let history = json(
        tokyo
            .get(&format!("/applications/{id}/history"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(history["items"][0]["action"], "migrate", "{history}");

    // Staff of the certifying authority find it.
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let found = json(
        reviewer
            .get(&format!(
                "/review/cases?certification_number={}",
                urlencode(&number)
            ))
            .sent()
            .await,
    )
    .await;
    assert!(
        found["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["application_id"] == id.as_str()),
        "staff search finds it: {found}"
    );

    // The company files a 変更申請 from it: the change starts from the migrated plan.
    let change = change_of(&tokyo, &id).await;
    let change_id = change["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(change["change_of"]["certification_number"], number.as_str());
    assert_eq!(change["plan"]["business_fields"][0]["detail_code"], "2431");
    assert_eq!(change["plan"]["period"]["start"], start.as_str());
    // Completed with what the extract did not hold, and submitted: back to 関東経済産業局.
    let mut rest = plan.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("kind");
        map.remove("period");
    }
    let response = tokyo
        .patch(&format!("/applications/{change_id}"))
        .header("if-match", format!("\"{}\"", change["version"]))
        .json(&rest)
        .sent()
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let saved = json(
        tokyo
            .get(&format!("/applications/{change_id}"))
            .sent()
            .await,
    )
    .await;
    let response = tokyo
        .post(&format!("/applications/{change_id}/submit"))
        .header("idempotency-key", unique_key("submit"))
        .header("if-match", format!("\"{}\"", saved["version"]))
        .sent()
        .await;
    let submitted = json(response).await;
    assert_eq!(submitted["status"], "submitted", "{submitted}");
    assert_eq!(submitted["submission"]["office_ids"], json!(["meti-kanto"]));

    // Certified: the migrated certification is replaced by the change, for anyone who checks.
    let approved = json(
        reviewer
            .post(&format!("/review/cases/{change_id}/approve"))
            .header("if-match", format!("\"{}\"", submitted["version"]))
            .sent()
            .await,
    )
    .await;
    assert_eq!(approved["status"], "certified", "{approved}");
    let answer = json(verify_by_facts("9010401234567", &number, &certified_on).await).await;
    assert_eq!(answer["status"], "superseded", "{answer}");
    assert_eq!(answer["valid"], false);
    let _ = std::fs::remove_file(&path);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
