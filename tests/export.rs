//! The export for agencies' machine clients, end to end: tokens from the dev identity provider
//! (OAuth 2.0 client credentials), checked by the local gateway as the HTTP API's JWT
//! authorizer, and the change feed each registered client may read.

use std::collections::{BTreeMap, HashMap, HashSet};

use keiryoku_e2e::{
    Browser, Sent, api_url, certified, certified_plan, change_of, complete_plan, header, json,
    logged_in, problem, s3, staff_logged_in, submitted, unique_key, verify_by_facts,
};
use serde_json::{Value, json};

/// The seeded agency clients (infra/agency-clients.json) with their local secrets.
fn secret_of(client_id: &str) -> String {
    let text = include_str!("../infra/agency-clients.json");
    let clients: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
    clients
        .iter()
        .find(|c| c["client_id"] == client_id)
        .and_then(|c| c["local"]["secret"].as_str())
        .unwrap_or_else(|| panic!("no seeded client {client_id}"))
        .to_string()
}

fn idp_url() -> String {
    std::env::var("KEIRYOKU_IDP_URL")
        .unwrap_or_else(|_| panic!("KEIRYOKU_IDP_URL is not set: run with `make test`"))
}

/// A client-credentials token of a seeded agency client (`extra`: more form fields).
async fn token(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let response = reqwest::Client::new()
        .post(format!("{}/oauth/token", idp_url()))
        .basic_auth(client_id, Some(secret_of(client_id)))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("token endpoint: {e}"));
    assert_eq!(response.status(), 200, "token for {client_id}");
    json(response).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn feed_get(token: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}/export/v1/feed{query}", api_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap_or_else(|e| panic!("feed: {e}"))
}

/// Pages through the feed from `cursor` to its end: the events and the cursor after them.
async fn read_to_end(token: &str, cursor: Option<String>, limit: usize) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor = cursor;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit={limit}&cursor={c}"),
            None => format!("?limit={limit}"),
        };
        let response = feed_get(Some(token), &query).await;
        assert_eq!(response.status(), 200);
        let page = json(response).await;
        events.extend(page["events"].as_array().cloned().unwrap_or_default());
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if page["more"] != true {
            return (events, cursor.unwrap_or_default());
        }
    }
}

/// `(kind, application id)` of the events about `ids`.
fn about(events: &[Value], ids: &[&str]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| ids.contains(&e["application_id"].as_str().unwrap_or_default()))
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["application_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, id)| (k.to_string(), id.to_string()))
        .collect()
}

/// A plan only 国土交通省 is competent for (建設業 alone: 関東地方整備局).
fn construction_plan() -> Value {
    let mut plan = complete_plan();
    plan["business_fields"] = json!([{"middle_code": "06", "detail_code": "0621"}]);
    plan
}

#[tokio::test]
async fn the_gateway_refuses_tokens_that_are_missing_expired_foreign_or_lack_the_scope() {
    // No token, and a token that is not one.
    let response = feed_get(None, "").await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await["message"], "Unauthorized");
    assert_eq!(feed_get(Some("not-a-jwt"), "").await.status(), 401);

    // A token of the right issuer for another audience.
    let other = token("chusho-kikakuka", &[("resource", "keiryoku-other")]).await;
    assert_eq!(feed_get(Some(&other), "").await.status(), 401);

    // A token whose signature was tampered with (one claim changed).
    let good = token("chusho-kikakuka", &[]).await;
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    assert_eq!(feed_get(Some(&forged), "").await.status(), 401);

    // The same claims under a header the authorizer must not trust: no algorithm, a
    // symmetric one (keyed with anything an attacker knows), or no key id.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header_of = |value: Value| b64.encode(value.to_string());
    let real_header: Value =
        serde_json::from_slice(&b64.decode(parts[0]).unwrap_or_default()).unwrap_or_default();
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "HS256", "typ": "JWT", "kid": real_header["kid"]}),
        json!({"alg": "RS256", "typ": "at+jwt"}),
    ] {
        let token = format!("{}.{}.{}", header_of(header.clone()), parts[1], parts[2]);
        assert_eq!(feed_get(Some(&token), "").await.status(), 401, "{header}");
        let unsigned = format!("{}.{}.", header_of(header.clone()), parts[1]);
        assert_eq!(
            feed_get(Some(&unsigned), "").await.status(),
            401,
            "{header}"
        );
    }

    // An expired token (this client's tokens live one second).
    let short = token("short-lived-test", &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(feed_get(Some(&short), "").await.status(), 401);

    // A token without export/feed: the gBizINFO client may take the public list only, and a
    // client that asked for a narrower scope gets what it asked for.
    let public_only = token("gbizinfo", &[]).await;
    let response = feed_get(Some(&public_only), "").await;
    assert_eq!(response.status(), 403);
    assert_eq!(json(response).await["message"], "Forbidden");
    let narrowed = token("chusho-kikakuka", &[("scope", "export/extracts")]).await;
    assert_eq!(feed_get(Some(&narrowed), "").await.status(), 403);

    // The same client with its full scopes reads the feed.
    let response = feed_get(Some(&good), "?limit=1").await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("application/json"));
}

