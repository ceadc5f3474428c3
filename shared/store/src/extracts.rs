//! Bulk extract jobs of the export (`EXTRACT#<id>`): what an agency's client asked for, and
//! where the job stands. The export function creates one; its insertion on the table's stream
//! starts the worker, which claims it (once, whatever the stream redelivers), writes the file
//! and records the result. Jobs expire from the table after a week (TTL), their files from the
//! bucket after a day.

use aws_sdk_dynamodb::types::AttributeValue;
use keiryoku_domain::feed::AgencyView;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::item::{Item, get_item, get_json, key, n, s};

/// How long a job is kept.
const KEPT_SECONDS: i64 = 7 * 86_400;

/// After this long a running job's worker is dead (Lambda stops it at its timeout, 300 s in
/// template.yaml): the stream's retry of the batch may claim the job again.
pub const CLAIM_SECONDS: i64 = 300;

/// The file an extract is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtractFormat {
    /// CSV for Excel: UTF-8 with BOM, CRLF, Japanese header row.
    Csv,
    /// One JSON object a line, gzip-compressed.
    NdjsonGz,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtractState {
    Queued,
    Running,
    Done,
    Failed,
}

/// One extract job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractJob {
    pub id: String,
    /// The client that asked; only it may read the job.
    pub client_id: String,
    /// What the client may see, as registered when it asked.
    pub view: AgencyView,
    /// First and last month of 認定日 (`YYYY-MM`).
    pub from: String,
    pub to: String,
    pub format: ExtractFormat,
    pub state: ExtractState,
    pub created_at: String,
    /// When a worker claimed it (running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Rows written (done).
    #[serde(default)]
    pub rows: u64,
    /// Bytes of the file (done).
    #[serde(default)]
    pub bytes: u64,
    /// The file's key in the documents bucket (done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why it failed (failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn job_key(id: &str) -> Item {
    key(format!("EXTRACT#{id}"), "EXTRACT")
}

/// The table's item of a job (also what a stream image carries).
fn job_item(job: &ExtractJob) -> Result<Item, StoreError> {
    let text = serde_json::to_string(job).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = job_key(&job.id);
    item.extend([
        ("kind".to_string(), s("extract-job")),
        ("job".to_string(), s(text)),
        ("state".to_string(), s(state_name(job.state))),
        (
            "claimed".to_string(),
            n(time::OffsetDateTime::now_utc().unix_timestamp()),
        ),
        (
            "ttl".to_string(),
            n(time::OffsetDateTime::now_utc().unix_timestamp() + KEPT_SECONDS),
        ),
    ]);
    Ok(item)
}

fn state_name(state: ExtractState) -> &'static str {
    match state {
        ExtractState::Queued => "queued",
        ExtractState::Running => "running",
        ExtractState::Done => "done",
        ExtractState::Failed => "failed",
    }
}

/// A job from a stream image or a table item.
pub fn extract_job_from_item(item: &Item) -> Result<ExtractJob, StoreError> {
    get_json(item, "job")
}

/// The jobs.
#[derive(Clone)]
pub struct Extracts {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Extracts {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Extracts {
        Extracts {
            client,
            table: table.into(),
        }
    }

    /// Records a new job (queued).
    pub async fn create(&self, job: &ExtractJob) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::sdk)?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> Result<Option<ExtractJob>, StoreError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        get_item(&self.client, &self.table, job_key(id))
            .await?
            .map(|item| extract_job_from_item(&item))
            .transpose()
    }

    /// Moves a queued job (or one whose worker died, [`CLAIM_SECONDS`] after it was claimed)
    /// to running: the running job, or `None` when another delivery has it.
    pub async fn claim(&self, job: &ExtractJob) -> Result<Option<ExtractJob>, StoreError> {
        let mut running = job.clone();
        running.state = ExtractState::Running;
        running.started_at = Some(crate::now_rfc3339());
        let dead = time::OffsetDateTime::now_utc().unix_timestamp() - CLAIM_SECONDS;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(&running)?))
            .condition_expression("#state = :queued OR (#state = :running AND claimed < :dead)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":queued", AttributeValue::S("queued".into()))
            .expression_attribute_values(":running", AttributeValue::S("running".into()))
            .expression_attribute_values(":dead", n(dead))
            .send()
            .await;
        Ok(crate::error::written(result)?.then_some(running))
    }

    /// Records how a running job ended.
    pub async fn finish(&self, job: &ExtractJob) -> Result<(), StoreError> {
        self.replace(job, ExtractState::Running).await.map(|_| ())
    }

    /// Replaces the job if it is still in state `from`.
    async fn replace(&self, job: &ExtractJob, from: ExtractState) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)?))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":from", AttributeValue::S(state_name(from).into()))
            .send()
            .await;
        crate::error::written(result)
    }
}
