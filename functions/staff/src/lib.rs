//! The staff directory pages (職員名簿), for administrators only:
//!
//! - `GET /staff/directory`: every entry with role, place and state.
//! - `GET|POST /staff/directory/new`: add an entry.
//! - `GET|POST /staff/directory/{sub}`: change name, mail, role and place; deactivate or
//!   reactivate; the entry's change log below.
//! - `GET|POST /staff/notices`, `POST /staff/notices/{id}`: お知らせ and maintenance windows
//!   ([`notices`]).
//! - `GET /staff/audit`: for the 企画課 and administrators, the audit of staff reads by case or
//!   by staff member, and the latest directory changes ([`audit`]).
//!
//! Every change is written with its record in one transaction (`StaffDirectory::save`), on the
//! version the form was read at: two administrators changing one entry cannot overwrite each
//! other. An administrator cannot change their own entry (no one locks themselves out or
//! grants themselves more). This function is the only one allowed to write the directory.

#![forbid(unsafe_code)]

mod audit;
mod notices;

use askama::Template;
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use keiryoku_domain::application::OfficeId;
use keiryoku_domain::tables::tables;
use keiryoku_http::{ApiError, Site};
use keiryoku_store::{
    DirectoryActor, DirectoryChange, DirectoryEntry, Scope, Sessions, StaffDirectory, StaffMember,
    StaffPermission, StaffRole, StoreError, VersionedMember,
};
use keiryoku_web::sections::Choice;
use keiryoku_web::staff::{Menu, Staff};
use keiryoku_web::views::{Control, FieldView, SummaryLink};
use keiryoku_web::{Chrome, Form, PageError, PageResult, render, see_other};
use serde::Deserialize;

/// Everything the handlers need, built once per cold start.
#[derive(Clone)]
pub struct StaffState {
    pub site: Site,
    pub sessions: Sessions,
    pub staff: StaffDirectory,
    /// The audit of staff reads (searched here, written by the functions that read cases).
    pub reads: keiryoku_store::StaffReads,
    /// お知らせ (published here).
    pub notices: keiryoku_store::Notices,
}

impl FromRef<StaffState> for Site {
    fn from_ref(state: &StaffState) -> Site {
        state.site.clone()
    }
}

impl FromRef<StaffState> for Sessions {
    fn from_ref(state: &StaffState) -> Sessions {
        state.sessions.clone()
    }
}

impl FromRef<StaffState> for StaffDirectory {
    fn from_ref(state: &StaffState) -> StaffDirectory {
        state.staff.clone()
    }
}

pub fn app(state: StaffState) -> Router {
    let site = state.site.clone();
    site.protect(
        Router::new()
            .route("/staff/directory", get(list))
            .route("/staff/directory/new", get(new_form).post(add))
            .route("/staff/directory/{sub}", get(entry).post(change))
            .route("/staff/audit", get(audit::page))
            .route("/staff/notices", get(notices::list).post(notices::add))
            .route("/staff/notices/{id}", axum::routing::post(notices::end))
            .with_state(state),
    )
    .layer(axum::middleware::from_fn(keiryoku_http::notices::guard))
    .layer(axum::middleware::from_fn(keiryoku_web::problems_as_pages))
}

/// The administrator of a page: 403 for any other role.
fn administrator(staff: &Staff) -> Result<DirectoryActor, PageError> {
    staff.0.require(StaffPermission::Administer)?;
    Ok(DirectoryActor {
        sub: staff.0.member.sub.clone(),
        name: staff.0.member.name.clone(),
    })
}

// ---------------------------------------------------------------- the list

