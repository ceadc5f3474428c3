//! What the templates show, built from the typed records: fields with their values and
//! problems, a status in words with the one next action, the timeline, the summary of answers.

use keiryoku_domain::application::{Application, AuditAction};
use keiryoku_domain::register::Origin;
use keiryoku_domain::status::Status;
use keiryoku_domain::validation::{Finding, Report};
use keiryoku_store::AuditRecord;
use serde_json::Value;

use crate::sections::{self, Choice, FieldSpec, Input, Section, Width};

/// How a field is drawn.
#[derive(Debug, Clone)]
pub enum Control {
    /// `<input>` of a type (`text`, `email`, `tel`) with an input mode and a width.
    Input {
        kind: &'static str,
        inputmode: &'static str,
        width: &'static str,
        autocomplete: &'static str,
    },
    TextArea,
    Select,
    Radios,
}

/// One field as a page shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: &'static str,
    pub hint: &'static str,
    pub control: Control,
    pub value: String,
    pub choices: Vec<Choice>,
    /// Offered under a text field (`<datalist>`) where the list is partial; free text stays.
    pub suggestions: Vec<String>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub required: bool,
    /// Taken from GビズID: shown read-only, with its origin.
    pub from_gbizid: bool,
}

impl FieldView {
    /// `aria-describedby`: the hint, then the error, of this field.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() || self.from_gbizid {
            ids.push(format!("{}-hint", self.id));
        }
        if !self.errors.is_empty() || !self.warnings.is_empty() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }

    pub fn has_error(&self) -> bool {
        !self.errors.is_empty()
    }

    /// `input`, `textarea`, `select` or `radios`.
    pub fn control_name(&self) -> &'static str {
        match self.control {
            Control::Input { .. } => "input",
            Control::TextArea => "textarea",
            Control::Select => "select",
            Control::Radios => "radios",
        }
    }

    /// The `type`, `inputmode`, width and `autocomplete` of an `<input>`.
    pub fn input_type(&self) -> &'static str {
        match self.control {
            Control::Input { kind, .. } => kind,
            _ => "text",
        }
    }
    pub fn inputmode(&self) -> &'static str {
        match self.control {
            Control::Input { inputmode, .. } => inputmode,
            _ => "text",
        }
    }
    pub fn width(&self) -> &'static str {
        match self.control {
            Control::Input { width, .. } => width,
            _ => "full",
        }
    }
    pub fn autocomplete(&self) -> &'static str {
        match self.control {
            Control::Input { autocomplete, .. } => autocomplete,
            _ => "off",
        }
    }

    /// The value as read (a choice's label for a drop-down), for read-only fields.
    pub fn shown_value(&self) -> String {
        self.choices
            .iter()
            .find(|c| c.selected)
            .map_or_else(|| self.value.clone(), |c| c.label.clone())
    }
}

/// The field `spec` at `pointer` of `plan`, with the problems found there.
pub fn field_view(
    spec: &FieldSpec,
    pointer: String,
    plan: &Value,
    problems: &Problems,
) -> FieldView {
    let value = sections::text_at(plan, &pointer);
    let mut suggestions = Vec::new();
    let (control, choices) = match spec.input {
        Input::Select(options) => match sections::choices(options, plan, &value) {
            Some(choices) => (Control::Select, choices),
            None => {
                suggestions = sections::suggestions(options, plan);
                (text(Width::Full), Vec::new())
            }
        },
        Input::YesNo => (
            Control::Radios,
            fixed(&[("true", "はい"), ("false", "いいえ")], &value),
        ),
        Input::Months => (
            Control::Radios,
            fixed(
                &[
                    ("36", "3年（36か月）"),
                    ("48", "4年（48か月）"),
                    ("60", "5年（60か月）"),
                ],
                &value,
            ),
        ),
        Input::TextArea => (Control::TextArea, Vec::new()),
        Input::Text(width) => (text(width), Vec::new()),
        Input::Email => (
            Control::Input {
                kind: "email",
                inputmode: "email",
                width: "medium",
                autocomplete: "email",
            },
            Vec::new(),
        ),
        Input::Tel => (
            Control::Input {
                kind: "tel",
                inputmode: "tel",
                width: "medium",
                autocomplete: "tel",
            },
            Vec::new(),
        ),
        Input::Integer | Input::Decimal => (
            Control::Input {
                kind: "text",
                inputmode: "decimal",
                width: "medium",
                autocomplete: "off",
            },
            Vec::new(),
        ),
        Input::Month | Input::Date => (
            Control::Input {
                kind: "text",
                inputmode: "numeric",
                width: "short",
                autocomplete: "off",
            },
            Vec::new(),
        ),
    };
    FieldView {
        id: sections::field_id(&pointer),
        errors: problems.errors_at(&pointer),
        warnings: problems.warnings_at(&pointer),
        name: pointer,
        label: spec.label,
        hint: spec.hint,
        control,
        value,
        choices,
        suggestions,
        required: spec.required,
        from_gbizid: spec.from_gbizid,
    }
}

