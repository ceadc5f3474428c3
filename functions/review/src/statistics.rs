//! The statistics pages (審査の統計): `GET /staff/statistics` and its CSV
//! `GET /staff/statistics.csv`, for every role that reads cases, over the member's scope. Per
//! authority and per month of receipt: received, where the cases stand now, overdue now, and
//! the days from receipt to decision against the 標準処理期間. Counted by
//! [`keiryoku_lifecycle::statistics`]; the chart is an SVG drawn here, with the same numbers in
//! the table below it.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use keiryoku_domain::application::OfficeId;
use keiryoku_http::ApiError;
use keiryoku_lifecycle::statistics::{Month, Statistics, Tally};
use keiryoku_store::{CaseStat, ReadKind, Scope};
use keiryoku_web::staff::{Menu, Staff};
use keiryoku_web::views::{self, SummaryLink};
use keiryoku_web::{Chrome, PageError, PageResult, render};
use serde::Deserialize;

use crate::ReviewState;

/// The longest period one request counts.
const MAX_MONTHS: usize = 36;

/// The conditions, all in the URL.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsParams {
    /// First month of receipt (YYYY-MM).
    from: Option<String>,
    /// Last month of receipt (YYYY-MM).
    to: Option<String>,
    /// One authority of the scope (an office id); all when absent.
    office: Option<String>,
}

/// The period and authorities asked for, or the problems at the form's fields.
struct Asked {
    from: Month,
    to: Month,
    offices: Vec<OfficeId>,
}

fn asked(
    params: &StatisticsParams,
    scope: &Scope,
    today: time::Date,
) -> Result<Asked, Vec<(&'static str, String)>> {
    let this_month = Month::of(today);
    let mut problems = Vec::new();
    let mut month = |name: &'static str, value: &Option<String>, default: Month| match value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => Some(default),
        Some(text) => Month::parse(text).or_else(|| {
            problems.push((
                name,
                "年月は YYYY-MM（例：2026-04）で指定してください。".into(),
            ));
            None
        }),
    };
    let to = month("to", &params.to, this_month);
    let from = month("from", &params.from, to.unwrap_or(this_month).minus(11));
    let mut offices = scope.offices();
    match params
        .office
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => {}
        Some(id) => {
            let office = OfficeId::from(id);
            if offices.contains(&office) {
                offices = vec![office];
            } else {
                problems.push(("office", "行政庁は一覧から選んでください。".into()));
            }
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if problems.is_empty() => {
            let months = from.through(to).len();
            if from > to {
                problems.push(("from", "開始の年月は終了の年月以前にしてください。".into()));
            } else if months > MAX_MONTHS {
                problems.push((
                    "from",
                    format!("期間は{MAX_MONTHS}か月以内で指定してください。"),
                ));
            }
            if problems.is_empty() {
                return Ok(Asked { from, to, offices });
            }
            Err(problems)
        }
        _ => Err(problems),
    }
}

/// Every case of the asked authorities and period: each authority read through the statistics
/// index, eight at a time.
async fn cases(state: &ReviewState, asked: &Asked) -> Result<Vec<CaseStat>, ApiError> {
    let (from, to) = (asked.from.first_day(), asked.to.last_day());
    let mut all = Vec::new();
    for chunk in asked.offices.chunks(8) {
        let mut reads = tokio::task::JoinSet::new();
        for office in chunk {
            let (cases, office) = (state.cases.clone(), office.clone());
            reads.spawn(async move { cases.received_between(&office, from, to).await });
        }
        while let Some(read) = reads.join_next().await {
            all.extend(read.map_err(|e| ApiError::Internal(e.to_string()))??);
        }
    }
    Ok(all)
}

/// One row of a table (an authority or a month, or the total).
struct Row {
    label: String,
    tally: Tally,
}

impl Row {
    fn days(value: Option<i64>) -> String {
        value.map_or_else(|| "―".to_string(), |d| format!("{d}日"))
    }

    fn median(&self) -> String {
        Row::days(self.tally.median_days())
    }

    fn p90(&self) -> String {
        Row::days(self.tally.p90_days())
    }

    fn standard(&self) -> String {
        Row::days(self.tally.standard_days())
    }

    /// 期限内に判断: 12 / 15 件.
    fn within(&self) -> String {
        match self.tally.decided() {
            0 => "―".to_string(),
            n => format!("{} / {n}件", self.tally.within_period),
        }
    }
}

