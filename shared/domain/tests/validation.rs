//! Validation of whole plans, table-driven from one complete, valid application
//! (`fixtures/complete_plan.json`) with one change per case.

use keiryoku_domain::plan::Plan;
use keiryoku_domain::validation::{Context, Level, Report, validate_json};
use serde_json::{Value, json};
use time::Date;
use time::macros::date;

const FILED: Date = date!(2026 - 11 - 26);

fn fixture() -> Value {
    match serde_json::from_str(include_str!("fixtures/complete_plan.json")) {
        Ok(v) => v,
        Err(e) => panic!("fixture: {e}"),
    }
}

fn check(value: &Value, level: Level, filed_on: Date) -> Report {
    validate_json(value, &Context { level, filed_on }).1
}

fn submit(value: &Value) -> Report {
    check(value, Level::Submission, FILED)
}

/// The fixture with one JSON Pointer set to a value (created if missing).
fn with(pointer: &str, value: Value) -> Value {
    let mut plan = fixture();
    set(&mut plan, pointer, value);
    plan
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let Some(target) = doc.pointer_mut(parent) else {
        panic!("no {parent}")
    };
    match target {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
        }
        Value::Array(items) => {
            let Ok(index) = key.parse::<usize>() else {
                panic!("{key}")
            };
            items[index] = value;
        }
        _ => panic!("{parent} is not a container"),
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
        map.remove(key);
    }
}

fn codes_at(report: &Report, path: &str) -> Vec<&'static str> {
    report
        .errors
        .iter()
        .filter(|f| f.path == path)
        .map(|f| f.code)
        .collect()
}

fn assert_error(report: &Report, path: &str, code: &str) {
    let found = report
        .errors
        .iter()
        .find(|f| f.path == path && f.code == code);
    let Some(found) = found else {
        panic!("expected {code} at {path}, got {:#?}", report.errors)
    };
    assert!(
        !found.message.is_ascii(),
        "message in Japanese: {}",
        found.message
    );
}

#[test]
fn the_complete_plan_is_valid_at_both_levels() {
    let report = submit(&fixture());
    assert!(report.is_valid(), "{:#?}", report.errors);
    assert!(check(&fixture(), Level::Draft, FILED).is_valid());
    // 1.0 % over three years passes exactly.
    assert_eq!(report.indicators[0].change.rate_percent.to_string(), "1");
    assert_eq!(report.indicators[0].change.label, "伸び率");
}