/// Radio choices of fixed values, the current one selected.
fn fixed(pairs: &[(&str, &str)], value: &str) -> Vec<Choice> {
    pairs
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).into(),
            label: (*l).into(),
            selected: value == *v,
        })
        .collect()
}

fn text(width: Width) -> Control {
    Control::Input {
        kind: "text",
        inputmode: "text",
        width: match width {
            Width::Short => "short",
            Width::Medium => "medium",
            Width::Full => "full",
        },
        autocomplete: "off",
    }
}

/// The problems a page shows at its fields: errors (validation, a reviewer's comments) and
/// warnings, by plan path.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Problems {
    pub fn of(report: &Report) -> Problems {
        Problems {
            errors: report.errors.clone(),
            warnings: report.warnings.clone(),
        }
    }

    /// The error messages at one field.
    pub fn errors_at(&self, pointer: &str) -> Vec<String> {
        self.errors
            .iter()
            .filter(|f| f.path == pointer)
            .map(|f| f.message.clone())
            .collect()
    }

    /// The warnings at one field.
    pub fn warnings_at(&self, pointer: &str) -> Vec<String> {
        self.warnings
            .iter()
            .filter(|f| f.path == pointer)
            .map(|f| f.message.clone())
            .collect()
    }

    /// Only the problems of one section.
    pub fn within(&self, section: &Section) -> Problems {
        let mine =
            |f: &&Finding| sections::section_of(&f.path).is_some_and(|s| s.slug == section.slug);
        Problems {
            errors: self.errors.iter().filter(mine).cloned().collect(),
            warnings: self.warnings.iter().filter(mine).cloned().collect(),
        }
    }
}

/// A link of an error summary.
#[derive(Debug, Clone)]
pub struct SummaryLink {
    pub href: String,
    pub text: String,
}

/// Links for the error summary of a page whose fields are `fields`: a problem at a field links
/// to it; one at a path without its own field links to the first field under it (or the first
/// field of the page).
pub fn summary_links(problems: &[Finding], fields: &[&FieldView], base: &str) -> Vec<SummaryLink> {
    problems
        .iter()
        .map(|f| {
            let target = fields
                .iter()
                .find(|v| v.name == f.path)
                .or_else(|| {
                    fields
                        .iter()
                        .find(|v| v.name.starts_with(&format!("{}/", f.path)))
                })
                .or_else(|| fields.first());
            SummaryLink {
                href: format!("{base}#{}", target.map_or("main".into(), |v| v.id.clone())),
                text: f.message.clone(),
            }
        })
        .collect()
}

/// A status as the applicant reads it, and how it looks.
pub fn status_tag(status: Status) -> (&'static str, &'static str) {
    let state = match status {
        Status::Draft => "progress",
        Status::Submitted => "",
        Status::Returned => "error",
        Status::Certified => "done",
        Status::Rejected | Status::Withdrawn => "",
        Status::FinalisedForPaper => "warning",
    };
    (status.label(), state)
}

/// The one thing to do next with an application, as a link text and its target.
pub fn next_action(record: &Application) -> Option<(&'static str, String)> {
    let id = &record.id;
    match record.status {
        Status::Draft => Some(("続きを入力", format!("/plans/{id}"))),
        Status::Returned => Some(("修正して再提出", format!("/plans/{id}"))),
        Status::Certified if record.origin() == Origin::Platform => {
            Some(("認定書をダウンロード", format!("/plans/{id}")))
        }
        Status::Certified => Some(("認定の内容を見る", format!("/plans/{id}"))),
        Status::FinalisedForPaper => Some(("申請書を印刷して郵送", format!("/plans/{id}"))),
        Status::Submitted | Status::Rejected | Status::Withdrawn => {
            Some(("申請の内容を見る", format!("/plans/{id}")))
        }
    }
}

/// One entry of the timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub when: String,
    pub what: String,
    pub detail: String,
}

/// The newest events a timeline shows (an autosaving draft can have thousands).
pub const TIMELINE_SHOWN: i32 = 50;

