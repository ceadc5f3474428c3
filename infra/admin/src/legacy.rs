//! The legacy system's certifications: `keiryoku-admin legacy import FILE` carries an extract
//! over (docs/legacy-import.md), `legacy generate` writes a realistic synthetic one of any size.
//!
//! The import reads the file as a stream, 100 rows at a time: memory is one batch, whatever the
//! file's size. Every rejected row is reported with its line number and reason (one JSON line
//! each), the rest is written; running it again writes nothing twice, so a crash is resumed by
//! running it again (`--from-line` skips what is known to be done).

use std::collections::HashSet;
use std::io::Write;

use keiryoku_domain::application::Application;
use keiryoku_domain::migration::{COLUMNS, LegacyCertification};
use keiryoku_store::Applications;
use serde_json::json;

/// Rows written per batch (one existence check, a few transactions).
const BATCH: usize = 100;

/// Imports `file`; prints each rejected row and a summary, one JSON object a line.
pub async fn import(
    applications: &Applications,
    file: &std::path::Path,
    from_line: u64,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let reader = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::BufReader::new(reader));
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| format!("{}: the header row: {e}", file.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if let Some(missing) = COLUMNS.iter().find(|c| !headers.iter().any(|h| h == *c)) {
        return Err(format!(
            "{}: no column 「{missing}」 (docs/legacy-import.md)",
            file.display()
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let (mut rows, mut written, mut existing, mut rejected) = (0u64, 0usize, 0usize, 0u64);
    let mut batch: Vec<Application> = Vec::with_capacity(BATCH);
    let mut ids: HashSet<String> = HashSet::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = csv
            .read_record(&mut record)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        if more {
            // The file's line the row starts on (the header is line 1; a quoted cell may span
            // lines). The reader records a row's position before the line break that ends the
            // row before it, hence the + 1.
            let line = record.position().map_or(0, |p| p.line() + 1);
            if line < from_line {
                continue;
            }
            rows += 1;
            let cell = |name: &str| {
                headers
                    .iter()
                    .position(|h| h == name)
                    .and_then(|i| record.get(i))
            };
            match LegacyCertification::parse(cell) {
                Ok(legacy) if !ids.insert(legacy.legacy_id.clone()) => {
                    rejected += 1;
                    crate::json_line(
                        &json!({"line": line, "rejected": format!("旧申請番号 {} がこのバッチで重複しています", legacy.legacy_id)}),
                    )?;
                }
                Ok(legacy) => batch.push(legacy.to_application(now)),
                Err(reason) => {
                    rejected += 1;
                    crate::json_line(&json!({"line": line, "rejected": reason}))?;
                }
            }
        }
        if batch.len() == BATCH || (!more && !batch.is_empty()) {
            let done = applications.import(&mut batch).await.map_err(|e| {
                format!(
                    "at line {}: {e} (run again: nothing is written twice)",
                    record.position().map_or(0, |p| p.line())
                )
            })?;
            written += done.written;
            existing += done.existing;
            batch.clear();
            ids.clear();
        }
        if !more {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    crate::json_line(&json!({
        "rows": rows,
        "written": written,
        "already_there": existing,
        "rejected": rejected,
        "seconds": (seconds * 10.0).round() / 10.0,
        "rows_per_second": (rows as f64 / seconds.max(0.001)).round(),
        "peak_rss_mb": peak_rss_mb(),
    }))
}

/// The process's peak resident memory (Linux `VmHWM`), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// A small deterministic generator (xorshift), so a file of any size is the same every time.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Writes `rows` synthetic legacy certifications (valid 法人番号, each prefecture's 経済産業局,
/// manufacturing and service 細分類, 認定日 from 2016-07 to 2026-11) to `out`.
pub fn generate(rows: u64, out: &std::path::Path, seed: u64) -> Result<(), String> {
    let t = keiryoku_domain::tables::tables();
    let bureaus: Vec<(String, String)> = t
        .authorities
        .networks
        .iter()
        .filter(|n| n.id == "meti-bureaus")
        .flat_map(|n| n.offices.iter())
        .flat_map(|o| o.prefectures.iter().map(move |p| (p.clone(), o.id.clone())))
        .collect();
    let industries: Vec<&str> = [
        "0911", "0921", "1011", "1121", "1211", "1311", "1421", "1511", "1611", "1711", "1811",
        "1911", "2011", "2111", "2211", "2311", "2431", "2441", "2511", "2592", "2611", "2711",
        "2811", "2911", "3011", "3111", "3211", "3921", "4411", "5011", "6011", "7611", "7811",
    ]
    .into_iter()
    .filter(|code| t.jsic.name(code).is_some())
    .collect();
    if bureaus.is_empty() || industries.is_empty() {
        return Err("the authority or industry table is empty".into());
    }
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut writer);
    csv.write_record(COLUMNS).map_err(|e| e.to_string())?;
    let mut random = Random(seed.max(1));
    let first = time::macros::date!(2016 - 07 - 01);
    let days = (time::macros::date!(2026 - 11 - 30) - first).whole_days() as u64;
    let names = [
        "精機",
        "製作所",
        "工業",
        "商事",
        "食品",
        "運輸",
        "印刷",
        "電機",
        "化成",
        "技研",
    ];
    for n in 0..rows {
        let base = format!("{:012}", 100_000_000_000 + n * 7 + random.below(7));
        let check =
            keiryoku_domain::corporate_number::check_digit(base.as_bytes()).ok_or("check digit")?;
        let (prefecture, office) = &bureaus[random.below(bureaus.len() as u64) as usize];
        let certified = first + time::Duration::days(random.below(days) as i64);
        let start = keiryoku_domain::plan::YearMonth::of(certified).plus_months(1);
        let fields = match random.below(4) {
            0 => format!(
                "{} {}",
                industries[random.below(industries.len() as u64) as usize],
                industries[random.below(industries.len() as u64) as usize]
            ),
            _ => industries[random.below(industries.len() as u64) as usize].to_string(),
        };
        let fields: Vec<&str> = {
            let mut seen = Vec::new();
            for f in fields.split(' ') {
                if !seen.contains(&f) {
                    seen.push(f);
                }
            }
            seen
        };
        let year = certified.year();
        csv.write_record([
            format!("K{year}-{n:07}"),
            format!(
                "{year}{:02}{:02}経第{n}号",
                u8::from(certified.month()),
                certified.day()
            ),
            certified.to_string(),
            format!("{check}{base}"),
            format!(
                "株式会社テスト{}{}",
                n,
                names[random.below(names.len() as u64) as usize]
            ),
            prefecture.clone(),
            fields.join(" "),
            office.clone(),
            format!("{:04}-{:02}", start.year, start.month),
            ["36", "48", "60"][random.below(3) as usize].to_string(),
            if random.below(10) < 9 { "可" } else { "否" }.to_string(),
            match (year >= 2023, random.below(2)) {
                (false, _) => String::new(),
                (true, 0) => "否".into(),
                (true, _) => "可".into(),
            },
        ])
        .map_err(|e| e.to_string())?;
    }
    csv.flush().map_err(|e| e.to_string())?;
    drop(csv);
    writer.flush().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    /// The line a row starts on, also after a cell that spans lines.
    #[test]
    fn a_row_is_named_by_the_line_it_starts_on() {
        let text = "h,i\r\na,b\r\n\"c\nd\",e\r\nf,g\r\n";
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        let mut lines = Vec::new();
        while reader.read_record(&mut record).unwrap_or(false) {
            lines.push(record.position().map_or(0, |p| p.line() + 1));
        }
        assert_eq!(lines, [2, 3, 5]);
    }
}
