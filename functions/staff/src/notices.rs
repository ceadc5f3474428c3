//! お知らせ for administrators: `GET /staff/notices` lists them with the form to publish one,
//! `POST /staff/notices` publishes, `POST /staff/notices/{id}` ends one now. A maintenance
//! notice names the window in which writes are refused; publishing it ahead of that window
//! announces it on every page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keiryoku_store::{Notice, NoticeAudience, NoticeKind, StaffPermission, Window};
use keiryoku_web::sections::Choice;
use keiryoku_web::staff::{Menu, Staff};
use keiryoku_web::views::{Control, FieldView, SummaryLink};
use keiryoku_web::{Chrome, Form, PageResult, render, see_other};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::StaffState;

/// A notice as the list shows it.
struct Row {
    id: String,
    kind: &'static str,
    audience: &'static str,
    title: String,
    published: String,
    maintenance: String,
    /// Shown now or still to come (so it can be ended).
    current: bool,
}

fn window(w: &Window) -> String {
    format!(
        "{} 〜 {}",
        keiryoku_web::jst(w.from),
        keiryoku_web::jst(w.until)
    )
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    chrome: Chrome,
    menu: Menu,
    done: Option<&'static str>,
    summary: Vec<SummaryLink>,
    fields: Vec<FieldView>,
    rows: Vec<Row>,
}

/// What the form holds.
#[derive(Debug, Default, Clone)]
struct Posted {
    kind: String,
    audience: String,
    title: String,
    body: String,
    from: String,
    until: String,
    maintenance_from: String,
    maintenance_until: String,
}

impl Posted {
    fn from_form(form: &Form) -> Posted {
        let text = |name: &str| form.get(name).unwrap_or_default().trim().to_string();
        Posted {
            kind: text("kind"),
            audience: text("audience"),
            title: text("title"),
            body: form.get("body").unwrap_or_default().trim().to_string(),
            from: text("from"),
            until: text("until"),
            maintenance_from: text("maintenance_from"),
            maintenance_until: text("maintenance_until"),
        }
    }

    /// The notice the form describes, or the problems at its fields.
    fn notice(&self, by: String, id: String) -> Result<Notice, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let kind = NoticeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind);
        if kind.is_none() {
            problems.push(("kind", "種類を選んでください。".to_string()));
        }
        let audience = NoticeAudience::ALL
            .into_iter()
            .find(|a| a.as_str() == self.audience);
        if audience.is_none() {
            problems.push(("audience", "表示する相手を選んでください。".to_string()));
        }
        let plain = |v: &str| !v.chars().any(keiryoku_domain::normalize::is_forbidden);
        if self.title.is_empty() || self.title.chars().count() > 60 || !plain(&self.title) {
            problems.push(("title", "件名は60文字以内で入力してください。".to_string()));
        }
        let body_plain = self
            .body
            .chars()
            .all(|c| c == '\n' || c == '\r' || !keiryoku_domain::normalize::is_forbidden(c));
        if self.body.is_empty() || self.body.chars().count() > 1000 || !body_plain {
            problems.push(("body", "本文は1000文字以内で入力してください。".to_string()));
        }
        let published = match (
            at("from", &self.from, &mut problems),
            at("until", &self.until, &mut problems),
        ) {
            (Some(from), Some(until)) if from < until => Some(Window { from, until }),
            (Some(_), Some(_)) => {
                problems.push(("until", "終了は開始より後にしてください。".to_string()));
                None
            }
            _ => None,
        };
        let maintenance = if kind == Some(NoticeKind::Maintenance) {
            match (
                at("maintenance_from", &self.maintenance_from, &mut problems),
                at("maintenance_until", &self.maintenance_until, &mut problems),
            ) {
                (Some(from), Some(until)) if from < until => Some(Window { from, until }),
                (Some(_), Some(_)) => {
                    problems.push((
                        "maintenance_until",
                        "メンテナンスの終了は開始より後にしてください。".to_string(),
                    ));
                    None
                }
                _ => None,
            }
        } else {
            None
        };
        if let (Some(p), Some(m)) = (&published, &maintenance)
            && (m.until > p.until || m.from < p.from)
        {
            problems.push((
                "maintenance_from",
                "メンテナンスの時間は掲載期間の中にしてください（事前にお知らせするため）。"
                    .to_string(),
            ));
        }
        match (kind, audience, published) {
            (Some(kind), Some(audience), Some(published)) if problems.is_empty() => Ok(Notice {
                id,
                kind,
                audience,
                title: self.title.clone(),
                body: self.body.replace("\r\n", "\n"),
                published,
                maintenance,
                by,
            }),
            _ => Err(problems),
        }
    }
}