#[test]
fn an_empty_draft_is_fine_but_cannot_be_submitted() {
    let empty = json!({});
    assert!(check(&empty, Level::Draft, FILED).is_valid());
    let report = submit(&empty);
    for path in [
        "/applicant",
        "/business_fields",
        "/period",
        "/current_state",
        "/indicators",
        "/measures",
        "/contact",
        "/publication_consent",
        "/data_use_consent",
    ] {
        assert_eq!(codes_at(&report, path), vec!["required"], "{path}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut plan = fixture();
    set(
        &mut plan,
        "/applicant/corporate_number",
        json!("9010401234568"),
    );
    set(&mut plan, "/applicant/employees", json!("many"));
    set(&mut plan, "/period/months", json!(24));
    set(&mut plan, "/contact/email", json!("not-an-address"));
    set(&mut plan, "/equipment/0/document_number", json!(""));
    let report = submit(&plan);
    assert_error(&report, "/applicant/corporate_number", "check_digit");
    assert_error(&report, "/applicant/employees", "type");
    assert_error(&report, "/period/months", "period_length");
    assert_error(&report, "/contact/email", "format");
    assert_error(&report, "/equipment/0/document_number", "required");
    // A draft reports the format problems but not the missing document number.
    let draft = check(&plan, Level::Draft, FILED);
    assert_error(&draft, "/applicant/corporate_number", "check_digit");
    assert!(codes_at(&draft, "/equipment/0/document_number").is_empty());
}

#[test]
fn corporate_numbers_and_sole_proprietors() {
    // Full-width digits and spaces are normalised before checking.
    assert!(
        submit(&with(
            "/applicant/corporate_number",
            json!("９０１０４０１２３４５６７ ")
        ))
        .is_valid()
    );
    assert!(
        submit(&with("/applicant/corporate_number", json!("4000012090001"))).is_valid(),
        "経済産業省's own number"
    );
    assert_error(
        &submit(&with("/applicant/corporate_number", json!("12345"))),
        "/applicant/corporate_number",
        "format",
    );
    let mut corp_without = fixture();
    remove(&mut corp_without, "/applicant/corporate_number");
    assert_error(
        &submit(&corp_without),
        "/applicant/corporate_number",
        "required",
    );
    let mut sole = fixture();
    set(
        &mut sole,
        "/applicant/entity_type",
        json!("sole_proprietor"),
    );
    assert_error(
        &submit(&sole),
        "/applicant/corporate_number",
        "not_applicable",
    );
    remove(&mut sole, "/applicant/corporate_number");
    remove(&mut sole, "/applicant/capital_yen");
    remove(&mut sole, "/applicant/representative_title");
    assert!(submit(&sole).is_valid(), "{:#?}", submit(&sole).errors);
}

#[test]
fn plan_period_and_start_month() {
    for months in [36, 48, 60] {
        let mut plan = with("/period/months", json!(months));
        // Keep the indicator at the threshold for the longer periods.
        let target = match months {
            36 => "5050",
            48 => "5075",
            _ => "5100",
        };
        set(&mut plan, "/indicators/0/target", json!(target));
        remove(&mut plan, "/indicators/0/target_inputs");
        assert!(
            submit(&plan).is_valid(),
            "{months}: {:#?}",
            submit(&plan).errors
        );
    }
    for months in [0, 12, 35, 37, 72] {
        assert_error(
            &submit(&with("/period/months", json!(months))),
            "/period/months",
            "period_length",
        );
    }
    // Filed 2026-11-26: the plan may start in 2026-12 at the earliest (the month after filing).
    assert!(submit(&with("/period/start", json!("2026-12"))).is_valid());
    assert_error(
        &submit(&with("/period/start", json!("2026-11"))),
        "/period/start",
        "start_month",
    );
    assert_error(
        &submit(&with("/period/start", json!("2026-13"))),
        "/period",
        "type",
    );
}

fn indicator(id: &str, baseline: &str, target: &str) -> Value {
    json!([{ "indicator_id": id, "baseline": baseline, "target": target }])
}

#[test]
fn threshold_boundaries_per_period_and_indicator() {
    // (guideline, indicator, months, passing target, failing target) with A = 100.
    let cases = [
        ("manufacturing", "labour_productivity", 36, "101", "100.99"),
        (
            "manufacturing",
            "labour_productivity",
            48,
            "101.5",
            "101.49",
        ),
        ("manufacturing", "labour_productivity", 60, "102", "101.99"),
        (
            "manufacturing",
            "ordinary_profit_margin",
            36,
            "103",
            "102.99",
        ),
        (
            "manufacturing",
            "ordinary_profit_margin",
            48,
            "104",
            "103.99",
        ),
        (
            "manufacturing",
            "ordinary_profit_margin",
            60,
            "105",
            "104.99",
        ),
        ("manufacturing", "value_added", 60, "102", "101.99"),
        (
            "construction",
            "labour_productivity_simple",
            48,
            "101.5",
            "101.49",
        ),
        ("basic_policy", "labour_productivity", 36, "101", "100.99"),
    ];
    for (guideline, id, months, pass, fail) in cases {
        let mut plan = with("/guideline_id", json!(guideline));
        set(&mut plan, "/period/months", json!(months));
        if guideline == "basic_policy" || guideline == "construction" {
            for item in 0..2 {
                remove(
                    &mut plan,
                    &format!("/measures/items/{item}/guideline_reference"),
                );
            }
        }
        set(&mut plan, "/indicators", indicator(id, "100", pass));
        assert!(
            submit(&plan).is_valid(),
            "{guideline}/{id}/{months} at {pass}: {:#?}",
            submit(&plan).errors
        );
        set(&mut plan, "/indicators", indicator(id, "100", fail));
        assert_error(&submit(&plan), "/indicators/0/target", "below_threshold");
        // A draft only warns.
        assert!(check(&plan, Level::Draft, FILED).is_valid());
    }
}

#[test]
fn lower_is_better_indicators_need_a_reduction() {
    let mut plan = with("/guideline_id", json!("trucking"));
    set(
        &mut plan,
        "/indicators",
        indicator("driver_working_hours", "200", "196"),
    );
    let report = submit(&plan);
    assert!(report.is_valid(), "{:#?}", report.errors);
    assert_eq!(report.indicators[0].change.label, "減少率");
    assert_eq!(report.indicators[0].change.rate_percent.to_string(), "2");
    // A rise is never an improvement.
    set(
        &mut plan,
        "/indicators",
        indicator("driver_working_hours", "200", "210"),
    );
    let report = submit(&plan);
    assert_error(&report, "/indicators/0/target", "below_threshold");
    assert!(report.errors.iter().any(|f| f.message.contains("減少率")));
    // 離職率 (介護): no known threshold, but a rise still fails and a fall passes with a warning.
    let mut care = with("/guideline_id", json!("nursing_care"));
    set(
        &mut care,
        "/indicators",
        indicator("turnover_rate", "12", "15"),
    );
    assert_error(&submit(&care), "/indicators/0/target", "no_improvement");
    set(
        &mut care,
        "/indicators",
        indicator("turnover_rate", "12", "10"),
    );
    let report = submit(&care);
    assert!(report.is_valid(), "{:#?}", report.errors);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.code == "threshold_unverified")
    );
}

