//! Error pages: the same words as the API's problem+json (one mapping, in `keiryoku-http`), in
//! the page design, with a way on. A browser never sees a raw JSON body.

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keiryoku_http::{ApiError, PROBLEM_CONTENT_TYPE, wants_html};
use keiryoku_lifecycle::UseCaseError;
use serde::Deserialize;

use crate::Chrome;

/// Why a page cannot be shown.
#[derive(Debug)]
pub enum PageError {
    /// Nobody is logged in, or the login expired: log in, then come back to `return_to`.
    Login {
        return_to: String,
        expired: bool,
        /// A staff page: the staff login, not GビズID.
        staff: bool,
    },
    NotFound,
    Internal(String),
    /// Any other error, in the words the API gives it.
    Api(ApiError),
}

pub type PageResult<T = Response> = Result<T, PageError>;

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> PageError {
        PageError::Api(err)
    }
}

impl From<keiryoku_store::StoreError> for PageError {
    fn from(err: keiryoku_store::StoreError) -> PageError {
        PageError::Api(err.into())
    }
}

impl From<UseCaseError> for PageError {
    fn from(err: UseCaseError) -> PageError {
        PageError::Api(err.into())
    }
}

impl PageError {
    /// The answer to a page request without a valid session: log in (at the staff provider
    /// when `staff`) and come back to this page (a GET), or to `home` (after a post, whose form
    /// cannot be replayed). `expired` when the browser still sent a session cookie.
    pub fn login_needed(
        parts: &axum::http::request::Parts,
        site: &keiryoku_http::Site,
        staff: bool,
        home: &str,
    ) -> PageError {
        let expired = site
            .read_cookie(&parts.headers, keiryoku_http::SESSION_COOKIE)
            .is_some();
        let return_to = match parts.method {
            axum::http::Method::GET => parts
                .uri
                .path_and_query()
                .map_or(home.to_string(), |p| p.as_str().to_string()),
            _ => home.to_string(),
        };
        PageError::Login {
            return_to,
            expired,
            staff,
        }
    }
}

/// Where to log in so as to come back to `return_to` (a path on the platform).
pub fn login_url(return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/auth/login?return_to={encoded}")
}

/// Where staff log in so as to come back to `return_to`.
pub fn staff_login_url(return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("/staff/login?return_to={encoded}")
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: String,
    detail: String,
    login: Option<String>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, detail, login) = match self {
            PageError::Login {
                return_to,
                expired,
                staff,
            } => {
                let detail = match (expired, staff) {
                    (true, false) => {
                        "ログインの有効期限が切れました。もう一度ログインすると、このページに戻ります。入力して保存した内容は失われていません。"
                    }
                    (true, true) => {
                        "ログインの有効期限が切れました。もう一度ログインすると、このページに戻ります。"
                    }
                    (false, false) => {
                        "このページを見るには、GビズIDでログインしてください。ログインすると、このページに戻ります。"
                    }
                    (false, true) => {
                        "このページは職員用です。職員用のアカウントでログインしてください。ログインすると、このページに戻ります。"
                    }
                };
                let login = if staff {
                    staff_login_url(&return_to)
                } else {
                    login_url(&return_to)
                };
                (
                    StatusCode::UNAUTHORIZED,
                    "ログインしてください".to_string(),
                    detail.to_string(),
                    Some(login),
                )
            }
            PageError::NotFound => describe(ApiError::NotFound),
            PageError::Internal(cause) => describe(ApiError::Internal(cause)),
            PageError::Api(ApiError::Unauthorized) => {
                let (status, heading, detail) = ApiError::Unauthorized.describe();
                (
                    status,
                    heading.to_string(),
                    detail,
                    Some(login_url("/mypage")),
                )
            }
            PageError::Api(err) => describe(err),
        };
        error_page(status, heading, detail, login)
    }
}

/// The error page: heading, what happened and what to do, the way on.
fn error_page(
    status: StatusCode,
    heading: String,
    detail: String,
    login: Option<String>,
) -> Response {
    let page = ErrorPage {
        chrome: Chrome::new(heading.clone(), None),
        status: status.as_u16(),
        heading,
        detail,
        login,
    };
    match page.render() {
        Ok(body) => crate::html(status, body),
        // The error page itself failed: plain words, still HTML.
        Err(_) => crate::html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<!doctype html><html lang=\"ja\"><title>システムエラー</title><p>システムエラーが発生しました。時間をおいて再度お試しください。</p></html>".into(),
        ),
    }
}

#[derive(Deserialize)]
struct ProblemWords {
    title: String,
    detail: String,
}

/// A layer for the pages' functions: a problem+json answer (a refused CSRF token, a body over
/// the limit …) becomes the error page with the same words when a browser asked.
pub async fn problems_as_pages(request: Request, next: Next) -> Response {
    let browser = wants_html(request.headers());
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_CONTENT_TYPE.as_bytes());
    if !browser || !is_problem {
        return response;
    }
    let status = response.status();
    let Ok(bytes) = axum::body::to_bytes(response.into_body(), 64 * 1024).await else {
        return PageError::Internal("problem body unreadable".into()).into_response();
    };
    match serde_json::from_slice::<ProblemWords>(&bytes) {
        Ok(words) => error_page(status, words.title, words.detail, None),
        Err(e) => PageError::Internal(format!("problem body: {e}")).into_response(),
    }
}

fn describe(err: ApiError) -> (StatusCode, String, String, Option<String>) {
    match &err {
        ApiError::Internal(cause) => tracing::error!(error = %cause, "page failed"),
        ApiError::Unavailable(cause) => tracing::warn!(error = %cause, "dependency unavailable"),
        _ => {}
    }
    let (status, heading, detail) = err.describe();
    (status, heading.to_string(), detail, None)
}
