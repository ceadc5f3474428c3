//! The sections of 様式第1 as pages: which fields each has, in the form's official order, how a
//! field is shown (its control, label, hint, value and problems) and how a posted form becomes
//! a JSON Merge Patch of the plan. The plan, its validation and its rules stay in the domain;
//! this module only knows where each field lives in the plan (its JSON Pointer).

use keiryoku_domain::tables::{Direction, tables};
use keiryoku_domain::validation::{Finding, Report};
use serde_json::{Map, Value};

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One line of text; `width` in characters as a hint of the expected length.
    Text(Width),
    /// An e-mail address or a telephone number (the right keyboard on a phone).
    Email,
    Tel,
    /// Several lines.
    TextArea,
    /// A whole number as the person writes it (`30,000,000`; the domain normalises it).
    Integer,
    /// A decimal number.
    Decimal,
    /// `YYYY-MM`.
    Month,
    /// `YYYY-MM-DD`.
    Date,
    /// One of a list (a drop-down).
    Select(Options),
    /// はい / いいえ, stored as a boolean.
    YesNo,
    /// 36 / 48 / 60 months, stored as a number.
    Months,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Short,
    Medium,
    Full,
}

/// Where a drop-down's choices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Options {
    EntityTypes,
    Prefectures,
    /// 事業分野別指針, in the official order of the table.
    Guidelines,
    /// A further 事業分野別指針 (never the 基本方針).
    AdditionalGuidelines,
    /// The guidelines the plan cites (which one an indicator answers).
    PlanGuidelines,
    /// The indicators the plan's guidelines allow.
    Indicators,
    Directions,
    /// 該当箇所 of the plan's guidelines, in each guideline's own order: a drop-down when every
    /// list is complete, suggestions under a text field when partial, a text field when unknown.
    GuidelineItems,
    /// 事業承継等の種類 ①–⑩.
    SuccessionTypes,
    SupportTypes,
    AssetClasses,
}

/// One field of a section (or of a row, with `key` relative to the row).
#[derive(Debug)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub input: Input,
    /// 必須 on submission (shown next to the label; the domain decides).
    pub required: bool,
    /// Taken from GビズID and not editable here (法人名, 法人番号, 代表者).
    pub from_gbizid: bool,
}

const fn field(key: &'static str, label: &'static str, input: Input) -> FieldSpec {
    FieldSpec {
        key,
        label,
        hint: "",
        input,
        required: true,
        from_gbizid: false,
    }
}

impl FieldSpec {
    const fn hint(mut self, hint: &'static str) -> FieldSpec {
        self.hint = hint;
        self
    }
    const fn optional(mut self) -> FieldSpec {
        self.required = false;
        self
    }
    const fn gbizid(mut self) -> FieldSpec {
        self.from_gbizid = true;
        self
    }
}

/// A list of rows (実施事項, 資金, 設備 …).
#[derive(Debug)]
pub struct RowsSpec {
    /// JSON Pointer of the list (`/funds`).
    pub list: &'static str,
    /// What one row is called (「資金」 → 「資金 1」).
    pub noun: &'static str,
    pub fields: &'static [FieldSpec],
}

/// One section of 様式第1: one page and one line of the task list.
#[derive(Debug)]
pub struct Section {
    pub slug: &'static str,
    pub title: &'static str,
    pub hint: &'static str,
    pub fields: &'static [FieldSpec],
    pub rows: Option<RowsSpec>,
    /// Plan paths whose problems belong here (prefixes).
    pub paths: &'static [&'static str],
    /// Whether a plan may leave it empty.
    pub optional: bool,
}

use Input::*;

