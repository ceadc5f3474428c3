//! Validation of a plan: every problem at once, each with the JSON Pointer of its field, a
//! stable code and a message in Japanese an applicant understands.
//!
//! Two levels: [`Level::Draft`] checks types and formats only (a draft may be incomplete);
//! [`Level::Submission`] also checks that the plan is complete and lawful. Validation never
//! panics, whatever the input.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use time::Date;

use crate::guidelines::{self, BASIC_POLICY};
use crate::indicators::{self, Change, ChangeError, LabourProductivityInputs};
use crate::plan::{
    Applicant, AssetClass, EntityType, EquipmentRow, Field, FormVersion, IndicatorTarget, Integer,
    Kind, Measures, Number, Period, Plan, ProductivityInputs, SupportType, Typed, YearMonth, get,
    rows,
};
use crate::rules::StartMonthRule;
use crate::tables::{Direction, Guideline, tables};

/// How complete the plan must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Saving a draft: types and formats only.
    Draft,
    /// Submitting: complete and lawful.
    Submission,
}

/// What validation needs besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub level: Level,
    /// The filing (receipt) date: the 60-day equipment rule, the start-month rule and the
    /// abolition of type C are judged against it.
    pub filed_on: Date,
}

/// One problem with one field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Finding {
    /// JSON Pointer (`/equipment/0/document_number`).
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

/// An indicator's change as computed for the applicant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct IndicatorResult {
    pub path: String,
    pub indicator: String,
    #[serde(flatten)]
    pub change: Change,
}

/// Everything validation found. `errors` block submission; `warnings` are for the reviewer.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Report {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub indicators: Vec<IndicatorResult>,
    /// The tables the plan was checked against (their versions, and the published object).
    pub tables: crate::tables::TableVersions,
}

impl Report {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

const SHORT_TEXT: usize = 200;
const LONG_TEXT: usize = 4000;

struct Checker<'a> {
    ctx: &'a Context,
    report: Report,
}

impl Checker<'_> {
    fn submission(&self) -> bool {
        self.ctx.level == Level::Submission
    }

    fn error(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.report.errors.push(Finding {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    fn warning(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.report.warnings.push(Finding {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    /// Reports a wrong type; returns the value when well-typed, `None` when absent or wrong.
    fn typed<'f, T>(
        &mut self,
        field: &'f Field<T>,
        path: &str,
        label: &str,
        expected: &str,
    ) -> Option<&'f T> {
        match field {
            None => None,
            Some(Typed::Ok(v)) => Some(v),
            Some(Typed::Invalid { reason, .. }) => {
                let message = match unknown_field(reason) {
                    Some(name) => format!(
                        "{label}に「{name}」という項目はありません。項目名を確認してください。"
                    ),
                    None => format!("{label}の形式が正しくありません。{expected}"),
                };
                self.error(path, "type", message);
                None
            }
        }
    }

    /// Like [`Checker::typed`], and at submission reports a missing value.
    fn required<'f, T>(
        &mut self,
        field: &'f Field<T>,
        path: &str,
        label: &str,
        expected: &str,
    ) -> Option<&'f T> {
        if field.is_none() && self.submission() {
            self.error(path, "required", format!("{label}を入力してください。"));
        }
        self.typed(field, path, label, expected)
    }

    /// [`Checker::required`] or [`Checker::typed`], as the field is required or not.
    fn optional_or_required<'f, T>(
        &mut self,
        field: &'f Field<T>,
        path: &str,
        label: &str,
        expected: &str,
        required: bool,
    ) -> Option<&'f T> {
        if required {
            self.required(field, path, label, expected)
        } else {
            self.typed(field, path, label, expected)
        }
    }

    fn text<'f>(
        &mut self,
        field: &'f Field<String>,
        path: &str,
        label: &str,
        max: usize,
        required: bool,
    ) -> Option<&'f str> {
        let value =
            self.optional_or_required(field, path, label, "文字で入力してください。", required);
        let value = value.map(String::as_str)?;
        if value.is_empty() {
            if required && self.submission() {
                self.error(path, "required", format!("{label}を入力してください。"));
            }
            return None;
        }
        if value.chars().count() > max {
            self.error(
                path,
                "too_long",
                format!("{label}は{max}文字以内で入力してください。"),
            );
        }
        if value.chars().any(crate::normalize::is_forbidden) {
            self.error(
                path,
                "control_character",
                format!("{label}に使用できない制御文字（文字の向きを変える文字やゼロ幅の文字など、見えない文字を含む）が含まれています。"),
            );
        }
        Some(value)
    }

    fn amount(
        &mut self,
        field: &Field<Integer>,
        path: &str,
        label: &str,
        required: bool,
    ) -> Option<i64> {
        let expected = "0以上の整数（半角・全角数字、カンマ区切り可）で入力してください。";
        let value = self.optional_or_required(field, path, label, expected, required);
        let Integer(n) = *value?;
        if n < 0 {
            self.error(
                path,
                "negative",
                format!("{label}は0以上の整数で入力してください。"),
            );
            return None;
        }
        Some(n)
    }

    fn number(
        &mut self,
        field: &Field<Number>,
        path: &str,
        label: &str,
        required: bool,
    ) -> Option<Decimal> {
        let expected = "数値で入力してください。";
        let value = self.optional_or_required(field, path, label, expected, required);
        value.map(|Number(d)| *d)
    }
}

