//! The application (申請) as the platform keeps it, and every change its lifecycle makes.
//!
//! An [`Application`] changes only through its methods here: each checks the status machine
//! ([`crate::status`]) and the rule of its action, and returns the next version (or a
//! [`LifecycleError`] saying why not, in Japanese). The use cases (crate `keiryoku-lifecycle`)
//! read a record, call one of these, and commit what it returns; the faces (JSON API, web pages,
//! export) only parse, call a use case and answer. No other code sets a status.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use crate::plan::{CertificationRef, Kind, Period, Plan, Typed, get, rows};
use crate::routing::{Outcome, Routing, RoutingRequest, Rule, Step, route};
use crate::status::{Action, Role, Status, TransitionError, transition};
use crate::validation::{Context, Finding, Level, Report, unknown_keys};

/// `YYYY-MM-DD` for [`Date`] fields (serde).
pub mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text, FORMAT).map_err(serde::de::Error::custom)
    }

    /// A `YYYY-MM-DD` date, if it is one.
    pub fn parse(text: &str) -> Option<Date> {
        Date::parse(text, FORMAT).ok()
    }

    /// The same for `Option<Date>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Date;

        pub fn serialize<S: Serializer>(
            date: &Option<Date>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(date) => super::serialize(date, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Date>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| Date::parse(&text, super::FORMAT).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

/// RFC 3339 in UTC with second precision, the format of every stored time.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = to_second(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Whole seconds, UTC: the precision every stored time has.
pub fn to_second(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0).unwrap_or(at)
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_id! {
    /// 申請ID: a UUID (version 7) issued by the platform.
    ApplicationId
}

text_id! {
    /// The company an application belongs to: derived from the GビズID account (its 法人番号,
    /// or the account for a sole proprietor). Only its users see its applications.
    CompanyId
}

text_id! {
    /// 提出先: an office of a competent authority (`meti-kanto`), as in `authorities.json`.
    OfficeId
}

impl ApplicationId {
    /// The id if `text` has the shape of the ids we issue (anything else cannot exist, so it is
    /// answered 404 without a lookup).
    ///
    /// ```
    /// use keiryoku_domain::application::ApplicationId;
    /// assert!(ApplicationId::parse("01890a5d-ac96-774b-bcce-b302099a8057").is_some());
    /// assert!(ApplicationId::parse("../../etc/passwd").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<ApplicationId> {
        let issued = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        issued.then(|| ApplicationId(text.to_ascii_lowercase()))
    }

    /// A new id (UUID version 7: time-ordered, so listings sort by creation).
    pub fn new(uuid: uuid::Uuid) -> ApplicationId {
        ApplicationId(uuid.hyphenated().to_string())
    }
}

impl CompanyId {
    /// The company of a 法人 by its 法人番号: what a GビズID account carrying that number acts
    /// for, and what a migrated certification of that number belongs to.
    pub fn corporation(corporate_number: &str) -> CompanyId {
        CompanyId(format!("corp-{corporate_number}"))
    }
}

impl From<String> for CompanyId {
    fn from(value: String) -> CompanyId {
        CompanyId(value)
    }
}

impl From<&str> for CompanyId {
    fn from(value: &str) -> CompanyId {
        CompanyId(value.to_string())
    }
}

impl From<String> for OfficeId {
    fn from(value: String) -> OfficeId {
        OfficeId(value)
    }
}

impl From<&str> for OfficeId {
    fn from(value: &str) -> OfficeId {
        OfficeId(value.to_string())
    }
}

/// 新規申請 or 変更申請: set by the platform when the application is created, never by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    New,
    Change,
}

impl ApplicationKind {
    pub fn label(self) -> &'static str {
        match self {
            ApplicationKind::New => "新規",
            ApplicationKind::Change => "変更",
        }
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// The identity's `sub` (GビズID for applicants, the staff provider for staff). Empty (and
    /// not serialised) in what applicants are shown of staff: see [`Actor::as_seen_by_applicant`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub: String,
    /// Name as known when acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub role: Role,
    /// The company (applicants) or office (staff) acted for.
    pub on_behalf_of: String,
}

impl Actor {
    /// Who acted, as an applicant is shown it: officials by role and office only. Their `sub`
    /// and name are personal data of the official the applicant has no need for (the office
    /// answers for its decisions).
    pub fn as_seen_by_applicant(&self) -> Actor {
        match self.role {
            Role::Applicant => self.clone(),
            _ => Actor {
                sub: String::new(),
                name: None,
                role: self.role,
                on_behalf_of: self.on_behalf_of.clone(),
            },
        }
    }
}

/// What an audit record says was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Edit,
    Delete,
    Submit,
    Withdraw,
    FinaliseForPaper,
    CreateChange,
    Return,
    Approve,
    Reject,
    /// データ利活用同意の撤回 by the applicant.
    WithdrawConsent,
    /// 旧システムから移行: the record's first entry when the legacy import created it.
    Migrate,
    /// 紙申請の認定を登録: a reviewer recorded the certification issued on paper.
    RecordPaperCertification,
}

impl AuditAction {
    /// 日本語の表示名 (timelines).
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Create => "作成",
            AuditAction::Edit => "編集",
            AuditAction::Delete => "削除",
            AuditAction::Submit => "提出",
            AuditAction::Withdraw => "取下げ",
            AuditAction::FinaliseForPaper => "紙申請用に確定",
            AuditAction::CreateChange => "変更申請を作成",
            AuditAction::Return => "差戻し",
            AuditAction::Approve => "認定",
            AuditAction::Reject => "不認定",
            AuditAction::WithdrawConsent => "データ利活用同意を撤回",
            AuditAction::Migrate => "旧システムから移行",
            AuditAction::RecordPaperCertification => "紙申請の認定を登録",
        }
    }
}

/// One authority's decision in a review round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approved,
    Returned,
    Rejected,
}

impl DecisionKind {
    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::Approved => "認定",
            DecisionKind::Returned => "差戻し",
            DecisionKind::Rejected => "不認定",
        }
    }
}