/// The time of field `name`, or its problem added to `problems`.
fn at(
    name: &'static str,
    value: &str,
    problems: &mut Vec<(&'static str, String)>,
) -> Option<OffsetDateTime> {
    let parsed = japan_time(value);
    if parsed.is_none() {
        problems.push((
            name,
            "日時は 2026-12-10 22:00 の形（日本時間）で入力してください。".to_string(),
        ));
    }
    parsed
}

/// `2026-12-10 22:00` (or with a `T`) in Japan.
fn japan_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim().replace('T', " ");
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    PrimitiveDateTime::parse(&text, &format)
        .ok()
        .map(|at| at.assume_offset(time::macros::offset!(+9)))
}

fn fields(posted: &Posted, problems: &[(&'static str, String)]) -> Vec<FieldView> {
    let errors = |name: &str| {
        problems
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
    };
    let view = |name: &'static str,
                label: &'static str,
                hint: &'static str,
                control: Control,
                value: &str,
                choices: Vec<Choice>,
                required: bool| FieldView {
        id: name.to_string(),
        name: name.to_string(),
        label,
        hint,
        control,
        value: value.to_string(),
        choices,
        suggestions: Vec::new(),
        errors: errors(name),
        warnings: Vec::new(),
        required,
        from_gbizid: false,
    };
    let text = || Control::Input {
        kind: "text",
        inputmode: "text",
        width: "medium",
        autocomplete: "off",
    };
    let choices = |items: Vec<(&'static str, &'static str)>, current: &str| {
        items
            .into_iter()
            .map(|(value, label)| Choice {
                value: value.to_string(),
                label: label.to_string(),
                selected: value == current,
            })
            .collect()
    };
    vec![
        view(
            "kind",
            "種類",
            "",
            Control::Radios,
            &posted.kind,
            choices(
                NoticeKind::ALL
                    .iter()
                    .map(|k| (k.as_str(), k.label()))
                    .collect(),
                &posted.kind,
            ),
            true,
        ),
        view(
            "audience",
            "表示する相手",
            "",
            Control::Radios,
            &posted.audience,
            choices(
                NoticeAudience::ALL
                    .iter()
                    .map(|a| (a.as_str(), a.label()))
                    .collect(),
                &posted.audience,
            ),
            true,
        ),
        view(
            "title",
            "件名",
            "60文字以内",
            text(),
            &posted.title,
            Vec::new(),
            true,
        ),
        view(
            "body",
            "本文",
            "1000文字以内",
            Control::TextArea,
            &posted.body,
            Vec::new(),
            true,
        ),
        view(
            "from",
            "掲載の開始",
            "日本時間。例：2026-12-03 09:00",
            text(),
            &posted.from,
            Vec::new(),
            true,
        ),
        view(
            "until",
            "掲載の終了",
            "日本時間。例：2026-12-11 09:00",
            text(),
            &posted.until,
            Vec::new(),
            true,
        ),
        view(
            "maintenance_from",
            "メンテナンスの開始",
            "種類がメンテナンスのとき。この時間は保存・提出・判断ができなくなります。例：2026-12-10 22:00",
            text(),
            &posted.maintenance_from,
            Vec::new(),
            false,
        ),
        view(
            "maintenance_until",
            "メンテナンスの終了",
            "例：2026-12-11 02:00",
            text(),
            &posted.maintenance_until,
            Vec::new(),
            false,
        ),
    ]
}

async fn page(
    state: &StaffState,
    staff: &Staff,
    posted: &Posted,
    problems: &[(&'static str, String)],
) -> Result<NoticesPage, keiryoku_web::PageError> {
    let now = OffsetDateTime::now_utc();
    let rows = state
        .notices
        .list()
        .await?
        .into_iter()
        .map(|n| Row {
            current: n.published.until > now,
            published: window(&n.published),
            maintenance: n.maintenance.as_ref().map(window).unwrap_or_default(),
            kind: n.kind.label(),
            audience: n.audience.label(),
            title: n.title,
            id: n.id,
        })
        .collect();
    let fields = fields(posted, problems);
    let summary = crate::summary(&fields);
    Ok(NoticesPage {
        chrome: Chrome::new("お知らせ", Some(staff.header())).with_error(!summary.is_empty()),
        menu: staff.menu(),
        done: None,
        summary,
        fields,
        rows,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct ListParams {
    done: Option<String>,
}

/// `GET /staff/notices`.
pub async fn list(
    State(state): State<StaffState>,
    staff: Staff,
    axum::extract::Query(params): axum::extract::Query<ListParams>,
) -> PageResult {
    staff.0.require(StaffPermission::Administer)?;
    let mut shown = page(&state, &staff, &Posted::default(), &[]).await?;
    shown.done = match params.done.as_deref() {
        Some("added") => Some("お知らせを掲載しました（各ページへの反映には最大30秒かかります）。"),
        Some("ended") => Some("お知らせの掲載を終了しました。"),
        _ => None,
    };
    Ok(render(StatusCode::OK, &shown))
}

/// `POST /staff/notices`.
pub async fn add(State(state): State<StaffState>, staff: Staff, form: Form) -> PageResult {
    staff.0.require(StaffPermission::Administer)?;
    let posted = Posted::from_form(&form);
    let by = format!("{}（{}）", staff.0.member.name, staff.0.member.sub);
    match posted.notice(by, uuid::Uuid::now_v7().to_string()) {
        Ok(notice) => {
            state.notices.add(&notice).await?;
            tracing::info!(id = %notice.id, by = %staff.0.member.sub, "notice published");
            Ok(see_other("/staff/notices?done=added"))
        }
        Err(problems) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&state, &staff, &posted, &problems).await?,
        )),
    }
}

/// `POST /staff/notices/{id}`: ends the notice now.
pub async fn end(
    State(state): State<StaffState>,
    staff: Staff,
    Path(id): Path<String>,
    _form: Form,
) -> PageResult {
    staff.0.require(StaffPermission::Administer)?;
    state
        .notices
        .end(&id, OffsetDateTime::now_utc())
        .await
        .map_err(keiryoku_web::PageError::from)?;
    tracing::info!(%id, by = %staff.0.member.sub, "notice ended");
    Ok(see_other("/staff/notices?done=ended"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted() -> Posted {
        Posted {
            kind: "maintenance".into(),
            audience: "everyone".into(),
            title: "システムメンテナンス".into(),
            body: "保存・提出ができません。".into(),
            from: "2026-12-03 09:00".into(),
            until: "2026-12-11 09:00".into(),
            maintenance_from: "2026-12-10 22:00".into(),
            maintenance_until: "2026-12-11 02:00".into(),
        }
    }

    #[test]
    fn a_maintenance_notice_is_announced_before_its_window() {
        let notice = posted().notice("管理".into(), "1".into());
        let Ok(notice) = notice else {
            panic!("{notice:?}")
        };
        let window = notice.maintenance.unwrap_or(notice.published);
        assert_eq!(keiryoku_web::jst(window.from), "2026年12月10日 22時00分");
        let mut late = posted();
        late.maintenance_until = "2026-12-12 02:00".into();
        let fields: Vec<_> = late
            .notice("管理".into(), "1".into())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, ["maintenance_from"]);
    }

    #[test]
    fn bad_times_and_empty_words_are_named_at_their_fields() {
        let mut bad = posted();
        bad.title = String::new();
        bad.until = "来週".into();
        bad.kind = "other".into();
        let fields: Vec<_> = bad
            .notice("管理".into(), "1".into())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, ["title", "until"]);
    }
}