/// An entry as the list shows it.
struct Row {
    href: String,
    name: String,
    sub: String,
    role: &'static str,
    place: String,
    email: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct ListPage {
    chrome: Chrome,
    menu: Menu,
    rows: Vec<Row>,
}

/// The place of a role as the pages name it (empty for national roles).
fn place_of(role: &StaffRole) -> String {
    match role.scope() {
        Some(Scope::National) | None => String::new(),
        Some(scope) => scope.label(),
    }
}

/// `GET /staff/directory`.
pub async fn list(State(state): State<StaffState>, staff: Staff) -> PageResult {
    administrator(&staff)?;
    let rows = state
        .staff
        .list()
        .await?
        .into_iter()
        .map(|m| Row {
            href: format!("/staff/directory/{}", encode(&m.sub)),
            place: place_of(&m.role),
            role: m.role.label(),
            name: m.name,
            sub: m.sub,
            email: m.email.unwrap_or_default(),
            active: m.active,
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ListPage {
            chrome: Chrome::new("職員名簿", Some(staff.header())),
            menu: staff.menu(),
            rows,
        },
    ))
}

/// A `sub` as a path segment (percent-encoded outside the unreserved characters).
fn encode(sub: &str) -> String {
    sub.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- the form

/// What the form holds, as posted or as read from an entry.
#[derive(Debug, Default, Clone, Deserialize)]
struct Posted {
    sub: String,
    name: String,
    email: String,
    /// `reviewer`, `reader`, `planning`, `administrator`.
    role: String,
    /// `office:<id>`, `network:<id>`, `ministry:<id>` or empty.
    place: String,
}

impl Posted {
    fn of(member: &StaffMember) -> Posted {
        let entry = DirectoryEntry::from(member.clone());
        let place = match (&entry.office_id, &entry.network_id, &entry.ministry_id) {
            (Some(o), _, _) => format!("office:{o}"),
            (_, Some(n), _) => format!("network:{n}"),
            (_, _, Some(m)) => format!("ministry:{m}"),
            _ => String::new(),
        };
        let role = role_value(&entry.role);
        Posted {
            sub: member.sub.clone(),
            name: member.name.clone(),
            email: member.email.clone().unwrap_or_default(),
            role,
            place,
        }
    }

    fn from_form(form: &Form) -> Posted {
        let text = |name: &str| form.get(name).unwrap_or_default().trim().to_string();
        Posted {
            sub: text("sub"),
            name: text("name"),
            email: text("email"),
            role: text("role"),
            place: text("place"),
        }
    }

    /// The entry the form describes, or the problems at its fields (field name, message).
    fn member(&self, active: bool) -> Result<StaffMember, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let plain = |v: &str| !v.chars().any(keiryoku_domain::normalize::is_forbidden);
        if self.sub.is_empty() {
            problems.push(("sub", "職員IDを入力してください。".to_string()));
        } else if self.sub.len() > 64
            || self.sub == "new"
            || !self.sub.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
        {
            problems.push((
                "sub",
                "職員IDは職員用IDプロバイダの sub（英数字と記号、64文字以内）で入力してください。"
                    .to_string(),
            ));
        }
        if self.name.is_empty() {
            problems.push(("name", "氏名を入力してください。".to_string()));
        } else if self.name.chars().count() > 50 || !plain(&self.name) {
            problems.push((
                "name",
                "氏名は50文字以内で、見えない文字を含めずに入力してください。".to_string(),
            ));
        }
        if !self.email.is_empty() && !keiryoku_mail::plain_address(&self.email) {
            problems.push((
                "email",
                "メールアドレスは name@example.go.jp の形で入力してください。".to_string(),
            ));
        }
        let (kind, id) = self.place.split_once(':').unwrap_or(("", ""));
        let role = match (self.role.as_str(), kind) {
            ("reviewer", "office") => Some(StaffRole::Reviewer(OfficeId::from(id))),
            ("reader", "office") => Some(StaffRole::Reader(Scope::Office(OfficeId::from(id)))),
            ("reader", "network") => Some(StaffRole::Reader(Scope::Network(id.to_string()))),
            ("reader", "ministry") => Some(StaffRole::Reader(Scope::Ministry(id.to_string()))),
            ("planning", "") => Some(StaffRole::Planning),
            ("administrator", "") => Some(StaffRole::Administrator),
            ("", _) => {
                problems.push(("role", "役割を選んでください。".to_string()));
                None
            }
            ("reviewer", _) => {
                problems.push((
                    "place",
                    "審査担当は審査する行政庁（局）を一つ選んでください。".to_string(),
                ));
                None
            }
            ("reader", _) => {
                problems.push((
                    "place",
                    "閲覧の範囲（行政庁、局の全体、又は省庁）を選んでください。".to_string(),
                ));
                None
            }
            ("planning" | "administrator", _) => {
                problems.push((
                    "place",
                    "企画課と管理者は全国が範囲のため、所属を選ばないでください。".to_string(),
                ));
                None
            }
            _ => {
                problems.push(("role", "役割を選んでください。".to_string()));
                None
            }
        };
        if let Some(role) = &role
            && !role.is_known()
        {
            problems.push((
                "place",
                "選んだ所属は行政庁の一覧にありません。".to_string(),
            ));
        }
        match role {
            Some(role) if problems.is_empty() => Ok(StaffMember {
                sub: self.sub.clone(),
                name: self.name.clone(),
                email: (!self.email.is_empty()).then(|| self.email.clone()),
                role,
                active,
            }),
            _ => Err(problems),
        }
    }
}

/// The stored name of a role (`reviewer`), as the form's radio values.
fn role_value(role: &keiryoku_store::RoleName) -> String {
    match role {
        keiryoku_store::RoleName::Reviewer => "reviewer",
        keiryoku_store::RoleName::Reader => "reader",
        keiryoku_store::RoleName::Planning => "planning",
        keiryoku_store::RoleName::Administrator => "administrator",
    }
    .to_string()
}

/// The form's fields with the values and problems to show.
fn fields(posted: &Posted, problems: &[(&'static str, String)], with_sub: bool) -> Vec<FieldView> {
    let errors = |name: &str| {
        problems
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
    };
    let input =
        |name: &'static str, label: &'static str, hint: &'static str, value: &str| FieldView {
            id: name.to_string(),
            name: name.to_string(),
            label,
            hint,
            control: Control::Input {
                kind: if name == "email" { "email" } else { "text" },
                inputmode: if name == "email" { "email" } else { "text" },
                width: "medium",
                autocomplete: if name == "name" {
                    "name"
                } else if name == "email" {
                    "email"
                } else {
                    "off"
                },
            },
            value: value.to_string(),
            choices: Vec::new(),
            suggestions: Vec::new(),
            errors: errors(name),
            warnings: Vec::new(),
            required: name != "email",
            from_gbizid: false,
        };
    let choice = |value: String, label: String, current: &str| Choice {
        selected: value == current,
        value,
        label,
    };
    let roles = [
        ("reviewer", "審査担当（一つの行政庁の審査・判断）"),
        ("reader", "局・本省 閲覧（範囲内の検索・閲覧のみ）"),
        ("planning", "企画課（全国の閲覧・統計）"),
        ("administrator", "管理者（職員名簿とお知らせ）"),
    ]
    .into_iter()
    .map(|(v, l)| choice(v.to_string(), l.to_string(), &posted.role))
    .collect();
    let t = tables();
    let mut places: Vec<Choice> = Vec::new();
    for ministry in &t.authorities.ministries {
        places.push(choice(
            format!("ministry:{}", ministry.id),
            format!("{}（本省・全体）", ministry.name),
            &posted.place,
        ));
        for network in t
            .authorities
            .networks
            .iter()
            .filter(|n| n.ministry == ministry.id)
        {
            if network.offices.len() > 1 {
                places.push(choice(
                    format!("network:{}", network.id),
                    format!("{}（全局）", network.name),
                    &posted.place,
                ));
            }
            for office in &network.offices {
                places.push(choice(
                    format!("office:{}", office.id),
                    office.name.clone(),
                    &posted.place,
                ));
            }
        }
    }
    let mut shown = Vec::new();
    if with_sub {
        shown.push(input(
            "sub",
            "職員ID（sub）",
            "職員用IDプロバイダが発行する識別子です。登録後は変更できません。",
            &posted.sub,
        ));
    }
    shown.push(input("name", "氏名", "", &posted.name));
    shown.push(input(
        "email",
        "メールアドレス",
        "審査担当への通知の宛先です。",
        &posted.email,
    ));
    shown.push(FieldView {
        id: "role".into(),
        name: "role".into(),
        label: "役割",
        hint: "",
        control: Control::Radios,
        value: posted.role.clone(),
        choices: roles,
        suggestions: Vec::new(),
        errors: errors("role"),
        warnings: Vec::new(),
        required: true,
        from_gbizid: false,
    });
    shown.push(FieldView {
        id: "place".into(),
        name: "place".into(),
        label: "所属・閲覧の範囲",
        hint: "審査担当は行政庁を一つ、閲覧は行政庁・局の全体・省庁のいずれかを選びます。企画課と管理者は選びません。",
        control: Control::Select,
        value: posted.place.clone(),
        choices: places,
        suggestions: Vec::new(),
        errors: errors("place"),
        warnings: Vec::new(),
        required: false,
        from_gbizid: false,
    });
    shown
}

pub(crate) fn summary(fields: &[FieldView]) -> Vec<SummaryLink> {
    fields
        .iter()
        .flat_map(|f| {
            f.errors.iter().map(|e| SummaryLink {
                href: format!("#{}", f.id),
                text: format!("{}：{e}", f.label),
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "member_new.html")]
struct NewPage {
    chrome: Chrome,
    menu: Menu,
    summary: Vec<SummaryLink>,
    fields: Vec<FieldView>,
}

fn new_page(staff: &Staff, posted: &Posted, problems: &[(&'static str, String)]) -> NewPage {
    let fields = fields(posted, problems, true);
    let summary = summary(&fields);
    NewPage {
        chrome: Chrome::new("職員を追加する", Some(staff.header())).with_error(!summary.is_empty()),
        menu: staff.menu(),
        summary,
        fields,
    }
}

/// `GET /staff/directory/new`.
pub async fn new_form(staff: Staff) -> PageResult {
    administrator(&staff)?;
    Ok(render(
        StatusCode::OK,
        &new_page(&staff, &Posted::default(), &[]),
    ))
}

/// `POST /staff/directory/new`: adds the entry, or shows the form with its problems.
pub async fn add(State(state): State<StaffState>, staff: Staff, form: Form) -> PageResult {
    let by = administrator(&staff)?;
    let posted = Posted::from_form(&form);
    let member = match posted.member(true) {
        Ok(member) => member,
        Err(problems) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &new_page(&staff, &posted, &problems),
            ));
        }
    };
    match state.staff.save(&member, None, by).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/directory/{}?done=added",
            encode(&member.sub)
        ))),
        Err(StoreError::ConditionFailed) => Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_page(
                &staff,
                &posted,
                &[("sub", "この職員IDは既に登録されています。".to_string())],
            ),
        )),
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------- one entry