/// The plan (様式第1) exactly as the applicant wrote it: a JSON object, kept losslessly so a
/// draft round-trips whatever was typed; [`PlanDocument::typed`] reads it as the domain's
/// lenient [`Plan`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct PlanDocument(Map<String, Value>);

impl PlanDocument {
    /// The document of a JSON value; `None` unless it is an object.
    pub fn from_value(value: Value) -> Option<PlanDocument> {
        match value {
            Value::Object(map) => Some(PlanDocument(map)),
            _ => None,
        }
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The document as a JSON value (a copy).
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The plan, read leniently (strings normalised, wrong types kept for validation).
    pub fn typed(&self) -> Plan {
        Plan::from_json(self.to_value()).unwrap_or_default()
    }

    /// The JSON text as stored (and hashed).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.0)
    }

    pub fn from_json(text: &str) -> Result<PlanDocument, serde_json::Error> {
        serde_json::from_str(text).map(PlanDocument)
    }

    /// Sets `value` at the JSON Pointer `pointer` (`/applicant/name`), creating objects on the
    /// way.
    fn set(&mut self, pointer: &str, value: Value) {
        let mut parts = pointer.trim_start_matches('/').split('/').peekable();
        let mut map = &mut self.0;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return;
            }
            let entry = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(inner) = entry else {
                return;
            };
            map = inner;
        }
    }

    fn text_at(&self, pointer: &str) -> Option<String> {
        let mut value = self
            .0
            .get(pointer.trim_start_matches('/').split('/').next()?)?;
        for part in pointer.trim_start_matches('/').split('/').skip(1) {
            value = value.get(part)?;
        }
        value
            .as_str()
            .map(crate::normalize::text)
            .filter(|t| !t.is_empty())
    }
}

/// The applicant as GビズID vouches for it: the account that files, not what the form says.
/// At submission these replace the plan's 名称, 法人番号 and 代表者.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifiedIdentity {
    /// 法人 (`true`) or 個人事業主.
    pub corporation: bool,
    /// 法人名 or 屋号・氏名 as registered with GビズID.
    pub name: String,
    /// 法人番号 (corporations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// 代表者の氏名.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative_name: Option<String>,
    /// The GビズID account (`sub`) that filed.
    pub account: String,
}

/// A plan finalised for paper: the applicant prints the application PDF and posts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaperFiling {
    #[serde(with = "time::serde::rfc3339")]
    pub finalised_at: OffsetDateTime,
    /// The day it was finalised in Japan: the date printed on the application.
    #[serde(with = "iso_date")]
    pub finalised_on: Date,
    pub office_ids: Vec<OfficeId>,
    /// The routing answer with its explanation.
    pub routing: Routing,
    /// The version that was finalised (its plan is kept as a revision).
    pub revision: i64,
}

/// A filing as its authorities see it, submitted online or finalised for paper.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Filed<'a> {
    /// 受付番号 (online submissions only).
    pub receipt_number: Option<&'a str>,
    pub received_at: OffsetDateTime,
    pub received_on: Date,
    /// The due date of the standard processing period (標準処理期間).
    pub due_on: Date,
    pub office_ids: &'a [OfficeId],
    /// The version that was filed.
    pub revision: i64,
}

/// The longest 認定番号 recorded from paper.
pub const PAPER_NUMBER_LIMIT: usize = 40;

/// A certification issued on paper as a reviewer enters it: the 認定番号 as printed (NFKC,
/// trimmed) and the 認定日, which is neither before the plan was finalised nor after today.
pub fn paper_certification(
    number: &str,
    certified_on: &str,
    finalised_on: Date,
    now: OffsetDateTime,
) -> Result<(String, Date), Vec<Finding>> {
    let mut problems = Vec::new();
    let mut problem = |path: &str, code: &'static str, message: &str| {
        problems.push(Finding {
            path: path.into(),
            code,
            message: message.into(),
        })
    };
    let number = crate::normalize::text(number);
    if number.is_empty() {
        problem(
            "/certification_number",
            "required",
            "認定番号を、認定書に記載のとおり入力してください。",
        );
    } else if number.chars().count() > PAPER_NUMBER_LIMIT {
        problem(
            "/certification_number",
            "too_long",
            "認定番号は40文字以内で入力してください。",
        );
    } else if number.chars().any(crate::normalize::is_forbidden) {
        problem(
            "/certification_number",
            "control_character",
            "認定番号に使用できない制御文字（見えない文字）が含まれています。",
        );
    }
    let today = crate::dates::japan_date(now);
    let certified_on = crate::normalize::text(certified_on).replace('/', "-");
    let date = iso_date::parse(&certified_on);
    match date {
        None if certified_on.trim().is_empty() => problem(
            "/certified_on",
            "required",
            "認定日を入力してください（例：2026-04-01）。",
        ),
        None => problem(
            "/certified_on",
            "invalid_date",
            "認定日は、実在する日付を年-月-日で入力してください（例：2026-04-01）。",
        ),
        Some(date) if date > today => problem(
            "/certified_on",
            "in_future",
            "認定日に今日より後の日付は入力できません。",
        ),
        Some(date) if date < finalised_on => problem(
            "/certified_on",
            "before_filing",
            "認定日が、申請書を紙申請用に確定した日より前になっています。",
        ),
        Some(_) => {}
    }
    match date {
        Some(date) if problems.is_empty() => Ok((number, date)),
        _ => Err(problems),
    }
}

/// What is recorded when an application is submitted (受付).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Submission {
    /// 受付番号: unique, never reused.
    pub receipt_number: String,
    /// 受付日時: legally material for the 60-day equipment rule.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// 受付日 in Japan.
    #[serde(with = "iso_date")]
    pub received_on: Date,
    /// The due date of the standard processing period (標準処理期間).
    #[serde(with = "iso_date")]
    pub due_on: Date,
    /// The competent authorities' offices.
    pub office_ids: Vec<OfficeId>,
    /// The routing answer with its explanation, as shown to the applicant.
    pub routing: Routing,
    /// The version this submission produced; its plan is kept as a revision.
    pub revision: i64,
}

