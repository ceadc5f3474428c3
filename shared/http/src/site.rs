use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use url::Url;

use crate::{ApiError, BODY_LIMIT_BYTES, CSRF_COOKIE, ConfigError, read_cookie};

/// The header a state-changing request must carry, equal to the `csrf_token` cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries the same token when a page's form is posted without JavaScript.
pub const CSRF_FIELD: &str = "csrf_token";

/// The platform's public origin and what follows from it: cookie flags and the CSRF guard.
#[derive(Debug, Clone)]
pub struct Site {
    base: Url,
    origin: String,
    secure_cookies: bool,
    /// The value CloudFront sends as `X-Origin-Verify` (template.yaml `OriginVerifySecret`):
    /// requests without it did not come through the edge and its WAF. `None` on the local stack.
    origin_secret: Option<String>,
}

/// The header CloudFront adds to every request it forwards to the API.
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";

impl Site {
    /// From `PUBLIC_BASE_URL` (e.g. `https://keiryoku.example.go.jp`).
    pub fn from_env() -> Result<Site, ConfigError> {
        let site = Site::new(&crate::env_var("PUBLIC_BASE_URL")?)?;
        Ok(match std::env::var("ORIGIN_VERIFY_SECRET") {
            Ok(secret) if !secret.is_empty() => site.behind_edge(secret),
            _ => site,
        })
    }

    /// The same site, answering only requests that carry `secret` in `X-Origin-Verify`.
    pub fn behind_edge(mut self, secret: impl Into<String>) -> Site {
        self.origin_secret = Some(secret.into());
        self
    }

    pub fn new(base_url: &str) -> Result<Site, ConfigError> {
        let base = Url::parse(base_url)
            .map_err(|e| ConfigError(format!("PUBLIC_BASE_URL {base_url}: {e}")))?;
        let host = base.host_str().unwrap_or_default().to_string();
        let origin = base.origin().ascii_serialization();
        let loopback = host == "localhost" || host == "[::1]" || host.starts_with("127.");
        let secure_cookies = match base.scheme() {
            "https" => true,
            // Plain http is allowed only on loopback, for the local stack.
            "http" if loopback => false,
            other => {
                return Err(ConfigError(format!(
                    "PUBLIC_BASE_URL must be https (or http on loopback), not {other}"
                )));
            }
        };
        Ok(Site {
            base,
            origin,
            secure_cookies,
            origin_secret: None,
        })
    }

    /// An absolute URL on the platform (`/auth/callback` → `https://…/auth/callback`).
    pub fn url(&self, path: &str) -> String {
        self.base
            .join(path)
            .map(String::from)
            .unwrap_or_else(|_| format!("{}{path}", self.origin))
    }

    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The name cookie `name` has in this deployment: `__Host-<name>` over https, so that only
    /// this host, over TLS, with `Path=/` and no `Domain`, can set it (no sibling subdomain can
    /// toss one in); the bare name on the local stack's loopback http, where browsers refuse
    /// the prefix.
    pub fn cookie_name(&self, name: &str) -> String {
        if self.secure_cookies {
            format!("__Host-{name}")
        } else {
            name.to_string()
        }
    }

    /// The value of our cookie `name` (see [`Site::cookie_name`]), if sent exactly once.
    pub fn read_cookie(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        read_cookie(headers, &self.cookie_name(name))
    }