/// The sections in 様式第1's official order.
pub static SECTIONS: [Section; 14] = [
    Section {
        slug: "applicant",
        title: "名称等",
        hint: "事業者の名称、代表者、資本金、従業員数、本店所在地。法人名・法人番号・代表者氏名はGビズIDの登録情報から入り、ここでは変更できません。",
        fields: &[
            field("/applicant/entity_type", "法人・個人事業主の別", Select(Options::EntityTypes)).gbizid(),
            field("/applicant/name", "事業者の氏名又は名称", Text(Width::Full)).gbizid(),
            field("/applicant/name_kana", "フリガナ", Text(Width::Full)).hint("全角カタカナで入力してください。"),
            field("/applicant/representative_title", "代表者の役職名", Text(Width::Medium)).hint("例：代表取締役"),
            field("/applicant/representative_name", "代表者の氏名", Text(Width::Medium)).gbizid(),
            field("/applicant/capital_yen", "資本金又は出資の額（円）", Integer).hint("個人事業主の方は空欄にしてください。例：30,000,000").optional(),
            field("/applicant/employees", "常時使用する従業員の数（人）", Integer),
            field("/applicant/corporate_number", "法人番号（13桁）", Text(Width::Medium)).gbizid().optional(),
            field("/applicant/head_office/postal_code", "本店所在地の郵便番号", Text(Width::Short)).hint("例：100-8901"),
            field("/applicant/head_office/prefecture_code", "本店所在地の都道府県", Select(Options::Prefectures)),
            field("/applicant/head_office/address", "本店所在地（市区町村以下）", Text(Width::Full)),
        ],
        rows: None,
        paths: &["/applicant"],
        optional: false,
    },
    Section {
        slug: "business-fields",
        title: "事業分野",
        hint: "日本標準産業分類（第14回改定）の中分類（2桁）と細分類（4桁）。複数の事業分野で計画する場合は行を増やしてください。コードが分からないときは、下の検索で名称から探せます。",
        fields: &[],
        rows: Some(RowsSpec {
            list: "/business_fields",
            noun: "事業分野",
            fields: &[
                field("middle_code", "中分類コード（2桁）", Text(Width::Short)).hint("例：24（金属製品製造業）"),
                field("detail_code", "細分類コード（4桁）", Text(Width::Short)).hint("例：2431"),
            ],
        }),
        paths: &["/business_fields"],
        optional: false,
    },
    Section {
        slug: "guideline",
        title: "事業分野別指針",
        hint: "事業分野に対応する事業分野別指針を選びます。指針がない事業分野は「基本方針」を選んでください。",
        fields: &[field("/guideline_id", "事業分野別指針（主たる指針）", Select(Options::Guidelines))],
        rows: Some(RowsSpec {
            list: "/additional_guidelines",
            noun: "追加の指針",
            fields: &[field("guideline_id", "追加の事業分野別指針", Select(Options::AdditionalGuidelines))
                .hint("複数の事業分野にまたがる計画（例：製造業と建設業）で、ほかの指針にもよる場合に選びます。指標は指針ごとに設定します。")],
        }),
        paths: &["/guideline_id", "/additional_guidelines"],
        optional: false,
    },
    Section {
        slug: "period",
        title: "実施時期",
        hint: "計画の開始月と期間。期間は3年（36か月）、4年（48か月）又は5年（60か月）です。",
        fields: &[
            field("/period/start", "開始年月", Month).hint("例：2027-04（西暦の年と月を「-」でつなぎます）"),
            field("/period/months", "計画期間", Months),
        ],
        rows: None,
        paths: &["/period"],
        optional: false,
    },
    Section {
        slug: "current-state",
        title: "現状認識",
        hint: "自社の事業の概要、顧客・市場の動向、経営状況、経営課題を書きます。",
        fields: &[
            field("/current_state/business_overview", "① 自社の事業概要", TextArea),
            field("/current_state/market", "② 自社の商品・サービスが対象とする顧客・市場の動向、競合の動向", TextArea),
            field("/current_state/management_status", "③ 自社の経営状況", TextArea).hint("ローカルベンチマーク等の指標を使って書きます。"),
            field("/current_state/challenges", "④ 経営課題", TextArea),
        ],
        rows: None,
        paths: &["/current_state"],
        optional: false,
    },
    Section {
        slug: "indicators",
        title: "経営力向上の目標及び指標",
        hint: "事業分野別指針が定める指標の現状（A）と計画終了時の目標（B）。伸び率（減少率）は保存すると計算され、指針の目標を満たすかが表示されます。労働生産性は（営業利益＋人件費＋減価償却費）÷ 労働投入量 で計算します。",
        fields: &[],
        rows: Some(RowsSpec {
            list: "/indicators",
            noun: "指標",
            fields: &[
                field("guideline_id", "この指標の事業分野別指針", Select(Options::PlanGuidelines)).hint("複数の指針による計画の場合に選びます。空欄のときは主たる指針の指標です。").optional(),
                field("indicator_id", "指標", Select(Options::Indicators)),
                field("custom_name", "独自の指標の名称", Text(Width::Full)).hint("指針が独自の指標を認める場合だけ入力します。").optional(),
                field("direction", "独自の指標の向き", Select(Options::Directions)).hint("数値が増えるほど良い指標（伸び率）か、減るほど良い指標（減少率、例：離職率）か。").optional(),
                field("baseline", "現状（数値A）", Decimal),
                field("target", "計画終了時の目標（数値B）", Decimal),
                field("baseline_inputs/operating_profit", "現状の営業利益（千円）", Decimal).hint("労働生産性の場合に入力します。").optional(),
                field("baseline_inputs/personnel_cost", "現状の人件費（千円）", Decimal).optional(),
                field("baseline_inputs/depreciation", "現状の減価償却費（千円）", Decimal).optional(),
                field("baseline_inputs/labour_input", "現状の労働投入量（人、又は人×年間就業時間）", Decimal).optional(),
                field("target_inputs/operating_profit", "目標の営業利益（千円）", Decimal).optional(),
                field("target_inputs/personnel_cost", "目標の人件費（千円）", Decimal).optional(),
                field("target_inputs/depreciation", "目標の減価償却費（千円）", Decimal).optional(),
                field("target_inputs/labour_input", "目標の労働投入量", Decimal).optional(),
            ],
        }),
        paths: &["/indicators"],
        optional: false,
    },
    Section {
        slug: "measures",
        title: "経営力向上の内容",
        hint: "具体的な実施事項。事業分野別指針の該当箇所は、指針が定める順に選べます（分からない指針は文字で入力します）。",
        fields: &[
            field("/measures/uses_existing_resources", "（1）現に有する経営資源を利用するものですか", YesNo),
            field("/measures/uses_acquired_resources", "（2）他の事業者から取得した（又は取得する）経営資源を利用するもの（事業承継等）ですか", YesNo),
        ],
        rows: Some(RowsSpec {
            list: "/measures/items",
            noun: "実施事項",
            fields: &[
                field("number", "番号", Integer).hint("資金と設備の表から、この番号で参照します。"),
                field("guideline_reference", "事業分野別指針の該当箇所", Select(Options::GuidelineItems)).hint("指針の項目を書きます。分かっている項目は指針の順に候補として出ます。基本方針の場合は項目を選ぶか空欄にします。").optional(),
                field("description", "実施事項", TextArea),
                field("succession_type", "事業承継等の種類", Select(Options::SuccessionTypes)).hint("事業承継等を行う実施事項の場合だけ選びます。").optional(),
            ],
        }),
        paths: &["/measures"],
        optional: false,
    },
    Section {
        slug: "funds",
        title: "必要な資金の額及びその調達方法",
        hint: "実施事項ごとの資金の使途・用途、調達方法、金額（千円）。",
        fields: &[],
        rows: Some(RowsSpec {
            list: "/funds",
            noun: "資金",
            fields: &[
                field("measure_number", "実施事項の番号", Integer),
                field("purpose", "使途・用途", Text(Width::Full)),
                field("source", "資金調達方法", Text(Width::Full)).hint("例：自己資金、日本政策金融公庫からの借入"),
                field("amount_thousand_yen", "金額（千円）", Integer),
            ],
        }),
        paths: &["/funds"],
        optional: true,
    },
    Section {
        slug: "equipment",
        title: "経営力向上設備等の種類",
        hint: "税制措置などを使う設備。類型はA（生産性向上設備）、B（収益力強化設備）、D（経営資源集約化設備）、E（経営規模拡大設備等）です（C類型は2025年3月31日で終了）。取得済みの設備は、取得日から60日以内に申請が受理される必要があります（事業承継等と一緒に取得するものを除く）。",
        fields: &[],
        rows: Some(RowsSpec {
            list: "/equipment",
            noun: "設備",
            fields: &[
                field("measure_number", "実施事項の番号", Integer),
                field("support_type", "利用を想定している支援措置（類型）", Select(Options::SupportTypes)),
                field("name_model", "名称・型式", Text(Width::Full)),
                field("location", "設置場所", Text(Width::Full)),
                field("asset_class", "設備等の種類", Select(Options::AssetClasses)),
                field("acquisition_month", "取得年月", Month).hint("例：2027-03"),
                field("acquired_on", "取得日（取得済みの場合）", Date).hint("例：2027-03-15。申請の受理がこの日から60日以内でないと対象になりません。").optional(),
                field("with_succession", "事業承継等と一緒に取得する設備ですか", YesNo).optional(),
                field("unit_price_yen", "単価（円）", Integer),
                field("quantity", "数量", Integer),
                field("amount_yen", "金額（円）", Integer),
                field("document_number", "証明書等の文書番号", Text(Width::Full)).hint("工業会等の証明書（A類型）や経済産業局の確認書（B・D・E類型）の番号。"),
            ],
        }),
        paths: &["/equipment"],
        optional: true,
    },
    Section {
        slug: "licences",
        title: "特定許認可等",
        hint: "事業承継等で、被承継等特定事業者等の許認可等に基づく地位を承継する場合に入力します。",
        fields: &[],
        rows: Some(RowsSpec {
            list: "/licence_successions",
            noun: "許認可等",
            fields: &[
                field("licence", "許認可等の名称", Text(Width::Full)),
                field("legal_basis", "根拠法令", Text(Width::Full)),
                field("predecessor", "被承継等特定事業者等の名称", Text(Width::Full)),
            ],
        }),
        paths: &["/licence_successions"],
        optional: true,
    },
    Section {
        slug: "due-diligence",
        title: "事業承継等事前調査",
        hint: "事業承継等を行う場合に、事前に行った調査の実施者と内容を入力します。中小企業事業再編投資損失準備金（株式の取得、取得価額10億円以下）を使う場合は、基本合意の後に「事業承継等事前調査チェックシート」を提出し、最終合意の後に主務大臣へ報告して確認書を受けます。",
        fields: &[
            field("/due_diligence/performed_by", "実施者", Text(Width::Full)).optional(),
            field("/due_diligence/scope", "調査の内容", TextArea).optional(),
        ],
        rows: None,
        paths: &["/due_diligence"],
        optional: true,
    },
    Section {
        slug: "contact",
        title: "本件担当者",
        hint: "審査担当者からの問い合わせ先。",
        fields: &[
            field("/contact/name", "担当者の氏名", Text(Width::Medium)),
            field("/contact/department", "部署", Text(Width::Medium)).optional(),
            field("/contact/phone", "電話番号", Tel).hint("例：03-3501-1511"),
            field("/contact/email", "メールアドレス", Email),
        ],
        rows: None,
        paths: &["/contact"],
        optional: false,
    },
    Section {
        slug: "support",
        title: "認定経営革新等支援機関",
        hint: "計画の策定を支援した認定経営革新等支援機関がある場合に入力します。",
        fields: &[
            field("/support_organisation/name", "支援機関の名称", Text(Width::Full)).optional(),
            field("/support_organisation/accreditation_id", "支援機関の認定ID", Text(Width::Medium)).optional(),
        ],
        rows: None,
        paths: &["/support_organisation"],
        optional: true,
    },
    Section {
        slug: "consents",
        title: "公表及びデータ利活用",
        hint: "認定を受けた事業者名等の公表と、計画のデータを支援策のために関係機関と共有することへの同意。",
        fields: &[
            field("/publication_consent", "認定を受けたことを事業者名等とともに公表してよいですか", YesNo),
            field("/data_use_consent", "計画のデータをミラサポplus等の支援策のために利用してよいですか", YesNo),
        ],
        rows: None,
        paths: &["/publication_consent", "/data_use_consent"],
        optional: false,
    },
];

