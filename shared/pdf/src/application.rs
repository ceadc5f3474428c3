//! 申請書: the whole 様式第1 in its official order — the cover page (認定申請書) and the 別紙
//! 「経営力向上計画」 sections 1–10 with the contact person, support organisation and consents —
//! for plans finalised for paper and for the record of every submission.

use keiryoku_domain::dates::{wareki, wareki_month};
use keiryoku_domain::guidelines;
use keiryoku_domain::plan::{
    AssetClass, EntityType, Field, Integer, Kind, Number, Plan, SupportType, Typed, YearMonth, get,
    rows,
};
use keiryoku_domain::tables::tables;
use printpdf::PdfDocument;
use time::Date;

use crate::PdfError;
use crate::certificate::period_text;
use crate::flow::{Column, Flow};
use crate::font::font;
use crate::page::Align;
use crate::save::{Deflate, save};

/// What the application PDF states besides the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationMeta {
    /// 申請日.
    pub applied_on: Date,
    /// 宛先: the competent authorities' titles (several for a joint plan).
    pub addressees: Vec<String>,
    /// 受付番号, once received.
    pub receipt_number: Option<String>,
}

impl ApplicationMeta {
    /// The meta of an application filed on `applied_on` with the authorities `office_ids` (their
    /// addressee titles from the routing tables; unknown ids are left out).
    pub fn for_offices(
        applied_on: Date,
        office_ids: &[String],
        receipt_number: Option<String>,
    ) -> ApplicationMeta {
        let tables = keiryoku_domain::tables::tables();
        ApplicationMeta {
            applied_on,
            addressees: office_ids
                .iter()
                .filter_map(|o| tables.office(o).map(|(_, office)| office.title.clone()))
                .collect(),
            receipt_number,
        }
    }
}

/// A field as printed: the value, or what was sent when it is not of the expected type.
fn text<T>(field: &Field<T>, show: impl Fn(&T) -> String) -> String {
    match field {
        None => String::new(),
        Some(Typed::Ok(v)) => show(v),
        Some(Typed::Invalid { raw, .. }) => raw.to_string(),
    }
}

fn plain(field: &Field<String>) -> String {
    text(field, Clone::clone)
}

/// 1,234,567
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn integer(field: &Field<Integer>) -> String {
    text(field, |Integer(n)| grouped(*n))
}

fn number(field: &Field<Number>) -> String {
    text(field, |Number(d)| d.normalize().to_string())
}

fn yes_no(field: &Field<bool>, yes: &str, no: &str) -> String {
    text(field, |b| if *b { yes.to_string() } else { no.to_string() })
}

fn month(field: &Field<YearMonth>) -> String {
    text(field, |m| {
        wareki_month(m.year, m.month).unwrap_or_else(|| format!("{}-{:02}", m.year, m.month))
    })
}

fn asset_class(class: &AssetClass) -> String {
    match class {
        AssetClass::Machinery => "機械装置",
        AssetClass::Tools => "工具",
        AssetClass::Fixtures => "器具備品",
        AssetClass::BuildingFixtures => "建物附属設備",
        AssetClass::Software => "ソフトウェア",
        AssetClass::Building => "建物",
    }
    .to_string()
}

fn support_type(t: &SupportType) -> String {
    format!("{t:?}類型")
}

const CIRCLED: [&str; 10] = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩"];

