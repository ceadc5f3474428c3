//! The page handlers: each reads through a use case, builds its view and renders its template;
//! each form post calls one use case and redirects (POST → 303 → GET).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use keiryoku_domain::application::{Application, LifecycleError, route_plan};
use keiryoku_domain::register::Origin;
use keiryoku_domain::rules::DayCount;
use keiryoku_domain::status::Status;
use keiryoku_domain::tables::tables;
use keiryoku_domain::validation::{Finding, Level};
use keiryoku_http::SESSION_COOKIE;
use keiryoku_lifecycle::{self as lifecycle, UseCaseError, application_id};
use keiryoku_web::{Chrome, PageError, PageResult, SignedIn, render, see_other};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::WebState;
use crate::forms::{Form, Signed};
use crate::sections::{self, SECTIONS, Section};
use crate::views::{
    self, AnswerRow, FieldView, Problems, ReturnView, SummaryLink, TimelineEntry, field_view,
    summary_links,
};

fn today() -> time::Date {
    keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc())
}

// ---------------------------------------------------------------- public pages

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    chrome: Chrome,
    logged_out: bool,
}

#[derive(Deserialize)]
pub struct StartParams {
    logged_out: Option<String>,
}

/// Who is signed in, if anyone, for the header of a public page.
async fn signed_in(state: &WebState, headers: &HeaderMap) -> Option<SignedIn> {
    let token = state.site.read_cookie(headers, SESSION_COOKIE)?;
    if token.len() > 128 {
        return None;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let record = state.sessions.get(&token, now).await.ok()?;
    (record.staff.is_none()).then(|| SignedIn {
        name: record.company_name.clone(),
        csrf: record.csrf_token.clone(),
        home: "/mypage",
        home_label: "マイページ",
    })
}

pub async fn start(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(params): Query<StartParams>,
) -> Response {
    let user = signed_in(&state, &headers).await;
    render(
        StatusCode::OK,
        &StartPage {
            chrome: Chrome::new("経営力向上計画を電子申請する", user),
            logged_out: params.logged_out.is_some(),
        },
    )
}

macro_rules! static_page {
    ($name:ident, $handler:ident, $path:literal, $title:literal) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name {
            chrome: Chrome,
        }

        pub async fn $handler(State(state): State<WebState>, headers: HeaderMap) -> Response {
            let user = signed_in(&state, &headers).await;
            render(
                StatusCode::OK,
                &$name {
                    chrome: Chrome::new($title, user),
                },
            )
        }
    };
}

#[derive(Template)]
#[template(path = "help.html")]
struct HelpPage {
    chrome: Chrome,
    /// Where applicants unsure of the competent authority or the tax measures call (sourced in
    /// docs/domain.md §3.1; the routing explanation names the same).
    call_centre: &'static str,
}

pub async fn help(State(state): State<WebState>, headers: HeaderMap) -> Response {
    let user = signed_in(&state, &headers).await;
    render(
        StatusCode::OK,
        &HelpPage {
            chrome: Chrome::new("ヘルプ・お問い合わせ", user),
            call_centre: keiryoku_domain::routing::CALL_CENTRE,
        },
    )
}

static_page!(PrivacyPage, privacy, "privacy.html", "プライバシーポリシー");
static_page!(
    AccessibilityPage,
    accessibility,
    "accessibility.html",
    "ウェブアクセシビリティ方針"
);
static_page!(
    RefusedPage,
    entry_refused,
    "refused.html",
    "GビズIDエントリーでは申請できません"
);

pub async fn asset(Path(file): Path<String>) -> Response {
    keiryoku_web::assets::serve(&file)
}

pub async fn not_found() -> PageError {
    PageError::NotFound
}

// ---------------------------------------------------------------- my page

struct AppRow {
    title: String,
    status: &'static str,
    state: &'static str,
    receipt: String,
    authority: String,
    due: String,
    updated: String,
    action: &'static str,
    href: String,
}

