//! 認定書 (certificate of a 経営力向上計画), A4, from per-authority template data.
//!
//! The wording and layout parameters come from `templates/certificates.json`; the first template
//! whose `applies_to` names the issuing office or its ministry (or `*`) is used, and its id and
//! revision are returned so the stored PDF records which template made it.

use std::sync::OnceLock;

use keiryoku_domain::dates::{wareki, wareki_month};
use keiryoku_domain::plan::Period;
use printpdf::{Mm, PdfDocument, PdfPage};
use serde::Deserialize;
use time::Date;

use crate::PdfError;
use crate::font::{font, text_width, wrap};
use crate::page::{A4_HEIGHT, A4_WIDTH, Align, Page};
use crate::qr::qr_ops;
use crate::save::{Deflate, save};

/// A certifying authority as the certificate names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Office id of the routing tables (`meti-kanto`), for choosing the template.
    pub office_id: String,
    pub ministry_id: String,
    /// 宛先 / 認定者 title (`関東経済産業局長`).
    pub title: String,
}

/// What a certificate states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateData {
    /// Our id of the certificate, in the verification URL.
    pub certificate_id: String,
    /// 認定番号.
    pub certification_number: String,
    /// 認定日.
    pub certified_on: Date,
    /// 申請日 (receipt date).
    pub applied_on: Date,
    /// 事業者の名称.
    pub company_name: String,
    /// 代表者の役職及び氏名.
    pub representative: String,
    /// 本店所在地.
    pub address: String,
    /// Every certifying authority (several for a joint plan).
    pub issuers: Vec<Issuer>,
    /// 計画の実施期間.
    pub period: Period,
    /// 事業分野, as "code name".
    pub business_fields: Vec<String>,
    /// Public verification URL (`https://…/verify/{id}`), also in the QR code.
    pub verify_url: String,
}

/// A rendered certificate and the template that made it.
#[derive(Debug, Clone)]
pub struct RenderedCertificate {
    pub pdf: Vec<u8>,
    pub template_id: String,
    /// `<file version>/<template id>@<revision>`: stored with the PDF.
    pub template_version: String,
    /// The facts no source confirmed that this certificate prints (`table#row`): the template,
    /// an issuer's title, the 認定番号 format. Not empty: the rendering is provisional, and the
    /// operator's view of the certificate says so.
    pub unverified: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Layout {
    margin_mm: f32,
    title_pt: f32,
    body_pt: f32,
    small_pt: f32,
    label_column_mm: f32,
    qr_mm: f32,
}

#[derive(Debug, Clone, Deserialize)]
struct Item {
    label: String,
    value: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Template {
    id: String,
    revision: u32,
    applies_to: Vec<String>,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    source: String,
    title: String,
    addressee_suffix: String,
    body: String,
    items_heading: String,
    items: Vec<Item>,
    verification_note: String,
    layout: Layout,
}

#[derive(Debug, Deserialize)]
struct TemplateFile {
    version: String,
    templates: Vec<Template>,
}

fn templates() -> &'static TemplateFile {
    static FILE: OnceLock<TemplateFile> = OnceLock::new();
    FILE.get_or_init(|| {
        match serde_json::from_str(include_str!("../templates/certificates.json")) {
            Ok(file) => file,
            Err(e) => panic!("templates/certificates.json is malformed: {e}"),
        }
    })
}

/// The certificate templates no public source confirmed, as unverified facts the 認定書 prints
/// (`keiryoku-admin facts unverified` lists them with the tables').
pub fn unverified_templates() -> Vec<keiryoku_domain::facts::UnverifiedFact> {
    templates()
        .templates
        .iter()
        .filter(|t| !t.verified)
        .map(|t| keiryoku_domain::facts::UnverifiedFact {
            table: "templates/certificates.json",
            row: format!("{}@{}", t.id, t.revision),
            what: format!("認定書の文言と様式（{}）", t.applies_to.join(",")),
            source: t.source.clone(),
            printed: true,
        })
        .collect()
}

/// The unverified facts a certificate from `template` for `issuers` prints.
fn unverified_printed(template: &Template, issuers: &[Issuer]) -> Vec<String> {
    let tables = keiryoku_domain::tables::tables();
    let mut facts = Vec::new();
    if !template.verified {
        facts.push(format!(
            "templates/certificates.json#{}@{}",
            template.id, template.revision
        ));
    }
    for issuer in issuers {
        if tables
            .office(&issuer.office_id)
            .is_some_and(|(_, office)| !office.verified)
        {
            facts.push(format!("authorities.json#{}", issuer.office_id));
        }
    }
    if !tables.rules.certification_number.verified {
        facts.push("rules.json#certification_number".to_string());
    }
    facts
}

fn template_for(issuers: &[Issuer]) -> Result<&'static Template, PdfError> {
    let first = issuers
        .first()
        .ok_or_else(|| PdfError::NoTemplate("a certificate without issuer".into()))?;
    templates()
        .templates
        .iter()
        .find(|t| {
            t.applies_to
                .iter()
                .any(|a| a == &first.office_id || a == &first.ministry_id)
        })
        .or_else(|| {
            templates()
                .templates
                .iter()
                .find(|t| t.applies_to.iter().any(|a| a == "*"))
        })
        .ok_or_else(|| PdfError::NoTemplate(first.office_id.clone()))
}

