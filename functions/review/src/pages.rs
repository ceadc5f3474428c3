//! The staff's web pages (審査画面): the queue, search, the case, and the decisions with their
//! confirmation steps. Server-rendered from compile-time templates in the design of the
//! applicants' pages (`keiryoku-web`), calling the same use cases as the JSON routes of this
//! function. Every action is a form post answered by a redirect, so everything works without
//! JavaScript; a stale page (someone else decided) is told, never overwritten.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use keiryoku_domain::application::{Application, ApplicationKind, LifecycleError};
use keiryoku_domain::status::Status;
use keiryoku_domain::validation::Finding;
use keiryoku_http::ApiError;
use keiryoku_lifecycle::{self as lifecycle, UseCaseError, application_id};
use keiryoku_store::{CaseDecision, CaseRecord};
use keiryoku_web::sections::{self, SECTIONS};
use keiryoku_web::staff::{Menu, Staff};
use keiryoku_web::views::{self, Problems, ReturnView, SummaryLink, TimelineEntry};
use keiryoku_web::{Chrome, Form, PageError, PageResult, render, see_other};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Listed, QueueParams, ReviewState, SearchParams, listed, next_url, today};

/// The query of a page's URL without empty values (an unfilled field of a GET form) and
/// without the parts in `skip`, re-encoded.
pub(crate) fn filled_query(uri: &Uri, skip: &[&str]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, v)| !v.trim().is_empty() && !skip.contains(&k.as_ref())),
        )
        .finish()
}

/// The conditions of a page's URL, parsed as the JSON routes parse them (unknown conditions
/// refused); empty fields count as absent, so a search form can send every field.
pub(crate) fn conditions<T: DeserializeOwned>(uri: &Uri) -> Result<T, PageError> {
    let bad = |detail: String| PageError::Api(ApiError::BadRequest(detail));
    let filled: Uri = format!("/?{}", filled_query(uri, &[]))
        .parse()
        .map_err(|_| bad("URLの条件が読み取れません。".into()))?;
    Query::<T>::try_from_uri(&filled)
        .map(|Query(value)| value)
        .map_err(|e| {
            bad(format!(
                "URLの条件が正しくありません（{}）。",
                e.body_text()
            ))
        })
}

/// Problems of a form's conditions: (field name, message).
type FieldProblems = Vec<(String, String)>;

