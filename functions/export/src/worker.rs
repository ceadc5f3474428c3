//! The extract worker (binary `export-worker`): started by a job's insertion on the table's
//! stream, it claims the job, reads the register month by month, keeps what the client may see,
//! and writes the file to the documents bucket as a multipart upload. Memory holds one page of
//! the register and one part of the file, whatever the number of records.

use std::io::Write;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use keiryoku_domain::register::{RegisterEntry, parse_month};
use keiryoku_store::{
    Documents, ExtractFormat, ExtractJob, ExtractState, Extracts, FileInfo, MAX_REGISTER_PAGE,
    Register, extract_job_from_item,
};

/// What the worker uses.
pub struct Worker {
    pub register: Register,
    pub extracts: Extracts,
    pub documents: Documents,
}

/// The header row of a CSV extract, in the column order of [`csv_row`].
const CSV_HEADER: [&str; 14] = [
    "申請ID",
    "申請区分",
    "認定番号",
    "認定日",
    "事業者名",
    "法人番号",
    "都道府県コード",
    "認定行政庁コード",
    "事業分野コード",
    "実施期間の終わり",
    "公表可否",
    "データ利活用同意",
    "データの由来",
    "変更前の申請ID",
];

fn csv_row(entry: &RegisterEntry) -> Vec<String> {
    let yes_no = |b: bool| if b { "可" } else { "否" }.to_string();
    vec![
        entry.application_id.to_string(),
        entry.application_kind.label().to_string(),
        entry.certification_number.clone(),
        entry.certified_on.to_string(),
        entry.company_name.clone(),
        entry.corporate_number.clone().unwrap_or_default(),
        entry.prefecture_code.clone().unwrap_or_default(),
        entry
            .office_ids
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        entry.industry_codes.join(" "),
        entry.period_end.clone().unwrap_or_default(),
        yes_no(entry.publication_consent),
        yes_no(entry.data_use_consent),
        match entry.origin {
            keiryoku_domain::register::Origin::Platform => "電子申請",
            keiryoku_domain::register::Origin::Migrated => "旧システムから移行",
            keiryoku_domain::register::Origin::Paper => "紙申請",
        }
        .to_string(),
        entry
            .change_of
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    ]
}

/// The lines of these entries in the file's format, and how many there are.
fn encode<'a>(
    format: ExtractFormat,
    entries: impl Iterator<Item = &'a RegisterEntry>,
) -> Result<(Vec<u8>, u64), String> {
    match format {
        ExtractFormat::Csv => {
            let rows: Vec<Vec<String>> = entries.map(csv_row).collect();
            let count = rows.len() as u64;
            Ok((
                Vec::from(keiryoku_http::csv::lines(rows).map_err(|e| e.to_string())?),
                count,
            ))
        }
        ExtractFormat::NdjsonGz => {
            let mut chunk = Vec::new();
            let mut count = 0;
            for entry in entries {
                serde_json::to_writer(&mut chunk, entry).map_err(|e| e.to_string())?;
                chunk.push(b'\n');
                count += 1;
            }
            Ok((chunk, count))
        }
    }
}

/// Every month from `from` to `to` (`YYYY-MM`), at most 20 years.
pub fn months(from: &str, to: &str) -> Option<Vec<String>> {
    let (from, to) = (parse_month(from)?, parse_month(to)?);
    if to < from {
        return None;
    }
    let mut out = Vec::new();
    let mut month = from;
    while month <= to && out.len() < 240 {
        out.push(format!("{:04}-{:02}", month.year, month.month));
        month = month.plus_months(1);
    }
    (month > to).then_some(out)
}

/// The bytes a file is made of, as they are encoded: plain (CSV) or gzip (NDJSON).
enum Encoder {
    Plain(Vec<u8>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl Encoder {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Encoder::Plain(buffer) => buffer.write_all(bytes),
            Encoder::Gzip(encoder) => encoder.write_all(bytes),
        }
    }

    /// What is ready to be uploaded (the compressor keeps what it still needs).
    fn take(&mut self) -> Vec<u8> {
        match self {
            Encoder::Plain(buffer) => std::mem::take(buffer),
            Encoder::Gzip(encoder) => std::mem::take(encoder.get_mut()),
        }
    }

    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Encoder::Plain(buffer) => Ok(buffer),
            Encoder::Gzip(encoder) => encoder.finish(),
        }
    }
}