/// A change of the log as the entry page lists it.
pub(crate) struct ChangeRow {
    at: String,
    by: String,
    action: &'static str,
    before: String,
    after: String,
}

/// An entry of the log in one line: 「審査担当（関東経済産業局）・関東 審査一・有効」.
fn described(entry: &Option<DirectoryEntry>) -> String {
    match entry
        .clone()
        .map(StaffMember::try_from)
        .transpose()
        .ok()
        .flatten()
    {
        Some(m) => format!(
            "{}・{}・{}{}",
            m.role.describe(),
            m.name,
            if m.active { "有効" } else { "無効" },
            m.email.map(|e| format!("・{e}")).unwrap_or_default()
        ),
        None => "―".to_string(),
    }
}

pub(crate) fn change_row(change: DirectoryChange) -> ChangeRow {
    ChangeRow {
        at: keiryoku_web::jst_of_rfc3339(&change.at),
        by: format!("{}（{}）", change.by.name, change.by.sub),
        action: change.action.label(),
        before: described(&change.before),
        after: described(&change.after),
    }
}

#[derive(Template)]
#[template(path = "member.html")]
struct EntryPage {
    chrome: Chrome,
    menu: Menu,
    sub: String,
    href: String,
    name: String,
    active: bool,
    /// The administrator's own entry: shown, not changeable.
    own: bool,
    version: i64,
    done: Option<&'static str>,
    summary: Vec<SummaryLink>,
    fields: Vec<FieldView>,
    changes: Vec<ChangeRow>,
    /// The member's sessions now, newest first.
    sessions: Vec<SessionRow>,
}