#[derive(Template)]
#[template(path = "mypage.html")]
struct MyPage {
    chrome: Chrome,
    company: String,
    items: Vec<AppRow>,
    next_cursor: Option<String>,
    /// The status filters: label, link, whether it is the one shown.
    filters: Vec<(&'static str, String, bool)>,
    /// The status shown, when filtered (for the empty state's words).
    filtered: Option<&'static str>,
    /// The filter's query for the next page's link (`status=submitted&`, or empty).
    status_query: String,
}

#[derive(Deserialize)]
pub struct MyPageParams {
    cursor: Option<String>,
    /// Only applications of this status (`submitted` …).
    status: Option<String>,
}

/// The links that filter my page by status, "all" first.
fn status_filters(current: Option<Status>) -> Vec<(&'static str, String, bool)> {
    let mut filters = vec![("すべて", "/mypage".to_string(), current.is_none())];
    filters.extend(keiryoku_domain::status::ALL_STATUSES.iter().map(|s| {
        (
            s.label(),
            format!("/mypage?status={}", s.as_str()),
            current == Some(*s),
        )
    }));
    filters
}

fn authorities_of(record: &Application) -> String {
    let routing = record
        .submission
        .as_ref()
        .map(|s| &s.routing)
        .or(record.paper.as_ref().map(|p| &p.routing));
    routing.map_or_else(
        || "（提出前）".to_string(),
        |r| {
            r.authorities
                .iter()
                .map(|a| a.office_name.clone())
                .collect::<Vec<_>>()
                .join("、")
        },
    )
}

fn title_of(record: &Application) -> String {
    // Only the start month is needed: read it, not the whole plan (my page lists 20).
    let started = record
        .plan
        .as_map()
        .get("period")
        .and_then(|p| p.get("start"))
        .and_then(|s| serde_json::from_value::<keiryoku_domain::plan::YearMonth>(s.clone()).ok())
        .map(|m| format!("（{}年{}月開始）", m.year, m.month))
        .unwrap_or_default();
    format!("経営力向上計画 {}申請{started}", record.kind.label())
}

/// One application of my page: status in words, numbers, authority, due date, next action.
fn app_row(record: &Application) -> AppRow {
    let (status, tag) = views::status_tag(record.status);
    let (action, href) =
        views::next_action(record).unwrap_or(("申請の内容を見る", format!("/plans/{}", record.id)));
    AppRow {
        title: title_of(record),
        status,
        state: tag,
        receipt: record
            .submission
            .as_ref()
            .map_or("（提出前）".into(), |s| s.receipt_number.clone()),
        authority: authorities_of(record),
        due: record
            .submission
            .as_ref()
            .filter(|_| record.status == Status::Submitted)
            .map_or("―".into(), |s| keiryoku_web::seireki(s.due_on)),
        updated: keiryoku_web::jst(record.updated_at),
        action,
        href,
    }
}

pub async fn mypage(
    State(state): State<WebState>,
    signed: Signed,
    Query(params): Query<MyPageParams>,
) -> PageResult {
    let applicant = signed.0.applicant();
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(Status::parse(name).ok_or_else(|| {
            PageError::Api(keiryoku_http::ApiError::BadRequest(
                "表示する申請の状態が正しくありません。".into(),
            ))
        })?),
    };
    let page = state
        .applications
        .list_for_company(&applicant.company_id, status, 20, params.cursor.as_deref())
        .await
        .map_err(UseCaseError::from)?;
    let items = page.items.iter().map(app_row).collect();
    Ok(render(
        StatusCode::OK,
        &MyPage {
            company: signed.0.record.company_name.clone(),
            chrome: Chrome::new("マイページ", Some(signed.header())),
            items,
            next_cursor: page.next_cursor,
            filters: status_filters(status),
            filtered: status.map(Status::label),
            status_query: status.map_or(String::new(), |s| format!("status={}&", s.as_str())),
        },
    ))
}

// ---------------------------------------------------------------- a new plan

#[derive(Template)]
#[template(path = "new.html")]
struct NewPlanPage {
    chrome: Chrome,
    gbizinfo_message: String,
    sources: Vec<(String, String, &'static str)>,
}

pub async fn new_plan(State(state): State<WebState>, signed: Signed) -> PageResult {
    let prefill = state.prefiller.prefill(&signed.0.record).await;
    let Some(applicant) = sections::section("applicant") else {
        return Err(PageError::NotFound);
    };
    let plan =
        json!({ "applicant": prefill.plan.get("applicant").cloned().unwrap_or(Value::Null) });
    let mut sources = Vec::new();
    for source in &prefill.sources {
        let pointer = source.path.trim_start_matches("/plan");
        let Some(spec) = applicant.fields.iter().find(|f| f.key == pointer) else {
            continue;
        };
        let view = field_view(spec, pointer.to_string(), &plan, &Problems::default());
        let origin = match source.source {
            lifecycle::prefill::Origin::Gbizid => "GビズID",
            lifecycle::prefill::Origin::Gbizinfo => "Gビズインフォ",
        };
        sources.push((spec.label.to_string(), view.shown_value(), origin));
    }
    Ok(render(
        StatusCode::OK,
        &NewPlanPage {
            chrome: Chrome::new("新しい計画を作成する", Some(signed.header())),
            gbizinfo_message: prefill.gbizinfo.message,
            sources,
        },
    ))
}

pub async fn create_plan(State(state): State<WebState>, signed: Signed, _form: Form) -> PageResult {
    let prefill = state.prefiller.prefill(&signed.0.record).await;
    let mut plan = prefill.plan;
    if let Value::Object(map) = &mut plan {
        map.entry("form_version").or_insert(json!("2024-04"));
        map.entry("kind").or_insert(json!({"type": "new"}));
    }
    let plan = keiryoku_domain::application::PlanDocument::from_value(plan).unwrap_or_default();
    let record = lifecycle::create_draft(&state.applications, &signed.0.applicant(), plan).await?;
    Ok(see_other(&format!("/plans/{}", record.id)))
}

// ---------------------------------------------------------------- the application page

struct Task {
    slug: &'static str,
    number: usize,
    title: &'static str,
    href: String,
    label: &'static str,
    state: &'static str,
    optional: bool,
}

struct CertifiedView {
    number: String,
    date: String,
    /// Why there is no 認定書 to download here (certified on paper, or in the legacy system);
    /// `None` when this platform issued it.
    issued_elsewhere: Option<&'static str>,
    /// The public verification URL printed on the 認定書 (and in its QR code).
    verify_url: String,
    /// The same URL as a QR code (inline SVG), as the 認定書 prints it.
    verify_qr: String,
    /// The latest downloads, newest first: when, by whom.
    downloads: Vec<(String, String)>,
}

/// `text` as a QR code in inline SVG (without the XML declaration, which HTML does not take);
/// empty if it cannot be encoded.
fn qr_svg(text: &str) -> String {
    use qrcode::render::svg;
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<svg::Color>().min_dimensions(144, 144).build();
            match svg.find("<svg") {
                Some(start) => svg[start..].to_string(),
                None => String::new(),
            }
        }
        Err(_) => String::new(),
    }
}

