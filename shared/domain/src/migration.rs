//! 旧システムからの移行: a certification of the legacy system's extract as a certified
//! application of this platform, flagged as migrated, so that staff find it, its company sees it
//! after logging in (matched by 法人番号), the register lists it, and a 変更申請 can start from it.
//!
//! The accepted columns are documented in docs/legacy-import.md; [`LegacyCertification::parse`]
//! reads one row by header name and says, in Japanese, what is wrong with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use crate::application::{
    Actor, Application, ApplicationId, ApplicationKind, Certification, CompanyId, Consent,
    Decision, DecisionKind, OfficeId, PlanDocument, Submission, VerifiedIdentity,
};
use crate::plan::YearMonth;
use crate::routing::{Authority, Routing, Rule, Step};
use crate::status::{Role, Status};
use crate::tables::tables;

/// The columns of a legacy extract, by header name, in the order the generator writes them.
pub const COLUMNS: [&str; 12] = [
    "旧申請番号",
    "認定番号",
    "認定日",
    "法人番号",
    "事業者名",
    "都道府県コード",
    "事業分野コード",
    "認定行政庁コード",
    "計画開始年月",
    "計画期間（月）",
    "公表可否",
    "データ利活用同意",
];

/// The consent wording version recorded for migrated consents (the legacy check sheet's).
pub const LEGACY_WORDING: &str = "legacy";

/// What marks a record as migrated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Migration {
    /// 旧システムの申請番号.
    pub legacy_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub migrated_at: OffsetDateTime,
}