/// The section of a slug.
pub fn section(slug: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.slug == slug)
}

/// The section a plan path belongs to (for a reviewer's comment or a problem).
pub fn section_of(path: &str) -> Option<&'static Section> {
    SECTIONS
        .iter()
        .find(|s| s.paths.iter().any(|p| is_under(path, p)))
}

/// `path` equals `prefix` or lies below it (`/period/start` under `/period`).
fn is_under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The HTML id of a field (a link target of the error summary).
pub fn field_id(pointer: &str) -> String {
    let mut id = String::from("f");
    for c in pointer.chars() {
        id.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        });
    }
    id
}

/// A plan value as the person typed it, for an input's `value`.
pub fn text_at(plan: &Value, pointer: &str) -> String {
    match plan.pointer(pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// Whether anything of the section has been entered.
pub fn has_content(section: &Section, plan: &Value) -> bool {
    section.paths.iter().any(|p| match plan.pointer(p) {
        None | Some(Value::Null) => false,
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    })
}

/// How far a section is, for the task list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// 未着手.
    NotStarted,
    /// 入力中: entered, but submission would still find something missing.
    InProgress,
    /// 完了.
    Done,
    /// エラーあり: something entered is wrong as it stands.
    Error,
}

impl Progress {
    pub fn label(self) -> &'static str {
        match self {
            Progress::NotStarted => "未着手",
            Progress::InProgress => "入力中",
            Progress::Done => "完了",
            Progress::Error => "エラーあり",
        }
    }
    pub fn state(self) -> &'static str {
        match self {
            Progress::NotStarted => "",
            Progress::InProgress => "progress",
            Progress::Done => "done",
            Progress::Error => "error",
        }
    }
}

