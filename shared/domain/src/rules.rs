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
    pub e_filing: u32,
    pub paper: u32,
    pub joint: u32,
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
}

impl Rules {
    /// The date from which equipment type C is refused.
    pub fn type_c_abolished_from(&self) -> Option<time::Date> {
        time::Date::parse(
            &self.equipment_type_c_abolished_from.value,
            &time::format_description::well_known::Iso8601::DATE,
        )
        .ok()
    }
}
