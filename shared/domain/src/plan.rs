//! The plan as filed: 様式第1 (cover page) and its 別紙 「経営力向上計画」 sections 1–10, with the
//! contact person, support organisation and the 公表可否 / データ利活用同意 choices.
//!
//! A draft may hold anything a person typed: every field is [`Typed`], which keeps a value of the
//! wrong type as the raw JSON instead of refusing the whole plan, so validation can report every
//! problem at once and the draft round-trips losslessly.

use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A field value: of the expected type, or the raw JSON that was sent instead with the reason
/// it was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<T> {
    Ok(T),
    Invalid { raw: Value, reason: String },
}

impl<T> Typed<T> {
    /// The value when it has the expected type.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Typed::Ok(v) => Some(v),
            Typed::Invalid { .. } => None,
        }
    }
}

impl<T: Serialize> Serialize for Typed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Typed::Ok(v) => v.serialize(serializer),
            Typed::Invalid { raw, .. } => raw.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Typed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        Ok(match T::deserialize(&raw) {
            Ok(v) => Typed::Ok(v),
            Err(e) => Typed::Invalid {
                raw,
                reason: e.to_string(),
            },
        })
    }
}

/// An optional field.
pub type Field<T> = Option<Typed<T>>;

/// The value of an optional field when present and well-typed.
pub fn get<T>(field: &Field<T>) -> Option<&T> {
    field.as_ref().and_then(Typed::ok)
}

/// A list of rows; the list itself or any row may be of the wrong type.
pub type Rows<T> = Option<Typed<Vec<Typed<T>>>>;

/// The well-typed rows of a list, with their index.
pub fn rows<T>(list: &Rows<T>) -> impl Iterator<Item = (usize, &T)> {
    get(list)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, r)| r.ok().map(|r| (i, r)))
}

/// A whole number of yen (or of items): a JSON integer, or a string of digits written by a
/// person ("1,200,000", "１２００"), normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Integer(pub i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_i64()
                .map(Integer)
                .ok_or_else(|| serde::de::Error::custom("not a whole number")),
            Value::String(s) => crate::normalize::number_text(&s)
                .parse()
                .map(Integer)
                .map_err(|_| serde::de::Error::custom("not a whole number")),
            _ => Err(serde::de::Error::custom("not a whole number")),
        }
    }
}

/// A decimal number (indicator values), exact as written: a JSON number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Number(#[serde(with = "decimal_text")] pub Decimal);

mod decimal_text {
    use rust_decimal::Decimal;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.normalize().to_string())
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(deserializer)? {
            // serde_json's shortest representation is the digits the person typed.
            Value::Number(n) => n.to_string(),
            Value::String(s) => crate::normalize::number_text(&s),
            _ => return Err(serde::de::Error::custom("not a number")),
        };
        text.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Number)
            .map_err(|_| serde::de::Error::custom("not a number"))
    }
}

/// A year and month, written `2026-04`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub year: i32,
    pub month: u8,
}

impl YearMonth {
    /// The month `months` later.
    pub fn plus_months(self, months: u32) -> YearMonth {
        let index = self.year * 12 + i32::from(self.month) - 1 + months as i32;
        YearMonth {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u8,
        }
    }

    /// The month of a date.
    pub fn of(day: time::Date) -> YearMonth {
        YearMonth {
            year: day.year(),
            month: u8::from(day.month()),
        }
    }

    /// The last day of the month.
    pub fn last_day(self) -> Option<time::Date> {
        let month = time::Month::try_from(self.month).ok()?;
        time::Date::from_calendar_date(self.year, month, month.length(self.year)).ok()
    }

    /// The first day of the month.
    pub fn first_day(self) -> Option<time::Date> {
        time::Date::from_calendar_date(self.year, time::Month::try_from(self.month).ok()?, 1).ok()
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:04}-{:02}", self.year, self.month))
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let text = crate::normalize::text(&text).replace('/', "-");
        let (y, m) = text
            .split_once('-')
            .ok_or_else(|| serde::de::Error::custom("expected YYYY-MM"))?;
        let year: i32 = y
            .parse()
            .map_err(|_| serde::de::Error::custom("expected YYYY-MM"))?;
        let month: u8 = m
            .parse()
            .map_err(|_| serde::de::Error::custom("expected YYYY-MM"))?;
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) || y.len() != 4 {
            return Err(serde::de::Error::custom("expected YYYY-MM"));
        }
        Ok(YearMonth { year, month })
    }
}