/// How many downloads the page lists (the newest).
const DOWNLOADS_SHOWN: i32 = 20;

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    chrome: Chrome,
    id: String,
    heading: String,
    kind: String,
    status: &'static str,
    state: &'static str,
    facts: Vec<(&'static str, String)>,
    editable: bool,
    tasks: Vec<Task>,
    returned: Option<ReturnView>,
    certified: Option<CertifiedView>,
    rejection: Option<String>,
    paper: bool,
    can_change: bool,
    can_withdraw: bool,
    /// データ利活用への同意 as it stands, and whether it can still be withdrawn.
    consent: Option<(String, bool)>,
    key: String,
    timeline: Vec<TimelineEntry>,
}

async fn owned(state: &WebState, signed: &Signed, id: &str) -> Result<Application, PageError> {
    let id = application_id(id)?;
    Ok(lifecycle::owned(&state.applications, &signed.0.applicant(), &id).await?)
}

pub async fn plan(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    let applicant = signed.0.applicant();
    let mut history = lifecycle::history(
        &state.applications,
        &applicant,
        &record.id,
        keiryoku_store::Order::NewestFirst,
        views::TIMELINE_SHOWN,
        None,
    )
    .await?
    .items;
    history.reverse();
    let mut page = plan_page(&state.site, &signed, &record, &history);
    if let Some(certified) = &mut page.certified {
        let downloads = state
            .certificates
            .downloads(
                record.id.as_str(),
                keiryoku_store::Order::NewestFirst,
                DOWNLOADS_SHOWN,
                None,
            )
            .await
            .map_err(UseCaseError::from)?;
        certified.downloads = downloads
            .items
            .iter()
            .map(|d| {
                let when = keiryoku_web::jst_of_rfc3339(&d.at);
                let who = if d.sub == signed.0.record.sub {
                    "あなた".to_string()
                } else {
                    "同じ事業者の別の利用者".to_string()
                };
                (when, who)
            })
            .collect();
    }
    Ok(render(StatusCode::OK, &page))
}

