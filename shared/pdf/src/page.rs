//! A small builder of A4 page operations: text at a position (left, right or centred), lines.

use printpdf::{
    Codepoint, Color, FontId, Line, LinePoint, Mm, Op, PdfFontHandle, Point, Pt, Rgb, TextItem,
};

use crate::font::{glyph_index, text_width};

pub(crate) const A4_WIDTH: f32 = 210.0;
pub(crate) const A4_HEIGHT: f32 = 297.0;

/// Horizontal placement of a line of text.
#[derive(Clone, Copy)]
pub(crate) enum Align {
    Left,
    Right,
    Centre,
}

pub(crate) struct Page {
    font: FontId,
    pub(crate) ops: Vec<Op>,
}

fn black() -> Color {
    Color::Rgb(Rgb::new(0.0, 0.0, 0.0, None))
}

impl Page {
    pub(crate) fn new(font: FontId) -> Page {
        Page {
            font,
            ops: vec![
                Op::SetFillColor { col: black() },
                Op::SetOutlineColor { col: black() },
                Op::SetOutlineThickness { pt: Pt(0.6) },
            ],
        }
    }

    /// One line of text; `x` is the left edge, the right edge or the centre per `align`, and `y`
    /// the baseline, both in millimetres from the bottom-left corner.
    pub(crate) fn text(&mut self, text: &str, size: f32, x: f32, y: f32, align: Align) {
        // Only right-aligned and centred text needs its width.
        let width_mm = || Mm::from(Pt(text_width(text, size))).0;
        let left = match align {
            Align::Left => x,
            Align::Right => x - width_mm(),
            Align::Centre => x - width_mm() / 2.0,
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetTextCursor {
                pos: Point::new(Mm(left), Mm(y)),
            },
            Op::SetFont {
                font: PdfFontHandle::External(self.font.clone()),
                size: Pt(size),
            },
            // Glyph ids rather than text: printpdf would look every character up twice in the
            // font's character map (to subset, then to encode) at 1.2 µs each, 1 ms of the
            // certificate. The text for extraction (`/ToUnicode`) goes along with each glyph;
            // a character the font lacks is drawn as .notdef and extracted as U+FFFD.
            Op::ShowText {
                items: vec![TextItem::GlyphIds(
                    text.chars()
                        .map(|c| {
                            let gid = glyph_index(c);
                            Codepoint {
                                gid: gid.unwrap_or(0),
                                offset: 0.0,
                                cid: gid.map(|_| c.to_string()),
                            }
                        })
                        .collect(),
                )],
            },
            Op::EndTextSection,
        ]);
    }

    /// A straight line between two points in millimetres.
    pub(crate) fn line(&mut self, from: (f32, f32), to: (f32, f32)) {
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point::new(Mm(from.0), Mm(from.1)),
                        bezier: false,
                    },
                    LinePoint {
                        p: Point::new(Mm(to.0), Mm(to.1)),
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }
}
