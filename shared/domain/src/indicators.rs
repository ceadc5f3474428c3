//! 経営指標: 労働生産性 and the growth (伸び率) or reduction (減少率) of an indicator over the
//! plan, in exact decimal arithmetic.
//!
//! Pass or fail is decided exactly, without rounding: the change must be at least the threshold
//! (`(B − A) × 100 ≥ t × A` for higher-is-better, `(A − B) × 100 ≥ t × A` for lower-is-better),
//! so 1.0 % over three years passes and 0.99 % does not. The rate shown to people is rounded
//! toward zero to two decimals, so a displayed rate never overstates the plan.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::tables::Direction;

/// The inputs of 労働生産性 = (営業利益 + 人件費 + 減価償却費) ÷ 労働投入量.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabourProductivityInputs {
    /// 営業利益.
    pub operating_profit: Decimal,
    /// 人件費.
    pub personnel_cost: Decimal,
    /// 減価償却費.
    pub depreciation: Decimal,
    /// 労働投入量: 労働者数, or 労働者数 × 1人当たり年間就業時間.
    pub labour_input: Decimal,
}

/// 労働生産性, `None` when the labour input is not positive.
///
/// ```
/// use rust_decimal::Decimal;
/// use keiryoku_domain::indicators::{labour_productivity, LabourProductivityInputs};
/// let lp = labour_productivity(&LabourProductivityInputs {
///     operating_profit: Decimal::from(10_000), personnel_cost: Decimal::from(50_000),
///     depreciation: Decimal::from(5_000), labour_input: Decimal::from(13),
/// });
/// assert_eq!(lp, Some(Decimal::from(5_000)));
/// ```
pub fn labour_productivity(inputs: &LabourProductivityInputs) -> Option<Decimal> {
    if inputs.labour_input <= Decimal::ZERO {
        return None;
    }
    let value_added = inputs
        .operating_profit
        .checked_add(inputs.personnel_cost)?
        .checked_add(inputs.depreciation)?;
    value_added.checked_div(inputs.labour_input)
}

/// The change of an indicator over the plan, judged against the threshold.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Change {
    /// 伸び率 (higher is better) or 減少率 (lower is better).
    pub label: &'static str,
    /// The rate in percent, rounded toward zero to two decimals (for display).
    #[schema(value_type = String)]
    pub rate_percent: Decimal,
    /// The required rate in percent, when known.
    #[schema(value_type = Option<String>)]
    pub threshold_percent: Option<Decimal>,
    /// `None` when the threshold is unknown.
    pub passes: Option<bool>,
}

/// Why a change cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeError {
    /// 現状値 (A) is zero or negative: a rate relative to it means nothing.
    BaselineNotPositive,
    /// The numbers are too large to compute with.
    Overflow,
}

/// The label of the rate for a direction.
pub fn rate_label(direction: Direction) -> &'static str {
    match direction {
        Direction::Higher => "伸び率",
        Direction::Lower => "減少率",
    }
}

/// Computes the change from `baseline` (A, 現状) to `target` (B, 計画終了時の目標).
pub fn change(
    baseline: Decimal,
    target: Decimal,
    direction: Direction,
    threshold_percent: Option<Decimal>,
) -> Result<Change, ChangeError> {
    if baseline <= Decimal::ZERO {
        return Err(ChangeError::BaselineNotPositive);
    }
    let improvement = match direction {
        Direction::Higher => target.checked_sub(baseline),
        Direction::Lower => baseline.checked_sub(target),
    }
    .ok_or(ChangeError::Overflow)?;
    let hundred = Decimal::ONE_HUNDRED;
    let scaled = improvement
        .checked_mul(hundred)
        .ok_or(ChangeError::Overflow)?;
    let passes = match threshold_percent {
        Some(t) => Some(scaled >= t.checked_mul(baseline).ok_or(ChangeError::Overflow)?),
        None => None,
    };
    let rate = scaled
        .checked_div(baseline)
        .ok_or(ChangeError::Overflow)?
        .round_dp_with_strategy(2, RoundingStrategy::ToZero);
    Ok(Change {
        label: rate_label(direction),
        rate_percent: rate,
        threshold_percent,
        passes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        match s.parse() {
            Ok(v) => v,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn threshold_boundaries_for_each_period() {
        // (period months, threshold %): the boundary passes, a hair below fails.
        for (threshold, exact, below) in [
            ("1", "101", "100.99"),
            ("1.5", "101.5", "101.49"),
            ("2", "102", "101.999"),
        ] {
            let t = Some(d(threshold));
            assert_eq!(
                change(d("100"), d(exact), Direction::Higher, t).map(|c| c.passes),
                Ok(Some(true)),
                "{threshold} at {exact}"
            );
            assert_eq!(
                change(d("100"), d(below), Direction::Higher, t).map(|c| c.passes),
                Ok(Some(false)),
                "{threshold} at {below}"
            );
        }
        // 0.99 % over three years fails even though it rounds to 1.0 at one decimal.
        assert_eq!(
            change(d("10000"), d("10099"), Direction::Higher, Some(d("1"))).map(|c| c.passes),
            Ok(Some(false))
        );
    }

    #[test]
    fn exactness_with_awkward_baselines() {
        // A = 3: +1 % is 3.03 exactly; rational thresholds are compared without division.
        assert_eq!(
            change(d("3"), d("3.03"), Direction::Higher, Some(d("1"))).map(|c| c.passes),
            Ok(Some(true))
        );
        assert_eq!(
            change(d("3"), d("3.0299999"), Direction::Higher, Some(d("1"))).map(|c| c.passes),
            Ok(Some(false))
        );
        // Display rounds toward zero: 2/3 % shows as 0.66, never 0.67.
        assert_eq!(
            change(d("300"), d("302"), Direction::Higher, None).map(|c| c.rate_percent),
            Ok(d("0.66"))
        );
    }

    #[test]
    fn lower_is_better_needs_a_reduction_and_a_rise_never_passes() {
        let reduced = change(d("20"), d("19.6"), Direction::Lower, Some(d("2")));
        assert_eq!(reduced.as_ref().map(|c| c.label), Ok("減少率"));
        assert_eq!(
            reduced.map(|c| (c.rate_percent, c.passes)),
            Ok((d("2"), Some(true)))
        );
        // A rise of the turnover rate is a negative reduction: it fails whatever the threshold.
        for threshold in ["0", "1", "2"] {
            let rise = change(d("20"), d("25"), Direction::Lower, Some(d(threshold)));
            assert_eq!(
                rise.map(|c| c.passes),
                Ok(Some(false)),
                "threshold {threshold}"
            );
        }
        assert_eq!(
            change(d("20"), d("25"), Direction::Lower, None).map(|c| c.rate_percent),
            Ok(d("-25"))
        );
    }

    #[test]
    fn baseline_must_be_positive() {
        assert_eq!(
            change(d("0"), d("5"), Direction::Higher, Some(d("1"))),
            Err(ChangeError::BaselineNotPositive)
        );
        assert_eq!(
            change(d("-1"), d("5"), Direction::Higher, Some(d("1"))),
            Err(ChangeError::BaselineNotPositive)
        );
    }

    #[test]
    fn labour_productivity_needs_labour() {
        let zero = LabourProductivityInputs {
            operating_profit: d("1"),
            personnel_cost: d("1"),
            depreciation: d("1"),
            labour_input: d("0"),
        };
        assert_eq!(labour_productivity(&zero), None);
    }
}
