//! The lake copy of the change feed (binary `lake`, on a schedule): the feed's events as
//! date-partitioned NDJSON (gzip) in the lake bucket, `feed/dt=YYYY-MM-DD/chunk-<k>.ndjson.gz`,
//! which the Glue table of template.yaml (Athena partition projection on `dt`) reads.
//!
//! The feed is read from the table, not from its stream (which keeps 24 hours only), from a
//! position kept in the table. Objects cover fixed ranges of positions (chunk `k` holds
//! `k·1000+1 ..= (k+1)·1000`), split by the day (in Japan) of each event, and a chunk is written
//! again, whole, until it is complete: a run that crashed, or two that overlapped, write the
//! same objects again, so no event is copied twice or lost.

use std::collections::BTreeMap;
use std::io::Write;

use keiryoku_domain::feed::FeedRecord;
use keiryoku_store::{Documents, Feed, FileInfo, StoreError};

/// Positions per chunk (one feed page).
const CHUNK: i64 = 1000;

/// What the lake writer uses.
pub struct Lake {
    pub feed: Feed,
    pub bucket: Documents,
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LakeRun {
    /// Events written (a chunk rewritten counts its events again).
    pub events: usize,
    /// Objects written.
    pub objects: usize,
    /// The position of complete chunks after the run.
    pub position: i64,
}

impl Lake {
    /// Copies every event not yet in a complete chunk.
    pub async fn run(&self) -> Result<LakeRun, StoreError> {
        let kept = self.feed.lake_position().await?;
        let mut start = kept - kept % CHUNK;
        let mut run = LakeRun {
            position: kept,
            ..LakeRun::default()
        };
        loop {
            let page = self.feed.page(start, CHUNK as usize).await?;
            if page.events.is_empty() {
                break;
            }
            let chunk = start / CHUNK;
            let mut by_day: BTreeMap<String, Vec<&FeedRecord>> = BTreeMap::new();
            for (_, event) in &page.events {
                let day = keiryoku_domain::dates::japan_date(event.at).to_string();
                by_day.entry(day).or_default().push(event);
            }
            for (day, events) in by_day {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                for event in &events {
                    let line = serde_json::to_vec(event)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    encoder
                        .write_all(&line)
                        .and_then(|()| encoder.write_all(b"\n"))
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                }
                let bytes = encoder
                    .finish()
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let info = FileInfo {
                    key: format!("feed/dt={day}/chunk-{chunk:09}.ndjson.gz"),
                    content_type: "application/gzip".into(),
                    disposition: "attachment".into(),
                };
                self.bucket.put(&info, bytes, &[]).await?;
                run.events += events.len();
                run.objects += 1;
            }
            let last = page.events.last().map_or(start, |(seq, _)| *seq);
            let complete = last == start + CHUNK;
            if !complete {
                break;
            }
            // The chunk is whole: later runs start after it.
            if self.feed.move_lake_position(run.position, last).await? {
                run.position = last;
            } else {
                // Another run is ahead; it writes the same objects.
                break;
            }
            start = last;
        }
        Ok(run)
    }
}