/// Extracts the field name from serde's "unknown field `x`" message.
fn unknown_field(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Validates a plan sent as JSON: unknown top-level keys and a non-object are reported too.
pub fn validate_json(value: &Value, ctx: &Context) -> (Option<Plan>, Report) {
    let Ok(plan) = Plan::from_json(value.clone()) else {
        let report = Report {
            errors: vec![Finding {
                path: String::new(),
                code: "type",
                message: "計画はJSONオブジェクトで送信してください。".into(),
            }],
            ..Report::default()
        };
        return (None, report);
    };
    let mut report = validate(&plan, ctx);
    if let Some(map) = value.as_object() {
        let mut unknown = unknown_keys(map);
        unknown.append(&mut report.errors);
        report.errors = unknown;
    }
    (Some(plan), report)
}

/// The top-level keys of a plan document that are not fields of the plan.
pub fn unknown_keys(map: &serde_json::Map<String, Value>) -> Vec<Finding> {
    map.keys()
        .filter(|k| !crate::plan::PLAN_KEYS.contains(&k.as_str()))
        .map(|key| Finding {
            path: format!("/{}", escape(key)),
            code: "unknown_field",
            message: format!("「{key}」という項目はありません。項目名を確認してください。"),
        })
        .collect()
}

/// JSON Pointer escaping of one key.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Validates a plan.
pub fn validate(plan: &Plan, ctx: &Context) -> Report {
    let mut c = Checker {
        ctx,
        report: Report {
            tables: tables().versions(),
            ..Report::default()
        },
    };
    let form_version = c
        .typed(
            &plan.form_version,
            "/form_version",
            "様式の版",
            "\"2024-04\" または \"2021-08\" を指定してください。",
        )
        .copied();
    let kind = c.typed(
        &plan.kind,
        "/kind",
        "申請の種類",
        "{\"type\":\"new\"} または {\"type\":\"change\", …} を指定してください。",
    );
    if form_version == Some(FormVersion::Previous)
        && !matches!(kind, Some(Kind::Change { .. }))
        && c.submission()
    {
        c.error("/form_version", "form_version", "新規申請は現行の様式（2024年4月版）で作成してください。旧様式は変更申請にのみ使えます。");
    }

    let entity = check_applicant(&mut c, plan);
    let field_codes = check_business_fields(&mut c, plan);
    let guideline_id = c
        .typed(
            &plan.guideline_id,
            "/guideline_id",
            "事業分野別指針",
            "指針のIDを指定してください。",
        )
        .cloned();
    let guideline = match guideline_id.as_deref().filter(|g| !g.is_empty()) {
        Some(id) => match guidelines::find(Some(id)) {
            Some(g) => Some(g),
            None => {
                c.error(
                    "/guideline_id",
                    "unknown_guideline",
                    "選択された事業分野別指針が見つかりません。一覧から選び直してください。",
                );
                None
            }
        },
        None => guidelines::find(None),
    };
    let plan_guidelines = check_additional_guidelines(&mut c, plan, guideline);
    let period = check_period(&mut c, plan, matches!(kind, Some(Kind::Change { .. })));
    if let Some(Kind::Change { certification }) = kind {
        check_change(&mut c, certification, period);
    }
    check_current_state(&mut c, plan);
    check_indicators(&mut c, plan, &plan_guidelines, period);
    let item_numbers = check_measures(&mut c, plan, &plan_guidelines);
    check_funds(&mut c, plan, &item_numbers);
    check_equipment(&mut c, plan, entity, &item_numbers);
    for (i, row) in rows(&plan.licence_successions) {
        let base = format!("/licence_successions/{i}");
        c.text(
            &row.licence,
            &format!("{base}/licence"),
            "許認可等の名称",
            SHORT_TEXT,
            true,
        );
        c.text(
            &row.legal_basis,
            &format!("{base}/legal_basis"),
            "根拠法令",
            SHORT_TEXT,
            false,
        );
        c.text(
            &row.predecessor,
            &format!("{base}/predecessor"),
            "被承継等特定事業者等の名称",
            SHORT_TEXT,
            false,
        );
    }
    report_invalid_rows(
        &mut c,
        &plan.licence_successions,
        "/licence_successions",
        "特定許認可等",
    );
    if let Some(dd) = c.typed(
        &plan.due_diligence,
        "/due_diligence",
        "事業承継等事前調査",
        "項目を確認してください。",
    ) {
        c.text(
            &dd.performed_by,
            "/due_diligence/performed_by",
            "事前調査の実施者",
            SHORT_TEXT,
            false,
        );
        c.text(
            &dd.scope,
            "/due_diligence/scope",
            "事前調査の内容",
            LONG_TEXT,
            false,
        );
    }
    check_contact(&mut c, plan);
    if let Some(org) = c.typed(
        &plan.support_organisation,
        "/support_organisation",
        "認定経営革新等支援機関",
        "項目を確認してください。",
    ) {
        c.text(
            &org.name,
            "/support_organisation/name",
            "支援機関の名称",
            SHORT_TEXT,
            false,
        );
        c.text(
            &org.accreditation_id,
            "/support_organisation/accreditation_id",
            "支援機関の認定番号",
            SHORT_TEXT,
            false,
        );
    }
    c.required(
        &plan.publication_consent,
        "/publication_consent",
        "認定事業者名の公表可否",
        "「可」(true)または「否」(false)を選んでください。",
    );
    c.required(
        &plan.data_use_consent,
        "/data_use_consent",
        "データ利活用への同意",
        "「同意する」(true)または「同意しない」(false)を選んでください。",
    );
    if c.submission()
        && let Some(codes) = field_codes
        && !codes.is_empty()
        && let Some(Typed::Ok(applicant)) = &plan.applicant
        && let Some(prefecture) = get(&applicant.head_office).and_then(|h| get(&h.prefecture_code))
    {
        let fields: Vec<&str> = codes.iter().map(String::as_str).collect();
        let guidelines = plan.guideline_ids();
        let request = crate::routing::RoutingRequest {
            fields: &fields,
            guidelines: &guidelines,
            prefecture,
        };
        if let Ok(crate::routing::Outcome::CallCentre { reasons, .. }) =
            crate::routing::route(&request)
        {
            c.warning("/business_fields", "call_centre", format!("提出先を自動で判定できない事業分野があります（{}）。{}にお問い合わせください。", reasons.join("、"), crate::routing::CALL_CENTRE));
        }
    }
    c.report
}

fn report_invalid_rows<T>(
    c: &mut Checker<'_>,
    list: &crate::plan::Rows<T>,
    path: &str,
    label: &str,
) {
    match list {
        Some(Typed::Invalid { .. }) => c.error(
            path,
            "type",
            format!("{label}は行の一覧（配列）で入力してください。"),
        ),
        Some(Typed::Ok(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Typed::Invalid { reason, .. } = item {
                    let message = match unknown_field(reason) {
                        Some(name) => {
                            format!("{label}の{}行目に「{name}」という項目はありません。", i + 1)
                        }
                        None => format!("{label}の{}行目の形式が正しくありません。", i + 1),
                    };
                    c.error(format!("{path}/{i}"), "type", message);
                }
            }
        }
        None => {}
    }
}

fn check_applicant(c: &mut Checker<'_>, plan: &Plan) -> Option<EntityType> {
    let a: &Applicant = c.required(
        &plan.applicant,
        "/applicant",
        "1. 名称等",
        "項目を確認してください。",
    )?;
    let entity = c
        .required(
            &a.entity_type,
            "/applicant/entity_type",
            "法人・個人事業主の別",
            "\"corporation\" または \"sole_proprietor\" を選んでください。",
        )
        .copied();
    c.text(
        &a.name,
        "/applicant/name",
        "事業者の氏名又は名称",
        SHORT_TEXT,
        true,
    );
    c.text(
        &a.name_kana,
        "/applicant/name_kana",
        "フリガナ",
        SHORT_TEXT,
        false,
    );
    c.text(
        &a.representative_title,
        "/applicant/representative_title",
        "代表者の役職名",
        SHORT_TEXT,
        entity == Some(EntityType::Corporation),
    );
    c.text(
        &a.representative_name,
        "/applicant/representative_name",
        "代表者の氏名",
        SHORT_TEXT,
        true,
    );
    c.amount(
        &a.capital_yen,
        "/applicant/capital_yen",
        "資本金又は出資の額",
        entity == Some(EntityType::Corporation),
    );
    if let Some(employees) = c.amount(
        &a.employees,
        "/applicant/employees",
        "常時使用する従業員の数",
        true,
    ) && employees > 2000
    {
        c.error("/applicant/employees", "too_many_employees", "常時使用する従業員の数が2,000人を超える事業者は経営力向上計画の対象外です（中小企業等経営強化法第2条第6項）。");
    }
    let number = c
        .typed(
            &a.corporate_number,
            "/applicant/corporate_number",
            "法人番号",
            "13桁の数字で入力してください。",
        )
        .map(String::as_str);
    match (entity, number.filter(|n| !n.is_empty())) {
        (Some(EntityType::SoleProprietor), Some(_)) => c.error(
            "/applicant/corporate_number",
            "not_applicable",
            "個人事業主の場合、法人番号は入力しないでください。",
        ),
        (_, Some(number)) => {
            let digits: String = number
                .chars()
                .filter(|ch| *ch != '-' && !ch.is_whitespace())
                .collect();
            match crate::corporate_number::validate(&digits) {
                Ok(()) => {}
                Err(crate::corporate_number::CorporateNumberError::CheckDigit) => c.error(
                    "/applicant/corporate_number",
                    "check_digit",
                    "法人番号が正しくありません（チェックデジットが一致しません）。国税庁法人番号公表サイトで確認してください。",
                ),
                Err(_) => c.error("/applicant/corporate_number", "format", "法人番号は13桁の数字で入力してください。"),
            }
        }
        (Some(EntityType::Corporation), None) if c.submission() => c.error(
            "/applicant/corporate_number",
            "required",
            "法人番号（13桁）を入力してください。",
        ),
        _ => {}
    }
    if a.head_office.is_none() && c.submission() {
        c.error(
            "/applicant/head_office",
            "required",
            "本店所在地を入力してください。",
        );
    }
    if let Some(office) = c.typed(
        &a.head_office,
        "/applicant/head_office",
        "本店所在地",
        "項目を確認してください。",
    ) {
        if let Some(postal) = c.text(
            &office.postal_code,
            "/applicant/head_office/postal_code",
            "郵便番号",
            10,
            false,
        ) {
            let digits: String = postal.chars().filter(|ch| *ch != '-').collect();
            if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                c.error(
                    "/applicant/head_office/postal_code",
                    "format",
                    "郵便番号は7桁の数字で入力してください（例: 100-8901）。",
                );
            }
        }
        if let Some(code) = c.text(
            &office.prefecture_code,
            "/applicant/head_office/prefecture_code",
            "本店所在地の都道府県",
            2,
            true,
        ) && tables().prefecture(code).is_none()
        {
            c.error(
                "/applicant/head_office/prefecture_code",
                "unknown_prefecture",
                "都道府県を一覧から選んでください。",
            );
        }
        c.text(
            &office.address,
            "/applicant/head_office/address",
            "本店所在地（市区町村以下）",
            SHORT_TEXT,
            true,
        );
    }
    entity
}

