//! The audit of staff reads (職員の閲覧記録): who read which case, its history or downloads, and
//! which extracts and statistics they took. Append-only like the application audit trail
//! (written with `attribute_not_exists`; template.yaml denies updates and deletes of
//! `READS#*`), but kept apart from it: a read changes no version, and the applicant's history
//! does not show staff reads.
//!
//! Records live under `READS#<application id>` (or `READS#extracts` for reads of no single
//! case), newest last, and under index `gsi1` partition `READER#<sub>`, so the 企画課 and the
//! administrator can ask both "who read this case?" and "what did this person read?".

use keiryoku_domain::application::ApplicationId;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::item::{get_json, key, s};
use crate::log_page::{LogPage, Order, log_page, log_page_in};

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// The case (page or JSON).
    Case,
    /// The case's audit trail.
    History,
    /// The case's certificate download history.
    Downloads,
    /// The application PDF (申請書).
    ApplicationPdf,
    /// A CSV extract of a search.
    Extract,
    /// Statistics (page or CSV).
    Statistics,
}

impl ReadKind {
    pub fn label(self) -> &'static str {
        match self {
            ReadKind::Case => "案件",
            ReadKind::History => "監査記録",
            ReadKind::Downloads => "認定書のダウンロード履歴",
            ReadKind::ApplicationPdf => "申請書のPDF",
            ReadKind::Extract => "検索結果のCSV",
            ReadKind::Statistics => "統計",
        }
    }
}

/// One staff read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRead {
    /// RFC 3339, UTC.
    pub at: String,
    /// The staff member's `sub`, name, and role with its place as they were at the time.
    pub sub: String,
    pub name: String,
    pub role: String,
    pub kind: ReadKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    /// The conditions of an extract or statistics (the URL's query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
}

/// The partition of the reads of no single case.
const EXTRACTS: &str = "READS#extracts";

fn partition_of(application_id: Option<&ApplicationId>) -> String {
    application_id.map_or_else(|| EXTRACTS.to_string(), |id| format!("READS#{id}"))
}

/// The staff-read records of the table.
#[derive(Clone)]
pub struct StaffReads {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl StaffReads {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> StaffReads {
        StaffReads {
            client,
            table: table.into(),
        }
    }

    /// Records a read (before the data is answered: a read that cannot be recorded is not
    /// served).
    pub async fn record(&self, read: &StaffRead) -> Result<(), StoreError> {
        let body = serde_json::to_string(read).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let unique = uuid::Uuid::now_v7();
        let sort = format!("{}#{unique}", read.at);
        let mut item = key(partition_of(read.application_id.as_ref()), &sort);
        item.extend([
            ("kind".to_string(), s("staff_read")),
            ("body".to_string(), s(body)),
            ("gsi1pk".to_string(), s(format!("READER#{}", read.sub))),
            ("gsi1sk".to_string(), s(sort)),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| crate::error::conditional(e, StoreError::ConditionFailed))?;
        Ok(())
    }

    /// The reads of one case (`None`: of extracts and statistics), newest first.
    pub async fn of_case(
        &self,
        application_id: Option<&ApplicationId>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<LogPage<StaffRead>, StoreError> {
        log_page(
            &self.client,
            &self.table,
            partition_of(application_id),
            Order::NewestFirst,
            limit,
            cursor,
        )
        .await?
        .map(|item| get_json(&item, "body"))
    }

    /// The reads of one staff member, newest first.
    pub async fn by_reader(
        &self,
        sub: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<LogPage<StaffRead>, StoreError> {
        log_page_in(
            &self.client,
            &self.table,
            Some("gsi1"),
            format!("READER#{sub}"),
            Order::NewestFirst,
            limit,
            cursor,
        )
        .await?
        .map(|item| get_json(&item, "body"))
    }
}
