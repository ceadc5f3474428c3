//! The reviewers' side end to end: staff login against the staff directory, the authority's
//! queue, return with field comments, the resubmission diff, approval with certification numbers,
//! joint (共管) approval, rejection, change applications, the audit trail, search and CSV.

use keiryoku_e2e::{
    Browser, Sent, complete_plan, header, json, logged_in, problem, staff_logged_in, submitted,
    unique_key,
};
use serde_json::{Value, json};

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_default().to_string()
}

fn etag_of(record: &Value) -> String {
    format!("\"{}\"", record["version"])
}

/// A plan of two ministries: 製造業 (経済産業省) and 土木工事業 (国土交通省), both in Tokyo.
fn joint_plan() -> Value {
    let mut plan = complete_plan();
    if let Some(fields) = plan["business_fields"].as_array_mut() {
        fields.push(json!({"middle_code": "06", "detail_code": "0621"}));
    }
    plan
}

async fn approve(staff: &Browser, id: &str, etag: &str) -> reqwest::Response {
    staff
        .post(&format!("/review/cases/{id}/approve"))
        .header("if-match", etag)
        .sent()
        .await
}

async fn case_view(staff: &Browser, id: &str) -> (Value, String) {
    let response = staff.get(&format!("/review/cases/{id}")).sent().await;
    assert_eq!(response.status(), 200);
    let etag = header(&response, "etag");
    (json(response).await, etag)
}