#[test]
fn retail_and_car_maintenance_indicators_have_their_sourced_thresholds() {
    // 卸売業・小売業: 労働生産性 1 % over 3 years.
    let mut retail = with("/guideline_id", json!("wholesale_retail"));
    set(
        &mut retail,
        "/indicators",
        indicator("custom", "100", "103"),
    );
    assert_error(
        &submit(&retail),
        "/indicators/0/indicator_id",
        "indicator_not_allowed",
    );
    let guideline = keiryoku_domain::guidelines::find(Some("wholesale_retail"))
        .unwrap_or_else(|| panic!("wholesale_retail"));
    let productivity = guideline
        .indicator("labour_productivity")
        .unwrap_or_else(|| panic!("labour_productivity"));
    assert_eq!(
        productivity.threshold(36).map(|d| d.to_string()).as_deref(),
        Some("1")
    );
    assert_eq!(
        productivity.threshold(60).map(|d| d.to_string()).as_deref(),
        Some("2")
    );
    // 自動車整備: 点検整備入庫台数 1 / 1.5 / 2 %, higher is better.
    let car = keiryoku_domain::guidelines::find(Some("car_maintenance"))
        .unwrap_or_else(|| panic!("car_maintenance"));
    let intake = car
        .indicator("inspection_intake")
        .unwrap_or_else(|| panic!("inspection_intake"));
    assert_eq!(
        intake.threshold(48).map(|d| d.to_string()).as_deref(),
        Some("1.5")
    );
    assert!(intake.verified);
}

#[test]
fn a_custom_indicator_is_judged_the_way_the_applicant_says_it_improves() {
    let custom = |direction: Option<&str>, baseline: &str, target: &str| {
        let mut row = json!({
            "indicator_id": "custom",
            "custom_name": "自社で定める離職率",
            "baseline": baseline,
            "target": target,
        });
        if let Some(direction) = direction {
            row["direction"] = json!(direction);
        }
        let mut care = with("/guideline_id", json!("nursing_care"));
        set(&mut care, "/indicators", json!([row]));
        submit(&care)
    };
    // A lower-is-better indicator of the applicant's own that rises fails, with 減少率.
    let rises = custom(Some("lower"), "12", "15");
    assert_error(&rises, "/indicators/0/target", "no_improvement");
    assert!(rises.errors.iter().any(|f| f.message.contains("減少率")));
    // The same indicator falling passes, and is reported as 減少率.
    let falls = custom(Some("lower"), "12", "10");
    assert!(falls.is_valid(), "{:#?}", falls.errors);
    assert_eq!(falls.indicators[0].change.label, "減少率");
    // Higher-is-better the other way round.
    assert_error(
        &custom(Some("higher"), "12", "10"),
        "/indicators/0/target",
        "no_improvement",
    );
    assert!(custom(Some("higher"), "10", "12").is_valid());
    // The direction must be stated: it is never assumed.
    assert_error(
        &custom(None, "12", "10"),
        "/indicators/0/direction",
        "required",
    );
}