#[tokio::test]
async fn a_cursor_is_accepted_only_unchanged_and_from_its_own_client() {
    let chusho = token("chusho-kikakuka", &[]).await;
    let meti = token("meti-honsho", &[]).await;
    let page = json(feed_get(Some(&chusho), "?limit=1").await).await;
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    assert!(!cursor.is_empty());
    assert_eq!(
        feed_get(Some(&chusho), &format!("?cursor={cursor}"))
            .await
            .status(),
        200
    );
    problem(
        feed_get(Some(&meti), &format!("?cursor={cursor}")).await,
        400,
    )
    .await;
    let mut forged = cursor.clone().into_bytes();
    forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap_or_default();
    problem(
        feed_get(Some(&chusho), &format!("?cursor={forged}")).await,
        400,
    )
    .await;
    for junk in ["%00", "AAAA", "../../", &"A".repeat(300)] {
        problem(
            feed_get(Some(&chusho), &format!("?cursor={junk}")).await,
            400,
        )
        .await;
    }
    problem(feed_get(Some(&chusho), "?limit=0").await, 400).await;
    problem(feed_get(Some(&chusho), "?limit=1001").await, 400).await;
    problem(feed_get(Some(&chusho), "?since=1").await, 400).await;
}

#[tokio::test]
async fn each_agency_sees_exactly_the_plans_it_may() {
    let chusho = token("chusho-kikakuka", &[]).await;
    let meti = token("meti-honsho", &[]).await;
    let mirasapo = token("mirasapo-connect", &[]).await;
    // Each client starts at the feed's current end, so other tests' events do not count.
    let (_, chusho_start) = read_to_end(&chusho, None, 1000).await;
    let (_, meti_start) = read_to_end(&meti, None, 1000).await;
    let (_, mirasapo_start) = read_to_end(&mirasapo, None, 1000).await;

    let tokyo = logged_in("applicant-tokyo").await;
    // A: certified by 関東経済産業局, data-use consent given.
    let a = certified(&tokyo).await;
    // B: submitted without data-use consent.
    let mut plan = complete_plan();
    plan["data_use_consent"] = json!(false);
    let b = submitted(&tokyo, plan).await;
    // C: a plan for 国土交通省 only (not 経済産業省's), consent given.
    let c = submitted(&tokyo, construction_plan()).await;
    // D: certified with consent, then the consent withdrawn.
    let d = certified(&tokyo).await;
    let d_id = d["id"].as_str().unwrap_or_default().to_string();
    let response = tokyo
        .post(&format!("/applications/{d_id}/consent/withdraw"))
        .header("if-match", format!("\"{}\"", d["version"]))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
    let withdrawn = json(response).await;
    assert!(withdrawn["consent"]["data_use_withdrawn_at"].is_string());
    assert_eq!(withdrawn["consent"]["wording_version"], "2026-04");
    // Withdrawing again is refused and changes nothing.
    let again = tokyo
        .post(&format!("/applications/{d_id}/consent/withdraw"))
        .header("if-match", format!("\"{}\"", withdrawn["version"]))
        .sent()
        .await;
    problem(again, 409).await;

    let id = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
    let (a, b, c) = (id(&a), id(&b), id(&c));
    let ids = [a.as_str(), b.as_str(), c.as_str(), d_id.as_str()];

    let (seen, _) = read_to_end(&chusho, Some(chusho_start), 7).await;
    assert_eq!(
        about(&seen, &ids),
        pairs(&[
            ("submitted", &a),
            ("certified", &a),
            ("submitted", &b),
            ("submitted", &c),
            ("submitted", &d_id),
            ("certified", &d_id),
            ("consent_withdrawn", &d_id),
        ]),
        "the SME Agency sees every plan"
    );
    let certified_a = seen
        .iter()
        .find(|e| e["application_id"] == a.as_str() && e["kind"] == "certified")
        .cloned()
        .unwrap_or_default();
    assert!(certified_a["certification_number"].is_string());
    assert_eq!(certified_a["office_ids"], json!(["meti-kanto"]));
    assert_eq!(
        certified_a["event_id"],
        format!("{a}:{}:certified", certified_a["version"])
    );

    let (seen, _) = read_to_end(&meti, Some(meti_start), 1000).await;
    assert_eq!(
        about(&seen, &ids),
        pairs(&[
            ("submitted", &a),
            ("certified", &a),
            ("submitted", &b),
            ("submitted", &d_id),
            ("certified", &d_id),
            ("consent_withdrawn", &d_id),
        ]),
        "経済産業省 sees the plans addressed to it, not 国土交通省's"
    );

    let (seen, _) = read_to_end(&mirasapo, Some(mirasapo_start), 1000).await;
    assert_eq!(
        about(&seen, &ids),
        pairs(&[
            ("submitted", &a),
            ("certified", &a),
            ("submitted", &c),
            ("consent_withdrawn", &d_id),
        ]),
        "ミラサポCONNECT sees plans with data-use consent only; a withdrawn consent hides the \
         plan's earlier events and tells the withdrawal"
    );
}

