//! Japanese calendar rules: 和暦 (era) formatting, the fiscal year (April–March), national
//! holidays and business-day arithmetic for due dates of the standard processing period.
//!
//! Holidays follow 国民の祝日に関する法律 as amended, computed by rule (fixed days, Happy Monday
//! days, the equinox formula valid for 1980–2099, 振替休日 and 国民の休日), with the one-off days
//! that special laws add or move kept as data (`data/holidays.json`: 2019 enthronement, the
//! 2020–2021 Olympic moves). No maintained holiday crate builds on our toolchain. Business days exclude weekends, holidays and the year-end closure 12/29–1/3.

use time::{Date, Month, Weekday};

/// A Japanese era.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    pub name: &'static str,
    /// First day of the era (Gregorian) from which this module formats dates.
    pub start: (i32, u8, u8),
    /// The Gregorian year that is the era's 元年.
    pub first_year: i32,
}

/// 明治 (from the adoption of the Gregorian calendar) to 令和, newest last.
pub const ERAS: [Era; 5] = [
    // 明治元年 is 1868; dates are formatted from the adoption of the Gregorian calendar.
    Era {
        name: "明治",
        start: (1873, 1, 1),
        first_year: 1868,
    },
    Era {
        name: "大正",
        start: (1912, 7, 30),
        first_year: 1912,
    },
    Era {
        name: "昭和",
        start: (1926, 12, 25),
        first_year: 1926,
    },
    Era {
        name: "平成",
        start: (1989, 1, 8),
        first_year: 1989,
    },
    Era {
        name: "令和",
        start: (2019, 5, 1),
        first_year: 2019,
    },
];

fn date(y: i32, m: u8, d: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// The era and era year of a date, `None` before 1873.
pub fn era_of(day: Date) -> Option<(&'static Era, i32)> {
    let era = ERAS
        .iter()
        .rev()
        .find(|e| date(e.start.0, e.start.1, e.start.2).is_some_and(|s| day >= s))?;
    Some((era, day.year() - era.first_year + 1))
}

fn era_year(name: &str, year: i32) -> String {
    if year == 1 {
        format!("{name}元年")
    } else {
        format!("{name}{year}年")
    }
}

/// 和暦 date: `令和7年4月1日`, `令和元年5月1日`.
///
/// ```
/// use time::macros::date;
/// assert_eq!(keiryoku_domain::dates::wareki(date!(2019 - 05 - 01)).unwrap(), "令和元年5月1日");
/// assert_eq!(keiryoku_domain::dates::wareki(date!(2019 - 04 - 30)).unwrap(), "平成31年4月30日");
/// ```
pub fn wareki(day: Date) -> Option<String> {
    let (era, year) = era_of(day)?;
    Some(format!(
        "{}{}月{}日",
        era_year(era.name, year),
        u8::from(day.month()),
        day.day()
    ))
}

/// 和暦 year and month, for plan periods: `令和7年4月`. The era is the one in force on the
/// first day of the month, except that May 2019 is 令和元年5月 (the era changed on the 1st).
pub fn wareki_month(year: i32, month: u8) -> Option<String> {
    let first = date(year, month, 1)?;
    let (era, era_year_number) = era_of(first)?;
    Some(format!(
        "{}{}月",
        era_year(era.name, era_year_number),
        month
    ))
}

/// Japan Standard Time (UTC+9, no daylight saving).
pub const JST: time::UtcOffset = time::macros::offset!(+9);

/// The calendar date in Japan at an instant: filing dates and due dates are Japanese dates.
pub fn japan_date(at: time::OffsetDateTime) -> Date {
    at.to_offset(JST).date()
}

/// The fiscal year (年度) a date belongs to: April to March, named by the year it starts in.
pub fn fiscal_year(day: Date) -> i32 {
    if u8::from(day.month()) >= 4 {
        day.year()
    } else {
        day.year() - 1
    }
}

/// 和暦 fiscal year: `令和7年度`. A fiscal year is named by the era in force at its end,
/// counted from the calendar year it starts in: fiscal 2019 is `令和元年度`, fiscal 1988
/// (ending under 平成) stays `昭和63年度` because 平成 had not begun in 1988.
pub fn wareki_fiscal_year(fiscal: i32) -> Option<String> {
    let (end_era, _) = era_of(date(fiscal + 1, 3, 31)?)?;
    let index = ERAS.iter().position(|e| e == end_era)?;
    let era = if fiscal < end_era.first_year {
        ERAS.get(index.checked_sub(1)?)?
    } else {
        end_era
    };
    Some(format!(
        "{}度",
        era_year(era.name, fiscal - era.first_year + 1)
    ))
}

/// The one-off changes of `data/holidays.json`.
struct HolidayChanges {
    added: Vec<Date>,
    removed: Vec<Date>,
}

fn holiday_changes() -> &'static HolidayChanges {
    #[derive(serde::Deserialize)]
    struct Row {
        date: String,
    }
    #[derive(serde::Deserialize)]
    struct File {
        added: Vec<Row>,
        removed: Vec<Row>,
    }
    static CHANGES: std::sync::OnceLock<HolidayChanges> = std::sync::OnceLock::new();
    CHANGES.get_or_init(|| {
        let file: File = match serde_json::from_str(include_str!("../data/holidays.json")) {
            Ok(file) => file,
            Err(e) => panic!("data/holidays.json is malformed: {e}"),
        };
        let parse = |rows: Vec<Row>| -> Vec<Date> {
            rows.iter()
                .map(|r| {
                    match Date::parse(
                        &r.date,
                        &time::format_description::well_known::Iso8601::DATE,
                    ) {
                        Ok(d) => d,
                        Err(e) => panic!("data/holidays.json: {}: {e}", r.date),
                    }
                })
                .collect()
        };
        HolidayChanges {
            added: parse(file.added),
            removed: parse(file.removed),
        }
    })
}