/// One authority's decision on the current submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub decision: DecisionKind,
    pub by: Actor,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// 認定番号 allocated by this authority (approvals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification_number: Option<String>,
}

impl Decision {
    /// 認定 by one authority, with the 認定番号 it gave.
    fn approved(by: &Actor, at: OffsetDateTime, number: &str) -> Decision {
        Decision {
            decision: DecisionKind::Approved,
            by: by.clone(),
            at,
            certification_number: Some(number.to_string()),
        }
    }
}

/// A comment anchored to a field of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldComment {
    /// JSON Pointer into the plan (`/plan/period/start`).
    pub path: String,
    pub message: String,
}

/// 差戻し: what the reviewer asks to be corrected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnNote {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
    pub office_id: OfficeId,
    pub message: String,
    pub comments: Vec<FieldComment>,
    /// The submitted revision that was returned (the resubmission is compared with it).
    pub revision: i64,
}

/// 認定.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Certification {
    /// 認定番号 of the first competent authority (the one printed first).
    pub number: String,
    /// Every authority's 認定番号 (joint plans have one per authority).
    pub numbers: BTreeMap<OfficeId, String>,
    /// 認定日 in Japan.
    #[serde(with = "iso_date")]
    pub certified_on: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub certified_at: OffsetDateTime,
    pub office_ids: Vec<OfficeId>,
    /// The submitted revision that was certified.
    pub revision: i64,
}

/// 不認定.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rejection {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Actor,
    pub office_id: OfficeId,
    pub reason: String,
}

/// The certification a change application (変更申請) changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeOf {
    pub application_id: ApplicationId,
    pub certification_number: String,
    #[serde(with = "iso_date")]
    pub certified_on: Date,
    /// The authorities that certified it: the change goes back to them.
    pub office_ids: Vec<OfficeId>,
    /// The certified revision (the reviewer sees the change as a diff against it).
    pub revision: i64,
    /// The certified 実施時期 (a change keeps its start and may extend it up to the limit).
    #[schema(value_type = Object)]
    pub period: Period,
}

/// An application (申請): its state and the plan (様式第1) as entered so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    pub id: ApplicationId,
    /// The company that owns it; only its users can see it.
    pub company_id: CompanyId,
    /// GビズID `sub` of the person who created it.
    pub created_by: String,
    pub kind: ApplicationKind,
    pub status: Status,
    /// Increases by one on every write; the ETag is made from it.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The plan as entered (may be partial while a draft). The store keeps it apart, as JSON
    /// text, hence the default when a record is read.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub plan: PlanDocument,
    /// What submission recorded; absent until the first submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<Submission>,
    /// What finalising for paper recorded (authorities without e-filing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperFiling>,
    /// Each competent authority's decision in the current review round.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decisions: BTreeMap<OfficeId, Decision>,
    /// The latest return for correction (差戻し), with its comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<ReturnNote>,
    /// 認定: set when every competent authority approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<Certification>,
    /// 不認定.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// For a change application (変更申請): the certified application it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_of: Option<ChangeOf>,
    /// The applicant as GビズID vouched for it at the last submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<VerifiedIdentity>,
    /// Where notices go: the GビズID address of the account that last created or submitted it
    /// (never an address from a request body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_to: Option<String>,
    /// 公表可否 and データ利活用同意 as given at the last submission, with the wording's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// Set when the certification was carried over from the legacy system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<crate::migration::Migration>,
    /// The hash of the application's latest audit record (the head of its chain) as the store
    /// read it with the record, so that the next commit links its audit record without reading
    /// the trail. The store's bookkeeping, like `version`: never shown or serialised here.
    #[serde(skip)]
    pub audit_head: Option<String>,
}

/// The version of the consent wording shown next to 公表可否 and データ利活用同意 (様式第1's
/// form): recorded with every consent, so what the applicant agreed to can be shown later.
pub const CONSENT_WORDING_VERSION: &str = "2026-04";

/// The applicant's consents as given when the plan was filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Consent {
    /// 公表可否: the certification may be published with the company's name.
    pub publication: bool,
    /// データ利活用同意: the plan's data may be shared for support measures (ミラサポCONNECT).
    pub data_use: bool,
    /// When the choice was made (the submission).
    #[serde(with = "time::serde::rfc3339")]
    pub given_at: OffsetDateTime,
    /// [`CONSENT_WORDING_VERSION`] at that time.
    pub wording_version: String,
    /// When the applicant withdrew the data-use consent; from then on nothing more is shared.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub data_use_withdrawn_at: Option<OffsetDateTime>,
}

impl Consent {
    /// Whether the plan's data may be shared now.
    pub fn shares_data(&self) -> bool {
        self.data_use && self.data_use_withdrawn_at.is_none()
    }

    /// The consents a filed plan gives: anything but an explicit yes is a no.
    fn of_plan(plan: &PlanDocument, now: OffsetDateTime) -> Consent {
        let yes = |name: &str| plan.0.get(name).and_then(Value::as_bool) == Some(true);
        Consent {
            publication: yes("publication_consent"),
            data_use: yes("data_use_consent"),
            given_at: now,
            wording_version: CONSENT_WORDING_VERSION.to_string(),
            data_use_withdrawn_at: None,
        }
    }
}

/// Why the lifecycle refuses an action. Each maps to one HTTP status in `keiryoku-http`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    /// The status machine refuses it (wrong status or wrong role).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Not possible in the application's state, for the reason given (Japanese).
    #[error("{0}")]
    Conflict(String),
    /// The request names a version that is not the current one.
    #[error("stale version")]
    Stale,
    /// The plan or the request has problems at these fields (paths under `/plan` or the body).
    #[error("invalid")]
    Invalid(Vec<Finding>),
    /// The plan is larger than we store.
    #[error("plan too large")]
    TooLarge { limit: usize },
}