impl Worker {
    /// Handles a batch of stream records: each new queued job is run once (a redelivery after
    /// the worker died claims it again).
    pub async fn handle(&self, event: StreamEvent) {
        for record in event.records {
            let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
                record.change.new_image.into();
            let job = match extract_job_from_item(&item) {
                Ok(job) if matches!(job.state, ExtractState::Queued | ExtractState::Running) => job,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "an extract job that does not read");
                    continue;
                }
            };
            self.run(job).await;
        }
    }

    /// Claims and runs one job, recording how it ended.
    pub async fn run(&self, job: ExtractJob) {
        let mut ended = match self.extracts.claim(&job).await {
            Ok(Some(running)) => running,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(id = %job.id, error = %e, "extract not claimed");
                return;
            }
        };
        match self.write(&job).await {
            Ok((key, rows, bytes)) => {
                ended.state = ExtractState::Done;
                ended.key = Some(key);
                ended.rows = rows;
                ended.bytes = bytes;
                tracing::info!(id = %job.id, rows, bytes, "extract written");
            }
            Err(reason) => {
                tracing::error!(id = %job.id, %reason, "extract failed");
                ended.state = ExtractState::Failed;
                ended.reason = Some(reason);
            }
        }
        ended.finished_at = Some(keiryoku_store::now_rfc3339());
        if let Err(e) = self.extracts.finish(&ended).await {
            tracing::error!(id = %job.id, error = %e, "extract result not recorded");
        }
    }

    /// One page of a month of the register.
    async fn page(
        &self,
        month: &str,
        cursor: Option<&str>,
    ) -> Result<keiryoku_store::RegisterPage, String> {
        self.register
            .month(month, false, MAX_REGISTER_PAGE, cursor)
            .await
            .map_err(|e| e.to_string())
    }

    /// Writes the job's file; its key, rows and bytes.
    async fn write(&self, job: &ExtractJob) -> Result<(String, u64, u64), String> {
        let months = months(&job.from, &job.to).ok_or("bad period")?;
        let (extension, content_type) = match job.format {
            ExtractFormat::Csv => ("csv", "text/csv; charset=utf-8"),
            ExtractFormat::NdjsonGz => ("ndjson.gz", "application/gzip"),
        };
        let name = format!("certifications-{}-{}.{extension}", job.from, job.to);
        let mut upload = self.documents.upload(FileInfo {
            key: format!("exports/agency/{}/{}.{extension}", job.client_id, job.id),
            content_type: content_type.into(),
            disposition: format!("attachment; filename=\"{name}\""),
        });
        let mut encoder = match job.format {
            ExtractFormat::Csv => {
                let mut head = keiryoku_http::csv::BOM.to_vec();
                head.extend_from_slice(
                    &keiryoku_http::csv::lines([CSV_HEADER.map(str::to_string)])
                        .map_err(|e| e.to_string())?,
                );
                Encoder::Plain(head)
            }
            ExtractFormat::NdjsonGz => Encoder::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )),
        };
        let mut rows = 0u64;
        let mut bytes = 0u64;
        let result: Result<(), String> = async {
            // The next page is read while this one is written: two pages in memory at most.
            let mut position = Some((0usize, None::<String>));
            let mut page = Some(self.page(&months[0], None).await?);
            while let (Some(current), Some((month, _))) = (page.take(), position.take()) {
                position = match &current.next_cursor {
                    Some(next) => Some((month, Some(next.clone()))),
                    None => (month + 1 < months.len()).then_some((month + 1, None)),
                };
                let read_next = async {
                    match &position {
                        Some((month, cursor)) => self
                            .page(&months[*month], cursor.as_deref())
                            .await
                            .map(Some),
                        None => Ok(None),
                    }
                };
                let write_this = async {
                    let visible = current.entries.iter().filter(|e| job.view.sees_entry(e));
                    let (chunk, count) = encode(job.format, visible)?;
                    encoder.write(&chunk).map_err(|e| e.to_string())?;
                    let ready = encoder.take();
                    upload.write(&ready).await.map_err(|e| e.to_string())?;
                    Ok::<_, String>((count, ready.len() as u64))
                };
                let (next, written) = tokio::join!(read_next, write_this);
                let (count, size) = written?;
                rows += count;
                bytes += size;
                page = next?;
            }
            Ok(())
        }
        .await;
        if let Err(reason) = result {
            upload.abort().await;
            return Err(reason);
        }
        let rest = encoder.finish().map_err(|e| e.to_string())?;
        bytes += rest.len() as u64;
        upload.write(&rest).await.map_err(|e| e.to_string())?;
        let key = upload.finish().await.map_err(|e| e.to_string())?;
        Ok((key, rows, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_every_month_from_first_to_last() {
        assert_eq!(
            months("2025-11", "2026-02"),
            Some(vec![
                "2025-11".to_string(),
                "2025-12".into(),
                "2026-01".into(),
                "2026-02".into()
            ])
        );
        assert_eq!(months("2026-02", "2025-11"), None);
        assert_eq!(months("2000-01", "2100-12"), None, "at most 20 years");
        assert_eq!(months("2026-1", "2026-02"), None);
    }
}