/// The filter of a list page's conditions, or the problems to show at the form's fields.
fn filter_or_errors(
    parsed: Result<keiryoku_store::CaseFilter, ApiError>,
) -> Result<(Option<keiryoku_store::CaseFilter>, FieldProblems), PageError> {
    match parsed {
        Ok(filter) => Ok((Some(filter), Vec::new())),
        Err(ApiError::Validation(errors)) => Ok((
            None,
            errors
                .into_iter()
                .map(|e| (e.path.trim_start_matches('/').to_string(), e.message))
                .collect(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// 200, or 422 when the conditions had problems.
fn status_of(errors: &[(String, String)]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

// ---------------------------------------------------------------- lists

/// A case as a list row.
struct Row {
    href: String,
    receipt: String,
    /// The authority of the entry (several appear in a wide search).
    office: String,
    company: String,
    kind: &'static str,
    received: String,
    due: String,
    /// 期限超過 / 3営業日以内 / empty, and the tag's look.
    flag: (&'static str, &'static str),
    decision: &'static str,
    joint: bool,
    resubmission: bool,
    certification_number: String,
}

fn row(item: Listed) -> Row {
    let flag = if item.overdue {
        ("期限超過", "error")
    } else if item.due_soon {
        ("3営業日以内", "warning")
    } else {
        ("", "")
    };
    let case = item.case;
    Row {
        href: format!("/staff/cases/{}", case.application_id),
        receipt: case.receipt_number.clone(),
        office: views::office_name(case.office_id.as_str()),
        company: case.company_name.clone(),
        kind: kind_label(case.kind),
        received: keiryoku_web::seireki(case.received_on),
        due: keiryoku_web::seireki(case.due_on),
        flag,
        decision: case.decision.label(),
        joint: case.joint,
        resubmission: case.resubmission,
        certification_number: case.certification_number.clone().unwrap_or_default(),
    }
}

fn kind_label(kind: ApplicationKind) -> &'static str {
    match kind {
        ApplicationKind::New => "新規",
        ApplicationKind::Change => "変更",
    }
}

/// A text field of a filter form with its error.
struct Field {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    error: Option<String>,
}

/// A drop-down of a filter form.
struct Choose {
    name: &'static str,
    label: &'static str,
    /// value, label, selected
    options: Vec<(String, String, bool)>,
}

fn field(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: &Option<String>,
    errors: &[(String, String)],
) -> Field {
    Field {
        name,
        label,
        hint,
        value: value.clone().unwrap_or_default(),
        error: errors
            .iter()
            .find(|(path, _)| path == name)
            .map(|(_, message)| message.clone()),
    }
}

fn yes_no(
    name: &'static str,
    label: &'static str,
    yes: &str,
    no: &str,
    value: Option<bool>,
) -> Choose {
    Choose {
        name,
        label,
        options: vec![
            (String::new(), "すべて".into(), value.is_none()),
            ("true".into(), yes.into(), value == Some(true)),
            ("false".into(), no.into(), value == Some(false)),
        ],
    }
}

/// The received-date range of the queue and the search.
fn received_fields(
    from: &Option<String>,
    to: &Option<String>,
    errors: &[(String, String)],
) -> [Field; 2] {
    [
        field(
            "received_from",
            "受付日（から）",
            "例：2026-04-01",
            from,
            errors,
        ),
        field(
            "received_to",
            "受付日（まで）",
            "例：2026-04-30",
            to,
            errors,
        ),
    ]
}

/// The joint-plan and resubmission choices of the queue and the search.
fn kind_chooses(joint: Option<bool>, resubmission: Option<bool>) -> [Choose; 2] {
    [
        yes_no("joint", "共管", "共管の計画のみ", "共管以外", joint),
        yes_no(
            "resubmission",
            "再提出",
            "再提出のみ",
            "初回の提出のみ",
            resubmission,
        ),
    ]
}

fn summary_of(fields: &[&Field]) -> Vec<SummaryLink> {
    fields
        .iter()
        .filter_map(|f| {
            f.error.as_ref().map(|message| SummaryLink {
                href: format!("#{}", f.name),
                text: format!("{}：{message}", f.label),
            })
        })
        .collect()
}

/// The page size and cursor of a list page.
fn paging<'a>(
    limit: &Option<i32>,
    cursor: &'a Option<String>,
) -> Result<(usize, Option<&'a str>), PageError> {
    let limit = crate::page_limit(*limit)?;
    Ok((usize::try_from(limit).unwrap_or(50), cursor.as_deref()))
}

/// A page of cases as rows, and the link to the next page.
fn rows_of(page: keiryoku_store::CasePage, uri: &Uri) -> (Vec<Row>, Option<String>) {
    let today = today();
    let next = page.next_cursor.as_deref().map(|c| next_url(uri, c));
    let rows = page
        .items
        .into_iter()
        .map(|c| row(listed(c, today)))
        .collect();
    (rows, next)
}

// ---------------------------------------------------------------- start and queue

#[derive(Template)]
#[template(path = "staff_start.html")]
struct StartPage {
    chrome: Chrome,
    logged_out: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    menu: Menu,
    office: String,
    /// label, count, the application status that lists them in the search
    counts: Vec<(&'static str, u64, &'static str)>,
    fields: Vec<Field>,
    chooses: Vec<Choose>,
    summary: Vec<SummaryLink>,
    filtered: bool,
    rows: Vec<Row>,
    next: Option<String>,
}

/// `/staff`: the queue of the signed-in reviewer's office; for other roles their first page; the
/// staff login for anyone not signed in.
pub async fn home(
    State(state): State<ReviewState>,
    staff: Result<Staff, PageError>,
    uri: Uri,
) -> PageResult {
    let staff = match staff {
        Ok(staff) => staff,
        Err(PageError::Login { .. }) => {
            let logged_out = uri.query().is_some_and(|q| q.contains("logged_out"));
            return Ok(render(
                StatusCode::OK,
                &StartPage {
                    chrome: Chrome::new("職員用ログイン", None),
                    logged_out,
                },
            ));
        }
        Err(other) => return Err(other),
    };
    let Some(office_id) = staff.role().deciding_office().cloned() else {
        return Ok(see_other(staff.menu().home().0));
    };
    let params: QueueParams = conditions(&uri)?;
    let (filter, errors) = filter_or_errors(params.filter())?;
    let counts = state.cases.counts(&office_id).await?;
    let (rows, next) = match &filter {
        Some(filter) => {
            let (limit, cursor) = paging(&params.limit, &params.cursor)?;
            let page = state.cases.queue(&office_id, filter, limit, cursor).await?;
            rows_of(page, &uri)
        }
        None => (Vec::new(), None),
    };
    let fields: Vec<Field> =
        received_fields(&params.received_from, &params.received_to, &errors).into();
    let summary = summary_of(&fields.iter().collect::<Vec<_>>());
    let chooses: Vec<Choose> = kind_chooses(params.joint, params.resubmission).into();
    let page = QueuePage {
        chrome: Chrome::new("審査キュー", Some(staff.header())).with_error(!summary.is_empty()),
        menu: staff.menu(),
        office: views::office_name(office_id.as_str()),
        counts: CaseDecision::ALL
            .iter()
            .map(|d| {
                (
                    decision_heading(*d),
                    counts.of(*d),
                    status_of_decision(*d).as_str(),
                )
            })
            .collect(),
        filtered: !filled_query(&uri, &["cursor"]).is_empty(),
        fields,
        chooses,
        summary,
        rows,
        next,
    };
    Ok(render(status_of(&errors), &page))
}

/// The application status the search filters a decision state's cases by.
fn status_of_decision(decision: CaseDecision) -> Status {
    match decision {
        CaseDecision::Pending | CaseDecision::Approved => Status::Submitted,
        CaseDecision::Returned => Status::Returned,
        CaseDecision::Certified => Status::Certified,
        CaseDecision::Rejected => Status::Rejected,
        CaseDecision::Withdrawn => Status::Withdrawn,
    }
}

/// How the counts name each state.
fn decision_heading(decision: CaseDecision) -> &'static str {
    match decision {
        CaseDecision::Pending => "審査待ち",
        CaseDecision::Returned => "差戻し中",
        CaseDecision::Approved => "自庁は認定済み（他庁の判断待ち）",
        CaseDecision::Certified => "認定",
        CaseDecision::Rejected => "不認定",
        CaseDecision::Withdrawn => "取下げ",
    }
}

// ---------------------------------------------------------------- search

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    menu: Menu,
    /// The authorities searched (関東経済産業局, 経済産業省, 全国).
    scope: String,
    /// More than one authority: the rows name theirs.
    several: bool,
    fields: Vec<Field>,
    chooses: Vec<Choose>,
    summary: Vec<SummaryLink>,
    searched: bool,
    rows: Vec<Row>,
    next: Option<String>,
    /// The CSV extract of the same conditions.
    csv: String,
}

/// `/staff/cases`: search of the cases within the member's scope, every condition in the URL.
pub async fn search(State(state): State<ReviewState>, staff: Staff, uri: Uri) -> PageResult {
    let scope = staff.0.scope()?;
    let offices = scope.offices();
    let params: SearchParams = conditions(&uri)?;
    let (filter, errors) = filter_or_errors(params.filter())?;
    let query = filled_query(&uri, &["cursor"]);
    let searched = !query.is_empty();
    let (rows, next) = match (&filter, searched) {
        (Some(filter), true) => {
            let (limit, cursor) = paging(&params.limit, &params.cursor)?;
            let page = state
                .cases
                .search_in(&offices, filter, limit, cursor)
                .await?;
            rows_of(page, &uri)
        }
        _ => (Vec::new(), None),
    };
    let [received_from, received_to] =
        received_fields(&params.received_from, &params.received_to, &errors);
    let fields = vec![
        field("company", "事業者名（一部）", "", &params.company, &errors),
        field(
            "corporate_number",
            "法人番号",
            "13桁",
            &params.corporate_number,
            &errors,
        ),
        field(
            "certification_number",
            "認定番号",
            "",
            &params.certification_number,
            &errors,
        ),
        received_from,
        received_to,
        field(
            "certified_from",
            "認定日（から）",
            "例：2026-04-01",
            &params.certified_from,
            &errors,
        ),
        field(
            "certified_to",
            "認定日（まで）",
            "例：2026-04-30",
            &params.certified_to,
            &errors,
        ),
        field(
            "prefecture",
            "本店所在地の都道府県コード",
            "2桁。例：13（東京都）",
            &params.prefecture,
            &errors,
        ),
        field(
            "industry",
            "業種（日本標準産業分類）",
            "中分類2桁又は細分類4桁。例：24",
            &params.industry,
            &errors,
        ),
    ];
    let summary = summary_of(&fields.iter().collect::<Vec<_>>());
    let mut status = vec![(String::new(), "すべて".to_string(), params.status.is_none())];
    status.extend(
        keiryoku_domain::status::ALL_STATUSES
            .iter()
            .filter(|s| **s != Status::Draft)
            .map(|s| {
                (
                    s.as_str().to_string(),
                    s.label().to_string(),
                    params.status == Some(*s),
                )
            }),
    );
    let [joint, resubmission] = kind_chooses(params.joint, params.resubmission);
    let chooses = vec![
        Choose {
            name: "status",
            label: "状況",
            options: status,
        },
        joint,
        resubmission,
    ];
    let csv = if query.is_empty() {
        "/review/cases.csv".to_string()
    } else {
        format!("/review/cases.csv?{query}")
    };
    let page = SearchPage {
        chrome: Chrome::new("案件の検索", Some(staff.header())).with_error(!summary.is_empty()),
        menu: staff.menu(),
        scope: scope.label(),
        several: offices.len() > 1,
        fields,
        chooses,
        summary,
        searched,
        rows,
        next,
        csv,
    };
    Ok(render(status_of(&errors), &page))
}

// ---------------------------------------------------------------- the case

/// One answer of the plan as a reviewer reads it.
struct Answer {
    id: String,
    label: String,
    value: String,
    errors: Vec<String>,
    warnings: Vec<String>,
    /// The value before (a resubmission or a change), when it changed.
    before: Option<String>,
}

struct Group {
    title: String,
    answers: Vec<Answer>,
}

/// A comparison as the case page lists it.
struct ComparisonView {
    heading: String,
    /// label, before, after, anchor
    rows: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    menu: Menu,
    id: String,
    kind: &'static str,
    company: String,
    status: &'static str,
    state: &'static str,
    done: Option<&'static str>,
    facts: Vec<(&'static str, String)>,
    /// label, the plan's, GビズID's
    identity: Vec<(&'static str, String, String, bool)>,
    routing: Vec<String>,
    comparisons: Vec<ComparisonView>,
    findings: Vec<SummaryLink>,
    warnings: Vec<SummaryLink>,
    groups: Vec<Group>,
    returned: Option<ReturnView>,
    decidable: bool,
    /// Filed on paper: the decision is made on paper and recorded here.
    on_paper: bool,
    timeline: Vec<TimelineEntry>,
}

#[derive(Deserialize, Default)]
pub struct CaseParams {
    done: Option<String>,
}

/// The plan of `record` in 様式第1 order with the problems at each field and what changed.
fn plan_groups(
    record: &Application,
    problems: &Problems,
    changes: &[keiryoku_domain::diff::FieldChange],
) -> Vec<Group> {
    let plan = record.plan.to_value();
    let id = record.id.to_string();
    SECTIONS
        .iter()
        .enumerate()
        .map(|(i, section)| {
            let answers = views::answers(section, &id, &plan, problems)
                .into_iter()
                .map(|a| {
                    let pointer = a.pointer.clone();
                    let path = format!("/plan{pointer}");
                    let before = changes
                        .iter()
                        .find(|c| c.path == path)
                        .map(|c| c.before.as_ref().map_or("（なし）".to_string(), shown));
                    Answer {
                        id: sections::field_id(&pointer),
                        label: a.label,
                        value: a.value,
                        errors: problems.errors_at(&pointer),
                        warnings: problems.warnings_at(&pointer),
                        before,
                    }
                })
                .collect();
            Group {
                title: format!("{}. {}", i + 1, section.title),
                answers,
            }
        })
        .filter(|g| !g.answers.is_empty())
        .collect()
}

/// A JSON value as text.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "（なし）".into(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "はい".into(),
        Value::Bool(false) => "いいえ".into(),
        other => other.to_string(),
    }
}

/// How the case page names a changed plan path: 「2. 現状認識 › 経営課題」 as the plan below
/// shows it, or the section and the path when the field has no row there (a removed row).
fn label_of(groups: &[Group], path: &str) -> String {
    let pointer = path.strip_prefix("/plan").unwrap_or(path);
    let id = sections::field_id(pointer);
    groups
        .iter()
        .find_map(|g| {
            g.answers
                .iter()
                .find(|a| a.id == id)
                .map(|a| format!("{} › {}", g.title, a.label))
        })
        .unwrap_or_else(|| {
            sections::section_of(pointer).map_or_else(
                || pointer.to_string(),
                |s| format!("{}（{pointer}）", s.title),
            )
        })
}

/// `/staff/cases/{id}`: the case as a reviewer reads it.
pub async fn case(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(params): Query<CaseParams>,
) -> PageResult {
    let id = application_id(&id)?;
    let view =
        lifecycle::case_view(&state.applications, &state.cases, &staff.0.scope()?, &id).await?;
    state
        .reads
        .record(
            &staff
                .0
                .read(keiryoku_store::ReadKind::Case, Some(&id), None),
        )
        .await?;
    let history = state
        .applications
        .history(
            &id,
            keiryoku_store::Order::NewestFirst,
            views::TIMELINE_SHOWN,
            None,
        )
        .await?;
    let mut history = history.items;
    history.reverse();
    let record = &view.application;
    let problems = Problems::of(&view.validation);
    let all_changes: Vec<_> = view
        .comparisons
        .iter()
        .flat_map(|c| c.changes.iter().cloned())
        .collect();
    let groups = plan_groups(record, &problems, &all_changes);
    let link = |f: &Finding| SummaryLink {
        href: format!("#{}", sections::field_id(&f.path)),
        text: match sections::section_of(&f.path) {
            Some(s) => format!("{}：{}", s.title, f.message),
            None => f.message.clone(),
        },
    };
    let mut facts = Vec::new();
    let listed = listed(view.case.clone(), today());
    let case: &CaseRecord = &view.case;
    if record.submission.is_some() {
        facts.push(("受付番号", case.receipt_number.clone()));
        facts.push(("受付日時", keiryoku_web::jst(case.received_at)));
    } else {
        facts.push(("申請の方法", "紙申請（申請書を郵送）".to_string()));
        facts.push((
            "紙申請用に確定した日時",
            keiryoku_web::jst(case.received_at),
        ));
    }
    let mut due = keiryoku_web::wareki_and_seireki(case.due_on);
    if listed.overdue {
        due.push_str("（期限超過）");
    } else if listed.due_soon {
        due.push_str("（3営業日以内）");
    }
    facts.push(("標準処理期間の期限", due));
    facts.push(("行政庁", views::office_name(case.office_id.as_str())));
    facts.push(("この行政庁の判断", case.decision.label().to_string()));
    if let Some(number) = &case.certification_number {
        facts.push(("認定番号", number.clone()));
    }
    if let Some(change) = &record.change_of {
        facts.push((
            "変更する認定",
            format!("認定番号 {}", change.certification_number),
        ));
    }
    let filed_routing = record
        .submission
        .as_ref()
        .map(|s| &s.routing)
        .or(record.paper.as_ref().map(|p| &p.routing));
    let routing = filed_routing
        .map(|routing| {
            let mut lines: Vec<String> = routing
                .authorities
                .iter()
                .map(|a| format!("提出先：{}（{}）", a.office_name, a.ministry_name))
                .collect();
            if routing.joint {
                lines.push("共管：すべての行政庁が認定して計画の認定となります。".into());
            }
            lines.extend(routing.explanation.iter().map(|step| step.message.clone()));
            lines
        })
        .unwrap_or_default();
    let plan = record.plan.to_value();
    let identity = match &record.identity {
        Some(verified) => {
            let text = |p: &str| sections::text_at(&plan, p);
            let row = |label, planned: String, known: Option<String>| {
                let known = known.unwrap_or_default();
                let differs = !known.is_empty() && planned != known;
                (label, planned, known, differs)
            };
            vec![
                row("名称", text("/applicant/name"), Some(verified.name.clone())),
                row(
                    "法人番号",
                    text("/applicant/corporate_number"),
                    verified.corporate_number.clone(),
                ),
                row(
                    "代表者の氏名",
                    text("/applicant/representative_name"),
                    verified.representative_name.clone(),
                ),
            ]
        }
        None => Vec::new(),
    };
    let comparisons = view
        .comparisons
        .iter()
        .map(|c| ComparisonView {
            heading: match c.against {
                lifecycle::Against::Returned => {
                    format!("差し戻した版（第{}版）からの変更", c.revision)
                }
                lifecycle::Against::Certified => {
                    format!("認定済みの計画（第{}版）からの変更", c.revision)
                }
            },
            rows: c
                .changes
                .iter()
                .map(|ch| {
                    let pointer = ch.path.strip_prefix("/plan").unwrap_or(&ch.path);
                    (
                        label_of(&groups, &ch.path),
                        ch.before.as_ref().map_or("（なし）".into(), shown),
                        ch.after.as_ref().map_or("（なし）".into(), shown),
                        format!("#{}", sections::field_id(pointer)),
                    )
                })
                .collect(),
        })
        .collect();
    let (status, state_tag) = views::status_tag(record.status);
    let returned = record
        .returned
        .as_ref()
        .filter(|_| record.status == Status::Returned)
        .map(|r| views::return_view(record.id.as_str(), r));
    let page = CasePage {
        chrome: Chrome::new(format!("案件：{}", case.company_name), Some(staff.header())),
        menu: staff.menu(),
        id: record.id.to_string(),
        kind: kind_label(record.kind),
        company: case.company_name.clone(),
        status,
        state: state_tag,
        done: match params.done.as_deref() {
            Some("returned") => Some("差し戻しました。申請者に通知されます。"),
            Some("approved") => Some("認定しました。"),
            Some("rejected") => Some("不認定としました。申請者に通知されます。"),
            Some("paper") => Some("紙申請の認定を登録しました。"),
            _ => None,
        },
        facts,
        identity,
        routing,
        comparisons,
        findings: view.validation.errors.iter().map(link).collect(),
        warnings: view.validation.warnings.iter().map(link).collect(),
        groups,
        returned,
        decidable: view.case.is_pending()
            && staff.role().deciding_office() == Some(&view.case.office_id),
        on_paper: record.status == Status::FinalisedForPaper,
        timeline: views::timeline(&history),
    };
    Ok(render(StatusCode::OK, &page))
}

// ---------------------------------------------------------------- decisions

/// A decision refused because the page was stale: someone else decided, or the application
/// changed since it was read.
#[derive(Template)]
#[template(path = "stale.html")]
struct StalePage {
    chrome: Chrome,
    id: String,
    status: &'static str,
}

/// The page that says the case moved on since it was read: `record` as it is now.
fn stale_page(staff: &Staff, record: &Application) -> Response {
    render(
        StatusCode::CONFLICT,
        &StalePage {
            chrome: Chrome::new("この案件は更新されています", Some(staff.header())),
            id: record.id.to_string(),
            status: record.status.label(),
        },
    )
}

/// The stale page when `err` says the page was read at another version or state; `err` itself
/// otherwise.
async fn stale_or(
    state: &ReviewState,
    staff: &Staff,
    id: &keiryoku_domain::application::ApplicationId,
    err: UseCaseError,
) -> PageResult {
    match err {
        UseCaseError::Refused(LifecycleError::Stale | LifecycleError::Transition(_)) => {
            Ok(stale_page(staff, &state.applications.get(id).await?))
        }
        other => Err(other.into()),
    }
}

/// A comment being written at a field, as the return form shows it.
struct CommentField {
    path: String,
    id: String,
    label: String,
    value: String,
    text: String,
    error: Option<String>,
}

struct CommentGroup {
    title: String,
    fields: Vec<CommentField>,
}

#[derive(Template)]
#[template(path = "return.html")]
struct ReturnPage {
    chrome: Chrome,
    id: String,
    company: String,
    version: i64,
    message: String,
    message_error: Option<String>,
    groups: Vec<CommentGroup>,
    summary: Vec<SummaryLink>,
    /// The applicant's view of the return, when previewing.
    preview: Option<ReturnView>,
    /// The comments being previewed, carried as hidden fields.
    carried: Vec<(String, String)>,
}

/// The prefix of a comment field's name: `comment:/plan/period/start`.
const COMMENT_PREFIX: &str = "comment:";

/// The comments of a posted return form, in the plan's order, non-empty only.
fn posted_comments(form: &Form) -> Vec<(String, String)> {
    form.0
        .iter()
        .filter_map(|(name, value)| {
            let path = name.strip_prefix(COMMENT_PREFIX)?;
            (!value.trim().is_empty()).then(|| (path.to_string(), value.clone()))
        })
        .collect()
}

fn return_page(
    staff: &Staff,
    record: &Application,
    message: &str,
    comments: &[(String, String)],
    findings: &[Finding],
) -> ReturnPage {
    let id = record.id.to_string();
    let plan = record.plan.to_value();
    let none = Problems::default();
    // A finding of the use case names the comment by its index in the posted list.
    let comment_error = |path: &str| {
        comments.iter().position(|(p, _)| p == path).and_then(|i| {
            let prefix = format!("/comments/{i}/");
            findings
                .iter()
                .find(|f| f.path.starts_with(&prefix))
                .map(|f| f.message.clone())
        })
    };
    let groups: Vec<CommentGroup> = SECTIONS
        .iter()
        .enumerate()
        .map(|(i, section)| CommentGroup {
            title: format!("{}. {}", i + 1, section.title),
            fields: views::answers(section, &id, &plan, &none)
                .into_iter()
                .map(|a| {
                    let path = format!("/plan{}", a.pointer);
                    CommentField {
                        id: format!("c{}", sections::field_id(&a.pointer)),
                        text: comments
                            .iter()
                            .find(|(p, _)| *p == path)
                            .map(|(_, t)| t.clone())
                            .unwrap_or_default(),
                        error: comment_error(&path),
                        path,
                        label: a.label,
                        value: a.value,
                    }
                })
                .collect(),
        })
        .filter(|g| !g.fields.is_empty())
        .collect();
    let message_error = findings
        .iter()
        .find(|f| f.path == "/message")
        .map(|f| f.message.clone());
    let mut summary = Vec::new();
    if let Some(e) = &message_error {
        summary.push(SummaryLink {
            href: "#message".into(),
            text: e.clone(),
        });
    }
    for g in &groups {
        for f in &g.fields {
            if let Some(e) = &f.error {
                summary.push(SummaryLink {
                    href: format!("#{}", f.id),
                    text: format!("{}：{e}", f.label),
                });
            }
        }
    }
    for f in findings.iter().filter(|f| f.path == "/comments") {
        summary.push(SummaryLink {
            href: "#message".into(),
            text: f.message.clone(),
        });
    }
    ReturnPage {
        chrome: Chrome::new("差し戻す", Some(staff.header())).with_error(!summary.is_empty()),
        id,
        company: record.company_name(),
        version: record.version,
        message: message.to_string(),
        message_error,
        groups,
        summary,
        preview: None,
        carried: comments.to_vec(),
    }
}

/// The applicant's view of the return about to be made: the same function renders their page.
fn preview_of(
    reviewer: &lifecycle::Reviewer,
    record: &Application,
    (message, comments): (String, Vec<keiryoku_domain::application::FieldComment>),
) -> ReturnView {
    let note = keiryoku_domain::application::ReturnNote {
        at: time::OffsetDateTime::now_utc(),
        by: reviewer.actor.clone(),
        office_id: reviewer.office.clone(),
        message,
        comments,
        revision: record.version,
    };
    views::return_view(record.id.as_str(), &note)
}

/// The application of a case of the staff member's office that still waits for the office's
/// decision; otherwise the page to answer with (the stale page, or the error).
async fn pending_case(
    state: &ReviewState,
    staff: &Staff,
    id: &str,
) -> Result<Application, Response> {
    let found = async {
        let reviewer = staff.0.reviewer()?;
        let id = application_id(id)?;
        let (record, case) =
            lifecycle::case_of(&state.applications, &state.cases, &reviewer.scope(), &id).await?;
        // The decision pages show the case: a read like any other.
        state
            .reads
            .record(
                &staff
                    .0
                    .read(keiryoku_store::ReadKind::Case, Some(&id), None),
            )
            .await?;
        Ok::<_, PageError>((record, case.is_pending()))
    };
    match found.await {
        Ok((record, true)) => Ok(record),
        Ok((record, false)) => Err(stale_page(staff, &record)),
        Err(err) => Err(err.into_response()),
    }
}

/// `GET /staff/cases/{id}/return`: the return form, a comment box at every field.
pub async fn return_form(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    Ok(render(
        StatusCode::OK,
        &return_page(&staff, &record, "", &[], &[]),
    ))
}

/// `POST /staff/cases/{id}/return`: 「確認する」 shows the applicant's view; 「差し戻す」 returns
/// the application; 「修正する」 goes back to the form with what was written.
pub async fn return_post(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    let version = form.version()?;
    let message = form.get("message").unwrap_or_default().to_string();
    let comments = posted_comments(&form);
    match form.get("action") {
        Some("confirm") => {}
        Some("edit") => {
            return Ok(render(
                StatusCode::OK,
                &return_page(&staff, &record, &message, &comments, &[]),
            ));
        }
        _ => {
            // The preview: the words checked and normalised as the return will, not returned.
            return Ok(match lifecycle::check_return(&message, &comments) {
                Ok(words) => {
                    let mut page = return_page(&staff, &record, &message, &comments, &[]);
                    page.preview = Some(preview_of(&staff.0.reviewer()?, &record, words));
                    page.chrome.title = "差戻しの内容を確認する".into();
                    render(StatusCode::OK, &page)
                }
                Err(findings) => render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &return_page(&staff, &record, &message, &comments, &findings),
                ),
            });
        }
    }
    match lifecycle::return_for_correction(
        &state.applications,
        &state.cases,
        &staff.0.reviewer()?,
        &record.id,
        &message,
        &comments,
        version,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/staff/cases/{}?done=returned",
            record.id
        ))),
        Err(UseCaseError::Refused(LifecycleError::Invalid(findings))) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &return_page(&staff, &record, &message, &comments, &findings),
        )),
        Err(other) => stale_or(&state, &staff, &record.id, other).await,
    }
}