/// 受付番号 of the `sequence`-th receipt of a fiscal year (`R2026-000042`).
pub fn receipt_number(fiscal_year: i32, sequence: i64) -> String {
    format!("R{fiscal_year}-{sequence:06}")
}

/// The largest plan we store, under DynamoDB's 400 KB item limit with room for the other fields.
pub const PLAN_LIMIT_BYTES: usize = 300 * 1024;

/// The fields of the plan that GビズID owns for a corporation: reset from the account at
/// submission.
pub const IDENTITY_FIELDS: [&str; 3] = [
    "/applicant/name",
    "/applicant/corporate_number",
    "/applicant/representative_name",
];

/// What a submission is ready to record: the validated plan with the verified identity, where it
/// goes and when it is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    pub plan: PlanDocument,
    pub routing: Routing,
    pub office_ids: Vec<OfficeId>,
    pub due_on: Date,
}

/// The result of one authority's approval.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub next: Application,
    /// Every competent authority has approved: the plan is certified.
    pub certified: bool,
    /// The authorities still to approve (joint plans).
    pub waiting_for: Vec<OfficeId>,
}

fn finding(path: &str, code: &'static str, message: String) -> Finding {
    Finding {
        path: path.to_string(),
        code,
        message,
    }
}

impl Application {
    /// The record as its applicant is shown it: every official who acted by role and office
    /// only ([`Actor::as_seen_by_applicant`]).
    pub fn as_seen_by_applicant(&self) -> Application {
        let mut seen = self.clone();
        for decision in seen.decisions.values_mut() {
            decision.by = decision.by.as_seen_by_applicant();
        }
        if let Some(returned) = seen.returned.as_mut() {
            returned.by = returned.by.as_seen_by_applicant();
        }
        if let Some(rejection) = seen.rejection.as_mut() {
            rejection.by = rejection.by.as_seen_by_applicant();
        }
        seen
    }

    /// A fresh draft, version 1.
    pub fn new_draft(
        id: ApplicationId,
        company_id: CompanyId,
        created_by: String,
        plan: PlanDocument,
        notify_to: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        check_kind_unchanged(
            plan.as_map(),
            &serde_json::json!({ "type": "new" }),
            "/plan",
        )?;
        check_size(&plan)?;
        Ok(Application::fresh(
            id,
            company_id,
            created_by,
            ApplicationKind::New,
            plan,
            notify_to,
            now,
        ))
    }

    /// Version 1 of a draft of `kind`, nothing decided yet.
    fn fresh(
        id: ApplicationId,
        company_id: CompanyId,
        created_by: String,
        kind: ApplicationKind,
        plan: PlanDocument,
        notify_to: Option<String>,
        now: OffsetDateTime,
    ) -> Application {
        let now = to_second(now);
        Application {
            id,
            company_id,
            created_by,
            kind,
            status: Status::Draft,
            version: 1,
            created_at: now,
            updated_at: now,
            plan,
            submission: None,
            paper: None,
            decisions: BTreeMap::new(),
            returned: None,
            certification: None,
            rejection: None,
            change_of: None,
            identity: None,
            notify_to,
            consent: None,
            migration: None,
            audit_head: None,
        }
    }

    /// The next version of this record: version + 1, updated `now`.
    fn next_version(&self, now: OffsetDateTime) -> Application {
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = to_second(now);
        next
    }

    /// The version a write names must be the current one.
    pub fn check_version(&self, expected: i64) -> Result<(), LifecycleError> {
        if expected == self.version {
            Ok(())
        } else {
            Err(LifecycleError::Stale)
        }
    }

    /// The plan as validation and routing read it: typed, with the kind the record says (never
    /// what the editable document says).
    pub fn typed_plan(&self) -> Plan {
        let mut plan = self.plan.typed();
        plan.kind = Some(Typed::Ok(match &self.change_of {
            None => Kind::New,
            Some(change) => Kind::Change {
                certification: Box::new(Typed::Ok(CertificationRef {
                    number: Some(Typed::Ok(change.certification_number.clone())),
                    certified_on: Some(Typed::Ok(crate::plan::Day(change.certified_on))),
                    office_id: change.office_ids.first().map(|o| Typed::Ok(o.to_string())),
                    period: Some(Typed::Ok(change.period)),
                })),
            },
        }));
        plan
    }

    /// Validation of the plan at `level` as of `filed_on`, with the record's kind.
    pub fn validate(&self, level: Level, filed_on: Date) -> Report {
        let mut report =
            crate::validation::validate(&self.typed_plan(), &Context { level, filed_on });
        let mut unknown = unknown_keys(self.plan.as_map());
        unknown.append(&mut report.errors);
        report.errors = unknown;
        report
    }

