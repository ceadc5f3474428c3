//! The daily digest (期限が近い案件のお知らせ): on each business morning (the EventBridge
//! schedule of template.yaml), every authority with reviewers gets one mail listing its cases
//! overdue or due within 3 business days, once a day (claimed in `DIGEST#<day>`), addressed
//! to its active reviewers from the staff directory.

use std::collections::BTreeMap;

use keiryoku_domain::application::OfficeId;
use keiryoku_mail::{DigestCase, Mailer, compose_digest};
use keiryoku_store::{CaseFilter, CaseRecord, Cases, Digests, StaffDirectory};
use serde_json::{Value, json};
use time::Date;

/// A case due within this many business days is listed.
const DUE_SOON_BUSINESS_DAYS: u32 = 3;
/// Cases read per page of a queue.
const PAGE: usize = 100;
/// The most cases read per authority (the mail lists the first hundred).
const MOST: usize = 1000;
/// How long a claim holds a digest before another run may send it.
const LEASE_SECONDS: i64 = 300;

/// Everything the digest needs.
#[derive(Clone)]
pub struct Digester {
    pub staff: StaffDirectory,
    pub cases: Cases,
    pub digests: Digests,
    pub mailer: Mailer,
    pub public_base_url: String,
}

/// The queue's cases of `office` due on or before `until`, earliest first (the queue is sorted
/// by due date, so reading stops at the first case due later).
async fn due_cases(
    cases: &Cases,
    office: &OfficeId,
    until: Date,
) -> Result<Vec<CaseRecord>, String> {
    let mut due = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = cases
            .queue(office, &CaseFilter::default(), PAGE, cursor.as_deref())
            .await
            .map_err(|e| format!("queue of {office}: {e}"))?;
        for case in page.items {
            if case.due_on > until || due.len() >= MOST {
                return Ok(due);
            }
            due.push(case);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(due),
        }
    }
}

impl Digester {
    /// Sends the digests of `today` (a day in Japan); what was sent, per authority.
    pub async fn run(&self, today: Date, now: i64) -> Result<Value, String> {
        if !keiryoku_domain::dates::is_business_day(today) {
            return Ok(json!({ "skipped": "not a business day" }));
        }
        let until = keiryoku_domain::dates::add_business_days(today, DUE_SOON_BUSINESS_DAYS)
            .ok_or("no business day ahead")?;
        let mut reviewers: BTreeMap<OfficeId, Vec<String>> = BTreeMap::new();
        for member in self
            .staff
            .list()
            .await
            .map_err(|e| format!("staff directory: {e}"))?
        {
            if let (true, Some(office), Some(email)) = (
                member.active,
                member.role.deciding_office().cloned(),
                member
                    .email
                    .clone()
                    .filter(|e| keiryoku_mail::plain_address(e)),
            ) {
                reviewers.entry(office).or_default().push(email);
            }
        }
        let mut sent = serde_json::Map::new();
        for (office, mut to) in reviewers {
            to.sort();
            to.dedup();
            let due = due_cases(&self.cases, &office, until).await?;
            if due.is_empty() || !self.claim(today, &office, now).await? {
                continue;
            }
            let listed: Vec<DigestCase> = due
                .iter()
                .map(|c| DigestCase {
                    application_id: c.application_id.to_string(),
                    receipt_number: c.receipt_number.clone(),
                    company_name: c.company_name.clone(),
                    due_on: c.due_on.to_string(),
                    overdue: c.due_on < today,
                })
                .collect();
            let office_name = keiryoku_domain::tables::tables()
                .office(office.as_str())
                .map_or_else(|| office.to_string(), |(_, o)| o.name.clone());
            let mail = compose_digest(
                &office_name,
                &keiryoku_domain::dates::wareki(today).unwrap_or_else(|| today.to_string()),
                &listed,
                &self.public_base_url,
            );
            let id = match self.mailer.send_to_all(&to, &mail).await {
                Ok(id) => id,
                Err(e) => {
                    // Released, so that EventBridge's retry sends it (a claim would skip it).
                    if let Err(release) = self.digests.release(today, &office).await {
                        tracing::warn!(%office, error = %release, "digest claim not released");
                    }
                    return Err(format!("{office}: {e}"));
                }
            };
            self.digests
                .sent(today, &office, &id)
                .await
                .map_err(|e| format!("{office}: {e}"))?;
            sent.insert(
                office.to_string(),
                json!({ "cases": listed.len(), "message_id": id }),
            );
        }
        Ok(Value::Object(sent))
    }

    async fn claim(&self, today: Date, office: &OfficeId, now: i64) -> Result<bool, String> {
        self.digests
            .claim(today, office, now, LEASE_SECONDS)
            .await
            .map_err(|e| format!("claim {office}: {e}"))
    }
}
