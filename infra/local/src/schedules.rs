//! The local EventBridge scheduler: invokes a function with EventBridge's `Scheduled Event` at
//! the times of its template.yaml `Type: Schedule` events (`cron(…)` or `rate(…)`, UTC), and at
//! once on `POST <KEIRYOKU_SCHEDULER_URL>/schedules/<Event>`, so that a test or a developer
//! does not wait for 08:00. `?time=<RFC 3339>` sets the event's `time` (the moment the rule
//! fired, as EventBridge says it), to see what a given morning would send.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::json;
use time::{OffsetDateTime, Weekday};

use crate::config::REGION;
use crate::runtime_api::FunctionRuntime;

/// One field of a cron expression: the values it allows, or any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Any,
    Values(Vec<u32>),
}

impl Field {
    fn allows(&self, value: u32) -> bool {
        match self {
            Field::Any => true,
            Field::Values(values) => values.contains(&value),
        }
    }
}

/// An EventBridge schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `rate(n minutes|hours|days)`.
    Rate(u64),
    /// `cron(minutes hours day-of-month month day-of-week year)`.
    Cron {
        minute: Field,
        hour: Field,
        day: Field,
        month: Field,
        /// 1 = SUN … 7 = SAT, as EventBridge numbers them.
        weekday: Field,
    },
}

const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// A field: `*`, `?`, numbers, names, ranges `a-b` and lists `a,b`.
fn field(text: &str, names: &[&str], first: u32) -> Result<Field, String> {
    if text == "*" || text == "?" {
        return Ok(Field::Any);
    }
    let value = |v: &str| -> Result<u32, String> {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(v))
            .map(|i| i as u32 + first)
            .map_or_else(|| v.parse().map_err(|_| format!("{v} in {text}")), Ok)
    };
    let mut values = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => values.extend(value(a)?..=value(b)?),
            None => values.push(value(part)?),
        }
    }
    Ok(Field::Values(values))
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let inner = |prefix: &str| {
            expression
                .strip_prefix(prefix)
                .and_then(|e| e.strip_suffix(')'))
        };
        if let Some(rate) = inner("rate(") {
            let (n, unit) = rate.split_once(' ').ok_or(format!("rate {rate}"))?;
            let n: u64 = n.parse().map_err(|_| format!("rate {rate}"))?;
            let minutes = match unit.trim_end_matches('s') {
                "minute" => n,
                "hour" => n * 60,
                "day" => n * 1440,
                other => return Err(format!("rate unit {other}")),
            };
            return Ok(Schedule::Rate(minutes.max(1)));
        }
        let cron = inner("cron(").ok_or(format!("not cron() or rate(): {expression}"))?;
        let parts: Vec<&str> = cron.split_whitespace().collect();
        let [minute, hour, day, month, weekday, _year] = parts[..] else {
            return Err(format!("cron needs 6 fields: {cron}"));
        };
        Ok(Schedule::Cron {
            minute: field(minute, &[], 0)?,
            hour: field(hour, &[], 0)?,
            day: field(day, &[], 1)?,
            month: field(month, &MONTHS, 1)?,
            weekday: field(weekday, &DAYS, 1)?,
        })
    }

    /// Whether the schedule fires in the minute of `at` (UTC).
    pub fn fires_at(&self, at: OffsetDateTime) -> bool {
        let at = at.to_offset(time::UtcOffset::UTC);
        match self {
            Schedule::Rate(minutes) => (at.unix_timestamp() / 60).rem_euclid(*minutes as i64) == 0,
            Schedule::Cron {
                minute,
                hour,
                day,
                month,
                weekday,
            } => {
                let weekday_number = match at.weekday() {
                    Weekday::Sunday => 1,
                    other => other.number_from_monday() as u32 + 1,
                };
                minute.allows(u32::from(at.minute()))
                    && hour.allows(u32::from(at.hour()))
                    && day.allows(u32::from(at.day()))
                    && month.allows(u32::from(u8::from(at.month())))
                    && weekday.allows(weekday_number)
            }
        }
    }
}

