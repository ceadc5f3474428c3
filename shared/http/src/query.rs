use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Query-string parameters of type `T`; a malformed query is a problem+json 400.
#[derive(Debug, Clone)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|e| ApiError::BadRequest(format!("URLのパラメータが正しくありません: {e}")))
    }
}

/// `?limit=&cursor=` of a log listing (audit trail, downloads): one bounded page at a time.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Entries per page (1–200).
    pub limit: Option<i32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl LogParams {
    /// The page size asked for, `default` when none; outside 1–200 is the client's mistake.
    pub fn limit(&self, default: i32) -> Result<i32, ApiError> {
        let limit = self.limit.unwrap_or(default);
        if (1..=keiryoku_store::MAX_LOG_PAGE).contains(&limit) {
            Ok(limit)
        } else {
            Err(ApiError::BadRequest(format!(
                "limit は 1 から {} の整数で指定してください。",
                keiryoku_store::MAX_LOG_PAGE
            )))
        }
    }
}
