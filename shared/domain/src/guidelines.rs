//! The 基本方針 and the 21 事業分野別指針 (`data/guidelines.json`): owners, allowed indicators
//! with direction and thresholds, and their 該当箇所 items where a public source gives them.

use rust_decimal::Decimal;

use crate::tables::tables;
pub use crate::tables::{Direction, Guideline, GuidelineItem, IndicatorSpec};

/// The id of the 基本方針 (used when no 事業分野別指針 applies).
pub const BASIC_POLICY: &str = "basic_policy";

/// Every guideline, the 基本方針 first.
pub fn all() -> &'static [Guideline] {
    &tables().guidelines.guidelines
}

/// A guideline by id; `None` (no guideline chosen) is the 基本方針.
pub fn find(id: Option<&str>) -> Option<&'static Guideline> {
    tables().guideline(id.unwrap_or(BASIC_POLICY))
}

impl IndicatorSpec {
    /// The threshold in percent for a plan of `months`, when the guideline gives one.
    pub fn threshold(&self, months: u32) -> Option<Decimal> {
        self.thresholds
            .get(&months.to_string())
            .and_then(|t| t.parse().ok())
    }
}

impl Guideline {
    /// An indicator this guideline allows, by id.
    pub fn indicator(&self, id: &str) -> Option<&IndicatorSpec> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_one_guidelines_and_the_basic_policy() {
        assert_eq!(all().len(), 22);
        assert_eq!(all()[0].id, BASIC_POLICY);
        let mut ids: Vec<&str> = all().iter().map(|g| g.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 22, "ids are unique");
    }

    #[test]
    fn basic_policy_is_labour_productivity_with_period_thresholds() {
        let Some(basic) = find(None) else {
            panic!("basic policy")
        };
        let Some(lp) = basic.indicator("labour_productivity") else {
            panic!("labour productivity")
        };
        assert_eq!(lp.direction, Direction::Higher);
        assert_eq!(lp.threshold(36), Some(Decimal::new(1, 0)));
        assert_eq!(lp.threshold(48), Some(Decimal::new(15, 1)));
        assert_eq!(lp.threshold(60), Some(Decimal::new(2, 0)));
        assert_eq!(lp.threshold(24), None);
    }

    #[test]
    fn manufacturing_alternatives_and_lower_is_better_indicators() {
        let Some(m) = find(Some("manufacturing")) else {
            panic!("manufacturing")
        };
        assert_eq!(
            m.indicator("ordinary_profit_margin")
                .and_then(|i| i.threshold(60)),
            Some(Decimal::new(5, 0))
        );
        let Some(care) = find(Some("nursing_care")) else {
            panic!("care")
        };
        assert_eq!(
            care.indicator("turnover_rate").map(|i| i.direction),
            Some(Direction::Lower)
        );
        assert!(care.custom_indicator_allowed);
        let Some(trucking) = find(Some("trucking")) else {
            panic!("trucking")
        };
        assert_eq!(
            trucking
                .indicator("driver_working_hours")
                .map(|i| i.direction),
            Some(Direction::Lower)
        );
    }

    #[test]
    fn items_come_in_the_guidelines_own_order() {
        let Some(basic) = find(None) else {
            panic!("basic policy")
        };
        let citations: Vec<String> = basic
            .items
            .iter()
            .flatten()
            .map(GuidelineItem::citation)
            .collect();
        assert_eq!(
            citations,
            [
                "人材の育成",
                "財務内容の分析の結果の活用",
                "商品又は役務の需要の動向に関する情報の活用",
                "経営能率の向上のための情報システムの構築"
            ]
        );
        let Some(retail) = find(Some("wholesale_retail")) else {
            panic!("retail")
        };
        let first = retail
            .items
            .iter()
            .flatten()
            .next()
            .map(GuidelineItem::citation);
        assert_eq!(
            first.as_deref(),
            Some("イ(1)(ⅰ) 自主管理指標の活用（経営状態の把握／経営管理に関する事項）")
        );
        assert!(!retail.items_known, "partial: free text stays possible");
        for (id, n) in [("manufacturing", 2), ("cram_schools", 3)] {
            assert_eq!(
                find(Some(id)).and_then(|g| g.items.as_ref()).map(Vec::len),
                Some(n),
                "{id}"
            );
        }
    }

    #[test]
    fn unknown_content_is_flagged_not_invented() {
        for g in all() {
            // Items only where a source gives them; a complete list only for the 基本方針.
            if g.items_known {
                assert_eq!(g.id, BASIC_POLICY);
            }
            if g.items.is_some() {
                assert!(
                    !g.items_source.is_empty(),
                    "{} names its items' source",
                    g.id
                );
            } else {
                assert!(!g.items_known, "{}", g.id);
            }
            if !g.indicators_known {
                assert!(
                    g.indicators
                        .iter()
                        .all(|i| !i.verified || !i.thresholds.is_empty()),
                    "{}",
                    g.id
                );
            }
            for i in &g.indicators {
                assert!(!i.source.is_empty(), "{}/{} names its source", g.id, i.id);
            }
        }
    }
}