/// Checks the business fields and returns their 細分類 codes.
fn check_business_fields(c: &mut Checker<'_>, plan: &Plan) -> Option<Vec<String>> {
    report_invalid_rows(c, &plan.business_fields, "/business_fields", "事業分野");
    let jsic = &tables().jsic;
    let mut codes = Vec::new();
    for (i, field) in rows(&plan.business_fields) {
        let base = format!("/business_fields/{i}");
        let middle = c.text(
            &field.middle_code,
            &format!("{base}/middle_code"),
            "事業分野の中分類",
            2,
            true,
        );
        let detail = c.text(
            &field.detail_code,
            &format!("{base}/detail_code"),
            "事業分野の細分類",
            4,
            true,
        );
        if let Some(m) = middle
            && (m.len() != 2 || jsic.name(m).is_none())
        {
            c.error(
                format!("{base}/middle_code"),
                "unknown_industry",
                "日本標準産業分類の中分類（2桁）を一覧から選んでください。",
            );
        }
        if let Some(d) = detail {
            if d.len() != 4 || jsic.name(d).is_none() {
                c.error(
                    format!("{base}/detail_code"),
                    "unknown_industry",
                    "日本標準産業分類の細分類（4桁）を一覧から選んでください。",
                );
            } else if middle.is_some_and(|m| !jsic.is_detail_of(d, m)) {
                c.error(
                    format!("{base}/detail_code"),
                    "industry_mismatch",
                    "細分類が選択した中分類に属していません。",
                );
            } else {
                codes.push(d.to_string());
            }
        }
    }
    if codes.is_empty() && c.submission() && rows(&plan.business_fields).next().is_none() {
        c.error(
            "/business_fields",
            "required",
            "事業分野を1つ以上入力してください。",
        );
    }
    Some(codes)
}

