//! What an applicant does: drafts, submission, withdrawal, paper filing, change applications.

use keiryoku_domain::application::{
    Application, ApplicationId, AuditAction, LifecycleError, PlanDocument,
};
use keiryoku_domain::diff::changed_paths;
use keiryoku_domain::status::Action;
use keiryoku_store::{Applications, AuditNote, AuditRecord, CommitError, Extra, LogPage, Order};
use serde_json::{Map, Value};

use crate::{Applicant, UseCaseError, now};

/// The application if it exists and belongs to the applicant's company.
pub async fn owned(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
) -> Result<Application, UseCaseError> {
    let record = applications.get(id).await?;
    if record.company_id != applicant.company_id {
        return Err(UseCaseError::NotFound);
    }
    Ok(record)
}

fn note(applicant: &Applicant, action: AuditAction, changed_paths: Vec<String>) -> AuditNote {
    AuditNote {
        actor: applicant.actor.clone(),
        action,
        changed_paths,
        detail: None,
    }
}

fn plan_paths(before: &PlanDocument, after: &PlanDocument) -> Vec<String> {
    changed_paths(&before.to_value(), &after.to_value(), "/plan")
}

/// A new draft of the applicant's company holding `plan` (already merged with any prefill).
pub async fn create_draft(
    applications: &Applications,
    applicant: &Applicant,
    plan: PlanDocument,
) -> Result<Application, UseCaseError> {
    let mut record = Application::new_draft(
        ApplicationId::new(uuid::Uuid::now_v7()),
        applicant.company_id.clone(),
        applicant.actor.sub.clone(),
        plan,
        applicant.email.clone(),
        now(),
    )?;
    let paths = plan_paths(&PlanDocument::default(), &record.plan);
    applications
        .commit(
            &record.id.clone(),
            None,
            Some(&mut record),
            &[],
            note(applicant, AuditAction::Create, paths),
        )
        .await?;
    tracing::info!(id = %record.id, company = %record.company_id, "draft created");
    Ok(record)
}

/// Saves a JSON Merge Patch of the plan at the version the editor read.
pub async fn save(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    patch: &Map<String, Value>,
    expected_version: i64,
) -> Result<Application, UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    let mut next = current.save(patch, expected_version, now())?;
    let paths = plan_paths(&current.plan, &next.plan);
    applications
        .commit(
            id,
            Some(current.version),
            Some(&mut next),
            &[],
            note(applicant, AuditAction::Edit, paths),
        )
        .await?;
    tracing::info!(%id, version = next.version, "draft saved");
    Ok(next)
}

/// Deletes a draft (its audit trail stays).
pub async fn delete_draft(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: i64,
) -> Result<(), UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    current.check_deletable(expected_version)?;
    applications
        .commit(
            id,
            Some(current.version),
            None,
            &[],
            note(applicant, AuditAction::Delete, vec!["/".into()]),
        )
        .await?;
    tracing::info!(%id, "draft deleted");
    Ok(())
}

/// A one-shot action's answer: done now, or done earlier under the same idempotency key.
#[derive(Debug, Clone)]
pub struct Done {
    pub application: Application,
    /// `true` when this request did it; `false` when it answers an earlier one with the same key.
    pub fresh: bool,
}

/// What an idempotency key was used for, as the store records it.
fn fingerprint(action: &str, id: &ApplicationId) -> String {
    format!("{action}:{id}")
}

