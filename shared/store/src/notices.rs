//! お知らせ: notices the administrators publish for a window of time (maintenance, law changes,
//! deadlines), shown on the applicants' start page and on the staff pages. A maintenance notice
//! also carries the window in which writes are refused (メンテナンス中). A handful at a time:
//! kept under one partition `NOTICE`, newest first.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;
use crate::item::{get_json, key, s};

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// メンテナンス: writes are refused in its maintenance window.
    Maintenance,
    /// 法令・制度の改正.
    LawChange,
    /// 締切.
    Deadline,
    /// その他.
    Other,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::Maintenance,
        NoticeKind::LawChange,
        NoticeKind::Deadline,
        NoticeKind::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::Maintenance => "メンテナンス",
            NoticeKind::LawChange => "法令・制度の改正",
            NoticeKind::Deadline => "締切",
            NoticeKind::Other => "その他",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Maintenance => "maintenance",
            NoticeKind::LawChange => "law_change",
            NoticeKind::Deadline => "deadline",
            NoticeKind::Other => "other",
        }
    }
}

/// Who sees a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeAudience {
    Everyone,
    Applicants,
    Staff,
}

impl NoticeAudience {
    pub const ALL: [NoticeAudience; 3] = [
        NoticeAudience::Everyone,
        NoticeAudience::Applicants,
        NoticeAudience::Staff,
    ];

    pub fn label(self) -> &'static str {
        match self {
            NoticeAudience::Everyone => "申請者と職員",
            NoticeAudience::Applicants => "申請者",
            NoticeAudience::Staff => "職員",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeAudience::Everyone => "everyone",
            NoticeAudience::Applicants => "applicants",
            NoticeAudience::Staff => "staff",
        }
    }

    /// Whether a page for `reader` shows a notice for `self`.
    pub fn includes(self, reader: NoticeAudience) -> bool {
        self == NoticeAudience::Everyone || self == reader
    }
}

/// A time window, `from` included, `until` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

impl Window {
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.until
    }
}

/// One notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    pub audience: NoticeAudience,
    pub title: String,
    pub body: String,
    /// When it is shown.
    pub published: Window,
    /// For maintenance: when writes are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Window>,
    /// The administrator who published it (`sub`, name).
    pub by: String,
}

impl Notice {
    /// The maintenance window `at` falls in, if any.
    pub fn maintenance_at(&self, at: OffsetDateTime) -> Option<&Window> {
        self.maintenance.as_ref().filter(|w| w.contains(at))
    }
}

/// How many notices are read (the newest).
pub const NOTICES_READ: i32 = 100;

#[derive(Clone)]
pub struct Notices {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Notices {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Notices {
        Notices {
            client,
            table: table.into(),
        }
    }

    /// The newest notices, newest first.
    pub async fn list(&self) -> Result<Vec<Notice>, StoreError> {
        let partition = "NOTICE".to_string();
        crate::log_page::newest_bodies(&self.client, &self.table, None, partition, NOTICES_READ)
            .await
    }

    /// Publishes a new notice (its id is new: never replaces one).
    pub async fn add(&self, notice: &Notice) -> Result<(), StoreError> {
        self.write(notice, "attribute_not_exists(pk)").await
    }

    /// Ends a notice now: it is no longer shown and its maintenance window, if open, closes.
    pub async fn end(&self, id: &str, now: OffsetDateTime) -> Result<Notice, StoreError> {
        let item = crate::item::get_item(&self.client, &self.table, key("NOTICE".into(), id))
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut notice: Notice = get_json(&item, "body")?;
        notice.published.until = notice.published.until.min(now);
        if let Some(window) = notice.maintenance.as_mut() {
            window.until = window.until.min(now);
            window.from = window.from.min(window.until);
        }
        notice.published.from = notice.published.from.min(notice.published.until);
        self.write(&notice, "attribute_exists(pk)").await?;
        Ok(notice)
    }

    async fn write(&self, notice: &Notice, condition: &str) -> Result<(), StoreError> {
        let body = serde_json::to_string(notice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut item = key("NOTICE".into(), &notice.id);
        item.extend([
            ("kind".to_string(), s("notice")),
            ("body".to_string(), s(body)),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await
            .map_err(|e| crate::error::conditional(e, StoreError::ConditionFailed))?;
        Ok(())
    }
}
