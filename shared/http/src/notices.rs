//! The notices (お知らせ) of this process and the maintenance guard. A function that serves
//! pages or takes writes installs the board once ([`install`]) with the audience its pages
//! are for, and adds [`guard`] as a layer: the guard reads the notices at most every
//! [`REFRESH`] (a cached copy between) and refuses writes while a maintenance window is open
//! (503 problem+json with `Retry-After`; the pages' layer turns it into a page for a browser);
//! the pages show [`published`].

use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

use crate::ApiError;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use keiryoku_store::{Notice, NoticeAudience, Notices};
use time::OffsetDateTime;

/// How long a read of the notices is used before it is read again, unless
/// `NOTICES_REFRESH_SECONDS` says otherwise.
pub const REFRESH: Duration = Duration::from_secs(30);

struct Board {
    notices: Notices,
    refresh: Duration,
    audience: NoticeAudience,
    /// Paths whose writes go on during maintenance (the administrator's notice pages, so a
    /// maintenance can be ended early).
    exempt: &'static [&'static str],
}

static BOARD: OnceLock<Board> = OnceLock::new();
static CACHE: RwLock<Option<(Instant, Vec<Notice>)>> = RwLock::new(None);

/// Makes this process show and enforce the notices of `notices`, for pages read by
/// `audience`; writes to paths starting with one of `exempt` are never refused.
pub fn install(notices: Notices, audience: NoticeAudience, exempt: &'static [&'static str]) {
    let refresh = std::env::var("NOTICES_REFRESH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(REFRESH, Duration::from_secs);
    let _ = BOARD.set(Board {
        notices,
        refresh,
        audience,
        exempt,
    });
}

fn cached() -> Vec<Notice> {
    CACHE
        .read()
        .ok()
        .and_then(|c| c.as_ref().map(|(_, n)| n.clone()))
        .unwrap_or_default()
}

/// Reads the notices again if the cached copy is older than the refresh time; keeps the old copy
/// when the store cannot be read (a page is not refused for want of its notices).
async fn refresh(board: &Board) {
    let fresh = CACHE
        .read()
        .ok()
        .and_then(|c| c.as_ref().map(|(at, _)| at.elapsed() < board.refresh))
        .unwrap_or(false);
    if fresh {
        return;
    }
    match board.notices.list().await {
        Ok(list) => {
            if let Ok(mut cache) = CACHE.write() {
                *cache = Some((Instant::now(), list));
            }
        }
        Err(e) => tracing::warn!(error = %e, "notices unreadable; the last copy is used"),
    }
}

/// Reads the notices now unless the cached copy is fresh: at start-up, so the first request's
/// [`guard`] finds them read (nothing happens without an installed board).
pub async fn prefetch() {
    if let Some(board) = BOARD.get() {
        refresh(board).await;
    }
}

/// The notices published now for this process's audience.
pub fn published() -> Vec<Notice> {
    let Some(board) = BOARD.get() else {
        return Vec::new();
    };
    let now = OffsetDateTime::now_utc();
    cached()
        .into_iter()
        .filter(|n| n.audience.includes(board.audience) && n.published.contains(now))
        .collect()
}

/// The open maintenance window's end, if writes are refused now: only a maintenance announced
/// to this process's audience stops its writes.
fn maintenance_until(audience: NoticeAudience, now: OffsetDateTime) -> Option<OffsetDateTime> {
    cached()
        .iter()
        .filter(|n| n.audience.includes(audience))
        .filter_map(|n| n.maintenance_at(now).map(|w| w.until))
        .max()
}

/// The layer: refreshes the notices, refuses writes during maintenance.
pub async fn guard(request: Request, next: Next) -> Response {
    let Some(board) = BOARD.get() else {
        return next.run(request).await;
    };
    refresh(board).await;
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let path = request.uri().path();
    let exempt = board.exempt.iter().any(|p| path.starts_with(p));
    if writes && !exempt {
        let now = OffsetDateTime::now_utc();
        if let Some(until) = maintenance_until(board.audience, now) {
            let retry_after = u64::try_from((until - now).whole_seconds().max(1)).unwrap_or(60);
            return ApiError::Maintenance {
                until: japan_time(until),
                retry_after,
            }
            .into_response();
        }
    }
    next.run(request).await
}

/// 2026年12月10日 22時00分 (日本時間).
fn japan_time(at: OffsetDateTime) -> String {
    let local = at.to_offset(time::macros::offset!(+9));
    format!(
        "{}年{}月{}日 {}時{:02}分",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute()
    )
}