/// The plan period in 和暦: `令和9年1月～令和11年12月（36か月）`.
pub fn period_text(period: &Period) -> Option<String> {
    let end = period.end();
    Some(format!(
        "{}～{}（{}か月）",
        wareki_month(period.start.year, period.start.month)?,
        wareki_month(end.year, end.month)?,
        period.months
    ))
}

fn fill(text: &str, data: &CertificateData) -> Result<String, PdfError> {
    let certified_on = wareki(data.certified_on).ok_or(PdfError::Date)?;
    let applied_on = wareki(data.applied_on).ok_or(PdfError::Date)?;
    let period = period_text(&data.period).ok_or(PdfError::Date)?;
    Ok(text
        .replace("{certification_number}", &data.certification_number)
        .replace("{certified_on}", &certified_on)
        .replace("{applied_on}", &applied_on)
        .replace("{company_name}", &data.company_name)
        .replace("{address}", &data.address)
        .replace("{period}", &period)
        .replace("{business_fields}", &data.business_fields.join("、")))
}

/// Renders the certificate.
pub fn render(data: &CertificateData) -> Result<RenderedCertificate, PdfError> {
    let template = template_for(&data.issuers)?;
    let unverified = unverified_printed(template, &data.issuers);
    let layout = &template.layout;
    let font = font();
    let mut doc = PdfDocument::new(&format!("{} {}", template.title, data.certification_number));
    let font_id = doc.add_font(font);
    // Document dates from the data, not the clock.
    let midnight = data.certified_on.midnight().assume_utc().unix_timestamp();
    if let Ok(at) = printpdf::OffsetDateTime::from_unix_timestamp(midnight) {
        doc.metadata.info.creation_date = at;
        doc.metadata.info.modification_date = at;
        doc.metadata.info.metadata_date = at;
    }
    doc.metadata.info.creator = "keiryoku".into();
    doc.metadata.info.producer = "keiryoku".into();

    let mut page = Page::new(font_id);
    let left = layout.margin_mm;
    let right = A4_WIDTH - layout.margin_mm;
    let body = layout.body_pt;
    let line_mm = body * 0.3528 * 1.7;
    let mut y = A4_HEIGHT - layout.margin_mm;

    page.text(&data.certification_number, body, right, y, Align::Right);
    y -= line_mm;
    page.text(&fill("{certified_on}", data)?, body, right, y, Align::Right);
    y -= line_mm * 2.0;

    for line in wrap(&data.address, body, Mm(right - left).into_pt().0 * 0.7) {
        page.text(&line, body, left, y, Align::Left);
        y -= line_mm;
    }
    page.text(&data.company_name, body + 2.0, left, y, Align::Left);
    y -= line_mm * 1.1;
    page.text(
        &format!("{}　{}", data.representative, template.addressee_suffix),
        body,
        left,
        y,
        Align::Left,
    );
    y -= line_mm * 2.0;

    for issuer in &data.issuers {
        page.text(&issuer.title, body + 1.0, right, y, Align::Right);
        y -= line_mm * 1.1;
    }
    y -= line_mm * 2.0;

    page.text(
        &template.title,
        layout.title_pt,
        A4_WIDTH / 2.0,
        y,
        Align::Centre,
    );
    y -= line_mm * 3.0;

    let text_width_pt = Mm(right - left).into_pt().0;
    for line in wrap(&fill(&template.body, data)?, body, text_width_pt) {
        page.text(&line, body, left, y, Align::Left);
        y -= line_mm;
    }
    y -= line_mm * 0.5;
    page.text(
        &template.items_heading,
        body,
        A4_WIDTH / 2.0,
        y,
        Align::Centre,
    );
    y -= line_mm * 1.2;

    // The items as a ruled two-column table.
    let divider = left + layout.label_column_mm;
    let value_width = Mm(right - divider - 4.0).into_pt().0;
    let table_top = y + line_mm * 0.6;
    page.line((left, table_top), (right, table_top));
    for item in &template.items {
        let lines = wrap(&fill(&item.value, data)?, body, value_width);
        let row_top = y + line_mm * 0.6;
        page.text(
            &item.label,
            body,
            left + 3.0,
            y - line_mm * 0.25,
            Align::Left,
        );
        for line in &lines {
            page.text(line, body, divider + 3.0, y - line_mm * 0.25, Align::Left);
            y -= line_mm;
        }
        y -= line_mm * 0.5;
        let row_bottom = y + line_mm * 0.6;
        page.line((left, row_bottom), (right, row_bottom));
        page.line((divider, row_top), (divider, row_bottom));
    }
    let table_bottom = y + line_mm * 0.6;
    page.line((left, table_top), (left, table_bottom));
    page.line((right, table_top), (right, table_bottom));

    // Verification: QR code bottom-left, note and URL beside it.
    let qr = layout.qr_mm;
    page.ops.extend(qr_ops(
        &data.verify_url,
        Mm(left - 2.0),
        Mm(layout.margin_mm - 5.0),
        Mm(qr),
    )?);
    let note_x = left + qr + 2.0;
    let small = layout.small_pt;
    let small_line = small * 0.3528 * 1.6;
    let mut note_y = layout.margin_mm + qr - 10.0;
    let note_width = Mm(right - note_x).into_pt().0;
    for line in wrap(&template.verification_note, small, note_width)
        .into_iter()
        .chain(wrap(&data.verify_url, small, note_width))
    {
        page.text(&line, small, note_x, note_y, Align::Left);
        note_y -= small_line;
    }
    page.text(
        &format!("証明書ID: {}", data.certificate_id),
        small,
        note_x,
        note_y,
        Align::Left,
    );

    if text_width(&data.company_name, body + 2.0) > Mm(right - left).into_pt().0 {
        return Err(PdfError::Template(
            template.id.clone(),
            "company name wider than the page".into(),
        ));
    }
    let pdf = save(
        doc.with_pages(vec![PdfPage::new(Mm(A4_WIDTH), Mm(A4_HEIGHT), page.ops)]),
        Deflate::Small,
    )?;
    Ok(RenderedCertificate {
        pdf,
        unverified,
        template_id: template.id.clone(),
        template_version: format!(
            "{}/{}@{}",
            templates().version,
            template.id,
            template.revision
        ),
    })
}

