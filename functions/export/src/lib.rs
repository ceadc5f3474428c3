//! The export function: what agencies' machine clients take out of the platform.
//!
//! - `GET /export/v1/feed`: every state change (submitted, returned, certified, rejected,
//!   withdrawn, changed, superseded, consent withdrawn) after an opaque, signed cursor, in order,
//!   each with a stable `event_id` a consumer deduplicates by. The client sees the plans its
//!   registration allows (a ministry: plans addressed to it; the SME Agency: all; ミラサポCONNECT:
//!   only plans whose data-use consent stands).
//!
//! The HTTP API's JWT authorizer (template.yaml `AgencyAuthorizer`) checks the token before this
//! function runs; the function maps the token's client to its registration
//! ([`keiryoku_store::Agencies`]).

#![forbid(unsafe_code)]

mod cursor;

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keiryoku_domain::feed::{AgencyClient, FeedRecord};
use keiryoku_http::{ApiError, MachineCaller, QueryParams, Site};
use keiryoku_store::{Agencies, Feed, MAX_FEED_PAGE};
use serde::{Deserialize, Serialize};

pub use cursor::CursorKey;

/// The scope a token needs for the change feed.
pub const FEED_SCOPE: &str = "export/feed";

#[derive(Clone)]
pub struct ExportState {
    pub site: Site,
    pub feed: Feed,
    pub agencies: Agencies,
    pub cursor_key: Arc<CursorKey>,
}

pub fn app(state: ExportState) -> Router {
    let site = state.site.clone();
    site.protect_machine(
        Router::new()
            .route("/export/v1/feed", get(feed))
            .with_state(state),
    )
}

/// The export routes, for the OpenAPI document (infra/openapi).
#[derive(utoipa::OpenApi)]
#[openapi(paths(feed), components(schemas(FeedPageView, FeedRecord)))]
pub struct Api;

/// `?cursor=&limit=` of the feed.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// `next_cursor` of the previous page; absent: from the beginning.
    pub cursor: Option<String>,
    /// Events read per page (1–1000, default 100). A page may show fewer: events the client may
    /// not see are skipped.
    pub limit: Option<usize>,
}

/// One page of the change feed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedPageView {
    /// The events this client may see, oldest first.
    pub events: Vec<FeedRecord>,
    /// Where the next page starts: pass it back as `cursor`, also when `events` is empty.
    pub next_cursor: String,
    /// Whether more events already wait after this page (otherwise poll again later).
    pub more: bool,
}

/// The change feed after a cursor.
#[utoipa::path(get, path = "/export/v1/feed", tag = "export", summary = "変更情報（状態の変化）を順に取得する", params(FeedParams), responses((status = 200, description = "変更情報の1ページ", body = FeedPageView), (status = 401, description = "トークンがない、または無効（API Gateway が答える）"), (status = 403, description = "トークンに export/feed がない、または提供先として登録されていない")), security(("agency" = ["export/feed"])))]
async fn feed(
    State(state): State<ExportState>,
    caller: MachineCaller,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Response, ApiError> {
    let agency = registered(&state, &caller, FEED_SCOPE).await?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_FEED_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit は 1 から {MAX_FEED_PAGE} の整数で指定してください。"
        )));
    }
    let key = state.cursor_key.get().await?;
    let after = match params.cursor.as_deref() {
        Some(cursor) => key.open(&caller.client_id, cursor).ok_or_else(|| {
            ApiError::BadRequest(
                "cursor が正しくありません（前のページの next_cursor をそのまま渡してください）。"
                    .into(),
            )
        })?,
        None => 0,
    };
    let page = state.feed.page(after, limit).await?;
    let sharing = if agency.view.needs_data_use_consent {
        state
            .feed
            .sharing(page.events.iter().map(|(_, e)| &e.application_id))
            .await?
    } else {
        Default::default()
    };
    let events: Vec<FeedRecord> = page
        .events
        .into_iter()
        .map(|(_, event)| event)
        .filter(|event| {
            let shares = sharing.get(&event.application_id).copied().unwrap_or(false);
            agency.view.sees(event, shares)
        })
        .collect();
    tracing::info!(
        client = %caller.client_id,
        after,
        position = page.position,
        shown = events.len(),
        "feed page"
    );
    Ok(Json(FeedPageView {
        events,
        next_cursor: key.seal(&caller.client_id, page.position),
        more: page.more,
    })
    .into_response())
}

/// The caller's registration, if its token carries `scope` and the client is registered.
async fn registered(
    state: &ExportState,
    caller: &MachineCaller,
    scope: &str,
) -> Result<AgencyClient, ApiError> {
    if !caller.has_scope(scope) {
        return Err(ApiError::Forbidden(format!(
            "このトークンには {scope} の権限がありません。"
        )));
    }
    state.agencies.get(&caller.client_id).await?.ok_or_else(|| {
        ApiError::Forbidden("このクライアントは提供先として登録されていません。".into())
    })
}
