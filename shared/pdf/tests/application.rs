//! The application PDF (申請書): every section of 様式第1 in the official order, long tables
//! flowing over pages with their rows intact. Read back with poppler's `pdftotext` and `pdfinfo`.

use std::path::PathBuf;
use std::process::Command;

use keiryoku_domain::plan::Plan;
use keiryoku_pdf::application::{ApplicationMeta, render};
use serde_json::{Value, json};

fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../../domain/tests/fixtures/complete_plan.json"
    ))
    .unwrap_or(Value::Null)
}

/// The text without any whitespace (ASCII or full-width).
fn squash(text: &str) -> String {
    text.split_whitespace().collect()
}

fn meta() -> ApplicationMeta {
    ApplicationMeta {
        applied_on: time::macros::date!(2026 - 11 - 26),
        addressees: vec!["関東経済産業局長".into()],
        receipt_number: Some("R2026-000123".into()),
    }
}

fn read_back(name: &str, plan: Value) -> (String, u32) {
    let Ok(plan) = Plan::from_json(plan) else {
        panic!("plan")
    };
    let Ok(pdf) = render(&plan, &meta()) else {
        panic!("render")
    };
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, &pdf).unwrap_or_else(|e| panic!("{e}"));
    let text = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let text = text
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| panic!("pdftotext: {e}"));
    let info = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    let pages = info
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Pages:")
                .map(|p| p.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    (text, pages)
}

#[test]
fn every_section_appears_in_the_official_order() {
    let (text, pages) = read_back("application.pdf", fixture());
    let order = [
        "様式第1",
        "受付番号 R2026-000123",
        "令和8年11月26日",
        "関東経済産業局長　殿",
        "株式会社霞が関精機",
        "経営力向上計画に係る認定申請書",
        "中小企業等経営強化法第17条第1項",
        "（別紙）",
        "1　名称等",
        "30,000,000円",
        "42人",
        "9010401234567",
        "2　事業分野と事業分野別指針名",
        "2431 配管工事用附属品製造業（バルブ、コックを除く）",
        "2592 弁・同附属品製造業",
        "製造業に係る経営力向上に関する指針",
        "3　実施時期",
        "令和9年1月～令和11年12月（36か月）",
        "4　現状認識",
        "5　経営力向上の目標",
        "伸び率 1%",
        "6　経営力向上の内容",
        "7　経営力向上を実施するために必要な資金",
        "1,500",
        "8　経営力向上設備等の種類",
        "工業会証明書",
        "9　特定許認可等",
        "10　事業承継等事前調査",
        "本件担当者",
        "hanako.kasumi@kasumigaseki-seiki.example.jp",
    ];
    // Compared without whitespace: pdftotext lays full-width spaces and columns out as spaces.
    let text = squash(&text);
    let mut from = 0;
    for expected in order.map(squash) {
        match text[from..].find(&expected) {
            Some(at) => from += at + expected.len(),
            None => panic!("{expected:?} missing or out of order after byte {from}:\n{text}"),
        }
    }
    assert!(pages >= 2, "cover page and 別紙");
}

#[test]
fn long_tables_flow_over_pages_without_losing_rows() {
    let mut plan = fixture();
    let items: Vec<Value> = (1..=40)
        .map(|n| json!({"number": n, "description": format!("実施事項その{n}。設備の導入と運用の改善を段階的に進め、効果を測定して次の施策に反映する。")}))
        .collect();
    plan["measures"]["items"] = Value::Array(items);
    let (text, pages) = read_back("long.pdf", plan);
    assert!(pages >= 4, "40 items need several pages, got {pages}");
    for n in [1, 17, 29, 40] {
        assert!(
            text.contains(&format!("実施事項その{n}。")),
            "item {n} missing"
        );
    }
    // The header is repeated on the pages a table continues on (its text wraps in the column).
    assert!(text.matches("事業分野別指針の該").count() >= 2);
    assert!(
        squash(&text).contains(&format!("{pages}/{pages}")),
        "page numbers n / total"
    );
}

#[test]
fn a_change_application_uses_form_3() {
    let mut plan = fixture();
    plan["kind"] = json!({"type": "change", "certification": {"number": "関東第2025-0001号", "certified_on": "2025-02-10", "office_id": "meti-kanto", "period": {"start": "2025-03", "months": 36}}});
    let (text, _) = read_back("change.pdf", plan);
    assert!(
        text.contains("様式第3") && text.contains("変更の認定"),
        "{text}"
    );
}

/// A plan across two fields names both guidelines; a custom lower-is-better indicator is
/// printed with its 減少率, each indicator under its own guideline.
#[test]
fn several_guidelines_and_a_custom_indicators_direction_are_printed() {
    let mut plan = fixture();
    plan["guideline_id"] = json!("nursing_care");
    plan["additional_guidelines"] = json!([{ "guideline_id": "manufacturing" }]);
    plan["indicators"] = json!([
        { "indicator_id": "custom", "custom_name": "自社の離職率", "direction": "lower", "baseline": "20", "target": "15" },
        { "guideline_id": "manufacturing", "indicator_id": "ordinary_profit_margin", "baseline": "100", "target": "103" }
    ]);
    let (text, _) = read_back("several-guidelines.pdf", plan);
    let text = squash(&text);
    assert!(text.contains("介護分野に係る"), "{text}");
    assert!(text.contains("製造業に係る"), "{text}");
    assert!(text.contains("自社の離職率2015減少率25%"), "{text}");
    assert!(text.contains("売上高経常利益率100103伸び率3%"), "{text}");
}
