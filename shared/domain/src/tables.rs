//! The data files under `data/`, embedded at build time and parsed once per process.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Serialize};

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
    /// 該当箇所 items in the guideline's own order, as far as a source gives them.
    pub items: Option<Vec<GuidelineItem>>,
    /// Whether `items` is the guideline's complete list (then a 該当箇所 must be one of them);
    /// otherwise the known items are suggestions and free text is accepted.
    pub items_known: bool,
    /// Whether the source of `items` confirms them.
    #[serde(default)]
    pub items_verified: bool,
    #[serde(default)]
    pub items_source: String,
    pub items_note: String,
    /// The 告示 that issued it (厚生労働省告示第281号), where a source names it.
    #[serde(default)]
    pub notice: Option<String>,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// One 該当箇所 of a guideline.
#[derive(Debug, Clone, Deserialize)]
pub struct GuidelineItem {
    /// The guideline's own numbering (イ(1)(ⅰ)), when the source gives it.
    pub reference: Option<String>,
    pub text: String,
}

impl GuidelineItem {
    /// How a plan cites it: 「イ(1)(ⅰ) 自主管理指標の活用…」, or the text alone.
    pub fn citation(&self) -> String {
        match &self.reference {
            Some(r) => format!("{r} {}", self.text),
            None => self.text.clone(),
        }
    }
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
    /// 日本標準産業分類: a published standard, always the embedded copy.
    pub jsic: &'static crate::jsic::Jsic,
    pub rules: crate::rules::Rules,
    /// Where the four correctable tables came from: `None` for the copy embedded in the build,
    /// else the published object (`s3://bucket/key?versionId=…`).
    pub published: Option<String>,
}

/// Versions of the tables an answer was computed from, recorded on every routing decision and
/// validation report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TableVersions {
    pub fields: String,
    pub authorities: String,
    pub rules: String,
    #[serde(default)]
    pub guidelines: String,
    /// The published object the tables were read from; absent: the copy embedded in the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

/// Why a published set of tables was refused (the platform keeps the tables it has).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}: {message}")]
pub struct TablesError {
    pub table: &'static str,
    pub message: String,
}

fn invalid(table: &'static str, message: impl Into<String>) -> TablesError {
    TablesError {
        table,
        message: message.into(),
    }
}

const AUTHORITIES: &str = include_str!("../data/authorities.json");
const FIELDS: &str = include_str!("../data/fields.json");
const GUIDELINES: &str = include_str!("../data/guidelines.json");
const RULES: &str = include_str!("../data/rules.json");

fn parse<T: serde::de::DeserializeOwned>(name: &'static str, text: &str) -> T {
    // The files are part of the build and covered by tests: a parse failure is a build defect.
    match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => panic!("data/{name} is malformed: {e}"),
    }
}

fn jsic() -> &'static crate::jsic::Jsic {
    static JSIC: OnceLock<crate::jsic::Jsic> = OnceLock::new();
    JSIC.get_or_init(|| crate::jsic::Jsic::parse(include_str!("../data/jsic-rev14.json")))
}

/// The copy embedded in the build, parsed on first use: the fallback whenever nothing valid is
/// published.
pub fn embedded() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        authorities: parse("authorities.json", AUTHORITIES),
        fields: parse("fields.json", FIELDS),
        guidelines: parse("guidelines.json", GUIDELINES),
        jsic: jsic(),
        rules: parse("rules.json", RULES),
        published: None,
    })
}

/// The tables in force, published ones once [`install`]ed, else the embedded copy.
static ACTIVE: RwLock<Option<&'static Tables>> = RwLock::new(None);

/// The tables in force: the last [`install`]ed published set, else the embedded copy.
pub fn tables() -> &'static Tables {
    let active = *ACTIVE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    active.unwrap_or_else(embedded)
}

/// Puts checked tables in force for this process. Each set lives for the rest of the process
/// (answers already computed may still borrow it): sets are installed only when the published
/// version changes, a few times a year, so what this keeps is bounded in practice.
pub fn install(tables: Tables) -> &'static Tables {
    let leaked: &'static Tables = Box::leak(Box::new(tables));
    *ACTIVE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(leaked);
    leaked
}

/// Goes back to the embedded copy (the published object was withdrawn).
pub fn use_embedded() {
    *ACTIVE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
}

