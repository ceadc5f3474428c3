//! Case entries (審査案件): one per application and competent authority, under the authority's
//! partition `OFFICE#<office id>` / `CASE#<application id>`.
//!
//! They are derived from the application record on every commit (never written on their own),
//! so they always agree with it. An entry is in its authority's queue (index `gsi1`, partition
//! `QUEUE#<office id>`, sorted by due date) while the application waits for that authority's
//! decision. Search filters on the denormalised attributes here.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use keiryoku_domain::application::{
    Application, ApplicationId, ApplicationKind, DecisionKind, OfficeId, iso_date,
};
use keiryoku_domain::status::Status;
use time::{Date, OffsetDateTime};

use crate::StoreError;
use crate::applications::GSI1_CURSOR;
use crate::cursor::{CursorShape, decode_cursor, encode_cursor};
use crate::item::{Item, get_s, key, s};

/// One authority's view of one application, as listed in queues and searches.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CaseRecord {
    pub application_id: ApplicationId,
    pub office_id: OfficeId,
    pub kind: ApplicationKind,
    /// The application's status.
    pub status: Status,
    /// Where this authority stands in the current round.
    pub decision: CaseDecision,
    pub receipt_number: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "iso_date")]
    pub received_on: Date,
    #[serde(with = "iso_date")]
    pub due_on: Date,
    #[serde(
        default,
        with = "iso_date::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub certified_on: Option<Date>,
    /// This authority's 認定番号.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification_number: Option<String>,
    pub company_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// 本店所在地の都道府県 (JIS code).
    pub prefecture: String,
    /// 事業分野: every 中分類 and 細分類 code of the plan.
    pub industries: Vec<String>,
    /// 共管: more than one competent authority decides.
    #[serde(default)]
    pub joint: bool,
    /// 再提出: submitted again after a return for correction.
    #[serde(default)]
    pub resubmission: bool,
    /// When the case left this authority with an outcome (its own decision, or the
    /// certification, rejection or return that ended the round); absent while pending or
    /// after a withdrawal.
    #[serde(
        default,
        with = "iso_date::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub decided_on: Option<Date>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Where one authority stands on an application in the current round: waiting for its own
/// decision, its decision, or (when another authority or the applicant ended the round) the
/// application's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseDecision {
    Pending,
    Approved,
    Returned,
    Rejected,
    Certified,
    Withdrawn,
}

impl CaseDecision {
    /// Every decision state, in the order the counts show them.
    pub const ALL: [CaseDecision; 6] = [
        CaseDecision::Pending,
        CaseDecision::Returned,
        CaseDecision::Approved,
        CaseDecision::Certified,
        CaseDecision::Rejected,
        CaseDecision::Withdrawn,
    ];

    /// The stored name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            CaseDecision::Pending => "pending",
            CaseDecision::Approved => "approved",
            CaseDecision::Returned => "returned",
            CaseDecision::Rejected => "rejected",
            CaseDecision::Certified => "certified",
            CaseDecision::Withdrawn => "withdrawn",
        }
    }

    /// The position in [`CaseDecision::ALL`].
    fn index(self) -> usize {
        CaseDecision::ALL
            .iter()
            .position(|d| *d == self)
            .unwrap_or_default()
    }

    fn parse(name: &str) -> Option<CaseDecision> {
        CaseDecision::ALL.into_iter().find(|d| d.as_str() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseDecision::Pending => "審査中",
            CaseDecision::Approved => "認定",
            CaseDecision::Returned => "差戻し",
            CaseDecision::Rejected => "不認定",
            CaseDecision::Certified => "認定",
            CaseDecision::Withdrawn => "取下げ",
        }
    }
}

/// What a case filed on paper shows for its 受付番号: the authority receives it by post.
pub const PAPER_RECEIPT: &str = "紙申請";