#[tokio::test]
async fn a_certified_change_is_told_as_changed_and_supersedes_the_original() {
    let chusho = token("chusho-kikakuka", &[]).await;
    let (_, start) = read_to_end(&chusho, None, 1000).await;
    let owner = logged_in("applicant-tokyo").await;
    let original = certified(&owner).await;
    let original_id = original["id"].as_str().unwrap_or_default().to_string();
    let change = change_of(&owner, &original_id).await;
    let change_id = change["id"].as_str().unwrap_or_default().to_string();
    let response = owner
        .post(&format!("/applications/{change_id}/submit"))
        .header("idempotency-key", unique_key("submit"))
        .header("if-match", format!("\"{}\"", change["version"]))
        .sent()
        .await;
    let submitted = json(response).await;
    assert_eq!(submitted["status"], "submitted", "{submitted}");
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let response = reviewer
        .post(&format!("/review/cases/{change_id}/approve"))
        .header("if-match", format!("\"{}\"", submitted["version"]))
        .sent()
        .await;
    assert_eq!(json(response).await["status"], "certified");

    let (seen, _) = read_to_end(&chusho, Some(start), 1000).await;
    let ids = [original_id.as_str(), change_id.as_str()];
    assert_eq!(
        about(&seen, &ids),
        pairs(&[
            ("submitted", &original_id),
            ("certified", &original_id),
            ("submitted", &change_id),
            ("changed", &change_id),
            ("superseded", &original_id),
        ])
    );
    let superseded = seen
        .iter()
        .find(|e| e["kind"] == "superseded")
        .cloned()
        .unwrap_or_default();
    assert_eq!(superseded["related_application_id"], change_id.as_str());
    assert_eq!(
        superseded["certification_number"],
        original["certification"]["number"]
    );

    // Anyone checks either by what its 認定書 prints: the original is replaced, the change holds.
    let changed = json(
        owner
            .get(&format!("/applications/{change_id}"))
            .sent()
            .await,
    )
    .await;
    for (record, status) in [(&original, "superseded"), (&changed, "valid")] {
        let (corporate, number, on) = printed_facts(record);
        let answer = json(verify_by_facts(&corporate, &number, &on).await).await;
        assert_eq!(answer["status"], status, "{answer}");
        assert_eq!(answer["origin"], "platform");
        assert_eq!(answer["certification_number"], number.as_str());
    }
}

/// 法人番号, 認定番号 and 認定日 of a certified application, as its 認定書 prints them.
fn printed_facts(record: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let facts = (
        text(&record["plan"]["applicant"]["corporate_number"]),
        text(&record["certification"]["number"]),
        text(&record["certification"]["certified_on"]),
    );
    assert!(
        !facts.0.is_empty() && !facts.1.is_empty() && !facts.2.is_empty(),
        "{record}"
    );
    facts
}

/// Two change applications of one certification: the first certified supersedes it, and the
/// second cannot be certified as well (it would supersede it a second time).
#[tokio::test]
async fn a_certification_is_superseded_by_one_certified_change_only() {
    let owner = logged_in("applicant-tokyo").await;
    let original = certified(&owner).await;
    let original_id = original["id"].as_str().unwrap_or_default().to_string();
    let mut filed = Vec::new();
    for _ in 0..2 {
        let change = change_of(&owner, &original_id).await;
        let change_id = change["id"].as_str().unwrap_or_default().to_string();
        let response = owner
            .post(&format!("/applications/{change_id}/submit"))
            .header("idempotency-key", unique_key("submit"))
            .header("if-match", format!("\"{}\"", change["version"]))
            .sent()
            .await;
        let submitted = json(response).await;
        assert_eq!(submitted["status"], "submitted", "{submitted}");
        filed.push(submitted);
    }
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let approve = |record: &Value| {
        reviewer
            .post(&format!(
                "/review/cases/{}/approve",
                record["id"].as_str().unwrap_or_default()
            ))
            .header("if-match", format!("\"{}\"", record["version"]))
    };
    let first = approve(&filed[0]).sent().await;
    assert_eq!(json(first).await["status"], "certified");
    let refused = problem(approve(&filed[1]).sent().await, 409).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("既に別の変更申請"),
        "{refused}"
    );
    // Nothing of the refused approval was kept.
    let second = json(
        owner
            .get(&format!(
                "/applications/{}",
                filed[1]["id"].as_str().unwrap_or_default()
            ))
            .sent()
            .await,
    )
    .await;
    assert_eq!(second["status"], "submitted");
    assert_eq!(second["version"], filed[1]["version"]);
}