/// A bar of the chart.
struct Bar {
    x: u32,
    y: u32,
    height: u32,
    /// `received` or `certified` (the CSS class colours it).
    series: &'static str,
}

/// The chart: received and certified per month, as grouped bars.
struct Chart {
    width: u32,
    /// The bars' bottom.
    base: u32,
    bars: Vec<Bar>,
    /// Month labels: x, text.
    labels: Vec<(u32, String)>,
    /// The scale's top value and its y.
    max: u64,
}

const BAR: u32 = 12;
const SLOT: u32 = 40;
const PLOT: u32 = 160;

fn chart(stats: &Statistics) -> Chart {
    let totals: Vec<(Month, Tally)> = stats
        .months
        .iter()
        .map(|m| (*m, stats.month_total(*m)))
        .collect();
    let max = totals
        .iter()
        .map(|(_, t)| t.received.max(t.certified))
        .max()
        .unwrap_or(0)
        .max(1);
    let top = 20;
    let base = top + PLOT;
    let height = |n: u64| u32::try_from(n * u64::from(PLOT) / max).unwrap_or(PLOT);
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, (month, t)) in totals.iter().enumerate() {
        let x = 40 + u32::try_from(i).unwrap_or(0) * SLOT;
        for (offset, series, n) in [(0, "received", t.received), (BAR, "certified", t.certified)] {
            let h = height(n);
            bars.push(Bar {
                x: x + offset,
                y: base - h,
                height: h,
                series,
            });
        }
        labels.push((x + BAR, format!("{}/{}", month.year % 100, month.month)));
    }
    Chart {
        width: 40 + u32::try_from(totals.len()).unwrap_or(0) * SLOT + 10,
        base,
        bars,
        labels,
        max,
    }
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    chrome: Chrome,
    menu: Menu,
    scope: String,
    from: String,
    to: String,
    /// value, label, selected
    offices: Vec<(String, String, bool)>,
    office_error: Option<String>,
    from_error: Option<String>,
    to_error: Option<String>,
    summary: Vec<SummaryLink>,
    by_office: Vec<Row>,
    by_month: Vec<Row>,
    total: Option<Row>,
    chart: Option<Chart>,
    csv: String,
    today: String,
}

/// `GET /staff/statistics`.
pub async fn page(State(state): State<ReviewState>, staff: Staff, uri: Uri) -> PageResult {
    let scope = staff.0.scope()?;
    let params: StatisticsParams = crate::pages::conditions(&uri)?;
    let today = crate::today();
    let asked = asked(&params, &scope, today);
    let (stats, problems) = match &asked {
        Ok(asked) => {
            state
                .reads
                .record(&staff.0.read(ReadKind::Statistics, None, uri.query()))
                .await?;
            let cases = cases(&state, asked).await?;
            let months = asked.from.through(asked.to);
            (
                Some(Statistics::tally(&asked.offices, months, &cases, today)),
                Vec::new(),
            )
        }
        Err(problems) => (None, problems.clone()),
    };
    let error = |name: &str| {
        problems
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
    };
    let summary = problems
        .iter()
        .map(|(name, message)| SummaryLink {
            href: format!("#{name}"),
            text: message.clone(),
        })
        .collect::<Vec<_>>();
    let chosen = params.office.clone().unwrap_or_default();
    let mut offices = vec![(String::new(), "すべて".to_string(), chosen.is_empty())];
    offices.extend(scope.offices().into_iter().map(|o| {
        let id = o.to_string();
        let selected = id == chosen;
        (id, views::office_name(o.as_str()), selected)
    }));
    let (by_office, by_month, total, chart) = match &stats {
        Some(stats) => (
            stats
                .offices
                .iter()
                .map(|o| Row {
                    label: views::office_name(o.as_str()),
                    tally: stats.office_total(o),
                })
                .collect(),
            stats
                .months
                .iter()
                .map(|m| Row {
                    label: m.label(),
                    tally: stats.month_total(*m),
                })
                .collect(),
            Some(Row {
                label: "合計".into(),
                tally: stats.total(),
            }),
            Some(chart(stats)),
        ),
        None => (Vec::new(), Vec::new(), None, None),
    };
    let (from, to) = match &asked {
        Ok(a) => (a.from.to_string(), a.to.to_string()),
        Err(_) => (
            params.from.clone().unwrap_or_default(),
            params.to.clone().unwrap_or_default(),
        ),
    };
    let query = crate::pages::filled_query(&uri, &[]);
    let page = StatisticsPage {
        chrome: Chrome::new("審査の統計", Some(staff.header())).with_error(!summary.is_empty()),
        menu: staff.menu(),
        scope: scope.label(),
        csv: if query.is_empty() {
            "/staff/statistics.csv".into()
        } else {
            format!("/staff/statistics.csv?{query}")
        },
        from,
        to,
        offices,
        office_error: error("office"),
        from_error: error("from"),
        to_error: error("to"),
        summary,
        by_office,
        by_month,
        total,
        chart,
        today: keiryoku_web::seireki(today),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(status, &page))
}