#[test]
fn indicators_must_be_allowed_by_the_guideline() {
    assert_error(
        &submit(&with("/indicators", indicator("turnover_rate", "10", "9"))),
        "/indicators/0/indicator_id",
        "indicator_not_allowed",
    );
    // 介護 allows a custom indicator, which then needs a name.
    let mut care = with("/guideline_id", json!("nursing_care"));
    set(&mut care, "/indicators", indicator("custom", "10", "12"));
    assert_error(&submit(&care), "/indicators/0/custom_name", "required");
    assert_error(
        &submit(&with("/guideline_id", json!("no-such-guideline"))),
        "/guideline_id",
        "unknown_guideline",
    );
    assert_error(
        &submit(&with(
            "/indicators",
            indicator("labour_productivity", "0", "5"),
        )),
        "/indicators/0/baseline",
        "not_positive",
    );
}

#[test]
fn labour_productivity_must_match_its_inputs() {
    assert_error(
        &submit(&with("/indicators/0/baseline", json!(5100))),
        "/indicators/0/baseline",
        "productivity_mismatch",
    );
    assert_error(
        &submit(&with(
            "/indicators/0/baseline_inputs/labour_input",
            json!(0),
        )),
        "/indicators/0/baseline_inputs/labour_input",
        "not_positive",
    );
}

#[test]
fn section_6_resources_and_succession() {
    let mut none = with("/measures/uses_existing_resources", json!(false));
    set(&mut none, "/measures/uses_acquired_resources", json!(false));
    assert_error(
        &submit(&none),
        "/measures/uses_existing_resources",
        "both_none",
    );
    let acquired = with("/measures/uses_acquired_resources", json!(true));
    assert_error(
        &submit(&acquired),
        "/measures/items",
        "succession_type_required",
    );
    let mut with_type = acquired.clone();
    set(
        &mut with_type,
        "/measures/items/0/succession_type",
        json!(3),
    );
    assert!(
        submit(&with_type).is_valid(),
        "{:#?}",
        submit(&with_type).errors
    );
    set(
        &mut with_type,
        "/measures/items/0/succession_type",
        json!(11),
    );
    assert_error(
        &submit(&with_type),
        "/measures/items/0/succession_type",
        "succession_type",
    );
    assert_error(
        &submit(&with("/measures/items/1/number", json!(1))),
        "/measures/items/1/number",
        "duplicate",
    );
    assert_error(
        &submit(&with("/funds/0/measure_number", json!(9))),
        "/funds/0/measure_number",
        "unknown_measure",
    );
}

#[test]
fn equipment_rules() {
    // Type C is refused from 2025-04-01 on, accepted before.
    let type_c = with("/equipment/0/support_type", json!("C"));
    assert_error(
        &submit(&type_c),
        "/equipment/0/support_type",
        "type_c_abolished",
    );
    let mut early = type_c.clone();
    set(&mut early, "/period/start", json!("2025-04"));
    assert!(
        codes_at(
            &check(&early, Level::Submission, date!(2025 - 03 - 31)),
            "/equipment/0/support_type"
        )
        .is_empty()
    );
    // A certificate or 確認書 number per row.
    let mut no_doc = fixture();
    remove(&mut no_doc, "/equipment/0/document_number");
    assert_error(&submit(&no_doc), "/equipment/0/document_number", "required");
    // The 60-day rule: acquired 60 days before filing is fine, 61 is not.
    let sixty = with("/equipment/0/acquired_on", json!("2026-09-27"));
    assert!(submit(&sixty).is_valid(), "{:#?}", submit(&sixty).errors);
    assert_error(
        &submit(&with("/equipment/0/acquired_on", json!("2026-09-26"))),
        "/equipment/0/acquired_on",
        "acquisition_window",
    );
    let mut succession = with("/equipment/0/acquired_on", json!("2026-11-01"));
    set(&mut succession, "/equipment/0/with_succession", json!(true));
    assert_error(
        &submit(&succession),
        "/equipment/0/acquired_on",
        "acquired_before_filing",
    );
    assert_error(
        &submit(&with("/equipment/0/acquisition_month", json!("2026-08"))),
        "/equipment/0/acquisition_month",
        "acquisition_window",
    );
    // Amounts: non-negative integers, consistent.
    assert_error(
        &submit(&with("/equipment/0/amount_yen", json!(19_999_999))),
        "/equipment/0/amount_yen",
        "amount_mismatch",
    );
    assert_error(
        &submit(&with("/equipment/0/unit_price_yen", json!(-1))),
        "/equipment/0/unit_price_yen",
        "negative",
    );
    assert_error(
        &submit(&with("/equipment/0/quantity", json!(1.5))),
        "/equipment/0/quantity",
        "type",
    );
    assert_error(
        &submit(&with("/equipment/0/asset_class", json!("building"))),
        "/equipment/0/asset_class",
        "building_not_e",
    );
    let mut sole_e = with("/equipment/0/support_type", json!("E"));
    set(
        &mut sole_e,
        "/applicant/entity_type",
        json!("sole_proprietor"),
    );
    remove(&mut sole_e, "/applicant/corporate_number");
    assert_error(
        &submit(&sole_e),
        "/equipment/0/support_type",
        "type_e_sole_proprietor",
    );
}

