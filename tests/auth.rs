//! Login with GビズID (dev provider), sessions, logout, CSRF: end to end over HTTP.

use keiryoku_e2e::{Browser, Sent, api_url, logged_in, problem};
use keiryoku_store::{SessionRecord, Sessions};

#[tokio::test]
async fn applicant_logs_in_and_sees_its_company() {
    let browser = Browser::new();
    let response = browser.login("applicant-tokyo").await;
    assert_eq!(response.url().path(), "/me");
    let me = keiryoku_e2e::json(response).await;
    assert_eq!(me["company"]["corporate_number"], "9010401234567");
    assert_eq!(me["company"]["name"], "株式会社霞が関精機");
    assert_eq!(me["company"]["prefecture_code"], "13");
    assert_eq!(me["user"]["account_type"], "2");
    assert_eq!(me["company"]["representative_name"], "経済 一郎");
}

#[tokio::test]
async fn member_of_a_corporation_and_sole_proprietor_log_in() {
    let osaka =
        keiryoku_e2e::json(logged_in("applicant-osaka").await.get("/me").sent().await).await;
    assert_eq!(osaka["user"]["account_type"], "3");
    assert_eq!(osaka["company"]["id"], "corp-7120001234561");
    let sole = keiryoku_e2e::json(logged_in("sole-hokkaido").await.get("/me").sent().await).await;
    assert_eq!(sole["company"]["corp_type"], "2");
    assert_eq!(sole["company"]["prefecture_code"], "01");
}

#[tokio::test]
async fn entry_account_is_refused_with_a_japanese_message() {
    let browser = Browser::new();
    let response = browser.login("entry-user").await;
    let body = problem(response, 403).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("エントリー"),
        "detail explains why: {detail}"
    );
    assert!(
        browser.cookie("keiryoku_session").is_none(),
        "no session for an エントリー account"
    );
    problem(browser.get("/me").sent().await, 401).await;
}

#[tokio::test]
async fn login_redirect_carries_state_nonce_and_pkce_s256() {
    let browser = Browser::with_redirects(false);
    let response = browser
        .get("/auth/login?login_hint=applicant-tokyo")
        .sent()
        .await;
    assert_eq!(response.status(), 302);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let url: url::Url = location
        .parse()
        .unwrap_or_else(|e| panic!("location {location}: {e}"));
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
    for name in ["state", "nonce", "code_challenge"] {
        assert!(
            query.get(name).is_some_and(|v| v.len() >= 43),
            "{name} is a long random value"
        );
    }
    assert!(
        browser.cookie("keiryoku_login").is_some(),
        "the login state is bound to this browser"
    );
}

/// Follows the provider's redirects by hand and returns the callback URL it sends us back to.
async fn callback_url(browser: &Browser) -> url::Url {
    let mut next = format!("{}/auth/login?login_hint=applicant-tokyo", api_url());
    for _ in 0..10 {
        let response = browser.http.get(&next).sent().await;
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("expected a redirect from {next}"))
            .to_string();
        let url = response
            .url()
            .join(&location)
            .unwrap_or_else(|e| panic!("{e}"));
        if url.path() == "/auth/callback" {
            return url;
        }
        next = url.to_string();
    }
    panic!("the provider never redirected to /auth/callback");
}

#[tokio::test]
async fn callback_with_a_wrong_state_is_refused_and_the_right_one_works() {
    let browser = Browser::with_redirects(false);
    let callback = callback_url(&browser).await;
    let pairs: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    let mut forged = callback.clone();
    forged
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs.iter().map(|(k, v)| {
            (
                k.as_str(),
                if k == "state" {
                    "forged-state"
                } else {
                    v.as_str()
                },
            )
        }));
    let refused = browser.http.get(forged.as_str()).sent().await;
    problem(refused, 400).await;
    assert!(browser.cookie("keiryoku_session").is_none());

    // The same callback from a browser that did not start this login is refused too.
    let stranger = Browser::with_redirects(false);
    let refused = stranger.http.get(callback.as_str()).sent().await;
    problem(refused, 400).await;

    // The genuine callback still completes the login.
    let accepted = browser.http.get(callback.as_str()).sent().await;
    assert_eq!(accepted.status(), 303);
    let set_cookies: Vec<String> = accepted
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let session = set_cookies
        .iter()
        .find(|c| c.starts_with("keiryoku_session="))
        .unwrap_or_else(|| panic!("no session cookie: {set_cookies:?}"));
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let csrf = set_cookies
        .iter()
        .find(|c| c.starts_with("csrf_token="))
        .unwrap_or_else(|| panic!("no csrf cookie"));
    assert!(
        !csrf.contains("HttpOnly"),
        "the page must be able to read the CSRF token: {csrf}"
    );

    // A replayed callback (same state, same code) is refused: the login state is single-use.
    let replay = browser.http.get(callback.as_str()).sent().await;
    problem(replay, 400).await;
}

