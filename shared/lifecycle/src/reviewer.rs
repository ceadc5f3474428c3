//! What a reviewer of a competent authority does: read a case, return it for correction with
//! comments at fields, approve (allocating the authority's 認定番号), reject.

use keiryoku_domain::application::{
    Application, ApplicationId, AuditAction, FieldComment, LifecycleError,
};
use keiryoku_domain::validation::Finding;
use keiryoku_store::{Applications, AuditNote, CaseRecord, Cases, CommitError, Extra};

use keiryoku_domain::staff::Scope;

use crate::{Reviewer, UseCaseError, now};

/// The application of a case inside `scope`, with the entry of the first of its authorities the
/// scope covers; 404 for anything else (never routed there, or routed elsewhere since).
pub async fn case_of(
    applications: &Applications,
    cases: &Cases,
    scope: &Scope,
    id: &ApplicationId,
) -> Result<(Application, CaseRecord), UseCaseError> {
    let record = applications.get(id).await?;
    let office = record
        .filing()
        .and_then(|f| f.office_ids.iter().find(|o| scope.covers(o)).cloned())
        .ok_or(UseCaseError::NotFound)?;
    let case = cases.get(&office, id).await?;
    Ok((record, case))
}

/// What the reviewer compares the plan with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// The version sent back for correction (a resubmission).
    Returned,
    /// The certified plan a change application changes.
    Certified,
}

/// The fields that differ from an earlier revision.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub against: Against,
    pub revision: i64,
    pub changes: Vec<keiryoku_domain::diff::FieldChange>,
}

/// A case as a reviewer reads it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub application: Application,
    pub case: CaseRecord,
    /// Submission-level validation as of the receipt date (warnings and indicators included).
    pub validation: keiryoku_domain::validation::Report,
    pub comparisons: Vec<Comparison>,
}

/// One case inside `scope`: the application, the entry of its authority in the scope, validation
/// as of the receipt date, and the differences against the returned version (a resubmission) or the
/// certified plan (a change application).
pub async fn case_view(
    applications: &Applications,
    cases: &Cases,
    scope: &Scope,
    id: &ApplicationId,
) -> Result<CaseView, UseCaseError> {
    let (record, case) = case_of(applications, cases, scope, id).await?;
    let received = record.filing().map_or_else(
        || keiryoku_domain::dates::japan_date(now()),
        |f| f.received_on,
    );
    let validation = record.validate(keiryoku_domain::validation::Level::Submission, received);
    let plan = record.plan.to_value();
    let diff = |before: keiryoku_domain::application::PlanDocument| {
        keiryoku_domain::diff::changes(&before.to_value(), &plan, "/plan")
    };
    let mut comparisons = Vec::new();
    if let Some(returned) = &record.returned
        && record.submission.as_ref().map(|s| s.revision) != Some(returned.revision)
    {
        let before = applications.revision(&record.id, returned.revision).await?;
        comparisons.push(Comparison {
            against: Against::Returned,
            revision: returned.revision,
            changes: diff(before),
        });
    }
    if let Some(change) = &record.change_of {
        let certified = applications
            .revision(&change.application_id, change.revision)
            .await?;
        comparisons.push(Comparison {
            against: Against::Certified,
            revision: change.revision,
            changes: diff(certified),
        });
    }
    Ok(CaseView {
        application: record,
        case,
        validation,
        comparisons,
    })
}

/// A decision taken: the application as it now is.
#[derive(Debug, Clone)]
pub struct Decided {
    pub application: Application,
}

const MESSAGE_LIMIT: usize = 2000;
const COMMENT_LIMIT: usize = 100;

/// A reviewer's text: present, not too long, no control characters except line breaks.
fn reviewer_text(value: &str, path: &str, what: &str, errors: &mut Vec<Finding>) -> String {
    let text = keiryoku_domain::normalize::text(value);
    let mut error = |code: &'static str, message: String| {
        errors.push(Finding {
            path: path.into(),
            code,
            message,
        })
    };
    if text.is_empty() {
        error("required", format!("{what}を入力してください。"));
    } else if text.chars().count() > MESSAGE_LIMIT {
        error(
            "too_long",
            format!("{what}は{MESSAGE_LIMIT}文字以内で入力してください。"),
        );
    } else if text.chars().any(keiryoku_domain::normalize::is_forbidden) {
        error(
            "control_character",
            format!(
                "{what}に使用できない制御文字（文字の向きを変える文字やゼロ幅の文字など、見えない文字を含む）が含まれています。"
            ),
        );
    }
    text
}