/// One certification of the legacy extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyCertification {
    pub legacy_id: String,
    pub certification_number: String,
    pub certified_on: Date,
    pub corporate_number: Option<String>,
    pub company_name: String,
    pub prefecture_code: String,
    /// 細分類 codes (4 digits).
    pub industry_codes: Vec<String>,
    pub office_ids: Vec<OfficeId>,
    pub period_start: YearMonth,
    pub period_months: u32,
    pub publication_consent: bool,
    pub data_use_consent: bool,
}

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl LegacyCertification {
    /// Reads a row; `field(name)` gives the cell under a header (trimmed by the caller).
    pub fn parse<'a>(field: impl Fn(&str) -> Option<&'a str>) -> Result<Self, String> {
        let get = |name: &str| field(name).map(str::trim).unwrap_or_default();
        let required = |name: &str| {
            let value = get(name);
            if value.is_empty() {
                Err(format!("「{name}」がありません"))
            } else {
                Ok(value)
            }
        };
        let legacy_id = required("旧申請番号")?;
        if legacy_id.chars().count() > 64 || legacy_id.chars().any(char::is_control) {
            return Err("「旧申請番号」が長すぎるか、制御文字を含みます".into());
        }
        let certification_number = required("認定番号")?;
        if certification_number.chars().count() > 64 {
            return Err("「認定番号」が長すぎます".into());
        }
        let certified_on = Date::parse(&required("認定日")?.replace('/', "-"), DATE)
            .map_err(|_| "「認定日」は YYYY-MM-DD で書いてください".to_string())?;
        let corporate_number = match get("法人番号") {
            "" => None,
            number
                if crate::corporate_number::validate(number).is_ok()
                    && number.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(number.to_string())
            }
            _ => return Err("「法人番号」が正しくありません（13桁、チェックディジット）".into()),
        };
        let company_name = required("事業者名")?;
        if company_name.chars().count() > 200 {
            return Err("「事業者名」が長すぎます".into());
        }
        let prefecture_code = required("都道府県コード")?;
        if tables().prefecture(prefecture_code).is_none() {
            return Err(format!(
                "「都道府県コード」{prefecture_code} は JIS の都道府県コードではありません"
            ));
        }
        let industry_codes: Vec<String> = required("事業分野コード")?
            .split([' ', ';', '、'])
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(bad) = industry_codes
            .iter()
            .find(|c| c.len() != 4 || tables().jsic.name(c).is_none())
        {
            return Err(format!(
                "「事業分野コード」{bad} は日本標準産業分類の細分類ではありません"
            ));
        }
        let office_ids: Vec<OfficeId> = required("認定行政庁コード")?
            .split([' ', ';', '、'])
            .filter(|c| !c.is_empty())
            .map(OfficeId::from)
            .collect();
        if let Some(bad) = office_ids
            .iter()
            .find(|o| tables().office(o.as_str()).is_none())
        {
            return Err(format!(
                "「認定行政庁コード」{bad} は提出先の表にありません"
            ));
        }
        let period_start = crate::register::parse_month(required("計画開始年月")?)
            .ok_or("「計画開始年月」は YYYY-MM で書いてください")?;
        let period_months: u32 = match required("計画期間（月）")? {
            "36" => 36,
            "48" => 48,
            "60" => 60,
            _ => return Err("「計画期間（月）」は 36、48、60 のいずれかです".into()),
        };
        let yes_no = |name: &str, empty_is: Option<bool>| match (get(name), empty_is) {
            ("可", _) => Ok(true),
            ("否", _) => Ok(false),
            ("", Some(value)) => Ok(value),
            _ => Err(format!("「{name}」は 可 か 否 で書いてください")),
        };
        Ok(LegacyCertification {
            legacy_id: legacy_id.to_string(),
            certification_number: certification_number.to_string(),
            certified_on,
            corporate_number,
            company_name: company_name.to_string(),
            prefecture_code: prefecture_code.to_string(),
            industry_codes,
            office_ids,
            period_start,
            period_months,
            publication_consent: yes_no("公表可否", None)?,
            // The legacy check sheet had no data-use question before 2023: no answer is a no.
            data_use_consent: yes_no("データ利活用同意", Some(false))?,
        })
    }

    /// The id of the migrated application: derived from the legacy number, so importing the
    /// same row again finds it (the import is idempotent).
    pub fn application_id(&self) -> ApplicationId {
        let digest = Sha256::digest(format!("keiryoku legacy {}", self.legacy_id).as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        // Version nibble 8 (custom, RFC 9562): never one of the version 7 ids we issue.
        let text = format!(
            "{}-{}-8{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[16..20],
            &hex[20..32]
        );
        ApplicationId::parse(&text).unwrap_or_else(|| ApplicationId::new(uuid::Uuid::nil()))
    }

    /// The company the record belongs to: the one whose GビズID account carries the 法人番号
    /// (sole proprietors cannot be matched: their record is for staff only).
    pub fn company_id(&self) -> CompanyId {
        match &self.corporate_number {
            Some(number) => CompanyId::corporation(number),
            None => CompanyId::from(format!("legacy-{}", self.legacy_id)),
        }
    }

    /// The plan as far as the legacy extract knows it (a change application starts from it).
    pub fn plan(&self) -> PlanDocument {
        let fields: Vec<serde_json::Value> = self
            .industry_codes
            .iter()
            .map(|code| json!({"middle_code": &code[..2], "detail_code": code}))
            .collect();
        let mut applicant = json!({
            "entity_type": if self.corporate_number.is_some() { "corporation" } else { "sole_proprietor" },
            "name": self.company_name,
            "head_office": {"prefecture_code": self.prefecture_code},
        });
        if let Some(number) = &self.corporate_number {
            applicant["corporate_number"] = json!(number);
        }
        PlanDocument::from_value(json!({
            "kind": {"type": "new"},
            "applicant": applicant,
            "business_fields": fields,
            "period": {
                "start": format!("{:04}-{:02}", self.period_start.year, self.period_start.month),
                "months": self.period_months,
            },
            "publication_consent": self.publication_consent,
            "data_use_consent": self.data_use_consent,
        }))
        .unwrap_or_default()
    }

    /// The certified application this row stands for, version 1, migrated `now`.
    pub fn to_application(&self, now: OffsetDateTime) -> Application {
        let now = crate::application::to_second(now);
        // The legacy extract gives the day only: noon in Japan, 03:00 UTC.
        let certified_at = self
            .certified_on
            .with_hms(3, 0, 0)
            .map_or(now, |t| t.assume_utc());
        let t = tables();
        let authorities: Vec<Authority> = self
            .office_ids
            .iter()
            .filter_map(|o| t.office(o.as_str()))
            .map(|(network, office)| {
                let ministry = t.ministry(&network.ministry);
                Authority {
                    ministry_id: network.ministry.clone(),
                    ministry_name: ministry.map(|m| m.name.clone()).unwrap_or_default(),
                    office_id: office.id.clone(),
                    office_name: office.name.clone(),
                    addressee_title: office.title.clone(),
                    e_filing: ministry.is_some_and(|m| m.e_filing),
                    verified: office.verified,
                }
            })
            .collect();
        let joint = authorities
            .iter()
            .map(|a| &a.ministry_id)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1;
        let routing = Routing {
            e_filing: authorities.iter().all(|a| a.e_filing),
            authorities,
            joint,
            processing_days: 0,
            processing_count: crate::rules::DayCount::Calendar,
            explanation: vec![Step {
                rule: Rule::Migrated,
                row: format!("legacy#{}", self.legacy_id),
                message: format!(
                    "旧システムで認定された計画を移行しました（旧申請番号 {}、認定番号 {}）。",
                    self.legacy_id, self.certification_number
                ),
                verified: true,
                source: "docs/legacy-import.md".into(),
            }],
            table_versions: t.versions(),
        };
        let reviewer = |office: &OfficeId| Actor {
            sub: String::new(),
            name: None,
            role: Role::Reviewer,
            on_behalf_of: office.to_string(),
        };
        let first = self
            .office_ids
            .first()
            .cloned()
            .unwrap_or_else(|| OfficeId::from(""));
        let decisions: BTreeMap<OfficeId, Decision> = self
            .office_ids
            .iter()
            .map(|office| {
                (
                    office.clone(),
                    Decision {
                        decision: DecisionKind::Approved,
                        by: reviewer(office),
                        at: certified_at,
                        certification_number: Some(self.certification_number.clone()),
                    },
                )
            })
            .collect();
        Application {
            id: self.application_id(),
            company_id: self.company_id(),
            created_by: "migration".into(),
            kind: ApplicationKind::New,
            status: Status::Certified,
            version: 1,
            created_at: now,
            updated_at: now,
            plan: self.plan(),
            submission: Some(Submission {
                receipt_number: format!("旧{}", self.legacy_id),
                received_at: certified_at,
                received_on: self.certified_on,
                due_on: self.certified_on,
                office_ids: self.office_ids.clone(),
                routing,
                revision: 1,
            }),
            paper: None,
            decisions,
            returned: None,
            certification: Some(Certification {
                number: self.certification_number.clone(),
                numbers: BTreeMap::from([(first, self.certification_number.clone())]),
                certified_on: self.certified_on,
                certified_at,
                office_ids: self.office_ids.clone(),
                revision: 1,
            }),
            rejection: None,
            change_of: None,
            identity: Some(VerifiedIdentity {
                corporation: self.corporate_number.is_some(),
                name: self.company_name.clone(),
                corporate_number: self.corporate_number.clone(),
                representative_name: None,
                account: "migration".into(),
            }),
            notify_to: None,
            consent: Some(Consent {
                publication: self.publication_consent,
                data_use: self.data_use_consent,
                given_at: certified_at,
                wording_version: LEGACY_WORDING.into(),
                data_use_withdrawn_at: None,
            }),
            migration: Some(Migration {
                legacy_id: self.legacy_id.clone(),
                migrated_at: now,
            }),
            audit_head: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(overrides: &[(&str, &str)]) -> Result<LegacyCertification, String> {
        let mut cells: BTreeMap<&str, &str> = BTreeMap::from([
            ("旧申請番号", "K2019-000123"),
            ("認定番号", "20190401関東第1号"),
            ("認定日", "2019/04/01"),
            ("法人番号", "9010401234567"),
            ("事業者名", "株式会社霞が関精機"),
            ("都道府県コード", "13"),
            ("事業分野コード", "2431 2592"),
            ("認定行政庁コード", "meti-kanto"),
            ("計画開始年月", "2019-05"),
            ("計画期間（月）", "36"),
            ("公表可否", "可"),
            ("データ利活用同意", ""),
        ]);
        cells.extend(overrides.iter().copied());
        LegacyCertification::parse(|name| cells.get(name).copied())
    }

    #[test]
    fn a_legacy_row_becomes_a_certified_migrated_application() {
        let legacy = row(&[]).unwrap_or_else(|e| panic!("{e}"));
        let record = legacy.to_application(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(record.status, Status::Certified);
        assert_eq!(record.company_id, "corp-9010401234567");
        assert_eq!(
            record.id,
            legacy.application_id(),
            "the same row, the same id"
        );
        assert!(record.migration.is_some());
        let consent = record.consent.clone().unwrap_or_else(|| panic!("consent"));
        assert!(consent.publication && !consent.data_use);
        let entry = crate::register::RegisterEntry::of(&record).unwrap_or_else(|| panic!("entry"));
        assert_eq!(entry.origin, crate::register::Origin::Migrated);
        assert_eq!(entry.period_end.as_deref(), Some("2022-04"));
        // Its 認定書 and mail were the legacy system's: creating it calls for no effect.
        assert!(crate::application::effects_of(None, &record).is_empty());
    }

    #[test]
    fn every_bad_cell_is_named_in_japanese() {
        for (cell, value, says) in [
            ("認定日", "2019-13-01", "認定日"),
            ("法人番号", "9010401234568", "法人番号"),
            ("都道府県コード", "48", "都道府県コード"),
            ("事業分野コード", "0000", "事業分野コード"),
            ("認定行政庁コード", "meti-atlantis", "認定行政庁コード"),
            ("計画期間（月）", "24", "計画期間"),
            ("公表可否", "はい", "公表可否"),
            ("旧申請番号", "", "旧申請番号"),
        ] {
            let error = row(&[(cell, value)]).err().unwrap_or_default();
            assert!(error.contains(says), "{cell}={value}: {error}");
        }
    }
}