/// The answer of an earlier use of `key`, if the key was used; a key used for another action
/// is refused.
async fn replayed(
    applications: &Applications,
    applicant: &Applicant,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Done>, UseCaseError> {
    let Some(done) = applications
        .idempotent_result(&applicant.company_id, key)
        .await?
    else {
        return Ok(None);
    };
    if done.fingerprint != fingerprint {
        return Err(UseCaseError::KeyReused);
    }
    let application = owned(applications, applicant, &done.application_id).await?;
    Ok(Some(Done {
        application,
        fresh: false,
    }))
}

/// 申請: validates at submission level, binds the GビズID identity, routes, numbers the receipt
/// and sets the due date. A retry with the same `key` answers the same and never submits twice.
pub async fn submit(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: Option<i64>,
    key: &str,
) -> Result<Done, UseCaseError> {
    let fingerprint = fingerprint("submit", id);
    if let Some(done) = replayed(applications, applicant, key, &fingerprint).await? {
        return Ok(done);
    }
    match submit_once(
        applications,
        applicant,
        id,
        expected_version,
        key,
        &fingerprint,
    )
    .await
    {
        // A concurrent retry with the same key may have won between our check and our write:
        // then this request was done, and answers as that one did.
        Err(UseCaseError::KeyReused | UseCaseError::Refused(_))
            if let Some(done) = replayed(applications, applicant, key, &fingerprint).await? =>
        {
            Ok(done)
        }
        other => other,
    }
}

async fn submit_once(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: Option<i64>,
    key: &str,
    fingerprint: &str,
) -> Result<Done, UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    let at = now();
    let today = keiryoku_domain::dates::japan_date(at);
    let filing = current.prepare_filing(Action::Submit, &applicant.identity, today)?;
    if let Some(expected) = expected_version {
        current.check_version(expected)?;
    }
    let fiscal = keiryoku_domain::dates::fiscal_year(today);
    let sequence = applications.next_receipt_sequence(fiscal).await?;
    let mut next = current.submit(
        filing,
        applicant.identity.clone(),
        keiryoku_domain::application::receipt_number(fiscal, sequence),
        applicant.email.clone(),
        at,
    )?;
    let mut paths = plan_paths(&current.plan, &next.plan);
    paths.extend(["/status".into(), "/submission".into()]);
    let mut audit = note(applicant, AuditAction::Submit, paths);
    audit.detail = next.submission.as_ref().map(|s| {
        serde_json::json!({
            "receipt_number": s.receipt_number,
            "received_at": keiryoku_domain::application::rfc3339(s.received_at),
            "due_on": s.due_on.to_string(),
            "office_ids": s.office_ids,
        })
    });
    let mut extras = vec![
        Extra::IdempotencyKey {
            company_id: applicant.company_id.clone(),
            key: key.to_string(),
            fingerprint: fingerprint.to_string(),
        },
        Extra::Revision,
    ];
    // A resubmission routed elsewhere: the authorities no longer competent lose the case.
    let now_competent: Vec<&keiryoku_domain::application::OfficeId> =
        next.submission.iter().flat_map(|s| &s.office_ids).collect();
    for office_id in current.submission.iter().flat_map(|s| &s.office_ids) {
        if !now_competent.contains(&office_id) {
            extras.push(Extra::DropCase {
                office_id: office_id.clone(),
            });
        }
    }
    applications
        .commit(id, Some(current.version), Some(&mut next), &extras, audit)
        .await?;
    tracing::info!(%id, version = next.version, "submitted");
    Ok(Done {
        application: next,
        fresh: true,
    })
}

/// 取下げ of a draft, a submitted or a returned application.
pub async fn withdraw(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: i64,
) -> Result<Application, UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    let mut next = current.withdraw(expected_version, now())?;
    applications
        .commit(
            id,
            Some(current.version),
            Some(&mut next),
            &[],
            note(applicant, AuditAction::Withdraw, vec!["/status".into()]),
        )
        .await?;
    tracing::info!(%id, "withdrawn");
    Ok(next)
}

/// データ利活用同意の撤回: the plan's data is no longer shared with consent-bound agencies, and
/// they are told so by the change feed.
pub async fn withdraw_data_use_consent(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: i64,
) -> Result<Application, UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    let mut next = current.withdraw_data_use_consent(expected_version, now())?;
    applications
        .commit(
            id,
            Some(current.version),
            Some(&mut next),
            &[],
            note(
                applicant,
                AuditAction::WithdrawConsent,
                vec!["/consent/data_use_withdrawn_at".into()],
            ),
        )
        .await?;
    tracing::info!(%id, "data-use consent withdrawn");
    Ok(next)
}

