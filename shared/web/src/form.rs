//! A posted page form (`application/x-www-form-urlencoded`) as its name–value pairs.

use axum::extract::{FromRequest, Request};
use keiryoku_http::{ApiError, BODY_LIMIT_BYTES};

use crate::PageError;

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
            url::form_urlencoded::parse(&bytes)
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
