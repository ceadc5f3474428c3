//! The authorisation matrix over every route of template.yaml, and bad input on every route:
//! another company, another authority's reviewer, an applicant on staff routes and staff on
//! applicant routes are all refused, and nothing changes. A route added to the template without
//! being classified here fails the test.

use keiryoku_e2e::{
    Browser, Sent, api_url, complete_plan, header, json, logged_in, staff_logged_in, submitted,
    unique_key,
};
use keiryoku_template::Template;
use serde_json::{Value, json};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// No login needed.
    Public,
    /// Any logged-in person (`/me`, logout).
    AnySession,
    /// A GビズID applicant, own company only.
    Applicant,
    /// A reviewer, own authority only.
    Staff,
    /// An applicant's web page (own company only), answered with HTML.
    ApplicantPage,
    /// A staff web page (own authority only), answered with HTML.
    StaffPage,
}

/// The web pages anyone may open (the start page, policies, help, assets).
const PUBLIC_PAGES: [&str; 6] = [
    "/",
    "/help",
    "/privacy",
    "/accessibility",
    "/login/refused",
    "/assets/{file}",
];

fn audience(method: &str, path: &str) -> Audience {
    match path {
        "$default" | "/health" | "/openapi.json" | "/auth/login" | "/auth/callback"
        | "/staff/login" | "/staff/callback" | "/routing/preview" => Audience::Public,
        _ if path.starts_with("/reference/") => Audience::Public,
        _ if path.starts_with("/verify/") => Audience::Public,
        _ if PUBLIC_PAGES.contains(&path) => Audience::Public,
        _ if path == "/mypage" || path.starts_with("/plans") => Audience::ApplicantPage,
        _ if path == "/staff" || path.starts_with("/staff/cases") => Audience::StaffPage,
        "/me" | "/auth/logout" => Audience::AnySession,
        _ if path.starts_with("/applications") || path == "/prefill" => Audience::Applicant,
        _ if path.starts_with("/review/") => Audience::Staff,
        _ => panic!("route {method} {path} is not classified in tests/authorization.rs"),
    }
}

