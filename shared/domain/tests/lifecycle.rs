//! The lifecycle's rules, in process: every use case's decision (what the next version is, or
//! why not) on typed records, without a store. The end-to-end suites drive the same decisions
//! through HTTP, DynamoDB and the stream.

use keiryoku_domain::application::{
    Actor, Application, ApplicationId, ApplicationKind, Effect, LifecycleError, MailEvent,
    OfficeId, PlanDocument, StaffMailEvent, VerifiedIdentity, effects_of,
};
use keiryoku_domain::status::{Action, Role, Status, TransitionError};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::{date, datetime};

/// A fixed "now": 2026-12-04 10:00 JST, a Friday.
const NOW: OffsetDateTime = datetime!(2026-12-04 01:00 UTC);

fn complete_plan() -> Value {
    serde_json::from_str(include_str!("fixtures/complete_plan.json"))
        .unwrap_or_else(|e| panic!("fixture: {e}"))
}

fn id(n: u8) -> ApplicationId {
    ApplicationId::parse(&format!("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a{n:02x}"))
        .unwrap_or_else(|| panic!("id"))
}

fn draft(plan: Value) -> Application {
    Application::new_draft(
        id(1),
        "corp-9010401234567".into(),
        "100001".into(),
        PlanDocument::from_value(plan).unwrap_or_else(|| panic!("object")),
        Some("owner@example.jp".into()),
        NOW,
    )
    .unwrap_or_else(|e| panic!("draft: {e}"))
}

fn tokyo() -> VerifiedIdentity {
    VerifiedIdentity {
        corporation: true,
        name: "株式会社霞が関精機".into(),
        corporate_number: Some("9010401234567".into()),
        representative_name: Some("経済 一郎".into()),
        account: "100001".into(),
    }
}

fn submitted(plan: Value) -> Application {
    let draft = draft(plan);
    let today = keiryoku_domain::dates::japan_date(NOW);
    let filing = draft
        .prepare_filing(Action::Submit, &tokyo(), today)
        .unwrap_or_else(|e| panic!("filing: {e:?}"));
    draft
        .submit(filing, tokyo(), "R2026-000001".into(), None, NOW)
        .unwrap_or_else(|e| panic!("submit: {e:?}"))
}

fn reviewer(office: &str) -> (Actor, OfficeId) {
    (
        Actor {
            sub: format!("staff-{office}"),
            name: Some("審査 一".into()),
            role: Role::Reviewer,
            on_behalf_of: office.into(),
        },
        OfficeId::from(office),
    )
}

fn patch(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("patch must be an object"),
    }
}