#[test]
fn wrong_types_and_unknown_fields_are_reported_with_their_paths() {
    let mut plan = fixture();
    set(&mut plan, "/applicant/nmae", json!("typo"));
    set(&mut plan, "/extra", json!(1));
    set(&mut plan, "/business_fields", json!("24"));
    set(&mut plan, "/publication_consent", json!("yes"));
    let report = submit(&plan);
    assert_error(&report, "/extra", "unknown_field");
    assert_error(&report, "/applicant", "type");
    assert!(
        report
            .errors
            .iter()
            .any(|f| f.path == "/applicant" && f.message.contains("nmae"))
    );
    assert_error(&report, "/business_fields", "type");
    assert_error(&report, "/publication_consent", "type");
    // A non-object is one clear error.
    assert_eq!(
        check(&json!([1, 2]), Level::Draft, FILED).errors[0].code,
        "type"
    );
}

#[test]
fn business_fields_must_be_real_jsic_codes() {
    assert_error(
        &submit(&with("/business_fields/0/detail_code", json!("2477"))),
        "/business_fields/0/detail_code",
        "unknown_industry",
    );
    assert_error(
        &submit(&with("/business_fields/0/detail_code", json!("2592"))),
        "/business_fields/0/detail_code",
        "industry_mismatch",
    );
    assert_error(
        &submit(&with("/applicant/employees", json!(2001))),
        "/applicant/employees",
        "too_many_employees",
    );
    assert_error(
        &submit(&with("/applicant/head_office/prefecture_code", json!("48"))),
        "/applicant/head_office/prefecture_code",
        "unknown_prefecture",
    );
}

#[test]
fn change_applications() {
    let change = json!({"type": "change", "certification": {
        "number": "関東第2025-0001号", "certified_on": "2025-02-10", "office_id": "meti-kanto",
        "period": {"start": "2025-03", "months": 36}
    }});
    let mut plan = with("/kind", change);
    set(
        &mut plan,
        "/period",
        json!({"start": "2025-03", "months": 60}),
    );
    set(&mut plan, "/indicators/0/target", json!(5100));
    remove(&mut plan, "/indicators/0/target_inputs");
    let report = submit(&plan);
    assert!(report.is_valid(), "{:#?}", report.errors);
    set(&mut plan, "/period/start", json!("2025-04"));
    assert_error(&submit(&plan), "/period/start", "change_start");
    // Past the certified period (ended 2028-02) no change is possible.
    set(&mut plan, "/period/start", json!("2025-03"));
    assert_error(
        &check(&plan, Level::Submission, date!(2028 - 03 - 01)),
        "/kind",
        "certification_ended",
    );
    // The previous form version is readable and usable for changes, not for new plans.
    set(&mut plan, "/form_version", json!("2021-08"));
    assert!(submit(&plan).is_valid());
    assert_error(
        &submit(&with("/form_version", json!("2021-08"))),
        "/form_version",
        "form_version",
    );
}

