use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use keiryoku_store::{SessionRecord, Sessions, StoreError};

use crate::site::constant_time_eq;
use crate::{ApiError, CSRF_COOKIE, SESSION_COOKIE, read_cookie};

/// The logged-in applicant. Extracting it answers 401 when the session cookie is missing,
/// unknown, revoked or expired; for a state-changing request it also checks that the CSRF cookie
/// is the one issued with this session (403 otherwise).
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