fn routes() -> Vec<(String, String)> {
    let template =
        Template::load(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    template
        .functions
        .iter()
        .flat_map(|f| f.routes.iter())
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect()
}

/// A request as an attacker would make it: everything that would make it succeed if only the
/// caller were allowed (CSRF token, current ETag, a fresh idempotency key, a valid body).
fn request(browser: &Browser, method: &str, path: &str, etag: &str) -> reqwest::RequestBuilder {
    let url = format!("{}{path}", api_url());
    let builder = match method {
        "GET" => return browser.http.get(url),
        "POST" => browser.http.post(url),
        "PATCH" => browser.http.patch(url),
        "DELETE" => browser.http.delete(url),
        other => panic!("method {other}"),
    };
    if path.starts_with("/staff/cases") {
        // A staff page's decision form, complete: token, version, words, confirmation.
        let version = etag.trim_matches('"').to_string();
        return builder.form(&[
            (
                "csrf_token",
                browser.cookie("csrf_token").unwrap_or_default(),
            ),
            ("version", version),
            ("message", "修正してください。".to_string()),
            ("reason", "要件を満たしません。".to_string()),
            ("action", "confirm".to_string()),
        ]);
    }
    if path.starts_with("/plans") {
        // A page's form, complete: token, version, key, declaration.
        let version = etag.trim_matches('"').to_string();
        return builder.form(&[
            (
                "csrf_token",
                browser.cookie("csrf_token").unwrap_or_default(),
            ),
            ("version", version),
            ("key", unique_key("attack")),
            ("declaration", "yes".to_string()),
            ("/contact/name", "書き換え".to_string()),
        ]);
    }
    let body = if path.ends_with("/return") {
        json!({"message": "修正してください。", "comments": []})
    } else if path.ends_with("/reject") {
        json!({"reason": "要件を満たしません。"})
    } else if method == "PATCH" {
        json!({"current_state": {"challenges": "書き換え"}})
    } else {
        json!({})
    };
    builder
        .header(
            "x-csrf-token",
            browser.cookie("csrf_token").unwrap_or_default(),
        )
        .header("if-match", etag)
        .header("idempotency-key", unique_key("attack"))
        .json(&body)
}

/// The owner's view of an application: status, version and the length of its audit trail.
async fn fingerprint(owner: &Browser, id: &str) -> (Value, Value, usize) {
    let record = json(owner.get(&format!("/applications/{id}")).sent().await).await;
    let history = json(
        owner
            .get(&format!("/applications/{id}/history"))
            .sent()
            .await,
    )
    .await;
    (
        record["status"].clone(),
        record["version"].clone(),
        history["items"].as_array().map_or(0, Vec::len),
    )
}

#[tokio::test]
async fn every_route_refuses_the_wrong_people_and_nothing_changes() {
    let owner = logged_in("applicant-tokyo").await;
    let other_company = logged_in("applicant-osaka").await;
    let own_reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let other_reviewer = staff_logged_in("reviewer-kinki-meti").await;

    // A submitted application of 株式会社霞が関精機, routed to 関東経済産業局.
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let etag = format!("\"{}\"", record["version"]);
    let before = fingerprint(&owner, &id).await;

    let mut checked = 0;
    for (method, path) in routes() {
        let concrete = path.replace("{id}", &id).replace("{section}", "applicant");
        let audience = audience(&method, &path);
        let attempts: Vec<(&str, &Browser, &[u16])> = match audience {
            Audience::Public | Audience::AnySession => continue,
            Audience::Applicant | Audience::ApplicantPage if path.contains("{id}") => vec![
                ("another company", &other_company, &[404]),
                ("a reviewer", &own_reviewer, &[403]),
            ],
            Audience::Applicant | Audience::ApplicantPage => {
                vec![("a reviewer", &own_reviewer, &[403])]
            }
            Audience::Staff | Audience::StaffPage if path.contains("{id}") => vec![
                ("another authority's reviewer", &other_reviewer, &[404]),
                ("the applicant", &owner, &[403]),
            ],
            Audience::Staff | Audience::StaffPage => vec![("the applicant", &owner, &[403])],
        };
        for (who, browser, expected) in attempts {
            let response = request(browser, &method, &concrete, &etag).sent().await;
            let status = response.status().as_u16();
            assert!(
                expected.contains(&status),
                "{method} {path} by {who}: {status}, expected {expected:?}"
            );
            let expected_type = match audience {
                Audience::ApplicantPage | Audience::StaffPage => "text/html; charset=utf-8",
                _ => "application/problem+json",
            };
            assert_eq!(
                header(&response, "content-type"),
                expected_type,
                "{method} {path} by {who}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} refusals checked");
    assert_eq!(fingerprint(&owner, &id).await, before, "nothing changed");

    // Another reviewer's search and queue do not list it; its own reviewer's do.
    let listed = |page: Value| {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["application_id"] == id.as_str())
    };
    let corporate = "/review/cases?corporate_number=9010401234567&limit=200";
    assert!(!listed(
        json(other_reviewer.get(corporate).sent().await).await
    ));
    assert!(!listed(
        json(other_company.get("/applications?limit=100").sent().await).await
    ));
}

/// Bodies no route should accept, with what they are.
fn bad_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("wrong type", b"[1,2,3]".to_vec()),
        ("string", b"\"plan\"".to_vec()),
        (
            "wrong field types",
            br#"{"message": 5, "comments": "x", "reason": [], "plan": 7}"#.to_vec(),
        ),
        ("unknown fields", br#"{"hack": true}"#.to_vec()),
        (
            "huge string",
            format!("{{\"message\": \"{}\"}}", "あ".repeat(100_000)).into_bytes(),
        ),
        ("deep nesting", deep.into_bytes()),
        ("invalid UTF-8", b"{\"message\": \"\xff\xfe\xfd\"}".to_vec()),
        (
            "control characters",
            "{\"message\": \"a\u{0}b\u{1b}[31m\", \"reason\": \"\u{7}\"}"
                .as_bytes()
                .to_vec(),
        ),
        ("truncated", b"{\"message\": ".to_vec()),
    ]
}

#[tokio::test]
async fn bad_input_on_every_route_gets_a_4xx_problem_and_changes_nothing() {
    let owner = logged_in("applicant-tokyo").await;
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let etag = format!("\"{}\"", record["version"]);
    let before = fingerprint(&owner, &id).await;

    let mut checked = 0;
    for (method, path) in routes() {
        let audience = audience(&method, &path);
        let browser = match audience {
            Audience::Staff | Audience::StaffPage => &reviewer,
            Audience::Applicant | Audience::AnySession | Audience::ApplicantPage => &owner,
            Audience::Public => continue,
        };
        let error_type = match audience {
            Audience::ApplicantPage | Audience::StaffPage => "text/html; charset=utf-8",
            _ => "application/problem+json",
        };
        if path == "/auth/logout" {
            continue;
        }
        let concrete = path.replace("{id}", &id).replace("{section}", "applicant");
        let url = format!("{}{concrete}", api_url());
        if method == "GET" {
            // Junk in every query parameter a GET route takes.
            for query in [
                "limit=abc",
                "limit=-1",
                "cursor=%FF%FE",
                "status=bogus",
                "received_from=2026-13-45",
                "company=%00%1b",
                "unknown=1",
            ] {
                let response = browser.http.get(format!("{url}?{query}")).sent().await;
                let status = response.status().as_u16();
                assert!(status < 500, "GET {path}?{query}: {status}");
                if status >= 400 {
                    assert_eq!(header(&response, "content-type"), error_type, "GET {path}");
                }
                checked += 1;
            }
            continue;
        }
        for (what, body) in bad_bodies() {
            let builder = match method.as_str() {
                "POST" => browser.http.post(&url),
                "PATCH" => browser.http.patch(&url),
                "DELETE" => browser.http.delete(&url),
                other => panic!("method {other}"),
            };
            // A stale ETag and a key with control characters, so no valid part slips through.
            let response = builder
                .header("x-csrf-token", browser.csrf())
                .header("content-type", "application/json")
                .header("if-match", "\"not-a-version\"")
                .header("idempotency-key", "key\twith\ttabs")
                .body(body)
                .sent()
                .await;
            let status = response.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{method} {path} with {what}: {status}"
            );
            assert_eq!(
                header(&response, "content-type"),
                error_type,
                "{method} {path} with {what}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} bad requests sent");
    assert_eq!(fingerprint(&owner, &id).await, before, "nothing changed");
    // The application is still workable with the right ETag.
    let response = reviewer
        .post(&format!("/review/cases/{id}/return"))
        .header("if-match", &etag)
        .json(&json!({"message": "確認のため差し戻します。"}))
        .sent()
        .await;
    assert_eq!(response.status(), 200);
}
