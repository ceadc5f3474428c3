//! The embedded Japanese font and text measurement.

use std::sync::OnceLock;

use printpdf::ParsedFont;

/// IPAex明朝, shipped unmodified with its licence (`fonts/IPA_Font_License_Agreement_v1.0.txt`).
/// Embedding a subset in a PDF creates no obligation (IPA Font License Art. 2.5).
static FONT_BYTES: &[u8] = include_bytes!("../fonts/ipaexm.ttf");

/// The parsed font, once per process (parsing takes milliseconds).
pub(crate) fn font() -> &'static ParsedFont {
    static FONT: OnceLock<ParsedFont> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut warnings = Vec::new();
        match ParsedFont::from_bytes(FONT_BYTES, 0, &mut warnings) {
            Some(font) => font,
            None => panic!("the embedded font fonts/ipaexm.ttf cannot be parsed"),
        }
    })
}

/// The width of `text` at `size` points, in points.
pub(crate) fn text_width(text: &str, size: f32) -> f32 {
    let font = font();
    let units = f32::from(font.pdf_font_metrics.units_per_em.max(1));
    text.chars()
        .map(|c| {
            font.lookup_glyph_index(c as u32)
                .map(|g| f32::from(font.get_horizontal_advance(g)))
                .unwrap_or(units)
        })
        .sum::<f32>()
        * size
        / units
}

/// Characters that must not start a line (行頭禁則).
const NO_LINE_START: &str =
    "、。，．・：；？！ー」』）］｝〕〉》】ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ";

/// Splits text into lines no wider than `width` points, breaking between any two characters
/// except before closing punctuation; explicit newlines are kept.
pub(crate) fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        for c in paragraph.chars() {
            let w = text_width(c.encode_utf8(&mut [0; 4]), size);
            if line_width + w > width && !line.is_empty() && !NO_LINE_START.contains(c) {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(c);
            line_width += w;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_glyphs_are_one_em() {
        assert!((text_width("認定書", 10.0) - 30.0).abs() < 0.5);
        assert!(text_width("123", 10.0) < 20.0);
    }

    #[test]
    fn wrapping_respects_width_and_kinsoku() {
        let lines = wrap("あいうえお、かきくけこ。", 10.0, 50.0);
        assert_eq!(lines[0], "あいうえお、");
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with('、') && !l.starts_with('。'))
        );
        assert_eq!(
            wrap("一行目\n二行目", 10.0, 500.0),
            vec!["一行目", "二行目"]
        );
    }
}
