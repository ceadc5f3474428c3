//! Input normalisation before checking: NFKC (full-width digits and letters to ASCII, half-width
//! katakana to full-width), trimmed, with full-width spaces folded.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// A character no text we print may hold: control characters other than line breaks and tabs,
/// and invisible format characters (bidi overrides such as U+202E, zero-width spaces and
/// joiners, the BOM), which can make a name on the 認定書, on /verify or in a CSV read
/// differently from what it is. Variation selectors (異体字 of names) are marks, not format
/// characters, and stay allowed.
///
/// ```
/// use keiryoku_domain::normalize::is_forbidden;
/// assert!(is_forbidden('\u{202E}') && is_forbidden('\u{200B}') && is_forbidden('\u{7}'));
/// assert!(!is_forbidden('\n') && !is_forbidden('\u{E0100}') && !is_forbidden('髙'));
/// ```
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || c.general_category() == GeneralCategory::Format
}

/// Text from elsewhere shown as it is (GビズID's names and addresses): forbidden characters
/// dropped, line breaks and tabs as spaces.
///
/// ```
/// assert_eq!(keiryoku_domain::normalize::display_text("株式会社\u{202E}ABC\n本店"), "株式会社ABC 本店");
/// ```
pub fn display_text(value: &str) -> String {
    value
        .chars()
        .filter(|c| !is_forbidden(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

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