/// The text a company-name search matches against: NFKC, lower case, no spaces.
pub fn search_text(value: &str) -> String {
    keiryoku_domain::normalize::text(value)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl CaseRecord {
    /// The entry of `office_id` for a submitted application (or one finalised for paper).
    pub fn derive(record: &Application, office_id: &OfficeId) -> Option<CaseRecord> {
        let filing = record.filing()?;
        // This authority's own return or rejection stands; otherwise an outcome that ended the
        // round (certified by all, returned or rejected by another, withdrawn) is shown, and
        // only then an approval still waiting for the other authorities.
        let own = record.decisions.get(office_id).map(|d| d.decision);
        let decision = match (own, record.status) {
            (Some(DecisionKind::Returned), _) => CaseDecision::Returned,
            (Some(DecisionKind::Rejected), _) => CaseDecision::Rejected,
            (_, Status::Certified) => CaseDecision::Certified,
            (_, Status::Withdrawn) => CaseDecision::Withdrawn,
            (_, Status::Rejected) => CaseDecision::Rejected,
            (_, Status::Returned) => CaseDecision::Returned,
            (Some(DecisionKind::Approved), _) => CaseDecision::Approved,
            (None, Status::Submitted | Status::Draft | Status::FinalisedForPaper) => {
                CaseDecision::Pending
            }
        };
        let certification = record.certification.as_ref();
        let japan = keiryoku_domain::dates::japan_date;
        let own = record.decisions.get(office_id).map(|d| japan(d.at));
        let decided_on = match decision {
            CaseDecision::Pending | CaseDecision::Withdrawn => None,
            CaseDecision::Certified => certification.map(|c| c.certified_on),
            CaseDecision::Approved => own,
            CaseDecision::Returned => own.or(record.returned.as_ref().map(|r| japan(r.at))),
            CaseDecision::Rejected => own.or(record.rejection.as_ref().map(|r| japan(r.at))),
        };
        Some(CaseRecord {
            application_id: record.id.clone(),
            office_id: office_id.clone(),
            kind: record.kind,
            status: record.status,
            decision,
            receipt_number: filing.receipt_number.unwrap_or(PAPER_RECEIPT).to_string(),
            received_at: filing.received_at,
            received_on: filing.received_on,
            due_on: filing.due_on,
            certified_on: certification.map(|c| c.certified_on),
            certification_number: certification.and_then(|c| c.numbers.get(office_id).cloned()),
            company_name: record.company_name(),
            corporate_number: record.corporate_number(),
            prefecture: record.prefecture_code().unwrap_or_default(),
            industries: record
                .industry_codes()
                .iter()
                .map(|c| keiryoku_domain::normalize::text(c))
                .collect(),
            joint: filing.office_ids.len() > 1,
            resubmission: record
                .returned
                .as_ref()
                .is_some_and(|r| r.revision != filing.revision),
            decided_on,
            updated_at: record.updated_at,
        })
    }

    /// Whether the application waits for this authority's decision.
    pub fn is_pending(&self) -> bool {
        // A filing finalised for paper waits for the certification its authority records.
        matches!(self.status, Status::Submitted | Status::FinalisedForPaper)
            && self.decision == CaseDecision::Pending
    }
}

fn office_partition(office_id: &OfficeId) -> String {
    format!("OFFICE#{office_id}")
}

fn queue_partition(office_id: &OfficeId) -> String {
    format!("QUEUE#{office_id}")
}

/// The item of the case entry of `office_id` for `record`.
/// The key of an authority's case entry of an application.
pub(crate) fn case_key(
    office_id: &OfficeId,
    id: &keiryoku_domain::application::ApplicationId,
) -> Item {
    key(office_partition(office_id), &format!("CASE#{id}"))
}

pub(crate) fn case_item(record: &Application, office_id: &OfficeId) -> Result<Item, StoreError> {
    let case = CaseRecord::derive(record, office_id)
        .ok_or_else(|| StoreError::Corrupt("a case entry needs a filing".into()))?;
    let body = serde_json::to_string(&case).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = key(office_partition(office_id), &format!("CASE#{}", record.id));
    let mut text = |name: &str, value: &str| {
        item.insert(name.to_string(), s(value));
    };
    text("kind", "case");
    text("body", &body);
    text("status", case.status.as_str());
    text("decision", case.decision.as_str());
    text("joint", flag(case.joint));
    text("resubmission", flag(case.resubmission));
    text("received_on", &case.received_on.to_string());
    text("prefecture", &case.prefecture);
    text("company_search", &search_text(&case.company_name));
    // Space-delimited so that `contains(industries, " 24 ")` matches whole codes only.
    text("industries", &format!(" {} ", case.industries.join(" ")));
    if let Some(number) = &case.corporate_number {
        text("corporate_number", number);
    }
    if let Some(on) = &case.certified_on {
        text("certified_on", &on.to_string());
    }
    if let Some(number) = &case.certification_number {
        text("certification_number", number);
    }
    text("due_on", &case.due_on.to_string());
    if let Some(on) = &case.decided_on {
        text("decided_on", &on.to_string());
    }
    // The statistics index: the authority's entries by receipt date (projected to the few
    // attributes the statistics read).
    text("gsi2pk", &format!("RECEIVED#{office_id}"));
    text("gsi2sk", &format!("{}#{}", case.received_on, record.id));
    if case.is_pending() {
        text("gsi1pk", &queue_partition(office_id));
        text("gsi1sk", &format!("{}#{}", case.due_on, record.id));
    }
    Ok(item)
}

/// A yes/no attribute as filters compare it.
fn flag(value: bool) -> &'static str {
    if value { "1" } else { "0" }
}

