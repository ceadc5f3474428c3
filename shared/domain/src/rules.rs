//! Procedure rules that officials may correct (`data/rules.json`).

use serde::Deserialize;

/// A value with its provenance.
#[derive(Debug, Clone, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub verified: bool,
    pub source: String,
}

/// Which plan start months are accepted relative to the filing date (an open point: the old
/// check sheet says the month after filing or later).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StartMonthRule {
    NotBeforeNextMonth,
    NotBeforeFilingMonth,
    Any,
}

/// 標準処理期間 in business days.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct ProcessingDays {
    pub e_filing: Period,
    pub paper: Period,
    pub joint: Period,
}

/// A 標準処理期間 as its source words it.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Period {
    pub days: u32,
    pub count: DayCount,
}

/// How the days of a period are counted.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Every day (暦日): the source gives the days without excluding holidays.
    Calendar,
    /// Excluding the 行政機関の休日 (weekends, national holidays, 12/29–1/3): 「休日を除く」.
    Business,
}

impl Period {
    /// The due date of a period starting `from` (the day of receipt).
    pub fn due(self, from: time::Date) -> Option<time::Date> {
        match self.count {
            DayCount::Business => crate::dates::add_business_days(from, self.days),
            DayCount::Calendar => from.checked_add(time::Duration::days(i64::from(self.days))),
        }
    }

    /// 「14日（行政機関の休日を除く）」/「45日」.
    pub fn label(self) -> String {
        match self.count {
            DayCount::Business => format!("{}日（行政機関の休日を除く）", self.days),
            DayCount::Calendar => format!("{}日", self.days),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rules {
    pub version: String,
    pub plan_lengths_months: Sourced<Vec<u32>>,
    pub max_total_months: Sourced<u32>,
    pub start_month_rule: Sourced<StartMonthRule>,
    pub equipment_type_c_abolished_from: Sourced<String>,
    pub acquisition_window_days: Sourced<i64>,
    pub processing_days: Sourced<ProcessingDays>,
    pub certification_number: Sourced<CertificationNumberFormats>,
    /// 利用を想定している支援措置 (類型 A–E): what each is and which document it needs.
    pub equipment_types: Sourced<Vec<EquipmentType>>,
    /// E類型: a 建物 qualifies from this amount (円).
    pub equipment_type_e_building_min_yen: Sourced<i64>,
}

/// One 類型 of 経営強化税制 equipment.
#[derive(Debug, Clone, Deserialize)]
pub struct EquipmentType {
    #[serde(rename = "type")]
    pub support_type: crate::plan::SupportType,
    /// 生産性向上設備.
    pub name: String,
    /// 工業会等の証明書 / 経済産業局の確認書.
    pub document: String,
    /// What an applicant must know (B: 投資利益率7%).
    pub note: String,
    /// The last day it can be used (C: 2025-03-31).
    pub available_until: Option<String>,
}

impl EquipmentType {
    /// 「B類型（収益力強化設備）」.
    pub fn label(&self) -> String {
        format!("{}類型（{}）", self.support_type.letter(), self.name)
    }
}

/// 認定番号 formats: one per authority, or the default.
#[derive(Debug, Clone, Deserialize)]
pub struct CertificationNumberFormats {
    pub default_format: String,
    /// Office id → format.
    pub offices: std::collections::BTreeMap<String, String>,
}

impl Rules {
    /// The 認定番号 that authority `office_id` gives its `seq`-th certification of fiscal year
    /// `fiscal`, in that authority's format (`rules.json`).
    ///
    /// ```
    /// let rules = &keiryoku_domain::tables::tables().rules;
    /// assert_eq!(rules.certification_number("meti-kanto", 2026, 7), "関東経産第2026-00007号");
    /// ```
    pub fn certification_number(&self, office_id: &str, fiscal: i32, seq: i64) -> String {
        let formats = &self.certification_number.value;
        let format = formats
            .offices
            .get(office_id)
            .unwrap_or(&formats.default_format);
        let office_name = crate::tables::tables()
            .office(office_id)
            .map(|(_, o)| o.name.as_str())
            .unwrap_or(office_id);
        let mut out = format
            .replace("{office_name}", office_name)
            .replace("{office_id}", office_id)
            .replace(
                "{wareki_fiscal}",
                &crate::dates::wareki_fiscal_year(fiscal).unwrap_or_else(|| fiscal.to_string()),
            )
            .replace("{fiscal}", &fiscal.to_string());
        // {seq:N}: the sequence zero-padded to N digits; {seq}: as is.
        while let Some(start) = out.find("{seq") {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let spec = &out[start + 4..start + len];
            let width = spec
                .strip_prefix(':')
                .and_then(|w| w.parse::<usize>().ok())
                .unwrap_or(0);
            out.replace_range(start..=start + len, &format!("{seq:0width$}"));
        }
        out
    }

    /// The 類型 row of `support_type`.
    pub fn equipment_type(&self, support_type: crate::plan::SupportType) -> Option<&EquipmentType> {
        self.equipment_types
            .value
            .iter()
            .find(|t| t.support_type == support_type)
    }

    /// The date from which equipment type C is refused.
    pub fn type_c_abolished_from(&self) -> Option<time::Date> {
        time::Date::parse(
            &self.equipment_type_c_abolished_from.value,
            &time::format_description::well_known::Iso8601::DATE,
        )
        .ok()
    }
}
