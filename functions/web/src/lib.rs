//! The applicants' web pages. Each page is rendered on the server from a template checked at
//! compile time and calls the same use cases as the JSON API (`keiryoku-lifecycle`), never the
//! API over HTTP. Every action is a form post answered by a redirect (POST → 303 → GET), so the
//! whole journey works without JavaScript; the one script only autosaves.
//!
//! A form carries the CSRF token as a field (checked by the site guard of `keiryoku-http`), the
//! version it was read at (a stale save shows both versions instead of losing either), and for
//! submission an idempotency key (a double click submits once).

#![forbid(unsafe_code)]

mod forms;
mod pages;

pub use keiryoku_web::sections;
use keiryoku_web::views;
pub use pages::{example_count, render_example};

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use keiryoku_http::Site;
use keiryoku_lifecycle::prefill::Prefiller;
use keiryoku_store::{Applications, Certificates, Sessions};

/// Everything the pages need, built once per cold start.
#[derive(Clone)]
pub struct WebState {
    pub site: Site,
    pub sessions: Sessions,
    pub applications: Applications,
    /// The certificates' download history (read only).
    pub certificates: Certificates,
    pub prefiller: Prefiller,
}

impl FromRef<WebState> for keiryoku_http::Site {
    fn from_ref(state: &WebState) -> keiryoku_http::Site {
        state.site.clone()
    }
}

impl FromRef<WebState> for Sessions {
    fn from_ref(state: &WebState) -> Sessions {
        state.sessions.clone()
    }
}

pub fn app(state: WebState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/", get(pages::start))
            .route("/help", get(pages::help))
            .route("/privacy", get(pages::privacy))
            .route("/accessibility", get(pages::accessibility))
            .route("/login/refused", get(pages::entry_refused))
            .route("/assets/{file}", get(pages::asset))
            .route("/mypage", get(pages::mypage))
            .route("/plans/new", get(pages::new_plan))
            .route("/plans", post(pages::create_plan))
            .route("/plans/{id}", get(pages::plan))
            .route(
                "/plans/{id}/sections/{section}",
                get(pages::section).post(pages::save_section),
            )
            .route("/plans/{id}/check", get(pages::check))
            .route("/plans/{id}/submit", post(pages::submit))
            .route("/plans/{id}/finalise", post(pages::finalise))
            .route("/plans/{id}/submitted", get(pages::submitted))
            .route(
                "/plans/{id}/withdraw",
                get(pages::withdraw_confirm).post(pages::withdraw),
            )
            .route("/plans/{id}/change", post(pages::start_change))
            .route(
                "/plans/{id}/consent/withdraw",
                get(pages::consent_withdraw_confirm).post(pages::consent_withdraw),
            )
            .fallback(pages::not_found)
            .with_state(state),
    )
    .layer(axum::middleware::from_fn(keiryoku_http::notices::guard))
    .layer(axum::middleware::from_fn(keiryoku_web::problems_as_pages))
}
