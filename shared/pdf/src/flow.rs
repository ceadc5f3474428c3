//! Flowing A4 layout for long documents: headings, wrapped paragraphs and ruled tables whose
//! rows wrap inside their cells and continue on the next page with the header repeated.

use printpdf::{FontId, Mm, PdfPage, Pt};

use crate::font::wrap;
use crate::page::{A4_HEIGHT, A4_WIDTH, Align, Page};

/// Points to millimetres.
fn mm(pt: f32) -> f32 {
    Mm::from(Pt(pt)).0
}

/// A table column: its header and width in millimetres.
pub(crate) struct Column<'a> {
    pub header: &'a str,
    pub width_mm: f32,
}

pub(crate) struct Flow {
    font: FontId,
    pages: Vec<Page>,
    /// Baseline of the next line, in millimetres from the bottom.
    y: f32,
    margin: f32,
    pub(crate) size: f32,
    footer: String,
}

impl Flow {
    pub(crate) fn new(font: FontId, margin: f32, size: f32, footer: &str) -> Flow {
        Flow {
            pages: vec![Page::new(font.clone())],
            font,
            y: A4_HEIGHT - margin,
            margin,
            size,
            footer: footer.to_string(),
        }
    }

    fn line_height(&self, size: f32) -> f32 {
        mm(size) * 1.6
    }

    pub(crate) fn width(&self) -> f32 {
        A4_WIDTH - 2.0 * self.margin
    }

    fn page(&mut self) -> &mut Page {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page.
    pub(crate) fn new_page(&mut self) {
        self.pages.push(Page::new(self.font.clone()));
        self.y = A4_HEIGHT - self.margin;
    }

    /// Makes room for `height` millimetres, breaking the page when needed.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < self.margin + 8.0 {
            self.new_page();
            return true;
        }
        false
    }

    pub(crate) fn gap(&mut self, lines: f32) {
        self.y -= self.line_height(self.size) * lines;
    }

    /// One line at an alignment (`x` is the left edge, right edge or centre).
    pub(crate) fn line(&mut self, text: &str, size: f32, align: Align) {
        self.ensure(self.line_height(size));
        let x = match align {
            Align::Left => self.margin,
            Align::Right => A4_WIDTH - self.margin,
            Align::Centre => A4_WIDTH / 2.0,
        };
        let y = self.y;
        self.page().text(text, size, x, y, align);
        self.y -= self.line_height(size);
    }

    /// A wrapped paragraph, indented by `indent` millimetres.
    pub(crate) fn paragraph(&mut self, text: &str, indent: f32) {
        let size = self.size;
        let width = Mm(self.width() - indent).into_pt().0;
        for line in wrap(text, size, width) {
            self.ensure(self.line_height(size));
            let (x, y) = (self.margin + indent, self.y);
            self.page().text(&line, size, x, y, Align::Left);
            self.y -= self.line_height(size);
        }
    }

    /// A section heading, kept with at least three lines after it.
    pub(crate) fn heading(&mut self, text: &str) {
        let size = self.size + 1.0;
        self.ensure(self.line_height(size) + self.line_height(self.size) * 3.0);
        self.gap(0.4);
        self.line(text, size, Align::Left);
    }

    /// A ruled table; rows wrap inside their cells and the header repeats on every page.
    pub(crate) fn table(&mut self, columns: &[Column<'_>], rows: &[Vec<String>], size: f32) {
        let line = self.line_height(size);
        let pad = 1.5;
        let wrap_cells = |cells: &[String]| -> Vec<Vec<String>> {
            columns
                .iter()
                .zip(cells)
                .map(|(c, text)| wrap(text, size, Mm(c.width_mm - 2.0 * pad).into_pt().0))
                .collect()
        };
        let header: Vec<String> = columns.iter().map(|c| c.header.to_string()).collect();
        let header_cells = wrap_cells(&header);
        self.draw_row(columns, &header_cells, size, line, pad, true);
        for row in rows {
            let cells = wrap_cells(row);
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = lines as f32 * line + pad * 2.0;
            if self.ensure(height) {
                self.draw_row(columns, &header_cells, size, line, pad, true);
            }
            self.draw_row(columns, &cells, size, line, pad, false);
        }
        self.gap(0.5);
    }

    fn draw_row(
        &mut self,
        columns: &[Column<'_>],
        cells: &[Vec<String>],
        size: f32,
        line: f32,
        pad: f32,
        top_rule: bool,
    ) {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * line + pad * 2.0;
        self.ensure(height);
        let left = self.margin;
        let top = self.y + line * 0.7;
        let bottom = top - height;
        let right = left + columns.iter().map(|c| c.width_mm).sum::<f32>();
        let page = {
            let last = self.pages.len() - 1;
            &mut self.pages[last]
        };
        if top_rule {
            page.line((left, top), (right, top));
        }
        page.line((left, bottom), (right, bottom));
        let mut x = left;
        page.line((x, top), (x, bottom));
        for (column, cell) in columns.iter().zip(cells) {
            for (i, text) in cell.iter().enumerate() {
                page.text(
                    text,
                    size,
                    x + pad,
                    top - pad - line * 0.75 - i as f32 * line,
                    Align::Left,
                );
            }
            x += column.width_mm;
            page.line((x, top), (x, bottom));
        }
        self.y = bottom - line * 0.7;
    }

    /// The pages, each with its footer (`title  n / total`).
    pub(crate) fn finish(mut self) -> Vec<PdfPage> {
        let total = self.pages.len();
        let (margin, small, footer) = (self.margin, self.size - 2.0, self.footer.clone());
        for (i, page) in self.pages.iter_mut().enumerate() {
            page.text(
                &format!("{footer}　{} / {total}", i + 1),
                small,
                A4_WIDTH - margin,
                margin - 8.0,
                Align::Right,
            );
        }
        self.pages
            .into_iter()
            .map(|p| PdfPage::new(Mm(A4_WIDTH), Mm(A4_HEIGHT), p.ops))
            .collect()
    }
}
