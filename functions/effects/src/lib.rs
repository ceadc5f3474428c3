//! The effects function: certificates and mail, produced from the table's stream.
//!
//! DynamoDB Streams deliver every change at least once, in order per item. For each change of an
//! application record, [`effects_of`] names the effects it calls for (a certificate when it
//! became certified, a mail for each status an applicant hears about), each keyed by the change
//! (application, version, effect). [`Effector::run`] claims the key with a conditional write,
//! does the work, and marks it done, so a redelivered change does nothing twice. A failure is
//! retried by the stream (the record is reported in `batchItemFailures`); after `max_attempts`
//! the effect is parked for an operator (`keiryoku-admin effects list | replay`) and the stream
//! moves on.

#![forbid(unsafe_code)]

mod certificate;
pub mod digest;

pub use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
pub use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use keiryoku_domain::application::{Application, Effect, MailEvent, StaffMailEvent};
use keiryoku_mail::{Comment, Event, Facts, Mailer, StaffEvent, compose, compose_staff};
use keiryoku_store::{
    Applications, Certificates, Claim, Documents, EffectSpec, Effects, StaffDirectory,
    application_from_item,
};
use serde_json::{Value, json};

pub use certificate::rerender;

/// Everything an effect needs.
#[derive(Clone)]
pub struct Effector {
    pub applications: Applications,
    /// The staff directory: where reviewers' mail goes.
    pub staff: StaffDirectory,
    pub certificates: Certificates,
    pub effects: Effects,
    pub documents: Documents,
    pub mailer: Mailer,
    pub public_base_url: String,
    /// Attempts before an effect is parked.
    pub max_attempts: i64,
    /// The audit trail's write-once copy (Object Lock), which each new audit record of the
    /// stream goes to; `None` where no copy is kept (the operator's replays).
    pub archive: Option<keiryoku_store::AuditArchive>,
    /// The published reference tables: certificates print the issuers' titles and 認定番号
    /// formats of the tables in force. Looked at only before an application's effects, so a
    /// batch of audit records (or an empty one) makes no request for them.
    pub tables: Option<std::sync::Arc<keiryoku_lifecycle::reference_tables::TablesSource>>,
}

/// How long a claim holds an effect before another worker may take it over.
const LEASE_SECONDS: i64 = 120;

/// The effects a change of an application calls for (as the domain says), each keyed by the
/// change, in the order they must happen.
pub fn effects_of(old: Option<&Application>, new: &Application) -> Vec<EffectSpec> {
    keiryoku_domain::application::effects_of(old, new)
        .into_iter()
        .map(|effect| EffectSpec {
            application_id: new.id.clone(),
            version: new.version,
            effect,
        })
        .collect()
}

/// What running an effect came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    AlreadyDone,
    /// Failed; the stream should deliver the change again.
    Retry(String),
    /// Failed too often: parked for an operator.
    Parked(String),
}

impl Effector {
    /// Runs one effect at most once (see the module documentation), from the application as
    /// the change left it (`at_change`, the stream's new image) or, for an operator's replay,
    /// as it is now.
    pub async fn run(&self, spec: &EffectSpec, at_change: Option<&Application>) -> Outcome {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let attempt = match self.effects.claim(spec, now, LEASE_SECONDS).await {
            Ok(Claim::Run { attempt }) => attempt,
            Ok(Claim::Done) => return Outcome::AlreadyDone,
            Ok(Claim::Parked) => return Outcome::Parked("parked earlier".into()),
            Ok(Claim::Busy) => return Outcome::Retry("another worker holds it".into()),
            Err(e) => return Outcome::Retry(format!("claim: {e}")),
        };
        let result = match at_change {
            Some(record) => self.perform(spec, record).await,
            None => match self.applications.get(&spec.application_id).await {
                Ok(record) => self.perform(spec, &record).await,
                Err(e) => Err(format!("read application: {e}")),
            },
        };
        match result {
            Ok(detail) => match self.effects.done(spec, &detail).await {
                Ok(()) => {
                    tracing::info!(key = %spec.key(), %detail, "effect done");
                    Outcome::Done
                }
                // Done but not recorded: the lease runs out and a retry finds the work done
                // (certificates) or, for mail, sends again: the one window of at-least-once.
                Err(e) => Outcome::Retry(format!("record done: {e}")),
            },
            Err(error) => {
                tracing::warn!(key = %spec.key(), attempt, %error, "effect failed");
                match self
                    .effects
                    .failed(spec, attempt, self.max_attempts, &error)
                    .await
                {
                    Ok(true) => {
                        tracing::error!(key = %spec.key(), %error, "effect parked for an operator");
                        Outcome::Parked(error)
                    }
                    Ok(false) | Err(_) => Outcome::Retry(error),
                }
            }
        }
    }

