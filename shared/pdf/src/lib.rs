//! The platform's PDF documents, rendered with printpdf and the IPAex明朝 font (subset into each
//! document without its hinting, so a certificate is about 32 KB; see `save.rs`):
//!
//! - [`application`]: the 申請書, the whole 様式第1 in its official order, tables flowing over pages.
//! - [`certificate`]: the 認定書, laid out from per-authority template data (`templates/`), with
//!   a QR code and a short URL for public verification.
//!
//! Rendering is pure apart from the random document and font identifiers printpdf writes, so two
//! renders of the same data differ in bytes but not in content: a certificate is rendered once
//! and its stored bytes (and their SHA-256) are what identifies it.

#![forbid(unsafe_code)]

pub mod application;
pub mod certificate;
mod flow;
mod font;
mod page;
mod qr;
mod save;
mod sfnt;

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("no certificate template applies to {0}")]
    NoTemplate(String),
    #[error("template {0}: {1}")]
    Template(String, String),
    #[error("QR code: {0}")]
    Qr(String),
    #[error("date out of range")]
    Date,
    #[error("writing the PDF: {0}")]
    Write(String),
}
