//! The authorisation matrix, every role × every route of template.yaml, and bad input on every
//! route. Roles: the owning company, another company, the reviewer of the case's authority,
//! another authority's reviewer, a read-only user whose scope covers the case (経済産業省) and
//! one whose scope does not (地方運輸局), the 企画課 and an administrator. A route added to the
//! template without being classified here fails the test.

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
    /// Staff who read cases (reviewer, reader, 企画課), within their scope.
    StaffRead,
    /// The reviewer of the case's authority only.
    StaffDecide,
    /// An applicant's web page (own company only), answered with HTML.
    ApplicantPage,
    /// A staff page that reads cases, answered with HTML.
    StaffReadPage,
    /// A staff page that decides, answered with HTML.
    StaffDecidePage,
    /// The staff start page: any staff member (each lands on their own first page).
    StaffHome,
    /// The staff directory pages: administrators only.
    AdminPage,
    /// The audit of staff reads: the 企画課 and administrators.
    AuditPage,
    /// The export for agencies' machine clients: a bearer token, never a session (the gateway's
    /// JWT authorizer answers 401 to a cookie; tests/export.rs covers the tokens).
    Agency,
}

impl Audience {
    fn is_page(self) -> bool {
        matches!(
            self,
            Audience::ApplicantPage
                | Audience::StaffReadPage
                | Audience::StaffDecidePage
                | Audience::StaffHome
                | Audience::AdminPage
                | Audience::AuditPage
        )
    }
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
    let decides = path.ends_with("/return")
        || path.ends_with("/approve")
        || path.ends_with("/reject")
        || path.ends_with("/paper-certification");
    match path {
        "$default" | "/health" | "/openapi.json" | "/auth/login" | "/auth/callback"
        | "/staff/login" | "/staff/callback" | "/routing/preview" => Audience::Public,
        _ if path.starts_with("/reference/") => Audience::Public,
        _ if path.starts_with("/export/v1/public/") => Audience::Public,
        _ if path.starts_with("/export/") => Audience::Agency,
        _ if path == "/verify" || path.starts_with("/verify/") => Audience::Public,
        _ if PUBLIC_PAGES.contains(&path) => Audience::Public,
        _ if path == "/mypage" || path.starts_with("/plans") => Audience::ApplicantPage,
        "/staff" => Audience::StaffHome,
        _ if path.starts_with("/staff/directory") || path.starts_with("/staff/notices") => {
            Audience::AdminPage
        }
        "/staff/audit" => Audience::AuditPage,
        _ if path.starts_with("/staff/cases") && decides => Audience::StaffDecidePage,
        _ if path.starts_with("/staff/cases") || path.starts_with("/staff/statistics") => {
            Audience::StaffReadPage
        }
        "/me" | "/auth/logout" => Audience::AnySession,
        _ if path.starts_with("/applications") || path == "/prefill" => Audience::Applicant,
        "/review/queue" => Audience::StaffDecide,
        _ if path.starts_with("/review/") && decides => Audience::StaffDecide,
        _ if path.starts_with("/review/") => Audience::StaffRead,
        _ => panic!("route {method} {path} is not classified in tests/authorization.rs"),
    }
}

/// The people of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Owner,
    OtherCompany,
    OwnReviewer,
    OtherReviewer,
    ReaderInScope,
    ReaderOutOfScope,
    Planning,
    Administrator,
}

const EVERYONE: [Who; 8] = [
    Who::Owner,
    Who::OtherCompany,
    Who::OwnReviewer,
    Who::OtherReviewer,
    Who::ReaderInScope,
    Who::ReaderOutOfScope,
    Who::Planning,
    Who::Administrator,
];

/// What a person gets on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Allowed: a staff GET answers 2xx or 3xx, an applicant's is not refused (a POST that
    /// would change something is not sent; the journeys exercise those).
    Allowed,
    /// 403: not this kind of person.
    Forbidden,
    /// 404: this kind of person, but not their case.
    NotFound,
    /// 401 from the gateway: a session is not a machine token.
    Unauthorized,
}