/// A calendar date, written `2026-04-01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub time::Date);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        serializer.serialize_str(&format!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ))
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = crate::normalize::text(&String::deserialize(deserializer)?);
        time::Date::parse(&text, &time::format_description::well_known::Iso8601::DATE)
            .map(Day)
            .map_err(|_| serde::de::Error::custom("expected YYYY-MM-DD"))
    }
}

/// 様式 version: the form was revised on 2021-08-02 and 2024-04-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormVersion {
    /// The form in force since 2024-04-01.
    #[serde(rename = "2024-04")]
    Current,
    /// The form of 2021-08-02 (plans certified on it are changed on it).
    #[serde(rename = "2021-08")]
    Previous,
}

/// 新規申請 or 変更申請.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Kind {
    New,
    /// 変更申請, with the certification it changes.
    Change {
        certification: Box<Typed<CertificationRef>>,
    },
}

/// The certification a change application refers to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificationRef {
    /// 認定番号.
    pub number: Field<String>,
    /// 認定日.
    pub certified_on: Field<Day>,
    /// The office that certified it (a change goes back there).
    pub office_id: Field<String>,
    /// The certified 実施時期.
    pub period: Field<Period>,
}

/// 法人 or 個人事業主.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Corporation,
    SoleProprietor,
}

/// 本店所在地.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Address {
    /// 郵便番号 (7 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Field<String>,
    /// 都道府県 (JIS X 0401 code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefecture_code: Field<String>,
    /// 市区町村以下.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Field<String>,
}

/// 1. 名称等. Absent fields are left out when written (prefill builds this section).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Applicant {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Field<EntityType>,
    /// 事業者の氏名又は名称.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Field<String>,
    /// フリガナ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_kana: Field<String>,
    /// 代表者の役職名.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representative_title: Field<String>,
    /// 代表者の氏名.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representative_name: Field<String>,
    /// 資本金又は出資の額 (円).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capital_yen: Field<Integer>,
    /// 常時使用する従業員の数.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employees: Field<Integer>,
    /// 法人番号 (13 digits; absent for sole proprietors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corporate_number: Field<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_office: Field<Address>,
}

/// 2. 事業分野: JSIC 中分類 and 細分類.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusinessField {
    /// 中分類 (2 digits).
    pub middle_code: Field<String>,
    /// 細分類 (4 digits).
    pub detail_code: Field<String>,
}

/// 3. 実施時期: start month and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub start: YearMonth,
    /// 36, 48 or 60.
    pub months: u32,
}

impl Period {
    /// The last month of the plan (a 36-month plan from 2026-04 ends 2029-03).
    pub fn end(&self) -> YearMonth {
        self.start.plus_months(self.months.saturating_sub(1))
    }
}

/// 4. 現状認識.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurrentState {
    /// ① 自社の事業概要.
    pub business_overview: Field<String>,
    /// ② 顧客・市場の動向、競合の動向.
    pub market: Field<String>,
    /// ③ 自社の経営状況 (ローカルベンチマーク等).
    pub management_status: Field<String>,
    /// ④ 経営課題.
    pub challenges: Field<String>,
}

/// The inputs of 労働生産性 for one point in time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProductivityInputs {
    pub operating_profit: Field<Number>,
    pub personnel_cost: Field<Number>,
    pub depreciation: Field<Number>,
    pub labour_input: Field<Number>,
}

