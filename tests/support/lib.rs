//! Helpers for the end-to-end tests: they drive the local stack over HTTP exactly as a browser
//! or API client would. `make test` starts the stack and sets `KEIRYOKU_API_URL` and the AWS
//! variables that point at moto; run alone, the tests fail with a message saying so.

#![forbid(unsafe_code)]

use std::sync::Arc;

use reqwest::cookie::CookieStore;
use reqwest::redirect::Policy;
use serde_json::Value;

/// The local API gateway's URL.
pub fn api_url() -> String {
    std::env::var("KEIRYOKU_API_URL").unwrap_or_else(|_| {
        panic!("KEIRYOKU_API_URL is not set: run the end-to-end tests with `make test`")
    })
}

/// The table in moto.
/// The operator command `keiryoku-admin`, built beside the functions the local stack runs
/// (wherever `CARGO_TARGET_DIR` puts them).
pub fn admin_binary() -> std::path::PathBuf {
    std::env::var_os("KEIRYOKU_BIN_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
        .join("keiryoku-admin")
}

pub fn table_name() -> String {
    std::env::var("KEIRYOKU_TABLE")
        .unwrap_or_else(|_| panic!("KEIRYOKU_TABLE is not set: run with `make test`"))
}

/// An S3 client pointed at moto (path-style, as moto serves buckets).
pub async fn s3() -> aws_sdk_s3::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// Runs the operator's command against the stack's table; its standard output (the command
/// must succeed).
pub fn admin(args: &[&str]) -> String {
    let binary = admin_binary();
    let output = std::process::Command::new(&binary)
        .args(args)
        .env("TABLE_NAME", table_name())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e} (make build builds it)", binary.display()));
    assert!(
        output.status.success(),
        "keiryoku-admin {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A 変更申請 of the certified application `id`, started by its owner: the new draft.
pub async fn change_of(owner: &Browser, id: &str) -> Value {
    let response = owner
        .post(&format!("/applications/{id}/change"))
        .header("idempotency-key", unique_key("change"))
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    json(response).await
}

/// A DynamoDB client pointed at moto (through AWS_ENDPOINT_URL), for checking what was stored.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_dynamodb::Client::new(&config)
}

/// A browser-like client: keeps cookies; follows redirects unless told not to.
#[derive(Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser::with_redirects(true)
    }

    pub fn with_redirects(follow: bool) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(if follow {
                Policy::limited(10)
            } else {
                Policy::none()
            })
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Browser { http, jar }
    }

    /// A client that sends exactly this `Cookie` header and keeps nothing.
    pub fn with_cookie_header(cookie: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            reqwest::header::HeaderValue::from_str(cookie)
                .unwrap_or_else(|e| panic!("cookie: {e}")),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"))
    }

    /// Logs in through the dev identity provider as a seeded account and returns the final answer
    /// (the `/me` page after the redirects when login succeeds).
    pub async fn login(&self, account: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/auth/login?login_hint={account}", api_url()))
            .sent()
            .await
    }

    /// A cookie the platform set, by name.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url: url::Url = api_url().parse().unwrap_or_else(|e| panic!("url: {e}"));
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .map(str::trim)
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    /// The CSRF token to echo in `X-CSRF-Token`.
    pub fn csrf(&self) -> String {
        self.cookie("csrf_token")
            .unwrap_or_else(|| panic!("no csrf_token cookie: not logged in?"))
    }

    /// A state-changing request with the CSRF header set.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", api_url()))
            .header("x-csrf-token", self.csrf())
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", api_url()))
    }

    /// A JSON Merge Patch (RFC 7396) with the CSRF header; add `If-Match` and the body.
    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .patch(format!("{}{path}", api_url()))
            .header("x-csrf-token", self.csrf())
            .header("content-type", "application/merge-patch+json")
    }
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

/// Logs in as a seeded account and checks it worked.
pub async fn logged_in(account: &str) -> Browser {
    let browser = Browser::new();
    let response = browser.login(account).await;
    assert_eq!(
        response.status(),
        200,
        "login as {account} should end on /me"
    );
    browser
}

