//! Writing a document: printpdf lays it out and subsets the font, then its lopdf document is
//! slimmed, deflated and written with object streams.
//!
//! `cargo bench -p keiryoku-pdf` (the certificate, median of 200, on the 2-core build machine):
//! printpdf's own `save` gave 52.4 KB in 5.66–6.25 ms; this gives 31.7 KB in 3.6–4.5 ms.
//!
//! Where the 52.4 KB went: 46.7 KB the font subset, of which 17.6 KB TrueType hints and 0.8 KB
//! its `cmap` ([`crate::sfnt`]); 3.0 KB the content stream, 1.8 KB of it the QR code
//! ([`crate::qr`]); 2.6 KB dictionaries written uncompressed (mostly the font's `/W` widths)
//! and the xref table, now 1.2 KB as a deflated object stream and a cross-reference stream. No
//! ICC profile or XMP metadata was there (no PDF/A conformance is asked for).
//!
//! Where the time went: looking characters up in the font, about 1.8 ms (see
//! `font::glyph_index`); deflating at level 9, 2.2 ms, most of it the 65 KB hinted font
//! program (now level 6 for the certificate, 1 for the application: [`Deflate`]). What remains is mostly deflating the 39 KB slimmed program, printpdf's subsetting
//! and serialising (1.8 ms) and the QR code (0.5 ms).

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use lopdf::{Document, Object, SaveOptions};
use printpdf::{PdfDocument, PdfSaveOptions};

use crate::PdfError;
use crate::sfnt::slim_font_program;

/// How hard a document's streams are deflated.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Deflate {
    /// Level 6, for the certificate: its size has a budget (32 KB). Level 9 gave the same bytes
    /// 0.25 ms later; level 5 took 3.3 ms but 90 bytes more, too close to the budget.
    Small,
    /// Level 1, for the application as submitted (申請書), rendered on every submission and
    /// with no size budget. `cargo bench -p keiryoku-pdf`: 8.04 ms and 76.8 KB at level 6,
    /// 5.51 ms and 78.3 KB at level 3, 4.90 ms and 85.3 KB at level 1.
    Fast,
}

impl Deflate {
    fn level(self) -> u32 {
        match self {
            Deflate::Small => 6,
            Deflate::Fast => 1,
        }
    }
}

/// The PDF bytes of `doc`: font subset without hinting, streams deflated, and the other
/// objects in a deflated object stream with a cross-reference stream (PDF 1.5).
pub(crate) fn save(doc: &PdfDocument, deflate: Deflate) -> Result<Vec<u8>, PdfError> {
    let mut warnings = Vec::new();
    let mut pdf = doc.to_lopdf_document(
        &PdfSaveOptions {
            subset_fonts: true,
            ..Default::default()
        },
        &mut warnings,
    );
    let programs: Vec<_> = pdf
        .objects
        .values()
        .filter_map(|object| {
            object
                .as_dict()
                .ok()?
                .get(b"FontFile2")
                .ok()?
                .as_reference()
                .ok()
        })
        .collect();
    for id in programs {
        if let Ok(Object::Stream(program)) = pdf.get_object_mut(id)
            && let Some(stripped) = slim_font_program(&program.content)
        {
            program.dict.set("Length1", stripped.len() as i64);
            program.set_content(stripped);
        }
    }
    deflate_streams(&mut pdf, deflate);
    let mut bytes = Vec::new();
    pdf.save_with_options(
        &mut bytes,
        SaveOptions::builder()
            .use_object_streams(true)
            .use_xref_streams(true)
            .compression_level(deflate.level())
            .build(),
    )
    .map_err(|e| PdfError::Write(e.to_string()))?;
    Ok(bytes)
}

/// Deflates the streams that allow it and are not filtered yet, as lopdf's `compress` does but
/// at the level asked for instead of 9.
fn deflate_streams(pdf: &mut Document, deflate: Deflate) {
    for object in pdf.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.has(b"Filter") {
            continue;
        }
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(deflate.level()));
        if encoder.write_all(&stream.content).is_ok()
            && let Ok(deflated) = encoder.finish()
            && deflated.len() < stream.content.len()
        {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(deflated);
        }
    }
}