fn refusal_paths(error: &LifecycleError) -> Vec<String> {
    match error {
        LifecycleError::Invalid(findings) => findings.iter().map(|f| f.path.clone()).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

#[test]
fn a_draft_saves_a_merge_patch_at_its_version_and_never_a_stale_one() {
    let record = draft(json!({"applicant": {"name": "旧名"}}));
    let saved = record
        .save(&patch(json!({"applicant": {"name_kana": "カナ"}})), 1, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved.version, 2);
    assert_eq!(
        saved.plan.to_value(),
        json!({"applicant": {"name": "旧名", "name_kana": "カナ"}})
    );
    assert_eq!(
        saved.save(&patch(json!({"funds": null})), 1, NOW),
        Err(LifecycleError::Stale)
    );
}

#[test]
fn the_kind_of_an_application_cannot_be_patched_or_sent_at_creation() {
    let record = draft(json!({}));
    let refused = record
        .save(
            &patch(json!({"kind": {"type": "change", "certification": {"number": "X"}}})),
            1,
            NOW,
        )
        .unwrap_err();
    assert_eq!(refusal_paths(&refused), ["/kind"]);
    // Repeating the kind it has changes nothing and is accepted.
    assert!(
        record
            .save(&patch(json!({"kind": {"type": "new"}})), 1, NOW)
            .is_ok()
    );
    let created = Application::new_draft(
        id(2),
        "corp-1".into(),
        "1".into(),
        PlanDocument::from_value(json!({"kind": {"type": "change"}})).unwrap_or_default(),
        None,
        NOW,
    );
    assert_eq!(refusal_paths(&created.unwrap_err()), ["/plan/kind"]);
}

#[test]
fn only_drafts_and_returned_applications_are_edited() {
    let record = submitted(complete_plan());
    let refused = record.save(&patch(json!({"funds": null})), record.version, NOW);
    assert_eq!(
        refused,
        Err(LifecycleError::Conflict(
            "この申請は「申請中」のため編集できません。".into()
        ))
    );
    assert!(matches!(
        record.check_deletable(record.version),
        Err(LifecycleError::Conflict(_))
    ));
}

#[test]
fn submission_records_receipt_routing_and_due_date() {
    let record = submitted(complete_plan());
    assert_eq!(record.status, Status::Submitted);
    let submission = record
        .submission
        .as_ref()
        .unwrap_or_else(|| panic!("submission"));
    assert_eq!(submission.receipt_number, "R2026-000001");
    assert_eq!(submission.received_on, date!(2026 - 12 - 04));
    assert_eq!(submission.office_ids, [OfficeId::from("meti-kanto")]);
    // 14 business days after Friday 2026-12-04.
    assert_eq!(submission.due_on, date!(2026 - 12 - 24));
    assert_eq!(submission.revision, record.version);
    assert_eq!(record.identity, Some(tokyo()));
}

#[test]
fn the_identity_on_a_submitted_plan_is_the_gbizid_account_s() {
    let mut plan = complete_plan();
    plan["applicant"]["name"] = json!("株式会社なりすまし商事");
    plan["applicant"]["representative_name"] = json!("他人 太郎");
    let record = submitted(plan);
    let typed = record.typed_plan();
    let applicant =
        keiryoku_domain::plan::get(&typed.applicant).unwrap_or_else(|| panic!("applicant"));
    assert_eq!(
        keiryoku_domain::plan::get(&applicant.name).map(String::as_str),
        Some("株式会社霞が関精機")
    );
    assert_eq!(
        keiryoku_domain::plan::get(&applicant.representative_name).map(String::as_str),
        Some("経済 一郎")
    );
    assert_eq!(record.company_name(), "株式会社霞が関精機");
}

#[test]
fn another_company_s_corporate_number_is_refused_at_submission() {
    let mut plan = complete_plan();
    plan["applicant"]["corporate_number"] = json!("7120001234561");
    let refused = draft(plan)
        .prepare_filing(Action::Submit, &tokyo(), date!(2026 - 12 - 04))
        .unwrap_err();
    let LifecycleError::Invalid(findings) = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(findings[0].path, "/plan/applicant/corporate_number");
    assert!(
        findings[0].message.contains("9010401234567"),
        "{}",
        findings[0].message
    );
}

#[test]
fn every_problem_of_an_incomplete_plan_is_reported_under_plan() {
    let refused = draft(json!({"applicant": {"name": "株式会社霞が関精機"}}))
        .prepare_filing(Action::Submit, &tokyo(), date!(2026 - 12 - 04))
        .unwrap_err();
    let paths = refusal_paths(&refused);
    assert!(paths.len() > 3, "{paths:?}");
    assert!(paths.iter().all(|p| p.starts_with("/plan/")), "{paths:?}");
}

#[test]
fn the_status_machine_decides_every_action() {
    let record = submitted(complete_plan());
    assert!(matches!(
        record.prepare_filing(Action::Submit, &tokyo(), date!(2026 - 12 - 04)),
        Err(LifecycleError::Transition(TransitionError::WrongStatus(_)))
    ));
    let withdrawn = record
        .withdraw(record.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(withdrawn.status, Status::Withdrawn);
    assert!(withdrawn.withdraw(withdrawn.version, NOW).is_err());
    assert!(matches!(
        draft(json!({})).withdraw(7, NOW),
        Err(LifecycleError::Stale)
    ));
}

#[test]
fn a_return_anchors_comments_and_a_resubmission_starts_a_new_round() {
    let record = submitted(complete_plan());
    let (meti, office) = reviewer("meti-kanto");
    let returned = record
        .return_for_correction(
            &meti,
            &office,
            "課題を具体的に".into(),
            vec![keiryoku_domain::application::FieldComment {
                path: "/plan/current_state/challenges".into(),
                message: "原因も記載してください。".into(),
            }],
            record.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(returned.status, Status::Returned);
    assert_eq!(
        returned.returned.as_ref().map(|r| r.revision),
        Some(record.version)
    );
    // The same office cannot decide twice in a round; a stale view is refused.
    assert!(
        returned
            .return_for_correction(&meti, &office, "x".into(), vec![], returned.version, NOW)
            .is_err()
    );
    let edited = returned
        .save(
            &patch(json!({"current_state": {"challenges": "原因は…"}})),
            returned.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let filing = edited
        .prepare_filing(Action::Submit, &tokyo(), date!(2026 - 12 - 04))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let again = edited
        .submit(filing, tokyo(), "R2026-000002".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.decisions.is_empty(), "a new round");
    assert_eq!(again.status, Status::Submitted);
}

#[test]
fn one_approval_certifies_a_plan_of_one_authority() {
    let record = submitted(complete_plan());
    let (meti, office) = reviewer("meti-kanto");
    let approval = record
        .approve(
            &meti,
            &office,
            "関東経産第2026-00001号".into(),
            record.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(approval.certified);
    assert_eq!(approval.next.status, Status::Certified);
    let certification = approval
        .next
        .certification
        .unwrap_or_else(|| panic!("certified"));
    assert_eq!(certification.number, "関東経産第2026-00001号");
    assert_eq!(certification.certified_on, date!(2026 - 12 - 04));
}

#[test]
fn a_joint_plan_is_certified_when_every_authority_approved() {
    let mut plan = complete_plan();
    if let Some(fields) = plan["business_fields"].as_array_mut() {
        fields.push(json!({"middle_code": "06", "detail_code": "0621"}));
    }
    let record = submitted(plan);
    let (meti, meti_office) = reviewer("meti-kanto");
    let (mlit, mlit_office) = reviewer("mlit-dev-kanto");
    // The second authority approves first: nothing is certified yet.
    let first = record
        .approve(
            &mlit,
            &mlit_office,
            "関東整備第1号".into(),
            record.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!first.certified);
    assert_eq!(first.waiting_for, std::slice::from_ref(&meti_office));
    assert_eq!(first.next.status, Status::Submitted);
    let second = first
        .next
        .approve(
            &meti,
            &meti_office,
            "関東経産第1号".into(),
            first.next.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(second.certified);
    let certification = second
        .next
        .certification
        .unwrap_or_else(|| panic!("certified"));
    // The number printed first is the first competent authority's, whoever approved last.
    assert_eq!(certification.number, "関東経産第1号");
    assert_eq!(certification.numbers.len(), 2);
}

#[test]
fn a_rejection_ends_the_application() {
    let record = submitted(complete_plan());
    let (meti, office) = reviewer("meti-kanto");
    let rejected = record
        .reject(
            &meti,
            &office,
            "根拠がありません。".into(),
            record.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rejected.status, Status::Rejected);
    assert!(rejected.status.is_final());
}

#[test]
fn a_change_application_starts_from_the_certified_plan_and_keeps_its_kind() {
    let record = submitted(complete_plan());
    let (meti, office) = reviewer("meti-kanto");
    let certified = record
        .approve(&meti, &office, "関東経産第1号".into(), record.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"))
        .next;
    let change = certified
        .start_change(certified.plan.clone(), id(9), "100001".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(change.kind, ApplicationKind::Change);
    assert_eq!(change.status, Status::Draft);
    assert_eq!(
        change
            .change_of
            .as_ref()
            .map(|c| c.certification_number.as_str()),
        Some("関東経産第1号")
    );
    // Validation sees the record's kind even if the document's were tampered with.
    let mut tampered = change.clone();
    let mut doc = tampered.plan.to_value();
    doc["kind"] = json!({"type": "new"});
    tampered.plan = PlanDocument::from_value(doc).unwrap_or_default();
    assert!(matches!(
        keiryoku_domain::plan::get(&tampered.typed_plan().kind),
        Some(keiryoku_domain::plan::Kind::Change { .. })
    ));
    // Only a certified application can be changed.
    assert!(matches!(
        record.start_change(record.plan.clone(), id(10), "1".into(), None, NOW),
        Err(LifecycleError::Conflict(_))
    ));
    // Not once the certified period has ended.
    let later = datetime!(2031-01-01 00:00 UTC);
    assert!(matches!(
        certified.start_change(certified.plan.clone(), id(11), "1".into(), None, later),
        Err(LifecycleError::Conflict(_))
    ));
}

/// The effects function's stream filter (template.yaml) leaves out records whose new status is
/// draft, so autosaves do not invoke it: that holds only while no change into a draft calls for
/// an effect.
#[test]
fn no_change_into_a_draft_calls_for_an_effect() {
    let new = draft(complete_plan());
    assert!(effects_of(None, &new).is_empty());
    for status in keiryoku_domain::status::ALL_STATUSES {
        let mut old = draft(complete_plan());
        old.status = status;
        assert!(
            effects_of(Some(&old), &new).is_empty(),
            "{status:?} → draft"
        );
    }
}

#[test]
fn each_status_change_calls_for_its_effects_once() {
    let record = submitted(complete_plan());
    let before = draft(complete_plan());
    assert_eq!(
        effects_of(Some(&before), &record),
        [
            Effect::ApplicationRecord,
            Effect::Mail(MailEvent::Received),
            Effect::StaffMail(StaffMailEvent::NewCase)
        ]
    );
    assert!(effects_of(Some(&record), &record).is_empty());
    for effect in [
        Effect::ApplicationRecord,
        Effect::Certificate,
        Effect::Mail(MailEvent::Withdrawn),
    ] {
        assert_eq!(Effect::parse(effect.as_str()), Some(effect));
    }
}

/// The kinds of the change-feed events a commit of `action` producing `next` writes.
fn feed(action: keiryoku_domain::application::AuditAction, next: &Application) -> Vec<String> {
    keiryoku_domain::feed::events_of(action, Some(next))
        .into_iter()
        .map(|e| format!("{}:{}", e.kind.as_str(), e.application_id))
        .collect()
}

#[test]
fn the_feed_tells_filed_changes_only_and_a_certification_once() {
    use keiryoku_domain::application::AuditAction;
    // A draft's life writes nothing; a withdrawn draft never reached an authority.
    let fresh = draft(complete_plan());
    assert!(feed(AuditAction::Create, &fresh).is_empty());
    assert!(feed(AuditAction::Edit, &fresh).is_empty());
    let withdrawn_draft = fresh
        .withdraw(fresh.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(feed(AuditAction::Withdraw, &withdrawn_draft).is_empty());
    // A filed application's withdrawal is told.
    let record = submitted(complete_plan());
    assert_eq!(
        feed(AuditAction::Submit, &record),
        [format!("submitted:{}", id(1))]
    );
    let withdrawn = record
        .withdraw(record.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        feed(AuditAction::Withdraw, &withdrawn),
        [format!("withdrawn:{}", id(1))]
    );

    // A joint plan: the first approval records a decision, the last one certifies.
    let mut plan = complete_plan();
    if let Some(fields) = plan["business_fields"].as_array_mut() {
        fields.push(json!({"middle_code": "06", "detail_code": "0621"}));
    }
    let joint = submitted(plan);
    let (meti, meti_office) = reviewer("meti-kanto");
    let (mlit, mlit_office) = reviewer("mlit-dev-kanto");
    let first = joint
        .approve(
            &mlit,
            &mlit_office,
            "関東整備第1号".into(),
            joint.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(feed(AuditAction::Approve, &first.next).is_empty());
    let second = first
        .next
        .approve(
            &meti,
            &meti_office,
            "関東経産第1号".into(),
            first.next.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        feed(AuditAction::Approve, &second.next),
        [format!("certified:{}", id(1))]
    );

    // A certified change is `changed`, and the certification it replaced `superseded`.
    let change = second
        .next
        .start_change(second.next.plan.clone(), id(9), "100001".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    let today = keiryoku_domain::dates::japan_date(NOW);
    let filing = change
        .prepare_filing(Action::Submit, &tokyo(), today)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let change = change
        .submit(filing, tokyo(), "R2026-000002".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut certified = change.clone();
    for (actor, office, number) in [
        (&meti, &meti_office, "関東経産第2号"),
        (&mlit, &mlit_office, "関東整備第2号"),
    ] {
        certified = certified
            .approve(actor, office, number.into(), certified.version, NOW)
            .unwrap_or_else(|e| panic!("{e}"))
            .next;
    }
    assert_eq!(
        feed(AuditAction::Approve, &certified),
        [
            format!("changed:{}", id(9)),
            format!("superseded:{}", id(1))
        ]
    );
}

#[test]
fn a_withdrawn_data_use_consent_stays_withdrawn_in_a_resubmission_and_a_change() {
    let record = submitted(complete_plan());
    let consent = record
        .consent
        .clone()
        .unwrap_or_else(|| panic!("consent recorded"));
    assert!(consent.data_use && consent.publication && consent.shares_data());
    assert_eq!(
        consent.wording_version,
        keiryoku_domain::application::CONSENT_WORDING_VERSION
    );
    let withdrawn = record
        .withdraw_data_use_consent(record.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!withdrawn.consent.as_ref().is_some_and(|c| c.shares_data()));
    // Once more is refused: there is nothing left to withdraw.
    assert!(
        withdrawn
            .withdraw_data_use_consent(withdrawn.version, NOW)
            .is_err()
    );
    // Returned and resubmitted as it is: still no consent.
    let (meti, office) = reviewer("meti-kanto");
    let returned = withdrawn
        .return_for_correction(
            &meti,
            &office,
            "直してください。".into(),
            vec![],
            withdrawn.version,
            NOW,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let today = keiryoku_domain::dates::japan_date(NOW);
    let filing = returned
        .prepare_filing(Action::Submit, &tokyo(), today)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let again = returned
        .submit(filing, tokyo(), "R2026-000003".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!again.consent.as_ref().is_some_and(|c| c.shares_data()));
    // Certified, then changed: the change starts without the consent too.
    let certified = again
        .approve(&meti, &office, "関東経産第3号".into(), again.version, NOW)
        .unwrap_or_else(|e| panic!("{e}"))
        .next;
    let change = certified
        .start_change(certified.plan.clone(), id(12), "100001".into(), None, NOW)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(change.plan.to_value()["data_use_consent"], json!(false));
}

/// A plan 東京国税局 alone is competent for (税理士事務所), finalised for paper on `NOW`.
fn finalised_for_paper() -> Application {
    let mut plan = complete_plan();
    plan["business_fields"] = json!([{"middle_code": "72", "detail_code": "7242"}]);
    plan["guideline_id"] = json!("basic_policy");
    let draft = draft(plan);
    let today = keiryoku_domain::dates::japan_date(NOW);
    let filing = draft
        .prepare_filing(Action::FinaliseForPaper, &tokyo(), today)
        .unwrap_or_else(|e| panic!("filing: {e:?}"));
    draft
        .finalise_for_paper(filing, tokyo(), NOW)
        .unwrap_or_else(|e| panic!("finalise: {e:?}"))
}

#[test]
fn a_paper_certification_is_recorded_by_its_authority_with_the_printed_number_and_date() {
    let record = finalised_for_paper();
    let (nta, nta_office) = reviewer("nta-tokyo");
    // Its authorities see it as filed (on paper): the finalisation stands for the receipt.
    let filed = record.filing().unwrap_or_else(|| panic!("filed on paper"));
    assert_eq!(filed.office_ids, std::slice::from_ref(&nta_office));
    assert_eq!(filed.receipt_number, None);
    assert_eq!(filed.received_on, date!(2026 - 12 - 04));
    assert_eq!(filed.due_on, date!(2027 - 01 - 03), "30 days on paper");
    assert!(record.is_routed_to(&nta_office));

    let later = NOW + time::Duration::days(20);
    let certified = record
        .record_paper_certification(
            &nta,
            &nta_office,
            " 東局第１２号 ",
            "2026/12/20",
            record.version,
            later,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(certified.status, Status::Certified);
    assert_eq!(certified.version, record.version + 1);
    let certification = certified
        .certification
        .as_ref()
        .unwrap_or_else(|| panic!("certified"));
    assert_eq!(certification.number, "東局第12号", "NFKC, trimmed");
    assert_eq!(certification.certified_on, date!(2026 - 12 - 20));
    assert_eq!(certification.office_ids, vec![nta_office.clone()]);
    assert!(
        certified.consent.as_ref().is_some_and(|c| c.publication),
        "the plan's answers to 公表 are its consent"
    );
    // Issued and notified on paper: no 認定書 or mail here.
    assert!(effects_of(Some(&record), &certified).is_empty());
    // The register knows where it came from.
    let entry = keiryoku_domain::register::RegisterEntry::of(&certified)
        .unwrap_or_else(|| panic!("registered"));
    assert_eq!(entry.origin, keiryoku_domain::register::Origin::Paper);
    // And it can be changed like any certification.
    assert!(
        certified
            .start_change(certified.plan.clone(), id(2), "100001".into(), None, later)
            .is_ok()
    );
}

#[test]
fn a_paper_certification_is_refused_for_bad_input_another_authority_or_an_online_filing() {
    let record = finalised_for_paper();
    let (nta, nta_office) = reviewer("nta-tokyo");
    let (meti, meti_office) = reviewer("meti-kanto");
    let record_with = |number: &str, on: &str| {
        record.record_paper_certification(&nta, &nta_office, number, on, record.version, NOW)
    };
    // Empty number, a date after today, before the finalisation, or not a date.
    for (number, on, paths) in [
        ("", "2026-12-04", vec!["/certification_number"]),
        ("東局第1号", "2026-12-05", vec!["/certified_on"]),
        ("東局第1号", "2026-12-03", vec!["/certified_on"]),
        ("東局第1号", "2026-02-30", vec!["/certified_on"]),
        (
            "東局\u{202e}第1号",
            "",
            vec!["/certification_number", "/certified_on"],
        ),
    ] {
        let refused = record_with(number, on)
            .err()
            .unwrap_or_else(|| panic!("{number} {on}"));
        assert_eq!(refusal_paths(&refused), paths, "{number} {on}");
    }
    // Not this authority's filing.
    assert!(matches!(
        record.record_paper_certification(
            &meti,
            &meti_office,
            "1",
            "2026-12-04",
            record.version,
            NOW
        ),
        Err(LifecycleError::Conflict(_))
    ));
    // A stale version.
    assert!(matches!(
        record.record_paper_certification(
            &nta,
            &nta_office,
            "1",
            "2026-12-04",
            record.version - 1,
            NOW
        ),
        Err(LifecycleError::Stale)
    ));
    // An online submission is approved, not recorded from paper.
    let online = submitted(complete_plan());
    assert!(matches!(
        online.record_paper_certification(
            &meti,
            &meti_office,
            "1",
            "2026-12-04",
            online.version,
            NOW
        ),
        Err(LifecycleError::Transition(TransitionError::WrongStatus(_)))
    ));
}
