//! The data files under `data/`, embedded at build time and parsed once per process.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// 省庁 (ministry or agency) that can be competent for a plan.
#[derive(Debug, Clone, Deserialize)]
pub struct Ministry {
    pub id: String,
    pub name: String,
    /// Whether it takes e-filing through the platform (otherwise: a printable PDF by post).
    pub e_filing: bool,
    pub verified: bool,
    pub source: String,
}

/// A receiving office (経済産業局, 地方運輸局…).
#[derive(Debug, Clone, Deserialize)]
pub struct Office {
    pub id: String,
    pub name: String,
    /// The addressee title the application and certificate use (e.g. 関東経済産業局長).
    pub title: String,
    /// JIS X 0401 codes of the prefectures it covers.
    pub prefectures: Vec<String>,
    pub verified: bool,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Fields of a prefecture that go to another office of the network than the prefecture's
/// (兵庫県の船舶産業・倉庫業 → 神戸運輸監理部), as data.
#[derive(Debug, Clone, Deserialize)]
pub struct MaritimeOverride {
    pub prefecture: String,
    /// JSIC codes (中分類, 小分類 or 細分類): a field matches when its code starts with one.
    pub codes: Vec<String>,
    /// What these fields are, for the explanation (倉庫業).
    pub name: String,
    pub office: String,
    pub verified: bool,
    pub source: String,
}

/// A ministry's network of regional offices.
#[derive(Debug, Clone, Deserialize)]
pub struct Network {
    pub id: String,
    pub ministry: String,
    pub name: String,
    pub offices: Vec<Office>,
    #[serde(default)]
    pub maritime_overrides: Vec<MaritimeOverride>,
}

/// 都道府県.
#[derive(Debug, Clone, Deserialize)]
pub struct Prefecture {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthorityTable {
    pub version: String,
    pub ministries: Vec<Ministry>,
    pub prefectures: Vec<Prefecture>,
    pub networks: Vec<Network>,
}

/// Where a business field is routed.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldRoute {
    /// The networks of the competent ministries (several: a joint plan).
    Networks(Vec<String>),
    /// The applicant must ask the call centre (中小企業税制サポートセンター).
    CallCentre(String),
}

/// A row of the field table: a JSIC code (2, 3 or 4 digits) and its route.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldRule {
    pub code: String,
    pub name: String,
    pub route: FieldRoute,
    /// Guidelines that may apply to plans in this field.
    pub guidelines: Vec<String>,
    pub verified: bool,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldTable {
    pub version: String,
    pub middle_categories: Vec<FieldRule>,
    pub overrides: Vec<FieldRule>,
}

/// Whether a higher or a lower value is the improvement.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 伸び率: the target must rise.
    Higher,
    /// 減少率: the target must fall (離職率, 平均労働時間).
    Lower,
}

/// An indicator a guideline allows, with its thresholds in percent per plan length in months.
#[derive(Debug, Clone, Deserialize)]
pub struct IndicatorSpec {
    pub id: String,
    pub name: String,
    pub direction: Direction,
    /// "36" → "1" means at least 1 % over a 36-month plan. Missing lengths are unknown.
    pub thresholds: HashMap<String, String>,
    pub verified: bool,
    pub source: String,
}

/// 事業分野別指針 (or the 基本方針).
#[derive(Debug, Clone, Deserialize)]
pub struct Guideline {
    pub id: String,
    pub label: String,
    pub name: String,
    pub owners: Vec<String>,
    pub indicators: Vec<IndicatorSpec>,
    /// Whether `indicators` is the guideline's complete list.
    pub indicators_known: bool,
    /// Whether the operator may set its own indicator (介護).
    pub custom_indicator_allowed: bool,
    /// 該当箇所 items in the guideline's own order, when known.
    pub items: Option<Vec<GuidelineItem>>,
    pub items_known: bool,
    pub items_note: String,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// One 該当箇所 of a guideline.
#[derive(Debug, Clone, Deserialize)]
pub struct GuidelineItem {
    pub reference: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GuidelineTable {
    pub version: String,
    pub guidelines: Vec<Guideline>,
}

/// Every table, parsed.
pub struct Tables {
    pub authorities: AuthorityTable,
    pub fields: FieldTable,
    pub guidelines: GuidelineTable,
    pub jsic: crate::jsic::Jsic,
    pub rules: crate::rules::Rules,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> T {
    // The files are part of the build and covered by tests: a parse failure is a build defect.
    match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => panic!("data/{name} is malformed: {e}"),
    }
}

/// The tables, parsed on first use.
pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        authorities: parse("authorities.json", include_str!("../data/authorities.json")),
        fields: parse("fields.json", include_str!("../data/fields.json")),
        guidelines: parse("guidelines.json", include_str!("../data/guidelines.json")),
        jsic: crate::jsic::Jsic::parse(include_str!("../data/jsic-rev14.json")),
        rules: parse("rules.json", include_str!("../data/rules.json")),
    })
}

impl Tables {
    pub fn ministry(&self, id: &str) -> Option<&Ministry> {
        self.authorities.ministries.iter().find(|m| m.id == id)
    }

    pub fn network(&self, id: &str) -> Option<&Network> {
        self.authorities.networks.iter().find(|n| n.id == id)
    }

    pub fn prefecture(&self, code: &str) -> Option<&Prefecture> {
        self.authorities.prefectures.iter().find(|p| p.code == code)
    }

    pub fn guideline(&self, id: &str) -> Option<&Guideline> {
        self.guidelines.guidelines.iter().find(|g| g.id == id)
    }

    /// Every office of every network, for look-ups by id.
    pub fn office(&self, id: &str) -> Option<(&Network, &Office)> {
        self.authorities
            .networks
            .iter()
            .find_map(|n| n.offices.iter().find(|o| o.id == id).map(|o| (n, o)))
    }
}