fn nth_weekday(year: i32, month: Month, weekday: Weekday, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset =
        (weekday.number_days_from_monday() + 7 - first.weekday().number_days_from_monday()) % 7;
    first.checked_add(time::Duration::days(
        i64::from(offset) + 7 * i64::from(n - 1),
    ))
}

fn equinox_day(year: i32, base: f64) -> u8 {
    // 国立天文台's approximation, valid 1980–2099.
    let y = f64::from(year - 1980);
    (base + 0.242194 * y - (y / 4.0).floor()).floor() as u8
}

/// The holidays fixed by law for a year, before 振替休日 and 国民の休日.
fn statutory_holidays(year: i32) -> Vec<Date> {
    let mut days: Vec<Option<Date>> = vec![
        date(year, 1, 1),
        nth_weekday(year, Month::January, Weekday::Monday, 2),
        date(year, 2, 11),
        date(year, 3, equinox_day(year, 20.8431)),
        date(year, 4, 29),
        date(year, 5, 3),
        date(year, 5, 4),
        date(year, 5, 5),
        nth_weekday(year, Month::September, Weekday::Monday, 3),
        date(year, 9, equinox_day(year, 23.2488)),
        date(year, 11, 3),
        date(year, 11, 23),
    ];
    // 天皇誕生日 follows the reign: 12/23 until 2018, none in 2019, 2/23 from 2020.
    match year {
        ..=2018 => days.push(date(year, 12, 23)),
        2019 => {}
        _ => days.push(date(year, 2, 23)),
    }
    days.push(nth_weekday(year, Month::July, Weekday::Monday, 3));
    if year >= 2016 {
        days.push(date(year, 8, 11));
    }
    days.push(nth_weekday(year, Month::October, Weekday::Monday, 2));
    let changes = holiday_changes();
    days.retain(|d| d.is_none_or(|d| !changes.removed.contains(&d)));
    days.extend(
        changes
            .added
            .iter()
            .filter(|d| d.year() == year)
            .map(|d| Some(*d)),
    );
    let mut days: Vec<Date> = days.into_iter().flatten().collect();
    days.sort();
    days.dedup();
    days
}