/// The timeline of an application from its audit trail: every step but the edits of a draft,
/// which are summarised by the last one.
pub fn timeline(records: &[AuditRecord]) -> Vec<TimelineEntry> {
    let mut entries = Vec::new();
    let mut last_edit: Option<&AuditRecord> = None;
    for record in records {
        if record.action == AuditAction::Edit {
            last_edit = Some(record);
            continue;
        }
        if let Some(edit) = last_edit.take() {
            entries.push(entry(edit, "下書きを保存".into()));
        }
        let what = match record.action {
            AuditAction::Submit
                if entries
                    .iter()
                    .any(|e: &TimelineEntry| e.what.starts_with("提出")) =>
            {
                "再提出".to_string()
            }
            action => action.label().to_string(),
        };
        entries.push(entry(record, what));
    }
    if let Some(edit) = last_edit {
        entries.push(entry(edit, "下書きを保存".into()));
    }
    entries.reverse();
    entries
}

fn entry(record: &AuditRecord, what: String) -> TimelineEntry {
    let when = crate::jst_of_rfc3339(&record.at);
    let detail = record
        .detail
        .as_ref()
        .and_then(|d| {
            d.get("receipt_number")
                .or_else(|| d.get("certification_number"))
                .and_then(Value::as_str)
                .map(|n| format!("番号 {n}"))
        })
        .unwrap_or_default();
    TimelineEntry { when, what, detail }
}

/// One answer of check-your-answers.
#[derive(Debug, Clone)]
pub struct AnswerRow {
    /// The field's JSON Pointer in the plan (`/period/start`).
    pub pointer: String,
    pub label: String,
    pub value: String,
    pub change_href: String,
    pub error: bool,
}

/// A section's answers, in the form's order, each with a 変更 link to its field.
pub fn answers(section: &Section, id: &str, plan: &Value, problems: &Problems) -> Vec<AnswerRow> {
    let base = format!("/plans/{id}/sections/{}", section.slug);
    let mut rows = Vec::new();
    let mut push = |spec: &FieldSpec, pointer: String, prefix: String| {
        let view = field_view(spec, pointer, plan, problems);
        let value = match view.control {
            Control::Select | Control::Radios => view
                .choices
                .iter()
                .find(|c| c.selected)
                .map(|c| c.label.clone())
                .unwrap_or_default(),
            _ => view.value.clone(),
        };
        if value.is_empty() && !spec.required {
            return;
        }
        rows.push(AnswerRow {
            pointer: view.name.clone(),
            label: format!("{prefix}{}", spec.label),
            value: if value.is_empty() {
                "未入力".into()
            } else {
                value
            },
            change_href: format!("{base}#{}", view.id),
            error: view.has_error(),
        });
    };
    for spec in section.fields {
        push(spec, spec.key.to_string(), String::new());
    }
    if let Some(list) = &section.rows {
        for i in 0..sections::row_count(list, plan) {
            for spec in list.fields {
                push(
                    spec,
                    format!("{}/{i}/{}", list.list, spec.key),
                    format!("{} {}：", list.noun, i + 1),
                );
            }
        }
    }
    rows
}

/// The office's name as the tables give it (its id when unknown).
pub fn office_name(id: &str) -> String {
    keiryoku_domain::tables::tables()
        .office(id)
        .map_or_else(|| id.to_string(), |(_, o)| o.name.clone())
}

/// A return for correction (差戻し) as the applicant reads it: when, who, the message, and each
/// comment as a link to its field. The reviewer's preview shows the same.
#[derive(Debug, Clone)]
pub struct ReturnView {
    pub when: String,
    pub office: String,
    pub message: String,
    pub comments: Vec<SummaryLink>,
}

/// The applicant's view of a return of application `id`.
pub fn return_view(id: &str, returned: &keiryoku_domain::application::ReturnNote) -> ReturnView {
    ReturnView {
        when: crate::jst(returned.at),
        office: office_name(returned.office_id.as_str()),
        message: returned.message.clone(),
        comments: returned
            .comments
            .iter()
            .map(|c| comment_link(id, &c.path, &c.message))
            .collect(),
    }
}

/// A reviewer's comment as a link to its field (`/plan/period/start` → the 実施時期 page).
pub fn comment_link(id: &str, path: &str, message: &str) -> SummaryLink {
    let pointer = path.strip_prefix("/plan").unwrap_or(path);
    let href = match sections::section_of(pointer) {
        Some(section) => format!(
            "/plans/{id}/sections/{}#{}",
            section.slug,
            sections::field_id(pointer)
        ),
        None => format!("/plans/{id}"),
    };
    let label = sections::section_of(pointer).map_or("", |s| s.title);
    SummaryLink {
        href,
        text: if label.is_empty() {
            message.to_string()
        } else {
            format!("{label}：{message}")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_links_straight_to_its_field() {
        let link = comment_link("abc", "/plan/period/start", "開始月を確認してください");
        assert_eq!(link.href, "/plans/abc/sections/period#f-period-start");
        assert_eq!(link.text, "実施時期：開始月を確認してください");
    }
}