fn from_case_item(item: &Item) -> Result<CaseRecord, StoreError> {
    let body = get_s(item, "body")?;
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("case: {e}")))
}

/// Search conditions of the reviewers' search (each one optional; all must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub status: Option<Status>,
    /// 受付日 from / to (inclusive).
    pub received_from: Option<Date>,
    pub received_to: Option<Date>,
    /// 認定日 from / to (inclusive).
    pub certified_from: Option<Date>,
    pub certified_to: Option<Date>,
    pub prefecture: Option<String>,
    /// A JSIC 中分類 or 細分類 code.
    pub industry: Option<String>,
    /// Part of the company name (compared after [`search_text`]).
    pub company: Option<String>,
    pub corporate_number: Option<String>,
    pub certification_number: Option<String>,
    /// Only joint plans (true) or only single-authority ones (false).
    pub joint: Option<bool>,
    /// Only resubmissions (true) or only first submissions (false).
    pub resubmission: Option<bool>,
}

/// A page of case entries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseRecord>,
    pub next_cursor: Option<String>,
}

const CASE_CURSOR: CursorShape = CursorShape {
    keys: &["pk", "sk"],
    partition: "pk",
    prefixes: &[("sk", "CASE#")],
};

/// The case entries of the table.
#[derive(Clone)]
pub struct Cases {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Cases {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Cases {
        Cases {
            client,
            table: table.into(),
        }
    }