/// Every national holiday of a year, with 振替休日 and 国民の休日, sorted.
pub fn holidays(year: i32) -> Vec<Date> {
    let statutory = statutory_holidays(year);
    let mut all = statutory.clone();
    // 国民の休日: a day between two holidays that is not itself one.
    for pair in statutory.windows(2) {
        if let Some(between) = pair[0].next_day()
            && between.next_day() == Some(pair[1])
            && between.weekday() != Weekday::Sunday
        {
            all.push(between);
        }
    }
    // 振替休日: a holiday on a Sunday moves the rest to the next day that is not a holiday.
    for day in &statutory {
        if day.weekday() == Weekday::Sunday {
            let mut substitute = day.next_day();
            while let Some(candidate) = substitute {
                if !statutory.contains(&candidate) {
                    all.push(candidate);
                    break;
                }
                substitute = candidate.next_day();
            }
        }
    }
    all.sort();
    all.dedup();
    all
}

/// Whether a day is a national holiday.
pub fn is_holiday(day: Date) -> bool {
    holidays(day.year()).binary_search(&day).is_ok()
}

/// Whether government offices work that day: not a weekend, not a holiday, not 12/29–1/3.
pub fn is_business_day(day: Date) -> bool {
    let (month, dom) = (u8::from(day.month()), day.day());
    let year_end = (month == 12 && dom >= 29) || (month == 1 && dom <= 3);
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !year_end && !is_holiday(day)
}