/// A section's progress from the plan, its draft-level and its submission-level report.
pub fn progress(section: &Section, plan: &Value, draft: &Report, submission: &Report) -> Progress {
    let mine = |f: &&Finding| section.paths.iter().any(|p| is_under(&f.path, p));
    if draft.errors.iter().any(|f| mine(&f)) {
        return Progress::Error;
    }
    let content = has_content(section, plan);
    let missing = submission.errors.iter().any(|f| mine(&f));
    match (content, missing) {
        (false, _) if section.optional => Progress::NotStarted,
        (false, _) => Progress::NotStarted,
        (true, true) => Progress::InProgress,
        (true, false) => Progress::Done,
    }
}

/// A choice of a drop-down or a radio group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The choices of `options` for a plan (some depend on its guideline).
pub fn choices(options: Options, plan: &Value, current: &str) -> Option<Vec<Choice>> {
    let t = tables();
    let pairs: Vec<(String, String)> = match options {
        Options::EntityTypes => vec![
            ("corporation".into(), "法人".into()),
            ("sole_proprietor".into(), "個人事業主".into()),
        ],
        Options::Prefectures => t
            .authorities
            .prefectures
            .iter()
            .map(|p| (p.code.clone(), p.name.clone()))
            .collect(),
        Options::Guidelines => t
            .guidelines
            .guidelines
            .iter()
            .map(|g| (g.id.clone(), g.label.clone()))
            .collect(),
        Options::AdditionalGuidelines => t
            .guidelines
            .guidelines
            .iter()
            .filter(|g| g.id != keiryoku_domain::guidelines::BASIC_POLICY)
            .map(|g| (g.id.clone(), g.label.clone()))
            .collect(),
        Options::PlanGuidelines => plan_guidelines(plan)
            .iter()
            .map(|g| (g.id.clone(), g.label.clone()))
            .collect(),
        Options::Indicators => {
            let guidelines = plan_guidelines(plan);
            let mut pairs: Vec<(String, String)> = Vec::new();
            for g in &guidelines {
                for i in &g.indicators {
                    if !pairs.iter().any(|(id, _)| *id == i.id) {
                        pairs.push((i.id.clone(), i.name.clone()));
                    }
                }
            }
            if guidelines.is_empty()
                || guidelines
                    .iter()
                    .any(|g| g.custom_indicator_allowed || !g.indicators_known)
            {
                pairs.push(("custom".into(), "独自の指標".into()));
            }
            pairs
        }
        Options::Directions => vec![
            ("higher".into(), direction_label(Direction::Higher).into()),
            ("lower".into(), direction_label(Direction::Lower).into()),
        ],
        Options::GuidelineItems => {
            let guidelines = plan_guidelines(plan);
            if guidelines.is_empty() || !guidelines.iter().all(|g| g.items_known) {
                return None;
            }
            item_citations(&guidelines)
                .into_iter()
                .map(|c| (c.clone(), c))
                .collect()
        }
        Options::SuccessionTypes => [
            "① 吸収合併",
            "② 新設合併",
            "③ 吸収分割",
            "④ 新設分割",
            "⑤ 株式交換",
            "⑥ 株式移転",
            "⑦ 事業又は資産の譲受け",
            "⑧ 株式又は持分の取得",
            "⑨ 出資の受入れ",
            "⑩ その他",
        ]
        .iter()
        .enumerate()
        .map(|(i, label)| ((i + 1).to_string(), (*label).to_string()))
        .collect(),
        // The 類型 still open, as rules.json lists them (C ended 2025-03-31).
        Options::SupportTypes => t
            .rules
            .equipment_types
            .value
            .iter()
            .filter(|e| e.available_until.is_none())
            .map(|e| (e.support_type.letter().to_string(), e.label()))
            .collect(),
        Options::AssetClasses => vec![
            ("machinery".into(), "機械装置".into()),
            ("tools".into(), "工具".into()),
            ("fixtures".into(), "器具備品".into()),
            ("building_fixtures".into(), "建物附属設備".into()),
            ("software".into(), "ソフトウエア".into()),
            ("building".into(), "建物（E類型のみ）".into()),
        ],
    };
    let mut choices: Vec<Choice> = pairs
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == current,
            value,
            label,
        })
        .collect();
    // A value that is not (or no longer) a choice stays visible and selected, never lost.
    if !current.is_empty() && !choices.iter().any(|c| c.selected) {
        choices.push(Choice {
            value: current.to_string(),
            label: format!("{current}（選択肢にない値）"),
            selected: true,
        });
    }
    Some(choices)
}

