//! CSV for Excel, the way every extract of the platform writes it: UTF-8 with a BOM, CRLF line
//! ends, and cells that look like formulas neutralised (CSV injection).

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The byte order mark Excel needs to read a CSV file as UTF-8.
pub const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A cell Excel would read as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`.
fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// CSV lines (CRLF) of some rows, formulas neutralised.
pub fn lines<R: AsRef<[String]>, I: IntoIterator<Item = R>>(
    rows: I,
) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .write_record(row.as_ref().iter().map(|v| cell(v)))
            .map_err(std::io::Error::other)?;
    }
    writer
        .into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// A small CSV file answered directly (BOM, then the rows), offered for download as `filename`.
pub fn attachment<R: AsRef<[String]>, I: IntoIterator<Item = R>>(
    rows: I,
    filename: &str,
) -> Result<Response, crate::ApiError> {
    let mut body = BOM.to_vec();
    body.extend_from_slice(&lines(rows).map_err(|e| crate::ApiError::Internal(e.to_string()))?);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // lambda_http sends a text/* body as text after decoding it, and the decoding drops the
    // BOM Excel needs to read UTF-8. A Content-Encoding makes it send the bytes as they are
    // (base64); `identity` tells the browser there is nothing to undo.
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_lines_end_in_crlf() {
        let bytes = lines([vec!["=1+1".to_string(), "株式会社".to_string()]]).unwrap_or_default();
        assert_eq!(&bytes[..], "'=1+1,株式会社\r\n".as_bytes());
    }
}
