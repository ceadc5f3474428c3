//! Property tests: validation and routing never panic and are deterministic, whatever the input.

use keiryoku_domain::plan::Plan;
use keiryoku_domain::routing::{RoutingRequest, route};
use keiryoku_domain::validation::{Context, Level, validate_json};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "[0-9０-９,]{0,20}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{1,2}(-[0-9]{1,2})?".prop_map(Value::String),
        prop::sample::select(vec![
            "A",
            "C",
            "E",
            "corporation",
            "sole_proprietor",
            "manufacturing",
            "nursing_care",
            "2411",
            "13",
            "2024-04",
            "2021-08"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Keys of the plan model, so that random documents reach deep into it, and some others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "applicant",
            "business_fields",
            "guideline_id",
            "period",
            "indicators",
            "measures",
            "funds",
            "equipment",
            "contact",
            "kind",
            "type",
            "certification",
            "name",
            "employees",
            "capital_yen",
            "corporate_number",
            "entity_type",
            "head_office",
            "prefecture_code",
            "start",
            "months",
            "indicator_id",
            "baseline",
            "target",
            "items",
            "number",
            "succession_type",
            "support_type",
            "acquired_on",
            "acquisition_month",
            "amount_yen",
            "unit_price_yen",
            "quantity",
            "middle_code",
            "detail_code",
            "uses_existing_resources",
            "email",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/complete_plan.json")).unwrap_or(Value::Null)
}

/// Every JSON Pointer of a document.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{prefix}/{k}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn date() -> impl Strategy<Value = time::Date> {
    (2016i32..2040, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
        time::Date::from_calendar_date(
            y,
            time::Month::try_from(m).unwrap_or(time::Month::January),
            d,
        )
        .unwrap_or(time::Date::MIN)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn validation_never_panics_and_is_deterministic(doc in json(), filed_on in date()) {
        for level in [Level::Draft, Level::Submission] {
            let ctx = Context { level, filed_on };
            let first = validate_json(&doc, &ctx).1;
            let second = validate_json(&doc, &ctx).1;
            prop_assert_eq!(first, second);
        }
    }

    #[test]
    fn mutating_any_field_of_a_valid_plan_never_panics(index in any::<prop::sample::Index>(), replacement in json(), filed_on in date()) {
        let mut doc = fixture();
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pointer = index.get(&all).clone();
        if let Some(slot) = doc.pointer_mut(&pointer) {
            *slot = replacement;
        }
        let ctx = Context { level: Level::Submission, filed_on };
        let (plan, first) = validate_json(&doc, &ctx);
        prop_assert_eq!(&first, &validate_json(&doc, &ctx).1);
        // Whatever was sent round-trips through the model unchanged.
        if let Some(plan) = plan {
            let out = serde_json::to_value(&plan).unwrap_or(Value::Null);
            let again = Plan::from_json(out.clone()).ok();
            prop_assert_eq!(again.as_ref(), Some(&plan));
        }
    }

    #[test]
    fn routing_never_panics_and_is_deterministic(
        fields in prop::collection::vec(prop_oneof!["[0-9]{2,4}", ".{0,6}", Just("7242".to_string()), Just("4711".to_string())], 0..4),
        prefecture in prop_oneof!["[0-9]{2}", ".{0,3}"],
        guideline in proptest::option::of(prop::sample::select(vec!["manufacturing", "basic_policy", "trucking", "nope"])),
    ) {
        let codes: Vec<&str> = fields.iter().map(String::as_str).collect();
        let guidelines: Vec<&str> = guideline.into_iter().collect();
        let request = RoutingRequest { fields: &codes, guidelines: &guidelines, prefecture: &prefecture };
        prop_assert_eq!(route(&request), route(&request));
    }
}