    /// Saves a JSON Merge Patch (RFC 7396) to the plan: drafts and returned applications only,
    /// at the version the editor read. The kind and anything server-owned cannot be patched.
    pub fn save(
        &self,
        patch: &Map<String, Value>,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        if !matches!(self.status, Status::Draft | Status::Returned) {
            return Err(LifecycleError::Conflict(format!(
                "この申請は「{}」のため編集できません。",
                self.status.label()
            )));
        }
        self.check_version(expected_version)?;
        let current_kind = self
            .plan
            .as_map()
            .get("kind")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({ "type": self.kind }));
        check_kind_unchanged(patch, &current_kind, "")?;
        let mut plan = self.plan.to_value();
        json_merge(&mut plan, &Value::Object(patch.clone()));
        let plan = PlanDocument::from_value(plan).unwrap_or_default();
        check_size(&plan)?;
        let mut next = self.next_version(now);
        next.plan = plan;
        Ok(next)
    }

    /// Deleting is for drafts only (a submitted application is withdrawn instead).
    pub fn check_deletable(&self, expected_version: i64) -> Result<(), LifecycleError> {
        if self.status != Status::Draft {
            return Err(LifecycleError::Conflict(format!(
                "この申請は「{}」のため削除できません。",
                self.status.label()
            )));
        }
        self.check_version(expected_version)
    }

    /// Everything a submission (or a paper filing) needs from the plan, as of `today`: the
    /// identity GビズID vouches for in place of what the form says, validation at submission
    /// level (every problem at once, paths under `/plan`), and where it goes.
    pub fn prepare_filing(
        &self,
        action: Action,
        identity: &VerifiedIdentity,
        today: Date,
    ) -> Result<Filing, LifecycleError> {
        transition(self.status, action, Role::Applicant)?;
        let mut bound = self.clone();
        let (plan, mut problems) = bind_identity(&self.plan, identity);
        bound.plan = plan;
        let report = bound.validate(Level::Submission, today);
        problems.extend(report.errors.into_iter().map(|f| Finding {
            path: format!("/plan{}", f.path),
            ..f
        }));
        if !problems.is_empty() {
            return Err(LifecycleError::Invalid(problems));
        }
        let mut routing = route_plan(&bound.typed_plan())?;
        let office_ids = match &self.change_of {
            // A change application goes back to the authorities that certified the plan.
            Some(change) => {
                routing.explanation.insert(
                    0,
                    Step {
                        rule: Rule::Change,
                        row: format!("certification#{}", change.certification_number),
                        message: format!(
                            "変更申請は、変更前の計画を認定した行政庁（{}）に提出します（認定番号 {}）。",
                            change
                                .office_ids
                                .iter()
                                .map(OfficeId::as_str)
                                .collect::<Vec<_>>()
                                .join("、"),
                            change.certification_number
                        ),
                        verified: true,
                        source: "docs/domain.md §5.3".into(),
                    },
                );
                change.office_ids.clone()
            }
            None => routing
                .authorities
                .iter()
                .map(|a| OfficeId::from(a.office_id.as_str()))
                .collect(),
        };
        match action {
            Action::Submit if self.change_of.is_none() && !routing.e_filing => {
                return Err(LifecycleError::Conflict(
                    "提出先に電子申請を受け付けない省庁が含まれるため、電子申請できません。紙申請用に確定し、申請書を印刷して郵送してください。".into(),
                ));
            }
            Action::FinaliseForPaper if routing.e_filing => {
                return Err(LifecycleError::Conflict(
                    "提出先はすべて電子申請を受け付けています。紙ではなく電子申請してください。"
                        .into(),
                ));
            }
            _ => {}
        }
        let period = crate::rules::Period {
            days: routing.processing_days,
            count: routing.processing_count,
        };
        let due_on = period
            .due(today)
            .ok_or_else(|| LifecycleError::Conflict("処理期限を計算できません。".into()))?;
        Ok(Filing {
            plan: bound.plan,
            routing,
            office_ids,
            due_on,
        })
    }

    /// 申請: the next version, submitted with its receipt, from a [`Filing`] prepared for it.
    pub fn submit(
        &self,
        filing: Filing,
        identity: VerifiedIdentity,
        receipt_number: String,
        notify_to: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let to = transition(self.status, Action::Submit, Role::Applicant)?;
        let now = to_second(now);
        let mut next = self.next_version(now);
        next.status = to;
        next.plan = filing.plan;
        next.decisions.clear();
        next.identity = Some(identity);
        if notify_to.is_some() {
            next.notify_to = notify_to;
        }
        next.consent = Some(Consent::of_plan(&next.plan, now));
        next.submission = Some(Submission {
            receipt_number,
            received_at: now,
            received_on: crate::dates::japan_date(now),
            due_on: filing.due_on,
            office_ids: filing.office_ids,
            routing: filing.routing,
            revision: next.version,
        });
        Ok(next)
    }

    /// 紙申請用に確定: from a [`Filing`] prepared for it.
    pub fn finalise_for_paper(
        &self,
        filing: Filing,
        identity: VerifiedIdentity,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let to = transition(self.status, Action::FinaliseForPaper, Role::Applicant)?;
        let now = to_second(now);
        let mut next = self.next_version(now);
        next.status = to;
        next.plan = filing.plan;
        next.identity = Some(identity);
        next.paper = Some(PaperFiling {
            finalised_at: now,
            finalised_on: crate::dates::japan_date(now),
            office_ids: filing.office_ids,
            routing: filing.routing,
            revision: next.version,
        });
        Ok(next)
    }

    /// 取下げ by the applicant.
    pub fn withdraw(
        &self,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let to = transition(self.status, Action::Withdraw, Role::Applicant)?;
        self.check_version(expected_version)?;
        let mut next = self.next_version(now);
        next.status = to;
        Ok(next)
    }

    /// データ利活用同意の撤回: from now on nothing more of the plan is shared (the change feed and
    /// extracts of consent-bound agencies leave it out, and tell them it was withdrawn).
    pub fn withdraw_data_use_consent(
        &self,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        self.check_version(expected_version)?;
        let shares = self.consent.as_ref().is_some_and(Consent::shares_data);
        if !shares {
            return Err(LifecycleError::Conflict(
                "この申請にはデータ利活用の同意がありません（撤回済みか、同意していません）。"
                    .into(),
            ));
        }
        let now = to_second(now);
        let mut next = self.next_version(now);
        if let Some(consent) = next.consent.as_mut() {
            consent.data_use_withdrawn_at = Some(now);
        }
        // The plan says no from now on: a resubmission or a change application made from it
        // does not give the consent back unless the applicant gives it again.
        next.plan
            .0
            .insert("data_use_consent".into(), Value::Bool(false));
        Ok(next)
    }

    /// A change application (変更申請) of this certified application, as of `today`: a new
    /// draft holding the certified plan, refused once the certified period has ended.
    pub fn start_change(
        &self,
        certified_plan: PlanDocument,
        id: ApplicationId,
        created_by: String,
        notify_to: Option<String>,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let (Status::Certified, Some(certification)) = (self.status, &self.certification) else {
            return Err(LifecycleError::Conflict(format!(
                "変更申請は認定された計画からのみ作成できます（この申請は「{}」です）。",
                self.status.label()
            )));
        };
        let period = get(&certified_plan.typed().period)
            .copied()
            .ok_or_else(|| {
                LifecycleError::Conflict("認定された計画に実施期間がありません。".into())
            })?;
        let today = crate::dates::japan_date(now);
        if period.end() < crate::plan::YearMonth::of(today) {
            return Err(LifecycleError::Conflict(
                "認定された計画の実施期間が終了しているため、変更申請はできません。新たに計画を申請してください。".into(),
            ));
        }
        let mut plan = certified_plan;
        // A data-use consent withdrawn since certification stays withdrawn in the change.
        if self
            .consent
            .as_ref()
            .is_some_and(|c| c.data_use_withdrawn_at.is_some())
        {
            plan.0.insert("data_use_consent".into(), Value::Bool(false));
        }
        // What the applicant sees of the certification it changes; the record's `change_of`
        // is what counts (the document's `kind` cannot be edited).
        plan.0.insert(
            "kind".into(),
            serde_json::json!({
                "type": "change",
                "certification": {
                    "number": certification.number,
                    "certified_on": certification.certified_on.to_string(),
                    "office_id": certification.office_ids.first(),
                    "period": period,
                },
            }),
        );
        let mut change = Application::fresh(
            id,
            self.company_id.clone(),
            created_by,
            ApplicationKind::Change,
            plan,
            notify_to,
            now,
        );
        change.change_of = Some(ChangeOf {
            application_id: self.id.clone(),
            certification_number: certification.number.clone(),
            certified_on: certification.certified_on,
            office_ids: certification.office_ids.clone(),
            revision: certification.revision,
            period,
        });
        Ok(change)
    }

    /// Whether `office` is one of the competent authorities of the current submission.
    pub fn is_routed_to(&self, office: &OfficeId) -> bool {
        self.filing().is_some_and(|f| f.office_ids.contains(office))
    }

    /// The reviewer's preconditions: the status machine allows `action`, this authority has not
    /// decided yet in this round, and the version is the one the reviewer saw.
    fn decidable(
        &self,
        office: &OfficeId,
        action: Action,
        expected_version: i64,
    ) -> Result<Status, LifecycleError> {
        let to = transition(self.status, action, Role::Reviewer)?;
        if let Some(decision) = self.decisions.get(office) {
            return Err(LifecycleError::Conflict(format!(
                "この申請は、貴庁で既に判断済みです（{}）。",
                decision.decision.label()
            )));
        }
        self.check_version(expected_version)?;
        Ok(to)
    }

    /// The next version after one authority's return or rejection: both end the round for every
    /// authority, so the application takes the status the machine gives.
    fn closing_decision(
        &self,
        reviewer: &Actor,
        office: &OfficeId,
        action: Action,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let to = self.decidable(office, action, expected_version)?;
        let decision = match action {
            Action::Reject => DecisionKind::Rejected,
            _ => DecisionKind::Returned,
        };
        let mut next = self.next_version(now);
        next.status = to;
        next.decisions.insert(
            office.clone(),
            Decision {
                decision,
                by: reviewer.clone(),
                at: now,
                certification_number: None,
            },
        );
        Ok(next)
    }

    /// 差戻し by one competent authority, with comments at fields.
    pub fn return_for_correction(
        &self,
        reviewer: &Actor,
        office: &OfficeId,
        message: String,
        comments: Vec<FieldComment>,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let now = to_second(now);
        let mut next =
            self.closing_decision(reviewer, office, Action::Return, expected_version, now)?;
        next.returned = Some(ReturnNote {
            at: now,
            by: reviewer.clone(),
            office_id: office.clone(),
            message,
            comments,
            revision: self.submitted_revision(),
        });
        Ok(next)
    }

    fn submitted_revision(&self) -> i64 {
        self.submission
            .as_ref()
            .map_or(self.version, |s| s.revision)
    }

    /// 認定 by one competent authority with the 認定番号 it allocated. A joint (共管) plan is
    /// certified when every competent authority has approved.
    pub fn approve(
        &self,
        reviewer: &Actor,
        office: &OfficeId,
        number: String,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Approval, LifecycleError> {
        let certified_status = self.decidable(office, Action::Approve, expected_version)?;
        let now = to_second(now);
        let mut next = self.next_version(now);
        next.decisions
            .insert(office.clone(), Decision::approved(reviewer, now, &number));
        let offices = self
            .submission
            .as_ref()
            .map(|s| s.office_ids.clone())
            .unwrap_or_default();
        let approvals: BTreeMap<OfficeId, String> = next
            .decisions
            .iter()
            .filter(|(_, d)| d.decision == DecisionKind::Approved)
            .filter_map(|(o, d)| Some((o.clone(), d.certification_number.clone()?)))
            .collect();
        let waiting_for: Vec<OfficeId> = offices
            .iter()
            .filter(|o| !approvals.contains_key(*o))
            .cloned()
            .collect();
        let certified = waiting_for.is_empty();
        if certified {
            next.status = certified_status;
            next.certification = Some(Certification {
                number: offices
                    .first()
                    .and_then(|o| approvals.get(o))
                    .cloned()
                    .unwrap_or(number),
                numbers: approvals,
                certified_on: crate::dates::japan_date(now),
                certified_at: now,
                office_ids: offices,
                revision: self.submitted_revision(),
            });
        }
        Ok(Approval {
            next,
            certified,
            waiting_for,
        })
    }

    /// 不認定 by one competent authority: it ends the application.
    pub fn reject(
        &self,
        reviewer: &Actor,
        office: &OfficeId,
        reason: String,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let now = to_second(now);
        let mut next =
            self.closing_decision(reviewer, office, Action::Reject, expected_version, now)?;
        next.rejection = Some(Rejection {
            at: now,
            by: reviewer.clone(),
            office_id: office.clone(),
            reason,
        });
        Ok(next)
    }

    /// 紙申請の認定を登録: one competent authority of a plan finalised for paper records the
    /// certification it issued on paper (認定日 and 認定番号 as printed). A joint plan is
    /// certified jointly on paper, so one record stands for all of its authorities; the number
    /// recorded is the recording authority's.
    pub fn record_paper_certification(
        &self,
        reviewer: &Actor,
        office: &OfficeId,
        number: &str,
        certified_on: &str,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<Application, LifecycleError> {
        let to = transition(
            self.status,
            Action::RecordPaperCertification,
            Role::Reviewer,
        )?;
        let paper = self.paper.as_ref().ok_or_else(|| {
            LifecycleError::Conflict("紙申請用に確定された申請ではありません。".into())
        })?;
        if !paper.office_ids.contains(office) {
            return Err(LifecycleError::Conflict(
                "貴庁はこの申請の提出先ではありません。".into(),
            ));
        }
        self.check_version(expected_version)?;
        let now = to_second(now);
        let (number, certified_on) =
            paper_certification(number, certified_on, paper.finalised_on, now)
                .map_err(LifecycleError::Invalid)?;
        let mut next = self.next_version(now);
        next.status = to;
        next.decisions
            .insert(office.clone(), Decision::approved(reviewer, now, &number));
        next.certification = Some(Certification {
            number: number.clone(),
            numbers: BTreeMap::from([(office.clone(), number)]),
            certified_on,
            certified_at: now,
            office_ids: paper.office_ids.clone(),
            revision: paper.revision,
        });
        // The answers to 公表 and データ利活用 were part of the plan put on paper.
        if next.consent.is_none() {
            next.consent = Some(Consent::of_plan(&next.plan, paper.finalised_at));
        }
        Ok(next)
    }

    /// Where the filing went and since when: the submission (受付), or the plan finalised for
    /// paper (its authorities get it by post; the finalisation stands for the receipt).
    pub fn filing(&self) -> Option<Filed<'_>> {
        if let Some(submission) = &self.submission {
            return Some(Filed {
                receipt_number: Some(&submission.receipt_number),
                received_at: submission.received_at,
                received_on: submission.received_on,
                due_on: submission.due_on,
                office_ids: &submission.office_ids,
                revision: submission.revision,
            });
        }
        let paper = self.paper.as_ref()?;
        let period = crate::rules::Period {
            days: paper.routing.processing_days,
            count: paper.routing.processing_count,
        };
        Some(Filed {
            receipt_number: None,
            received_at: paper.finalised_at,
            received_on: paper.finalised_on,
            due_on: period.due(paper.finalised_on).unwrap_or(paper.finalised_on),
            office_ids: &paper.office_ids,
            revision: paper.revision,
        })
    }

    /// The version of the plan that was filed: the submitted (or finalised) revision.
    pub fn filed_revision(&self) -> Option<i64> {
        self.submission
            .as_ref()
            .map(|s| s.revision)
            .or_else(|| self.paper.as_ref().map(|p| p.revision))
    }

    /// 事業者の名称 as filed (the verified identity once submitted).
    pub fn company_name(&self) -> String {
        self.identity
            .as_ref()
            .map(|i| i.name.clone())
            .or_else(|| self.plan.text_at("/applicant/name"))
            .unwrap_or_default()
    }

    /// 法人番号 as filed.
    pub fn corporate_number(&self) -> Option<String> {
        self.identity
            .as_ref()
            .and_then(|i| i.corporate_number.clone())
            .or_else(|| self.plan.text_at("/applicant/corporate_number"))
    }

    /// 本店所在地の都道府県 (JIS code) of the plan.
    pub fn prefecture_code(&self) -> Option<String> {
        self.plan.text_at("/applicant/head_office/prefecture_code")
    }

    /// 実施期間 of the plan, when it is given and well-typed (only that field is read).
    pub fn period(&self) -> Option<Period> {
        let period: crate::plan::Field<Period> = self
            .plan
            .0
            .get("period")
            .and_then(|v| Typed::deserialize(v).ok());
        get(&period).copied()
    }

    /// Every 中分類 and 細分類 code of the plan's business fields.
    pub fn industry_codes(&self) -> Vec<String> {
        // Only the business fields are read: case entries are derived on every commit.
        let fields: crate::plan::Rows<crate::plan::BusinessField> = self
            .plan
            .0
            .get("business_fields")
            .and_then(|v| Typed::deserialize(v).ok());
        rows(&fields)
            .flat_map(|(_, f)| [get(&f.middle_code), get(&f.detail_code)])
            .flatten()
            .cloned()
            .collect()
    }
}

