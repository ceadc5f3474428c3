//! The embedded Japanese font and text measurement.

use std::sync::OnceLock;

use printpdf::ParsedFont;

use crate::sfnt::{tables, u16_at, u32_at};

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

/// The groups of the font's Windows UCS-4 character map (format 12), the subtable printpdf's
/// `ParsedFont` reads too (allsorts prefers it), or `None` if the font had none.
fn char_groups() -> Option<&'static [u8]> {
    static GROUPS: OnceLock<Option<&'static [u8]>> = OnceLock::new();
    *GROUPS.get_or_init(|| {
        let (_, cmap) = tables(FONT_BYTES)?
            .into_iter()
            .find(|(tag, _)| tag == b"cmap")?;
        let subtable = (0..usize::from(u16_at(cmap, 2)?)).find_map(|i| {
            let record = 4 + 8 * i;
            if u16_at(cmap, record)? == 3 && u16_at(cmap, record + 2)? == 10 {
                usize::try_from(u32_at(cmap, record + 4)?).ok()
            } else {
                None
            }
        })?;
        if u16_at(cmap, subtable)? != 12 {
            return None;
        }
        let count = usize::try_from(u32_at(cmap, subtable + 12)?).ok()?;
        cmap.get(subtable + 16..subtable + 16 + 12 * count)
    })
}

/// The glyph of `c`. `ParsedFont::lookup_glyph_index` walks the 10,718 groups of IPAex's
/// character map in order, 1.2 µs a kanji; they are sorted, so this bisects them instead.
/// Measuring the certificate's lines took about 0.8 ms the slow way, and printpdf's own
/// look-ups, which `Page::text` now spares it, about 1 ms.
pub(crate) fn glyph_index(c: char) -> Option<u16> {
    let Some(groups) = char_groups() else {
        return font().lookup_glyph_index(u32::from(c));
    };
    let c = u32::from(c);
    let (mut low, mut high) = (0, groups.len() / 12);
    while low < high {
        let mid = (low + high) / 2;
        let start = u32_at(groups, 12 * mid)?;
        if c < start {
            high = mid;
        } else if c > u32_at(groups, 12 * mid + 4)? {
            low = mid + 1;
        } else {
            return u16::try_from(u32_at(groups, 12 * mid + 8)? + (c - start)).ok();
        }
    }
    None
}

/// The width of `text` at `size` points, in points.
pub(crate) fn text_width(text: &str, size: f32) -> f32 {
    let font = font();
    let units = f32::from(font.pdf_font_metrics.units_per_em.max(1));
    text.chars()
        .map(|c| {
            glyph_index(c)
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
    fn glyph_lookup_agrees_with_printpdf() {
        assert!(
            char_groups().is_some(),
            "IPAex has a format 12 character map"
        );
        // ASCII, kana, the CJK block, full-width forms and beyond the BMP, sampled.
        let samples = (0x20..0x3100)
            .chain((0x4E00..0xA000).step_by(7))
            .chain(0xFF00..0xFFF0)
            .chain((0x20000..0x2FA20).step_by(97))
            .filter_map(char::from_u32);
        for c in samples.chain("認定書霞が関精機（）～　".chars()) {
            assert_eq!(
                glyph_index(c),
                font().lookup_glyph_index(u32::from(c)),
                "{c:?}"
            );
        }
    }

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