/// Checks 実施時期. A change keeps the certified start month, so the start-month rule applies to
/// new plans only.
fn check_period(c: &mut Checker<'_>, plan: &Plan, is_change: bool) -> Option<Period> {
    let period = *c.required(
        &plan.period,
        "/period",
        "実施時期",
        "開始年月（YYYY-MM）と期間（月数）を入力してください。",
    )?;
    let rules = &tables().rules;
    if !rules.plan_lengths_months.value.contains(&period.months) {
        c.error(
            "/period/months",
            "period_length",
            "計画期間は3年（36か月）、4年（48か月）又は5年（60か月）から選んでください。",
        );
    }
    if c.submission() && !is_change {
        let filed = YearMonth::of(c.ctx.filed_on);
        let earliest = match rules.start_month_rule.value {
            StartMonthRule::NotBeforeNextMonth => Some(filed.plus_months(1)),
            StartMonthRule::NotBeforeFilingMonth => Some(filed),
            StartMonthRule::Any => None,
        };
        if let Some(earliest) = earliest
            && period.start < earliest
        {
            c.error(
                "/period/start",
                "start_month",
                format!(
                    "計画の開始月は{}年{}月以降にしてください（申請月の翌月以降）。",
                    earliest.year, earliest.month
                ),
            );
        }
    }
    Some(period)
}

fn check_change(
    c: &mut Checker<'_>,
    certification: &Typed<crate::plan::CertificationRef>,
    period: Option<Period>,
) {
    let Typed::Ok(cert) = certification else {
        c.error(
            "/kind/certification",
            "type",
            "変更する認定の情報（認定番号・認定日・実施時期）を確認してください。",
        );
        return;
    };
    c.text(
        &cert.number,
        "/kind/certification/number",
        "変更する計画の認定番号",
        SHORT_TEXT,
        true,
    );
    c.required(
        &cert.certified_on,
        "/kind/certification/certified_on",
        "変更する計画の認定日",
        "YYYY-MM-DD で入力してください。",
    );
    c.text(
        &cert.office_id,
        "/kind/certification/office_id",
        "認定した行政庁",
        SHORT_TEXT,
        true,
    );
    let Some(certified) = c
        .required(
            &cert.period,
            "/kind/certification/period",
            "認定された実施時期",
            "開始年月と期間を入力してください。",
        )
        .copied()
    else {
        return;
    };
    if !c.submission() {
        return;
    }
    if certified.end() < YearMonth::of(c.ctx.filed_on) {
        c.error(
            "/kind",
            "certification_ended",
            "認定された計画期間が終了しているため変更申請はできません。新規に申請してください。",
        );
    }
    if let Some(period) = period {
        if period.start != certified.start {
            c.error("/period/start", "change_start", "変更申請では計画の開始月を変えられません（認定された開始月のままにしてください）。");
        }
        let max = tables().rules.max_total_months.value;
        if period.months > max {
            c.error(
                "/period/months",
                "change_too_long",
                format!("計画期間は通算で{}年を超えて延長できません。", max / 12),
            );
        } else if period.months < certified.months {
            c.warning(
                "/period/months",
                "change_shorter",
                "認定時より計画期間が短くなっています。",
            );
        }
    }
}

fn check_current_state(c: &mut Checker<'_>, plan: &Plan) {
    let Some(state) = c.required(
        &plan.current_state,
        "/current_state",
        "4. 現状認識",
        "項目を確認してください。",
    ) else {
        return;
    };
    c.text(
        &state.business_overview,
        "/current_state/business_overview",
        "自社の事業概要",
        LONG_TEXT,
        true,
    );
    c.text(
        &state.market,
        "/current_state/market",
        "顧客・市場の動向、競合の動向",
        LONG_TEXT,
        true,
    );
    c.text(
        &state.management_status,
        "/current_state/management_status",
        "自社の経営状況",
        LONG_TEXT,
        true,
    );
    c.text(
        &state.challenges,
        "/current_state/challenges",
        "経営課題",
        LONG_TEXT,
        true,
    );
}

fn productivity(
    c: &mut Checker<'_>,
    inputs: &Field<ProductivityInputs>,
    path: &str,
) -> Option<Decimal> {
    let i = c.typed(inputs, path, "労働生産性の内訳", "項目を確認してください。")?;
    let operating_profit = c.number(
        &i.operating_profit,
        &format!("{path}/operating_profit"),
        "営業利益",
        true,
    );
    let personnel_cost = c.number(
        &i.personnel_cost,
        &format!("{path}/personnel_cost"),
        "人件費",
        true,
    );
    let depreciation = c.number(
        &i.depreciation,
        &format!("{path}/depreciation"),
        "減価償却費",
        true,
    );
    let labour_input = c.number(
        &i.labour_input,
        &format!("{path}/labour_input"),
        "労働投入量",
        true,
    );
    let inputs = LabourProductivityInputs {
        operating_profit: operating_profit?,
        personnel_cost: personnel_cost?,
        depreciation: depreciation?,
        labour_input: labour_input?,
    };
    let value = indicators::labour_productivity(&inputs);
    if value.is_none() {
        c.error(
            format!("{path}/labour_input"),
            "not_positive",
            "労働投入量は0より大きい値を入力してください。",
        );
    }
    value
}