    /// The entry of an application at an authority: `NotFound` when the application was never
    /// routed there.
    pub async fn get(
        &self,
        office_id: &OfficeId,
        application_id: &ApplicationId,
    ) -> Result<CaseRecord, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(
                office_partition(office_id),
                &format!("CASE#{application_id}"),
            )))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::sdk)?;
        from_case_item(&out.item.ok_or(StoreError::NotFound)?)
    }

    /// The authority's queue: applications waiting for its decision, earliest due date first,
    /// those matching `filter` only.
    pub async fn queue(
        &self,
        office_id: &OfficeId,
        filter: &CaseFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<CasePage, StoreError> {
        let partition = queue_partition(office_id);
        let start = cursor
            .map(|c| decode_cursor(c, &GSI1_CURSOR, &partition))
            .transpose()?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :queue")
            .expression_attribute_values(":queue", s(partition));
        filtered_pages(query, filter, limit, start, &GSI1_CURSOR).await
    }

    /// Up to `limit` entries of the authority matching `filter`, newest application first, and
    /// the cursor of the rest. Reads the authority's partition page by page, so memory stays
    /// bounded by `limit` whatever the number of cases.
    pub async fn search(
        &self,
        office_id: &OfficeId,
        filter: &CaseFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<CasePage, StoreError> {
        let partition = office_partition(office_id);
        let start = cursor
            .map(|c| decode_cursor(c, &CASE_CURSOR, &partition))
            .transpose()?;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :office AND begins_with(sk, :case)")
            .expression_attribute_values(":office", s(&partition))
            .expression_attribute_values(":case", s("CASE#"))
            // Newest application first (ids are time-ordered): a search by 法人番号 or name
            // shows the company's latest filings on the first page, however many it has.
            .scan_index_forward(false);
        filtered_pages(query, filter, limit, start, &CASE_CURSOR).await
    }

    /// Up to `limit` entries of several authorities matching `filter`: authority by authority in
    /// the order given, each newest application first. The cursor names the authority it stops
    /// in, so it is refused for a list of authorities that does not contain it.
    pub async fn search_in(
        &self,
        offices: &[OfficeId],
        filter: &CaseFilter,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<CasePage, StoreError> {
        let mut index = match cursor {
            None => 0,
            Some(c) => offices
                .iter()
                .position(|o| decode_cursor(c, &CASE_CURSOR, &office_partition(o)).is_ok())
                .ok_or(StoreError::InvalidCursor)?,
        };
        let mut start = cursor.map(str::to_string);
        let mut items: Vec<CaseRecord> = Vec::new();
        while let Some(office) = offices.get(index) {
            let page = self
                .search(office, filter, limit - items.len(), start.take().as_deref())
                .await?;
            items.extend(page.items);
            if items.len() >= limit {
                let next_cursor = match (page.next_cursor, items.last()) {
                    (Some(next), _) => Some(next),
                    // The page ends with this authority's last entry: go on after it.
                    (None, Some(last)) if index + 1 < offices.len() => {
                        let key = case_key(&last.office_id, &last.application_id);
                        Some(encode_cursor(&key, &CASE_CURSOR)?)
                    }
                    _ => None,
                };
                return Ok(CasePage { items, next_cursor });
            }
            index += 1;
        }
        Ok(CasePage {
            items,
            next_cursor: None,
        })
    }

    /// Every entry of the authority received from `from` to `to` (inclusive), as the
    /// statistics read them: through index `gsi2`, so only that period is read, and only the
    /// projected attributes.
    pub async fn received_between(
        &self,
        office_id: &OfficeId,
        from: Date,
        to: Date,
    ) -> Result<Vec<CaseStat>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :office AND gsi2sk BETWEEN :from AND :to")
            .expression_attribute_values(":office", s(format!("RECEIVED#{office_id}")))
            .expression_attribute_values(":from", s(from.to_string()))
            // `~` sorts after the `#<id>` that follows each date.
            .expression_attribute_values(":to", s(format!("{to}~")));
        crate::item::query_all(query)
            .await?
            .iter()
            .map(|item| {
                let date = |name: &str| -> Result<Option<Date>, StoreError> {
                    item.get(name)
                        .and_then(|v| v.as_s().ok())
                        .map(|v| {
                            Date::parse(v, &time::format_description::well_known::Iso8601::DATE)
                                .map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
                        })
                        .transpose()
                };
                let required = |name: &str| {
                    date(name)?.ok_or_else(|| StoreError::Corrupt(format!("case: no {name}")))
                };
                Ok(CaseStat {
                    office_id: office_id.clone(),
                    received_on: required("received_on")?,
                    due_on: required("due_on")?,
                    decided_on: date("decided_on")?,
                    decision: CaseDecision::parse(get_s(item, "decision")?)
                        .ok_or_else(|| StoreError::Corrupt("case: unknown decision".into()))?,
                })
            })
            .collect()
    }

    /// How many of the authority's cases stand at each decision state. Reads only the state of
    /// each entry (a projection), so memory is the tally whatever the number of cases.
    pub async fn counts(&self, office_id: &OfficeId) -> Result<CaseCounts, StoreError> {
        let mut counts = CaseCounts::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :office AND begins_with(sk, :case)")
                .expression_attribute_values(":office", s(office_partition(office_id)))
                .expression_attribute_values(":case", s("CASE#"))
                .projection_expression("decision")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(StoreError::sdk)?;
            for item in out.items() {
                let decision = item
                    .get("decision")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|name| CaseDecision::parse(name));
                if let Some(decision) = decision {
                    counts.add(decision);
                }
            }
            match out.last_evaluated_key {
                Some(next) => start = Some(next),
                None => return Ok(counts),
            }
        }
    }
}

/// A case entry as the statistics read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStat {
    pub office_id: OfficeId,
    pub received_on: Date,
    pub due_on: Date,
    pub decided_on: Option<Date>,
    pub decision: CaseDecision,
}