/// A schedule and the function it invokes.
#[derive(Clone)]
pub struct Scheduled {
    pub event: String,
    pub schedule: Schedule,
    pub runtime: FunctionRuntime,
}

/// EventBridge's event for a rule firing at `at`.
pub fn scheduled_event(event: &str, at: OffsetDateTime, id: &str) -> serde_json::Value {
    let time = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:123456789012:rule/{event}")],
        "detail": {}
    })
}

async fn fire(scheduled: &Scheduled, at: OffsetDateTime) -> Result<Vec<u8>, String> {
    let id = uuid::Uuid::new_v4().to_string();
    let payload = scheduled_event(&scheduled.event, at, &id)
        .to_string()
        .into_bytes();
    scheduled
        .runtime
        .invoke(payload)
        .await
        .map_err(|e| e.to_string())
}

/// Fires every schedule at its times; the router fires one on request.
pub fn start(schedules: Vec<Scheduled>) -> Router {
    for scheduled in schedules.clone() {
        tokio::spawn(async move {
            loop {
                let now = OffsetDateTime::now_utc();
                let wait = 60 - u64::from(now.second());
                tokio::time::sleep(Duration::from_secs(wait)).await;
                let now = OffsetDateTime::now_utc();
                if scheduled.schedule.fires_at(now)
                    && let Err(e) = fire(&scheduled, now).await
                {
                    eprintln!("scheduler: {}: {e}", scheduled.event);
                }
            }
        });
    }
    let by_name: BTreeMap<String, Scheduled> = schedules
        .into_iter()
        .map(|s| (s.event.clone(), s))
        .collect();
    Router::new()
        .route("/schedules/{event}", post(fire_now))
        .with_state(std::sync::Arc::new(by_name))
}

#[derive(serde::Deserialize)]
struct FireParams {
    time: Option<String>,
}

async fn fire_now(
    State(schedules): State<std::sync::Arc<BTreeMap<String, Scheduled>>>,
    Path(event): Path<String>,
    axum::extract::Query(params): axum::extract::Query<FireParams>,
) -> axum::response::Response {
    let at = match params
        .time
        .as_deref()
        .map(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339))
    {
        None => OffsetDateTime::now_utc(),
        Some(Ok(at)) => at,
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, format!("time: {e}")).into_response(),
    };
    match schedules.get(&event) {
        None => (StatusCode::NOT_FOUND, format!("no schedule {event}")).into_response(),
        Some(scheduled) => match fire(scheduled, at).await {
            Ok(answer) => (StatusCode::OK, answer).into_response(),
            Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_weekday_morning_cron_fires_at_its_minute_on_its_days_only() {
        // 08:00 in Japan, Monday to Friday: 23:00 UTC, Sunday to Thursday.
        let schedule = Schedule::parse("cron(0 23 ? * SUN-THU *)");
        let Ok(schedule) = schedule else {
            panic!("{schedule:?}")
        };
        assert!(
            schedule.fires_at(datetime!(2026-12-06 23:00 UTC)),
            "a Sunday"
        );
        assert!(
            schedule.fires_at(datetime!(2026-12-10 23:00:30 UTC)),
            "a Thursday"
        );
        assert!(
            !schedule.fires_at(datetime!(2026-12-11 23:00 UTC)),
            "a Friday"
        );
        assert!(!schedule.fires_at(datetime!(2026-12-06 23:01 UTC)));
    }

    #[test]
    fn rates_and_bad_expressions() {
        assert_eq!(Schedule::parse("rate(5 minutes)"), Ok(Schedule::Rate(5)));
        assert_eq!(Schedule::parse("rate(1 hour)"), Ok(Schedule::Rate(60)));
        assert!(Schedule::parse("cron(0 23 * *)").is_err());
        assert!(Schedule::parse("every day").is_err());
    }
}