/// Checks the further guidelines of a plan across several fields and returns every guideline
/// of the plan, the main one first (none when the main one is unknown).
fn check_additional_guidelines(
    c: &mut Checker<'_>,
    plan: &Plan,
    main: Option<&'static Guideline>,
) -> Vec<&'static Guideline> {
    let mut all: Vec<&'static Guideline> = main.into_iter().collect();
    report_invalid_rows(
        c,
        &plan.additional_guidelines,
        "/additional_guidelines",
        "追加の事業分野別指針",
    );
    for (i, row) in rows(&plan.additional_guidelines) {
        let path = format!("/additional_guidelines/{i}/guideline_id");
        let Some(id) = c
            .text(
                &row.guideline_id,
                &path,
                "追加の事業分野別指針",
                SHORT_TEXT,
                true,
            )
            .map(str::to_string)
        else {
            continue;
        };
        match guidelines::find(Some(&id)) {
            None => c.error(
                path,
                "unknown_guideline",
                "選択された事業分野別指針が見つかりません。一覧から選び直してください。",
            ),
            Some(g) if g.id == BASIC_POLICY => c.error(
                path,
                "basic_policy_added",
                "基本方針は追加の指針にできません。事業分野別指針を選んでください。",
            ),
            Some(_) if main.is_none_or(|m| m.id == BASIC_POLICY) => c.error(
                path,
                "main_guideline_missing",
                "複数の指針による計画では、主たる事業分野別指針を先に選んでください（基本方針の計画に指針は追加できません）。",
            ),
            Some(g) if all.iter().any(|a| a.id == g.id) => c.error(
                path,
                "duplicate",
                format!("{}は既に選ばれています。", g.label),
            ),
            Some(g) => all.push(g),
        }
    }
    all
}

/// The guideline an indicator row answers: its own `guideline_id` among the plan's guidelines,
/// else the main one. `Err` when it names a guideline the plan does not cite.
fn row_guideline<'g>(
    c: &mut Checker<'_>,
    row: &IndicatorTarget,
    base: &str,
    plan_guidelines: &[&'g Guideline],
) -> Result<Option<&'g Guideline>, ()> {
    let path = format!("{base}/guideline_id");
    match c.text(&row.guideline_id, &path, "指標の指針", SHORT_TEXT, false) {
        None => Ok(plan_guidelines.first().copied()),
        Some(id) => match plan_guidelines.iter().find(|g| g.id == id) {
            Some(g) => Ok(Some(*g)),
            None => {
                c.error(
                    path,
                    "guideline_not_in_plan",
                    "この指標の指針は計画の事業分野別指針にありません。「事業分野別指針」で選んだ指針から選んでください。",
                );
                Err(())
            }
        },
    }
}