/// The application page: status, numbers, the return's comments, the task list while it can be
/// edited, the certificate, the timeline.
fn plan_page(
    site: &keiryoku_http::Site,
    signed: &Signed,
    record: &Application,
    history: &[keiryoku_store::AuditRecord],
) -> PlanPage {
    let editable = matches!(record.status, Status::Draft | Status::Returned);
    let plan = record.plan.to_value();
    let draft = record.validate(Level::Draft, today());
    let submission = record.validate(Level::Submission, today());
    let tasks = SECTIONS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let progress = sections::progress(s, &plan, &draft, &submission);
            Task {
                slug: s.slug,
                number: i + 1,
                title: s.title,
                href: format!("/plans/{}/sections/{}", record.id, s.slug),
                label: progress.label(),
                state: progress.state(),
                optional: s.optional,
            }
        })
        .collect();
    let mut facts = Vec::new();
    if let Some(s) = &record.submission {
        facts.push(("受付番号", s.receipt_number.clone()));
        facts.push(("受付日時", keiryoku_web::jst(s.received_at)));
        facts.push(("提出先", authorities_of(record)));
        if record.status == Status::Submitted {
            facts.push((
                "標準処理期間の期限",
                keiryoku_web::wareki_and_seireki(s.due_on),
            ));
        }
    }
    if let Some(change) = &record.change_of {
        facts.push((
            "変更する認定",
            format!("認定番号 {}", change.certification_number),
        ));
    }
    let returned = record
        .returned
        .as_ref()
        .filter(|_| record.status == Status::Returned)
        .map(|r| views::return_view(record.id.as_str(), r));
    let certified = record
        .certification
        .as_ref()
        .filter(|_| record.status == Status::Certified)
        .map(|c| {
            let verify_url = site.url(&format!(
                "/verify/{}",
                keiryoku_store::certificate_id(record.id.as_str(), c.revision)
            ));
            CertifiedView {
                number: c.number.clone(),
                date: keiryoku_web::wareki_and_seireki(c.certified_on),
                issued_elsewhere: match record.origin() {
                    Origin::Migrated => Some(
                        "この認定は旧システムで行われ、認定書はそのときに交付されています。この計画の変更申請は、このサイトから行えます。",
                    ),
                    Origin::Paper => Some(
                        "この認定は紙の申請書に対して行われ、認定書は行政庁から紙で交付されています。この計画の変更申請は、このサイトから行えます。",
                    ),
                    Origin::Platform => None,
                },
                verify_qr: qr_svg(&verify_url),
                verify_url,
                downloads: Vec::new(),
            }
        });
    PlanPage {
        chrome: Chrome::new(title_of(record), Some(signed.header())),
        id: record.id.to_string(),
        heading: title_of(record),
        kind: format!("{}申請", record.kind.label()),
        status: views::status_tag(record.status).0,
        state: views::status_tag(record.status).1,
        facts,
        editable,
        tasks,
        returned,
        certified,
        rejection: record
            .rejection
            .as_ref()
            .filter(|_| record.status == Status::Rejected)
            .map(|r| r.reason.clone()),
        paper: record.status == Status::FinalisedForPaper,
        can_change: record.status == Status::Certified,
        can_withdraw: matches!(record.status, Status::Submitted | Status::Returned),
        consent: record.consent.as_ref().map(|c| match c.data_use_withdrawn_at {
            Some(at) => (
                format!(
                    "{}に撤回しました。この計画のデータは、同意に基づいて提供している機関に提供されません。",
                    keiryoku_web::jst(at)
                ),
                false,
            ),
            None if c.data_use => (
                "同意しています。この計画のデータは、中小企業庁の方針に従い、同意に基づいて関係機関（ミラサポコネクト等）に提供されます。"
                    .to_string(),
                true,
            ),
            None => (
                "同意していません。この計画のデータは、同意に基づく提供の対象になりません。".to_string(),
                false,
            ),
        }),
        key: uuid::Uuid::new_v4().to_string(),
        timeline: views::timeline(history),
    }
}

// ---------------------------------------------------------------- one section

struct RowView {
    index: usize,
    legend: String,
    noun: &'static str,
    blank: bool,
    fields: Vec<FieldView>,
    delete_name: String,
    results: Vec<String>,
}

struct ConflictRow {
    label: String,
    theirs: String,
    yours: String,
}

#[derive(Template)]
#[template(path = "section.html")]
struct SectionPage {
    chrome: Chrome,
    id: String,
    version: i64,
    section: &'static Section,
    number: usize,
    total: usize,
    fields: Vec<FieldView>,
    rows: Vec<RowView>,
    summary: Vec<SummaryLink>,
    comments: Vec<SummaryLink>,
    conflict: Vec<ConflictRow>,
    saved: bool,
    query: String,
    results: Vec<(String, String)>,
    /// What each equipment 類型 requires, from rules.json (the equipment page only).
    type_notes: Vec<String>,
    /// For the indicators page: each indicator's direction and threshold for the plan's length,
    /// as JSON for the live calculation (site.js); the server computes the same on save.
    indicator_data: String,
}

/// `{"labour_productivity": {"direction": "higher", "threshold": "1"}, …}` for the plan's
/// guideline and length (threshold absent when unknown).
fn indicator_data(plan: &Value) -> String {
    let guidelines = sections::plan_guidelines(plan);
    let months = plan
        .pointer("/period/months")
        .and_then(Value::as_u64)
        .and_then(|m| u32::try_from(m).ok());
    let mut map = serde_json::Map::new();
    // The main guideline's indicator first where two guidelines share an id.
    for spec in guidelines.iter().flat_map(|g| g.indicators.iter()) {
        if map.contains_key(&spec.id) {
            continue;
        }
        let threshold = months
            .and_then(|m| spec.threshold(m))
            .map(|t| t.to_string());
        map.insert(
            spec.id.clone(),
            json!({ "name": spec.name, "direction": spec.direction, "threshold": threshold }),
        );
    }
    Value::Object(map).to_string()
}

