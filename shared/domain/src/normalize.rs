//! Input normalisation before checking: NFKC (full-width digits and letters to ASCII, half-width
//! katakana to full-width), trimmed, with full-width spaces folded.

use unicode_normalization::UnicodeNormalization;

/// NFKC and trim.
///
/// ```
/// assert_eq!(keiryoku_domain::normalize::text("　１２３ｱ "), "123ア");
/// ```
pub fn text(value: &str) -> String {
    value.nfkc().collect::<String>().trim().to_string()
}

/// Normalises every string in a JSON document, in place.
pub fn json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) if !s.is_ascii() || s.trim().len() != s.len() => *s = text(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(json),
        serde_json::Value::Object(map) => map.values_mut().for_each(json),
        _ => {}
    }
}

/// A number written by a person: NFKC, digit-group commas and spaces removed.
pub fn number_text(value: &str) -> String {
    text(value)
        .chars()
        .filter(|c| *c != ',' && !c.is_whitespace())
        .collect()
}
