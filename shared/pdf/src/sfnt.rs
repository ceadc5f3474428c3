//! Slims the TrueType font program embedded for a CIDFontType2 font.
//!
//! - Hinting: IPAex明朝 carries bytecode hints in every glyph. In the subset of a certificate
//!   (about 170 glyphs) they were 24.7 KB of the 60 KB `glyf` table, 17.6 KB of the 46.7 KB font
//!   stream once deflated. Hints only move outline points to the pixel grid of a screen at small
//!   sizes: the outlines, the advances and so the printed page are the same without them.
//! - `cmap`: a CIDFontType2 font with `/CIDToGIDMap /Identity` selects glyphs by glyph id, and
//!   text extraction reads `/ToUnicode`; the font's own character map is never consulted (PDF
//!   Reference 1.3 lists the tables viewers use for CIDFontType 2: head, hhea, loca, maxp,
//!   glyf, hmtx and the hinting ones; dvipdfmx, which embeds IPAex fonts for Japanese TeX,
//!   leaves `cmap` out too). 0.8 KB deflated for the certificate.

/// Tables left out: the hinting interpreter's and hinted rasterisation's, and `cmap`.
const DROPPED_TABLES: [&[u8; 4]; 8] = [
    b"fpgm", b"prep", b"cvt ", b"hdmx", b"LTSH", b"VDMX", b"gasp", b"cmap",
];

/// Composite glyph component flags (OpenType `glyf` table).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
const WE_HAVE_INSTRUCTIONS: u16 = 0x0100;

pub(crate) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The tables of a TrueType font (not a collection), as (tag, data) in directory order.
pub(crate) fn tables(font: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    if !matches!(u32_at(font, 0)?, 0x0001_0000 | 0x7472_7565) {
        return None;
    }
    (0..usize::from(u16_at(font, 4)?))
        .map(|i| {
            let record = 12 + 16 * i;
            let tag: [u8; 4] = font.get(record..record + 4)?.try_into().ok()?;
            let offset = usize::try_from(u32_at(font, record + 8)?).ok()?;
            let length = usize::try_from(u32_at(font, record + 12)?).ok()?;
            Some((tag, font.get(offset..offset.checked_add(length)?)?))
        })
        .collect()
}

/// The font program without hinting (glyph instructions emptied, hinting tables dropped) and
/// without `cmap`, its `loca` in the short format when it fits. `None` when `font` is not a
/// TrueType (`glyf`) font this understands; the caller then keeps the program as it is.
pub(crate) fn slim_font_program(font: &[u8]) -> Option<Vec<u8>> {
    let tables = tables(font)?;
    let table = |tag: &[u8; 4]| tables.iter().find(|(t, _)| t == tag).map(|(_, data)| *data);
    let head = table(b"head").filter(|h| h.len() >= 54)?;
    let glyf = table(b"glyf")?;
    let loca = table(b"loca")?;
    let num_glyphs = usize::from(u16_at(table(b"maxp")?, 4)?);
    let long_loca = u16_at(head, 50)? != 0;

    let offset = |i: usize| -> Option<usize> {
        if long_loca {
            usize::try_from(u32_at(loca, 4 * i)?).ok()
        } else {
            Some(usize::from(u16_at(loca, 2 * i)?) * 2)
        }
    };
    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut new_offsets = Vec::with_capacity(num_glyphs + 1);
    new_offsets.push(0);
    for i in 0..num_glyphs {
        let glyph = glyf.get(offset(i)?..offset(i + 1)?)?;
        if !glyph.is_empty() {
            strip_glyph(glyph, &mut new_glyf)?;
            // Even lengths, so that the short `loca` (offsets / 2) can address every glyph.
            if new_glyf.len() % 2 == 1 {
                new_glyf.push(0);
            }
        }
        new_offsets.push(new_glyf.len());
    }

    let short_loca = new_glyf.len() / 2 <= usize::from(u16::MAX);
    let mut new_loca = Vec::with_capacity(new_offsets.len() * 4);
    for o in new_offsets {
        if short_loca {
            new_loca.extend_from_slice(&u16::try_from(o / 2).ok()?.to_be_bytes());
        } else {
            new_loca.extend_from_slice(&u32::try_from(o).ok()?.to_be_bytes());
        }
    }
    let mut new_head = head.to_vec();
    new_head[8..12].fill(0); // checkSumAdjustment, set once the font is assembled
    new_head[50..52].copy_from_slice(&u16::from(!short_loca).to_be_bytes());

    let mut kept: Vec<([u8; 4], &[u8])> = tables
        .iter()
        .filter(|(tag, _)| !DROPPED_TABLES.contains(&tag))
        .map(|&(tag, data)| match &tag {
            b"glyf" => (tag, new_glyf.as_slice()),
            b"loca" => (tag, new_loca.as_slice()),
            b"head" => (tag, new_head.as_slice()),
            _ => (tag, data),
        })
        .collect();
    kept.sort_by_key(|(tag, _)| *tag);
    Some(assemble(&kept))
}