async fn queue_ids(staff: &Browser) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/review/queue?limit=200".to_string();
    loop {
        let page = json(staff.get(&path).sent().await).await;
        for item in page["items"].as_array().into_iter().flatten() {
            ids.push(
                item["application_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/review/queue?limit=200&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn staff_outside_the_directory_cannot_log_in_and_applicants_are_not_staff() {
    // A staff identity the directory does not list is refused at the callback.
    let browser = Browser::new();
    let response = browser
        .http
        .get(format!(
            "{}/staff/login?login_hint=staff-unlisted",
            keiryoku_e2e::api_url()
        ))
        .sent()
        .await;
    let body = problem(response, 403).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("職員名簿")
    );

    // An applicant account through the staff client is not in the directory either.
    let browser = Browser::new();
    let response = browser
        .http
        .get(format!(
            "{}/staff/login?login_hint=applicant-tokyo",
            keiryoku_e2e::api_url()
        ))
        .sent()
        .await;
    problem(response, 403).await;

    // A staff member is who the directory says.
    let staff = staff_logged_in("reviewer-kanto-meti").await;
    let me = json(staff.get("/me").sent().await).await;
    assert_eq!(me["staff"]["office_id"], "meti-kanto");
    assert_eq!(me["staff"]["office_name"], "関東経済産業局");
}

#[tokio::test]
async fn the_whole_story_from_draft_to_certified_change() {
    let applicant = logged_in("applicant-tokyo").await;
    // Prefilled from GビズID and gBizINFO, the rest typed in.
    let mut plan = complete_plan();
    plan["current_state"]["challenges"] = json!("熟練工の高齢化。");
    if let Some(applicant) = plan["applicant"].as_object_mut() {
        for prefilled in ["name", "name_kana", "corporate_number", "head_office"] {
            applicant.remove(prefilled);
        }
    }
    let response = applicant
        .post("/applications")
        .json(&json!({"prefill": true, "plan": plan}))
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    let created = json(response).await;
    assert_eq!(created["plan"]["applicant"]["name"], "株式会社霞が関精機");
    assert_eq!(
        created["plan"]["applicant"]["corporate_number"],
        "9010401234567"
    );
    let id = id_of(&created);

    // An edit with a stale ETag is refused and changes nothing; the current one saves.
    let edit = |etag: String, text: &'static str| {
        applicant
            .http
            .patch(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
            .header("x-csrf-token", applicant.csrf())
            .header("if-match", etag)
            .json(&json!({"current_state": {"business_overview": text}}))
    };
    let saved = json(edit(etag_of(&created), "精密金属加工。").sent().await).await;
    problem(
        edit(etag_of(&created), "古い版からの上書き").sent().await,
        412,
    )
    .await;
    assert_eq!(
        saved["plan"]["current_state"]["business_overview"],
        "精密金属加工。"
    );

    // Submitted twice with one key: one submission, one receipt number.
    let key = unique_key("story");
    let submit = || {
        applicant
            .post(&format!("/applications/{id}/submit"))
            .header("idempotency-key", &key)
    };
    let record = json(submit().sent().await).await;
    let again = json(submit().sent().await).await;
    assert_eq!(record["status"], "submitted", "{record}");
    assert_eq!(again["submission"], record["submission"]);
    assert_eq!(again["version"], record["version"]);
    let receipt = record["submission"]["receipt_number"].clone();

    // The right authority sees it in its queue; another authority neither sees nor opens it.
    let kanto = staff_logged_in("reviewer-kanto-meti").await;
    let kinki = staff_logged_in("reviewer-kinki-meti").await;
    assert!(queue_ids(&kanto).await.contains(&id));
    assert!(!queue_ids(&kinki).await.contains(&id));
    problem(kinki.get(&format!("/review/cases/{id}")).sent().await, 404).await;

    let (view, etag) = case_view(&kanto, &id).await;
    assert_eq!(view["case"]["decision"], "pending");
    assert_eq!(view["case"]["overdue"], false);
    assert_eq!(view["case"]["receipt_number"], receipt);
    assert_eq!(
        view["application"]["plan"]["applicant"]["name"],
        "株式会社霞が関精機"
    );

    // Return for correction with a comment anchored to a field: If-Match is required.
    let body = json!({
        "message": "現状認識の課題を具体的に記載してください。",
        "comments": [{"path": "/plan/current_state/challenges", "message": "課題の内容と原因を記載してください。"}],
    });
    let response = kanto
        .post(&format!("/review/cases/{id}/return"))
        .json(&body)
        .sent()
        .await;
    problem(response, 428).await;
    let response = kanto
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", &etag)
        .json(&body)
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        !queue_ids(&kanto).await.contains(&id),
        "returned cases leave the queue"
    );

    // The applicant sees the comments on its application, fixes the field and resubmits.
    let response = applicant.get(&format!("/applications/{id}")).sent().await;
    let etag = header(&response, "etag");
    let returned = json(response).await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(
        returned["returned"]["comments"][0]["path"],
        "/plan/current_state/challenges"
    );
    let fixed = "熟練工の高齢化による技能継承と、多品種少量生産での段取り時間の長さ。";
    let response = applicant
        .http
        .patch(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", applicant.csrf())
        .header("if-match", &etag)
        .json(&json!({"current_state": {"challenges": fixed}}))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let response = applicant
        .post(&format!("/applications/{id}/submit"))
        .header("idempotency-key", unique_key("resubmit"))
        .sent()
        .await;
    assert_eq!(json(response).await["status"], "submitted");

    // The reviewer sees exactly what changed since the version returned.
    let (view, etag) = case_view(&kanto, &id).await;
    let comparison = &view["comparisons"][0];
    assert_eq!(comparison["against"], "returned");
    let changes = comparison["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["path"], "/plan/current_state/challenges");
    assert_eq!(changes[0]["before"], "熟練工の高齢化。");
    assert_eq!(changes[0]["after"], fixed);

    // Approve: a stale ETag changes nothing; the current one certifies with a number.
    problem(approve(&kanto, &id, "\"1\"").await, 412).await;
    let response = approve(&kanto, &id, &etag).await;
    assert_eq!(response.status(), 200);
    let certified = json(response).await;
    assert_eq!(certified["status"], "certified");
    let number = certified["certification"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        number.starts_with("関東経産第") && number.ends_with('号'),
        "{number}"
    );
    assert_eq!(certified["certification"]["numbers"]["meti-kanto"], number);
    // A second approval is refused.
    let etag = etag_of(&certified);
    problem(approve(&kanto, &id, &etag).await, 409).await;

    // The audit trail tells the story, to the owner and to the reviewer alike.
    let history = json(
        applicant
            .get(&format!("/applications/{id}/history"))
            .sent()
            .await,
    )
    .await;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "create", "edit", "submit", "return", "edit", "submit", "approve"
        ]
    );
    let items = history["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items[3]["actor"]["role"], "reviewer");
    assert_eq!(items[3]["actor"]["on_behalf_of"], "meti-kanto");
    assert_eq!(
        items[1]["changed_paths"],
        json!(["/plan/current_state/business_overview"])
    );
    assert_eq!(
        items[4]["changed_paths"],
        json!(["/plan/current_state/challenges"])
    );
    assert!(
        items
            .iter()
            .all(|r| r["version_hash"].as_str().is_some_and(|h| h.len() == 64))
    );
    let staff_history = json(
        kanto
            .get(&format!("/review/cases/{id}/history"))
            .sent()
            .await,
    )
    .await;
    // The reviewer sees who decided; the applicant sees the office, not the official's
    // identity (their sub and name are personal data the applicant has no need for).
    let staff_items = staff_history["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(staff_items.len(), items.len());
    assert!(staff_items[3]["actor"]["sub"].is_string());
    for (mine, theirs) in items.iter().zip(&staff_items) {
        if mine["actor"]["role"] == "reviewer" {
            assert!(mine["actor"].get("sub").is_none() && mine["actor"].get("name").is_none());
            assert_eq!(mine["action"], theirs["action"]);
        } else {
            assert_eq!(mine, theirs);
        }
    }
    let seen = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert!(
        !seen
            .to_string()
            .contains(staff_items[3]["actor"]["sub"].as_str().unwrap_or("?"))
    );

    // Pages of a bounded size, followed by their cursor, give the same trail.
    let mut paged = Vec::new();
    let mut next = format!("/applications/{id}/history?limit=3");
    loop {
        let page = json(applicant.get(&next).sent().await).await;
        let got = page["items"].as_array().cloned().unwrap_or_default();
        assert!(got.len() <= 3);
        paged.extend(got);
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("/applications/{id}/history?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, items);
    for bad in ["limit=0", "limit=201", "cursor=bm90LWEtY3Vyc29y"] {
        problem(
            applicant
                .get(&format!("/applications/{id}/history?{bad}"))
                .sent()
                .await,
            400,
        )
        .await;
    }

    // A change application starts from the certified plan and goes back to 関東経済産業局.
    let key = unique_key("change");
    let response = applicant
        .post(&format!("/applications/{id}/change"))
        .header("idempotency-key", &key)
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    let change = json(response).await;
    // A retried request answers the same draft.
    let again = json(
        applicant
            .post(&format!("/applications/{id}/change"))
            .header("idempotency-key", &key)
            .sent()
            .await,
    )
    .await;
    assert_eq!(again["id"], change["id"]);
    assert_eq!(change["kind"], "change");
    assert_eq!(change["change_of"]["certification_number"], number);
    assert_eq!(change["plan"]["kind"]["type"], "change");
    assert_eq!(change["plan"]["kind"]["certification"]["number"], number);
    let change_id = id_of(&change);
    let response = applicant
        .http
        .patch(format!("{}/applications/{change_id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", applicant.csrf())
        .header("if-match", etag_of(&change))
        .json(&json!({"funds": [{"measure_number": 1, "purpose": "5軸マシニングセンタ購入", "source": "自己資金", "amount_thousand_yen": 20000}]}))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let response = applicant
        .post(&format!("/applications/{change_id}/submit"))
        .header("idempotency-key", unique_key("submit-change"))
        .sent()
        .await;
    let change = json(response).await;
    assert_eq!(change["status"], "submitted", "{change}");
    assert_eq!(change["submission"]["office_ids"], json!(["meti-kanto"]));
    let (view, _) = case_view(&kanto, &change_id).await;
    let comparison = view["comparisons"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["against"] == "certified")
        .cloned()
        .unwrap_or_default();
    let paths: Vec<&str> = comparison["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["path"].as_str())
        .collect();
    assert!(paths.contains(&"/plan/funds/0/source"), "{paths:?}");
    assert!(paths.contains(&"/plan/kind/type"), "{paths:?}");

    // Search finds the certified case by its number; the CSV of the same search opens in Excel.
    let found = json(
        kanto
            .get(&format!(
                "/review/cases?certification_number={}",
                url::form_urlencoded::byte_serialize(number.as_bytes()).collect::<String>()
            ))
            .sent()
            .await,
    )
    .await;
    let ids: Vec<&str> = found["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["application_id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    let response = kanto
        .get("/review/cases.csv?corporate_number=9010401234567&status=certified")
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap_or_default();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    let text = String::from_utf8_lossy(&bytes[3..]).to_string();
    assert!(
        text.starts_with("受付番号,行政庁,受付日,処理期限,状況"),
        "{text}"
    );
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    assert!(text.contains(&number));
    assert!(text.contains("株式会社霞が関精機"));
}

#[tokio::test]
async fn a_joint_plan_is_certified_only_when_every_authority_approved() {
    let applicant = logged_in("applicant-tokyo").await;
    let record = submitted(&applicant, joint_plan()).await;
    let id = id_of(&record);
    assert_eq!(
        record["submission"]["office_ids"],
        json!(["meti-kanto", "mlit-dev-kanto"])
    );
    let meti = staff_logged_in("reviewer-kanto-meti").await;
    let mlit = staff_logged_in("reviewer-kanto-mlit").await;
    assert!(queue_ids(&meti).await.contains(&id));
    assert!(queue_ids(&mlit).await.contains(&id));

    let (_, etag) = case_view(&meti, &id).await;
    let first = json(approve(&meti, &id, &etag).await).await;
    assert_eq!(first["status"], "submitted", "one approval is not enough");
    assert_eq!(first["decisions"]["meti-kanto"]["decision"], "approved");
    assert!(!queue_ids(&meti).await.contains(&id));
    assert!(queue_ids(&mlit).await.contains(&id));

    let (_, etag) = case_view(&mlit, &id).await;
    let second = json(approve(&mlit, &id, &etag).await).await;
    assert_eq!(second["status"], "certified");
    let numbers = &second["certification"]["numbers"];
    assert!(numbers["meti-kanto"].is_string() && numbers["mlit-dev-kanto"].is_string());
    assert_eq!(second["certification"]["number"], numbers["meti-kanto"]);
}

#[tokio::test]
async fn concurrent_approvals_get_distinct_consecutive_numbers() {
    let applicant = logged_in("applicant-osaka").await;
    let mut plan = complete_plan();
    plan["applicant"]["name"] = json!("浪速金属工業株式会社");
    plan["applicant"]["corporate_number"] = json!("7120001234561");
    plan["applicant"]["head_office"]["prefecture_code"] = json!("27");
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(id_of(&submitted(&applicant, plan.clone()).await));
    }
    let kinki = staff_logged_in("reviewer-kinki-meti").await;
    let mut etags = Vec::new();
    for id in &ids {
        etags.push(case_view(&kinki, id).await.1);
    }
    let approvals: Vec<reqwest::RequestBuilder> = ids
        .iter()
        .zip(&etags)
        .map(|(id, etag)| {
            kinki
                .post(&format!("/review/cases/{id}/approve"))
                .header("if-match", etag)
        })
        .collect();
    let approvals = approvals.into_iter().map(|r| async move { r.sent().await });
    let mut numbers = Vec::new();
    for response in futures_join(approvals).await {
        assert_eq!(response.status(), 200);
        let body = json(response).await;
        numbers.push(
            body["certification"]["number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let mut sequences: Vec<u32> = numbers
        .iter()
        .filter_map(|n| n.trim_end_matches('号').rsplit('-').next()?.parse().ok())
        .collect();
    sequences.sort_unstable();
    assert_eq!(sequences.len(), 4, "{numbers:?}");
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "gapless and unique: {numbers:?}"
    );
}

/// Runs futures concurrently on the test runtime.
async fn futures_join<F: std::future::Future<Output = reqwest::Response> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<reqwest::Response> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap_or_else(|e| panic!("task: {e}")));
    }
    out
}

#[tokio::test]
async fn rejection_needs_a_reason_and_ends_the_application() {
    let applicant = logged_in("applicant-tokyo").await;
    let id = id_of(&submitted(&applicant, complete_plan()).await);
    let kanto = staff_logged_in("reviewer-kanto-meti").await;
    let (_, etag) = case_view(&kanto, &id).await;
    let response = kanto
        .post(&format!("/review/cases/{id}/reject"))
        .header("if-match", &etag)
        .json(&json!({"reason": "  "}))
        .sent()
        .await;
    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["path"], "/reason");
    let response = kanto
        .post(&format!("/review/cases/{id}/reject"))
        .header("if-match", &etag)
        .json(&json!({"reason": "労働生産性の算定根拠が示されていません。"}))
        .sent()
        .await;
    assert_eq!(json(response).await["status"], "rejected");
    let mine = json(applicant.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(
        mine["rejection"]["reason"],
        "労働生産性の算定根拠が示されていません。"
    );
    // Nothing more: no change application from a rejected plan, no withdrawal.
    let response = applicant
        .post(&format!("/applications/{id}/change"))
        .header("idempotency-key", unique_key("change"))
        .sent()
        .await;
    problem(response, 409).await;
}

#[tokio::test]
async fn returns_need_comments_on_plan_fields() {
    let applicant = logged_in("applicant-tokyo").await;
    let id = id_of(&submitted(&applicant, complete_plan()).await);
    let kanto = staff_logged_in("reviewer-kanto-meti").await;
    let (_, etag) = case_view(&kanto, &id).await;
    let response = kanto
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", &etag)
        .json(&json!({
            "message": "",
            "comments": [
                {"path": "/status", "message": "x"},
                {"path": "/plan/period", "message": "a\u{0007}b"},
                // A bidi override would make the comment read otherwise in the applicant's mail.
                {"path": "/plan/period", "message": "期間を\u{202E}確認"},
            ],
        }))
        .sent()
        .await;
    let body = problem(response, 422).await;
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/message",
            "/comments/0/path",
            "/comments/1/message",
            "/comments/2/message"
        ]
    );
    // Nothing changed.
    let (view, after) = case_view(&kanto, &id).await;
    assert_eq!(after, etag);
    assert_eq!(view["application"]["status"], "submitted");
}

/// Runs the operator command against the local stack's table.
fn admin(args: &[&str]) -> String {
    keiryoku_e2e::admin(args)
}

#[tokio::test]
async fn the_operator_command_manages_the_directory_and_deactivation_is_immediate() {
    // Refused before the operator adds the identity.
    let response = Browser::new()
        .http
        .get(format!(
            "{}/staff/login?login_hint=staff-temporary",
            keiryoku_e2e::api_url()
        ))
        .sent()
        .await;
    problem(response, 403).await;

    admin(&[
        "staff",
        "put",
        "--sub",
        "900010",
        "--name",
        "臨時 職員",
        "--office",
        "meti-tohoku",
    ]);
    assert!(admin(&["staff", "list"]).contains("\"sub\":\"900010\""));
    let staff = staff_logged_in("staff-temporary").await;
    let queue = json(staff.get("/review/queue").sent().await).await;
    assert_eq!(queue["scope"], "東北経済産業局");

    // Deactivation takes effect on the next request of the session already open.
    admin(&["staff", "deactivate", "--sub", "900010"]);
    problem(staff.get("/review/queue").sent().await, 403).await;
    admin(&["staff", "remove", "--sub", "900010"]);
    assert!(!admin(&["staff", "list"]).contains("\"sub\":\"900010\""));
}

#[tokio::test]
async fn every_search_condition_narrows_the_results_and_pages_through_the_url() {
    let applicant = logged_in("applicant-tokyo").await;
    let id = id_of(&submitted(&applicant, complete_plan()).await);
    let kanto = staff_logged_in("reviewer-kanto-meti").await;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let yesterday = today.previous_day().unwrap_or(today);
    let found = |query: String| {
        let kanto = &kanto;
        let id = id.clone();
        async move {
            let mut path = format!("/review/cases?{query}&limit=200");
            loop {
                let page = json(kanto.get(&path).sent().await).await;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                if items.iter().any(|c| c["application_id"] == id.as_str()) {
                    // Each listed case has a stable URL.
                    let item = items.iter().find(|c| c["application_id"] == id.as_str());
                    assert_eq!(
                        item.map(|c| c["url"].clone()),
                        Some(json!(format!("/review/cases/{id}")))
                    );
                    return true;
                }
                match page["next"].as_str() {
                    Some(next) => path = next.to_string(),
                    None => return false,
                }
            }
        }
    };
    let company = url::form_urlencoded::byte_serialize("霞が関精機".as_bytes()).collect::<String>();
    // Every condition that holds finds it…
    assert!(found(format!(
        "status=submitted&received_from={today}&received_to={today}&prefecture=13&industry=2431&company={company}&corporate_number=9010401234567"
    ))
    .await);
    assert!(
        found("industry=24".into()).await,
        "a 中分類 finds its 細分類"
    );
    // …and each one that does not hold excludes it.
    for miss in [
        "status=certified".to_string(),
        format!("received_to={yesterday}"),
        "prefecture=27".into(),
        "industry=0621".into(),
        format!(
            "company={}",
            url::form_urlencoded::byte_serialize("浪速".as_bytes()).collect::<String>()
        ),
        "corporate_number=7120001234561".into(),
        format!("certified_from={today}"),
    ] {
        assert!(!found(miss.clone()).await, "{miss} excludes it");
    }
    // A page of one follows the cursor in the URL and never repeats a case.
    let mut seen = std::collections::HashSet::new();
    let mut path = "/review/cases?prefecture=13&limit=1".to_string();
    for _ in 0..5 {
        let page = json(kanto.get(&path).sent().await).await;
        for item in page["items"].as_array().into_iter().flatten() {
            assert!(
                seen.insert(item["application_id"].to_string()),
                "no repeats"
            );
        }
        match page["next"].as_str() {
            Some(next) => {
                assert!(next.contains("prefecture=13") && next.contains("cursor="));
                path = next.to_string();
            }
            None => break,
        }
    }
}

/// The audit trail is a hash chain the operator checks: intact as the platform wrote it, and
/// the record someone changed afterwards is named.
#[tokio::test]
async fn a_changed_audit_record_is_found_by_the_operator_check() {
    let applicant = logged_in("applicant-tokyo").await;
    // Each save links its record to the head the draft was read with (the chain's last link
    // kept on the application item), so several saves must still make one chain.
    let response = applicant
        .post("/applications")
        .json(&json!({ "plan": complete_plan() }))
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    let mut etag = header(&response, "etag");
    let id = id_of(&json(response).await);
    for round in 0..2 {
        let response = applicant
            .patch(&format!("/applications/{id}"))
            .header("if-match", &etag)
            .json(&json!({ "current_state": { "challenges": format!("保存 {round}") } }))
            .sent()
            .await;
        assert_eq!(response.status(), 200);
        etag = header(&response, "etag");
    }
    let response = applicant
        .post(&format!("/applications/{id}/submit"))
        .header("idempotency-key", unique_key("submit"))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let verified = admin(&["audit", "verify", "--id", &id]);
    let verified: Value = serde_json::from_str(verified.trim()).unwrap_or_default();
    assert_eq!(verified["chain"], "intact", "{verified}");
    assert_eq!(verified["records"], 4, "create, two saves and submit");

    // Someone with table access rewrites what the first record says was done.
    let dynamodb = keiryoku_e2e::dynamodb().await;
    let table = keiryoku_e2e::table_name();
    let first = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("AUDIT#{id}")),
        )
        .limit(1)
        .send()
        .await
        .ok()
        .and_then(|o| o.items().first().cloned())
        .unwrap_or_else(|| panic!("no audit record"));
    let mut forged = first.clone();
    if let Some(aws_sdk_dynamodb::types::AttributeValue::S(body)) = first.get("body") {
        forged.insert(
            "body".into(),
            aws_sdk_dynamodb::types::AttributeValue::S(body.replace("\"create\"", "\"withdraw\"")),
        );
    }
    dynamodb
        .put_item()
        .table_name(&table)
        .set_item(Some(forged))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let output = std::process::Command::new(keiryoku_e2e::admin_binary())
        .args(["audit", "verify", "--id", &id])
        .env("TABLE_NAME", &table)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("tampered") && said.contains("audit record 1"),
        "{said}"
    );
}

/// `keiryoku-admin audit verify --id`, with the stack's write-once copy when `archive` says
/// so: whether it passed, and what it said (stdout, or stderr when it failed).
fn audit_verify(id: &str, archive: bool) -> (bool, String) {
    let bucket = if archive {
        std::env::var("KEIRYOKU_AUDIT_ARCHIVE_BUCKET").unwrap_or_default()
    } else {
        String::new()
    };
    let output = std::process::Command::new(keiryoku_e2e::admin_binary())
        .args(["audit", "verify", "--id", id])
        .env("TABLE_NAME", keiryoku_e2e::table_name())
        .env("AUDIT_ARCHIVE_BUCKET", bucket)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let said = if output.status.success() {
        String::from_utf8_lossy(&output.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    (output.status.success(), said)
}

/// The trail's write-once copy (Object Lock in compliance mode, from the stream) anchors its
/// tail: the last record dropped from the table, or replaced with a recomputed hash, leaves
/// the chain intact, and only the copy shows it. The copy itself cannot be removed.
#[tokio::test]
async fn the_write_once_copy_names_a_dropped_or_replaced_last_record() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let applicant = logged_in("applicant-tokyo").await;
    let id = id_of(&submitted(&applicant, complete_plan()).await);

    // Both records (create, submit) reach the copy through the stream.
    let mut said = String::new();
    for _ in 0..300 {
        let (passed, text) = audit_verify(&id, true);
        assert!(passed, "{text}");
        said = text;
        if serde_json::from_str::<Value>(said.trim()).unwrap_or_default()["archived"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let verified: Value = serde_json::from_str(said.trim()).unwrap_or_default();
    assert_eq!(verified["archived"], 2, "{verified}");

    // Someone with table access drops the last record.
    let dynamodb = keiryoku_e2e::dynamodb().await;
    let table = keiryoku_e2e::table_name();
    let last_key = std::collections::HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("AUDIT#{id}"))),
        ("sk".to_string(), AttributeValue::S("V000000000002".into())),
    ]);
    let last = dynamodb
        .get_item()
        .table_name(&table)
        .set_key(Some(last_key.clone()))
        .send()
        .await
        .ok()
        .and_then(|o| o.item)
        .unwrap_or_else(|| panic!("no second audit record"));
    dynamodb
        .delete_item()
        .table_name(&table)
        .set_key(Some(last_key))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The chain alone cannot tell: what is left still links up.
    let (passed, text) = audit_verify(&id, false);
    assert!(passed, "{text}");
    assert!(text.contains("\"intact\""), "{text}");
    // The copy can: record 2 is archived and gone from the table.
    let (passed, text) = audit_verify(&id, true);
    assert!(!passed);
    assert!(
        text.contains("tampered") && text.contains("audit record 2") && text.contains("removed"),
        "{text}"
    );

    // Put back as something else, with its hash recomputed so the chain holds again.
    let body = match last.get("body") {
        Some(AttributeValue::S(body)) => body.clone(),
        _ => panic!("an audit record without a body"),
    };
    let mut record: keiryoku_store::AuditRecord =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}"));
    record.action = keiryoku_domain::application::AuditAction::Withdraw;
    record.hash = keiryoku_store::record_hash(&record).ok();
    let mut forged = last.clone();
    forged.insert(
        "body".into(),
        AttributeValue::S(serde_json::to_string(&record).unwrap_or_default()),
    );
    dynamodb
        .put_item()
        .table_name(&table)
        .set_item(Some(forged))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (passed, text) = audit_verify(&id, false);
    assert!(passed, "the chain holds: {text}");
    let (passed, text) = audit_verify(&id, true);
    assert!(!passed);
    assert!(
        text.contains("audit record 2") && text.contains("replaced"),
        "{text}"
    );

    // Nor can the copy be made to agree: a version of it cannot be deleted (compliance mode),
    // and a delete marker hides nothing from the check.
    let s3 = keiryoku_e2e::s3().await;
    let bucket = std::env::var("KEIRYOKU_AUDIT_ARCHIVE_BUCKET").unwrap_or_default();
    let key = format!("audit/{id}/V000000000002.json");
    let versions = s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let version = versions
        .versions()
        .first()
        .and_then(|v| v.version_id())
        .unwrap_or_default()
        .to_string();
    let refused = s3
        .delete_object()
        .bucket(&bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await;
    assert!(refused.is_err(), "a locked version cannot be deleted");
    s3.delete_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (passed, text) = audit_verify(&id, true);
    assert!(!passed && text.contains("audit record 2"), "{text}");
}