fn direction_label(direction: Direction) -> &'static str {
    match direction {
        Direction::Higher => "増えるほど良い（伸び率）",
        Direction::Lower => "減るほど良い（減少率）",
    }
}

/// The plan's guidelines as the domain reads them: the main one (the 基本方針 when none), then
/// the additional ones it knows.
pub fn plan_guidelines(plan: &Value) -> Vec<&'static keiryoku_domain::tables::Guideline> {
    let typed = keiryoku_domain::plan::Plan::from_json(plan.clone()).unwrap_or_default();
    let ids = typed.guideline_ids();
    let mut found: Vec<&'static keiryoku_domain::tables::Guideline> = Vec::new();
    if ids.is_empty() {
        found.extend(keiryoku_domain::guidelines::find(None));
    }
    for id in ids {
        if let Some(g) = keiryoku_domain::guidelines::find(Some(id))
            && !found.iter().any(|f| f.id == g.id)
        {
            found.push(g);
        }
    }
    found
}

/// How a plan cites the known 該当箇所 of its guidelines, in each guideline's order; with the
/// guideline's label in front when the plan has several (「製造業：イ 従業員等に関する事項」).
fn item_citations(guidelines: &[&keiryoku_domain::tables::Guideline]) -> Vec<String> {
    let several = guidelines.len() > 1;
    guidelines
        .iter()
        .flat_map(|g| {
            g.items.iter().flatten().map(move |item| {
                if several {
                    format!("{}：{}", g.label, item.citation())
                } else {
                    item.citation()
                }
            })
        })
        .collect()
}