fn refuse_if_any(errors: Vec<Finding>) -> Result<(), UseCaseError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(UseCaseError::Refused(LifecycleError::Invalid(errors)))
    }
}

fn note(reviewer: &Reviewer, action: AuditAction, paths: &[&str]) -> AuditNote {
    AuditNote {
        actor: reviewer.actor.clone(),
        action,
        changed_paths: paths.iter().map(|p| p.to_string()).collect(),
        detail: None,
    }
}

/// The words of a return checked as the return will check them, without returning: what a
/// preview shows before the reviewer confirms.
pub fn check_return(
    message: &str,
    comments: &[(String, String)],
) -> Result<(String, Vec<FieldComment>), Vec<Finding>> {
    let (message, anchored, errors) = return_words(message, comments);
    if errors.is_empty() {
        Ok((message, anchored))
    } else {
        Err(errors)
    }
}

/// The message and comments of a return, normalised, and every problem with them.
fn return_words(
    message: &str,
    comments: &[(String, String)],
) -> (String, Vec<FieldComment>, Vec<Finding>) {
    let mut errors = Vec::new();
    let message = reviewer_text(message, "/message", "差戻しの理由", &mut errors);
    if comments.len() > COMMENT_LIMIT {
        errors.push(Finding {
            path: "/comments".into(),
            code: "too_many",
            message: format!("コメントは{COMMENT_LIMIT}件以内にしてください。"),
        });
    }
    let mut anchored = Vec::new();
    for (i, (path, text)) in comments.iter().enumerate() {
        let path = path.trim();
        let at_field = path == "/plan"
            || (path.starts_with("/plan/")
                && path.len() <= 300
                && !path.chars().any(char::is_control));
        if !at_field {
            errors.push(Finding {
                path: format!("/comments/{i}/path"),
                code: "format",
                message: "コメントの対象は計画の項目（/plan/… の形式）で指定してください。".into(),
            });
        }
        let text = reviewer_text(
            text,
            &format!("/comments/{i}/message"),
            "コメント",
            &mut errors,
        );
        anchored.push(FieldComment {
            path: path.to_string(),
            message: text,
        });
    }
    (message, anchored, errors)
}

/// 差戻し with an overall message and comments anchored to fields of the plan (`/plan/…`).
pub async fn return_for_correction(
    applications: &Applications,
    cases: &Cases,
    reviewer: &Reviewer,
    id: &ApplicationId,
    message: &str,
    comments: &[(String, String)],
    expected_version: i64,
) -> Result<Decided, UseCaseError> {
    let (record, _) = case_of(applications, cases, &reviewer.scope(), id).await?;
    let (message, anchored, errors) = return_words(message, comments);
    refuse_if_any(errors)?;
    let mut next = record.return_for_correction(
        &reviewer.actor,
        &reviewer.office,
        message,
        anchored.clone(),
        expected_version,
        now(),
    )?;
    let mut audit = note(reviewer, AuditAction::Return, &["/status", "/returned"]);
    audit.detail = Some(serde_json::json!({ "comments": anchored }));
    applications
        .commit(id, Some(record.version), Some(&mut next), &[], audit)
        .await?;
    tracing::info!(%id, office = %reviewer.office, "returned for correction");
    Ok(Decided { application: next })
}

/// The 認定番号 an approval by the reviewer's office would take now, for the confirmation step.
/// Another approval of the office in between takes it first; this one then takes the next.
pub async fn next_certification_number(
    applications: &Applications,
    reviewer: &Reviewer,
) -> Result<String, UseCaseError> {
    let office = &reviewer.office;
    let fiscal = keiryoku_domain::dates::fiscal_year(keiryoku_domain::dates::japan_date(now()));
    let current = applications
        .counter(&format!("cert#{office}#{fiscal}"))
        .await?;
    Ok(keiryoku_domain::tables::tables()
        .rules
        .certification_number(office.as_str(), fiscal, current + 1))
}

/// How many times an approval retries when another approval of the office took the counter.
const COUNTER_RETRIES: usize = 5;