/// A resubmission routed elsewhere takes the case away from the authority no longer competent:
/// out of its queue, case view, search and download history.
#[tokio::test]
async fn a_resubmission_routed_elsewhere_leaves_the_former_authority() {
    let applicant = logged_in("applicant-tokyo").await;
    let record = submitted(&applicant, joint_plan()).await;
    let id = id_of(&record);
    let mlit = staff_logged_in("reviewer-kanto-mlit").await;
    let (_, etag) = case_view(&mlit, &id).await;
    let response = mlit
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", &etag)
        .json(&json!({
            "message": "建設業の事業分野は計画に含まれますか。",
            "comments": [{"path": "/plan/business_fields", "message": "事業分野を確認してください。"}],
        }))
        .sent()
        .await;
    assert_eq!(response.status(), 200);

    // The applicant drops the construction field: the plan is now 経済産業局's alone.
    let response = applicant.get(&format!("/applications/{id}")).sent().await;
    let etag = header(&response, "etag");
    let response = applicant
        .http
        .patch(format!("{}/applications/{id}", keiryoku_e2e::api_url()))
        .header("x-csrf-token", applicant.csrf())
        .header("if-match", &etag)
        .json(&json!({"business_fields": complete_plan()["business_fields"]}))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let resubmitted = json(
        applicant
            .post(&format!("/applications/{id}/submit"))
            .header("idempotency-key", unique_key("reroute"))
            .sent()
            .await,
    )
    .await;
    assert_eq!(
        resubmitted["submission"]["office_ids"],
        json!(["meti-kanto"])
    );

    // 関東地方整備局 no longer has it anywhere; 関東経済産業局 does.
    for path in [
        format!("/review/cases/{id}"),
        format!("/review/cases/{id}/downloads"),
        format!("/review/cases/{id}/history"),
    ] {
        problem(mlit.get(&path).sent().await, 404).await;
    }
    assert!(!queue_ids(&mlit).await.contains(&id));
    let found = json(
        mlit.get("/review/cases?corporate_number=9010401234567&limit=200")
            .sent()
            .await,
    )
    .await;
    assert!(!found.to_string().contains(&id), "not in its search");
    let meti = staff_logged_in("reviewer-kanto-meti").await;
    assert!(queue_ids(&meti).await.contains(&id));
}