/// Suggestions for a text field whose list is partial (該当箇所 where only some items are
/// known): offered under the field, free text still accepted.
pub fn suggestions(options: Options, plan: &Value) -> Vec<String> {
    match options {
        Options::GuidelineItems => item_citations(&plan_guidelines(plan)),
        _ => Vec::new(),
    }
}

/// The value a form field posts, as it goes into the plan.
fn to_json(input: Input, text: &str) -> Value {
    let text = text.trim();
    if text.is_empty() {
        return Value::Null;
    }
    match input {
        YesNo => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_string()),
        },
        Months => text
            .parse::<u32>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_string())),
        _ => Value::String(text.to_string()),
    }
}

/// Sets `value` at `pointer` in `target`, creating the objects on the way.
fn set(target: &mut Map<String, Value>, pointer: &str, value: Value) {
    let mut keys = pointer.trim_start_matches('/').split('/').peekable();
    let mut map = target;
    while let Some(key) = keys.next() {
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        let entry = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        map = next;
    }
}

/// The JSON Merge Patch a posted section form makes: each field of the section set (an empty
/// field removes the value), the rows replaced by the posted rows (blank rows and rows ticked
/// 「削除」 left out). Fields taken from GビズID are never written here.
pub fn patch_of(section: &Section, form: &[(String, String)]) -> Map<String, Value> {
    let posted = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut patch = Map::new();
    for spec in section.fields.iter().filter(|f| !f.from_gbizid) {
        if let Some(text) = posted(spec.key) {
            set(&mut patch, spec.key, to_json(spec.input, text));
        } else if matches!(spec.input, YesNo | Months) {
            // An unticked radio group posts nothing: the answer was taken back.
            set(&mut patch, spec.key, Value::Null);
        }
    }
    if let Some(rows) = &section.rows {
        let prefix = format!("{}/", rows.list);
        let mut indices: Vec<usize> = form
            .iter()
            .filter_map(|(name, _)| name.strip_prefix(&prefix))
            .filter_map(|rest| rest.split('/').next()?.parse().ok())
            .filter(|i| *i < 500)
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let mut list = Vec::new();
        for i in indices {
            if posted(&format!("{prefix}{i}/_delete")).is_some() {
                continue;
            }
            let mut row = Map::new();
            for spec in rows.fields {
                let name = format!("{prefix}{i}/{}", spec.key);
                let value = posted(&name).map_or(Value::Null, |t| to_json(spec.input, t));
                // Inside a list a null would be kept as a value: absent fields are left out.
                if !value.is_null() {
                    set(&mut row, spec.key, value);
                }
            }
            if !row.is_empty() {
                list.push(Value::Object(row));
            }
        }
        set(&mut patch, rows.list, Value::Array(list));
    }
    patch
}