#[test]
fn control_characters_and_long_texts() {
    assert_error(
        &submit(&with("/applicant/name", json!("株式会社\u{0007}霞"))),
        "/applicant/name",
        "control_character",
    );
    assert_error(
        &submit(&with("/applicant/name", json!("あ".repeat(201)))),
        "/applicant/name",
        "too_long",
    );
    // Invisible format characters that would make a name read otherwise on the 認定書: a bidi
    // override, a zero-width space, a BOM.
    for sneaky in [
        "株式会社\u{202E}機精関が霞",
        "霞が関\u{200B}精機",
        "\u{FEFF}霞が関精機",
    ] {
        assert_error(
            &submit(&with("/applicant/name", json!(sneaky))),
            "/applicant/name",
            "control_character",
        );
        assert_error(
            &submit(&with("/current_state/challenges", json!(sneaky))),
            "/current_state/challenges",
            "control_character",
        );
    }
    // A variation selector (異体字 of a name) is part of the name.
    assert!(
        codes_at(
            &submit(&with("/contact/name", json!("葛\u{E0100}飾 花子"))),
            "/contact/name"
        )
        .is_empty()
    );
}

#[test]
fn plans_round_trip_losslessly() {
    let Ok(plan) = Plan::from_json(fixture()) else {
        panic!("parse")
    };
    let Ok(json) = serde_json::to_value(&plan) else {
        panic!("serialize")
    };
    let Ok(again) = Plan::from_json(json.clone()) else {
        panic!("reparse")
    };
    assert_eq!(plan, again);
    assert_eq!(serde_json::to_value(&again).ok(), Some(json));
    // A value of the wrong type is kept as typed, for the applicant to fix.
    let Ok(invalid) = Plan::from_json(with("/applicant/employees", json!({"odd": true}))) else {
        panic!("parse")
    };
    let Ok(out) = serde_json::to_value(&invalid) else {
        panic!("serialize")
    };
    assert_eq!(
        out.pointer("/applicant/employees"),
        Some(&json!({"odd": true}))
    );
}

#[test]
fn a_joint_plan_cites_both_guidelines_and_each_guidelines_indicators_are_checked() {
    // 製造業 + 建設業 (共管): the fixture's 製造業 plan adds the 建設業 guideline.
    let mut joint = with(
        "/additional_guidelines",
        json!([{ "guideline_id": "construction" }]),
    );
    // Its only indicator answers 製造業: 建設業 has none yet.
    assert_error(
        &submit(&joint),
        "/indicators",
        "guideline_without_indicator",
    );
    let Some(rows) = joint["indicators"].as_array_mut() else {
        panic!("indicators")
    };
    // A 建設業 indicator judged by 建設業's own list and thresholds (1 % over 3 years).
    rows.push(json!({
        "guideline_id": "construction",
        "indicator_id": "labour_productivity_simple",
        "baseline": "1000",
        "target": "1009"
    }));
    assert_error(&submit(&joint), "/indicators/1/target", "below_threshold");
    set(&mut joint, "/indicators/1/target", json!("1010"));
    assert!(submit(&joint).is_valid(), "{:#?}", submit(&joint).errors);
    // 売上高経常利益率 is 製造業's: under 建設業 it is not allowed.
    let mut wrong = joint.clone();
    set(
        &mut wrong,
        "/indicators/1/indicator_id",
        json!("ordinary_profit_margin"),
    );
    assert_error(
        &submit(&wrong),
        "/indicators/1/indicator_id",
        "indicator_not_allowed",
    );
    // An indicator may only answer a guideline the plan cites.
    let mut stray = joint.clone();
    set(&mut stray, "/indicators/1/guideline_id", json!("trucking"));
    assert_error(
        &submit(&stray),
        "/indicators/1/guideline_id",
        "guideline_not_in_plan",
    );
    // Guidelines are cited once, never the 基本方針 as an addition, never on a 基本方針 plan.
    let mut twice = joint.clone();
    set(
        &mut twice,
        "/additional_guidelines",
        json!([{ "guideline_id": "construction" }, { "guideline_id": "manufacturing" }]),
    );
    assert_error(
        &submit(&twice),
        "/additional_guidelines/1/guideline_id",
        "duplicate",
    );
    let basic = with(
        "/additional_guidelines",
        json!([{ "guideline_id": "basic_policy" }]),
    );
    assert_error(
        &submit(&basic),
        "/additional_guidelines/0/guideline_id",
        "basic_policy_added",
    );
    let mut under_basic = with(
        "/additional_guidelines",
        json!([{ "guideline_id": "construction" }]),
    );
    set(&mut under_basic, "/guideline_id", json!("basic_policy"));
    assert_error(
        &submit(&under_basic),
        "/additional_guidelines/0/guideline_id",
        "main_guideline_missing",
    );
    // The plan names both guidelines, and routing checks its fields against both.
    let plan = Plan::from_json(joint).unwrap_or_default();
    assert_eq!(plan.guideline_ids(), ["manufacturing", "construction"]);
}