fn check_indicators(
    c: &mut Checker<'_>,
    plan: &Plan,
    plan_guidelines: &[&'static Guideline],
    period: Option<Period>,
) {
    // Which guidelines have at least one indicator (a plan under several sets one per guideline).
    let mut answered: Vec<&str> = Vec::new();
    report_invalid_rows(c, &plan.indicators, "/indicators", "経営指標");
    if rows(&plan.indicators).next().is_none() && c.submission() {
        c.error(
            "/indicators",
            "required",
            "5. 経営力向上の程度を示す指標を1つ以上入力してください。",
        );
    }
    for (i, row) in rows(&plan.indicators) {
        let base = format!("/indicators/{i}");
        let id = c
            .text(
                &row.indicator_id,
                &format!("{base}/indicator_id"),
                "指標の種類",
                SHORT_TEXT,
                true,
            )
            .map(str::to_string);
        let baseline = c.number(
            &row.baseline,
            &format!("{base}/baseline"),
            "現状（数値A）",
            true,
        );
        let target = c.number(
            &row.target,
            &format!("{base}/target"),
            "計画終了時の目標（数値B）",
            true,
        );
        let computed_a = productivity(c, &row.baseline_inputs, &format!("{base}/baseline_inputs"));
        let computed_b = productivity(c, &row.target_inputs, &format!("{base}/target_inputs"));
        for (computed, given, field) in [
            (computed_a, baseline, "baseline"),
            (computed_b, target, "target"),
        ] {
            if let (Some(computed), Some(given)) = (computed, given)
                && computed.round_dp(given.scale()) != given
            {
                c.error(
                    format!("{base}/{field}"),
                    "productivity_mismatch",
                    format!("労働生産性の計算結果（{}）と入力値が一致しません。(営業利益＋人件費＋減価償却費)÷労働投入量 で計算してください。", computed.round_dp(2)),
                );
            }
        }
        let Ok(guideline) = row_guideline(c, row, &base, plan_guidelines) else {
            continue;
        };
        if let Some(g) = guideline {
            answered.push(g.id.as_str());
        }
        let (Some(id), Some(guideline)) = (id, guideline) else {
            continue;
        };
        let spec = guideline.indicator(&id);
        if id == "custom" {
            if guideline.custom_indicator_allowed {
                c.text(
                    &row.custom_name,
                    &format!("{base}/custom_name"),
                    "独自に設定する指標の名称",
                    SHORT_TEXT,
                    true,
                );
            } else if guideline.indicators_known {
                c.error(
                    format!("{base}/indicator_id"),
                    "indicator_not_allowed",
                    format!(
                        "{}では独自の指標は使えません。指針が定める指標から選んでください。",
                        guideline.label
                    ),
                );
            } else {
                c.text(
                    &row.custom_name,
                    &format!("{base}/custom_name"),
                    "指標の名称",
                    SHORT_TEXT,
                    true,
                );
                c.warning(
                    format!("{base}/indicator_id"),
                    "indicator_unverified",
                    format!(
                        "{}が認める指標はデータに登録されていません。審査担当者が確認します。",
                        guideline.label
                    ),
                );
            }
        } else if spec.is_none() {
            if guideline.indicators_known {
                let allowed: Vec<&str> = guideline
                    .indicators
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                c.error(
                    format!("{base}/indicator_id"),
                    "indicator_not_allowed",
                    format!(
                        "{}で使える指標は{}です。",
                        guideline.label,
                        allowed.join("、")
                    ),
                );
            } else {
                c.warning(format!("{base}/indicator_id"), "indicator_unverified", format!("この指標が{}で認められるかはデータに登録されていません。審査担当者が確認します。", guideline.label));
            }
        }
        // A custom indicator says which way it improves (a 離職率 of the applicant's own falls):
        // the rate is judged that way, never assumed to rise.
        let custom_direction = match id.as_str() {
            "custom" if guideline.custom_indicator_allowed || !guideline.indicators_known => c
                .required(
                    &row.direction,
                    &format!("{base}/direction"),
                    "指標の改善の向き",
                    "\"higher\"（値が大きいほど改善）または \"lower\"（値が小さいほど改善）を選んでください。",
                )
                .copied(),
            _ => None,
        };
        let (Some(a), Some(b)) = (baseline, target) else {
            continue;
        };
        let direction = spec
            .map(|s| s.direction)
            .or(custom_direction)
            .unwrap_or(Direction::Higher);
        let threshold = match (spec, period) {
            (Some(spec), Some(period)) => spec.threshold(period.months),
            _ => None,
        };
        match indicators::change(a, b, direction, threshold) {
            Ok(change) => {
                let label = change.label;
                match change.passes {
                    Some(false) => {
                        let needed = change.threshold_percent.unwrap_or_default();
                        let years = period.map(|p| p.months / 12).unwrap_or_default();
                        let message = match direction {
                            Direction::Higher => format!("{label}が{}%です。{years}年計画では{needed}%以上の伸びが必要です。", change.rate_percent),
                            Direction::Lower => format!("{label}が{}%です。{years}年計画では{needed}%以上の減少が必要です（値が増えると達成になりません）。", change.rate_percent),
                        };
                        if c.submission() {
                            c.error(format!("{base}/target"), "below_threshold", message);
                        } else {
                            c.warning(format!("{base}/target"), "below_threshold", message);
                        }
                    }
                    // Whatever the threshold, the indicator must move the right way: a rise of a
                    // lower-is-better indicator (離職率) never counts as an improvement.
                    None if !improves(a, b, direction) => c.error(
                        format!("{base}/target"),
                        "no_improvement",
                        match direction {
                            Direction::Higher => format!("目標（数値B）が現状（数値A）を上回っていません（{label} {}%）。", change.rate_percent),
                            Direction::Lower => format!("この指標は値が小さいほど改善です。目標（数値B）を現状（数値A）より小さくしてください（{label} {}%）。", change.rate_percent),
                        },
                    ),
                    None if c.submission() => c.warning(
                        format!("{base}/target"),
                        "threshold_unverified",
                        format!("この指標の基準値はデータに登録されていません（{label} {}%）。審査担当者が確認します。", change.rate_percent),
                    ),
                    _ => {}
                }
                c.report.indicators.push(IndicatorResult { path: base.clone(), indicator: id.clone(), change });
            }
            Err(ChangeError::BaselineNotPositive) => {
                c.error(format!("{base}/baseline"), "not_positive", "現状（数値A）が0以下のため伸び率を計算できません。0より大きい値を入力してください。")
            }
            Err(ChangeError::Overflow) => c.error(format!("{base}/target"), "too_large", "数値が大きすぎます。単位（千円など）を確認してください。"),
        }
    }
    // A plan under several guidelines is judged by each: every guideline needs its indicator.
    if plan_guidelines.len() > 1 && c.submission() {
        for g in plan_guidelines {
            if !answered.contains(&g.id.as_str()) {
                c.error(
                    "/indicators",
                    "guideline_without_indicator",
                    format!("{}の指標を1つ以上入力してください。複数の事業分野別指針による計画では、指針ごとに指標を設定します（各指標の「指標の指針」で選びます）。", g.label),
                );
            }
        }
    }
}

/// Whether `reference` cites an item of `guideline` (「イ 従業員等に関する事項」, or with the
/// guideline's label in front when the plan has several:「製造業：イ 従業員等に関する事項」).
fn cites_item(guideline: &Guideline, reference: &str) -> bool {
    // The plan's text is NFKC-normalised (「：」→「:」, 「ⅰ」→「i」, 「（」→「(」): compare alike.
    let normal = crate::normalize::text;
    let reference = normal(reference);
    let label = normal(&guideline.label);
    let reference = reference
        .strip_prefix(label.as_str())
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or(&reference);
    guideline
        .items
        .iter()
        .flatten()
        .any(|item| normal(&item.citation()) == reference)
}

/// Whether B is an improvement on A at all.
fn improves(a: Decimal, b: Decimal, direction: Direction) -> bool {
    match direction {
        Direction::Higher => b > a,
        Direction::Lower => b < a,
    }
}

/// Checks section 6 and returns the 実施事項 numbers.
fn check_measures(
    c: &mut Checker<'_>,
    plan: &Plan,
    plan_guidelines: &[&'static Guideline],
) -> Vec<i64> {
    let basic_only = plan_guidelines.iter().all(|g| g.id == BASIC_POLICY);
    let mut numbers = Vec::new();
    let Some(m): Option<&Measures> = c.required(
        &plan.measures,
        "/measures",
        "6. 経営力向上の内容",
        "項目を確認してください。",
    ) else {
        return numbers;
    };
    let expected = "「有」(true)または「無」(false)を選んでください。";
    let existing = c
        .required(
            &m.uses_existing_resources,
            "/measures/uses_existing_resources",
            "(1) 現に有する経営資源を利用するもの",
            expected,
        )
        .copied();
    let acquired = c
        .required(
            &m.uses_acquired_resources,
            "/measures/uses_acquired_resources",
            "(2) 他の事業者から取得した経営資源を利用するもの",
            expected,
        )
        .copied();
    if existing == Some(false) && acquired == Some(false) {
        c.error(
            "/measures/uses_existing_resources",
            "both_none",
            "(1)と(2)の両方を「無」にすることはできません。少なくとも一方は「有」です。",
        );
    }
    report_invalid_rows(c, &m.items, "/measures/items", "具体的な実施事項");
    let mut has_succession = false;
    for (i, item) in rows(&m.items) {
        let base = format!("/measures/items/{i}");
        if let Some(n) = c.amount(
            &item.number,
            &format!("{base}/number"),
            "実施事項の番号",
            true,
        ) {
            if numbers.contains(&n) {
                c.error(
                    format!("{base}/number"),
                    "duplicate",
                    "実施事項の番号が重複しています。",
                );
            }
            numbers.push(n);
        }
        let reference = c.text(
            &item.guideline_reference,
            &format!("{base}/guideline_reference"),
            "事業分野別指針の該当箇所",
            SHORT_TEXT,
            false,
        );
        if let Some(reference) = reference
            && !plan_guidelines.iter().any(|g| cites_item(g, reference))
        {
            if basic_only {
                c.warning(
                    format!("{base}/guideline_reference"),
                    "reference_under_basic_policy",
                    "基本方針による計画では「該当箇所」は空欄にするか、基本方針の項目（人材の育成など）から選びます。",
                );
            } else if plan_guidelines.iter().all(|g| g.items_known) {
                // Only a complete list refuses other text; a partial one only suggests.
                c.error(
                    format!("{base}/guideline_reference"),
                    "reference_not_in_guideline",
                    "「該当箇所」は事業分野別指針の項目から選んでください。",
                );
            }
        }
        c.text(
            &item.description,
            &format!("{base}/description"),
            "実施事項",
            LONG_TEXT,
            true,
        );
        if let Some(kind) = c.amount(
            &item.succession_type,
            &format!("{base}/succession_type"),
            "事業承継等の種類",
            false,
        ) {
            if !(1..=10).contains(&kind) {
                c.error(
                    format!("{base}/succession_type"),
                    "succession_type",
                    "事業承継等の種類は①〜⑩（1〜10）から選んでください。",
                );
            }
            has_succession = true;
        }
    }
    if c.submission() {
        if rows(&m.items).next().is_none() {
            c.error(
                "/measures/items",
                "required",
                "具体的な実施事項を1つ以上入力してください。",
            );
        }
        if acquired == Some(true) && !has_succession {
            c.error("/measures/items", "succession_type_required", "(2)が「有」の場合、事業承継等を行う実施事項に事業承継等の種類（①〜⑩）を選んでください。");
        }
    }
    numbers
}

fn check_measure_ref(c: &mut Checker<'_>, field: &Field<Integer>, path: &str, numbers: &[i64]) {
    if let Some(n) = c.amount(field, path, "対応する実施事項の番号", false)
        && c.submission()
        && !numbers.contains(&n)
    {
        c.error(
            path,
            "unknown_measure",
            format!("実施事項の番号{n}は6.の表にありません。"),
        );
    }
}

fn check_funds(c: &mut Checker<'_>, plan: &Plan, numbers: &[i64]) {
    report_invalid_rows(c, &plan.funds, "/funds", "必要な資金");
    for (i, row) in rows(&plan.funds) {
        let base = format!("/funds/{i}");
        check_measure_ref(
            c,
            &row.measure_number,
            &format!("{base}/measure_number"),
            numbers,
        );
        c.text(
            &row.purpose,
            &format!("{base}/purpose"),
            "資金の使途・用途",
            SHORT_TEXT,
            true,
        );
        c.text(
            &row.source,
            &format!("{base}/source"),
            "資金調達方法",
            SHORT_TEXT,
            true,
        );
        c.amount(
            &row.amount_thousand_yen,
            &format!("{base}/amount_thousand_yen"),
            "金額（千円）",
            true,
        );
    }
}

fn check_equipment(c: &mut Checker<'_>, plan: &Plan, entity: Option<EntityType>, numbers: &[i64]) {
    report_invalid_rows(c, &plan.equipment, "/equipment", "経営力向上設備等");
    let rules = &tables().rules;
    let window = rules.acquisition_window_days.value;
    for (i, row) in rows(&plan.equipment) {
        let base = format!("/equipment/{i}");
        check_equipment_row(
            c,
            row,
            &base,
            entity,
            numbers,
            window,
            rules.type_c_abolished_from(),
        );
    }
}

fn check_equipment_row(
    c: &mut Checker<'_>,
    row: &EquipmentRow,
    base: &str,
    entity: Option<EntityType>,
    numbers: &[i64],
    window_days: i64,
    type_c_abolished_from: Option<Date>,
) {
    check_measure_ref(
        c,
        &row.measure_number,
        &format!("{base}/measure_number"),
        numbers,
    );
    let support = c
        .required(
            &row.support_type,
            &format!("{base}/support_type"),
            "利用を想定している支援措置（類型）",
            "A・B・C・D・E から選んでください。",
        )
        .copied();
    let filed_on = c.ctx.filed_on;
    if support == Some(SupportType::C) && type_c_abolished_from.is_some_and(|from| filed_on >= from)
    {
        c.error(
            format!("{base}/support_type"),
            "type_c_abolished",
            "C類型（デジタル化設備）は2025年3月31日で廃止されました。2025年4月1日以降の申請では利用できません。",
        );
    }
    if support == Some(SupportType::E) && entity == Some(EntityType::SoleProprietor) {
        c.error(
            format!("{base}/support_type"),
            "type_e_sole_proprietor",
            "E類型（経営規模拡大設備等）は個人事業主は利用できません。",
        );
    }
    let class = c
        .required(
            &row.asset_class,
            &format!("{base}/asset_class"),
            "設備等の種類",
            "機械装置・工具・器具備品・建物附属設備・ソフトウェア・建物から選んでください。",
        )
        .copied();
    if class == Some(AssetClass::Building) && support.is_some_and(|s| s != SupportType::E) {
        c.error(
            format!("{base}/asset_class"),
            "building_not_e",
            "建物はE類型（経営規模拡大設備等）でのみ対象になります。",
        );
    }
    c.text(
        &row.name_model,
        &format!("{base}/name_model"),
        "設備の名称・型式",
        SHORT_TEXT,
        true,
    );
    c.text(
        &row.location,
        &format!("{base}/location"),
        "設置場所",
        SHORT_TEXT,
        true,
    );
    let unit = c.amount(
        &row.unit_price_yen,
        &format!("{base}/unit_price_yen"),
        "単価",
        true,
    );
    let quantity = c.amount(&row.quantity, &format!("{base}/quantity"), "数量", true);
    let amount = c.amount(&row.amount_yen, &format!("{base}/amount_yen"), "金額", true);
    if let (Some(u), Some(q), Some(a)) = (unit, quantity, amount)
        && u.checked_mul(q) != Some(a)
    {
        c.error(
            format!("{base}/amount_yen"),
            "amount_mismatch",
            "金額が単価×数量と一致しません。",
        );
    }
    let building_min = tables().rules.equipment_type_e_building_min_yen.value;
    if class == Some(AssetClass::Building)
        && support == Some(SupportType::E)
        && unit.is_some_and(|u| u < building_min)
    {
        c.error(
            format!("{base}/unit_price_yen"),
            "building_below_minimum",
            format!(
                "E類型の建物は1棟{}万円以上のものが対象です。",
                building_min / 10_000
            ),
        );
    }
    if c.text(
        &row.document_number,
        &format!("{base}/document_number"),
        "証明書等の文書番号（工業会証明書・確認書）",
        SHORT_TEXT,
        false,
    )
    .is_none()
        && c.submission()
    {
        c.error(
            format!("{base}/document_number"),
            "required",
            match support.and_then(|s| tables().rules.equipment_type(s)) {
                Some(t) => format!("{}の{}の文書番号を入力してください。", t.label(), t.document),
                None => "証明書（A類型）又は確認書（B・D・E類型）の文書番号を設備ごとに入力してください。".to_string(),
            },
        );
    }
    let month = c
        .required(
            &row.acquisition_month,
            &format!("{base}/acquisition_month"),
            "取得年月",
            "YYYY-MM で入力してください。",
        )
        .copied();
    let acquired_on = c
        .typed(
            &row.acquired_on,
            &format!("{base}/acquired_on"),
            "取得日",
            "YYYY-MM-DD で入力してください。",
        )
        .map(|d| d.0);
    let with_succession = c
        .typed(
            &row.with_succession,
            &format!("{base}/with_succession"),
            "事業承継等に伴う取得",
            "true または false を選んでください。",
        )
        .copied()
        == Some(true);
    if !c.submission() {
        return;
    }
    let earliest = filed_on.checked_sub(time::Duration::days(window_days));
    let path = format!("{base}/acquired_on");
    match (acquired_on, month) {
        (Some(day), _) if day < filed_on => {
            if with_succession {
                c.error(path, "acquired_before_filing", "事業承継等に伴って取得する設備は、認定後に取得する必要があります（60日前までの特例は使えません）。");
            } else if earliest.is_some_and(|e| day < e) {
                c.error(path, "acquisition_window", format!("取得から{window_days}日を超えて申請された設備は計画に含められません（取得日から{window_days}日以内の受理が必要です）。"));
            }
        }
        (None, Some(month)) if month < YearMonth::of(filed_on) => {
            let last_day = month.last_day();
            if with_succession {
                c.error(
                    format!("{base}/acquisition_month"),
                    "acquired_before_filing",
                    "事業承継等に伴って取得する設備は、認定後に取得する必要があります。",
                );
            } else if last_day.zip(earliest).is_some_and(|(last, e)| last < e) {
                c.error(
                    format!("{base}/acquisition_month"),
                    "acquisition_window",
                    format!(
                        "取得から{window_days}日を超えて申請された設備は計画に含められません。"
                    ),
                );
            } else {
                c.warning(path, "acquisition_date_needed", format!("申請前に取得した設備は取得日を入力してください（{window_days}日以内か確認します）。"));
            }
        }
        _ => {}
    }
}

fn check_contact(c: &mut Checker<'_>, plan: &Plan) {
    let Some(contact) = c.required(
        &plan.contact,
        "/contact",
        "本件担当者",
        "項目を確認してください。",
    ) else {
        return;
    };
    c.text(
        &contact.name,
        "/contact/name",
        "担当者の氏名",
        SHORT_TEXT,
        true,
    );
    c.text(
        &contact.department,
        "/contact/department",
        "担当者の部署",
        SHORT_TEXT,
        false,
    );
    if let Some(phone) = c.text(
        &contact.phone,
        "/contact/phone",
        "担当者の電話番号",
        20,
        true,
    ) {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(10..=11).contains(&digits)
            || phone
                .chars()
                .any(|ch| !(ch.is_ascii_digit() || ch == '-' || ch == '(' || ch == ')'))
        {
            c.error(
                "/contact/phone",
                "format",
                "電話番号は10桁又は11桁の数字で入力してください（ハイフン可）。",
            );
        }
    }
    if let Some(email) = c.text(
        &contact.email,
        "/contact/email",
        "担当者のメールアドレス",
        254,
        true,
    ) {
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }) && !email
            .chars()
            .any(|ch| ch.is_whitespace() || ch == ',' || ch == ';' || ch == '<' || ch == '>');
        if !valid {
            c.error(
                "/contact/email",
                "format",
                "メールアドレスの形式が正しくありません。",
            );
        }
    }
}