/// The four correctable tables of the build as one document, the shape [`Tables::from_bundle`]
/// reads: `{"authorities": …, "fields": …, "guidelines": …, "rules": …}`.
pub fn embedded_bundle() -> String {
    format!(
        "{{\"authorities\": {},\n\"fields\": {},\n\"guidelines\": {},\n\"rules\": {}}}\n",
        AUTHORITIES.trim(),
        FIELDS.trim(),
        GUIDELINES.trim(),
        RULES.trim()
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bundle {
    authorities: serde_json::Value,
    fields: serde_json::Value,
    guidelines: serde_json::Value,
    rules: serde_json::Value,
}

fn typed<T: serde::de::DeserializeOwned>(
    table: &'static str,
    value: serde_json::Value,
) -> Result<T, TablesError> {
    serde_json::from_value(value).map_err(|e| invalid(table, e.to_string()))
}

impl Tables {
    /// Reads a published bundle (see [`embedded_bundle`]) and checks it as a whole: a set that
    /// would route a field nowhere, name an office that does not exist or print a broken
    /// 認定番号 is refused, and the tables in force stay.
    pub fn from_bundle(bytes: &[u8], published: impl Into<String>) -> Result<Tables, TablesError> {
        let bundle: Bundle =
            serde_json::from_slice(bytes).map_err(|e| invalid("bundle", e.to_string()))?;
        let tables = Tables {
            authorities: typed("authorities.json", bundle.authorities)?,
            fields: typed("fields.json", bundle.fields)?,
            guidelines: typed("guidelines.json", bundle.guidelines)?,
            jsic: jsic(),
            rules: typed("rules.json", bundle.rules)?,
            published: Some(published.into()),
        };
        tables.check()?;
        Ok(tables)
    }

    /// What every answer records about the tables behind it.
    pub fn versions(&self) -> TableVersions {
        TableVersions {
            fields: self.fields.version.clone(),
            authorities: self.authorities.version.clone(),
            rules: self.rules.version.clone(),
            guidelines: self.guidelines.version.clone(),
            published: self.published.clone(),
        }
    }

    /// The rows refer to each other correctly and every field has an outcome in every
    /// prefecture.
    pub fn check(&self) -> Result<(), TablesError> {
        const A: &str = "authorities.json";
        let a = &self.authorities;
        for network in &a.networks {
            if self.ministry(&network.ministry).is_none() {
                return Err(invalid(
                    A,
                    format!(
                        "network {} names unknown ministry {}",
                        network.id, network.ministry
                    ),
                ));
            }
            for office in &network.offices {
                if let Some(p) = office
                    .prefectures
                    .iter()
                    .find(|p| self.prefecture(p).is_none())
                {
                    return Err(invalid(
                        A,
                        format!("office {} covers unknown prefecture {p}", office.id),
                    ));
                }
            }
            for m in &network.maritime_overrides {
                if !network.offices.iter().any(|o| o.id == m.office) {
                    return Err(invalid(
                        A,
                        format!(
                            "maritime override of {} names unknown office {}",
                            network.id, m.office
                        ),
                    ));
                }
            }
        }
        for rule in self
            .fields
            .middle_categories
            .iter()
            .chain(&self.fields.overrides)
        {
            if let FieldRoute::Networks(ids) = &rule.route
                && let Some(id) = ids.iter().find(|id| self.network(id).is_none())
            {
                return Err(invalid(
                    "fields.json",
                    format!("{} routes to unknown network {id}", rule.code),
                ));
            }
        }
        let mut ids: Vec<&str> = self
            .guidelines
            .guidelines
            .iter()
            .map(|g| g.id.as_str())
            .collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid("guidelines.json", "guideline ids repeat"));
        }
        if self.guideline(crate::guidelines::BASIC_POLICY).is_none() {
            return Err(invalid("guidelines.json", "the 基本方針 is missing"));
        }
        if let Some(office) = self
            .rules
            .certification_number
            .value
            .offices
            .keys()
            .find(|id| self.office(id).is_none())
        {
            return Err(invalid(
                "rules.json",
                format!("certification_number names unknown office {office}"),
            ));
        }
        if self.rules.type_c_abolished_from().is_none() {
            return Err(invalid(
                "rules.json",
                "equipment_type_c_abolished_from is not a date",
            ));
        }
        let formats = &self.rules.certification_number.value;
        if let Some(format) = std::iter::once(&formats.default_format)
            .chain(formats.offices.values())
            .find(|f| !f.contains("{seq"))
        {
            return Err(invalid(
                "rules.json",
                format!(
                    "certification_number format {format} has no {{seq}}: every number would be the same"
                ),
            ));
        }
        // Every 中分類 and every override (小分類, 細分類) has an outcome in every prefecture.
        let codes = self
            .jsic
            .middle_codes
            .iter()
            .map(String::as_str)
            .chain(self.fields.overrides.iter().map(|r| r.code.as_str()));
        for code in codes {
            for p in &a.prefectures {
                let request = crate::routing::RoutingRequest {
                    fields: &[code],
                    guidelines: &[],
                    prefecture: &p.code,
                };
                if let Err(e) = crate::routing::route_in(self, &request) {
                    return Err(invalid("fields.json", format!("{code} in {}: {e}", p.code)));
                }
            }
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_bundle_reads_back_as_the_embedded_tables() {
        let published = "s3://bucket/tables.json?versionId=1";
        let read = Tables::from_bundle(embedded_bundle().as_bytes(), published);
        let Ok(read) = read else {
            panic!("{read:?}", read = read.err())
        };
        let mut expected = embedded().versions();
        expected.published = Some(published.to_string());
        assert_eq!(read.versions(), expected);
        assert_eq!(
            embedded().versions().guidelines,
            embedded().guidelines.version
        );
    }

    #[test]
    fn an_inconsistent_bundle_is_refused_with_its_reason() {
        let mut bundle: serde_json::Value = match serde_json::from_str(&embedded_bundle()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        bundle["fields"]["middle_categories"][0]["route"] =
            serde_json::json!({"networks": ["nowhere"]});
        let refused = Tables::from_bundle(bundle.to_string().as_bytes(), "x").err();
        assert_eq!(refused.map(|e| e.table), Some("fields.json"));
        let refused = Tables::from_bundle(b"{\"authorities\": 1}", "x").err();
        assert_eq!(refused.map(|e| e.table), Some("bundle"));
        let mut wrong_type = match serde_json::from_str::<serde_json::Value>(&embedded_bundle()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let mut same_number = match serde_json::from_str::<serde_json::Value>(&embedded_bundle()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        same_number["rules"]["certification_number"]["value"]["default_format"] =
            serde_json::json!("{office_name}第1号");
        let refused = Tables::from_bundle(same_number.to_string().as_bytes(), "x").err();
        assert_eq!(refused.map(|e| e.table), Some("rules.json"));
        wrong_type["rules"]["acquisition_window_days"]["value"] = serde_json::json!("sixty");
        let refused = Tables::from_bundle(wrong_type.to_string().as_bytes(), "x").err();
        assert_eq!(refused.map(|e| e.table), Some("rules.json"));
    }
}
