//! Page budgets: the server time to render each page of a complete plan (median of many renders,
//! target ≤ 2 ms) and its weight (HTML + CSS + JS, uncompressed, no fonts; target ≤ 60 KB).
//! Requests to other origins are 0 by construction (the CSP allows 'self' only) and checked in
//! the browser tests. Run: `cargo bench -p keiryoku-fn-web` (release build, plain harness).

use std::hint::black_box;
use std::time::{Duration, Instant};

use keiryoku_domain::application::{Application, ApplicationId, CompanyId, PlanDocument};
use keiryoku_http::ApplicantSession;
use keiryoku_store::SessionRecord;

fn main() {
    let plan: serde_json::Value = match serde_json::from_str(include_str!(
        "../../../shared/domain/tests/fixtures/complete_plan.json"
    )) {
        Ok(plan) => plan,
        Err(e) => panic!("fixture: {e}"),
    };
    let Some(plan) = PlanDocument::from_value(plan) else {
        panic!("fixture is not an object")
    };
    let record = match Application::new_draft(
        ApplicationId::new(uuid::Uuid::now_v7()),
        CompanyId::from("corp-9010401234567"),
        "sub-applicant-tokyo".into(),
        plan,
        Some("ichiro.keizai@kasumigaseki-seiki.example.jp".into()),
        time::OffsetDateTime::now_utc(),
    ) {
        Ok(record) => record,
        Err(e) => panic!("draft: {e}"),
    };
    let session = || ApplicantSession {
        token: "t".repeat(43),
        record: SessionRecord {
            sub: "sub-applicant-tokyo".into(),
            account_type: "2".into(),
            corp_type: "1".into(),
            company_id: "corp-9010401234567".into(),
            corporate_number: Some("9010401234567".into()),
            company_name: "株式会社霞が関精機".into(),
            prefecture_code: Some("13".into()),
            address1: None,
            address2: None,
            representative_name: Some("経済 一郎".into()),
            user_name: Some("経済 一郎".into()),
            email: None,
            csrf_token: "c".repeat(43),
            created_at: 0,
            expires_at: i64::MAX,
            idle_seconds: 0,
            last_seen_at: 0,
            staff: None,
            id_token: None,
        },
    };
    let assets: usize = keiryoku_web::assets::all()
        .iter()
        .map(|a| a.bytes.len())
        .sum();

    println!("page                              median render   HTML      HTML+CSS+JS");
    let mut worst_time = Duration::ZERO;
    let mut worst_weight = 0;
    for index in 0..keiryoku_fn_web::example_count() {
        let render = || keiryoku_fn_web::render_example(session(), &record, index);
        let (name, html) = match render() {
            Some((name, Ok(html))) => (name, html),
            other => panic!("page {index}: {other:?}"),
        };
        for _ in 0..50 {
            black_box(render());
        }
        let mut samples: Vec<Duration> = (0..1_000)
            .map(|_| {
                let started = Instant::now();
                black_box(render());
                started.elapsed()
            })
            .collect();
        samples.sort();
        let median = samples[samples.len() / 2];
        worst_time = worst_time.max(median);
        let weight = html.len() + assets;
        worst_weight = worst_weight.max(weight);
        println!(
            "{name:<33} {:>8.3} ms   {:>6.1} KB   {:>6.1} KB",
            median.as_secs_f64() * 1000.0,
            html.len() as f64 / 1024.0,
            weight as f64 / 1024.0
        );
    }
    println!(
        "worst: {:.3} ms (budget 2 ms), {:.1} KB (budget 60 KB); assets {:.1} KB of it",
        worst_time.as_secs_f64() * 1000.0,
        worst_weight as f64 / 1024.0,
        assets as f64 / 1024.0
    );
}
