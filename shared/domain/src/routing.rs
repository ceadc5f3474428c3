//! 提出先: the competent authorities of a plan, from its business fields (JSIC 細分類), its
//! guideline and the head office's prefecture. Every answer carries its explanation: which rule
//! and table rows matched, and the table versions, so applicants and reviewers can see why.
//!
//! ```
//! use keiryoku_domain::routing::{route, RoutingRequest, Outcome};
//! let outcome = route(&RoutingRequest { fields: &["2411"], guidelines: &["manufacturing"], prefecture: "13" }).unwrap();
//! let Outcome::Authorities(routing) = outcome else { panic!() };
//! assert_eq!(routing.authorities[0].addressee_title, "関東経済産業局長");
//! assert!(routing.e_filing && !routing.joint);
//! assert_eq!(routing.processing_days, 14);
//! ```

use serde::{Deserialize, Serialize};

use crate::tables::{FieldRoute, FieldRule, Tables, tables};

/// What to route.
#[derive(Debug, Clone, Copy)]
pub struct RoutingRequest<'a> {
    /// 細分類 codes (4 digits) of the plan's business fields; 中分類 or 小分類 codes are accepted too.
    pub fields: &'a [&'a str],
    /// The plan's 事業分野別指針 (several for a plan across fields; none: 基本方針).
    pub guidelines: &'a [&'a str],
    /// 本店所在地 prefecture, JIS X 0401 code ("13").
    pub prefecture: &'a str,
}

/// Why a request cannot be routed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("no business field")]
    NoField,
    #[error("unknown industry code {0}")]
    UnknownField(String),
    #[error("unknown prefecture {0}")]
    UnknownPrefecture(String),
    #[error("table inconsistency: {0}")]
    Table(String),
}

/// One competent authority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Authority {
    pub ministry_id: String,
    /// 省庁名.
    pub ministry_name: String,
    pub office_id: String,
    /// 提出先 office.
    pub office_name: String,
    /// 宛先 on the application and the certificate (関東経済産業局長).
    pub addressee_title: String,
    /// Whether this authority takes e-filing.
    pub e_filing: bool,
    /// Whether every table row behind this answer is confirmed by a source.
    pub verified: bool,
}

/// Which rule a step of the explanation applied.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The business field's ministry.
    Field,
    /// The regional office of the head office's prefecture.
    Prefecture,
    /// Maritime fields (船舶・倉庫) go to the 運輸局 or 運輸監理部.
    Maritime,
    /// The chosen guideline's ministry.
    Guideline,
    /// Several ministries: 共管.
    Joint,
    /// Whether every authority takes e-filing.
    EFiling,
    /// A change application goes back to the authorities that certified the plan.
    Change,
    /// Certified by the legacy system and carried over (the authorities it named).
    Migrated,
}

/// One step of the explanation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Step {
    pub rule: Rule,
    /// The table and row that matched (`fields.json#24`).
    pub row: String,
    /// In Japanese, for the applicant.
    pub message: String,
    pub verified: bool,
    pub source: String,
}

/// The competent authorities and what follows from them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Routing {
    pub authorities: Vec<Authority>,
    /// 共管: more than one ministry must approve.
    pub joint: bool,
    /// Whether the plan can be filed electronically (every authority takes e-filing).
    pub e_filing: bool,
    /// 標準処理期間 in days: 45 joint, 14 e-filed, 30 on paper.
    pub processing_days: u32,
    /// How those days are counted, as the source words it (14 e-filed days exclude holidays).
    pub processing_count: crate::rules::DayCount,
    pub explanation: Vec<Step>,
    pub table_versions: TableVersions,
}

/// The answer: authorities, or the call centre.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Authorities(Routing),
    /// The platform cannot decide: the applicant asks 中小企業税制サポートセンター.
    CallCentre {
        reasons: Vec<String>,
        explanation: Vec<Step>,
        table_versions: TableVersions,
    },
}

pub use crate::tables::TableVersions;

/// The 中小企業税制サポートセンター, where applicants are sent when the platform cannot decide.
pub const CALL_CENTRE: &str = "中小企業税制サポートセンター（03-6281-9821）";

/// The most specific rule for a JSIC code: 細分類, 小分類, then 中分類.
pub fn field_rule(code: &str) -> Option<&'static FieldRule> {
    field_rule_in(tables(), code)
}

/// [`field_rule`] in the tables `t`.
pub fn field_rule_in<'t>(t: &'t Tables, code: &str) -> Option<&'t FieldRule> {
    for len in [4, 3] {
        if code.len() >= len
            && let Some(rule) = t.fields.overrides.iter().find(|r| r.code == code[..len])
        {
            return Some(rule);
        }
    }
    let middle = code.get(..2)?;
    t.fields.middle_categories.iter().find(|r| r.code == middle)
}