    /// A `Set-Cookie` value with our policy: Path=/, SameSite=Lax, Secure except on loopback
    /// http, and the `__Host-` prefix wherever it is Secure.
    pub fn cookie(&self, name: &str, value: &str, max_age_seconds: i64, http_only: bool) -> String {
        let mut cookie = Cookie::new(self.cookie_name(name), value.to_string());
        cookie.set_path("/");
        cookie.set_same_site(SameSite::Lax);
        cookie.set_secure(self.secure_cookies);
        cookie.set_http_only(http_only);
        cookie.set_max_age(cookie::time::Duration::seconds(max_age_seconds.max(0)));
        cookie.encoded().to_string()
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn expired_cookie(&self, name: &str, http_only: bool) -> String {
        self.cookie(name, "", 0, http_only)
    }

    /// Wraps a function's router: every answer gets the security headers, and every matched
    /// route refuses cross-origin and CSRF-less state changes.
    ///
    /// A POST, PUT, PATCH or DELETE must carry `X-CSRF-Token` equal to the `csrf_token` cookie
    /// (the session extractor also checks the cookie is the one issued with the session), and an
    /// `Origin` header, when present, must be ours. A page's form posted without JavaScript
    /// (`application/x-www-form-urlencoded`) carries the token as its `csrf_token` field instead. Unmatched requests are left to the fallback,
    /// so an unknown route is a 404 and a wrong method a 405 whatever the headers.
    pub fn protect<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        router
            .route_layer(axum::middleware::from_fn_with_state(
                self.clone(),
                csrf_guard,
            ))
            .layer(axum::middleware::from_fn(security_headers))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                origin_guard,
            ))
    }

    /// [`Site::protect`] for routes machines call with a bearer token (the export): no cookie
    /// is read, so there is no cross-site request to forge and no CSRF token to ask for.
    pub fn protect_machine<S: Clone + Send + Sync + 'static>(
        &self,
        router: Router<S>,
    ) -> Router<S> {
        router
            .layer(axum::middleware::from_fn(security_headers))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                origin_guard,
            ))
    }

    fn check_csrf(&self, headers: &HeaderMap, form_token: Option<&str>) -> Result<(), ApiError> {
        if let Some(origin) = headers.get(header::ORIGIN)
            && origin.to_str().ok() != Some(self.origin.as_str())
        {
            return Err(ApiError::Forbidden(
                "他のサイトからの送信は受け付けられません。".into(),
            ));
        }
        let cookie = self.read_cookie(headers, CSRF_COOKIE);
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .or(form_token);
        match (cookie.as_deref(), sent) {
            (Some(cookie), Some(sent)) if constant_time_eq(cookie.as_bytes(), sent.as_bytes()) => {
                Ok(())
            }
            _ => Err(ApiError::Forbidden(
                "CSRFトークンが確認できません。画面を再読み込みしてから操作してください。".into(),
            )),
        }
    }
}