/// The number of an authority's cases per decision state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseCounts([u64; CaseDecision::ALL.len()]);

impl CaseCounts {
    fn add(&mut self, decision: CaseDecision) {
        self.0[decision.index()] += 1;
    }

    /// The count of one state.
    pub fn of(&self, decision: CaseDecision) -> u64 {
        self.0[decision.index()]
    }
}

/// Runs `query` (a key condition without filter) page by page from `start`, keeping the entries
/// that match `filter`, until `limit` of them are found or the partition ends: memory stays
/// bounded by `limit` however many entries are skipped.
async fn filtered_pages(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    filter: &CaseFilter,
    limit: usize,
    mut start: Option<Item>,
    shape: &CursorShape,
) -> Result<CasePage, StoreError> {
    let (expression, values) = filter_expression(filter);
    let mut items: Vec<(Item, CaseRecord)> = Vec::new();
    loop {
        let mut page = query
            .clone()
            .limit(200)
            .set_exclusive_start_key(start.take());
        let from_cursor = page.get_exclusive_start_key().is_some();
        if let Some(expression) = &expression {
            page = page.filter_expression(expression);
            for (name, value) in &values {
                page = page.expression_attribute_values(name, value.clone());
            }
            if filter.status.is_some() {
                page = page.expression_attribute_names("#status", "status");
            }
        }
        let out = page
            .send()
            .await
            .map_err(|e| crate::error::query_failed(e, from_cursor))?;
        for item in out.items() {
            items.push((item.clone(), from_case_item(item)?));
        }
        let more = out.last_evaluated_key.clone();
        if items.len() >= limit {
            let has_more = items.len() > limit || more.is_some();
            items.truncate(limit);
            let next_cursor = match (has_more, items.last()) {
                (true, Some((last, _))) => Some(encode_cursor(last, shape)?),
                _ => None,
            };
            return Ok(CasePage {
                items: items.into_iter().map(|(_, c)| c).collect(),
                next_cursor,
            });
        }
        match more {
            Some(next) => start = Some(next),
            None => {
                return Ok(CasePage {
                    items: items.into_iter().map(|(_, c)| c).collect(),
                    next_cursor: None,
                });
            }
        }
    }
}

/// The DynamoDB filter expression of a search, with its values.
fn filter_expression(filter: &CaseFilter) -> (Option<String>, Vec<(String, AttributeValue)>) {
    let mut parts = Vec::new();
    let mut values = Vec::new();
    let mut add = |clause: &str, name: &str, value: String| {
        parts.push(clause.to_string());
        values.push((name.to_string(), s(value)));
    };
    if let Some(v) = &filter.status {
        add("#status = :status", ":status", v.as_str().to_string());
    }
    if let Some(v) = &filter.received_from {
        add("received_on >= :rf", ":rf", v.to_string());
    }
    if let Some(v) = &filter.received_to {
        add("received_on <= :rt", ":rt", v.to_string());
    }
    if let Some(v) = &filter.certified_from {
        add("certified_on >= :cf", ":cf", v.to_string());
    }
    if let Some(v) = &filter.certified_to {
        add("certified_on <= :ct", ":ct", v.to_string());
    }
    if let Some(v) = &filter.prefecture {
        add("prefecture = :pref", ":pref", v.clone());
    }
    if let Some(v) = &filter.industry {
        add("contains(industries, :ind)", ":ind", format!(" {v} "));
    }
    if let Some(v) = &filter.company {
        add("contains(company_search, :co)", ":co", search_text(v));
    }
    if let Some(v) = &filter.corporate_number {
        add("corporate_number = :cn", ":cn", v.clone());
    }
    if let Some(v) = &filter.certification_number {
        add("certification_number = :cert", ":cert", v.clone());
    }
    if let Some(v) = filter.joint {
        add("joint = :joint", ":joint", flag(v).into());
    }
    if let Some(v) = filter.resubmission {
        add("resubmission = :resub", ":resub", flag(v).into());
    }
    if parts.is_empty() {
        (None, values)
    } else {
        (Some(parts.join(" AND ")), values)
    }
}
