//! The auth function: GビズID login (`/auth/login`, `/auth/callback`), logout and `/me`.
//!
//! Login follows docs/integrations.md §1.7: `state`, `nonce` and the PKCE verifier are kept server-side
//! for ten minutes and bound to the browser by a cookie; the ID token is verified (RS256 pinned,
//! iss, aud, exp, nonce) and every business attribute comes from UserInfo. We then issue our own
//! session; GビズID's tokens are not kept.
//!
//! Staff log in the same way through their own OIDC client (`/staff/login`, `/staff/callback`);
//! only identities in the staff directory get a staff session, which carries no company.

#![forbid(unsafe_code)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use keiryoku_auth::{AccountType, GbizUserInfo, OidcClient, random_token};
use keiryoku_domain::normalize::display_text;
use keiryoku_http::{
    ApiError, CSRF_COOKIE, CurrentSession, LOGIN_COOKIE, QueryParams, SESSION_COOKIE, Site,
};
use keiryoku_store::{
    LoginState, LoginStates, SessionRecord, Sessions, StaffDirectory, StaffMember, StoreError,
};
use serde::Deserialize;
use serde_json::json;

/// How long a started login may take before the callback is refused.
const LOGIN_TTL_SECONDS: i64 = 600;

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct AuthState {
    pub site: Site,
    pub sessions: Sessions,
    pub logins: LoginStates,
    pub oidc: Arc<OidcClient>,
    /// The staff identity provider's client (a second registration, staff accounts only).
    pub staff_oidc: Arc<OidcClient>,
    pub staff: StaffDirectory,
    pub session_ttl_seconds: i64,
    /// Idle timeouts: an applicant's session ends after this long without a request, a staff
    /// member's after `staff_idle_seconds` (ASVS 3.3: shorter for the more privileged).
    pub idle_seconds: i64,
    pub staff_idle_seconds: i64,
    /// Where the browser goes after a successful login.
    pub home_path: String,
    /// Where staff go after login.
    pub staff_home_path: String,
}

impl FromRef<AuthState> for keiryoku_http::Site {
    fn from_ref(state: &AuthState) -> keiryoku_http::Site {
        state.site.clone()
    }
}

impl FromRef<AuthState> for Sessions {
    fn from_ref(state: &AuthState) -> Sessions {
        state.sessions.clone()
    }
}