/// The matrix: what `who` gets on a route of `audience` (`with_id`: the route names the case).
fn expected(audience: Audience, who: Who, with_id: bool) -> Outcome {
    use Outcome::*;
    use Who::*;
    let staff = !matches!(who, Owner | OtherCompany);
    let case_or_404 = |allowed: bool| match (allowed, with_id) {
        (true, _) => Allowed,
        (false, true) => NotFound,
        // A listing: everyone of the kind may list, and sees only their own.
        (false, false) => Allowed,
    };
    match audience {
        Audience::Public | Audience::AnySession => Allowed,
        Audience::Applicant | Audience::ApplicantPage => match who {
            Owner => Allowed,
            OtherCompany => case_or_404(false),
            _ => Forbidden,
        },
        Audience::StaffRead | Audience::StaffReadPage => match who {
            OwnReviewer | ReaderInScope | Planning => Allowed,
            OtherReviewer | ReaderOutOfScope => case_or_404(false),
            _ => Forbidden,
        },
        Audience::StaffDecide | Audience::StaffDecidePage => match who {
            OwnReviewer => Allowed,
            OtherReviewer => case_or_404(false),
            _ => Forbidden,
        },
        Audience::StaffHome => {
            if staff {
                Allowed
            } else {
                Forbidden
            }
        }
        Audience::AdminPage => match who {
            Administrator => Allowed,
            _ => Forbidden,
        },
        Audience::AuditPage => match who {
            Administrator | Planning => Allowed,
            _ => Forbidden,
        },
        Audience::Agency => Unauthorized,
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
    if path.starts_with("/staff/directory") || path.starts_with("/staff/notices") {
        // A directory or notice form, complete: token, version, a valid entry or notice.
        return builder.form(&[
            (
                "csrf_token",
                browser.cookie("csrf_token").unwrap_or_default(),
            ),
            ("version", "1".to_string()),
            ("sub", "900099".to_string()),
            ("name", "攻撃 太郎".to_string()),
            ("role", "administrator".to_string()),
            ("place", String::new()),
            ("action", "save".to_string()),
            ("kind", "other".to_string()),
            ("audience", "everyone".to_string()),
            ("title", "攻撃".to_string()),
            ("body", "攻撃".to_string()),
            ("from", "2026-01-01 00:00".to_string()),
            ("until", "2099-01-01 00:00".to_string()),
        ]);
    }
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
            ("certification_number", "第1号".to_string()),
            ("certified_on", "2026-01-01".to_string()),
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
    } else if path.ends_with("/paper-certification") {
        json!({"certification_number": "第1号", "certified_on": "2026-01-01"})
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
async fn every_role_meets_every_route_as_the_matrix_says_and_nothing_changes() {
    let owner = logged_in("applicant-tokyo").await;
    let people = [
        (Who::Owner, logged_in("applicant-tokyo").await),
        (Who::OtherCompany, logged_in("applicant-osaka").await),
        (
            Who::OwnReviewer,
            staff_logged_in("reviewer-kanto-meti").await,
        ),
        (
            Who::OtherReviewer,
            staff_logged_in("reviewer-kinki-meti").await,
        ),
        (Who::ReaderInScope, staff_logged_in("reader-meti").await),
        (
            Who::ReaderOutOfScope,
            staff_logged_in("reader-transport").await,
        ),
        (Who::Planning, staff_logged_in("planning-chusho").await),
        (Who::Administrator, staff_logged_in("admin-staff").await),
    ];
    assert_eq!(people.len(), EVERYONE.len());

    // A submitted application of 株式会社霞が関精機, routed to 関東経済産業局.
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let etag = format!("\"{}\"", record["version"]);
    let before = fingerprint(&owner, &id).await;
    let directory_before = fingerprint_directory(&people[7].1).await;

    let mut cells = 0;
    let mut allowed_gets = 0;
    for (method, path) in routes() {
        let audience = audience(&method, &path);
        if matches!(audience, Audience::Public | Audience::AnySession) {
            continue;
        }
        let concrete = path
            .replace("{id}", &id)
            .replace("{section}", "applicant")
            .replace("{sub}", "900002")
            .replace("{corporate_number}", "9010401234567");
        for (who, browser) in &people {
            let outcome = expected(audience, *who, path.contains("{id}"));
            if outcome == Outcome::Allowed && method != "GET" {
                continue;
            }
            let response = request(browser, &method, &concrete, &etag).sent().await;
            let status = response.status().as_u16();
            let cell = format!("{method} {path} by {who:?}: {status}, expected {outcome:?}");
            match outcome {
                // The applicant's routes may answer for the application's state (no certificate
                // yet: 404); past the door is what counts. Staff reads of the case must succeed.
                Outcome::Allowed
                    if matches!(audience, Audience::Applicant | Audience::ApplicantPage) =>
                {
                    assert!(![401, 403].contains(&status) && status < 500, "{cell}");
                    allowed_gets += 1;
                }
                Outcome::Allowed => {
                    assert!((200..400).contains(&status), "{cell}");
                    allowed_gets += 1;
                }
                Outcome::Forbidden => assert_eq!(status, 403, "{cell}"),
                Outcome::NotFound => assert_eq!(status, 404, "{cell}"),
                Outcome::Unauthorized => {
                    assert_eq!(status, 401, "{cell}");
                    // API Gateway's own answer: the function never ran.
                    assert_eq!(
                        header(&response, "content-type"),
                        "application/json",
                        "{cell}"
                    );
                    cells += 1;
                    continue;
                }
            }
            if outcome != Outcome::Allowed {
                let expected_type = if audience.is_page() {
                    "text/html; charset=utf-8"
                } else {
                    "application/problem+json"
                };
                assert_eq!(header(&response, "content-type"), expected_type, "{cell}");
            }
            cells += 1;
        }
    }
    assert!(cells >= 300, "only {cells} cells checked");
    assert!(
        allowed_gets >= 50,
        "only {allowed_gets} allowed reads checked"
    );
    assert_eq!(fingerprint(&owner, &id).await, before, "nothing changed");
    assert_eq!(
        fingerprint_directory(&people[7].1).await,
        directory_before,
        "the directory did not change"
    );

    // Searches list the case for those whose scope covers 関東経済産業局, and for no one else.
    let listed = |page: Value| {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["application_id"] == id.as_str())
    };
    let corporate = "/review/cases?corporate_number=9010401234567&limit=200";
    for (who, browser) in &people[2..7] {
        let covers = matches!(who, Who::OwnReviewer | Who::ReaderInScope | Who::Planning);
        let page = json(browser.get(corporate).sent().await).await;
        assert_eq!(listed(page), covers, "{who:?}'s search");
    }
    assert!(!listed(
        json(people[1].1.get("/applications?limit=100").sent().await).await
    ));
}

/// The directory as the administrator's list page shows it.
async fn fingerprint_directory(admin: &Browser) -> String {
    let response = admin.get("/staff/directory").sent().await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap_or_default();
    let start = page.find("<main").unwrap_or(0);
    page[start..].to_string()
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
    let admin = staff_logged_in("admin-staff").await;
    let record = submitted(&owner, complete_plan()).await;
    let id = record["id"].as_str().unwrap_or_default().to_string();
    let etag = format!("\"{}\"", record["version"]);
    let before = fingerprint(&owner, &id).await;

    let mut checked = 0;
    for (method, path) in routes() {
        let audience = audience(&method, &path);
        let browser = match audience {
            Audience::StaffRead
            | Audience::StaffDecide
            | Audience::StaffReadPage
            | Audience::StaffDecidePage
            | Audience::StaffHome => &reviewer,
            Audience::AdminPage | Audience::AuditPage => &admin,
            Audience::Applicant | Audience::AnySession | Audience::ApplicantPage => &owner,
            // Bad input from machines is tests/export.rs's (the gateway refuses sessions).
            Audience::Public | Audience::Agency => continue,
        };
        let error_type = if audience.is_page() {
            "text/html; charset=utf-8"
        } else {
            "application/problem+json"
        };
        if path == "/auth/logout" {
            continue;
        }
        let concrete = path
            .replace("{id}", &id)
            .replace("{section}", "applicant")
            .replace("{sub}", "900002");
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