    async fn perform(&self, spec: &EffectSpec, record: &Application) -> Result<Value, String> {
        match spec.effect {
            Effect::Certificate => certificate::issue(self, record).await,
            Effect::ApplicationRecord => self.application_record(record).await,
            Effect::Mail(event) => {
                let event = match event {
                    MailEvent::Received => Event::Received,
                    MailEvent::Returned => Event::Returned,
                    MailEvent::Certified => Event::Certified,
                    MailEvent::Rejected => Event::Rejected,
                    MailEvent::Withdrawn => Event::Withdrawn,
                };
                self.mail(event, record).await
            }
            Effect::StaffMail(event) => {
                let event = match event {
                    StaffMailEvent::NewCase => StaffEvent::NewCase,
                    StaffMailEvent::Resubmitted => StaffEvent::Resubmitted,
                    StaffMailEvent::Withdrawn => StaffEvent::Withdrawn,
                };
                self.staff_mail(event, record).await
            }
        }
    }

    /// Mails the active reviewers of the application's authorities, as the staff directory
    /// lists them now (addresses never come from a request), in one message. No reviewer with
    /// an address is not an error: the case waits in the queue all the same.
    async fn staff_mail(&self, event: StaffEvent, record: &Application) -> Result<Value, String> {
        let offices = record
            .submission
            .as_ref()
            .map(|s| s.office_ids.clone())
            .unwrap_or_default();
        let mut to: Vec<String> = self
            .staff
            .list()
            .await
            .map_err(|e| format!("staff directory: {e}"))?
            .into_iter()
            .filter(|m| m.active)
            .filter(|m| {
                m.role
                    .deciding_office()
                    .is_some_and(|o| offices.contains(o))
            })
            .filter_map(|m| m.email)
            .filter(|address| {
                // One unusable address must not stop the mail to the others.
                let usable = keiryoku_mail::plain_address(address);
                if !usable {
                    tracing::warn!(id = %record.id, "a reviewer's mail address is unusable");
                }
                usable
            })
            .collect();
        to.sort();
        to.dedup();
        if to.is_empty() {
            tracing::warn!(id = %record.id, "no reviewer with a mail address for this case");
            return Ok(json!({ "recipients": 0 }));
        }
        let mail = compose_staff(event, &facts(record), &self.public_base_url);
        let id = self
            .mailer
            .send_to_all(&to, &mail)
            .await
            .map_err(|e| e.to_string())?;
        Ok(json!({ "message_id": id, "subject": mail.subject, "recipients": to.len() }))
    }

    /// Keeps the application as submitted, as a PDF under `applications/<id>/<revision>.pdf`
    /// (one per submission, the record of what was filed).
    async fn application_record(&self, record: &Application) -> Result<Value, String> {
        let submission = record.submission.as_ref().ok_or("never submitted")?;
        let key = keiryoku_store::application_pdf_key(&record.id, submission.revision);
        if let Some(stored) = self.documents.head(&key).await.map_err(|e| e.to_string())? {
            return Ok(
                json!({ "key": key, "sha256": stored.metadata.get("sha256"), "existing": true }),
            );
        }
        let offices: Vec<String> = submission
            .office_ids
            .iter()
            .map(ToString::to_string)
            .collect();
        let pdf = keiryoku_pdf::application::render(
            &record.typed_plan(),
            &keiryoku_pdf::application::ApplicationMeta::for_offices(
                submission.received_on,
                &offices,
                Some(submission.receipt_number.clone()),
            ),
        )
        .map_err(|e| format!("render: {e}"))?;
        let sha256 = certificate::sha256_hex(&pdf);
        let info = keiryoku_store::FileInfo {
            key: key.clone(),
            content_type: "application/pdf".into(),
            disposition: format!("attachment; filename=\"application-{}.pdf\"", record.id),
        };
        self.documents
            .put(
                &info,
                pdf,
                &[("sha256", &sha256), ("application-id", record.id.as_str())],
            )
            .await
            .map_err(|e| format!("store PDF: {e}"))?;
        Ok(json!({ "key": key, "sha256": sha256 }))
    }

