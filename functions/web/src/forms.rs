//! What a page request brings: the signed-in applicant (or the way to log in and come back) and
//! a posted form.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use keiryoku_http::{ApiError, ApplicantSession, BODY_LIMIT_BYTES, SESSION_COOKIE};
use keiryoku_store::Sessions;
use keiryoku_web::{PageError, SignedIn};

/// The signed-in applicant of a page. Without a valid session the page answers with the way to
/// log in and come back to the page (a GET) or to my page (after a post).
pub struct Signed(pub ApplicantSession);

impl Signed {
    /// The header's view of who is signed in.
    pub fn header(&self) -> SignedIn {
        SignedIn {
            name: self.0.record.company_name.clone(),
            csrf: self.0.record.csrf_token.clone(),
            home: "/mypage",
        }
    }
}

impl<S> FromRequestParts<S> for Signed
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    keiryoku_http::Site: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match ApplicantSession::from_request_parts(parts, state).await {
            Ok(session) => Ok(Signed(session)),
            Err(ApiError::Unauthorized) => {
                let expired = keiryoku_http::Site::from_ref(state)
                    .read_cookie(&parts.headers, SESSION_COOKIE)
                    .is_some();
                let return_to = match parts.method {
                    Method::GET => parts
                        .uri
                        .path_and_query()
                        .map_or("/mypage".to_string(), |p| p.as_str().to_string()),
                    _ => "/mypage".to_string(),
                };
                Err(PageError::Login { return_to, expired })
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// A posted `application/x-www-form-urlencoded` form, as its name–value pairs in order.
pub struct Form(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PageError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::Api(ApiError::BadRequest(
                "画面のフォームから送信してください。".into(),
            )));
        }
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT_BYTES)
            .await
            .map_err(|_| {
                PageError::Api(ApiError::PayloadTooLarge {
                    limit: BODY_LIMIT_BYTES,
                })
            })?;
        Ok(Form(
            form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Form {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The idempotency key the page was rendered with (a double click sends the same one); a
    /// fresh one when a form came without.
    pub fn idempotency_key(&self) -> String {
        self.get("key")
            .filter(|k| !k.is_empty() && k.len() <= 100)
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string)
    }

    /// The version the page was read at (every form of an application carries it).
    pub fn version(&self) -> Result<i64, PageError> {
        self.get("version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                PageError::Api(ApiError::BadRequest(
                    "画面の版が確認できません。ページを読み込み直してから操作してください。".into(),
                ))
            })
    }
}
