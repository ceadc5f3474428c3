//! The platform as API Gateway exposes it: health, every route of template.yaml served and
//! nothing else, problem+json for unknown routes and wrong methods, security headers.

use keiryoku_e2e::{Browser, Sent, api_url, header, json, problem};
use keiryoku_template::Template;

fn template() -> Template {
    Template::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn health_reports_dynamodb_and_s3() {
    let response = Browser::new().get("/health").sent().await;
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    assert_eq!(body["dynamodb"], "reachable");
    assert_eq!(body["s3"], "reachable");
}

/// A flood of /health costs no AWS calls: each instance reuses its answer for 10 seconds.
#[tokio::test]
async fn health_answers_are_reused_for_ten_seconds() {
    let browser = Browser::new();
    let mut checks = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let body = json(browser.get("/health").sent().await).await;
        checks.insert(body["checked_at"].as_str().unwrap_or_default().to_string());
    }
    // The local stack runs 3 instances of each function: at most one check each (two if a
    // reuse window ended during the loop).
    assert!(checks.len() <= 6, "{checks:?}");
}

#[tokio::test]
async fn every_template_route_is_served_by_its_function() {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    for (_, route) in template().routes().filter(|(_, r)| !r.is_default()) {
        let path = route
            .path
            .replace("{id}", "01a2163b-281e-757c-9b68-e7abde7eced8");
        let method =
            reqwest::Method::from_bytes(route.method.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let response = client
            .request(method, format!("{}{path}", api_url()))
            .sent()
            .await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        // The $default answer for an unknown route is a 404 not-found problem; a served route
        // answers something else (401, 403, 302, 200…).
        assert!(
            !(status == 404 && body.contains("urn:keiryoku:problem:not-found")),
            "{} is not served: {status} {body}",
            route.route_key()
        );
        assert_ne!(status, 405, "{} answered 405", route.route_key());
    }
}

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let response = Browser::new().get("/no/such/route").sent().await;
    let body = problem(response, 404).await;
    assert_eq!(body["type"], "urn:keiryoku:problem:not-found");
}

#[tokio::test]
async fn wrong_method_is_a_405_problem_naming_the_allowed_ones() {
    let client = reqwest::Client::new();
    let response = client
        .delete(format!("{}/applications", api_url()))
        .sent()
        .await;
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET, POST")
    );
    problem(response, 405).await;
    let response = client.put(format!("{}/me", api_url())).sent().await;
    problem(response, 405).await;
}

#[tokio::test]
async fn answers_forbid_framing_and_sniffing() {
    for path in ["/health", "/me", "/nope"] {
        let response = Browser::new().get(path).sent().await;
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{path}");
        assert!(
            header(&response, "content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
    }
}

#[test]
fn events_hold_one_sample_per_route() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    for (function, route) in template().routes() {
        let file = format!("{root}/{}/{}.json", function.binary, route.event);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{file}: {e} (run `make events`)"));
        let event: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event["version"], "2.0", "{file}");
        assert_eq!(event["routeKey"], route.route_key(), "{file}");
    }
}

#[tokio::test]
async fn the_openapi_document_is_served() {
    let body = json(Browser::new().get("/openapi.json").sent().await).await;
    assert_eq!(body["openapi"], "3.1.0");
    assert!(body["paths"]["/applications/{id}/submit"]["post"].is_object());
}

/// The operator lists every unverified fact the platform relies on, and those an issued 認定書
/// prints (the 認定番号 format, the certificate template, the issuers' titles).
#[test]
fn the_operator_lists_the_unverified_facts_a_certificate_prints() {
    let output = std::process::Command::new(keiryoku_e2e::admin_binary())
        .args(["facts", "unverified", "--printed"])
        .output()
        .unwrap_or_else(|e| panic!("keiryoku-admin: {e} (make build builds it)"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let facts: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        facts
            .iter()
            .all(|f| f["printed"] == true && f["source"].is_string())
    );
    assert!(
        facts
            .iter()
            .any(|f| f["table"] == "rules.json" && f["row"] == "certification_number")
    );
    assert!(
        facts
            .iter()
            .any(|f| f["table"] == "templates/certificates.json")
    );
}

/// Every function's log has a retention (Lambda's own log groups never expire), and no policy
/// grants a KMS key operation on an alias ARN (IAM never matches one: the grant is dead).
#[test]
fn logs_expire_and_no_policy_names_a_key_alias() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for function in &template().functions {
        let group = format!(
            "LogGroupName: !Sub \"/aws/lambda/${{{}}}\"\n      RetentionInDays: !Ref LogRetentionDays",
            function.logical_id
        );
        assert!(
            text.contains(&group),
            "{} has no log retention",
            function.logical_id
        );
        for statement in &function.policies {
            assert!(
                !statement
                    .resources
                    .iter()
                    .any(|r| format!("{r:?}").contains(":alias/")),
                "{}: a grant on a KMS alias matches nothing",
                function.logical_id
            );
        }
    }
}

/// The endpoints a deployment is given must be https: a production stack pointed at an http
/// issuer would send secrets in clear and could take logins from a dev provider.
#[test]
fn endpoint_parameters_must_be_https() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for parameter in [
        "PublicBaseUrl",
        "OidcIssuer",
        "StaffOidcIssuer",
        "GbizInfoBaseUrl",
    ] {
        let start = text
            .find(&format!("\n  {parameter}:\n"))
            .unwrap_or_else(|| panic!("{parameter}"));
        let block: String = text[start + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            block.contains("AllowedPattern: \"^https://")
                || block.contains("AllowedPattern: \"^(https://"),
            "{parameter}: {block}"
        );
    }
}