/// The `n`-th business day after `start` (the start day itself is not counted), e.g. the due date
/// of a 14-day standard processing period. `n = 0` gives `start`.
pub fn add_business_days(start: Date, n: u32) -> Option<Date> {
    let mut day = start;
    let mut left = n;
    let mut year_holidays = holidays(day.year());
    while left > 0 {
        day = day.next_day()?;
        if day.month() == Month::January && day.day() == 1 {
            year_holidays = holidays(day.year());
        }
        let (month, dom) = (u8::from(day.month()), day.day());
        let year_end = (month == 12 && dom >= 29) || (month == 1 && dom <= 3);
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if !weekend && !year_end && year_holidays.binary_search(&day).is_err() {
            left -= 1;
        }
    }
    Some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn wareki_around_era_boundaries() {
        let cases = [
            (date!(2019 - 04 - 30), "平成31年4月30日"),
            (date!(2019 - 05 - 01), "令和元年5月1日"),
            (date!(2019 - 12 - 31), "令和元年12月31日"),
            (date!(2020 - 01 - 01), "令和2年1月1日"),
            (date!(2025 - 04 - 01), "令和7年4月1日"),
            (date!(1989 - 01 - 07), "昭和64年1月7日"),
            (date!(1989 - 01 - 08), "平成元年1月8日"),
            (date!(1926 - 12 - 24), "大正15年12月24日"),
            (date!(1926 - 12 - 25), "昭和元年12月25日"),
            (date!(1912 - 07 - 29), "明治45年7月29日"),
            (date!(1912 - 07 - 30), "大正元年7月30日"),
        ];
        for (day, expected) in cases {
            assert_eq!(wareki(day).as_deref(), Some(expected), "{day}");
        }
        assert_eq!(
            wareki(date!(1873 - 01 - 01)).as_deref(),
            Some("明治6年1月1日")
        );
        assert_eq!(wareki(date!(1872 - 12 - 31)), None);
    }

    #[test]
    fn wareki_months_and_fiscal_years() {
        assert_eq!(wareki_month(2019, 4).as_deref(), Some("平成31年4月"));
        assert_eq!(wareki_month(2019, 5).as_deref(), Some("令和元年5月"));
        assert_eq!(wareki_month(2028, 3).as_deref(), Some("令和10年3月"));
        assert_eq!(wareki_fiscal_year(2019).as_deref(), Some("令和元年度"));
        assert_eq!(wareki_fiscal_year(2018).as_deref(), Some("平成30年度"));
        assert_eq!(wareki_fiscal_year(2025).as_deref(), Some("令和7年度"));
        assert_eq!(wareki_fiscal_year(1988).as_deref(), Some("昭和63年度"));
        assert_eq!(wareki_fiscal_year(1989).as_deref(), Some("平成元年度"));
        assert_eq!(fiscal_year(date!(2026 - 03 - 31)), 2025);
        assert_eq!(fiscal_year(date!(2026 - 04 - 01)), 2026);
    }

    #[test]
    fn japan_date_turns_at_utc_15() {
        use time::macros::datetime;
        assert_eq!(
            japan_date(datetime!(2026-03-31 14:59 UTC)),
            date!(2026 - 03 - 31)
        );
        assert_eq!(
            japan_date(datetime!(2026-03-31 15:00 UTC)),
            date!(2026 - 04 - 01)
        );
    }

    #[test]
    fn holidays_of_known_years() {
        // 2026: 振替休日 5/6 (5/3 is a Sunday), 国民の休日 9/22 (between 敬老の日 and 秋分の日).
        let expected_2026 = [
            date!(2026 - 01 - 01),
            date!(2026 - 01 - 12),
            date!(2026 - 02 - 11),
            date!(2026 - 02 - 23),
            date!(2026 - 03 - 20),
            date!(2026 - 04 - 29),
            date!(2026 - 05 - 03),
            date!(2026 - 05 - 04),
            date!(2026 - 05 - 05),
            date!(2026 - 05 - 06),
            date!(2026 - 07 - 20),
            date!(2026 - 08 - 11),
            date!(2026 - 09 - 21),
            date!(2026 - 09 - 22),
            date!(2026 - 09 - 23),
            date!(2026 - 10 - 12),
            date!(2026 - 11 - 03),
            date!(2026 - 11 - 23),
        ];
        assert_eq!(holidays(2026), expected_2026);
        // 2019: the enthronement holidays and the ten-day Golden Week.
        for day in [
            date!(2019 - 04 - 30),
            date!(2019 - 05 - 01),
            date!(2019 - 05 - 02),
            date!(2019 - 05 - 06),
            date!(2019 - 10 - 22),
        ] {
            assert!(is_holiday(day), "{day}");
        }
        assert!(!is_holiday(date!(2019 - 12 - 23)), "no 天皇誕生日 in 2019");
        // The Olympic moves.
        assert!(is_holiday(date!(2020 - 07 - 24)) && !is_holiday(date!(2020 - 10 - 12)));
        assert!(
            is_holiday(date!(2021 - 08 - 09)),
            "振替休日 for 山の日 on Sunday 8/8"
        );
        assert_eq!(holidays(2025).len(), 19);
    }

    #[test]
    fn business_days_skip_weekends_holidays_and_year_end() {
        // Friday 2026-12-25 + 3 business days: 12/28 (Mon), then 12/29–1/3 closed, 1/4, 1/5.
        assert_eq!(
            add_business_days(date!(2026 - 12 - 25), 3),
            Some(date!(2027 - 01 - 05))
        );
        // 14 business days from Wednesday 2026-04-22 across Golden Week.
        assert_eq!(
            add_business_days(date!(2026 - 04 - 22), 14),
            Some(date!(2026 - 05 - 18))
        );
        assert_eq!(
            add_business_days(date!(2026 - 04 - 22), 0),
            Some(date!(2026 - 04 - 22))
        );
        assert!(!is_business_day(date!(2027 - 01 - 02)));
        assert!(is_business_day(date!(2026 - 11 - 26)));
    }
}