/// Appends `glyph` without its instructions to `out`.
fn strip_glyph(glyph: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let contours = i16::from_be_bytes(glyph.get(0..2)?.try_into().ok()?);
    if let Ok(contours) = usize::try_from(contours) {
        // Simple glyph: header, end points, instruction length and instructions, then the
        // flags and coordinates, which are kept as they are.
        let length_at = 10 + 2 * contours;
        let instructions = usize::from(u16_at(glyph, length_at)?);
        let rest = glyph.get(length_at + 2 + instructions..)?;
        out.extend_from_slice(&glyph[..length_at]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
    } else {
        // Composite glyph: the components, with the "instructions follow" flag cleared; the
        // instructions after the last component are left out.
        out.extend_from_slice(glyph.get(..10)?);
        let mut at = 10;
        loop {
            let flags = u16_at(glyph, at)?;
            let mut next = at + 4; // flags, glyph index
            next += if flags & ARG_1_AND_2_ARE_WORDS != 0 {
                4
            } else {
                2
            };
            next += if flags & WE_HAVE_A_SCALE != 0 {
                2
            } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
                4
            } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
                8
            } else {
                0
            };
            out.extend_from_slice(&(flags & !WE_HAVE_INSTRUCTIONS).to_be_bytes());
            out.extend_from_slice(glyph.get(at + 2..next)?);
            at = next;
            if flags & MORE_COMPONENTS == 0 {
                break;
            }
        }
    }
    Some(())
}

