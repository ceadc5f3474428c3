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

use keiryoku_mail::{Comment, Event, Facts, Mailer, compose};
use keiryoku_store::{
    ApplicationRecord, Applications, Certificates, Claim, Documents, EffectSpec, Effects,
    application_from_item, item_from_json,
};
use serde::Deserialize;
use serde_json::{Value, json};

pub use certificate::rerender;

/// Everything an effect needs.
#[derive(Clone)]
pub struct Effector {
    pub applications: Applications,
    pub certificates: Certificates,
    pub effects: Effects,
    pub documents: Documents,
    pub mailer: Mailer,
    pub public_base_url: String,
    /// Attempts before an effect is parked.
    pub max_attempts: i64,
}

/// How long a claim holds an effect before another worker may take it over.
const LEASE_SECONDS: i64 = 120;

/// The effects a change of an application calls for, in the order they must happen.
pub fn effects_of(old: Option<&ApplicationRecord>, new: &ApplicationRecord) -> Vec<EffectSpec> {
    let before = old.map(|o| o.status.as_str());
    if before == Some(new.status.as_str()) {
        return Vec::new();
    }
    let spec = |effect: &str| EffectSpec {
        application_id: new.id.clone(),
        version: new.version,
        effect: effect.to_string(),
    };
    match new.status.as_str() {
        "submitted" => vec![spec("application-record"), spec("mail:received")],
        "returned" => vec![spec("mail:returned")],
        "certified" => vec![spec("certificate"), spec("mail:certified")],
        "rejected" => vec![spec("mail:rejected")],
        // Only an application that reached an authority is withdrawn from it.
        "withdrawn" if new.submission.is_some() => vec![spec("mail:withdrawn")],
        _ => Vec::new(),
    }
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
    pub async fn run(&self, spec: &EffectSpec, at_change: Option<&ApplicationRecord>) -> Outcome {
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

    async fn perform(
        &self,
        spec: &EffectSpec,
        record: &ApplicationRecord,
    ) -> Result<Value, String> {
        match spec.effect.as_str() {
            "certificate" => certificate::issue(self, record).await,
            "application-record" => self.application_record(record).await,
            mail if mail.starts_with("mail:") => {
                let event = match &mail[5..] {
                    "received" => Event::Received,
                    "returned" => Event::Returned,
                    "certified" => Event::Certified,
                    "rejected" => Event::Rejected,
                    "withdrawn" => Event::Withdrawn,
                    other => return Err(format!("unknown mail {other}")),
                };
                self.mail(event, record).await
            }
            other => Err(format!("unknown effect {other}")),
        }
    }

    /// Keeps the application as submitted, as a PDF under `applications/<id>/<revision>.pdf`
    /// (one per submission, the record of what was filed).
    async fn application_record(&self, record: &ApplicationRecord) -> Result<Value, String> {
        let submission = record.submission.as_ref().ok_or("never submitted")?;
        let key = format!("applications/{}/{}.pdf", record.id, submission.revision);
        if let Some(stored) = self.documents.head(&key).await.map_err(|e| e.to_string())? {
            return Ok(
                json!({ "key": key, "sha256": stored.metadata.get("sha256"), "existing": true }),
            );
        }
        let applied_on = time::Date::parse(
            &submission.received_on,
            &time::format_description::well_known::Iso8601::DATE,
        )
        .map_err(|e| format!("received_on: {e}"))?;
        let plan = keiryoku_domain::plan::Plan::from_json(record.plan.clone())
            .map_err(|e| format!("plan: {e}"))?;
        let pdf = keiryoku_pdf::application::render(
            &plan,
            &keiryoku_pdf::application::ApplicationMeta::for_offices(
                applied_on,
                &submission.office_ids,
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
                &[("sha256", &sha256), ("application-id", &record.id)],
            )
            .await
            .map_err(|e| format!("store PDF: {e}"))?;
        Ok(json!({ "key": key, "sha256": sha256 }))
    }

    async fn mail(&self, event: Event, record: &ApplicationRecord) -> Result<Value, String> {
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
fn facts(record: &ApplicationRecord) -> Facts {
    let text = |pointer: &str| {
        record
            .plan
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let submission = record.submission.as_ref();
    let certification = record.certification.as_ref();
    let received_at = submission
        .and_then(|s| {
            time::OffsetDateTime::parse(
                &s.received_at,
                &time::format_description::well_known::Rfc3339,
            )
            .ok()
        })
        .map(|at| {
            let jst = at.to_offset(time::macros::offset!(+9));
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
        .map(|c| c.office_ids.clone())
        .or_else(|| submission.map(|s| s.office_ids.clone()))
        .unwrap_or_default()
        .iter()
        .map(|id| office_name(id))
        .collect();
    Facts {
        application_id: record.id.clone(),
        company_name: text("/applicant/name"),
        receipt_number: submission
            .map(|s| s.receipt_number.clone())
            .unwrap_or_default(),
        received_at,
        due_on: submission.map(|s| s.due_on.clone()).unwrap_or_default(),
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
            .and_then(|c| {
                time::Date::parse(
                    &c.certified_on,
                    &time::format_description::well_known::Iso8601::DATE,
                )
                .ok()
            })
            .and_then(keiryoku_domain::dates::wareki)
            .unwrap_or_default(),
        rejection_reason: record
            .rejection
            .as_ref()
            .map(|r| r.reason.clone())
            .unwrap_or_default(),
    }
}

/// The part of a Lambda DynamoDB stream event we read.
#[derive(Debug, Deserialize)]
struct StreamEvent {
    #[serde(rename = "Records", default)]
    records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
struct StreamRecord {
    dynamodb: StreamChange,
}

#[derive(Debug, Deserialize)]
struct StreamChange {
    #[serde(rename = "NewImage")]
    new_image: Option<Value>,
    #[serde(rename = "OldImage")]
    old_image: Option<Value>,
    #[serde(rename = "SequenceNumber")]
    sequence_number: String,
}

/// An application from a stream image, `None` for other records (filtered out by the event
/// source mapping, but a handler must not trust that).
fn application(image: Option<&Value>) -> Option<ApplicationRecord> {
    let item = item_from_json(image?).ok()?;
    let is_application = item
        .get("kind")
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        == Some("application");
    if !is_application {
        return None;
    }
    application_from_item(&item).ok()
}

/// Handles one batch of stream records: runs their effects in order and answers the records to
/// deliver again (`ReportBatchItemFailures`): the first one that failed and every one after it,
/// so order is kept.
pub async fn handle(effector: &Effector, event: &Value) -> Value {
    // Read in place: a batch can carry megabytes of images.
    let event = match StreamEvent::deserialize(event) {
        Ok(event) => event,
        Err(e) => {
            tracing::error!(error = %e, "not a DynamoDB stream event; nothing to do");
            return json!({ "batchItemFailures": [] });
        }
    };
    let mut failures = Vec::new();
    for record in &event.records {
        if !failures.is_empty() {
            failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
            continue;
        }
        let Some(new) = application(record.dynamodb.new_image.as_ref()) else {
            continue;
        };
        let old = application(record.dynamodb.old_image.as_ref());
        for spec in effects_of(old.as_ref(), &new) {
            if let Outcome::Retry(error) = effector.run(&spec, Some(&new)).await {
                tracing::warn!(key = %spec.key(), %error, "will be delivered again");
                failures.push(json!({ "itemIdentifier": record.dynamodb.sequence_number }));
                break;
            }
        }
    }
    json!({ "batchItemFailures": failures })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: &str, version: i64) -> ApplicationRecord {
        let mut r = keiryoku_store::new_draft("corp-1", "1", "new", json!({}), None);
        r.status = status.into();
        r.version = version;
        r
    }

    /// The stream-record samples in events/ (written by `make events`) are what this handler
    /// reads: each one decodes and calls for the effects of its trigger.
    #[test]
    fn the_sample_stream_events_decode_to_their_effects() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/effects");
        for (trigger, expected) in [
            ("submitted", vec!["application-record", "mail:received"]),
            ("returned", vec!["mail:returned"]),
            ("certified", vec!["certificate", "mail:certified"]),
            ("rejected", vec!["mail:rejected"]),
            ("withdrawn", vec!["mail:withdrawn"]),
        ] {
            let file = format!("{dir}/ApplicationChanges-{trigger}.json");
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
            let event: StreamEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let change = &event.records[0].dynamodb;
            let new = application(change.new_image.as_ref()).unwrap_or_else(|| panic!("{file}"));
            let old = application(change.old_image.as_ref());
            let effects: Vec<String> = effects_of(old.as_ref(), &new)
                .into_iter()
                .map(|s| s.effect)
                .collect();
            assert_eq!(effects, expected, "{file}");
        }
    }

    #[test]
    fn each_status_change_calls_for_its_effects_once() {
        let names = |old: Option<&ApplicationRecord>, new: &ApplicationRecord| {
            effects_of(old, new)
                .into_iter()
                .map(|s| s.effect)
                .collect::<Vec<_>>()
        };
        let submitted = record("submitted", 2);
        assert_eq!(
            names(Some(&record("draft", 1)), &submitted),
            ["application-record", "mail:received"]
        );
        assert_eq!(
            names(Some(&submitted), &record("certified", 3)),
            ["certificate", "mail:certified"]
        );
        // No change of status (an edit, a partial joint approval): nothing.
        assert!(names(Some(&submitted), &record("submitted", 3)).is_empty());
        // A draft withdrawn before submission never reached anyone.
        assert!(names(Some(&record("draft", 1)), &record("withdrawn", 2)).is_empty());
        let keys: Vec<String> = effects_of(None, &record("certified", 9))
            .iter()
            .map(EffectSpec::key)
            .collect();
        assert!(keys[0].ends_with("#9#certificate"));
    }
}