/// A certificate to try the renderer with (tests, benchmarks, samples).
pub fn sample() -> CertificateData {
    use keiryoku_domain::plan::YearMonth;
    CertificateData {
        certificate_id: "0193a5d2-7c1e-7a4b-9f00-1234567890ab".into(),
        certification_number: "20261126関東第0001号".into(),
        certified_on: time::macros::date!(2026 - 11 - 26),
        applied_on: time::macros::date!(2026 - 11 - 10),
        company_name: "株式会社霞が関精機".into(),
        representative: "代表取締役　経済 一郎".into(),
        address: "東京都千代田区霞が関一丁目3番1号".into(),
        issuers: vec![Issuer {
            office_id: "meti-kanto".into(),
            ministry_id: "meti".into(),
            title: "関東経済産業局長".into(),
        }],
        period: Period {
            start: YearMonth {
                year: 2027,
                month: 1,
            },
            months: 36,
        },
        business_fields: vec!["2431 金属工作機械用・金属加工機械用部分品・附属品製造業".into()],
        verify_url: "https://keiryoku.example.go.jp/verify/0193a5d2-7c1e-7a4b-9f00-1234567890ab"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_small_pdf_with_its_template_version() {
        let Ok(rendered) = render(&sample()) else {
            panic!("render failed")
        };
        assert!(rendered.pdf.starts_with(b"%PDF-"));
        // The budget `cargo bench -p keiryoku-pdf` reports against (see `save.rs`).
        assert!(
            rendered.pdf.len() <= 32 * 1024,
            "{} bytes: the font must be subset, without hinting, streams deflated",
            rendered.pdf.len()
        );
        assert_eq!(rendered.template_id, "standard");
        assert!(rendered.template_version.ends_with("/standard@1"));
    }

    #[test]
    fn period_in_wareki() {
        let p = Period {
            start: keiryoku_domain::plan::YearMonth {
                year: 2019,
                month: 4,
            },
            months: 36,
        };
        assert_eq!(
            period_text(&p).as_deref(),
            Some("平成31年4月～令和4年3月（36か月）")
        );
    }

    #[test]
    fn a_certificate_without_issuer_is_refused() {
        let mut data = sample();
        data.issuers.clear();
        assert!(matches!(render(&data), Err(PdfError::NoTemplate(_))));
    }
}