#[tokio::test]
async fn tampered_session_cookie_gets_401() {
    let browser = logged_in("applicant-tokyo").await;
    let token = browser
        .cookie("keiryoku_session")
        .unwrap_or_else(|| panic!("no session"));
    let genuine = Browser::with_cookie_header(&format!("keiryoku_session={token}"));
    assert_eq!(
        genuine
            .get(format!("{}/me", api_url()))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for cookie in [
        format!("keiryoku_session={tampered}"),
        "keiryoku_session=".to_string(),
        format!("keiryoku_session={}", "x".repeat(4000)),
    ] {
        let client = Browser::with_cookie_header(&cookie);
        problem(client.get(format!("{}/me", api_url())).sent().await, 401).await;
    }
}

fn record(expires_at: i64) -> SessionRecord {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    SessionRecord {
        staff: None,
        id_token: None,
        sub: "100001".into(),
        account_type: "2".into(),
        corp_type: "1".into(),
        company_id: "corp-9010401234567".into(),
        corporate_number: Some("9010401234567".into()),
        company_name: "株式会社霞が関精機".into(),
        prefecture_code: Some("13".into()),
        address1: None,
        address2: None,
        representative_name: None,
        user_name: None,
        email: None,
        csrf_token: unique("csrf"),
        created_at: now - 100_000,
        expires_at,
        idle_seconds: 0,
        last_seen_at: 0,
    }
}

/// A value no other test run uses.
fn unique(prefix: &str) -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!("{prefix}-{nanos:x}-{:x}", std::process::id())
}