/// Sum of the big-endian 32-bit words of `data`, zero-padded to a multiple of four.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// An sfnt from `tables` (sorted by tag), with the directory, table checksums and the `head`
/// checksum adjustment the format asks for.
fn assemble(tables: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let count = tables.len();
    let mut power = 1;
    while power * 2 <= count {
        power *= 2;
    }
    let search_range = power * 16;
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for field in [
        count,
        search_range,
        power.trailing_zeros() as usize,
        count * 16 - search_range,
    ] {
        out.extend_from_slice(&(field as u16).to_be_bytes());
    }
    let mut offset = 12 + 16 * count;
    for (tag, data) in tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    let mut head_at = None;
    for (tag, data) in tables {
        if tag == b"head" {
            head_at = Some(out.len());
        }
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::font::{font, glyph_index};

    /// printpdf's subset of the embedded font for the characters of `text`.
    fn subset(text: &str) -> Vec<u8> {
        let glyphs: BTreeMap<u16, String> = text
            .chars()
            .filter_map(|c| Some((glyph_index(c)?, c.to_string())))
            .collect();
        match printpdf::font::subset_font(font(), &glyphs) {
            Ok(subset) => subset.bytes,
            Err(e) => panic!("subset: {e}"),
        }
    }

    fn table<'a>(font: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
        tables(font)?
            .into_iter()
            .find(|(t, _)| t == tag)
            .map(|(_, data)| data)
    }

    /// Every glyph's bytes, by `loca`.
    fn glyphs(font: &[u8]) -> Vec<&[u8]> {
        let (Some(head), Some(maxp), Some(loca), Some(glyf)) = (
            table(font, b"head"),
            table(font, b"maxp"),
            table(font, b"loca"),
            table(font, b"glyf"),
        ) else {
            panic!("not a TrueType font")
        };
        let long = u16_at(head, 50) == Some(1);
        let offset = |i: usize| {
            let at = if long {
                u32_at(loca, 4 * i).map(|o| o as usize)
            } else {
                u16_at(loca, 2 * i).map(|o| 2 * usize::from(o))
            };
            at.unwrap_or_else(|| panic!("loca entry {i}"))
        };
        let count = usize::from(u16_at(maxp, 4).unwrap_or(0));
        (0..count)
            .map(|i| &glyf[offset(i)..offset(i + 1)])
            .collect()
    }

    #[test]
    fn hints_and_cmap_go_outlines_and_advances_stay() {
        let original = subset("認定書 株式会社霞が関精機（36か月）No.12");
        let Some(slim) = slim_font_program(&original) else {
            panic!("a TrueType subset is slimmed")
        };
        assert!(slim.len() < original.len() * 3 / 4, "{} bytes", slim.len());
        for tag in DROPPED_TABLES {
            assert!(
                table(&slim, tag).is_none(),
                "{}",
                String::from_utf8_lossy(tag)
            );
        }
        assert_eq!(checksum(&slim), 0xB1B0_AFBA, "head checkSumAdjustment");

        let (before, after) = (glyphs(&original), glyphs(&slim));
        assert_eq!(before.len(), after.len());
        for (old, new) in before.iter().zip(&after) {
            if old.is_empty() {
                assert!(new.is_empty());
                continue;
            }
            // Simple glyphs (IPAex has no composites): same contours, no instructions, the
            // same flags and coordinates after them, then at most one byte of padding.
            let length_at = 10 + 2 * usize::from(u16_at(old, 0).unwrap_or(0));
            let instructions = usize::from(u16_at(old, length_at).unwrap_or(0));
            assert_eq!(new[..length_at], old[..length_at]);
            assert_eq!(u16_at(new, length_at), Some(0));
            let rest = &old[length_at + 2 + instructions..];
            assert_eq!(new[length_at + 2..length_at + 2 + rest.len()], *rest);
            assert!(new.len() - (length_at + 2 + rest.len()) <= 1);
        }

        for tag in [b"hhea", b"hmtx", b"maxp", b"name", b"post"] {
            assert_eq!(
                table(&slim, tag),
                table(&original, tag),
                "advances and names kept"
            );
        }
    }

    #[test]
    fn composite_glyphs_lose_their_instructions() {
        let mut glyph = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 100, 0, 100]; // -1 contours, bbox
        glyph.extend_from_slice(
            &(ARG_1_AND_2_ARE_WORDS | WE_HAVE_A_SCALE | MORE_COMPONENTS).to_be_bytes(),
        );
        glyph.extend_from_slice(&[0, 5, 0, 1, 0, 2, 0x40, 0]); // glyph 5, two word args, scale 1
        glyph.extend_from_slice(&WE_HAVE_INSTRUCTIONS.to_be_bytes());
        glyph.extend_from_slice(&[0, 6, 3, 4]); // glyph 6, two byte args
        let components = glyph.len();
        glyph.extend_from_slice(&[0, 3, 0xB0, 0x01, 0x2F]); // three bytes of instructions

        let mut out = Vec::new();
        assert!(strip_glyph(&glyph, &mut out).is_some());
        assert_eq!(out.len(), components);
        assert_eq!(out[..components - 6], glyph[..components - 6]);
        assert_eq!(u16_at(&out, components - 6), Some(0), "flag cleared");
        assert_eq!(out[components - 4..], glyph[components - 4..components]);
    }

    #[test]
    fn other_font_programs_are_left_alone() {
        assert!(slim_font_program(b"OTTO\0\0\0\0").is_none());
        assert!(slim_font_program(b"").is_none());
    }
}
