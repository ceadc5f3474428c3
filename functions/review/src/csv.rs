//! The CSV extract of a search (`GET /review/cases.csv`): the same conditions as
//! `GET /review/cases`, every matching case, in a file that opens cleanly in Excel (UTF-8 with a
//! BOM, CRLF line ends, a Japanese header row, cells that look like formulas neutralised).
//!
//! A Lambda response behind API Gateway is buffered (and capped at 6 MB), so the extract is not
//! sent in the response: it is written page by page to the private documents bucket as a
//! multipart upload (memory bounded by one part, whatever the number of cases), and the answer is
//! `303 See Other` to a presigned URL valid for five minutes. Exports expire from the bucket after
//! a day (lifecycle rule in template.yaml).

use axum::extract::State;
use axum::response::Response;
use keiryoku_http::csv::lines;
use keiryoku_http::{ApiError, QueryParams, StaffSession, see_other};
use keiryoku_store::{CaseFilter, CaseRecord, FileInfo, Scope};

use crate::{ReviewState, SearchParams};

/// Cases read per page while writing.
const PAGE: usize = 500;

/// The header row, in the column order of [`row`].
const HEADER: [&str; 14] = [
    "受付番号",
    "行政庁",
    "受付日",
    "処理期限",
    "状況",
    "当庁の判断",
    "法人番号",
    "名称",
    "都道府県",
    "事業分野",
    "認定番号",
    "認定日",
    "申請区分",
    "URL",
];

fn row(case: &CaseRecord) -> [String; 14] {
    let prefecture = keiryoku_domain::tables::tables()
        .prefecture(&case.prefecture)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| case.prefecture.clone());
    [
        case.receipt_number.clone(),
        keiryoku_web::views::office_name(case.office_id.as_str()),
        case.received_on.to_string(),
        case.due_on.to_string(),
        case.status.label().to_string(),
        case.decision.label().to_string(),
        case.corporate_number.clone().unwrap_or_default(),
        case.company_name.clone(),
        prefecture,
        case.industries.join(" "),
        case.certification_number.clone().unwrap_or_default(),
        case.certified_on.map(|d| d.to_string()).unwrap_or_default(),
        format!("{}申請", case.kind.label()),
        format!("/review/cases/{}", case.application_id),
    ]
}

/// How long the download link of an extract is valid.
const LINK_VALID: std::time::Duration = std::time::Duration::from_secs(300);

/// The CSV extract of a search within the staff member's scope: written to the documents bucket,
/// answered with a short-lived link (303).
#[utoipa::path(get, path = "/review/cases.csv", tag = "review", summary = "検索結果のCSV（UTF-8 BOM付き、CRLF、日本語見出し）", description = "文書バケットに書き出し、5分間有効なダウンロードURLへ 303 で案内する。", params(SearchParams), responses((status = 303, description = "CSV のダウンロードURL（Location）。本文に url と件数")), security(("staff_session" = [])))]
pub(crate) async fn extract(
    State(state): State<ReviewState>,
    staff: StaffSession,
    QueryParams(params): QueryParams<SearchParams>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let scope = staff.scope()?;
    let filter = params.filter()?;
    state
        .reads
        .record(&staff.read(keiryoku_store::ReadKind::Extract, None, uri.query()))
        .await?;
    let (key, rows) = write(&state, &scope, &filter, params.cursor.clone()).await?;
    let url = state.documents.presigned_get(&key, LINK_VALID).await?;
    tracing::info!(scope = %scope.label(), staff = %staff.member.sub, rows, %key, "CSV extract");
    see_other(
        &url,
        serde_json::json!({ "url": url, "rows": rows, "expires_in_seconds": LINK_VALID.as_secs() }),
    )
}

/// Writes every case of the search, page by page, as one CSV file; its key and row count.
async fn write(
    state: &ReviewState,
    scope: &Scope,
    filter: &CaseFilter,
    mut cursor: Option<String>,
) -> Result<(String, usize), ApiError> {
    let today = keiryoku_domain::dates::japan_date(time::OffsetDateTime::now_utc());
    let offices = scope.offices();
    // A name for the file: the office, network or ministry id, or `all`.
    let place = match scope {
        Scope::Office(office) => office.to_string(),
        Scope::Network(id) | Scope::Ministry(id) => id.clone(),
        Scope::National => "all".to_string(),
    };
    let mut upload = state.documents.upload(FileInfo {
        key: format!("exports/{place}/{}.csv", uuid::Uuid::now_v7()),
        content_type: "text/csv; charset=utf-8".into(),
        disposition: format!("attachment; filename=\"cases-{place}-{today}.csv\""),
    });
    let internal = |e: std::io::Error| ApiError::Internal(e.to_string());
    let mut head = keiryoku_http::csv::BOM.to_vec();
    head.extend_from_slice(&lines([HEADER.map(str::to_string)]).map_err(internal)?);
    upload.write(&head).await?;
    let mut rows = 0usize;
    loop {
        let page = match state
            .cases
            .search_in(&offices, filter, PAGE, cursor.as_deref())
            .await
        {
            Ok(page) => page,
            Err(e) => {
                upload.abort().await;
                return Err(e.into());
            }
        };
        rows += page.items.len();
        upload
            .write(&lines(page.items.iter().map(row)).map_err(internal)?)
            .await?;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok((upload.finish().await?, rows)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_lines_end_in_crlf() {
        let mut values = HEADER.map(str::to_string);
        values[6] = "=HYPERLINK(\"x\")".into();
        values[7] = "株式会社\"引用\"".into();
        let bytes = lines([values]).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.ends_with("\r\n"));
        assert!(text.contains("'=HYPERLINK"));
        assert!(text.contains("\"株式会社\"\"引用\"\"\""));
    }
}