/// How many rows a section's list has in the plan.
pub fn row_count(rows: &RowsSpec, plan: &Value) -> usize {
    plan.pointer(rows.list)
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
            .collect()
    }

    #[test]
    fn sections_follow_the_form_and_cover_every_plan_key() {
        let slugs: Vec<&str> = SECTIONS.iter().map(|s| s.slug).collect();
        assert_eq!(slugs.first(), Some(&"applicant"));
        assert_eq!(slugs.last(), Some(&"consents"));
        for key in keiryoku_domain::plan::PLAN_KEYS {
            if key == "form_version" || key == "kind" {
                continue;
            }
            let pointer = format!("/{key}");
            assert!(section_of(&pointer).is_some(), "{key} has no section");
        }
    }

    #[test]
    fn a_posted_section_becomes_a_merge_patch() {
        let Some(applicant) = section("applicant") else {
            panic!("section")
        };
        let patch = patch_of(
            applicant,
            &form(&[
                ("/applicant/name", "他社の名前"),
                ("/applicant/name_kana", " カスミガセキセイキ "),
                ("/applicant/capital_yen", ""),
                ("/applicant/head_office/prefecture_code", "13"),
            ]),
        );
        assert_eq!(
            Value::Object(patch),
            json!({"applicant": {
                "name_kana": "カスミガセキセイキ",
                "capital_yen": null,
                "head_office": {"prefecture_code": "13"}
            }}),
            "GビズID fields are not written; empty fields are removed; absent fields untouched"
        );
    }

    #[test]
    fn rows_are_replaced_without_blank_or_deleted_rows() {
        let Some(funds) = section("funds") else {
            panic!("section")
        };
        let patch = patch_of(
            funds,
            &form(&[
                ("/funds/0/measure_number", "1"),
                ("/funds/0/purpose", "設備"),
                ("/funds/1/measure_number", "2"),
                ("/funds/1/_delete", "1"),
                ("/funds/2/measure_number", ""),
                ("/funds/2/purpose", ""),
            ]),
        );
        assert_eq!(
            Value::Object(patch),
            json!({"funds": [{"measure_number": "1", "purpose": "設備"}]})
        );
    }

    #[test]
    fn radios_post_booleans_and_numbers() {
        let Some(period) = section("period") else {
            panic!("section")
        };
        let patch = patch_of(
            period,
            &form(&[("/period/start", "2027-04"), ("/period/months", "48")]),
        );
        assert_eq!(
            Value::Object(patch),
            json!({"period": {"start": "2027-04", "months": 48}})
        );
        let Some(consents) = section("consents") else {
            panic!("section")
        };
        let patch = patch_of(consents, &form(&[("/publication_consent", "false")]));
        assert_eq!(
            Value::Object(patch),
            json!({"publication_consent": false, "data_use_consent": null})
        );
    }

    #[test]
    fn guideline_items_come_in_the_guidelines_order_or_not_at_all() {
        // 基本方針: its complete list, as a drop-down in its order.
        let plan = json!({"guideline_id": "basic_policy"});
        let basic = choices(Options::GuidelineItems, &plan, "").unwrap_or_default();
        assert_eq!(basic.first().map(|c| c.value.as_str()), Some("人材の育成"));
        assert_eq!(basic.len(), 4);
        // 小売業: partial, so suggestions under a text field.
        let retail = json!({"guideline_id": "wholesale_retail"});
        assert!(choices(Options::GuidelineItems, &retail, "").is_none());
        assert_eq!(suggestions(Options::GuidelineItems, &retail).len(), 5);
        // Unknown: a plain text field.
        let trucking = json!({"guideline_id": "trucking"});
        assert!(choices(Options::GuidelineItems, &trucking, "").is_none());
        assert!(suggestions(Options::GuidelineItems, &trucking).is_empty());
        // Several guidelines: each guideline's items, named by guideline.
        let joint = json!({"guideline_id": "manufacturing", "additional_guidelines": [{"guideline_id": "cram_schools"}]});
        let both = suggestions(Options::GuidelineItems, &joint);
        assert_eq!(
            both.first().map(String::as_str),
            Some("製造業：イ 従業員等に関する事項")
        );
        assert_eq!(both.last().map(String::as_str), Some("学習塾業：③ 人材"));
        let plan_guidelines: Vec<String> = choices(Options::PlanGuidelines, &joint, "")
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(plan_guidelines, ["manufacturing", "cram_schools"]);
        let kept = choices(Options::Prefectures, &json!({}), "99").unwrap_or_default();
        assert!(
            kept.iter().any(|c| c.value == "99" && c.selected),
            "an unknown value stays"
        );
    }

    #[test]
    fn field_ids_are_safe_link_targets() {
        assert_eq!(
            field_id("/funds/0/measure_number"),
            "f-funds-0-measure_number"
        );
    }
}
