use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use keiryoku_store::{SessionRecord, Sessions, StaffDirectory, StaffMember, StoreError};

use crate::site::constant_time_eq;
use crate::{ApiError, CSRF_COOKIE, SESSION_COOKIE, read_cookie};

/// Whoever is logged in, applicant or staff. Extracting it answers 401 when the session cookie
/// is missing, unknown, revoked or expired; for a state-changing request it also checks that the
/// CSRF cookie is the one issued with this session (403 otherwise).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session token from the cookie (needed to revoke it at logout).
    pub token: String,
    pub record: SessionRecord,
}

impl<S> FromRequestParts<S> for CurrentSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = read_cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        // Tokens we issue are 43 base64url characters; anything else cannot be a session.
        if token.len() > 128 {
            return Err(ApiError::Unauthorized);
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let record = match Sessions::from_ref(state).get(&token, now).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(other) => return Err(other.into()),
        };
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            let cookie = read_cookie(&parts.headers, CSRF_COOKIE).unwrap_or_default();
            if !constant_time_eq(cookie.as_bytes(), record.csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden(
                    "CSRFトークンがこのログインのものではありません。画面を再読み込みしてください。".into(),
                ));
            }
        }
        Ok(CurrentSession { token, record })
    }
}

/// A logged-in applicant (GビズID). A staff session gets 403: staff never act for a company.
#[derive(Debug, Clone)]
pub struct ApplicantSession {
    pub token: String,
    pub record: SessionRecord,
}

impl<S> FromRequestParts<S> for ApplicantSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentSession { token, record } =
            CurrentSession::from_request_parts(parts, state).await?;
        if record.staff.is_some() || record.company_id.is_empty() {
            return Err(ApiError::Forbidden(
                "職員のログインでは申請者の操作はできません。申請者はGビズIDでログインしてください。"
                    .into(),
            ));
        }
        Ok(ApplicantSession { token, record })
    }
}

/// A logged-in staff member whose directory entry is still active: the authority and role come
/// from the directory as it is now, not as it was at login. An applicant session gets 403.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub token: String,
    pub record: SessionRecord,
    pub member: StaffMember,
}

impl<S> FromRequestParts<S> for StaffSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    StaffDirectory: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentSession { token, record } =
            CurrentSession::from_request_parts(parts, state).await?;
        let Some(staff) = &record.staff else {
            return Err(ApiError::Forbidden(
                "この画面は審査担当の職員用です。職員用のログインからログインしてください。".into(),
            ));
        };
        let member = match StaffDirectory::from_ref(state).active(&staff.sub).await {
            Ok(member) => member,
            Err(StoreError::NotFound) => {
                return Err(ApiError::Forbidden(
                    "職員名簿に有効な登録がありません。管理者に確認してください。".into(),
                ));
            }
            Err(other) => return Err(other.into()),
        };
        Ok(StaffSession {
            token,
            record,
            member,
        })
    }
}
