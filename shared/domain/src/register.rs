//! 認定台帳: every certification the platform knows, in one shape, whatever its origin (certified
//! here, migrated from the legacy system, recorded from a paper filing). The public list of
//! certified companies (公表可 only), the gBizINFO records, the bulk extracts and the lake read it.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::application::{Application, ApplicationId, ApplicationKind, OfficeId};
use crate::plan::YearMonth;
use crate::status::Status;
use crate::tables::tables;
use crate::validation::Finding;

/// Where a certification was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Filed and certified on this platform.
    Platform,
    /// Carried over from the legacy system's extract (移行データ).
    Migrated,
    /// Filed on paper and recorded here by a reviewer (紙申請).
    Paper,
}

/// One certification of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    pub application_id: ApplicationId,
    pub application_kind: ApplicationKind,
    /// 認定番号.
    pub certification_number: String,
    /// 認定日.
    #[serde(with = "crate::application::iso_date")]
    pub certified_on: Date,
    /// 事業者の名称.
    pub company_name: String,
    /// 法人番号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// 本店所在地の都道府県 (JIS code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefecture_code: Option<String>,
    /// The certifying authorities' offices.
    pub office_ids: Vec<OfficeId>,
    /// 事業分野: the plan's JSIC 中分類 and 細分類 codes.
    pub industry_codes: Vec<String>,
    /// The last month of the plan's 実施期間 (`YYYY-MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<String>,
    /// 公表可否.
    pub publication_consent: bool,
    /// データ利活用同意, as it stands now (a withdrawal updates the entry).
    pub data_use_consent: bool,
    pub origin: Origin,
    /// For a change (変更認定): the application whose certification it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_of: Option<ApplicationId>,
}

/// A certification as gBizINFO's `certification` items describe one (届出・認定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GbizCertification {
    pub title: String,
    /// 認定日 (`YYYY-MM-DD`).
    pub date_of_approval: String,
    pub category: String,
    pub enterprise_scale: String,
    /// The end of the plan's 実施期間 (`YYYY-MM-DD`), empty when unknown.
    pub expiration_date: String,
    /// The certifying ministries (`経済産業省、国土交通省`).
    pub government_departments: String,
    /// 事業分野 (the plan's industries, by name).
    pub target: String,
}

/// The columns of the public list of certified companies, in order (公表する認定事業者一覧).
pub const PUBLIC_COLUMNS: [&str; 7] = [
    "認定日",
    "認定番号",
    "事業者名",
    "法人番号",
    "都道府県",
    "事業分野",
    "認定行政庁",
];

impl Application {
    /// Where the plan was filed and certified: here, in the legacy system, or on paper. Only a
    /// certification made here has its 認定書 and mail here.
    pub fn origin(&self) -> Origin {
        match (&self.migration, &self.submission) {
            (Some(_), _) => Origin::Migrated,
            (None, None) => Origin::Paper,
            (None, Some(_)) => Origin::Platform,
        }
    }
}

impl RegisterEntry {
    /// The entry of a certified application (`None` before certification).
    pub fn of(record: &Application) -> Option<RegisterEntry> {
        let certification = record.certification.as_ref()?;
        if record.status != Status::Certified {
            return None;
        }
        let consent = record.consent.as_ref();
        Some(RegisterEntry {
            application_id: record.id.clone(),
            application_kind: record.kind,
            certification_number: certification.number.clone(),
            certified_on: certification.certified_on,
            company_name: record.company_name(),
            corporate_number: record.corporate_number(),
            prefecture_code: record.prefecture_code(),
            office_ids: certification.office_ids.clone(),
            industry_codes: record.industry_codes(),
            period_end: record.period().map(|p| month_text(p.end())),
            publication_consent: consent.is_some_and(|c| c.publication),
            data_use_consent: consent.is_some_and(|c| c.shares_data()),
            origin: record.origin(),
            change_of: record.change_of.as_ref().map(|c| c.application_id.clone()),
        })
    }

    /// The month the entry is filed under (`YYYY-MM` of 認定日).
    pub fn month(&self) -> String {
        month_text(YearMonth::of(self.certified_on))
    }

