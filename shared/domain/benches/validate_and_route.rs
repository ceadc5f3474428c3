//! Median time to validate (submission level) and route one complete application.
//! Run: `cargo bench -p keiryoku-domain` (release build; a plain harness, no dependencies).

use std::hint::black_box;
use std::time::{Duration, Instant};

use keiryoku_domain::plan::{Plan, get, rows};
use keiryoku_domain::routing::{RoutingRequest, route};
use keiryoku_domain::validation::{Context, Level, validate};

fn main() {
    let json: serde_json::Value =
        match serde_json::from_str(include_str!("../tests/fixtures/complete_plan.json")) {
            Ok(v) => v,
            Err(e) => panic!("fixture: {e}"),
        };
    let ctx = Context {
        level: Level::Submission,
        filed_on: time::macros::date!(2026 - 11 - 26),
    };
    let plan = match Plan::from_json(json.clone()) {
        Ok(p) => p,
        Err(e) => panic!("fixture: {e}"),
    };
    let fields: Vec<String> = rows(&plan.business_fields)
        .filter_map(|(_, f)| get(&f.detail_code).cloned())
        .collect();

    let validate_and_route = |plan: &Plan| {
        let report = validate(plan, &ctx);
        let codes: Vec<&str> = fields.iter().map(String::as_str).collect();
        let outcome = route(&RoutingRequest {
            fields: &codes,
            guidelines: &["manufacturing"],
            prefecture: "13",
        });
        (report.is_valid(), outcome.is_ok())
    };
    assert_eq!(
        validate_and_route(&plan),
        (true, true),
        "the fixture is a complete, valid plan"
    );

    let measure = |label: &str, f: &dyn Fn()| {
        for _ in 0..200 {
            f();
        }
        let mut samples: Vec<Duration> = (0..2_000)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        samples.sort();
        let median = samples[samples.len() / 2];
        let p99 = samples[samples.len() * 99 / 100];
        println!(
            "{label:<44} median {:>8.2} µs   p99 {:>8.2} µs",
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    };
    measure("validate + route (parsed plan)", &|| {
        black_box(validate_and_route(black_box(&plan)));
    });
    measure("parse JSON + validate + route", &|| {
        let parsed = Plan::from_json(black_box(json.clone()));
        if let Ok(p) = parsed {
            black_box(validate_and_route(&p));
        }
    });
}