/// 5. 経営力向上の目標及び指標: one indicator with 現状 (A) and 目標 (B).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndicatorTarget {
    /// Which of the plan's guidelines this indicator answers (a plan under several guidelines
    /// sets indicators per guideline); absent: the plan's main guideline.
    pub guideline_id: Field<String>,
    /// An indicator id of the guideline (`labour_productivity`), or `custom`.
    pub indicator_id: Field<String>,
    /// The name of a custom indicator (where the guideline allows one).
    pub custom_name: Field<String>,
    /// Which way a custom indicator improves: `higher` (伸び率) or `lower` (減少率, e.g. a
    /// 離職率 of the applicant's own). The guideline's own indicators carry theirs.
    pub direction: Field<crate::tables::Direction>,
    /// 現状 (数値A).
    pub baseline: Field<Number>,
    /// 計画終了時の目標 (数値B).
    pub target: Field<Number>,
    /// For 労働生産性: the figures behind A and B, checked against them.
    pub baseline_inputs: Field<ProductivityInputs>,
    pub target_inputs: Field<ProductivityInputs>,
}

/// One 具体的な実施事項.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeasureItem {
    /// 番号 (referenced by funds and equipment).
    pub number: Field<Integer>,
    /// 事業分野別指針の該当箇所 (free text; blank under 基本方針).
    pub guideline_reference: Field<String>,
    /// 実施事項.
    pub description: Field<String>,
    /// 事業承継等の種類 ①–⑩ (1–10), when the item involves 事業承継等.
    pub succession_type: Field<Integer>,
}

/// 6. 経営力向上の内容.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measures {
    /// (1) 現に有する経営資源を利用するもの: 有 (true) / 無 (false).
    pub uses_existing_resources: Field<bool>,
    /// (2) 他の事業者から取得した（又は取得する）経営資源を利用するもの (事業承継等).
    pub uses_acquired_resources: Field<bool>,
    pub items: Rows<MeasureItem>,
}

/// 7. 必要な資金の額及びその調達方法: one row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FundRow {
    /// The 実施事項 number it finances.
    pub measure_number: Field<Integer>,
    /// 使途・用途.
    pub purpose: Field<String>,
    /// 資金調達方法.
    pub source: Field<String>,
    /// 金額 (千円).
    pub amount_thousand_yen: Field<Integer>,
}

/// 利用を想定している支援措置 (類型) of an equipment row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
/// What each requires is data: `rules.json` `equipment_types`.
pub enum SupportType {
    /// 生産性向上設備 (工業会等の証明書).
    A,
    /// 収益力強化設備 (経済産業局の確認書; 投資利益率 7 % since 令和7年度).
    B,
    /// デジタル化設備: ended 2025-03-31, refused for plans filed from 2025-04-01.
    C,
    /// 経営資源集約化設備 (確認書 after a 認定経営革新等支援機関's pre-check).
    D,
    /// 経営規模拡大設備等 (buildings from 1,000万円; not a 事業承継 type).
    E,
}

impl SupportType {
    /// The letter as the form prints it.
    pub fn letter(self) -> &'static str {
        match self {
            SupportType::A => "A",
            SupportType::B => "B",
            SupportType::C => "C",
            SupportType::D => "D",
            SupportType::E => "E",
        }
    }
}

/// 設備等の種類.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    Machinery,
    Tools,
    Fixtures,
    BuildingFixtures,
    Software,
    /// 建物: only under type E.
    Building,
}

/// 8. 経営力向上設備等の種類: one asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EquipmentRow {
    pub measure_number: Field<Integer>,
    /// 取得年月.
    pub acquisition_month: Field<YearMonth>,
    /// The exact acquisition date, when already acquired (decides the 60-day rule).
    pub acquired_on: Field<Day>,
    pub support_type: Field<SupportType>,
    /// 名称・型式.
    pub name_model: Field<String>,
    /// 設置場所.
    pub location: Field<String>,
    pub asset_class: Field<AssetClass>,
    /// 単価 (円).
    pub unit_price_yen: Field<Integer>,
    /// 数量.
    pub quantity: Field<Integer>,
    /// 金額 (円).
    pub amount_yen: Field<Integer>,
    /// 証明書等の文書番号 (工業会証明書 or 確認書).
    pub document_number: Field<String>,
    /// Acquired together with 事業承継等 (the 60-day exception does not apply).
    pub with_succession: Field<bool>,
}

