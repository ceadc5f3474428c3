//! Every fact of the tables that no public source confirmed (`verified: false`), so the ministry
//! can confirm them one by one; confirming one is a data change with its source, no code change.
//! `keiryoku-admin facts unverified` prints this list (with the certificate templates).

use serde::Serialize;

use crate::tables::tables;

/// One unverified fact, where it lives and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnverifiedFact {
    /// The data file (`authorities.json`).
    pub table: &'static str,
    /// The row, as routing explanations name it (`meti-kinki`, `fields.json#83`).
    pub row: String,
    /// What the row says, in a few words.
    pub what: String,
    /// Its source as the row gives it.
    pub source: String,
    /// Whether an issued 認定書 prints it (the issuer's title, the 認定番号 format).
    pub printed: bool,
}

/// Every unverified fact of the embedded tables, table by table.
pub fn unverified() -> Vec<UnverifiedFact> {
    let t = tables();
    let mut facts = Vec::new();
    let mut add = |table, row: String, what: String, source: &str, printed| {
        facts.push(UnverifiedFact {
            table,
            row,
            what,
            source: source.to_string(),
            printed,
        });
    };
    for m in t.authorities.ministries.iter().filter(|m| !m.verified) {
        add(
            "authorities.json",
            m.id.clone(),
            format!("省庁 {}", m.name),
            &m.source,
            false,
        );
    }
    for network in &t.authorities.networks {
        for o in network.offices.iter().filter(|o| !o.verified) {
            add(
                "authorities.json",
                o.id.clone(),
                format!(
                    "{}（宛先「{}」, 管轄 {}）",
                    o.name,
                    o.title,
                    o.prefectures.join(",")
                ),
                &o.source,
                true,
            );
        }
        for m in network.maritime_overrides.iter().filter(|m| !m.verified) {
            add(
                "authorities.json",
                format!(
                    "{}/maritime/{}/{}",
                    network.id,
                    m.prefecture,
                    m.codes.join("+")
                ),
                format!("{} → {}", m.name, m.office),
                &m.source,
                false,
            );
        }
    }
    for rule in t
        .fields
        .middle_categories
        .iter()
        .chain(&t.fields.overrides)
        .filter(|r| !r.verified)
    {
        add(
            "fields.json",
            format!("fields.json#{}", rule.code),
            format!("{} {} の提出先", rule.code, rule.name),
            &rule.source,
            false,
        );
    }
    for g in &t.guidelines.guidelines {
        for i in g.indicators.iter().filter(|i| !i.verified) {
            add(
                "guidelines.json",
                format!("{}/{}", g.id, i.id),
                format!("{}の指標「{}」", g.label, i.name),
                &i.source,
                false,
            );
        }
        if let Some(items) = g.items.as_ref().filter(|_| !g.items_verified) {
            add(
                "guidelines.json",
                format!("{}/items", g.id),
                format!("{}の該当箇所 {}項目", g.label, items.len()),
                &g.items_source,
                false,
            );
        }
    }
    let r = &t.rules;
    for (name, verified, source, printed) in [
        (
            "plan_lengths_months",
            r.plan_lengths_months.verified,
            &r.plan_lengths_months.source,
            false,
        ),
        (
            "max_total_months",
            r.max_total_months.verified,
            &r.max_total_months.source,
            false,
        ),
        (
            "start_month_rule",
            r.start_month_rule.verified,
            &r.start_month_rule.source,
            false,
        ),
        (
            "equipment_type_c_abolished_from",
            r.equipment_type_c_abolished_from.verified,
            &r.equipment_type_c_abolished_from.source,
            false,
        ),
        (
            "acquisition_window_days",
            r.acquisition_window_days.verified,
            &r.acquisition_window_days.source,
            false,
        ),
        (
            "processing_days",
            r.processing_days.verified,
            &r.processing_days.source,
            false,
        ),
        (
            "equipment_types",
            r.equipment_types.verified,
            &r.equipment_types.source,
            false,
        ),
        (
            "equipment_type_e_building_min_yen",
            r.equipment_type_e_building_min_yen.verified,
            &r.equipment_type_e_building_min_yen.source,
            false,
        ),
        (
            "certification_number",
            r.certification_number.verified,
            &r.certification_number.source,
            true,
        ),
    ] {
        if !verified {
            add(
                "rules.json",
                name.to_string(),
                name.replace('_', " "),
                source,
                printed,
            );
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unverified_facts_are_listed_and_the_printed_ones_marked() {
        let facts = unverified();
        // The 認定番号 format is a placeholder and is printed on every 認定書.
        assert!(
            facts
                .iter()
                .any(|f| f.table == "rules.json" && f.row == "certification_number" && f.printed)
        );
        // 水運業 in 兵庫 is inferred; 船舶産業 and 倉庫業 are the specification's own words.
        assert!(facts.iter().any(|f| f.row.ends_with("/maritime/28/45")));
        assert!(!facts.iter().any(|f| f.row.ends_with("/maritime/28/313")));
        // A verified row never appears.
        assert!(!facts.iter().any(|f| f.row == "meti-kanto"));
        assert!(facts.iter().all(|f| !f.source.is_empty()));
    }
}
