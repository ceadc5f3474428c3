//! A QR code drawn as filled rectangles (one per horizontal run of dark modules).

use printpdf::{Mm, Op, PaintMode, Pt, Rect};
use qrcode::{Color as Module, EcLevel, QrCode};

use crate::PdfError;

/// Drawing operations for a QR code of `text` with its bottom-left corner at (`x`, `y`) and
/// `size` on each side (quiet zone included).
pub(crate) fn qr_ops(text: &str, x: Mm, y: Mm, size: Mm) -> Result<Vec<Op>, PdfError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Qr(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    // Four modules of quiet zone on each side, as the standard asks.
    let modules = width + 8;
    let module: Pt = Mm(size.0 / modules as f32).into();
    let origin_x: Pt = x.into();
    let origin_y: Pt = y.into();
    let mut ops = Vec::new();
    for row in 0..width {
        let mut col = 0;
        while col < width {
            if colors[row * width + col] != Module::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && colors[row * width + col] == Module::Dark {
                col += 1;
            }
            ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(origin_x.0 + (start + 4) as f32 * module.0),
                    // Rows go down from the top; PDF y goes up from the bottom.
                    y: Pt(origin_y.0 + (modules - 5 - row) as f32 * module.0),
                    width: Pt((col - start) as f32 * module.0),
                    height: Pt(module.0),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            });
        }
    }
    Ok(ops)
}