#[derive(Template)]
#[template(path = "approve.html")]
struct ApprovePage {
    chrome: Chrome,
    id: String,
    company: String,
    version: i64,
    number: String,
    joint_waiting: Vec<String>,
}

/// `GET /staff/cases/{id}/approve`: the confirmation with the 認定番号 that will be issued.
pub async fn approve_confirm(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    let reviewer = staff.0.reviewer()?;
    let number = lifecycle::next_certification_number(&state.applications, &reviewer).await?;
    let joint_waiting = record
        .submission
        .as_ref()
        .map(|s| {
            s.routing
                .authorities
                .iter()
                .filter(|a| a.office_id != reviewer.office.as_str())
                .filter(|a| !record.decisions.keys().any(|o| o.as_str() == a.office_id))
                .map(|a| a.office_name.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(render(
        StatusCode::OK,
        &ApprovePage {
            chrome: Chrome::new("認定する", Some(staff.header())),
            id: record.id.to_string(),
            company: record.company_name(),
            version: record.version,
            number,
            joint_waiting,
        },
    ))
}

/// `POST /staff/cases/{id}/approve`.
pub async fn approve(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = application_id(&id)?;
    let version = form.version()?;
    match lifecycle::approve(
        &state.applications,
        &state.cases,
        &staff.0.reviewer()?,
        &id,
        version,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/staff/cases/{id}?done=approved"))),
        Err(other) => stale_or(&state, &staff, &id, other).await,
    }
}

#[derive(Template)]
#[template(path = "reject.html")]
struct RejectPage {
    chrome: Chrome,
    id: String,
    company: String,
    version: i64,
    reason: String,
    error: Option<String>,
}

/// `GET /staff/cases/{id}/reject`: the reason, then the decision.
pub async fn reject_form(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    Ok(render(
        StatusCode::OK,
        &RejectPage {
            chrome: Chrome::new("不認定とする", Some(staff.header())),
            id: record.id.to_string(),
            company: record.company_name(),
            version: record.version,
            reason: String::new(),
            error: None,
        },
    ))
}

/// `POST /staff/cases/{id}/reject`.
pub async fn reject(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    let version = form.version()?;
    let reason = form.get("reason").unwrap_or_default().to_string();
    match lifecycle::reject(
        &state.applications,
        &state.cases,
        &staff.0.reviewer()?,
        &record.id,
        &reason,
        version,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/staff/cases/{}?done=rejected",
            record.id
        ))),
        Err(UseCaseError::Refused(LifecycleError::Invalid(findings))) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RejectPage {
                chrome: Chrome::new("不認定とする", Some(staff.header())).with_error(true),
                id: record.id.to_string(),
                company: record.company_name(),
                version: record.version,
                reason,
                error: findings.first().map(|f| f.message.clone()),
            },
        )),
        Err(other) => stale_or(&state, &staff, &record.id, other).await,
    }
}