/// 紙申請用に確定 when the plan's authorities do not all take e-filing: the applicant then
/// prints the application PDF (of this revision, kept) and posts it.
pub async fn finalise_for_paper(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    expected_version: i64,
) -> Result<Application, UseCaseError> {
    let current = owned(applications, applicant, id).await?;
    let at = now();
    let today = keiryoku_domain::dates::japan_date(at);
    let filing = current.prepare_filing(Action::FinaliseForPaper, &applicant.identity, today)?;
    current.check_version(expected_version)?;
    let mut next = current.finalise_for_paper(filing, applicant.identity.clone(), at)?;
    let mut paths = plan_paths(&current.plan, &next.plan);
    paths.extend(["/status".into(), "/paper".into()]);
    applications
        .commit(
            id,
            Some(current.version),
            Some(&mut next),
            &[Extra::Revision],
            note(applicant, AuditAction::FinaliseForPaper, paths),
        )
        .await?;
    tracing::info!(%id, "finalised for paper");
    Ok(next)
}

/// 変更申請: a new draft from a certified application of the company, going back to the
/// authorities that certified it. One-shot under `key`.
pub async fn start_change(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    key: &str,
) -> Result<Done, UseCaseError> {
    let fingerprint = fingerprint("change", id);
    if let Some(done) = replayed(applications, applicant, key, &fingerprint).await? {
        return Ok(done);
    }
    let source = owned(applications, applicant, id).await?;
    let certified_plan = match &source.certification {
        Some(c) => applications.revision(&source.id, c.revision).await?,
        None => PlanDocument::default(),
    };
    let mut record = source.start_change(
        certified_plan,
        ApplicationId::new(uuid::Uuid::now_v7()),
        applicant.actor.sub.clone(),
        applicant.email.clone(),
        now(),
    )?;
    let mut audit = note(applicant, AuditAction::CreateChange, vec!["/plan".into()]);
    audit.detail = record.change_of.as_ref().map(|c| {
        serde_json::json!({
            "changes": c.application_id,
            "certification_number": c.certification_number,
        })
    });
    let extras = [Extra::IdempotencyKey {
        company_id: applicant.company_id.clone(),
        key: key.to_string(),
        fingerprint: fingerprint.clone(),
    }];
    match applications
        .commit(&record.id.clone(), None, Some(&mut record), &extras, audit)
        .await
    {
        Ok(()) => {}
        Err(CommitError::KeyUsed) => {
            return replayed(applications, applicant, key, &fingerprint)
                .await?
                .ok_or(UseCaseError::Refused(LifecycleError::Stale));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(id = %record.id, source = %source.id, "change application started");
    Ok(Done {
        application: record,
        fresh: true,
    })
}

/// One page of the audit trail of one of the company's applications, officials shown by role
/// and office only. The owner's history stays readable after a draft was deleted, so ownership
/// is checked on the trail itself: its first record names the company that created it.
pub async fn history(
    applications: &Applications,
    applicant: &Applicant,
    id: &ApplicationId,
    order: Order,
    limit: i32,
    cursor: Option<&str>,
) -> Result<LogPage<AuditRecord>, UseCaseError> {
    // Whose it is: the company that created it (also after a draft was deleted).
    let first = applications
        .history(id, Order::OldestFirst, 1, None)
        .await?;
    match first.items.first() {
        Some(first) if first.actor.on_behalf_of == applicant.company_id.as_str() => {}
        _ => return Err(UseCaseError::NotFound),
    }
    let mut page = applications.history(id, order, limit, cursor).await?;
    for record in &mut page.items {
        record.actor = record.actor.as_seen_by_applicant();
    }
    Ok(page)
}