/// Logs in as a seeded staff account through the staff client; ends on the review queue.
pub async fn staff_logged_in(account: &str) -> Browser {
    let browser = Browser::new();
    let response = browser
        .http
        .get(format!("{}/staff/login?login_hint={account}", api_url()))
        .sent()
        .await;
    assert_eq!(
        response.status(),
        200,
        "staff login as {account} should end on the review queue"
    );
    browser
}

/// A complete, valid plan (the domain fixture: 東京都, 製造業 2431 → 関東経済産業局) whose dates
/// are relative to today, so it stays valid whenever the suite runs: the plan starts next month
/// and the equipment is bought two months later.
pub fn complete_plan() -> Value {
    let mut plan: Value = serde_json::from_str(include_str!(
        "../../shared/domain/tests/fixtures/complete_plan.json"
    ))
    .unwrap_or(Value::Null);
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let month = |offset: i32| {
        let index = today.year() * 12 + i32::from(u8::from(today.month())) - 1 + offset;
        format!(
            "{:04}-{:02}",
            index.div_euclid(12),
            index.rem_euclid(12) + 1
        )
    };
    plan["period"]["start"] = serde_json::json!(month(1));
    plan["equipment"][0]["acquisition_month"] = serde_json::json!(month(3));
    plan
}

/// A new draft of `plan`, submitted with a fresh idempotency key; the submitted application.
pub async fn submitted(browser: &Browser, plan: Value) -> Value {
    let response = browser
        .post("/applications")
        .json(&serde_json::json!({ "plan": plan }))
        .sent()
        .await;
    assert_eq!(response.status(), 201);
    let created = json(response).await;
    let id = created["id"].as_str().unwrap_or_default();
    let response = browser
        .post(&format!("/applications/{id}/submit"))
        .header("idempotency-key", unique_key("submit"))
        .sent()
        .await;
    let body = json(response).await;
    assert_eq!(body["status"], "submitted", "{body}");
    body
}

/// A complete plan of `applicant`'s company, submitted and approved by 関東経済産業局: the
/// certified application.
pub async fn certified(applicant: &Browser) -> Value {
    certified_plan(applicant, complete_plan()).await
}

/// `plan` of `applicant`'s company (addressed to 関東経済産業局), submitted and approved: the
/// certified application.
pub async fn certified_plan(applicant: &Browser, plan: Value) -> Value {
    let record = submitted(applicant, plan).await;
    let id = record["id"].as_str().unwrap_or_default();
    let reviewer = staff_logged_in("reviewer-kanto-meti").await;
    let response = reviewer
        .post(&format!("/review/cases/{id}/approve"))
        .header("if-match", format!("\"{}\"", record["version"]))
        .sent()
        .await;
    let body = json(response).await;
    assert_eq!(body["status"], "certified", "{body}");
    body
}

/// An idempotency key no other test uses.
pub fn unique_key(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4())
}

/// Reads a JSON body, failing the test with the body text when it is not JSON.
pub async fn json(response: reqwest::Response) -> Value {
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("body: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Checks an answer is RFC 9457 problem+json with the given status, and returns it.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let body = json(response).await;
    assert_eq!(body["status"].as_u64(), Some(u64::from(status)));
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "problem has a title: {body}"
    );
    body
}

/// Sends a request, failing the test on a transport error (never on an HTTP status).
pub trait Sent {
    fn sent(self) -> impl std::future::Future<Output = reqwest::Response>;
}

impl Sent for reqwest::RequestBuilder {
    async fn sent(self) -> reqwest::Response {
        self.send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"))
    }
}

/// A response header as text ("" when absent).
pub fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Public verification of a certification by the facts its 認定書 prints (`GET /verify`), as a
/// machine asks (JSON), without logging in.
pub async fn verify_by_facts(
    corporate_number: &str,
    certification_number: &str,
    certified_on: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/verify", api_url()))
        .query(&[
            ("corporate_number", corporate_number),
            ("certification_number", certification_number),
            ("certified_on", certified_on),
        ])
        .sent()
        .await
}
