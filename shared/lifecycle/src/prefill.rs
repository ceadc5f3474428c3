//! Prefill (事前入力) of a new plan from what is already known about the company: the GビズID
//! claims of the session and gBizINFO's 法人基本情報. GビズID is the identity the applicant
//! logged in with, so its values come first; gBizINFO fills what GビズID does not carry
//! (フリガナ, 資本金, 従業員数, 郵便番号). Everything is advisory and editable.
//!
//! gBizINFO answers are cached (a day; an unknown number an hour). Any failure or slowness of
//! gBizINFO only means fewer fields are filled: the answer says so, and the draft is created.

use std::sync::Arc;

use keiryoku_domain::plan::{Address, Applicant, EntityType, Integer, Typed};
use keiryoku_gbizinfo::{GbizInfoClient, HojinInfo, Lookup};
use keiryoku_store::{Cache, SessionRecord};
use serde::Serialize;
use serde_json::{Value, json};

/// How long a found company is cached.
const FOUND_TTL_SECONDS: i64 = 86_400;
/// How long "no such company" is cached.
const NOT_FOUND_TTL_SECONDS: i64 = 3_600;

/// gBizINFO and its cache.
#[derive(Clone)]
pub struct Prefiller {
    /// `None` when no gBizINFO endpoint is configured.
    pub gbizinfo: Option<Arc<GbizInfoClient>>,
    pub cache: Cache,
}

/// Where a prefilled value came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The GビズID claims of the session.
    Gbizid,
    /// gBizINFO's 法人基本情報.
    Gbizinfo,
}

/// Where one prefilled value came from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Source {
    /// JSON Pointer of the field in the application (`/plan/applicant/name`).
    pub path: String,
    pub source: Origin,
}

/// What gBizINFO answered.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GbizInfoOutcome {
    Found,
    NotFound,
    Unavailable,
    /// No 法人番号 (a sole proprietor): gBizINFO was not asked.
    NotApplicable,
}

/// What gBizINFO contributed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct GbizInfoStatus {
    pub status: GbizInfoOutcome,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// For the applicant, in Japanese.
    pub message: String,
}

/// A prefill: the plan fragment, where each value came from, and what gBizINFO said.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Prefill {
    #[schema(value_type = Object)]
    pub plan: Value,
    pub sources: Vec<Source>,
    pub gbizinfo: GbizInfoStatus,
}

impl Prefiller {
    /// The prefiller the environment configures: `GBIZINFO_BASE_URL` (empty: GビズID only),
    /// `GBIZINFO_TOKEN_PARAMETER` (the SSM parameter of the token, read at the first lookup) and
    /// `GBIZINFO_TIMEOUT_MS` (default 2000), with its cache in `table`.
    pub fn from_env(aws: &keiryoku_store::AwsClients, table: &str) -> Result<Prefiller, String> {
        let cache = Cache::new(aws.dynamodb.clone(), table, "gbizinfo");
        let base_url = std::env::var("GBIZINFO_BASE_URL").unwrap_or_default();
        if base_url.trim().is_empty() {
            return Ok(Prefiller {
                gbizinfo: None,
                cache,
            });
        }
        let timeout_ms: u64 = match std::env::var("GBIZINFO_TIMEOUT_MS") {
            Ok(text) => text
                .parse()
                .map_err(|e| format!("GBIZINFO_TIMEOUT_MS: {e}"))?,
            Err(_) => 2000,
        };
        keiryoku_auth::require_tls(&base_url).map_err(|e| format!("GBIZINFO_BASE_URL {e}"))?;
        let parameter = std::env::var("GBIZINFO_TOKEN_PARAMETER")
            .map_err(|_| "GBIZINFO_TOKEN_PARAMETER is not set".to_string())?;
        let token = keiryoku_auth::ClientSecret::from_parameter(aws.sdk_config(), parameter);
        Ok(Prefiller {
            gbizinfo: Some(Arc::new(GbizInfoClient::new(
                base_url,
                token,
                std::time::Duration::from_millis(timeout_ms),
            ))),
            cache,
        })
    }

    /// The prefill for the session's company. Never fails: gBizINFO problems are reported in
    /// [`Prefill::gbizinfo`].
    pub async fn prefill(&self, session: &SessionRecord) -> Prefill {
        let (info, gbizinfo) = self.company(session).await;
        let (plan, sources) = applicant_plan(session, info.as_ref());
        Prefill {
            plan,
            sources,
            gbizinfo,
        }
    }

