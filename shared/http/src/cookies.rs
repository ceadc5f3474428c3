use axum::http::{HeaderMap, header};

/// Our session cookie: an opaque random token; the table keeps only its hash.
pub const SESSION_COOKIE: &str = "keiryoku_session";
/// The double-submit CSRF cookie, readable by the page so it can echo it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "csrf_token";
/// Binds a pending login's `state` to the browser that started it.
pub const LOGIN_COOKIE: &str = "keiryoku_login";

/// The value of a cookie sent with the request, if present exactly once. Both the `Cookie`
/// header form and several `Cookie` headers are read (API Gateway v2 joins its `cookies` array
/// into one). A name sent twice reads as absent: the second one was set by someone else (a
/// sibling domain "tossing" a cookie), and which one the browser sends first is not ours to
/// guess. Pages and handlers use [`crate::Site::read_cookie`], which knows the cookie's name
/// in this deployment (`__Host-` over https).
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    // Names are compared as sent, never percent-decoded: a browser enforces the `__Host-`
    // prefix on the literal name, so `__Host%2Dkeiryoku_session` (settable by a sibling
    // domain) must not read as `__Host-keiryoku_session`. Our values are base64url and need no
    // decoding either.
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name);
    let (_, first) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(first.trim_matches('"').to_string()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_named_cookie_from_joined_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; keiryoku_session=tok; csrf_token=c"),
        );
        assert_eq!(
            read_cookie(&headers, SESSION_COOKIE).as_deref(),
            Some("tok")
        );
        assert_eq!(read_cookie(&headers, CSRF_COOKIE).as_deref(), Some("c"));
        assert_eq!(read_cookie(&headers, "missing"), None);
    }

    #[test]
    fn a_percent_encoded_name_is_not_the_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host%2Dkeiryoku_session=tossed"),
        );
        assert_eq!(read_cookie(&headers, "__Host-keiryoku_session"), None);
    }

    #[test]
    fn a_name_sent_twice_reads_as_absent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("keiryoku_session=mine; keiryoku_session=tossed"),
        );
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), None);
    }

    #[test]
    fn empty_or_malformed_cookies_read_as_absent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("keiryoku_session=; junk"),
        );
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), None);
    }
}