#[test]
fn guideline_items_are_cited_as_the_guideline_lists_them() {
    // 基本方針: its four items, or blank; other text is flagged.
    let mut basic = with("/guideline_id", json!("basic_policy"));
    set(
        &mut basic,
        "/indicators",
        json!([{ "indicator_id": "labour_productivity", "baseline": 5000, "target": 5050, "baseline_inputs": {"operating_profit": 10000, "personnel_cost": 50000, "depreciation": 5000, "labour_input": 13}, "target_inputs": {"operating_profit": 10650, "personnel_cost": 50000, "depreciation": 5000, "labour_input": 13} }]),
    );
    set(
        &mut basic,
        "/measures/items/0/guideline_reference",
        json!("人材の育成"),
    );
    remove(&mut basic, "/measures/items/1/guideline_reference");
    let report = submit(&basic);
    assert!(report.is_valid(), "{:#?}", report.errors);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    set(
        &mut basic,
        "/measures/items/1/guideline_reference",
        json!("第2の2(1)ア"),
    );
    let report = submit(&basic);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.path == "/measures/items/1/guideline_reference"
                && w.code == "reference_under_basic_policy")
    );
    // 小売業's list is partial: its items are accepted and so is other text.
    let mut retail = with("/guideline_id", json!("wholesale_retail"));
    set(
        &mut retail,
        "/measures/items/0/guideline_reference",
        json!("ロ(2)(ⅱ) 経費の最適化（経費管理）"),
    );
    set(
        &mut retail,
        "/measures/items/1/guideline_reference",
        json!("ハ(1)"),
    );
    assert!(codes_at(&submit(&retail), "/measures/items/0/guideline_reference").is_empty());
    assert!(codes_at(&submit(&retail), "/measures/items/1/guideline_reference").is_empty());
}

#[test]
fn equipment_types_say_what_the_sources_say() {
    // E類型 (経営規模拡大設備等): a 建物 from 1,000万円.
    let mut building = with("/equipment/0/support_type", json!("E"));
    set(&mut building, "/equipment/0/asset_class", json!("building"));
    set(
        &mut building,
        "/equipment/0/unit_price_yen",
        json!(9_999_999),
    );
    set(&mut building, "/equipment/0/quantity", json!(1));
    set(&mut building, "/equipment/0/amount_yen", json!(9_999_999));
    assert_error(
        &submit(&building),
        "/equipment/0/unit_price_yen",
        "building_below_minimum",
    );
    set(
        &mut building,
        "/equipment/0/unit_price_yen",
        json!(10_000_000),
    );
    set(&mut building, "/equipment/0/amount_yen", json!(10_000_000));
    assert!(codes_at(&submit(&building), "/equipment/0/unit_price_yen").is_empty());
    // The missing document is named per type: B needs the 経済産業局's 確認書.
    let mut b = with("/equipment/0/support_type", json!("B"));
    remove(&mut b, "/equipment/0/document_number");
    let report = submit(&b);
    let Some(found) = report
        .errors
        .iter()
        .find(|f| f.path == "/equipment/0/document_number")
    else {
        panic!("{:#?}", report.errors)
    };
    assert!(
        found
            .message
            .contains("B類型（収益力強化設備）の経済産業局の確認書"),
        "{}",
        found.message
    );
    // The table itself: B's 投資利益率 is 7 % since 令和7年度; C ended 2025-03-31.
    let rules = &keiryoku_domain::tables::tables().rules;
    let note = |t| {
        rules
            .equipment_type(t)
            .map(|t| (t.note.clone(), t.available_until.clone()))
    };
    use keiryoku_domain::plan::SupportType;
    assert!(note(SupportType::B).is_some_and(|(n, _)| n.contains("7%")));
    assert_eq!(
        note(SupportType::C).and_then(|(_, until)| until).as_deref(),
        Some("2025-03-31")
    );
    assert!(note(SupportType::E).is_some_and(|(n, _)| !n.contains("事業承継")));
}