    /// The names of the certifying ministries, deduplicated, in the entry's order.
    pub fn ministries(&self) -> Vec<String> {
        let t = tables();
        let mut names: Vec<String> = Vec::new();
        for office in &self.office_ids {
            let name = t
                .office(office.as_str())
                .and_then(|(network, _)| t.ministry(&network.ministry))
                .map_or_else(|| office.to_string(), |m| m.name.clone());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The industries by name (中分類 and 細分類 as the plan gives them).
    pub fn industries(&self) -> Vec<String> {
        let jsic = tables().jsic;
        self.industry_codes
            .iter()
            .map(|code| jsic.name(code).map_or_else(|| code.clone(), str::to_string))
            .collect()
    }

    /// The row of the public list, in [`PUBLIC_COLUMNS`] order.
    pub fn public_row(&self) -> [String; 7] {
        let t = tables();
        let prefecture = self
            .prefecture_code
            .as_deref()
            .map(|code| t.prefecture(code).map_or(code, |p| p.name.as_str()))
            .unwrap_or_default()
            .to_string();
        let offices = self
            .office_ids
            .iter()
            .map(|o| {
                t.office(o.as_str())
                    .map_or(o.as_str(), |(_, office)| office.name.as_str())
            })
            .collect::<Vec<_>>()
            .join("、");
        [
            self.certified_on.to_string(),
            self.certification_number.clone(),
            self.company_name.clone(),
            self.corporate_number.clone().unwrap_or_default(),
            prefecture,
            self.industries().join("、"),
            offices,
        ]
    }

    /// The entry as a gBizINFO certification item.
    pub fn gbizinfo(&self) -> GbizCertification {
        let expiration = self
            .period_end
            .as_deref()
            .and_then(parse_month)
            .and_then(YearMonth::last_day)
            .map(|d| d.to_string())
            .unwrap_or_default();
        GbizCertification {
            title: match self.application_kind {
                ApplicationKind::New => "経営力向上計画の認定".into(),
                ApplicationKind::Change => "経営力向上計画の変更認定".into(),
            },
            date_of_approval: self.certified_on.to_string(),
            category: "認定".into(),
            enterprise_scale: "中小企業者等".into(),
            expiration_date: expiration,
            government_departments: self.ministries().join("、"),
            target: self.industries().join("、"),
        }
    }
}

/// The longest 認定番号 a verification looks up (longer ones are not in the register).
pub const QUERY_NUMBER_LIMIT: usize = 60;

/// A public verification's question (認定の確認): the 法人番号, 認定番号 and 認定日 printed on
/// a 認定書, of any origin. All three must match, which makes walking the register of companies
/// that chose 非公表 by trying numbers for a known 法人番号 slow (認定番号 run in sequence per
/// office and year, so it is not impossible: the WAF's per-IP rate rule on /verify bounds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterQuery {
    /// 法人番号, 13 digits with a valid check digit.
    pub corporate_number: String,
    /// 認定番号 as compared: NFKC, without spaces.
    pub certification_number: String,
    /// 認定日.
    pub certified_on: Date,
}

/// A 認定番号 as compared: NFKC (full-width digits and hyphens as ASCII), no spaces.
fn comparable_number(text: &str) -> String {
    crate::normalize::text(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl RegisterQuery {
    /// The question as a person typed it (full-width digits, spaces and hyphens in the
    /// 法人番号, `2024/04/01` accepted), or what is wrong with each field.
    pub fn parse(
        corporate_number: &str,
        certification_number: &str,
        certified_on: &str,
    ) -> Result<RegisterQuery, Vec<Finding>> {
        let mut problems = Vec::new();
        let mut problem = |path: &str, code: &'static str, message: &str| {
            problems.push(Finding {
                path: path.into(),
                code,
                message: message.into(),
            })
        };
        let corporate: String = crate::normalize::text(corporate_number)
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if corporate.is_empty() {
            problem(
                "/corporate_number",
                "required",
                "法人番号を13桁の数字で入力してください。",
            );
        } else if crate::corporate_number::validate(&corporate).is_err() {
            problem(
                "/corporate_number",
                "invalid_corporate_number",
                "法人番号は、認定書に記載の13桁の数字を入力してください（検査用数字が一致しません）。",
            );
        }
        let number = comparable_number(certification_number);
        if number.is_empty() {
            problem(
                "/certification_number",
                "required",
                "認定番号を、認定書に記載のとおり入力してください。",
            );
        } else if number.chars().count() > QUERY_NUMBER_LIMIT
            || number.chars().any(crate::normalize::is_forbidden)
        {
            problem(
                "/certification_number",
                "invalid_certification_number",
                "認定番号は、認定書に記載のとおり60文字以内で入力してください。",
            );
        }
        let date_text = crate::normalize::text(certified_on).replace('/', "-");
        let date = crate::application::iso_date::parse(&date_text);
        if date.is_none() {
            if date_text.is_empty() {
                problem(
                    "/certified_on",
                    "required",
                    "認定日を入力してください（例：2026-04-01）。",
                );
            } else {
                problem(
                    "/certified_on",
                    "invalid_date",
                    "認定日は、実在する日付を年-月-日で入力してください（例：2026-04-01）。",
                );
            }
        }
        match date {
            Some(certified_on) if problems.is_empty() => Ok(RegisterQuery {
                corporate_number: corporate,
                certification_number: number,
                certified_on,
            }),
            _ => Err(problems),
        }
    }

    /// Whether `entry` is the certification asked about.
    pub fn matches(&self, entry: &RegisterEntry) -> bool {
        entry.corporate_number.as_deref() == Some(self.corporate_number.as_str())
            && entry.certified_on == self.certified_on
            && comparable_number(&entry.certification_number) == self.certification_number
    }
}

fn month_text(month: YearMonth) -> String {
    format!("{:04}-{:02}", month.year, month.month)
}

/// `YYYY-MM` as a month (`None` for anything else).
pub fn parse_month(text: &str) -> Option<YearMonth> {
    let (year, month) = text.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month: u8 = month.parse().ok()?;
    ((1..=12).contains(&month) && (2000..=2100).contains(&year))
        .then_some(YearMonth { year, month })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(number: &str, corporate: &str, on: &str) -> RegisterEntry {
        RegisterEntry {
            application_id: ApplicationId::parse("01890a5d-ac96-774b-bcce-b302099a8057")
                .unwrap_or_else(|| panic!("id")),
            application_kind: ApplicationKind::New,
            certification_number: number.into(),
            certified_on: crate::application::iso_date::parse(on).unwrap_or_else(|| panic!("date")),
            company_name: "株式会社霞が関精機".into(),
            corporate_number: Some(corporate.into()),
            prefecture_code: None,
            office_ids: Vec::new(),
            industry_codes: Vec::new(),
            period_end: None,
            publication_consent: false,
            data_use_consent: false,
            origin: Origin::Migrated,
            change_of: None,
        }
    }

    #[test]
    fn a_query_typed_with_full_width_digits_and_slashes_finds_the_entry() {
        let query = RegisterQuery::parse(
            "９０１０４０１２３４５６７",
            " 20190401関東経第１号 ",
            "2019/04/01",
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(query.matches(&entry("20190401関東経第1号", "9010401234567", "2019-04-01")));
        // Any of the three different: not this certification.
        assert!(!query.matches(&entry("20190401関東経第2号", "9010401234567", "2019-04-01")));
        assert!(!query.matches(&entry("20190401関東経第1号", "9010401234567", "2019-04-02")));
        assert!(!query.matches(&entry("20190401関東経第1号", "4000012090001", "2019-04-01")));
    }

    #[test]
    fn each_field_of_a_bad_query_says_what_is_wrong() {
        let problems = RegisterQuery::parse("9010401234568", "", "2019-02-30")
            .err()
            .unwrap_or_default();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/corporate_number",
                "/certification_number",
                "/certified_on"
            ]
        );
        let problems = RegisterQuery::parse("", "第\u{202E}1号", "")
            .err()
            .unwrap_or_default();
        let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            ["required", "invalid_certification_number", "required"]
        );
    }

    #[test]
    fn a_month_is_four_digits_a_dash_and_two() {
        assert_eq!(
            parse_month("2026-04"),
            Some(YearMonth {
                year: 2026,
                month: 4
            })
        );
        for bad in [
            "2026-4",
            "2026-13",
            "26-04",
            "2026/04",
            "",
            "1999-12",
            "２０２６-04",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }
}
