//! Conditional and one-shot requests: versions as strong ETags, `If-Match` (RFC 9110 §13.1.1),
//! `Idempotency-Key`, and the shape of the ids we issue.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::ApiError;

/// The strong ETag of a version (`"3"`).
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version named by `If-Match`: 428 when absent, 412 when it is not one of our ETags.
///
/// ```
/// use axum::http::{HeaderMap, header};
/// let mut headers = HeaderMap::new();
/// headers.insert(header::IF_MATCH, keiryoku_http::etag(7));
/// assert_eq!(keiryoku_http::if_match(&headers).ok(), Some(7));
/// ```
pub fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix('"')?.strip_suffix('"')?.parse().ok())
        .ok_or(ApiError::PreconditionFailed)
}

/// The `Idempotency-Key` of a one-shot action: required, 1–128 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default();
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(
            "Idempotency-Key ヘッダーに、この操作に固有の値（UUID など128文字以内）を指定してください。再送時は同じ値を使います。".into(),
        ));
    }
    Ok(key.to_string())
}

/// `303 See Other` to `url` (a short-lived download link), with `body` for clients that do not
/// follow redirects.
pub fn see_other(url: &str, body: serde_json::Value) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let location = HeaderValue::from_str(url).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (axum::http::StatusCode::SEE_OTHER, axum::Json(body)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// Whether a path id has the shape of the UUIDs we issue (anything else cannot exist, so it is
/// answered 404 without a lookup).
pub fn is_issued_id(id: &str) -> bool {
    keiryoku_domain::application::ApplicationId::parse(id).is_some()
}

/// Whether the request comes from a person's browser (it asks for HTML first): such a request
/// gets a page, or is sent to one, where an API client gets JSON.
pub fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuid_shaped_ids_are_looked_up() {
        assert!(is_issued_id("01890a5d-ac96-774b-bcce-b302099a8057"));
        assert!(!is_issued_id("../../etc/passwd"));
        assert!(!is_issued_id(""));
        assert!(!is_issued_id("01890a5d-ac96-774b-bcce-b302099a8057x"));
    }

    #[test]
    fn if_match_needs_one_of_our_etags() {
        let mut headers = HeaderMap::new();
        assert!(matches!(
            if_match(&headers),
            Err(ApiError::PreconditionRequired)
        ));
        for bad in ["*", "W/\"3\"", "3", "\"x\""] {
            headers.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert!(
                matches!(if_match(&headers), Err(ApiError::PreconditionFailed)),
                "{bad}"
            );
        }
    }
}