/// 認定 for the reviewer's office: allocates its 認定番号 (gapless per office and fiscal year,
/// never reused); the domain decides whether every competent authority has now approved.
pub async fn approve(
    applications: &Applications,
    cases: &Cases,
    reviewer: &Reviewer,
    id: &ApplicationId,
    expected_version: i64,
) -> Result<Decided, UseCaseError> {
    let office = &reviewer.office;
    for _ in 0..COUNTER_RETRIES {
        let (record, _) = case_of(applications, cases, &reviewer.scope(), id).await?;
        let at = now();
        let fiscal = keiryoku_domain::dates::fiscal_year(keiryoku_domain::dates::japan_date(at));
        let counter = format!("cert#{office}#{fiscal}");
        let current = applications.counter(&counter).await?;
        let number = keiryoku_domain::tables::tables()
            .rules
            .certification_number(office.as_str(), fiscal, current + 1);
        let mut approval = record.approve(
            &reviewer.actor,
            office,
            number.clone(),
            expected_version,
            at,
        )?;
        let mut paths = vec!["/decisions"];
        if approval.certified {
            paths.extend(["/status", "/certification"]);
        }
        let mut audit = note(reviewer, AuditAction::Approve, &paths);
        audit.detail = Some(serde_json::json!({
            "certification_number": number,
            "certified": approval.certified,
            "waiting_for": approval.waiting_for,
        }));
        let extras = [Extra::Counter {
            name: counter,
            current,
        }];
        match applications
            .commit(
                id,
                Some(record.version),
                Some(&mut approval.next),
                &extras,
                audit,
            )
            .await
        {
            Ok(()) => {
                tracing::info!(%id, %office, %number, certified = approval.certified, "approved");
                return Ok(Decided {
                    application: approval.next,
                });
            }
            // Another approval of this office took the number: take the next one.
            Err(CommitError::CounterMoved) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(UseCaseError::Busy(
        "認定番号の割り当てが混み合っています。もう一度操作してください。".into(),
    ))
}

/// 不認定 with a reason: one competent authority's rejection ends the application.
pub async fn reject(
    applications: &Applications,
    cases: &Cases,
    reviewer: &Reviewer,
    id: &ApplicationId,
    reason: &str,
    expected_version: i64,
) -> Result<Decided, UseCaseError> {
    let (record, _) = case_of(applications, cases, &reviewer.scope(), id).await?;
    let mut errors = Vec::new();
    let reason = reviewer_text(reason, "/reason", "不認定の理由", &mut errors);
    refuse_if_any(errors)?;
    let mut next = record.reject(
        &reviewer.actor,
        &reviewer.office,
        reason.clone(),
        expected_version,
        now(),
    )?;
    let mut audit = note(reviewer, AuditAction::Reject, &["/status", "/rejection"]);
    audit.detail = Some(serde_json::json!({ "reason": reason }));
    applications
        .commit(id, Some(record.version), Some(&mut next), &[], audit)
        .await?;
    tracing::info!(%id, office = %reviewer.office, "rejected");
    Ok(Decided { application: next })
}

/// 紙申請の認定を登録: a reviewer of one of the plan's authorities records the certification it
/// issued on paper, with the 認定日 and 認定番号 printed on it. From then on the plan is certified
/// here as any other: in search, statistics, the register, the exports, and it can be changed.
/// No 認定書 is made and no mail is sent: both were given on paper.
pub async fn record_paper_certification(
    applications: &Applications,
    cases: &Cases,
    reviewer: &Reviewer,
    id: &ApplicationId,
    number: &str,
    certified_on: &str,
    expected_version: i64,
) -> Result<Decided, UseCaseError> {
    let (record, _) = case_of(applications, cases, &reviewer.scope(), id).await?;
    let mut next = record.record_paper_certification(
        &reviewer.actor,
        &reviewer.office,
        number,
        certified_on,
        expected_version,
        now(),
    )?;
    let mut audit = note(
        reviewer,
        AuditAction::RecordPaperCertification,
        &["/status", "/decisions", "/certification"],
    );
    let certification = next.certification.as_ref();
    audit.detail = Some(serde_json::json!({
        "certification_number": certification.map(|c| c.number.clone()),
        "certified_on": certification.map(|c| c.certified_on.to_string()),
    }));
    applications
        .commit(id, Some(record.version), Some(&mut next), &[], audit)
        .await?;
    tracing::info!(%id, office = %reviewer.office, "paper certification recorded");
    Ok(Decided { application: next })
}
