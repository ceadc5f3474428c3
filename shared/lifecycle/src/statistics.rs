//! 審査の統計: per authority and month of receipt, how many cases were received and where they
//! stand now (certified, returned, rejected, withdrawn, still pending, overdue now), and how
//! many days they took from receipt to decision against the 標準処理期間, as median and 90th
//! percentile. Pure: the pages, the CSV and the tests count with this one function.
//!
//! Percentiles are nearest-rank (the smallest value with at least p % of the values at or
//! below it), so every figure is a number of days some case actually took.

use std::collections::HashMap;

use keiryoku_domain::application::OfficeId;
use keiryoku_store::{CaseDecision, CaseStat};
use time::Date;

/// A calendar month (受付月).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    pub fn of(date: Date) -> Month {
        Month {
            year: date.year(),
            month: u8::from(date.month()),
        }
    }

    /// `2026-04`.
    pub fn parse(text: &str) -> Option<Month> {
        let (year, month) = text.trim().split_once('-')?;
        let (year, month): (i32, u8) = (year.parse().ok()?, month.parse().ok()?);
        ((2000..=2100).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The same month `n` months earlier.
    pub fn minus(self, n: i32) -> Month {
        let index = self.year * 12 + i32::from(self.month) - 1 - n;
        Month {
            year: index.div_euclid(12),
            month: u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1),
        }
    }

    pub fn first_day(self) -> Date {
        let month = time::Month::try_from(self.month).unwrap_or(time::Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    pub fn last_day(self) -> Date {
        self.next().first_day().previous_day().unwrap_or(Date::MIN)
    }

    /// 2026年4月.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// The months from `self` to `to`, both included.
    pub fn through(self, to: Month) -> Vec<Month> {
        let mut months = Vec::new();
        let mut m = self;
        while m <= to {
            months.push(m);
            m = m.next();
        }
        months
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The counts of one group of cases (an authority in a month, an authority, a month, all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// 受付.
    pub received: u64,
    /// 認定.
    pub certified: u64,
    /// 自庁は認定済み（共管の他庁の判断待ち）.
    pub approved: u64,
    /// 差戻し中.
    pub returned: u64,
    /// 不認定.
    pub rejected: u64,
    /// 取下げ.
    pub withdrawn: u64,
    /// 審査中.
    pub pending: u64,
    /// 審査中で期限超過（今日の時点）.
    pub overdue_now: u64,
    /// Decided on or before the due date.
    pub within_period: u64,
    /// Days from receipt to decision of each decided case.
    days: Vec<i64>,
    /// The 標準処理期間 of each case in calendar days (receipt to due date).
    standard: Vec<i64>,
}

impl Tally {
    fn add(&mut self, case: &CaseStat, today: Date) {
        self.received += 1;
        match case.decision {
            CaseDecision::Certified => self.certified += 1,
            CaseDecision::Approved => self.approved += 1,
            CaseDecision::Returned => self.returned += 1,
            CaseDecision::Rejected => self.rejected += 1,
            CaseDecision::Withdrawn => self.withdrawn += 1,
            CaseDecision::Pending => {
                self.pending += 1;
                if case.due_on < today {
                    self.overdue_now += 1;
                }
            }
        }
        if let Some(decided) = case.decided_on {
            self.days.push((decided - case.received_on).whole_days());
            if decided <= case.due_on {
                self.within_period += 1;
            }
        }
        self.standard
            .push((case.due_on - case.received_on).whole_days());
    }

    fn merge(&mut self, other: &Tally) {
        self.received += other.received;
        self.certified += other.certified;
        self.approved += other.approved;
        self.returned += other.returned;
        self.rejected += other.rejected;
        self.withdrawn += other.withdrawn;
        self.pending += other.pending;
        self.overdue_now += other.overdue_now;
        self.within_period += other.within_period;
        self.days.extend_from_slice(&other.days);
        self.standard.extend_from_slice(&other.standard);
    }

    /// How many cases were decided (and so have a number of days).
    pub fn decided(&self) -> u64 {
        self.days.len() as u64
    }

    /// Median days from receipt to decision.
    pub fn median_days(&self) -> Option<i64> {
        nearest_rank(&self.days, 50)
    }

    /// 90th percentile of the days from receipt to decision.
    pub fn p90_days(&self) -> Option<i64> {
        nearest_rank(&self.days, 90)
    }

    /// The median 標準処理期間 of the group's cases, in calendar days.
    pub fn standard_days(&self) -> Option<i64> {
        nearest_rank(&self.standard, 50)
    }
}

/// The nearest-rank `p`th percentile of `values`.
pub fn nearest_rank(values: &[i64], p: u64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// The statistics of a period: every authority × month, and the totals both ways.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    pub months: Vec<Month>,
    /// The authorities that had cases in the period, in the order given.
    pub offices: Vec<OfficeId>,
    cells: HashMap<(OfficeId, Month), Tally>,
}

impl Statistics {
    /// Counts `cases` of `offices` received in `months` (others are ignored).
    pub fn tally(
        offices: &[OfficeId],
        months: Vec<Month>,
        cases: &[CaseStat],
        today: Date,
    ) -> Statistics {
        let mut cells: HashMap<(OfficeId, Month), Tally> = HashMap::new();
        for case in cases {
            let month = Month::of(case.received_on);
            if offices.contains(&case.office_id) && months.contains(&month) {
                cells
                    .entry((case.office_id.clone(), month))
                    .or_default()
                    .add(case, today);
            }
        }
        let offices = offices
            .iter()
            .filter(|o| cells.keys().any(|(c, _)| c == *o))
            .cloned()
            .collect();
        Statistics {
            months,
            offices,
            cells,
        }
    }

    /// One authority in one month.
    pub fn cell(&self, office: &OfficeId, month: Month) -> Tally {
        self.cells
            .get(&(office.clone(), month))
            .cloned()
            .unwrap_or_default()
    }

    fn sum<'a>(tallies: impl Iterator<Item = &'a Tally>) -> Tally {
        let mut total = Tally::default();
        for t in tallies {
            total.merge(t);
        }
        total
    }

    /// One authority over the period.
    pub fn office_total(&self, office: &OfficeId) -> Tally {
        Self::sum(
            self.cells
                .iter()
                .filter(|((o, _), _)| o == office)
                .map(|(_, t)| t),
        )
    }

    /// Every authority in one month.
    pub fn month_total(&self, month: Month) -> Tally {
        Self::sum(
            self.cells
                .iter()
                .filter(|((_, m), _)| *m == month)
                .map(|(_, t)| t),
        )
    }

    /// Everything.
    pub fn total(&self) -> Tally {
        Self::sum(self.cells.values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn nearest_rank_takes_a_value_that_occurred() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[5, 1, 4, 2, 3], 50), Some(3));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 90), Some(90));
        assert_eq!(nearest_rank(&hundred[..10], 90), Some(9));
    }

    #[test]
    fn months_parse_step_and_bound() {
        let april = Month::parse("2026-04");
        assert_eq!(
            april,
            Some(Month {
                year: 2026,
                month: 4
            })
        );
        assert_eq!(Month::parse("2026-13"), None);
        assert_eq!(Month::parse("26-04"), None);
        let april = april.unwrap_or(Month {
            year: 2026,
            month: 4,
        });
        assert_eq!(april.minus(4).to_string(), "2025-12");
        assert_eq!(april.last_day(), date!(2026 - 04 - 30));
        assert_eq!(
            Month::parse("2025-11").map(|m| m.through(april).len()),
            Some(6)
        );
    }

    /// A few hundred generated cases over many months and authorities, counted by the module
    /// and by a plain loop written independently here: the two agree in every cell.
    #[test]
    fn the_tally_agrees_with_an_independent_count_of_generated_cases() {
        let offices: Vec<OfficeId> = ["meti-kanto", "meti-kinki", "mlit-dev-kanto"]
            .into_iter()
            .map(OfficeId::from)
            .collect();
        let today = date!(2026 - 12 - 04);
        let decisions = CaseDecision::ALL;
        // A deterministic pseudo-random sequence (no crate needed for a test).
        let mut seed: u64 = 42;
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % bound
        };
        let mut cases = Vec::new();
        for _ in 0..400 {
            let received_on = date!(2025 - 10 - 01) + time::Duration::days(next(430) as i64);
            let due_on = received_on + time::Duration::days(14 + next(31) as i64);
            let decision = decisions[next(decisions.len() as u64) as usize];
            let decided_on = match decision {
                CaseDecision::Pending | CaseDecision::Withdrawn => None,
                _ => Some(received_on + time::Duration::days(next(60) as i64)),
            };
            cases.push(CaseStat {
                office_id: offices[next(3) as usize].clone(),
                received_on,
                due_on,
                decided_on,
                decision,
            });
        }
        let months = Month {
            year: 2026,
            month: 1,
        }
        .through(Month {
            year: 2026,
            month: 9,
        });
        let stats = Statistics::tally(&offices, months.clone(), &cases, today);
        let mut checked = 0;
        for office in &stats.offices {
            for month in &months {
                let mine: Vec<&CaseStat> = cases
                    .iter()
                    .filter(|c| {
                        &c.office_id == office
                            && c.received_on.year() == month.year
                            && u8::from(c.received_on.month()) == month.month
                    })
                    .collect();
                let count =
                    |d: CaseDecision| mine.iter().filter(|c| c.decision == d).count() as u64;
                let cell = stats.cell(office, *month);
                assert_eq!(cell.received, mine.len() as u64);
                assert_eq!(cell.certified, count(CaseDecision::Certified));
                assert_eq!(cell.returned, count(CaseDecision::Returned));
                assert_eq!(cell.rejected, count(CaseDecision::Rejected));
                assert_eq!(cell.withdrawn, count(CaseDecision::Withdrawn));
                assert_eq!(cell.pending, count(CaseDecision::Pending));
                let overdue = mine
                    .iter()
                    .filter(|c| c.decision == CaseDecision::Pending && c.due_on < today)
                    .count() as u64;
                assert_eq!(cell.overdue_now, overdue);
                let mut days: Vec<i64> = mine
                    .iter()
                    .filter_map(|c| c.decided_on.map(|d| (d - c.received_on).whole_days()))
                    .collect();
                days.sort_unstable();
                let median = (!days.is_empty()).then(|| days[days.len().div_ceil(2) - 1]);
                let p90 = (!days.is_empty()).then(|| days[(days.len() * 9).div_ceil(10) - 1]);
                assert_eq!(cell.median_days(), median);
                assert_eq!(cell.p90_days(), p90);
                checked += mine.len();
            }
        }
        let in_period = cases
            .iter()
            .filter(|c| months.contains(&Month::of(c.received_on)))
            .count();
        assert_eq!(checked, in_period, "every case of the period in one cell");
        assert_eq!(stats.total().received, in_period as u64);
        assert!(in_period > 200, "a few hundred cases: {in_period}");
        let by_month: u64 = months.iter().map(|m| stats.month_total(*m).received).sum();
        let by_office: u64 = stats
            .offices
            .iter()
            .map(|o| stats.office_total(o).received)
            .sum();
        assert_eq!((by_month, by_office), (in_period as u64, in_period as u64));
    }
}