/// A session of the member as the entry page lists it (never its token).
struct SessionRow {
    started: String,
    last_seen: String,
    expires: String,
}

fn session_row(session: keiryoku_store::SessionSummary) -> SessionRow {
    let at = |seconds: i64| {
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .map(keiryoku_web::jst)
            .unwrap_or_default()
    };
    // The session ends at its fixed lifetime or after its idle time, whichever comes first.
    let idle_end = match session.idle_seconds {
        0 => session.expires_at,
        idle => session.last_seen_at + idle,
    };
    SessionRow {
        started: at(session.created_at),
        last_seen: at(session.last_seen_at),
        expires: at(idle_end.min(session.expires_at)),
    }
}

#[derive(Deserialize, Default)]
pub struct EntryParams {
    done: Option<String>,
}

async fn entry_page(
    state: &StaffState,
    staff: &Staff,
    found: &VersionedMember,
    posted: &Posted,
    problems: &[(&'static str, String)],
) -> Result<EntryPage, PageError> {
    let changes = state
        .staff
        .changes_of(&found.member.sub)
        .await?
        .into_iter()
        .map(change_row)
        .collect();
    let fields = fields(posted, problems, false);
    let summary = summary(&fields);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let sessions = state
        .sessions
        .of_account(&found.member.sub, true)
        .await?
        .into_iter()
        .filter(|s| {
            s.expires_at > now && (s.idle_seconds == 0 || s.last_seen_at + s.idle_seconds > now)
        })
        .map(session_row)
        .collect();
    Ok(EntryPage {
        chrome: Chrome::new(
            format!("職員名簿：{}", found.member.name),
            Some(staff.header()),
        )
        .with_error(!summary.is_empty()),
        menu: staff.menu(),
        sub: found.member.sub.clone(),
        href: format!("/staff/directory/{}", encode(&found.member.sub)),
        name: found.member.name.clone(),
        active: found.member.active,
        own: found.member.sub == staff.0.member.sub,
        version: found.version,
        done: None,
        summary,
        fields,
        changes,
        sessions,
    })
}

/// The entry, or a 404 page.
async fn found(state: &StaffState, sub: &str) -> Result<VersionedMember, PageError> {
    state.staff.get_versioned(sub).await.map_err(|e| match e {
        StoreError::NotFound => PageError::Api(ApiError::NotFound),
        other => other.into(),
    })
}

/// `GET /staff/directory/{sub}`: the entry's form and its change log.
pub async fn entry(
    State(state): State<StaffState>,
    staff: Staff,
    Path(sub): Path<String>,
    axum::extract::Query(params): axum::extract::Query<EntryParams>,
) -> PageResult {
    administrator(&staff)?;
    let found = found(&state, &sub).await?;
    let mut page = entry_page(&state, &staff, &found, &Posted::of(&found.member), &[]).await?;
    page.done = match params.done.as_deref() {
        Some("added") => Some("追加しました。"),
        Some("saved") => Some("変更しました。次の操作から新しい役割で扱われます。"),
        Some("deactivated") => Some("無効にしました。この職員はログインも操作もできません。"),
        Some("reactivated") => Some("有効にしました。"),
        Some("sessions_ended") => Some(
            "セッションをすべて終了しました。この職員は、次の操作の前にログインし直す必要があります。",
        ),
        _ => None,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "member_stale.html")]
struct StalePage {
    chrome: Chrome,
    menu: Menu,
    href: String,
}

/// `POST /staff/directory/{sub}`: `action` = `save` (the form), `deactivate` or `reactivate`.
pub async fn change(
    State(state): State<StaffState>,
    staff: Staff,
    Path(sub): Path<String>,
    form: Form,
) -> PageResult {
    let by = administrator(&staff)?;
    let found = found(&state, &sub).await?;
    if found.member.sub == staff.0.member.sub {
        return Err(PageError::Api(ApiError::Forbidden(
            "自分の登録は変更できません。別の管理者に依頼してください。".into(),
        )));
    }
    let version = form.version()?;
    let href = format!("/staff/directory/{}", encode(&found.member.sub));
    let stale = || {
        render(
            StatusCode::CONFLICT,
            &StalePage {
                chrome: Chrome::new("この登録は更新されています", Some(staff.header())),
                menu: staff.menu(),
                href: href.clone(),
            },
        )
    };
    if version != found.version {
        return Ok(stale());
    }
    if form.get("action") == Some("end_sessions") {
        // Recorded first: a request cut short afterwards leaves a record of an attempt, never
        // ended sessions nobody can account for.
        state.staff.record_sessions_ended(&found.member, by).await?;
        let ended = state
            .sessions
            .revoke_account(&found.member.sub, true)
            .await?;
        tracing::info!(sub = %found.member.sub, by = %staff.0.member.sub, ended, "staff sessions ended");
        return Ok(see_other(&format!("{href}?done=sessions_ended")));
    }
    let (member, done) = match form.get("action") {
        Some("deactivate") => (
            StaffMember {
                active: false,
                ..found.member.clone()
            },
            "deactivated",
        ),
        Some("reactivate") => (
            StaffMember {
                active: true,
                ..found.member.clone()
            },
            "reactivated",
        ),
        _ => {
            let posted = Posted {
                sub: found.member.sub.clone(),
                ..Posted::from_form(&form)
            };
            match posted.member(found.member.active) {
                Ok(member) => (member, "saved"),
                Err(problems) => {
                    let page = entry_page(&state, &staff, &found, &posted, &problems).await?;
                    return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
                }
            }
        }
    };
    if member == found.member {
        return Ok(see_other(&href));
    }
    match state.staff.save(&member, Some(&found), by).await {
        Ok(_) => {
            tracing::info!(sub = %member.sub, by = %staff.0.member.sub, done, "staff directory changed");
            Ok(see_other(&format!("{href}?done={done}")))
        }
        Err(StoreError::ConditionFailed) => Ok(stale()),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(role: &str, place: &str) -> Posted {
        Posted {
            sub: "900099".into(),
            name: "試験 太郎".into(),
            email: String::new(),
            role: role.into(),
            place: place.into(),
        }
    }

    #[test]
    fn each_role_needs_its_own_kind_of_place() {
        assert!(posted("reviewer", "office:meti-kanto").member(true).is_ok());
        assert!(posted("reader", "ministry:meti").member(true).is_ok());
        assert!(
            posted("reader", "network:meti-bureaus")
                .member(true)
                .is_ok()
        );
        assert!(posted("planning", "").member(true).is_ok());
        let field = |p: Posted| p.member(true).err().map(|e| e[0].0);
        assert_eq!(field(posted("reviewer", "ministry:meti")), Some("place"));
        assert_eq!(
            field(posted("administrator", "office:meti-kanto")),
            Some("place")
        );
        assert_eq!(
            field(posted("reviewer", "office:meti-atlantis")),
            Some("place")
        );
        assert_eq!(field(posted("", "")), Some("role"));
    }

    #[test]
    fn names_with_invisible_characters_and_odd_ids_are_refused() {
        let mut p = posted("planning", "");
        p.name = "試験\u{202e}太郎".into();
        p.sub = "a/b".into();
        let problems = p.member(true).err().unwrap_or_default();
        let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["sub", "name"]);
    }

    #[test]
    fn a_mail_address_is_one_the_mailer_accepts() {
        for bad in [
            "a,b@example.go.jp",
            "a@b@example.go.jp",
            "審査 <a@example.go.jp>",
        ] {
            let mut p = posted("planning", "");
            p.email = bad.into();
            let fields: Vec<_> = p
                .member(true)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            assert_eq!(fields, ["email"], "{bad}");
        }
    }

    #[test]
    fn a_form_read_from_an_entry_gives_the_entry_back() {
        let member = StaffMember {
            sub: "900001".into(),
            name: "関東 審査一".into(),
            email: Some("a@example.go.jp".into()),
            role: StaffRole::Reader(Scope::Network("meti-bureaus".into())),
            active: true,
        };
        assert_eq!(Posted::of(&member).member(true).ok(), Some(member));
    }
}
