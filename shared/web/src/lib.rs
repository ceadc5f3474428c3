//! What every page of the platform shares: the layout and its [`Chrome`], the stylesheet and
//! script under content-hashed names ([`assets`]), HTML responses with the page
//! Content-Security-Policy ([`html`]), and the error pages ([`PageError`]).
//!
//! Pages are rendered on the server from askama templates (checked at compile time) and work
//! without JavaScript; the one script only adds comfort. Nothing is loaded from another origin.

#![forbid(unsafe_code)]

pub mod assets;
mod error;
mod form;
pub mod notices;
pub mod sections;
pub mod staff;
pub mod views;

pub use error::{PageError, PageResult, login_url, problems_as_pages, staff_login_url};
pub use form::Form;
pub use keiryoku_http::wants_html;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The policy of every page: our own stylesheet and script only, forms post only to us, no
/// frames, no plugins, no inline script or style.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The service's name, as the header and every title say it.
pub const SERVICE_NAME: &str = "経営力向上計画 電子申請";

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The company (applicants) or the person and office (staff).
    pub name: String,
    /// The CSRF token the logout form (and every other form of the page) carries.
    pub csrf: String,
    /// Where "my page" is for this person.
    pub home: &'static str,
    /// What that link says (マイページ, 審査キュー).
    pub home_label: &'static str,
}

/// What the layout needs besides the page's own content.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page's own title (the layout adds the service name, and 「エラー：」 when `error`).
    pub title: String,
    /// Whether the page shows an error summary: the title then starts with 「エラー：」.
    pub error: bool,
    pub signed_in: Option<SignedIn>,
    pub css_tokens: &'static str,
    pub css_site: &'static str,
    pub js_site: &'static str,
    /// お知らせ published now ([`notices`]).
    pub notices: Vec<notices::NoticeView>,
}

impl Chrome {
    pub fn new(title: impl Into<String>, signed_in: Option<SignedIn>) -> Chrome {
        Chrome {
            title: title.into(),
            error: false,
            signed_in,
            css_tokens: assets::href("tokens.css"),
            css_site: assets::href("site.css"),
            js_site: assets::href("site.js"),
            notices: notices::shown(),
        }
    }

    /// The same page in its error state.
    pub fn with_error(mut self, error: bool) -> Chrome {
        self.error = error;
        self
    }

    /// `<title>`: 「エラー：」 first when the page reports errors (GOV.UK), then the page and the
    /// service.
    pub fn document_title(&self) -> String {
        let prefix = if self.error { "エラー：" } else { "" };
        format!("{prefix}{} - {SERVICE_NAME}", self.title)
    }

    /// The CSRF token for the page's forms (empty when nobody is signed in).
    pub fn csrf(&self) -> &str {
        self.signed_in.as_ref().map_or("", |s| s.csrf.as_str())
    }
}

/// An HTML page: `text/html`, the page policy, never stored by a cache (pages carry personal
/// data; the security layer of `keiryoku-http` adds the other headers).
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Form posts must carry our Origin (the site guard checks it): "no-referrer" would make the
    // browser send `Origin: null`. Nothing leaves the site with a referrer either way.
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

/// Renders a page template with `status`. A template that fails to render (a bug) is a 500
/// page, never a half page.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => PageError::Internal(format!("template: {e}")).into_response(),
    }
}

/// 303 See Other to `location` (a path on the platform): the answer to every form post, so
/// that reloading the next page never posts again.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A date in Japan written both ways: `令和8年12月4日（2026年12月4日）`.
pub fn wareki_and_seireki(date: time::Date) -> String {
    let (era, year) = wareki_year(date);
    format!(
        "{era}{year}年{}月{}日（{}年{}月{}日）",
        u8::from(date.month()),
        date.day(),
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A date in Japan in 西暦, `2026年12月4日`.
pub fn seireki(date: time::Date) -> String {
    format!(
        "{}年{}月{}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// An instant in Japan (JST), `2026年12月4日 19時05分`.
pub fn jst(at: time::OffsetDateTime) -> String {
    let local = at.to_offset(time::macros::offset!(+9));
    format!(
        "{} {}時{:02}分",
        seireki(local.date()),
        local.hour(),
        local.minute()
    )
}

/// A stored RFC 3339 instant in Japan (as [`jst`]); the text itself if it does not parse.
pub fn jst_of_rfc3339(text: &str) -> String {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_or_else(|_| text.to_string(), jst)
}

/// The era and its year (令和 from 2019-05-01, 平成 before).
fn wareki_year(date: time::Date) -> (&'static str, String) {
    let reiwa_start = time::macros::date!(2019 - 05 - 01);
    let (era, year) = if date >= reiwa_start {
        ("令和", date.year() - 2018)
    } else {
        ("平成", date.year() - 1988)
    };
    let year = if year == 1 {
        "元".to_string()
    } else {
        year.to_string()
    };
    (era, year)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn dates_are_written_in_both_calendars() {
        assert_eq!(
            wareki_and_seireki(date!(2026 - 12 - 04)),
            "令和8年12月4日（2026年12月4日）"
        );
        assert_eq!(
            wareki_and_seireki(date!(2019 - 05 - 01)),
            "令和元年5月1日（2019年5月1日）"
        );
        assert_eq!(
            wareki_and_seireki(date!(2019 - 04 - 30)),
            "平成31年4月30日（2019年4月30日）"
        );
        assert_eq!(
            jst(datetime!(2026-12-04 10:05 UTC)),
            "2026年12月4日 19時05分"
        );
    }

    #[test]
    fn an_error_page_title_starts_with_error() {
        let chrome = Chrome::new("名称等", None).with_error(true);
        assert_eq!(
            chrome.document_title(),
            "エラー：名称等 - 経営力向上計画 電子申請"
        );
    }
}