/// The statistics CSV of 四国経済産業局 for this month, as column name → value.
async fn shikoku_statistics(staff: &Browser) -> std::collections::HashMap<String, String> {
    let response = staff
        .get("/staff/statistics.csv?office=meti-shikoku&from=&to=")
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    let bytes = response.bytes().await.unwrap_or_default();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for Excel");
    let text = String::from_utf8_lossy(&bytes[3..]).into_owned();
    let mut lines = text.split("\r\n");
    let head: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let month = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    let row = lines
        .find(|l| l.starts_with("meti-shikoku,") && l.contains(&format!(",{month},")))
        .unwrap_or_default();
    head.into_iter()
        .zip(row.split(',').map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_statistics_equal_an_independent_count_of_a_few_hundred_generated_cases() {
    let applicant = logged_in("applicant-tokyo").await;
    let reviewer = staff_logged_in("reviewer-shikoku-meti").await;
    let before = shikoku_statistics(&reviewer).await;

    // 200 plans of a company in 香川県, routed to 四国経済産業局, each given an outcome.
    let mut plan = complete_plan();
    plan["applicant"]["head_office"]["prefecture_code"] = json!("37");
    const N: usize = 200;
    let outcomes = ["certified", "returned", "rejected", "withdrawn", "pending"];
    let outcome_of = |i: usize| match i % 8 {
        0 | 1 => "certified",
        2 | 3 => "returned",
        4 => "rejected",
        5 => "withdrawn",
        _ => "pending",
    };
    for batch in (0..N).collect::<Vec<_>>().chunks(8) {
        let tasks = batch.iter().map(|&i| {
            let (applicant, reviewer, plan) = (applicant.clone(), reviewer.clone(), plan.clone());
            tokio::spawn(async move {
                let record = submitted(&applicant, plan).await;
                let id = id_of(&record);
                let response = match outcome_of(i) {
                    "pending" => return,
                    "withdrawn" => {
                        applicant
                            .post(&format!("/applications/{id}/withdraw"))
                            .header("if-match", etag_of(&record))
                            .sent()
                            .await
                    }
                    decision => {
                        let (action, body) = match decision {
                            "certified" => ("approve", json!({})),
                            "returned" => ("return", json!({"message": "確認してください。"})),
                            _ => ("reject", json!({"reason": "要件を満たしません。"})),
                        };
                        reviewer
                            .post(&format!("/review/cases/{id}/{action}"))
                            .header("if-match", etag_of(&record))
                            .json(&body)
                            .sent()
                            .await
                    }
                };
                assert_eq!(response.status(), 200, "{} of {id}", outcome_of(i));
            })
        });
        for task in tasks.collect::<Vec<_>>() {
            task.await.unwrap_or_else(|e| panic!("task: {e}"));
        }
    }

    // Counted independently: how many of each outcome were made.
    let made = |outcome: &str| (0..N).filter(|&i| outcome_of(i) == outcome).count() as i64;
    let after = shikoku_statistics(&reviewer).await;
    let delta = |column: &str| {
        let value = |m: &std::collections::HashMap<String, String>| {
            m.get(column)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        value(&after) - value(&before)
    };
    assert_eq!(delta("受付"), N as i64);
    let columns = ["認定", "差戻し中", "不認定", "取下げ", "審査中"];
    for (column, outcome) in columns.iter().zip(outcomes) {
        assert_eq!(delta(column), made(outcome), "{column}");
    }
    assert_eq!(
        delta("判断済み"),
        made("certified") + made("returned") + made("rejected")
    );
    assert_eq!(
        delta("期限超過（現在）"),
        0,
        "nothing received today is overdue"
    );
    if before.is_empty() {
        // A fresh stack: every decision was taken on the day of receipt.
        assert_eq!(
            after.get("判断までの日数（中央値）").map(String::as_str),
            Some("0")
        );
        assert_eq!(
            after
                .get("判断までの日数（90パーセンタイル）")
                .map(String::as_str),
            Some("0")
        );
    }

    // The page shows the same period with its chart and tables, and the reader of 経済産業省
    // sees 四国経済産業局 among its authorities; the 地方運輸局 reader does not.
    let page = reviewer.get("/staff/statistics").sent().await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap_or_default();
    assert!(page.contains("role=\"img\""));
    assert!(page.contains("<caption>月別（受付月ごと）</caption>"));
    let reader = staff_logged_in("reader-meti").await;
    let wide = reader.get("/staff/statistics").sent().await;
    assert!(
        wide.text()
            .await
            .unwrap_or_default()
            .contains("四国経済産業局")
    );
    let other = staff_logged_in("reader-transport").await;
    let refused = other
        .get("/staff/statistics.csv?office=meti-shikoku")
        .sent()
        .await;
    assert_eq!(
        refused.status(),
        400,
        "an authority outside the scope is not counted"
    );
}