/// Renders the application.
pub fn render(plan: &Plan, meta: &ApplicationMeta) -> Result<Vec<u8>, PdfError> {
    let mut doc = PdfDocument::new("経営力向上計画に係る認定申請書");
    let font_id = doc.add_font(font());
    let midnight = meta.applied_on.midnight().assume_utc().unix_timestamp();
    if let Ok(at) = printpdf::OffsetDateTime::from_unix_timestamp(midnight) {
        doc.metadata.info.creation_date = at;
        doc.metadata.info.modification_date = at;
        doc.metadata.info.metadata_date = at;
    }
    let mut flow = Flow::new(font_id, 20.0, 10.0, "経営力向上計画に係る認定申請書");
    let applicant = get(&plan.applicant);
    let is_change = matches!(get(&plan.kind), Some(Kind::Change { .. }));

    // Cover page (様式第1 / 様式第3 for a change).
    flow.line(
        if is_change {
            "様式第3"
        } else {
            "様式第1"
        },
        10.0,
        Align::Left,
    );
    if let Some(receipt) = &meta.receipt_number {
        flow.line(&format!("受付番号 {receipt}"), 10.0, Align::Right);
    }
    flow.line(
        &wareki(meta.applied_on).ok_or(PdfError::Date)?,
        10.5,
        Align::Right,
    );
    flow.gap(1.0);
    for addressee in &meta.addressees {
        flow.line(&format!("{addressee}　殿"), 11.0, Align::Left);
    }
    flow.gap(1.0);
    let address = applicant
        .and_then(|a| get(&a.head_office))
        .map(|h| {
            let prefecture = get(&h.prefecture_code)
                .and_then(|c| tables().prefecture(c))
                .map(|p| p.name.clone())
                .unwrap_or_default();
            format!("{prefecture}{}", plain(&h.address))
        })
        .unwrap_or_default();
    let name = applicant.map(|a| plain(&a.name)).unwrap_or_default();
    let representative = applicant
        .map(|a| {
            format!(
                "{}　{}",
                plain(&a.representative_title),
                plain(&a.representative_name)
            )
        })
        .unwrap_or_default();
    for (label, value) in [
        ("住所", address.as_str()),
        ("名称", name.as_str()),
        ("代表者の氏名", representative.trim()),
    ] {
        flow.paragraph(&format!("{label}　{value}"), 80.0);
    }
    flow.gap(2.0);
    flow.line(
        if is_change {
            "経営力向上計画の変更に係る認定申請書"
        } else {
            "経営力向上計画に係る認定申請書"
        },
        14.0,
        Align::Centre,
    );
    flow.gap(1.0);
    flow.paragraph(
        if is_change {
            "中小企業等経営強化法第18条第1項の規定に基づき、別紙のとおり経営力向上計画の変更の認定を受けたいので申請します。"
        } else {
            "中小企業等経営強化法第17条第1項の規定に基づき、別紙の経営力向上計画について認定を受けたいので申請します。"
        },
        0.0,
    );

    // 別紙 「経営力向上計画」.
    flow.new_page();
    flow.line("（別紙）", 10.0, Align::Left);
    flow.line("経営力向上計画", 13.0, Align::Centre);

    flow.heading("1　名称等");
    let entity = applicant.and_then(|a| get(&a.entity_type));
    let rows_1: Vec<Vec<String>> = match applicant {
        Some(a) => vec![
            vec!["事業者の氏名又は名称".into(), plain(&a.name)],
            vec![
                "代表者の役職名及び氏名".into(),
                format!(
                    "{}　{}",
                    plain(&a.representative_title),
                    plain(&a.representative_name)
                )
                .trim()
                .to_string(),
            ],
            vec![
                "資本金又は出資の額".into(),
                text(&a.capital_yen, |Integer(n)| format!("{}円", grouped(*n))),
            ],
            vec![
                "常時使用する従業員の数".into(),
                text(&a.employees, |Integer(n)| format!("{}人", grouped(*n))),
            ],
            vec![
                "法人番号".into(),
                if entity == Some(&EntityType::SoleProprietor) {
                    "（個人事業主）".into()
                } else {
                    plain(&a.corporate_number)
                },
            ],
        ],
        None => Vec::new(),
    };
    let two = |flow: &Flow| {
        [
            Column {
                header: "項目",
                width_mm: 55.0,
            },
            Column {
                header: "内容",
                width_mm: flow.width() - 55.0,
            },
        ]
    };
    let cols = two(&flow);
    flow.table(&cols, &rows_1, 9.5);

    flow.heading("2　事業分野と事業分野別指針名");
    let jsic = &tables().jsic;
    let field_rows: Vec<Vec<String>> = rows(&plan.business_fields)
        .map(|(_, f)| {
            let show = |code: &Field<String>| {
                text(code, |c| {
                    format!("{c} {}", jsic.name(c).unwrap_or(""))
                        .trim()
                        .to_string()
                })
            };
            vec![show(&f.middle_code), show(&f.detail_code)]
        })
        .collect();
    let half = flow.width() / 2.0;
    flow.table(
        &[
            Column {
                header: "事業分野（中分類）",
                width_mm: half,
            },
            Column {
                header: "事業分野（細分類）",
                width_mm: half,
            },
        ],
        &field_rows,
        9.5,
    );
    // A plan across fields names each of its guidelines, the main one first.
    let names: Vec<String> = plan
        .guideline_ids()
        .into_iter()
        .filter_map(|id| guidelines::find(Some(id)))
        .filter(|g| g.id != guidelines::BASIC_POLICY)
        .map(|g| g.name.clone())
        .collect();
    let guideline_name = if names.is_empty() {
        "（基本方針）".to_string()
    } else {
        names.join("、")
    };
    flow.paragraph(&format!("事業分野別指針名：{guideline_name}"), 0.0);

    flow.heading("3　実施時期");
    flow.paragraph(
        &text(&plan.period, |p| period_text(p).unwrap_or_default()),
        0.0,
    );

    flow.heading("4　現状認識");
    if let Some(state) = get(&plan.current_state) {
        for (label, field) in [
            ("①自社の事業概要", &state.business_overview),
            (
                "②自社の商品・サービスが対象とする顧客・市場の動向、競合の動向",
                &state.market,
            ),
            ("③自社の経営状況", &state.management_status),
            ("④経営課題", &state.challenges),
        ] {
            flow.paragraph(label, 0.0);
            flow.paragraph(&plain(field), 4.0);
        }
    }

    flow.heading("5　経営力向上の目標及び経営力向上による経営の向上の程度を示す指標");
    let main_guideline = get(&plan.guideline_id).map(String::as_str);
    let indicator_rows: Vec<Vec<String>> = rows(&plan.indicators)
        .map(|(_, i)| {
            let id = get(&i.indicator_id).map(String::as_str).unwrap_or("");
            // Each indicator under its own guideline (a plan across fields has several).
            let guideline = get(&i.guideline_id).map(String::as_str).or(main_guideline);
            let spec = guidelines::find(guideline).and_then(|g| g.indicator(id));
            let name = match (spec, id) {
                (Some(s), _) => s.name.clone(),
                (None, "custom") => plain(&i.custom_name),
                (None, other) => other.to_string(),
            };
            // A custom indicator improves the way the applicant stated (a 離職率 falls).
            let direction = spec
                .map(|s| s.direction)
                .or_else(|| get(&i.direction).copied())
                .unwrap_or(keiryoku_domain::tables::Direction::Higher);
            let rate = match (get(&i.baseline), get(&i.target)) {
                (Some(Number(a)), Some(Number(b))) => {
                    keiryoku_domain::indicators::change(*a, *b, direction, None)
                        .map(|c| format!("{} {}%", c.label, c.rate_percent))
                        .unwrap_or_default()
                }
                _ => String::new(),
            };
            vec![name, number(&i.baseline), number(&i.target), rate]
        })
        .collect();
    let w = flow.width();
    flow.table(
        &[
            Column {
                header: "指標の種類",
                width_mm: w * 0.34,
            },
            Column {
                header: "現状（数値A）",
                width_mm: w * 0.2,
            },
            Column {
                header: "計画終了時の目標（数値B）",
                width_mm: w * 0.24,
            },
            Column {
                header: "伸び率／減少率",
                width_mm: w * 0.22,
            },
        ],
        &indicator_rows,
        9.0,
    );

    flow.heading("6　経営力向上の内容");
    if let Some(m) = get(&plan.measures) {
        flow.paragraph(
            &format!(
                "(1) 現に有する経営資源を利用するものか：{}",
                yes_no(&m.uses_existing_resources, "有", "無")
            ),
            0.0,
        );
        flow.paragraph(
            &format!(
                "(2) 他の事業者から取得した又は取得する経営資源を利用するものか：{}",
                yes_no(&m.uses_acquired_resources, "有", "無")
            ),
            0.0,
        );
        let item_rows: Vec<Vec<String>> = rows(&m.items)
            .map(|(_, item)| {
                let succession = text(&item.succession_type, |Integer(n)| {
                    usize::try_from(*n - 1)
                        .ok()
                        .and_then(|i| CIRCLED.get(i))
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| n.to_string())
                });
                vec![
                    integer(&item.number),
                    plain(&item.guideline_reference),
                    plain(&item.description),
                    succession,
                ]
            })
            .collect();
        flow.table(
            &[
                Column {
                    header: "番号",
                    width_mm: 12.0,
                },
                Column {
                    header: "事業分野別指針の該当箇所",
                    width_mm: 32.0,
                },
                Column {
                    header: "実施事項",
                    width_mm: w - 12.0 - 32.0 - 30.0,
                },
                Column {
                    header: "事業承継等の種類",
                    width_mm: 30.0,
                },
            ],
            &item_rows,
            9.0,
        );
    }

    flow.heading("7　経営力向上を実施するために必要な資金の額及びその調達方法");
    let fund_rows: Vec<Vec<String>> = rows(&plan.funds)
        .map(|(_, f)| {
            vec![
                integer(&f.measure_number),
                plain(&f.purpose),
                plain(&f.source),
                integer(&f.amount_thousand_yen),
            ]
        })
        .collect();
    flow.table(
        &[
            Column {
                header: "実施事項",
                width_mm: 18.0,
            },
            Column {
                header: "使途・用途",
                width_mm: (w - 18.0 - 28.0) / 2.0,
            },
            Column {
                header: "資金調達方法",
                width_mm: (w - 18.0 - 28.0) / 2.0,
            },
            Column {
                header: "金額（千円）",
                width_mm: 28.0,
            },
        ],
        &fund_rows,
        9.0,
    );

    flow.heading("8　経営力向上設備等の種類");
    let equipment_rows: Vec<Vec<String>> = rows(&plan.equipment)
        .map(|(_, e)| {
            vec![
                integer(&e.measure_number),
                month(&e.acquisition_month),
                text(&e.support_type, support_type),
                plain(&e.name_model),
                plain(&e.location),
                text(&e.asset_class, asset_class),
                integer(&e.unit_price_yen),
                integer(&e.quantity),
                integer(&e.amount_yen),
                plain(&e.document_number),
            ]
        })
        .collect();
    let fixed = 10.0 + 20.0 + 12.0 + 16.0 + 20.0 + 10.0 + 22.0;
    let flexible = (w - fixed) / 3.0;
    flow.table(
        &[
            Column {
                header: "番号",
                width_mm: 10.0,
            },
            Column {
                header: "取得年月",
                width_mm: 20.0,
            },
            Column {
                header: "支援措置",
                width_mm: 12.0,
            },
            Column {
                header: "名称・型式",
                width_mm: flexible,
            },
            Column {
                header: "設置場所",
                width_mm: flexible,
            },
            Column {
                header: "種類",
                width_mm: 16.0,
            },
            Column {
                header: "単価（円）",
                width_mm: 20.0,
            },
            Column {
                header: "数量",
                width_mm: 10.0,
            },
            Column {
                header: "金額（円）",
                width_mm: 22.0,
            },
            Column {
                header: "証明書等の文書番号",
                width_mm: flexible,
            },
        ],
        &equipment_rows,
        7.5,
    );

    flow.heading("9　特定許認可等に基づく被承継等特定事業者等の地位");
    let licence_rows: Vec<Vec<String>> = rows(&plan.licence_successions)
        .map(|(_, l)| {
            vec![
                plain(&l.licence),
                plain(&l.legal_basis),
                plain(&l.predecessor),
            ]
        })
        .collect();
    flow.table(
        &[
            Column {
                header: "許認可等の名称",
                width_mm: w / 3.0,
            },
            Column {
                header: "根拠法令",
                width_mm: w / 3.0,
            },
            Column {
                header: "被承継等特定事業者等の名称",
                width_mm: w / 3.0,
            },
        ],
        &licence_rows,
        9.0,
    );

    flow.heading("10　事業承継等事前調査に関する事項");
    if let Some(dd) = get(&plan.due_diligence) {
        flow.paragraph(&format!("実施者：{}", plain(&dd.performed_by)), 0.0);
        flow.paragraph(&plain(&dd.scope), 4.0);
    } else {
        flow.paragraph("（該当なし）", 0.0);
    }

    flow.heading("本件担当者・認定経営革新等支援機関・同意事項");
    let contact = get(&plan.contact);
    let support = get(&plan.support_organisation);
    let other_rows = vec![
        vec![
            "担当者の氏名".into(),
            contact.map(|c| plain(&c.name)).unwrap_or_default(),
        ],
        vec![
            "部署".into(),
            contact.map(|c| plain(&c.department)).unwrap_or_default(),
        ],
        vec![
            "電話番号".into(),
            contact.map(|c| plain(&c.phone)).unwrap_or_default(),
        ],
        vec![
            "E-mail".into(),
            contact.map(|c| plain(&c.email)).unwrap_or_default(),
        ],
        vec![
            "認定経営革新等支援機関".into(),
            support.map(|s| plain(&s.name)).unwrap_or_default(),
        ],
        vec![
            "認定事業者名の公表".into(),
            yes_no(&plan.publication_consent, "可", "否"),
        ],
        vec![
            "データ利活用への同意".into(),
            yes_no(&plan.data_use_consent, "同意する", "同意しない"),
        ],
    ];
    let cols = two(&flow);
    flow.table(&cols, &other_rows, 9.5);

    let pages = flow.finish();
    save(doc.with_pages(pages), Deflate::Fast)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(20_000_000), "20,000,000");
        assert_eq!(grouped(-1_234_567), "-1,234,567");
    }

    #[test]
    fn an_empty_plan_still_renders() {
        let meta = ApplicationMeta {
            applied_on: time::macros::date!(2026 - 11 - 26),
            addressees: vec![],
            receipt_number: None,
        };
        let pdf = render(&Plan::default(), &meta);
        assert!(pdf.is_ok_and(|b| b.starts_with(b"%PDF-")));
    }
}