    async fn company(&self, session: &SessionRecord) -> (Option<HojinInfo>, GbizInfoStatus) {
        let status = |status, cached, message: &str| GbizInfoStatus {
            status,
            cached,
            message: message.to_string(),
        };
        let Some(number) = session
            .corporate_number
            .as_deref()
            .filter(|_| session.corp_type == "1")
        else {
            return (
                None,
                status(
                    GbizInfoOutcome::NotApplicable,
                    false,
                    "法人番号がないため、Gビズインフォは参照していません。",
                ),
            );
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.cache.get(number, now).await {
            Ok(Some(cached)) => {
                return match serde_json::from_value::<Option<HojinInfo>>(cached) {
                    Ok(Some(info)) => (Some(info), status(GbizInfoOutcome::Found, true, FOUND)),
                    _ => (None, status(GbizInfoOutcome::NotFound, true, NOT_FOUND)),
                };
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "gBizINFO cache unreadable"),
        }
        let Some(client) = &self.gbizinfo else {
            return (
                None,
                status(GbizInfoOutcome::Unavailable, false, UNAVAILABLE),
            );
        };
        let (found, ttl) = match client.lookup(number).await {
            Ok(Lookup::Found(info)) => (Some(*info), FOUND_TTL_SECONDS),
            Ok(Lookup::NotFound) => (None, NOT_FOUND_TTL_SECONDS),
            Err(e) => {
                tracing::warn!(error = %e, "gBizINFO lookup failed; prefill from GビズID only");
                return (
                    None,
                    status(GbizInfoOutcome::Unavailable, false, UNAVAILABLE),
                );
            }
        };
        let value = serde_json::to_value(&found).unwrap_or(Value::Null);
        if let Err(e) = self.cache.put(number, &value, now + ttl).await {
            tracing::warn!(error = %e, "gBizINFO answer not cached");
        }
        match found {
            Some(info) => (Some(info), status(GbizInfoOutcome::Found, false, FOUND)),
            None => (None, status(GbizInfoOutcome::NotFound, false, NOT_FOUND)),
        }
    }
}

const FOUND: &str =
    "Gビズインフォの法人情報で入力しました。内容を確認し、必要に応じて修正してください。";
const NOT_FOUND: &str = "Gビズインフォにこの法人番号の情報がありません。各項目を入力してください。";
const UNAVAILABLE: &str = "Gビズインフォに接続できなかったため、GビズIDの情報だけで入力しました。残りの項目を入力してください。";

/// ひらがな to カタカナ (フリガナ is written in katakana on the form).
fn katakana(text: &str) -> String {
    keiryoku_domain::normalize::text(text)
        .chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// `1000013` → `100-0013`.
fn postal_code(text: &str) -> Option<String> {
    let digits: String = keiryoku_domain::normalize::text(text)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (digits.len() == 7).then(|| format!("{}-{}", &digits[..3], &digits[3..]))
}

/// gBizINFO's one-string location without its leading prefecture name.
fn address_without_prefecture(location: &str, prefecture_code: Option<&str>) -> String {
    let location = keiryoku_domain::normalize::text(location);
    let name = prefecture_code
        .and_then(|code| keiryoku_domain::tables::tables().prefecture(code))
        .map(|p| p.name.clone());
    match name {
        Some(name) if location.starts_with(&name) => location[name.len()..].to_string(),
        _ => location,
    }
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The 様式第1 applicant section (名称等) from the session and, if found, gBizINFO, with where
/// each value came from.
pub fn applicant_plan(session: &SessionRecord, info: Option<&HojinInfo>) -> (Value, Vec<Source>) {
    let mut applicant = Applicant::default();
    let mut office = Address::default();
    let mut sources = Vec::new();
    let mut from = |field: &str, source: Origin| {
        sources.push(Source {
            path: format!("/plan/applicant/{field}"),
            source,
        });
    };
    let text = |value: &str| Some(Typed::Ok(value.to_string()));
    let company = info.and_then(|i| present(&i.name));
    let entity = match session.corp_type.as_str() {
        "1" => Some(EntityType::Corporation),
        "2" => Some(EntityType::SoleProprietor),
        _ => None,
    };
    if let Some(entity) = entity {
        applicant.entity_type = Some(Typed::Ok(entity));
        from("entity_type", Origin::Gbizid);
    }
    if !session.company_name.trim().is_empty() {
        applicant.name = text(session.company_name.trim());
        from("name", Origin::Gbizid);
    } else if let Some(name) = company {
        applicant.name = text(name);
        from("name", Origin::Gbizinfo);
    }
    if let Some(kana) = info.and_then(|i| present(&i.kana)) {
        applicant.name_kana = text(&katakana(kana));
        from("name_kana", Origin::Gbizinfo);
    }
    if let Some(name) = present(&session.representative_name) {
        applicant.representative_name = text(name);
        from("representative_name", Origin::Gbizid);
    } else if let Some(name) = info.and_then(|i| present(&i.representative_name)) {
        applicant.representative_name = text(name);
        from("representative_name", Origin::Gbizinfo);
    }
    if entity == Some(EntityType::Corporation)
        && let Some(number) = present(&session.corporate_number)
    {
        applicant.corporate_number = text(number);
        from("corporate_number", Origin::Gbizid);
    }
    if let Some(capital) = info.and_then(|i| i.capital_stock).filter(|c| *c >= 0) {
        applicant.capital_yen = Some(Typed::Ok(Integer(capital)));
        from("capital_yen", Origin::Gbizinfo);
    }
    if let Some(employees) = info.and_then(|i| i.employee_number).filter(|e| *e >= 0) {
        applicant.employees = Some(Typed::Ok(Integer(employees)));
        from("employees", Origin::Gbizinfo);
    }
    if let Some(code) = info
        .and_then(|i| i.postal_code.as_deref())
        .and_then(postal_code)
    {
        office.postal_code = text(&code);
        from("head_office/postal_code", Origin::Gbizinfo);
    }
    let prefecture = present(&session.prefecture_code);
    if let Some(code) = prefecture {
        office.prefecture_code = text(code);
        from("head_office/prefecture_code", Origin::Gbizid);
    }
    let gbizid_address: String = [&session.address1, &session.address2]
        .into_iter()
        .filter_map(present)
        .collect();
    if !gbizid_address.is_empty() {
        office.address = text(&gbizid_address);
        from("head_office/address", Origin::Gbizid);
    } else if let Some(location) = info.and_then(|i| present(&i.location)) {
        office.address = text(&address_without_prefecture(location, prefecture));
        from("head_office/address", Origin::Gbizinfo);
    }
    if office != Address::default() {
        applicant.head_office = Some(Typed::Ok(office));
    }
    (json!({ "applicant": applicant }), sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionRecord {
        SessionRecord {
            sub: "100001".into(),
            account_type: "2".into(),
            corp_type: "1".into(),
            company_id: "corp-9010401234567".into(),
            corporate_number: Some("9010401234567".into()),
            company_name: "株式会社霞が関精機".into(),
            prefecture_code: Some("13".into()),
            address1: Some("千代田区".into()),
            address2: Some("霞が関一丁目3番1号".into()),
            representative_name: Some("経済 一郎".into()),
            user_name: None,
            email: None,
            csrf_token: String::new(),
            created_at: 0,
            expires_at: 0,
            idle_seconds: 0,
            last_seen_at: 0,
            staff: None,
            id_token: None,
        }
    }

    #[test]
    fn gbizid_comes_first_and_gbizinfo_fills_the_rest() {
        let info = HojinInfo {
            corporate_number: "9010401234567".into(),
            name: Some("別名".into()),
            kana: Some("かぶしきがいしゃかすみがせきせいき".into()),
            postal_code: Some("1008901".into()),
            capital_stock: Some(30_000_000),
            employee_number: Some(42),
            ..HojinInfo::default()
        };
        let (plan, sources) = applicant_plan(&session(), Some(&info));
        let a = &plan["applicant"];
        assert_eq!(a["name"], "株式会社霞が関精機");
        assert_eq!(a["name_kana"], "カブシキガイシャカスミガセキセイキ");
        assert_eq!(a["capital_yen"], 30_000_000);
        assert_eq!(a["employees"], 42);
        assert_eq!(a["head_office"]["postal_code"], "100-8901");
        assert_eq!(a["head_office"]["address"], "千代田区霞が関一丁目3番1号");
        assert!(sources.contains(&Source {
            path: "/plan/applicant/capital_yen".into(),
            source: Origin::Gbizinfo
        }));
        assert!(sources.contains(&Source {
            path: "/plan/applicant/name".into(),
            source: Origin::Gbizid
        }));
    }

    #[test]
    fn without_gbizinfo_only_gbizid_values_are_filled() {
        let (plan, sources) = applicant_plan(&session(), None);
        assert!(plan["applicant"].get("capital_yen").is_none());
        assert!(sources.iter().all(|s| s.source == Origin::Gbizid));
    }

    #[test]
    fn gbizinfo_location_loses_its_prefecture() {
        assert_eq!(
            address_without_prefecture("東京都千代田区霞が関１丁目３－１", Some("13")),
            "千代田区霞が関1丁目3-1"
        );
    }
}
