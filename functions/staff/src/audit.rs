//! `GET /staff/audit` (閲覧・変更の記録): for the 企画課 and administrators, who read a case
//! (by 申請ID), what one staff member read (by 職員ID), or — with neither — who took extracts
//! and statistics; and the latest changes of the staff directory. Every condition is in the
//! URL; pages of 50, newest first.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use keiryoku_domain::application::ApplicationId;
use keiryoku_http::ApiError;
use keiryoku_store::{StaffPermission, StaffRead};
use keiryoku_web::staff::{Menu, Staff};
use keiryoku_web::views::SummaryLink;
use keiryoku_web::{Chrome, PageError, PageResult, render};
use serde::Deserialize;

use crate::{ChangeRow, StaffState, change_row};

/// Records per page.
const PAGE: i32 = 50;
/// Directory changes shown.
const CHANGES: i32 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// 申請ID: who read this case.
    application: Option<String>,
    /// 職員ID: what this person read.
    sub: Option<String>,
    cursor: Option<String>,
}

/// A read as the table lists it.
struct ReadRow {
    at: String,
    who: String,
    role: String,
    what: String,
    conditions: String,
}

fn read_row(read: StaffRead) -> ReadRow {
    ReadRow {
        at: keiryoku_web::jst_of_rfc3339(&read.at),
        who: format!("{}（{}）", read.name, read.sub),
        role: read.role,
        what: match &read.application_id {
            Some(id) => format!("{}：{id}", read.kind.label()),
            None => read.kind.label().to_string(),
        },
        conditions: read.conditions.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    menu: Menu,
    application: String,
    sub: String,
    summary: Vec<SummaryLink>,
    application_error: Option<String>,
    /// What the list shows, as a heading.
    heading: String,
    reads: Vec<ReadRow>,
    next: Option<String>,
    changes: Vec<ChangeRow>,
}

/// `GET /staff/audit`.
pub async fn page(
    State(state): State<StaffState>,
    staff: Staff,
    uri: axum::http::Uri,
) -> PageResult {
    staff.0.require(StaffPermission::Audit)?;
    let Query(params) = Query::<AuditParams>::try_from_uri(&uri).map_err(|e| {
        PageError::Api(ApiError::BadRequest(format!(
            "URLの条件が正しくありません（{}）。",
            e.body_text()
        )))
    })?;
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (application, sub) = (trimmed(&params.application), trimmed(&params.sub));
    let cursor = params.cursor.as_deref().filter(|c| !c.is_empty());
    let mut application_error = None;
    let (heading, page) = match (&application, &sub) {
        (Some(text), _) => match ApplicationId::parse(text) {
            Some(id) => (
                format!("申請ID {id} の案件を閲覧した職員"),
                Some(state.reads.of_case(Some(&id), PAGE, cursor).await?),
            ),
            None => {
                application_error =
                    Some("申請IDは 8-4-4-4-12 桁の形（UUID）で入力してください。".to_string());
                (String::new(), None)
            }
        },
        (None, Some(sub)) => (
            format!("職員ID {sub} の閲覧"),
            Some(state.reads.by_reader(sub, PAGE, cursor).await?),
        ),
        (None, None) => (
            "検索結果のCSVと統計の閲覧".to_string(),
            Some(state.reads.of_case(None, PAGE, cursor).await?),
        ),
    };
    let next = page.as_ref().and_then(|p| p.next_cursor.as_ref()).map(|c| {
        let mut url = url_query();
        if let Some(a) = &application {
            url.append_pair("application", a);
        }
        if let Some(s) = &sub {
            url.append_pair("sub", s);
        }
        url.append_pair("cursor", c);
        format!("/staff/audit?{}", url.finish())
    });
    let summary: Vec<SummaryLink> = application_error
        .iter()
        .map(|e| SummaryLink {
            href: "#application".into(),
            text: e.clone(),
        })
        .collect();
    let changes = state
        .staff
        .recent_changes(CHANGES)
        .await?
        .into_iter()
        .map(change_row)
        .collect();
    let status = if summary.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &AuditPage {
            chrome: Chrome::new("閲覧・変更の記録", Some(staff.header()))
                .with_error(!summary.is_empty()),
            menu: staff.menu(),
            application: application.unwrap_or_default(),
            sub: sub.unwrap_or_default(),
            summary,
            application_error,
            heading,
            reads: page
                .map(|p| p.items.into_iter().map(read_row).collect())
                .unwrap_or_default(),
            next,
            changes,
        },
    ))
}

fn url_query() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::new())
}