pub fn app(state: AuthState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/auth/login", get(login))
            .route("/auth/callback", get(callback))
            .route("/auth/logout", post(logout))
            .route("/staff/login", get(staff_login))
            .route("/staff/callback", get(staff_callback))
            .route("/me", get(me))
            .with_state(state),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LoginParams {
    /// GビズID account id to prefill (in dev: the seeded account to log in as).
    login_hint: Option<String>,
    /// The page to come back to after logging in: a path on this platform (`/plans/…`).
    return_to: Option<String>,
}

/// A return path we redirect to: a path on this platform only (never `//host` or a scheme),
/// printable and of reasonable length.
fn safe_return_to(path: &str) -> Option<String> {
    let on_platform = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\');
    let clean = path.len() <= 512 && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    (on_platform && clean).then(|| path.to_string())
}

/// Starts an applicant login at GビズID.
/// The auth routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, callback, logout, staff_login, staff_callback, me))]
pub struct Api;

#[utoipa::path(get, path = "/auth/login", tag = "auth", summary = "GビズIDでログインを開始する", params(LoginParams), responses((status = 302, description = "GビズIDの認可エンドポイントへ（state, nonce, PKCE S256）")))]
async fn login(
    State(state): State<AuthState>,
    QueryParams(params): QueryParams<LoginParams>,
) -> Result<Response, ApiError> {
    let oidc = state.oidc.clone();
    start_login(&state, &oidc, false, params).await
}

/// Starts a staff login at the staff identity provider.
#[utoipa::path(get, path = "/staff/login", tag = "auth", summary = "職員ログインを開始する（職員用IdPへリダイレクト）", params(LoginParams), responses((status = 302, description = "職員用IdPの認可エンドポイントへ")))]
async fn staff_login(
    State(state): State<AuthState>,
    QueryParams(params): QueryParams<LoginParams>,
) -> Result<Response, ApiError> {
    let oidc = state.staff_oidc.clone();
    start_login(&state, &oidc, true, params).await
}

/// The `login_hint` passed on to the provider: only on the local stack, where the dev provider
/// logs the hinted account in without a form. In production a hint would only steer which
/// account a victim's browser is offered, so it is dropped.
fn forwarded_hint(site: &Site, hint: Option<String>) -> Option<String> {
    hint.filter(|_| keiryoku_auth::is_local(site.origin()))
}

/// Starts a login: remembers state, nonce and PKCE verifier, and redirects to the provider.
async fn start_login(
    state: &AuthState,
    oidc: &OidcClient,
    staff: bool,
    params: LoginParams,
) -> Result<Response, ApiError> {
    let hint = params.login_hint.filter(|h| !h.is_empty());
    if hint
        .as_ref()
        .is_some_and(|h| h.len() > 254 || h.chars().any(char::is_control))
    {
        return Err(ApiError::BadRequest(
            "login_hint の値が正しくありません。".into(),
        ));
    }
    let hint = forwarded_hint(&state.site, hint);
    let return_to = match params.return_to.filter(|p| !p.is_empty()) {
        None => None,
        Some(path) => Some(safe_return_to(&path).ok_or_else(|| {
            ApiError::BadRequest("return_to はこのサイト内のパスで指定してください。".into())
        })?),
    };
    let pending = LoginState {
        state: random_token(),
        nonce: random_token(),
        pkce_verifier: random_token(),
        expires_at: now() + LOGIN_TTL_SECONDS,
        staff,
        return_to,
    };
    let url = oidc
        .authorization_url(
            &pending.state,
            &pending.nonce,
            &pending.pkce_verifier,
            hint.as_deref(),
        )
        .await?;
    state.logins.put(&pending).await?;
    let cookie = state
        .site
        .cookie(LOGIN_COOKIE, &pending.state, LOGIN_TTL_SECONDS, true);
    Ok((
        StatusCode::FOUND,
        AppendHeaders([
            (header::LOCATION, url.to_string()),
            (header::SET_COOKIE, cookie),
        ]),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Completes an applicant login: refuses エントリー accounts and issues our session.
#[utoipa::path(get, path = "/auth/callback", tag = "auth", summary = "GビズIDからの戻り先", params(CallbackParams), responses((status = 303, description = "ログイン完了。セッションとCSRFのクッキーを設定して /me へ")))]
async fn callback(
    State(state): State<AuthState>,
    headers: axum::http::HeaderMap,
    QueryParams(params): QueryParams<CallbackParams>,
) -> Result<Response, ApiError> {
    let oidc = state.oidc.clone();
    let (user, return_to, id_token) = verified_user(&state, &oidc, false, &headers, params).await?;
    match user.account_type() {
        Some(AccountType::Prime | AccountType::Member) => {}
        // A person in a browser gets the page that explains what to do.
        Some(AccountType::Entry) if return_to.is_some() => {
            return keiryoku_http::see_other("/login/refused", json!({"refused": "entry"}));
        }
        Some(AccountType::Entry) => {
            return Err(ApiError::Forbidden(
                "gBizIDエントリーのアカウントでは申請できません。gBizIDプライムまたはgBizIDメンバーのアカウントでログインしてください。".into(),
            ));
        }
        None => {
            return Err(ApiError::Forbidden(
                "GビズIDのアカウント種別を確認できないため、ログインできません。".into(),
            ));
        }
    }
    let mut record = session_record(&user, now(), state.session_ttl_seconds);
    record.idle_seconds = state.idle_seconds;
    record.id_token = Some(id_token);
    tracing::info!(sub = %record.sub, company = %record.company_id, "logged in");
    let home = return_to.as_deref().unwrap_or(&state.home_path);
    issue_session(&state, &headers, record, home).await
}

/// Completes a staff login: only identities with an active staff directory entry get a session.
#[utoipa::path(get, path = "/staff/callback", tag = "auth", summary = "職員ログインを完了する（職員名簿に登録された職員のみ）", params(CallbackParams), responses((status = 303, description = "審査キュー（/staff）へ。セッションクッキーを設定")))]
async fn staff_callback(
    State(state): State<AuthState>,
    headers: axum::http::HeaderMap,
    QueryParams(params): QueryParams<CallbackParams>,
) -> Result<Response, ApiError> {
    let oidc = state.staff_oidc.clone();
    let (user, return_to, id_token) = verified_user(&state, &oidc, true, &headers, params).await?;
    let member = match state.staff.active(&user.sub).await {
        Ok(member) => member,
        Err(StoreError::NotFound) => {
            tracing::info!(sub = %user.sub, "staff login refused: not in the staff directory");
            return Err(ApiError::Forbidden(
                "職員名簿に登録されていないため、審査画面にはログインできません。管理者に登録を依頼してください。".into(),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let mut record = staff_session_record(&user, member, now(), state.session_ttl_seconds);
    record.idle_seconds = state.staff_idle_seconds;
    record.id_token = Some(id_token);
    tracing::info!(sub = %record.sub, "staff logged in");
    let home = return_to.as_deref().unwrap_or(&state.staff_home_path);
    issue_session(&state, &headers, record, home).await
}

/// Checks the callback against the login this browser started (of the same kind), exchanges the
/// code, verifies the ID token and reads UserInfo. Also gives the page to return to and the ID
/// token as sent (kept for the provider's end-session endpoint).
async fn verified_user(
    state: &AuthState,
    oidc: &OidcClient,
    staff: bool,
    headers: &axum::http::HeaderMap,
    params: CallbackParams,
) -> Result<(GbizUserInfo, Option<String>, String), ApiError> {
    if let Some(error) = params.error {
        tracing::info!(%error, "provider returned an error to the callback");
        return Err(ApiError::LoginFailed(
            "GビズIDでのログインが完了しませんでした。もう一度ログインしてください。".into(),
        ));
    }
    let (Some(code), Some(returned_state)) = (params.code, params.state) else {
        return Err(ApiError::BadRequest(
            "code と state が必要です。ログイン画面から操作してください。".into(),
        ));
    };
    // The state must be the one this browser started with (login CSRF) and still pending.
    let started = state.site.read_cookie(headers, LOGIN_COOKIE);
    let mismatch = || {
        ApiError::LoginFailed(
            "ログインの手続きが確認できません。最初からログインし直してください。".into(),
        )
    };
    if started.as_deref() != Some(returned_state.as_str()) {
        return Err(mismatch());
    }
    let pending = match state.logins.take(&returned_state, now()).await {
        Ok(pending) if pending.staff == staff => pending,
        Ok(_) | Err(StoreError::NotFound) => return Err(mismatch()),
        Err(other) => return Err(other.into()),
    };

    let tokens = oidc.exchange_code(&code, &pending.pkce_verifier).await?;
    let id_claims = oidc
        .verify_id_token(&tokens.id_token, &pending.nonce)
        .await?;
    let user = oidc.userinfo(&tokens.access_token).await?;
    if user.sub != id_claims.sub {
        return Err(ApiError::LoginFailed(
            "GビズIDの利用者情報が一致しません。もう一度ログインしてください。".into(),
        ));
    }
    Ok((user, pending.return_to, tokens.id_token))
}

/// Stores a new session and answers with its cookies and a redirect to `home`.
async fn issue_session(
    state: &AuthState,
    headers: &axum::http::HeaderMap,
    record: SessionRecord,
    home: &str,
) -> Result<Response, ApiError> {
    // Logging in again in this browser ends the session it had: a new token at every login
    // (ASVS 3.2.1), and the earlier one no longer works even where a copy of it was kept.
    if let Some(previous) = state.site.read_cookie(headers, SESSION_COOKIE) {
        state.sessions.delete(&previous).await?;
    }
    let token = random_token();
    state.sessions.put(&token, &record).await?;
    let ttl = state.session_ttl_seconds;
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                state.site.cookie(SESSION_COOKIE, &token, ttl, true),
            ),
            (
                header::SET_COOKIE,
                state
                    .site
                    .cookie(CSRF_COOKIE, &record.csrf_token, ttl, false),
            ),
            (
                header::SET_COOKIE,
                state.site.expired_cookie(LOGIN_COOKIE, true),
            ),
        ]),
        Redirect::to(home),
    )
        .into_response())
}

/// Our session for a GビズID user, valid for `ttl` seconds from `now`.
pub fn session_record(user: &GbizUserInfo, now: i64, ttl: i64) -> SessionRecord {
    SessionRecord {
        sub: user.sub.clone(),
        account_type: user.account_type.clone().unwrap_or_default(),
        corp_type: user.corp_type.clone().unwrap_or_default(),
        company_id: user.company_id(),
        corporate_number: user.corporate_number().map(str::to_string),
        // Printed on the 認定書, /verify and CSV: no bidi overrides or zero-width characters.
        company_name: display_text(&user.name.clone().unwrap_or_default()),
        prefecture_code: user.prefecture_name.clone(),
        address1: user.address1.as_deref().map(display_text),
        address2: user.address2.as_deref().map(display_text),
        representative_name: user.representative_name().as_deref().map(display_text),
        user_name: user.user_name().as_deref().map(display_text),
        email: user.email.clone(),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + ttl,
        idle_seconds: 0,
        last_seen_at: now,
        staff: None,
        id_token: None,
    }
}

/// Our session for a staff member: no company, the directory entry at login.
pub fn staff_session_record(
    user: &GbizUserInfo,
    member: StaffMember,
    now: i64,
    ttl: i64,
) -> SessionRecord {
    SessionRecord {
        sub: user.sub.clone(),
        account_type: String::new(),
        corp_type: String::new(),
        company_id: String::new(),
        corporate_number: None,
        company_name: String::new(),
        prefecture_code: None,
        address1: None,
        address2: None,
        representative_name: None,
        user_name: Some(member.name.clone()),
        email: member.email.clone().or_else(|| user.email.clone()),
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + ttl,
        idle_seconds: 0,
        last_seen_at: now,
        staff: Some(member),
        id_token: None,
    }
}

/// Revokes the session server-side and clears the cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", summary = "ログアウト（セッションをサーバー側で失効）", responses((status = 204, description = "ログアウトした")), security(("session" = []), ("staff_session" = [])))]
async fn logout(
    State(state): State<AuthState>,
    session: CurrentSession,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    state.sessions.delete(&session.token).await?;
    // A page's logout form (no JavaScript) goes on to the start page; the API answers 204.
    let from_page = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let status = if from_page {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::NO_CONTENT
    };
    let mut response = (
        status,
        AppendHeaders([
            (
                header::SET_COOKIE,
                state.site.expired_cookie(SESSION_COOKIE, true),
            ),
            (
                header::SET_COOKIE,
                state.site.expired_cookie(CSRF_COOKIE, false),
            ),
        ]),
    )
        .into_response();
    if from_page {
        // Staff go back to the staff login, applicants to the start page: through the
        // provider's end-session endpoint when its discovery document names one, so that the
        // provider's session ends too (on a shared computer the next person would otherwise
        // be logged in as this one without a password).
        let (oidc, back) = match session.record.staff {
            Some(_) => (&state.staff_oidc, "/staff?logged_out=1"),
            None => (&state.oidc, "/?logged_out=1"),
        };
        // Our session is over whatever the provider says; if it cannot be asked within a
        // moment, its own session ends with its timeout.
        let back_url = state.site.url(back);
        let ask = oidc.end_session_url(session.record.id_token.as_deref(), &back_url);
        let next = match tokio::time::timeout(std::time::Duration::from_secs(2), ask).await {
            Ok(Ok(Some(url))) => url,
            Ok(Ok(None)) => back.to_string(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "provider end-session unavailable");
                back.to_string()
            }
            Err(_) => {
                tracing::warn!("provider end-session: no answer within 2 s");
                back.to_string()
            }
        };
        let location = axum::http::HeaderValue::from_str(&next)
            .unwrap_or_else(|_| axum::http::HeaderValue::from_static("/?logged_out=1"));
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Who is logged in, for which company (applicants) or authority (staff).
#[utoipa::path(get, path = "/me", tag = "auth", summary = "ログイン中の利用者と事業者", responses((status = 200, description = "利用者と事業者", body = Object)), security(("session" = []), ("staff_session" = [])))]
async fn me(session: CurrentSession) -> Response {
    let s = session.record;
    let expires_at = keiryoku_store::format_rfc3339(
        time::OffsetDateTime::from_unix_timestamp(s.expires_at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    if let Some(staff) = &s.staff {
        let entry = keiryoku_store::DirectoryEntry::from(staff.clone());
        return axum::Json(json!({
            "user": { "sub": s.sub, "name": staff.name, "email": s.email },
            "staff": {
                "role": entry.role,
                "role_label": staff.role.label(),
                "office_id": entry.office_id,
                "network_id": entry.network_id,
                "ministry_id": entry.ministry_id,
                "scope": staff.role.scope().map(|scope| scope.label()),
                "office_name": staff.role.deciding_office().map(|o| {
                    keiryoku_domain::tables::tables()
                        .office(o.as_str())
                        .map_or_else(|| o.to_string(), |(_, office)| office.name.clone())
                }),
            },
            "session": { "expires_at": expires_at },
        }))
        .into_response();
    }
    axum::Json(json!({
        "user": {
            "sub": s.sub,
            "name": s.user_name,
            "email": s.email,
            "account_type": s.account_type,
        },
        "company": {
            "id": s.company_id,
            "name": s.company_name,
            "corporate_number": s.corporate_number,
            "corp_type": s.corp_type,
            "representative_name": s.representative_name,
            "prefecture_code": s.prefecture_code,
            "address1": s.address1,
            "address2": s.address2,
        },
        "session": { "expires_at": keiryoku_store::format_rfc3339(
            time::OffsetDateTime::from_unix_timestamp(s.expires_at).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        ) },
    }))
    .into_response()
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn gbizid_names_lose_invisible_characters_before_anything_prints_them() {
        let user: GbizUserInfo = match serde_json::from_value(serde_json::json!({
            "sub": "u1",
            "name": "株式会社\u{202E}機精関が霞",
            "address1": "千代田区\u{200B}霞が関",
            "rep_last_nm": "経済\u{FEFF}",
            "rep_first_nm": "一郎",
        })) {
            Ok(user) => user,
            Err(e) => panic!("{e}"),
        };
        let record = session_record(&user, 0, 60);
        assert_eq!(record.company_name, "株式会社機精関が霞");
        assert_eq!(record.address1.as_deref(), Some("千代田区霞が関"));
        assert!(
            record
                .representative_name
                .is_some_and(|n| !n.contains('\u{FEFF}'))
        );
    }
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    #[test]
    fn login_hint_reaches_only_the_local_dev_provider() {
        let hint = || Some("applicant-tokyo".to_string());
        let local = Site::new("http://127.0.0.1:3000").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(forwarded_hint(&local, hint()), hint());
        let public = Site::new("https://keiryoku.example.go.jp").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(forwarded_hint(&public, hint()), None);
    }
}