#[tokio::test]
async fn expired_session_gets_401() {
    let sessions = Sessions::new(keiryoku_e2e::dynamodb().await, keiryoku_e2e::table_name());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let live = unique("live");
    let expired = unique("expired");
    sessions
        .put(&live, &record(now + 3600))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sessions
        .put(&expired, &record(now - 1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let me = |token: String| async move {
        Browser::with_cookie_header(&format!("keiryoku_session={token}"))
            .get(format!("{}/me", api_url()))
            .sent()
            .await
    };
    assert_eq!(
        me(live).await.status(),
        200,
        "a stored live session is accepted"
    );
    problem(me(expired).await, 401).await;
}

#[tokio::test]
async fn logout_revokes_the_session_server_side() {
    let browser = logged_in("applicant-tokyo").await;
    let old_cookie = format!(
        "keiryoku_session={}",
        browser.cookie("keiryoku_session").unwrap_or_default()
    );

    // Without the CSRF header logout is refused and the session lives on.
    let refused = browser
        .http
        .post(format!("{}/auth/logout", api_url()))
        .sent()
        .await;
    problem(refused, 403).await;
    assert_eq!(
        browser
            .get("/me")
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );

    let response = browser.post("/auth/logout").sent().await;
    assert_eq!(response.status(), 204);
    // Replaying the old cookie (as a thief would) no longer works.
    let replay = Browser::with_cookie_header(&old_cookie);
    problem(replay.get(format!("{}/me", api_url())).sent().await, 401).await;
}

#[tokio::test]
async fn cross_origin_post_is_refused_even_with_the_token() {
    let browser = logged_in("applicant-tokyo").await;
    let response = browser
        .post("/auth/logout")
        .header("origin", "https://attacker.example")
        .sent()
        .await;
    problem(response, 403).await;
    assert_eq!(
        browser
            .get("/me")
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );
}

#[tokio::test]
async fn csrf_cookie_of_another_session_is_refused() {
    let victim = logged_in("applicant-tokyo").await;
    let attacker = logged_in("applicant-tokyo").await;
    // Header and cookie agree (double submit passes) but the token is not the victim session's.
    let token = attacker.csrf();
    let session = victim.cookie("keiryoku_session").unwrap_or_default();
    let client =
        Browser::with_cookie_header(&format!("keiryoku_session={session}; csrf_token={token}"));
    let response = client
        .post(format!("{}/auth/logout", api_url()))
        .header("x-csrf-token", token)
        .sent()
        .await;
    problem(response, 403).await;
    assert_eq!(
        victim
            .get("/me")
            .send()
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        Some(200)
    );
}

async fn me_status(cookie: &str) -> u16 {
    Browser::with_cookie_header(cookie)
        .get(format!("{}/me", api_url()))
        .sent()
        .await
        .status()
        .as_u16()
}

/// ASVS 3.3: a session ends after its idle timeout; using it slides the timeout.
#[tokio::test]
async fn an_idle_session_ends_and_use_keeps_it_alive() {
    let sessions = Sessions::new(keiryoku_e2e::dynamodb().await, keiryoku_e2e::table_name());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Last used longer ago than its 30 minutes: refused, although not expired.
    let idle = unique("idle");
    let mut idle_record = record(now + 3600);
    idle_record.idle_seconds = 1800;
    idle_record.created_at = now - 1801;
    sessions
        .put(&idle, &idle_record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(me_status(&format!("keiryoku_session={idle}")).await, 401);
    // Used within them: accepted, and the use is recorded, so it lives 30 minutes from now.
    let active = unique("active");
    let mut active_record = record(now + 7200);
    active_record.idle_seconds = 1800;
    active_record.created_at = now - 1700;
    sessions
        .put(&active, &active_record)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(me_status(&format!("keiryoku_session={active}")).await, 200);
    let later = sessions.get(&active, now + 1000).await;
    assert!(later.is_ok(), "the timeout slid: {later:?}");

    // Real logins: 30 minutes for applicants, 15 for staff.
    let applicant = logged_in("applicant-tokyo").await;
    let token = applicant.cookie("keiryoku_session").unwrap_or_default();
    let record = sessions
        .get(&token, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.idle_seconds, 1800);
    let staff = keiryoku_e2e::staff_logged_in("reviewer-kinki-meti").await;
    let token = staff.cookie("keiryoku_session").unwrap_or_default();
    let record = sessions
        .get(&token, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(record.idle_seconds, 900);
}

/// Logging in again in a browser ends the session it had; a session cookie sent twice (one
/// tossed in by someone else) is no session at all.
#[tokio::test]
async fn a_new_login_ends_the_browsers_earlier_session_and_twin_cookies_count_for_nothing() {
    let browser = logged_in("applicant-osaka").await;
    let old = browser.cookie("keiryoku_session").unwrap_or_default();
    assert_eq!(me_status(&format!("keiryoku_session={old}")).await, 200);
    browser.login("applicant-osaka").await;
    let new = browser.cookie("keiryoku_session").unwrap_or_default();
    assert_ne!(new, old);
    assert_eq!(me_status(&format!("keiryoku_session={old}")).await, 401);
    assert_eq!(me_status(&format!("keiryoku_session={new}")).await, 200);
    assert_eq!(
        me_status(&format!("keiryoku_session={new}; keiryoku_session={old}")).await,
        401
    );
}

/// An operator lists an account's sessions (never their tokens) and ends them all at once.
#[tokio::test]
async fn an_operator_lists_and_revokes_an_accounts_sessions() {
    let sessions = Sessions::new(keiryoku_e2e::dynamodb().await, keiryoku_e2e::table_name());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sub = unique("sub");
    let tokens = [unique("device-a"), unique("device-b")];
    for token in &tokens {
        let mut r = record(now + 3600);
        r.sub = sub.clone();
        sessions
            .put(token, &r)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let admin = |args: &[&str]| {
        let output = std::process::Command::new(keiryoku_e2e::admin_binary())
            .args(args)
            .env("TABLE_NAME", keiryoku_e2e::table_name())
            .output()
            .unwrap_or_else(|e| panic!("keiryoku-admin: {e}"));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let listed = admin(&["sessions", "list", "--sub", &sub]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        tokens.iter().all(|t| !listed.contains(t.as_str())),
        "no token is shown"
    );
    admin(&["sessions", "revoke", "--sub", &sub]);
    for token in &tokens {
        assert_eq!(me_status(&format!("keiryoku_session={token}")).await, 401);
    }
    assert_eq!(
        admin(&["sessions", "list", "--sub", &sub]).lines().count(),
        0
    );
}