/// 9. 特定許認可等に基づく被承継等特定事業者等の地位 (layout not published: free text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LicenceSuccession {
    /// 許認可等の名称.
    pub licence: Field<String>,
    /// 根拠法令.
    pub legal_basis: Field<String>,
    /// 被承継等特定事業者等の名称.
    pub predecessor: Field<String>,
}

/// 10. 事業承継等事前調査に関する事項 (layout not published: free text).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DueDiligence {
    /// 実施者.
    pub performed_by: Field<String>,
    /// 調査の内容.
    pub scope: Field<String>,
}

/// 本件担当者.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Contact {
    pub name: Field<String>,
    pub department: Field<String>,
    pub phone: Field<String>,
    pub email: Field<String>,
}

/// 認定経営革新等支援機関 that supported the plan (optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportOrganisation {
    pub name: Field<String>,
    /// 認定番号 of the support organisation.
    pub accreditation_id: Field<String>,
}

/// 経営力向上計画 as filed on 様式第1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Plan {
    pub form_version: Field<FormVersion>,
    pub kind: Field<Kind>,
    pub applicant: Field<Applicant>,
    pub business_fields: Rows<BusinessField>,
    /// 事業分野別指針 id; absent or `basic_policy` for the 基本方針.
    pub guideline_id: Field<String>,
    /// Further 事業分野別指針 of a plan that spans several fields (製造業 + 建設業, 共管).
    pub additional_guidelines: Rows<AdditionalGuideline>,
    pub period: Field<Period>,
    pub current_state: Field<CurrentState>,
    pub indicators: Rows<IndicatorTarget>,
    pub measures: Field<Measures>,
    pub funds: Rows<FundRow>,
    pub equipment: Rows<EquipmentRow>,
    pub licence_successions: Rows<LicenceSuccession>,
    pub due_diligence: Field<DueDiligence>,
    pub contact: Field<Contact>,
    pub support_organisation: Field<SupportOrganisation>,
    /// 公表可否: whether the certification may be published.
    pub publication_consent: Field<bool>,
    /// データ利活用同意: whether the data may be shared (ミラサポCONNECT etc.).
    pub data_use_consent: Field<bool>,
}

/// One further 事業分野別指針 of the plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdditionalGuideline {
    pub guideline_id: Field<String>,
}

/// Why a document is not a plan at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan must be a JSON object")]
pub struct NotAnObject;

impl Plan {
    /// The ids of the plan's guidelines as written: the main one (if any), then the additional
    /// ones, without blanks or repeats.
    pub fn guideline_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = get(&self.guideline_id)
            .map(String::as_str)
            .into_iter()
            .collect();
        for (_, g) in rows(&self.additional_guidelines) {
            if let Some(id) = get(&g.guideline_id).map(String::as_str)
                && !id.is_empty()
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        ids.retain(|id| !id.is_empty());
        ids
    }

    /// Reads a plan from JSON as a person sent it: strings normalised (NFKC), every field kept,
    /// wrong types held as raw values for validation to report. Only a non-object is refused.
    pub fn from_json(mut value: Value) -> Result<Plan, NotAnObject> {
        if !value.is_object() {
            return Err(NotAnObject);
        }
        crate::normalize::json(&mut value);
        // Unknown top-level keys: keep the known ones typed and report the rest in validation.
        match Plan::deserialize(&value) {
            Ok(plan) => Ok(plan),
            Err(_) => {
                let mut known = value;
                if let Some(map) = known.as_object_mut() {
                    map.retain(|k, _| PLAN_KEYS.contains(&k.as_str()));
                }
                Plan::deserialize(&known).map_err(|_| NotAnObject)
            }
        }
    }
}

/// The top-level keys of a plan.
pub const PLAN_KEYS: [&str; 18] = [
    "form_version",
    "kind",
    "applicant",
    "business_fields",
    "guideline_id",
    "additional_guidelines",
    "period",
    "current_state",
    "indicators",
    "measures",
    "funds",
    "equipment",
    "licence_successions",
    "due_diligence",
    "contact",
    "support_organisation",
    "publication_consent",
    "data_use_consent",
];