/// Compares secrets without leaking where they differ through timing.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// Refuses a request that did not come through CloudFront (no or a wrong `X-Origin-Verify`):
/// it went around the WAF.
async fn origin_guard(State(site): State<Site>, request: Request, next: Next) -> Response {
    if let Some(secret) = &site.origin_secret {
        let sent = request
            .headers()
            .get(ORIGIN_VERIFY_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(sent, secret.as_bytes()) {
            return ApiError::Forbidden(
                "このアドレスからは利用できません。公開されているアドレスからアクセスしてください。"
                    .into(),
            )
            .into_response();
        }
    }
    next.run(request).await
}

async fn csrf_guard(State(site): State<Site>, request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !unsafe_method {
        return next.run(request).await;
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == mime::APPLICATION_WWW_FORM_URLENCODED.as_ref());
    if !is_form || request.headers().contains_key(CSRF_HEADER) {
        if let Err(err) = site.check_csrf(request.headers(), None) {
            return err.into_response();
        }
        return next.run(request).await;
    }
    // A form post: the token is a field of the body, which is read (within the body limit) and
    // handed on unchanged.
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT_BYTES).await else {
        return ApiError::PayloadTooLarge {
            limit: BODY_LIMIT_BYTES,
        }
        .into_response();
    };
    let token = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    if let Err(err) = site.check_csrf(&parts.headers, token.as_deref()) {
        return err.into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A page sets its own policy (its stylesheet and script); everything else loads nothing.
    headers
        .entry("content-security-policy")
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    headers
        .entry("referrer-policy")
        .or_insert(HeaderValue::from_static("no-referrer"));
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        (
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::post;
    use tower::ServiceExt;

    fn app(site: Site) -> Router {
        site.protect(
            Router::new()
                .route("/x", post(|| async { "ok" }).get(|| async { "ok" }))
                .fallback(|| async { ApiError::NotFound }),
        )
    }

    async fn status(req: axum::http::request::Builder) -> StatusCode {
        let Ok(site) = Site::new("http://127.0.0.1:3000") else {
            panic!("site")
        };
        let Ok(req) = req.uri("/x").body(Body::empty()) else {
            panic!("request")
        };
        match app(site).oneshot(req).await {
            Ok(r) => r.status(),
            Err(e) => match e {},
        }
    }

    #[tokio::test]
    async fn behind_the_edge_only_requests_through_cloudfront_are_answered() {
        let Ok(site) = Site::new("https://keiryoku.example.go.jp") else {
            panic!("site")
        };
        let app = app(site.behind_edge("s3cret-s3cret-s3cret-s3cret-s3cret"));
        let ask = |verify: Option<&str>, path: &str| {
            let mut req = Request::builder().uri(path);
            if let Some(v) = verify {
                req = req.header(ORIGIN_VERIFY_HEADER, v);
            }
            let app = app.clone();
            let req = req.body(Body::empty());
            async move {
                let Ok(req) = req else { panic!("request") };
                match app.oneshot(req).await {
                    Ok(r) => r.status(),
                    Err(e) => match e {},
                }
            }
        };
        assert_eq!(ask(None, "/x").await, StatusCode::FORBIDDEN);
        assert_eq!(ask(Some("guess"), "/x").await, StatusCode::FORBIDDEN);
        assert_eq!(
            ask(None, "/unknown").await,
            StatusCode::FORBIDDEN,
            "the fallback too"
        );
        assert_eq!(
            ask(Some("s3cret-s3cret-s3cret-s3cret-s3cret"), "/x").await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn posts_need_matching_csrf_header_and_cookie() {
        let post = || Request::builder().method("POST");
        assert_eq!(status(post()).await, StatusCode::FORBIDDEN);
        assert_eq!(
            status(post().header("cookie", "csrf_token=abc")).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(
                post()
                    .header("cookie", "csrf_token=abc")
                    .header(CSRF_HEADER, "abd")
            )
            .await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(
                post()
                    .header("cookie", "csrf_token=abc")
                    .header(CSRF_HEADER, "abc")
            )
            .await,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_form_post_may_carry_the_token_as_a_field() {
        let form = |body: &'static str| {
            Request::builder()
                .method("POST")
                .header("cookie", "csrf_token=abc")
                .header("content-type", "application/x-www-form-urlencoded")
                .uri("/x")
                .body(Body::from(body))
        };
        let Ok(site) = Site::new("http://127.0.0.1:3000") else {
            panic!("site")
        };
        for (body, expected) in [
            ("a=1&csrf_token=abc", StatusCode::OK),
            ("a=1&csrf_token=abd", StatusCode::FORBIDDEN),
            ("a=1", StatusCode::FORBIDDEN),
        ] {
            let Ok(request) = form(body) else {
                panic!("request")
            };
            let Ok(response) = app(site.clone()).oneshot(request).await;
            assert_eq!(response.status(), expected, "{body}");
        }
    }

    #[tokio::test]
    async fn foreign_origin_is_refused_even_with_token() {
        let ok = || {
            Request::builder()
                .method("POST")
                .header("cookie", "csrf_token=abc")
                .header(CSRF_HEADER, "abc")
        };
        assert_eq!(
            status(ok().header("origin", "http://127.0.0.1:3000")).await,
            StatusCode::OK
        );
        assert_eq!(
            status(ok().header("origin", "https://evil.example")).await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(ok().header("origin", "null")).await,
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn reads_pass_and_carry_security_headers() {
        let Ok(site) = Site::new("http://127.0.0.1:3000") else {
            panic!("site")
        };
        let Ok(req) = Request::builder().uri("/x").body(Body::empty()) else {
            panic!("request")
        };
        let Ok(response) = app(site).oneshot(req).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("x-frame-options")
                .and_then(|v| v.to_str().ok()),
            Some("DENY")
        );
    }

    #[tokio::test]
    async fn unmatched_requests_skip_csrf_but_get_headers() {
        let Ok(site) = Site::new("http://127.0.0.1:3000") else {
            panic!("site")
        };
        let Ok(req) = Request::builder()
            .method("POST")
            .uri("/elsewhere")
            .body(Body::empty())
        else {
            panic!("request")
        };
        let Ok(response) = app(site).oneshot(req).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.headers().contains_key("content-security-policy"));
    }

    #[test]
    fn cookie_policy_follows_the_origin() {
        let Ok(local) = Site::new("http://127.0.0.1:3000") else {
            panic!("site")
        };
        let cookie = local.cookie("a", "b", 60, true);
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure")
        );
        let Ok(public) = Site::new("https://keiryoku.example.go.jp") else {
            panic!("site")
        };
        let set = public.cookie("keiryoku_session", "b", 60, true);
        assert!(set.starts_with("__Host-keiryoku_session=b") && set.contains("Secure"));
        assert!(set.contains("Path=/") && !set.contains("Domain"), "{set}");
        assert!(Site::new("http://keiryoku.example.go.jp").is_err());
        // Over https only the prefixed cookie counts: a bare one (which a sibling subdomain could
        // have set) is not a session.
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("keiryoku_session=tossed"),
        );
        assert_eq!(public.read_cookie(&headers, "keiryoku_session"), None);
        assert_eq!(
            local.read_cookie(&headers, "keiryoku_session").as_deref(),
            Some("tossed")
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-keiryoku_session=mine"),
        );
        assert_eq!(
            public.read_cookie(&headers, "keiryoku_session").as_deref(),
            Some("mine")
        );
        assert_eq!(
            public.url("/auth/callback"),
            "https://keiryoku.example.go.jp/auth/callback"
        );
    }
}