/// 「B類型（収益力強化設備）：経済産業局の確認書。投資利益率が…」 for every 類型 (rules.json).
fn equipment_type_notes() -> Vec<String> {
    tables()
        .rules
        .equipment_types
        .value
        .iter()
        .map(|t| match &t.available_until {
            Some(_) => format!("{}：{}", t.label(), t.note),
            None => format!("{}：{}。{}", t.label(), t.document, t.note),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct SectionParams {
    saved: Option<String>,
    /// Came from check-your-answers: show what submission would find too.
    check: Option<String>,
    /// JSIC search (事業分野).
    q: Option<String>,
}

fn section_of_slug(slug: &str) -> Result<&'static Section, PageError> {
    sections::section(slug).ok_or(PageError::NotFound)
}

/// The section page of `record` showing `plan` (the stored plan, or the person's unsaved input
/// after a conflict) with `problems`.
fn section_page(
    signed: &Signed,
    record: &Application,
    section: &'static Section,
    plan: &Value,
    problems: &Problems,
    params: &SectionParams,
) -> SectionPage {
    let id = record.id.to_string();
    let fields: Vec<FieldView> = section
        .fields
        .iter()
        .map(|spec| field_view(spec, spec.key.to_string(), plan, problems))
        .collect();
    // The computed rates belong to the indicators page only; other pages skip the validation.
    let computed = if section.slug == "indicators" {
        record.validate(Level::Draft, today()).indicators
    } else {
        Vec::new()
    };
    let mut rows = Vec::new();
    if let Some(list) = &section.rows {
        let count = sections::row_count(list, plan);
        for i in 0..=count {
            let blank = i == count;
            let results = computed
                .iter()
                .filter(|r| !blank && r.path == format!("{}/{i}", list.list))
                .map(|r| {
                    let judged = match (r.change.passes, &r.change.threshold_percent) {
                        (Some(true), Some(t)) => {
                            format!("指針の目標（{t}%以上）を満たしています。")
                        }
                        (Some(false), Some(t)) => {
                            format!("指針の目標（{t}%以上）を満たしていません。")
                        }
                        _ => "この指標の目標値は確認中です。".to_string(),
                    };
                    format!("{}：{}% {judged}", r.change.label, r.change.rate_percent)
                })
                .collect();
            rows.push(RowView {
                index: i,
                legend: if blank {
                    format!("{}を追加", list.noun)
                } else {
                    format!("{} {}", list.noun, i + 1)
                },
                noun: list.noun,
                blank,
                fields: list
                    .fields
                    .iter()
                    .map(|spec| {
                        field_view(
                            spec,
                            format!("{}/{i}/{}", list.list, spec.key),
                            plan,
                            problems,
                        )
                    })
                    .collect(),
                delete_name: format!("{}/{i}/_delete", list.list),
                results,
            });
        }
    }
    let base = format!("/plans/{id}/sections/{}", section.slug);
    let all_fields: Vec<&FieldView> = fields
        .iter()
        .chain(rows.iter().flat_map(|r| r.fields.iter()))
        .collect();
    let summary = summary_links(&problems.errors, &all_fields, "");
    let comments = match (&record.returned, record.status) {
        (Some(r), Status::Returned) => r
            .comments
            .iter()
            .filter(|c| {
                let pointer = c.path.strip_prefix("/plan").unwrap_or(&c.path);
                sections::section_of(pointer).is_some_and(|s| s.slug == section.slug)
            })
            .map(|c| {
                let mut link = views::comment_link(&id, &c.path, &c.message);
                link.href = link.href.replace(&base, "");
                link
            })
            .collect(),
        _ => Vec::new(),
    };
    let query = params.q.clone().unwrap_or_default().trim().to_string();
    let mut results: Vec<(String, String)> = if query.is_empty() || query.chars().count() > 40 {
        Vec::new()
    } else {
        tables()
            .jsic
            .search(&query)
            .filter(|(code, _)| code.len() == 2 || code.len() == 4)
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect()
    };
    results.sort();
    results.truncate(30);
    SectionPage {
        chrome: Chrome::new(section.title, Some(signed.header())).with_error(!summary.is_empty()),
        id,
        version: record.version,
        section,
        number: SECTIONS
            .iter()
            .position(|s| s.slug == section.slug)
            .unwrap_or(0)
            + 1,
        total: SECTIONS.len(),
        fields,
        rows,
        summary,
        comments,
        conflict: Vec::new(),
        saved: params.saved.is_some(),
        query,
        results,
        type_notes: if section.slug == "equipment" {
            equipment_type_notes()
        } else {
            Vec::new()
        },
        indicator_data: if section.slug == "indicators" {
            indicator_data(plan)
        } else {
            String::new()
        },
    }
}

/// What a section page shows at its fields: draft-level problems always; what submission would
/// find when the person came from check-your-answers.
fn section_problems(record: &Application, section: &Section, check: bool) -> Problems {
    let level = if check {
        Level::Submission
    } else {
        Level::Draft
    };
    Problems::of(&record.validate(level, today())).within(section)
}

pub async fn section(
    State(state): State<WebState>,
    signed: Signed,
    Path((id, slug)): Path<(String, String)>,
    Query(params): Query<SectionParams>,
) -> PageResult {
    let section = section_of_slug(&slug)?;
    let record = owned(&state, &signed, &id).await?;
    if !matches!(record.status, Status::Draft | Status::Returned) {
        return Ok(see_other(&format!("/plans/{}", record.id)));
    }
    let problems = section_problems(&record, section, params.check.is_some());
    let page = section_page(
        &signed,
        &record,
        section,
        &record.plan.to_value(),
        &problems,
        &params,
    );
    Ok(render(StatusCode::OK, &page))
}

pub async fn save_section(
    State(state): State<WebState>,
    signed: Signed,
    Path((id, slug)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    let section = section_of_slug(&slug)?;
    let id = application_id(&id)?;
    let version = form.version()?;
    let autosave = form.get("action") == Some("autosave");
    let patch = sections::patch_of(section, &form.0);
    let applicant = signed.0.applicant();
    match lifecycle::save(&state.applications, &applicant, &id, &patch, version).await {
        Ok(saved) if autosave => Ok(Json(json!({ "version": saved.version })).into_response()),
        Ok(saved) => {
            let next = match form.get("action") {
                Some("next") => SECTIONS
                    .iter()
                    .position(|s| s.slug == section.slug)
                    .and_then(|i| SECTIONS.get(i + 1))
                    .map_or(format!("/plans/{}/check", saved.id), |s| {
                        format!("/plans/{}/sections/{}", saved.id, s.slug)
                    }),
                Some("save") => format!("/plans/{}", saved.id),
                // Back to the same page, at the blank row (the no-JavaScript "add another").
                Some("add") => format!(
                    "/plans/{}/sections/{}?saved=1#new-row",
                    saved.id, section.slug
                ),
                _ => format!("/plans/{}/sections/{}?saved=1", saved.id, section.slug),
            };
            Ok(see_other(&next))
        }
        Err(UseCaseError::Refused(LifecycleError::Stale)) if autosave => {
            Ok((StatusCode::CONFLICT, Json(json!({ "conflict": true }))).into_response())
        }
        Err(UseCaseError::Refused(LifecycleError::Stale)) => {
            conflict_page(&state, &signed, &id, section, &patch).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Someone saved this application since the page was read: show the person's input against
/// what is stored now, field by field, and let them choose; nothing is lost either way.
async fn conflict_page(
    state: &WebState,
    signed: &Signed,
    id: &keiryoku_domain::application::ApplicationId,
    section: &'static Section,
    patch: &serde_json::Map<String, Value>,
) -> PageResult {
    let current = lifecycle::owned(&state.applications, &signed.0.applicant(), id).await?;
    let stored = current.plan.to_value();
    let mut yours = stored.clone();
    json_patch::merge(&mut yours, &Value::Object(patch.clone()));
    let params = SectionParams {
        saved: None,
        check: None,
        q: None,
    };
    let problems = Problems::default();
    let mut page = section_page(signed, &current, section, &yours, &problems, &params);
    let theirs_page = section_page(signed, &current, section, &stored, &problems, &params);
    let mine = page
        .fields
        .iter()
        .chain(page.rows.iter().flat_map(|r| r.fields.iter()));
    let theirs: Vec<&FieldView> = theirs_page
        .fields
        .iter()
        .chain(theirs_page.rows.iter().flat_map(|r| r.fields.iter()))
        .collect();
    let mut conflict = Vec::new();
    for field in mine {
        let stored_value = theirs
            .iter()
            .find(|t| t.name == field.name)
            .map(|t| t.shown_value())
            .unwrap_or_default();
        if stored_value != field.shown_value() {
            conflict.push(ConflictRow {
                label: field.label.to_string(),
                theirs: if stored_value.is_empty() {
                    "（空欄）".into()
                } else {
                    stored_value
                },
                yours: if field.shown_value().is_empty() {
                    "（空欄）".into()
                } else {
                    field.shown_value()
                },
            });
        }
    }
    page.conflict = conflict;
    Ok(render(StatusCode::CONFLICT, &page))
}

// ---------------------------------------------------------------- check your answers, submit

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    chrome: Chrome,
    id: String,
    version: i64,
    key: String,
    summary: Vec<SummaryLink>,
    groups: Vec<(String, Vec<AnswerRow>)>,
    routing: Vec<String>,
    paper: bool,
    declaration_error: bool,
}

/// Plain-Japanese lines saying where the plan goes, why, how, and how long it may take.
fn routing_lines(record: &Application) -> (Vec<String>, bool) {
    match route_plan(&record.plan.typed()) {
        Ok(routing) => {
            let mut lines = vec![format!(
                "提出先：{}",
                routing
                    .authorities
                    .iter()
                    .map(|a| format!("{}（{}）", a.office_name, a.ministry_name))
                    .collect::<Vec<_>>()
                    .join("、")
            )];
            if routing.joint {
                lines.push("複数の省庁が共同で審査します（共管）。".into());
            }
            lines.extend(
                routing
                    .explanation
                    .iter()
                    .map(|s| format!("理由：{}", s.message)),
            );
            lines.push(if routing.e_filing {
                "このサイトから電子申請できます。".into()
            } else {
                "提出先が電子申請を受け付けていないため、紙で申請します。".into()
            });
            let count = match routing.processing_count {
                DayCount::Business => "休日を除く",
                DayCount::Calendar => "",
            };
            lines.push(format!(
                "標準処理期間：受理から{count}{}日",
                routing.processing_days
            ));
            (lines, !routing.e_filing)
        }
        Err(LifecycleError::Conflict(reason)) => (vec![reason], false),
        Err(_) => (Vec::new(), false),
    }
}

fn check_page(
    signed: &Signed,
    record: &Application,
    errors: &[Finding],
    declaration_error: bool,
) -> CheckPage {
    let id = record.id.to_string();
    let plan = record.plan.to_value();
    let problems = Problems {
        errors: errors.to_vec(),
        warnings: Vec::new(),
    };
    let groups = SECTIONS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!("{}. {}", i + 1, s.title),
                views::answers(s, &id, &plan, &problems),
            )
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect();
    let mut summary: Vec<SummaryLink> = errors
        .iter()
        .map(|f| {
            let pointer = &f.path;
            let section = sections::section_of(pointer);
            SummaryLink {
                href: section.map_or(format!("/plans/{id}"), |s| {
                    format!(
                        "/plans/{id}/sections/{}?check=1#{}",
                        s.slug,
                        sections::field_id(pointer)
                    )
                }),
                text: match section {
                    Some(s) => format!("{}：{}", s.title, f.message),
                    None => f.message.clone(),
                },
            }
        })
        .collect();
    if declaration_error {
        summary.push(SummaryLink {
            href: "#declaration".into(),
            text: "提出するには、内容が事実と相違ないことを確認してください。".into(),
        });
    }
    let (routing, paper) = routing_lines(record);
    CheckPage {
        chrome: Chrome::new("入力内容の確認", Some(signed.header()))
            .with_error(!summary.is_empty()),
        id,
        version: record.version,
        key: uuid::Uuid::new_v4().to_string(),
        summary,
        groups,
        routing,
        paper,
        declaration_error,
    }
}

pub async fn check(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    if !matches!(record.status, Status::Draft | Status::Returned) {
        return Ok(see_other(&format!("/plans/{}", record.id)));
    }
    let report = record.validate(Level::Submission, today());
    Ok(render(
        StatusCode::OK,
        &check_page(&signed, &record, &report.errors, false),
    ))
}

pub async fn submit(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    let version = form.version()?;
    if form.get("declaration") != Some("yes") {
        let report = record.validate(Level::Submission, today());
        let page = check_page(&signed, &record, &report.errors, true);
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let key = form.idempotency_key();
    let applicant = signed.0.applicant();
    match lifecycle::submit(
        &state.applications,
        &applicant,
        &record.id,
        Some(version),
        &key,
    )
    .await
    {
        Ok(done) => Ok(see_other(&format!(
            "/plans/{}/submitted",
            done.application.id
        ))),
        Err(UseCaseError::Refused(LifecycleError::Invalid(findings))) => {
            let page = check_page(&signed, &record, &findings, false);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn finalise(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    let version = form.version()?;
    let applicant = signed.0.applicant();
    match lifecycle::finalise_for_paper(&state.applications, &applicant, &record.id, version).await
    {
        Ok(done) => Ok(see_other(&format!("/plans/{}/submitted", done.id))),
        Err(UseCaseError::Refused(LifecycleError::Invalid(findings))) => {
            let page = check_page(&signed, &record, &findings, false);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "submitted.html")]
struct SubmittedPage {
    chrome: Chrome,
    id: String,
    heading: &'static str,
    receipt: String,
    facts: Vec<(&'static str, String)>,
    authorities: String,
    due: String,
    mail_to: String,
    paper: bool,
}

pub async fn submitted(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    let paper = record.status == Status::FinalisedForPaper;
    let mut facts = Vec::new();
    let (heading, receipt, due) = match (&record.submission, &record.paper) {
        (Some(s), _) if !paper => {
            facts.push(("受付日時", keiryoku_web::jst(s.received_at)));
            facts.push(("受付日", keiryoku_web::wareki_and_seireki(s.received_on)));
            facts.push((
                "標準処理期間の期限",
                keiryoku_web::wareki_and_seireki(s.due_on),
            ));
            (
                "申請を受け付けました",
                s.receipt_number.clone(),
                keiryoku_web::wareki_and_seireki(s.due_on),
            )
        }
        (_, Some(p)) => {
            facts.push(("確定日", keiryoku_web::wareki_and_seireki(p.finalised_on)));
            (
                "紙申請用に確定しました",
                "（郵送後に提出先が付番します）".into(),
                String::new(),
            )
        }
        _ => return Ok(see_other(&format!("/plans/{}", record.id))),
    };
    facts.push(("提出先", authorities_of(&record)));
    let mail_to = record
        .notify_to
        .clone()
        .unwrap_or_else(|| "GビズIDに登録のメールアドレス".into());
    if !paper {
        facts.push(("お知らせの送信先", mail_to.clone()));
    }
    Ok(render(
        StatusCode::OK,
        &SubmittedPage {
            chrome: Chrome::new(heading, Some(signed.header())),
            id: record.id.to_string(),
            heading,
            receipt,
            facts,
            authorities: authorities_of(&record),
            due,
            mail_to,
            paper,
        },
    ))
}

// ---------------------------------------------------------------- withdraw, change

#[derive(Template)]
#[template(path = "withdraw.html")]
struct WithdrawPage {
    chrome: Chrome,
    id: String,
    version: i64,
}

pub async fn withdraw_confirm(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    Ok(render(
        StatusCode::OK,
        &WithdrawPage {
            chrome: Chrome::new("申請の取下げ", Some(signed.header())),
            id: record.id.to_string(),
            version: record.version,
        },
    ))
}

pub async fn withdraw(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = application_id(&id)?;
    let version = form.version()?;
    let record =
        lifecycle::withdraw(&state.applications, &signed.0.applicant(), &id, version).await?;
    Ok(see_other(&format!("/plans/{}", record.id)))
}

#[derive(Template)]
#[template(path = "consent_withdraw.html")]
struct ConsentWithdrawPage {
    chrome: Chrome,
    id: String,
    version: i64,
}

/// `GET /plans/{id}/consent/withdraw`: what withdrawing the data-use consent means, then the
/// confirmation.
pub async fn consent_withdraw_confirm(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let record = owned(&state, &signed, &id).await?;
    Ok(render(
        StatusCode::OK,
        &ConsentWithdrawPage {
            chrome: Chrome::new("データ利活用への同意の撤回", Some(signed.header())),
            id: record.id.to_string(),
            version: record.version,
        },
    ))
}

/// `POST /plans/{id}/consent/withdraw`.
pub async fn consent_withdraw(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = application_id(&id)?;
    let version = form.version()?;
    let record = lifecycle::withdraw_data_use_consent(
        &state.applications,
        &signed.0.applicant(),
        &id,
        version,
    )
    .await?;
    Ok(see_other(&format!("/plans/{}", record.id)))
}

pub async fn start_change(
    State(state): State<WebState>,
    signed: Signed,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = application_id(&id)?;
    let key = form.idempotency_key();
    let done =
        lifecycle::start_change(&state.applications, &signed.0.applicant(), &id, &key).await?;
    Ok(see_other(&format!("/plans/{}", done.application.id)))
}

/// The pages the render-time and page-weight benchmark measures (`cargo bench -p
/// keiryoku-fn-web`), by index: start, my page, task list, each section, check your answers.
#[doc(hidden)]
pub fn example_count() -> usize {
    SECTIONS.len() + 4
}

/// One page of a plan rendered from records, without I/O: (its name, its HTML).
#[doc(hidden)]
pub fn render_example(
    session: keiryoku_http::ApplicantSession,
    record: &Application,
    index: usize,
) -> Option<(String, Result<String, askama::Error>)> {
    let signed = Signed(session);
    let params = SectionParams {
        saved: None,
        check: None,
        q: None,
    };
    Some(match index {
        0 => (
            "start".to_string(),
            StartPage {
                chrome: Chrome::new("経営力向上計画を電子申請する", Some(signed.header())),
                logged_out: false,
            }
            .render(),
        ),
        1 => (
            "my page (20 applications)".to_string(),
            MyPage {
                chrome: Chrome::new("マイページ", Some(signed.header())),
                company: signed.0.record.company_name.clone(),
                items: (0..20).map(|_| app_row(record)).collect(),
                next_cursor: None,
                filters: status_filters(None),
                filtered: None,
                status_query: String::new(),
            }
            .render(),
        ),
        2 => {
            let site = keiryoku_http::Site::new("https://keiryoku.example.go.jp").ok()?;
            (
                "task list".to_string(),
                plan_page(&site, &signed, record, &[]).render(),
            )
        }
        i if i == SECTIONS.len() + 3 => {
            let report = record.validate(Level::Submission, today());
            (
                "check your answers".to_string(),
                check_page(&signed, record, &report.errors, false).render(),
            )
        }
        i => {
            let section = SECTIONS.get(i - 3)?;
            let problems = section_problems(record, section, false);
            let plan = record.plan.to_value();
            let page = section_page(&signed, record, section, &plan, &problems, &params);
            (format!("section {}", section.slug), page.render())
        }
    })
}