    async fn mail(&self, event: Event, record: &Application) -> Result<Value, String> {
        let to = record
            .notify_to
            .as_deref()
            .ok_or("no address on record for this application")?;
        let mail = compose(event, &facts(record), &self.public_base_url);
        let id = self
            .mailer
            .send(to, &mail)
            .await
            .map_err(|e| e.to_string())?;
        Ok(json!({ "message_id": id, "subject": mail.subject }))
    }
}

fn office_name(id: &str) -> String {
    keiryoku_domain::tables::tables()
        .office(id)
        .map(|(_, o)| o.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// What a mail may say, all from the stored application.
fn facts(record: &Application) -> Facts {
    let submission = record.submission.as_ref();
    let certification = record.certification.as_ref();
    let received_at = submission
        .map(|s| {
            let jst = s.received_at.to_offset(time::macros::offset!(+9));
            format!(
                "{} {:02}:{:02}（日本時間）",
                keiryoku_domain::dates::wareki(jst.date())
                    .unwrap_or_else(|| jst.date().to_string()),
                jst.hour(),
                jst.minute()
            )
        })
        .unwrap_or_default();
    let authorities = certification
        .map(|c| &c.office_ids)
        .or_else(|| submission.map(|s| &s.office_ids))
        .into_iter()
        .flatten()
        .map(|id| office_name(id.as_str()))
        .collect();
    Facts {
        application_id: record.id.to_string(),
        company_name: record.company_name(),
        receipt_number: submission
            .map(|s| s.receipt_number.clone())
            .unwrap_or_default(),
        received_at,
        due_on: submission.map(|s| s.due_on.to_string()).unwrap_or_default(),
        authorities,
        return_message: record
            .returned
            .as_ref()
            .map(|r| r.message.clone())
            .unwrap_or_default(),
        comments: record
            .returned
            .iter()
            .flat_map(|r| r.comments.iter())
            .map(|c| Comment {
                path: c.path.clone(),
                message: c.message.clone(),
            })
            .collect(),
        certification_number: certification.map(|c| c.number.clone()).unwrap_or_default(),
        certified_on: certification
            .and_then(|c| keiryoku_domain::dates::wareki(c.certified_on))
            .unwrap_or_default(),
        rejection_reason: record
            .rejection
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default(),
    }
}

type Image = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// Whether a stream image is an item of `kind` (the table's item-type attribute).
fn is_kind(item: &Image, kind: &str) -> bool {
    item.get("kind")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        == Some(kind)
}

/// An application from a stream image, `None` for other records (filtered out by the event
/// source mapping, but a handler must not trust that) and for an absent image.
fn application(item: Image) -> Option<Application> {
    if !is_kind(&item, "application") {
        return None;
    }
    match application_from_item(item) {
        Ok(record) => Some(record),
        Err(e) => {
            tracing::error!(error = %e, "an application image that does not read");
            None
        }
    }
}

/// A record to deliver again, for `ReportBatchItemFailures`.
fn failure(record: &EventRecord) -> DynamoDbBatchItemFailure {
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record.change.sequence_number.clone();
    failure
}

/// Handles one batch of stream records: runs their effects in order, copies new audit records
/// to the write-once archive, and answers the records to deliver again
/// (`ReportBatchItemFailures`): the first one that failed and every one after it, so order is
/// kept.
pub async fn handle(effector: &Effector, event: StreamEvent) -> DynamoDbEventResponse {
    let mut failures = Vec::new();
    // The images move out of the event: a batch can carry megabytes of them.
    for mut record in event.records {
        if !failures.is_empty() {
            failures.push(failure(&record));
            continue;
        }
        let image: Image = std::mem::take(&mut record.change.new_image).into();
        if is_kind(&image, "audit") {
            // Written once: a redelivery finds its copy there and writes nothing.
            if let Some(archive) = &effector.archive
                && record.event_name == "INSERT"
                && let Err(error) = archive.archive_item(&image).await
            {
                tracing::warn!(%error, "audit record not archived; will be delivered again");
                failures.push(failure(&record));
            }
            continue;
        }
        let Some(new) = application(image) else {
            continue;
        };
        let old = application(std::mem::take(&mut record.change.old_image).into());
        let specs = effects_of(old.as_ref(), &new);
        if !specs.is_empty()
            && let Some(tables) = &effector.tables
        {
            tables.refresh().await;
        }
        for spec in specs {
            if let Outcome::Retry(error) = effector.run(&spec, Some(&new)).await {
                tracing::warn!(key = %spec.key(), %error, "will be delivered again");
                failures.push(failure(&record));
                break;
            }
        }
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use keiryoku_domain::status::Status;

    fn record(status: Status, version: i64) -> Application {
        let mut r = Application::new_draft(
            keiryoku_domain::application::ApplicationId::parse(
                "00000000-0000-7000-8000-000000000000",
            )
            .unwrap_or_else(|| panic!("id")),
            "corp-1".into(),
            "1".into(),
            Default::default(),
            None,
            time::OffsetDateTime::UNIX_EPOCH,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        r.status = status;
        r.version = version;
        r
    }

    /// The stream-record samples in events/ (written by `make events`) are what this handler
    /// reads: each one decodes and calls for the effects of its trigger.
    #[test]
    fn the_sample_stream_events_decode_to_their_effects() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/effects");
        for (trigger, expected) in [
            (
                "submitted",
                vec!["application-record", "mail:received", "staff-mail:new-case"],
            ),
            ("returned", vec!["mail:returned"]),
            ("certified", vec!["certificate", "mail:certified"]),
            ("rejected", vec!["mail:rejected"]),
            ("withdrawn", vec!["mail:withdrawn", "staff-mail:withdrawn"]),
        ] {
            let file = format!("{dir}/ApplicationChanges-{trigger}.json");
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
            let event: StreamEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let Some(record) = event.records.into_iter().next() else {
                panic!("{file}: no record")
            };
            let new =
                application(record.change.new_image.into()).unwrap_or_else(|| panic!("{file}"));
            let old = application(record.change.old_image.into());
            let effects: Vec<String> = effects_of(old.as_ref(), &new)
                .into_iter()
                .map(|s| s.effect.as_str().to_string())
                .collect();
            assert_eq!(effects, expected, "{file}");
        }
    }

    /// The schedule sample in events/ (written by `make events`) is what the digest reads.
    #[test]
    fn the_sample_schedule_event_decodes_with_its_time() {
        let file = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/digest/DailyDigest.json"
        );
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let event: aws_lambda_events::event::eventbridge::EventBridgeEvent =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event.detail_type, "Scheduled Event");
        let at = event.time.map(|t| t.timestamp()).unwrap_or_default();
        let at = time::OffsetDateTime::from_unix_timestamp(at)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            keiryoku_domain::dates::japan_date(at),
            time::macros::date!(2026 - 11 - 26),
            "08:00 in Japan the next day"
        );
    }

    #[test]
    fn each_status_change_calls_for_its_effects_once() {
        let names = |old: Option<&Application>, new: &Application| {
            effects_of(old, new)
                .into_iter()
                .map(|s| s.effect.as_str())
                .collect::<Vec<_>>()
        };
        let submitted = record(Status::Submitted, 2);
        assert_eq!(
            names(Some(&record(Status::Draft, 1)), &submitted),
            ["application-record", "mail:received", "staff-mail:new-case"]
        );
        assert_eq!(
            names(
                Some(&record(Status::Returned, 3)),
                &record(Status::Submitted, 4)
            ),
            [
                "application-record",
                "mail:received",
                "staff-mail:resubmitted"
            ]
        );
        assert_eq!(
            names(Some(&submitted), &record(Status::Certified, 3)),
            ["certificate", "mail:certified"]
        );
        // No change of status (an edit, a partial joint approval): nothing.
        assert!(names(Some(&submitted), &record(Status::Submitted, 3)).is_empty());
        // A draft withdrawn before submission never reached anyone.
        assert!(
            names(
                Some(&record(Status::Draft, 1)),
                &record(Status::Withdrawn, 2)
            )
            .is_empty()
        );
        let keys: Vec<String> = effects_of(None, &record(Status::Certified, 9))
            .iter()
            .map(EffectSpec::key)
            .collect();
        assert!(keys[0].ends_with("#9#certificate"));
    }
}
