//! 法人番号 (corporate number): 13 digits, the first a check digit over the other twelve
//! (国税庁 「法人番号の指定等に関する省令」 第2条: 9 − (Σ Pn × Qn mod 9), Pn the n-th digit of the
//! base counted from the right, Qn = 1 for odd n and 2 for even n).

/// Why a string is not a valid 法人番号.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorporateNumberError {
    /// Not exactly 13 characters.
    Length,
    /// Something other than the digits 0–9 (after NFKC, so full-width digits are accepted).
    NotDigits,
    /// The check digit does not match.
    CheckDigit,
}

/// The check digit of a 12-digit base.
///
/// ```
/// assert_eq!(keiryoku_domain::corporate_number::check_digit(b"000012090001"), Some(4));
/// ```
pub fn check_digit(base: &[u8]) -> Option<u8> {
    if base.len() != 12 || !base.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    Some(9 - (sum % 9) as u8)
}

/// Checks a 法人番号 already normalised (NFKC, no spaces or hyphens).
///
/// ```
/// use keiryoku_domain::corporate_number::{validate, CorporateNumberError};
/// assert_eq!(validate("4000012090001"), Ok(())); // 経済産業省
/// assert_eq!(validate("4000012090002"), Err(CorporateNumberError::CheckDigit));
/// ```
pub fn validate(number: &str) -> Result<(), CorporateNumberError> {
    let bytes = number.as_bytes();
    if number.chars().count() != 13 {
        return Err(CorporateNumberError::Length);
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(CorporateNumberError::NotDigits);
    }
    match check_digit(&bytes[1..]) {
        Some(expected) if expected == bytes[0] - b'0' => Ok(()),
        _ => Err(CorporateNumberError::CheckDigit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_numbers_pass() {
        // 経済産業省, 国税庁, 総務省 (their published 法人番号).
        for n in ["4000012090001", "7000012050002", "2000012020001"] {
            assert_eq!(validate(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn every_wrong_check_digit_fails() {
        let base = "000012090001";
        for d in 0..=9u8 {
            let number = format!("{d}{base}");
            assert_eq!(validate(&number).is_ok(), d == 4, "{number}");
        }
    }

    #[test]
    fn shape_errors() {
        assert_eq!(validate("400001209000"), Err(CorporateNumberError::Length));
        assert_eq!(
            validate("40000120900011"),
            Err(CorporateNumberError::Length)
        );
        assert_eq!(
            validate("400001209000a"),
            Err(CorporateNumberError::NotDigits)
        );
        assert_eq!(
            validate("４000012090001"),
            Err(CorporateNumberError::NotDigits)
        );
        assert_eq!(validate(""), Err(CorporateNumberError::Length));
    }
}