/// The kind (新規・変更) is the record's: a request may repeat it but never change it.
fn check_kind_unchanged(
    plan: &Map<String, Value>,
    current: &Value,
    prefix: &str,
) -> Result<(), LifecycleError> {
    if plan.get("kind").is_some_and(|kind| kind != current) {
        return Err(LifecycleError::Invalid(vec![finding(
            &format!("{prefix}/kind"),
            "read_only",
            "申請の種類（新規・変更）は変更できません。変更申請は、認定済みの申請から「変更申請」を作成してください。".into(),
        )]));
    }
    Ok(())
}

fn check_size(plan: &PlanDocument) -> Result<(), LifecycleError> {
    let size = plan.to_json().map_or(usize::MAX, |t| t.len());
    if size > PLAN_LIMIT_BYTES {
        return Err(LifecycleError::TooLarge {
            limit: PLAN_LIMIT_BYTES,
        });
    }
    Ok(())
}

/// RFC 7396 JSON Merge Patch.
fn json_merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            json_merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// The plan with the applicant's identity as GビズID vouches for it: 名称, 法人番号 and 代表者
/// from the account. A 法人番号 other than the account's means filing for another company: it is
/// left as written and reported (with whatever else validation finds).
pub fn bind_identity(
    plan: &PlanDocument,
    identity: &VerifiedIdentity,
) -> (PlanDocument, Vec<Finding>) {
    let mut bound = plan.clone();
    let mut problems = Vec::new();
    if let Some(number) = &identity.corporate_number {
        match plan.text_at("/applicant/corporate_number") {
            Some(written) if &written != number => problems.push(finding(
                "/plan/applicant/corporate_number",
                "not_your_company",
                format!(
                    "法人番号がGビズIDアカウントの法人番号（{number}）と異なります。申請できるのは、ログインしているGビズIDアカウントの法人の計画だけです。"
                ),
            )),
            _ => bound.set("/applicant/corporate_number", Value::String(number.clone())),
        }
    }
    if identity.corporation || !identity.name.is_empty() {
        bound.set("/applicant/name", Value::String(identity.name.clone()));
    }
    if let Some(representative) = &identity.representative_name {
        bound.set(
            "/applicant/representative_name",
            Value::String(representative.clone()),
        );
    }
    (bound, problems)
}