/// The columns of the CSV, after 行政庁コード, 行政庁 and 受付月.
const COLUMNS: [&str; 13] = [
    "受付",
    "認定",
    "自庁認定（他庁の判断待ち）",
    "差戻し中",
    "不認定",
    "取下げ",
    "審査中",
    "期限超過（現在）",
    "判断済み",
    "判断までの日数（中央値）",
    "判断までの日数（90パーセンタイル）",
    "標準処理期間（日、中央値）",
    "期限内に判断",
];

fn numbers(t: &Tally) -> Vec<String> {
    let days = |v: Option<i64>| v.map(|d| d.to_string()).unwrap_or_default();
    vec![
        t.received.to_string(),
        t.certified.to_string(),
        t.approved.to_string(),
        t.returned.to_string(),
        t.rejected.to_string(),
        t.withdrawn.to_string(),
        t.pending.to_string(),
        t.overdue_now.to_string(),
        t.decided().to_string(),
        days(t.median_days()),
        days(t.p90_days()),
        days(t.standard_days()),
        t.within_period.to_string(),
    ]
}

/// `GET /staff/statistics.csv`: every authority × month of the same conditions (UTF-8 with a
/// BOM, CRLF, for Excel). Small (at most 75 authorities × 36 months), so answered directly.
pub async fn csv(State(state): State<ReviewState>, staff: Staff, uri: Uri) -> PageResult {
    let scope = staff.0.scope()?;
    let params: StatisticsParams = crate::pages::conditions(&uri)?;
    let today = crate::today();
    let asked = asked(&params, &scope, today).map_err(|problems| {
        PageError::Api(ApiError::BadRequest(
            problems
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" "),
        ))
    })?;
    state
        .reads
        .record(&staff.0.read(ReadKind::Statistics, None, uri.query()))
        .await?;
    let cases = cases(&state, &asked).await?;
    let stats = Statistics::tally(&asked.offices, asked.from.through(asked.to), &cases, today);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["行政庁コード".to_string(), "行政庁".into(), "受付月".into()];
    head.extend(COLUMNS.iter().map(|c| c.to_string()));
    rows.push(head);
    for office in &stats.offices {
        for month in &stats.months {
            let mut row = vec![
                office.to_string(),
                views::office_name(office.as_str()),
                month.to_string(),
            ];
            row.extend(numbers(&stats.cell(office, *month)));
            rows.push(row);
        }
    }
    keiryoku_http::csv::attachment(rows, &format!("statistics-{}-{}.csv", asked.from, asked.to))
        .map_err(PageError::Api)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_period_defaults_to_the_last_twelve_months_and_is_bounded() {
        let scope = Scope::Office(OfficeId::from("meti-kanto"));
        let today = date!(2026 - 12 - 04);
        let asked = asked(&StatisticsParams::default(), &scope, today);
        let asked = asked.map(|a| (a.from.to_string(), a.to.to_string()));
        assert_eq!(asked.ok(), Some(("2026-01".into(), "2026-12".into())));
        let long = StatisticsParams {
            from: Some("2020-01".into()),
            to: Some("2026-12".into()),
            office: None,
        };
        assert!(asked_fields(&long, &scope).contains(&"from"));
        let elsewhere = StatisticsParams {
            office: Some("meti-kinki".into()),
            ..StatisticsParams::default()
        };
        assert_eq!(asked_fields(&elsewhere, &scope), ["office"]);
        let bad = StatisticsParams {
            to: Some("2026/12".into()),
            ..StatisticsParams::default()
        };
        assert_eq!(asked_fields(&bad, &scope), ["to"]);
    }

    fn asked_fields(params: &StatisticsParams, scope: &Scope) -> Vec<&'static str> {
        asked(params, scope, date!(2026 - 12 - 04))
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }
}