/// Routes a plan.
pub fn route(request: &RoutingRequest<'_>) -> Result<Outcome, RoutingError> {
    route_in(tables(), request)
}

/// [`route`] over the tables `t` (a candidate set is checked this way before it is installed).
pub fn route_in(t: &Tables, request: &RoutingRequest<'_>) -> Result<Outcome, RoutingError> {
    if request.fields.is_empty() {
        return Err(RoutingError::NoField);
    }
    let prefecture = t
        .prefecture(request.prefecture)
        .ok_or_else(|| RoutingError::UnknownPrefecture(request.prefecture.to_string()))?;
    let versions = t.versions();
    let mut explanation = Vec::new();
    let mut call_centre = Vec::new();
    let mut authorities: Vec<Authority> = Vec::new();

    for code in request.fields {
        let name = t
            .jsic
            .name(code)
            .ok_or_else(|| RoutingError::UnknownField(code.to_string()))?;
        let rule =
            field_rule_in(t, code).ok_or_else(|| RoutingError::UnknownField(code.to_string()))?;
        match &rule.route {
            FieldRoute::CallCentre(reason) => {
                explanation.push(Step {
                    rule: Rule::Field,
                    row: format!("fields.json#{}", rule.code),
                    message: format!(
                        "事業分野「{code} {name}」は提出先を自動で判定できません（{reason}）。{CALL_CENTRE}にお問い合わせください。"
                    ),
                    verified: rule.verified,
                    source: rule.source.clone(),
                });
                call_centre.push(format!("{code} {name}: {reason}"));
            }
            FieldRoute::Networks(networks) => {
                for network_id in networks {
                    let network = t.network(network_id).ok_or_else(|| {
                        RoutingError::Table(format!(
                            "fields.json#{} names unknown network {network_id}",
                            rule.code
                        ))
                    })?;
                    let ministry = t.ministry(&network.ministry).ok_or_else(|| {
                        RoutingError::Table(format!(
                            "network {network_id}: unknown ministry {}",
                            network.ministry
                        ))
                    })?;
                    explanation.push(Step {
                        rule: Rule::Field,
                        row: format!("fields.json#{}", rule.code),
                        message: format!(
                            "事業分野「{code} {name}」は{}の所管です（{}の区分「{} {}」）。",
                            ministry.name,
                            if rule.code.len() == 2 {
                                "中分類"
                            } else if rule.code.len() == 3 {
                                "小分類"
                            } else {
                                "細分類"
                            },
                            rule.code,
                            rule.name
                        ),
                        verified: rule.verified,
                        source: rule.source.clone(),
                    });
                    let maritime = network.maritime_overrides.iter().find(|o| {
                        o.prefecture == prefecture.code
                            && o.codes.iter().any(|c| code.starts_with(c.as_str()))
                    });
                    let (office, office_verified, office_step) = if let Some(over) = maritime {
                        let (_, office) = t.office(&over.office).ok_or_else(|| {
                            RoutingError::Table(format!(
                                "maritime override names unknown office {}",
                                over.office
                            ))
                        })?;
                        let step = Step {
                            rule: Rule::Maritime,
                            row: format!(
                                "authorities.json#{}/maritime/{}/{}",
                                network.id,
                                over.prefecture,
                                over.codes.join("+")
                            ),
                            message: format!(
                                "{}の{}は{}が担当します。",
                                prefecture.name, over.name, office.name
                            ),
                            verified: over.verified,
                            source: over.source.clone(),
                        };
                        (office, over.verified, step)
                    } else {
                        let office = network
                            .offices
                            .iter()
                            .find(|o| o.prefectures.contains(&prefecture.code))
                            .ok_or_else(|| {
                                RoutingError::Table(format!(
                                    "network {network_id} covers no office for {}",
                                    prefecture.code
                                ))
                            })?;
                        let step = Step {
                            rule: Rule::Prefecture,
                            row: format!("authorities.json#{}/{}", network.id, office.id),
                            message: format!(
                                "本店所在地（{} {}）を管轄する{}が提出先です。",
                                prefecture.code, prefecture.name, office.name
                            ),
                            verified: office.verified,
                            source: office.source.clone(),
                        };
                        (office, office.verified, step)
                    };
                    explanation.push(office_step);
                    if authorities.iter().any(|a| a.office_id == office.id) {
                        continue;
                    }
                    authorities.push(Authority {
                        ministry_id: ministry.id.clone(),
                        ministry_name: ministry.name.clone(),
                        office_id: office.id.clone(),
                        office_name: office.name.clone(),
                        addressee_title: office.title.clone(),
                        e_filing: ministry.e_filing,
                        verified: rule.verified && office_verified && ministry.verified,
                    });
                }
            }
        }
        let cited: Vec<&str> = request
            .guidelines
            .iter()
            .copied()
            .filter(|g| *g != "basic_policy" && !g.is_empty())
            .collect();
        if !cited.is_empty() && !rule.guidelines.iter().any(|g| cited.contains(&g.as_str())) {
            explanation.push(Step {
                rule: Rule::Guideline,
                row: format!("fields.json#{}", rule.code),
                message: format!(
                    "選択した事業分野別指針は事業分野「{code} {name}」に通常対応する指針（{}）と異なります。内容をご確認ください。",
                    rule.guidelines.join("、")
                ),
                verified: rule.verified,
                source: rule.source.clone(),
            });
        }
    }

    if !call_centre.is_empty() {
        return Ok(Outcome::CallCentre {
            reasons: call_centre,
            explanation,
            table_versions: versions,
        });
    }
    let mut ministries: Vec<&str> = authorities.iter().map(|a| a.ministry_id.as_str()).collect();
    ministries.sort_unstable();
    ministries.dedup();
    let joint = ministries.len() > 1;
    let e_filing = authorities.iter().all(|a| a.e_filing);
    let days = &t.rules.processing_days;
    let period = if joint {
        days.value.joint
    } else if e_filing {
        days.value.e_filing
    } else {
        days.value.paper
    };
    let processing_days = period.days;
    if joint {
        explanation.push(Step {
            rule: Rule::Joint,
            row: "rules.json#processing_days".into(),
            message: format!(
                "複数の省庁（{}）が所管する共管の計画です。すべての提出先の認定が必要で、標準処理期間は{}です。",
                authorities.iter().map(|a| a.ministry_name.as_str()).collect::<Vec<_>>().join("・"),
                period.label()
            ),
            verified: days.verified,
            source: days.source.clone(),
        });
    }
    if !e_filing {
        let paper: Vec<&str> = authorities
            .iter()
            .filter(|a| !a.e_filing)
            .map(|a| a.ministry_name.as_str())
            .collect();
        explanation.push(Step {
            rule: Rule::EFiling,
            row: "authorities.json#ministries".into(),
            message: format!(
                "{}は電子申請を受け付けていません。申請書をPDFで印刷し、郵送してください。",
                paper.join("・")
            ),
            verified: true,
            source: "authorities.json ministries[].e_filing".into(),
        });
    }
    Ok(Outcome::Authorities(Routing {
        authorities,
        joint,
        e_filing,
        processing_days,
        processing_count: period.count,
        explanation,
        table_versions: versions,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing(fields: &[&str], prefecture: &str) -> Routing {
        match route(&RoutingRequest {
            fields,
            guidelines: &[],
            prefecture,
        }) {
            Ok(Outcome::Authorities(r)) => r,
            other => panic!("expected authorities for {fields:?} in {prefecture}, got {other:?}"),
        }
    }

    #[test]
    fn every_prefecture_routes_manufacturing_to_a_meti_bureau() {
        let t = tables();
        assert_eq!(t.authorities.prefectures.len(), 47);
        for p in &t.authorities.prefectures {
            let r = routing(&["2411"], &p.code);
            assert_eq!(r.authorities.len(), 1);
            assert_eq!(r.authorities[0].ministry_id, "meti");
            assert!(
                r.authorities[0].addressee_title.ends_with('長'),
                "{:?}",
                r.authorities[0]
            );
            assert!(
                r.explanation
                    .iter()
                    .any(|s| s.rule == Rule::Prefecture && s.message.contains(&p.name))
            );
        }
    }

    #[test]
    fn meti_bureau_table_matches_the_sources() {
        let expected = [
            ("01", "北海道経済産業局"),
            ("04", "東北経済産業局"),
            ("13", "関東経済産業局"),
            ("15", "関東経済産業局"),
            ("19", "関東経済産業局"),
            ("20", "関東経済産業局"),
            ("22", "関東経済産業局"),
            ("16", "中部経済産業局"),
            ("17", "中部経済産業局"),
            ("23", "中部経済産業局"),
            ("18", "近畿経済産業局"),
            ("27", "近畿経済産業局"),
            ("34", "中国経済産業局"),
            ("37", "四国経済産業局"),
            ("40", "九州経済産業局"),
            ("47", "沖縄総合事務局経済産業部"),
        ];
        for (prefecture, office) in expected {
            assert_eq!(
                routing(&["2411"], prefecture).authorities[0].office_name,
                office,
                "{prefecture}"
            );
        }
    }

    #[test]
    fn every_middle_category_has_an_outcome_in_every_prefecture() {
        let t = tables();
        assert_eq!(t.jsic.middle_codes.len(), 99);
        for middle in &t.jsic.middle_codes {
            assert!(field_rule(middle).is_some(), "{middle} has no rule");
            for p in &t.authorities.prefectures {
                let outcome = route(&RoutingRequest {
                    fields: &[middle.as_str()],
                    guidelines: &[],
                    prefecture: &p.code,
                });
                assert!(outcome.is_ok(), "{middle} in {}: {outcome:?}", p.code);
            }
        }
    }

    #[test]
    fn paper_only_ministries() {
        // 酒類製造 → 国税局, paper.
        let sake = routing(&["1023"], "13");
        assert_eq!(sake.authorities[0].ministry_id, "nta");
        assert_eq!(sake.authorities[0].office_name, "東京国税局");
        assert!(!sake.e_filing);
        assert_eq!(sake.processing_days, 30);
        assert!(sake.explanation.iter().any(|s| s.rule == Rule::EFiling));
        // 税理士事務所 → 国税局, paper (verified by the NTA page).
        let tax = routing(&["7242"], "27");
        assert_eq!(tax.authorities[0].office_name, "大阪国税局");
        assert!(!tax.e_filing);
        assert!(
            tax.explanation
                .iter()
                .any(|s| s.row == "fields.json#7242" && s.verified),
            "the NTA page confirms the field rule"
        );
        assert!(
            !tax.authorities[0].verified,
            "the 国税局 jurisdiction table is general knowledge"
        );
        // たばこ・塩 → 財務省, paper.
        for code in ["1051", "1624", "5595", "6091"] {
            let r = routing(&[code], "01");
            assert_eq!(r.authorities[0].ministry_id, "mof", "{code}");
            assert!(!r.e_filing);
        }
    }

    #[test]
    fn each_processing_period_is_counted_as_its_source_words_it() {
        use time::macros::date;
        // Received on Friday 2026-12-25, just before the 12/29–1/3 closure.
        let received = date!(2026 - 12 - 25);
        let e_filed = routing(&["2431"], "13");
        assert_eq!(e_filed.processing_count, crate::rules::DayCount::Business);
        let due = |r: &Routing| {
            crate::rules::Period {
                days: r.processing_days,
                count: r.processing_count,
            }
            .due(received)
        };
        // 14 days excluding holidays: 12/28, then 1/4–1/8, 1/12–1/15 (1/11 成人の日), 1/18–1/21.
        assert_eq!(due(&e_filed), Some(date!(2027 - 01 - 21)));
        // 45 days for a joint plan, 30 on paper: every day counts.
        let joint = routing(&["2431", "0621"], "13");
        assert_eq!(joint.processing_count, crate::rules::DayCount::Calendar);
        assert_eq!(due(&joint), Some(date!(2027 - 02 - 08)));
        let paper = routing(&["1051"], "01");
        assert_eq!(paper.processing_days, 30);
        assert_eq!(due(&paper), Some(date!(2027 - 01 - 24)));
        assert!(
            joint
                .explanation
                .iter()
                .any(|s| s.message.contains("標準処理期間は45日です"))
        );
    }

    #[test]
    fn health_and_welfare_fields_go_to_the_regional_health_bureau() {
        // Since 2018-04-01 the 地方厚生局 take MHLW plans other than labour.
        for (code, prefecture, office) in [
            ("8311", "27", "近畿厚生局"),
            ("8311", "13", "関東信越厚生局"),
            ("8541", "34", "中国四国厚生局"),
            ("7891", "01", "北海道厚生局"),
        ] {
            assert!(tables().jsic.name(code).is_some(), "{code} is a JSIC code");
            let r = routing(&[code], prefecture);
            assert_eq!(
                r.authorities[0].office_name, office,
                "{code} in {prefecture}"
            );
            assert_eq!(r.authorities[0].ministry_id, "mhlw");
            assert!(r.e_filing, "MHLW offices take e-filing");
        }
        // Labour (職業紹介・労働者派遣業) is not a 厚生局 case: it stays with the ministry.
        let labour = routing(&["9111"], "27");
        assert_eq!(labour.authorities[0].office_name, "厚生労働省");
        // 旅館業: a joint plan of the 厚生局 and the 運輸局.
        let inn = routing(&["7511"], "27");
        let offices: Vec<&str> = inn
            .authorities
            .iter()
            .map(|a| a.office_name.as_str())
            .collect();
        assert_eq!(offices, ["近畿厚生局", "近畿運輸局"]);
        assert!(inn.joint);
    }

    #[test]
    fn hyogo_maritime_and_warehousing_go_to_kobe() {
        // 改修5 of the specification: 船舶産業 and 倉庫業 in 兵庫県 go to 神戸運輸監理部長, by code.
        for code in ["3131", "4711", "4721", "4511"] {
            assert!(tables().jsic.name(code).is_some(), "{code} is a JSIC code");
            let r = routing(&[code], "28");
            assert_eq!(r.authorities[0].office_name, "神戸運輸監理部", "{code}");
            assert_eq!(r.authorities[0].addressee_title, "神戸運輸監理部長");
            let step = r
                .explanation
                .iter()
                .find(|s| s.rule == Rule::Maritime)
                .unwrap_or_else(|| panic!("{code}: a maritime step"));
            assert!(step.row.starts_with("authorities.json#"), "{}", step.row);
            // Shipbuilding and warehousing are the specification's own words; water transport
            // is inferred and says so.
            assert_eq!(step.verified, !code.starts_with("45"), "{code}");
        }
        let shipbuilding = routing(&["3131"], "28");
        assert!(
            shipbuilding
                .explanation
                .iter()
                .any(|s| s.message.contains("船舶産業"))
        );
        assert_eq!(
            routing(&["3131"], "27").authorities[0].office_name,
            "近畿運輸局"
        );
        assert_eq!(
            routing(&["4711"], "27").authorities[0].office_name,
            "近畿運輸局"
        );
        // Road freight in Hyogo stays with 近畿運輸局.
        assert_eq!(
            routing(&["4411"], "28").authorities[0].office_name,
            "近畿運輸局"
        );
    }

    #[test]
    fn fields_of_two_ministries_make_a_joint_plan() {
        let r = routing(&["2411", "0611"], "13");
        assert!(r.joint);
        assert_eq!(r.processing_days, 45);
        let offices: Vec<&str> = r
            .authorities
            .iter()
            .map(|a| a.office_name.as_str())
            .collect();
        assert_eq!(offices, vec!["関東経済産業局", "関東地方整備局"]);
        // 旅館業 is itself joint (MHLW and MLIT).
        assert!(routing(&["7511"], "13").joint);
        // Two fields of one ministry are not joint and name the office once.
        let single = routing(&["2411", "2421"], "13");
        assert!(!single.joint && single.authorities.len() == 1);
    }

    #[test]
    fn some_codes_send_the_applicant_to_the_call_centre() {
        let outcome = route(&RoutingRequest {
            fields: &["9999"],
            guidelines: &[],
            prefecture: "13",
        });
        match outcome {
            Ok(Outcome::CallCentre {
                reasons,
                explanation,
                ..
            }) => {
                assert!(!reasons.is_empty());
                assert!(explanation[0].message.contains("03-6281-9821"));
            }
            other => panic!("expected call centre, got {other:?}"),
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert_eq!(
            route(&RoutingRequest {
                fields: &[],
                guidelines: &[],
                prefecture: "13"
            }),
            Err(RoutingError::NoField)
        );
        assert!(matches!(
            route(&RoutingRequest {
                fields: &["0000"],
                guidelines: &[],
                prefecture: "13"
            }),
            Err(RoutingError::UnknownField(_))
        ));
        assert!(matches!(
            route(&RoutingRequest {
                fields: &["2411"],
                guidelines: &[],
                prefecture: "48"
            }),
            Err(RoutingError::UnknownPrefecture(_))
        ));
    }

    #[test]
    fn answers_name_their_tables_and_rows() {
        let r = routing(&["2411"], "13");
        assert_eq!(r.table_versions.fields, tables().fields.version);
        assert!(r.explanation.iter().any(|s| s.row == "fields.json#24"));
        assert!(
            r.explanation
                .iter()
                .any(|s| s.row == "authorities.json#meti-bureaus/meti-kanto")
        );
    }

    #[test]
    fn a_guideline_that_does_not_fit_the_field_is_explained() {
        let outcome = route(&RoutingRequest {
            fields: &["2411"],
            guidelines: &["nursing_care"],
            prefecture: "13",
        });
        let Ok(Outcome::Authorities(r)) = outcome else {
            panic!("routes")
        };
        assert!(r.explanation.iter().any(|s| s.rule == Rule::Guideline));
    }
}