/// The competent authorities of a (validated) plan; plans the platform cannot route are refused
/// with the explanation of why.
pub fn route_plan(plan: &Plan) -> Result<Routing, LifecycleError> {
    let codes: Vec<String> = rows(&plan.business_fields)
        .filter_map(|(_, f)| get(&f.detail_code).cloned())
        .collect();
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    let prefecture = get(&plan.applicant)
        .and_then(|a| get(&a.head_office))
        .and_then(|h| get(&h.prefecture_code))
        .cloned()
        .unwrap_or_default();
    let guidelines = plan.guideline_ids();
    let request = RoutingRequest {
        fields: &codes,
        guidelines: &guidelines,
        prefecture: &prefecture,
    };
    match route(&request) {
        Ok(Outcome::Authorities(routing)) => Ok(routing),
        Ok(Outcome::CallCentre { reasons, .. }) => Err(LifecycleError::Conflict(format!(
            "提出先を自動で判定できない事業分野があります（{}）。{}にお問い合わせください。",
            reasons.join("、"),
            crate::routing::CALL_CENTRE
        ))),
        Err(e) => Err(LifecycleError::Conflict(format!(
            "提出先を判定できません（{e}）。"
        ))),
    }
}

/// Where a certificate (認定書) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// 有効.
    Valid,
    /// A certified change application replaced it.
    Superseded,
    /// The certification was withdrawn (取消し).
    Withdrawn,
}