#[derive(Template)]
#[template(path = "paper.html")]
struct PaperPage {
    chrome: Chrome,
    id: String,
    company: String,
    version: i64,
    number: String,
    certified_on: String,
    finalised_on: String,
    /// path (`certification_number` or `certified_on`), message
    errors: Vec<(String, String)>,
}

impl PaperPage {
    fn error_at(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(path, _)| path == field)
            .map(|(_, message)| message.as_str())
    }
}

fn paper_page(
    staff: &Staff,
    record: &Application,
    number: String,
    certified_on: String,
    errors: Vec<(String, String)>,
) -> PaperPage {
    PaperPage {
        chrome: Chrome::new("紙申請の認定を登録する", Some(staff.header()))
            .with_error(!errors.is_empty()),
        id: record.id.to_string(),
        company: record.company_name(),
        version: record.version,
        number,
        certified_on,
        finalised_on: record
            .paper
            .as_ref()
            .map(|p| keiryoku_web::wareki_and_seireki(p.finalised_on))
            .unwrap_or_default(),
        errors,
    }
}

/// `GET /staff/cases/{id}/paper-certification`: 認定日 and 認定番号 of the paper certificate.
pub async fn paper_form(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    // A case filed online is decided on its own page.
    if record.status != Status::FinalisedForPaper {
        return Ok(see_other(&format!("/staff/cases/{}", record.id)));
    }
    Ok(render(
        StatusCode::OK,
        &paper_page(&staff, &record, String::new(), String::new(), Vec::new()),
    ))
}

/// `POST /staff/cases/{id}/paper-certification`.
pub async fn paper_certification(
    State(state): State<ReviewState>,
    staff: Staff,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let record = match pending_case(&state, &staff, &id).await {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    let version = form.version()?;
    let number = form
        .get("certification_number")
        .unwrap_or_default()
        .to_string();
    let certified_on = form.get("certified_on").unwrap_or_default().to_string();
    match lifecycle::record_paper_certification(
        &state.applications,
        &state.cases,
        &staff.0.reviewer()?,
        &record.id,
        &number,
        &certified_on,
        version,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/staff/cases/{}?done=paper", record.id))),
        Err(UseCaseError::Refused(LifecycleError::Invalid(findings))) => {
            let errors = findings
                .into_iter()
                .map(|f| (f.path.trim_start_matches('/').to_string(), f.message))
                .collect();
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &paper_page(&staff, &record, number, certified_on, errors),
            ))
        }
        Err(other) => stale_or(&state, &staff, &record.id, other).await,
    }
}
