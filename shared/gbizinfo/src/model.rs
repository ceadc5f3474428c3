use serde::{Deserialize, Deserializer, Serialize};

/// One `hojin-infos[]` element: the fields the prefill uses (the rest are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HojinInfo {
    /// 法人番号.
    pub corporate_number: String,
    /// 法人名.
    #[serde(default, deserialize_with = "text")]
    pub name: Option<String>,
    /// フリガナ (hiragana in some answers).
    #[serde(default, deserialize_with = "text")]
    pub kana: Option<String>,
    /// 郵便番号 (7 digits).
    #[serde(default, deserialize_with = "text")]
    pub postal_code: Option<String>,
    /// 本社所在地, one string with the prefecture (full-width digits possible).
    #[serde(default, deserialize_with = "text")]
    pub location: Option<String>,
    /// 法人代表者名.
    #[serde(default, deserialize_with = "text")]
    pub representative_name: Option<String>,
    /// 資本金 (円).
    #[serde(default, deserialize_with = "integer")]
    pub capital_stock: Option<i64>,
    /// 従業員数.
    #[serde(default, deserialize_with = "integer")]
    pub employee_number: Option<i64>,
    /// 事業概要.
    #[serde(default, deserialize_with = "text")]
    pub business_summary: Option<String>,
    /// 設立年月日 (format not confirmed: kept as given).
    #[serde(default, deserialize_with = "text")]
    pub date_of_establishment: Option<String>,
    /// 登記記録の閉鎖等年月日: set when the company no longer exists.
    #[serde(default, deserialize_with = "text")]
    pub close_date: Option<String>,
}

/// A JSON value that means "nothing": null, `"Null"`, empty or blank text.
fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => {
            let s = s.trim();
            s.is_empty() || s.eq_ignore_ascii_case("null") || s == "-"
        }
        _ => false,
    }
}

fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        ref v if is_empty(v) => None,
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(match value {
        ref v if is_empty(v) => None,
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s
            .trim()
            .chars()
            .filter(|c| *c != ',')
            .collect::<String>()
            .parse()
            .ok(),
        _ => None,
    })
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "hojin-infos", default)]
    hojin_infos: Option<Vec<serde_json::Value>>,
}

/// The company of a `GET /v2/hojin/{n}` answer body: `None` when the envelope lists none.
/// Elements that cannot be read are skipped, never fatal.
pub fn parse_response(body: &[u8], corporate_number: &str) -> Result<Option<HojinInfo>, String> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| format!("not a gBizINFO answer: {e}"))?;
    Ok(envelope
        .hojin_infos
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| serde_json::from_value::<HojinInfo>(v).ok())
        .find(|h| h.corporate_number == corporate_number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_v1_answer_is_read() {
        let body = r#"{"id":"4000012090001","errors":null,"message":"200 - OK.","hojin-infos":[{"corporate_number":"4000012090001","postal_code":"1000013","location":"東京都千代田区霞が関１丁目３－１","name":"経済産業省","kana":"けいざいさんぎょうしょう","name_en":"Ministry of Economy, Trade and Industry","status":"-","update_date":"2018-04-02T00:00:00+09:00"}]}"#;
        let info = parse_response(body.as_bytes(), "4000012090001")
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(info.name.as_deref(), Some("経済産業省"));
        assert_eq!(info.postal_code.as_deref(), Some("1000013"));
        assert_eq!(info.capital_stock, None);
    }

    #[test]
    fn null_strings_and_numeric_strings_are_read_leniently() {
        let body = r#"{"hojin-infos":[{"corporate_number":"7120001234561","name":"浪速金属工業株式会社","kana":"Null","representative_name":"Null","capital_stock":"10,000,000","employee_number":"35","business_summary":"","location":null}]}"#;
        let info = parse_response(body.as_bytes(), "7120001234561")
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(info.kana, None);
        assert_eq!(info.representative_name, None);
        assert_eq!(info.capital_stock, Some(10_000_000));
        assert_eq!(info.employee_number, Some(35));
        assert_eq!(info.business_summary, None);
        assert_eq!(info.location, None);
    }

    #[test]
    fn another_company_or_an_empty_envelope_is_nothing() {
        for body in [
            r#"{"hojin-infos":[{"corporate_number":"1"}]}"#,
            r#"{"hojin-infos":[]}"#,
            r#"{"hojin-infos":null,"errors":[{"item":"x","message":"y"}]}"#,
        ] {
            assert_eq!(parse_response(body.as_bytes(), "2"), Ok(None), "{body}");
        }
        assert!(parse_response(b"<html>", "2").is_err());
    }
}