impl CertificateStatus {
    /// 日本語の表示名.
    pub fn label(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "有効",
            CertificateStatus::Superseded => "変更後の計画の認定により置き換えられています",
            CertificateStatus::Withdrawn => "取り消されています",
        }
    }
}

/// A mail the applicant gets about its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailEvent {
    /// 申請を受け付けました.
    Received,
    /// 差戻し.
    Returned,
    /// 認定.
    Certified,
    /// 不認定.
    Rejected,
    /// 取下げ.
    Withdrawn,
}

/// A mail the reviewers of the competent authorities get (addresses from the staff directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffMailEvent {
    /// 新しい申請が届きました.
    NewCase,
    /// 差し戻した申請が再提出されました.
    Resubmitted,
    /// 申請が取り下げられました.
    Withdrawn,
}

/// Something a change of an application calls for besides the change itself, done exactly once
/// per change by the effects function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Keep the application as submitted, as a PDF.
    ApplicationRecord,
    /// Issue the 認定書.
    Certificate,
    Mail(MailEvent),
    StaffMail(StaffMailEvent),
}

const EFFECT_NAMES: [(Effect, &str); 10] = [
    (Effect::ApplicationRecord, "application-record"),
    (Effect::Certificate, "certificate"),
    (Effect::Mail(MailEvent::Received), "mail:received"),
    (Effect::Mail(MailEvent::Returned), "mail:returned"),
    (Effect::Mail(MailEvent::Certified), "mail:certified"),
    (Effect::Mail(MailEvent::Rejected), "mail:rejected"),
    (Effect::Mail(MailEvent::Withdrawn), "mail:withdrawn"),
    (
        Effect::StaffMail(StaffMailEvent::NewCase),
        "staff-mail:new-case",
    ),
    (
        Effect::StaffMail(StaffMailEvent::Resubmitted),
        "staff-mail:resubmitted",
    ),
    (
        Effect::StaffMail(StaffMailEvent::Withdrawn),
        "staff-mail:withdrawn",
    ),
];

impl Effect {
    /// The stored name (`mail:received`).
    pub fn as_str(self) -> &'static str {
        EFFECT_NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map_or("unknown", |(_, name)| name)
    }

    pub fn parse(name: &str) -> Option<Effect> {
        EFFECT_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(e, _)| *e)
    }
}

impl Serialize for Effect {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Effect {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Effect, D::Error> {
        let name = String::deserialize(deserializer)?;
        Effect::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("effect {name}")))
    }
}

/// The effects a change of an application calls for, in the order they must happen.
pub fn effects_of(old: Option<&Application>, new: &Application) -> Vec<Effect> {
    if old.map(|o| o.status) == Some(new.status) {
        return Vec::new();
    }
    // A certification carried over from the legacy system had its 認定書 and mail there.
    if old.is_none() && new.migration.is_some() {
        return Vec::new();
    }
    // One recorded from paper was issued and notified on paper by its authority.
    if old.map(|o| o.status) == Some(Status::FinalisedForPaper) {
        return Vec::new();
    }
    match new.status {
        Status::Submitted => {
            let staff = if old.map(|o| o.status) == Some(Status::Returned) {
                StaffMailEvent::Resubmitted
            } else {
                StaffMailEvent::NewCase
            };
            vec![
                Effect::ApplicationRecord,
                Effect::Mail(MailEvent::Received),
                Effect::StaffMail(staff),
            ]
        }
        Status::Returned => vec![Effect::Mail(MailEvent::Returned)],
        Status::Certified => vec![Effect::Certificate, Effect::Mail(MailEvent::Certified)],
        Status::Rejected => vec![Effect::Mail(MailEvent::Rejected)],
        // Only an application that reached an authority is withdrawn from it.
        Status::Withdrawn if new.submission.is_some() => vec![
            Effect::Mail(MailEvent::Withdrawn),
            Effect::StaffMail(StaffMailEvent::Withdrawn),
        ],
        Status::Draft | Status::Withdrawn | Status::FinalisedForPaper => Vec::new(),
    }
}