/// 1,000 state changes by concurrent applicants and reviewers while an agency pages through
/// the feed: every change shows up exactly once, in each application's order.
#[tokio::test]
async fn the_feed_loses_and_duplicates_nothing_while_changes_interleave() {
    const APPLICATIONS: usize = 10;
    const ROUNDS: usize = 50; // a return and a resubmission each: 2 × 50 × 10 = 1,000 changes
    let chusho = token("chusho-kikakuka", &[]).await;
    let (_, start) = read_to_end(&chusho, None, 1000).await;

    let tokyo = logged_in("applicant-tokyo").await;
    let mut ids = Vec::new();
    for _ in 0..APPLICATIONS {
        let record = submitted(&tokyo, complete_plan()).await;
        ids.push(record["id"].as_str().unwrap_or_default().to_string());
    }

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        let token = chusho.clone();
        tokio::spawn(async move {
            let mut events = Vec::new();
            let mut cursor = start;
            let mut pages = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let response = feed_get(Some(&token), &format!("?limit=37&cursor={cursor}")).await;
                assert_eq!(response.status(), 200);
                let page = json(response).await;
                pages += 1;
                events.extend(page["events"].as_array().cloned().unwrap_or_default());
                cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
                // After the writers finished, one more pass to the end sees the rest.
                if finished && page["more"] != true {
                    return (events, pages);
                }
                if page["more"] != true {
                    // Caught up: poll again a little later (moto reads the whole partition per query).
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                }
            }
        })
    };

    let reviewer = std::sync::Arc::new(staff_logged_in("reviewer-kanto-meti").await);
    let applicant = std::sync::Arc::new(tokyo);
    let mut writers = Vec::new();
    for id in ids.clone() {
        let reviewer = reviewer.clone();
        let applicant = applicant.clone();
        writers.push(tokio::spawn(async move {
            // Each answer carries the ETag of the version it made: no read in between.
            let (mut etag, _) = current(&applicant, &id).await;
            for round in 0..ROUNDS {
                let response = reviewer
                    .post(&format!("/review/cases/{id}/return"))
                    .header("if-match", &etag)
                    .json(&json!({ "message": format!("第{round}回の修正依頼です。") }))
                    .sent()
                    .await;
                assert_eq!(response.status(), 200, "return {id} at {etag}");
                etag = header(&response, "etag");
                let response = applicant
                    .post(&format!("/applications/{id}/submit"))
                    .header("idempotency-key", unique_key("resubmit"))
                    .header("if-match", &etag)
                    .sent()
                    .await;
                assert_eq!(response.status(), 200, "resubmit {id}");
                etag = header(&response, "etag");
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap_or_else(|e| panic!("writer: {e}"));
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (events, pages) = reader.await.unwrap_or_else(|e| panic!("reader: {e}"));

    let ours: Vec<&Value> = events
        .iter()
        .filter(|e| ids.iter().any(|id| e["application_id"] == id.as_str()))
        .collect();
    let unique: HashSet<&str> = ours
        .iter()
        .map(|e| e["event_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(unique.len(), ours.len(), "no event is delivered twice");
    assert_eq!(
        ours.len(),
        APPLICATIONS * (1 + 2 * ROUNDS),
        "every submission, return and resubmission is in the feed ({pages} pages read)"
    );
    // Per application: consecutive versions, alternating kinds, ending at the stored version.
    let mut by_application: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for event in &ours {
        by_application
            .entry(event["application_id"].as_str().unwrap_or_default())
            .or_default()
            .push((
                event["version"].as_i64().unwrap_or_default(),
                event["kind"].as_str().unwrap_or_default(),
            ));
    }
    for id in &ids {
        let list = &by_application[id.as_str()];
        let (_, stored) = current(&applicant, id).await;
        assert_eq!(list.last().map(|(v, _)| *v), Some(stored), "{id}");
        for pair in list.windows(2) {
            assert_eq!(
                pair[1].0,
                pair[0].0 + 1,
                "{id}: versions in order, none missing"
            );
            assert_ne!(
                pair[1].1, pair[0].1,
                "{id}: return and resubmission alternate"
            );
        }
    }
    let kinds: BTreeMap<&str, usize> = ours.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e["kind"].as_str().unwrap_or_default()).or_default() += 1;
        m
    });
    assert_eq!(kinds["returned"], APPLICATIONS * ROUNDS);

    // The changes' effects (an application PDF and mails per resubmission) are done before the
    // next suite, whose own effects would otherwise wait behind them in the stream.
    let s3 = s3().await;
    let bucket = std::env::var("KEIRYOKU_BUCKET").unwrap_or_default();
    for id in &ids {
        let (_, version) = current(&applicant, id).await;
        let key = format!("applications/{id}/{version}.pdf");
        let mut kept = false;
        for _ in 0..1200 {
            let head = s3.head_object().bucket(&bucket).key(&key).send().await;
            if head.is_ok() {
                kept = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        assert!(
            kept,
            "the effects of the last resubmission of {id} ran within 10 minutes"
        );
    }
}

/// The application's ETag and version as its owner reads it now.
async fn current(applicant: &Browser, id: &str) -> (String, i64) {
    let response = applicant.get(&format!("/applications/{id}")).sent().await;
    assert_eq!(response.status(), 200);
    let etag = header(&response, "etag");
    let version = json(response).await["version"].as_i64().unwrap_or_default();
    (etag, version)
}

/// The month of today in Japan (`YYYY-MM`), the month a certification made now is filed under.
fn this_month() -> String {
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    format!("{:04}-{:02}", today.year(), u8::from(today.month()))
}

/// A complete plan of 浪速金属工業株式会社 (applicant-osaka's company).
fn osaka_plan(publication: bool) -> Value {
    let mut plan = complete_plan();
    plan["applicant"]["corporate_number"] = json!("7120001234561");
    plan["publication_consent"] = json!(publication);
    plan
}

async fn company_certifications(token: Option<&str>, number: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!(
        "{}/export/v1/companies/{number}/certifications",
        api_url()
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_public_list_and_gbizinfo_show_only_certifications_that_chose_publication() {
    let gbizinfo = token("gbizinfo", &[]).await;
    let before = json(company_certifications(Some(&gbizinfo), "7120001234561").await).await;
    let before = before["certification"].as_array().map_or(0, Vec::len);

    let osaka = logged_in("applicant-osaka").await;
    let published = certified_plan(&osaka, osaka_plan(true)).await;
    let unpublished = certified_plan(&osaka, osaka_plan(false)).await;
    let number = |v: &Value| {
        v["certification"]["number"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // The public list of the month: anyone, no token; CSV for Excel.
    let url = format!(
        "{}/export/v1/public/certified-companies?month={}",
        api_url(),
        this_month()
    );
    let response = reqwest::get(&url).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    let bytes = response.bytes().await.unwrap_or_default();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for Excel");
    let text = String::from_utf8_lossy(&bytes[3..]).to_string();
    assert!(text.starts_with("認定日,認定番号,事業者名,法人番号,都道府県,事業分野,認定行政庁\r\n"));
    let line = text
        .split("\r\n")
        .find(|l| l.contains(&number(&published)))
        .unwrap_or_else(|| panic!("the published certification is listed: {text}"));
    assert!(line.contains("浪速金属工業株式会社") && line.contains("7120001234561"));
    assert!(
        line.contains("東京都") && line.contains("関東経済産業局"),
        "{line}"
    );
    assert!(
        !text.contains(&number(&unpublished)),
        "a certification without 公表可 is not listed"
    );
    for bad in ["2026-13", "2026", "abc", ""] {
        let response = reqwest::get(format!(
            "{}/export/v1/public/certified-companies?month={bad}",
            api_url()
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        problem(response, 400).await;
    }

    // gBizINFO's shape, for the gBizINFO client (scope export/public).
    let response = company_certifications(Some(&gbizinfo), "7120001234561").await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    let items = body["certification"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), before + 1, "the published one only: {body}");
    let newest = &items[items.len() - 1];
    assert_eq!(newest["title"], "経営力向上計画の認定");
    assert_eq!(newest["category"], "認定");
    assert_eq!(newest["government_departments"], "経済産業省");
    assert_eq!(
        newest["date_of_approval"],
        published["certification"]["certified_on"]
    );
    assert!(
        newest["expiration_date"]
            .as_str()
            .is_some_and(|d| d.len() == 10),
        "{newest}"
    );
    for key in ["enterprise_scale", "target"] {
        assert!(newest[key].is_string(), "{key}");
    }

    // The route needs a token with export/public; a bad 法人番号 is the caller's mistake.
    assert_eq!(
        company_certifications(None, "7120001234561").await.status(),
        401
    );
    let meti = token("meti-honsho", &[]).await;
    assert_eq!(
        company_certifications(Some(&meti), "7120001234561")
            .await
            .status(),
        403
    );
    for bad in [
        "7120001234562",
        "712000123456",
        "７１２０００１２３４５６１",
    ] {
        problem(company_certifications(Some(&gbizinfo), bad).await, 400).await;
    }
}

/// Asks for an extract of this month and waits until it is written; the finished job.
async fn extract(token: &str, format: &str) -> Value {
    let client = reqwest::Client::new();
    let month = this_month();
    let response = client
        .post(format!("{}/export/v1/extracts", api_url()))
        .bearer_auth(token)
        .json(&json!({ "from": month, "to": month, "format": format }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 202);
    let location = header(&response, "location");
    let job = json(response).await;
    assert_eq!(job["state"], "queued");
    assert_eq!(
        location,
        format!(
            "/export/v1/extracts/{}",
            job["id"].as_str().unwrap_or_default()
        )
    );
    for _ in 0..600 {
        let response = client
            .get(format!("{}{location}", api_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200);
        let job = json(response).await;
        match job["state"].as_str() {
            Some("done") => return job,
            Some("failed") => panic!("extract failed: {job}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("the extract did not finish within a minute")
}

async fn download(job: &Value) -> Vec<u8> {
    let url = job["download_url"].as_str().unwrap_or_default();
    let response = reqwest::get(url).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.unwrap_or_default().to_vec()
}

#[tokio::test]
async fn a_bulk_extract_is_a_job_whose_file_holds_what_the_client_may_see() {
    let tokyo = logged_in("applicant-tokyo").await;
    // A: consent given; B: no data-use consent; C: 国土交通省's only.
    let a = certified(&tokyo).await;
    let mut plan = complete_plan();
    plan["data_use_consent"] = json!(false);
    let b = certified_plan(&tokyo, plan).await;
    let c = submitted(&tokyo, construction_plan()).await;
    let c_id = c["id"].as_str().unwrap_or_default().to_string();
    let mlit = staff_logged_in("reviewer-kanto-mlit").await;
    let response = mlit
        .post(&format!("/review/cases/{c_id}/approve"))
        .header("if-match", format!("\"{}\"", c["version"]))
        .sent()
        .await;
    let c = json(response).await;
    assert_eq!(c["status"], "certified", "{c}");
    let number = |v: &Value| {
        v["certification"]["number"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (a, b, c) = (number(&a), number(&b), number(&c));

    // The SME Agency: CSV for Excel, every plan.
    let chusho = token("chusho-kikakuka", &[]).await;
    let job = extract(&chusho, "csv").await;
    let bytes = download(&job).await;
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8_lossy(&bytes[3..]).to_string();
    assert!(text.starts_with("申請ID,申請区分,認定番号,認定日,"));
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        job["rows"].as_u64(),
        Some(text.matches("\r\n").count() as u64 - 1),
        "rows counted as written"
    );
    for n in [&a, &b, &c] {
        assert!(text.contains(n.as_str()), "{n} in the SME Agency's extract");
    }

    // 経済産業省: its ministry's plans only.
    let meti = token("meti-honsho", &[]).await;
    let text = String::from_utf8_lossy(&download(&extract(&meti, "csv").await).await).to_string();
    assert!(text.contains(&a) && text.contains(&b) && !text.contains(&c));

    // ミラサポCONNECT: NDJSON.gz, only plans with data-use consent.
    let mirasapo = token("mirasapo-connect", &[]).await;
    let job = extract(&mirasapo, "ndjson_gz").await;
    let compressed = download(&job).await;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(compressed.as_slice()),
        &mut text,
    )
    .unwrap_or_else(|e| panic!("gzip: {e}"));
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        records.len() as u64,
        job["rows"].as_u64().unwrap_or_default()
    );
    let numbers: Vec<&str> = records
        .iter()
        .filter_map(|r| r["certification_number"].as_str())
        .collect();
    assert!(numbers.contains(&a.as_str()) && numbers.contains(&c.as_str()));
    assert!(
        !numbers.contains(&b.as_str()),
        "no data-use consent, not shared"
    );
    assert!(records.iter().all(|r| r["data_use_consent"] == true));

    // A job is its client's only; a bad period is refused; the scope is needed.
    let other = reqwest::Client::new()
        .get(format!(
            "{}/export/v1/extracts/{}",
            api_url(),
            job["id"].as_str().unwrap_or_default()
        ))
        .bearer_auth(&chusho)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    problem(other, 404).await;
    for body in [
        json!({"from": "2026-05", "to": "2026-04", "format": "csv"}),
        json!({"from": "2026-13", "to": "2026-12", "format": "csv"}),
        json!({"from": "2026-01", "to": "2026-02", "format": "xlsx"}),
        json!({"from": "2026-01", "to": "2026-02"}),
    ] {
        let response = reqwest::Client::new()
            .post(format!("{}/export/v1/extracts", api_url()))
            .bearer_auth(&chusho)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{body}: {status}");
    }
    let gbizinfo = token("gbizinfo", &[]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/export/v1/extracts", api_url()))
        .bearer_auth(&gbizinfo)
        .json(&json!({"from": "2026-01", "to": "2026-02", "format": "csv"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 403);
}

/// Fires the lake copy's schedule now.
async fn fire_lake() {
    let scheduler = std::env::var("KEIRYOKU_SCHEDULER_URL")
        .unwrap_or_else(|_| panic!("KEIRYOKU_SCHEDULER_URL is not set: run with `make test`"));
    let response = reqwest::Client::new()
        .post(format!("{scheduler}/schedules/FeedToLake"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scheduler: {e}"));
    assert_eq!(response.status(), 200, "the lake copy ran");
}

/// Every event of the lake under `feed/dt=<day>/`, one per line of every object.
async fn lake_events(day: &str) -> Vec<Value> {
    let s3 = s3().await;
    let bucket = std::env::var("KEIRYOKU_LAKE_BUCKET").unwrap_or_default();
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(format!("feed/dt={day}/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e}"));
    let mut events = Vec::new();
    for object in listed.contents() {
        let key = object.key().unwrap_or_default();
        assert!(key.ends_with(".ndjson.gz"), "{key}");
        let body = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {key}: {e}"))
            .body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("read {key}: {e}"))
            .into_bytes();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut text)
            .unwrap_or_else(|e| panic!("gzip {key}: {e}"));
        events.extend(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))),
        );
    }
    events
}

#[tokio::test]
async fn the_feed_lands_in_the_lake_by_day_once_whatever_the_runs() {
    let tokyo = logged_in("applicant-tokyo").await;
    let record = submitted(&tokyo, complete_plan()).await;
    let event_id = format!(
        "{}:{}:submitted",
        record["id"].as_str().unwrap_or_default(),
        record["version"]
    );
    let day = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string();
    for run in 0..2 {
        fire_lake().await;
        let events = lake_events(&day).await;
        let copies = events
            .iter()
            .filter(|e| e["event_id"] == event_id.as_str())
            .count();
        assert_eq!(copies, 1, "run {run}: the event is in the lake once");
        let unique: std::collections::HashSet<&str> = events
            .iter()
            .filter_map(|e| e["event_id"].as_str())
            .collect();
        assert_eq!(unique.len(), events.len(), "run {run}: no event twice");
    }
}

/// A plan only 東京国税局 is competent for (税理士事務所): it is filed on paper.
fn paper_plan() -> Value {
    let mut plan = complete_plan();
    plan["business_fields"] = json!([{"middle_code": "72", "detail_code": "7242"}]);
    plan["guideline_id"] = json!("basic_policy");
    plan
}

fn today_in_japan() -> String {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string()
}

#[tokio::test]
async fn a_paper_certification_recorded_by_its_authority_counts_as_any_certification() {
    let national = token("chusho-kikakuka", &[]).await;
    let (_, cursor) = read_to_end(&national, None, 1000).await;

    // The company finalises a plan for 東京国税局, which takes applications on paper only.
    let tokyo = logged_in("applicant-tokyo").await;
    let created = json(
        tokyo
            .post("/applications")
            .json(&json!({ "plan": paper_plan() }))
            .sent()
            .await,
    )
    .await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let finalised = tokyo
        .post(&format!("/applications/{id}/finalise"))
        .header("if-match", "\"1\"")
        .sent()
        .await;
    assert_eq!(finalised.status(), 200);
    let finalised = json(finalised).await;
    assert_eq!(finalised["status"], "finalised_for_paper");
    let version = finalised["version"].as_i64().unwrap_or_default();

    // 東京国税局's reviewer finds the paper filing among its cases, waiting.
    let nta = staff_logged_in("reviewer-tokyo-nta").await;
    let cases = json(
        nta.get("/review/cases?status=finalised_for_paper")
            .sent()
            .await,
    )
    .await;
    let case = cases["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["application_id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the paper filing is one of 東京国税局's cases: {cases}"));
    assert_eq!(case["decision"], "pending");
    assert_eq!(case["receipt_number"], "紙申請");
    // Another authority's reviewer has no such case.
    let kanto = staff_logged_in("reviewer-kanto-meti").await;
    let record = |body: Value| {
        let path = format!("/review/cases/{id}/paper-certification");
        move |reviewer: &Browser, version: i64| {
            reviewer
                .post(&path)
                .header("if-match", format!("\"{version}\""))
                .json(&body)
        }
    };
    let number = format!("東局第{}号", &unique_key("p")[..10]);
    let good = record(json!({"certification_number": number, "certified_on": today_in_japan()}));
    problem(good(&kanto, version).sent().await, 404).await;
    // Nor is a paper filing approved as if it had been filed online.
    problem(
        nta.post(&format!("/review/cases/{id}/approve"))
            .header("if-match", format!("\"{version}\""))
            .sent()
            .await,
        409,
    )
    .await;
    // What the reviewer enters is checked, field by field, and nothing changes.
    let bad = record(json!({"certification_number": " ", "certified_on": "2099-01-01"}));
    let refused = problem(bad(&nta, version).sent().await, 422).await;
    let paths: HashSet<&str> = refused["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        HashSet::from(["/certification_number", "/certified_on"]),
        "{refused}"
    );
    let unchanged = json(tokyo.get(&format!("/applications/{id}")).sent().await).await;
    assert_eq!(unchanged["version"], version);
    assert_eq!(unchanged["status"], "finalised_for_paper");
    // A stale version is refused.
    problem(good(&nta, version - 1).sent().await, 412).await;

    // Recorded: certified, with the number and date of the paper certificate.
    let response = good(&nta, version).sent().await;
    assert_eq!(response.status(), 200);
    let certified = json(response).await;
    assert_eq!(certified["status"], "certified", "{certified}");
    assert_eq!(certified["certification"]["number"], number.as_str());
    assert_eq!(certified["certification"]["certified_on"], today_in_japan());
    assert_eq!(
        certified["certification"]["office_ids"],
        json!(["nta-tokyo"])
    );
    // Once only.
    problem(good(&nta, version + 1).sent().await, 409).await;

    // In the search, as certified, by its number.
    let found = json(
        nta.get("/review/cases")
            .query(&[("certification_number", &number)])
            .sent()
            .await,
    )
    .await;
    let case = found["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["application_id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("found by its number: {found}"));
    assert_eq!(case["decision"], "certified");
    assert_eq!(case["certification_number"], number.as_str());

    // In the change feed, as certified, and in the public list of the month (公表可).
    let (events, _) = read_to_end(&national, Some(cursor.clone()), 1000).await;
    assert_eq!(about(&events, &[&id]), pairs(&[("certified", &id)]));
    let list = reqwest::get(format!(
        "{}/export/v1/public/certified-companies?month={}",
        api_url(),
        this_month()
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .text()
    .await
    .unwrap_or_default();
    assert!(list.contains(&number), "the public list holds it");

    // Anyone checks it by what the paper 認定書 prints, as one certified here.
    let (corporate, _, _) = printed_facts(&certified);
    let answer = json(verify_by_facts(&corporate, &number, &today_in_japan()).await).await;
    assert_eq!(answer["status"], "valid", "{answer}");
    assert_eq!(answer["origin"], "paper");
    assert_eq!(answer["authorities"], json!(["東京国税局"]));

    // The company sees it certified and files a 変更申請 from it (back to 東京国税局), on paper
    // again, and 東京国税局 records the changed certification.
    let change = change_of(&tokyo, &id).await;
    assert_eq!(change["change_of"]["certification_number"], number.as_str());
    assert_eq!(change["change_of"]["office_ids"], json!(["nta-tokyo"]));
    let change_id = change["id"].as_str().unwrap_or_default().to_string();
    let finalised = tokyo
        .post(&format!("/applications/{change_id}/finalise"))
        .header("if-match", format!("\"{}\"", change["version"]))
        .sent()
        .await;
    let finalised = json(finalised).await;
    assert_eq!(finalised["status"], "finalised_for_paper", "{finalised}");
    let change_number = format!("東局変第{}号", &unique_key("p")[..10]);
    let recorded = nta
        .post(&format!("/review/cases/{change_id}/paper-certification"))
        .header("if-match", format!("\"{}\"", finalised["version"]))
        .json(&json!({"certification_number": change_number, "certified_on": today_in_japan()}))
        .sent()
        .await;
    assert_eq!(json(recorded).await["status"], "certified");
    // A change certified on paper replaces the certification as one certified here does: in
    // the feed, and for anyone who checks the earlier 認定書.
    let (events, _) = read_to_end(&national, Some(cursor), 1000).await;
    assert_eq!(
        about(&events, &[&id, &change_id]),
        pairs(&[
            ("certified", &id),
            ("changed", &change_id),
            ("superseded", &id)
        ])
    );
    let answer = json(verify_by_facts(&corporate, &number, &today_in_japan()).await).await;
    assert_eq!(answer["status"], "superseded", "{answer}");
    assert_eq!(answer["valid"], false);
    let answer = json(verify_by_facts(&corporate, &change_number, &today_in_japan()).await).await;
    assert_eq!(answer["status"], "valid", "{answer}");
    assert_eq!(answer["change"], true);
}
