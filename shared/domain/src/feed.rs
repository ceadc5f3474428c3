//! The change feed (変更情報の提供): which commits agencies are told of, what each event says,
//! and which agency may see it (its scope, and for some the applicant's data-use consent).
//!
//! Events are derived from the action and the record it produced, never from a caller's word,
//! and the store writes them in the same transaction as the change (an outbox), so the feed
//! neither loses nor invents one.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::application::{Application, ApplicationId, ApplicationKind, AuditAction, OfficeId};
use crate::staff::Scope;
use crate::status::Status;

/// What happened to an application, as the feed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// 申請 (or 再提出 after a return): received by the competent authorities.
    Submitted,
    /// 差戻し.
    Returned,
    /// 認定 of a new plan (also a migrated or a paper certification recorded here).
    Certified,
    /// 不認定.
    Rejected,
    /// 取下げ of a filed application.
    Withdrawn,
    /// 変更認定: a change application was certified; its plan is now the certified one.
    Changed,
    /// The certification a certified change replaced (the event is about the original).
    Superseded,
    /// データ利活用同意の撤回: consent-bound agencies must stop using the plan's data.
    ConsentWithdrawn,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Submitted => "submitted",
            FeedKind::Returned => "returned",
            FeedKind::Certified => "certified",
            FeedKind::Rejected => "rejected",
            FeedKind::Withdrawn => "withdrawn",
            FeedKind::Changed => "changed",
            FeedKind::Superseded => "superseded",
            FeedKind::ConsentWithdrawn => "consent_withdrawn",
        }
    }
}

/// One event of the feed, as agencies receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedRecord {
    /// Stable and unique (`<application id>:<version>:<kind>`): a consumer that sees it twice
    /// keeps it once.
    pub event_id: String,
    pub kind: FeedKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The application the event is about (for `superseded`, the one replaced).
    pub application_id: ApplicationId,
    /// The application's version the event was written with (for `superseded`, the change's).
    pub version: i64,
    pub application_kind: ApplicationKind,
    /// 受付番号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
    /// 法人番号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// 事業者の名称.
    pub company_name: String,
    /// 本店所在地の都道府県 (JIS code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefecture_code: Option<String>,
    /// The competent authorities' offices the plan is addressed to.
    pub office_ids: Vec<OfficeId>,
    /// 認定番号 (certified, changed, superseded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification_number: Option<String>,
    /// 認定日.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::application::iso_date::option"
    )]
    pub certified_on: Option<Date>,
    /// For `changed`: the application whose certification it replaces; for `superseded`: the
    /// change application that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_application_id: Option<ApplicationId>,
    /// 公表可否 as filed.
    pub publication_consent: bool,
    /// データ利活用同意 as filed (and not withdrawn when the event was written).
    pub data_use_consent: bool,
}

/// The events a commit of `action` producing `next` writes (none for drafts and edits).
pub fn events_of(action: AuditAction, next: Option<&Application>) -> Vec<FeedRecord> {
    let Some(next) = next else {
        return Vec::new();
    };
    let kinds: Vec<FeedKind> = match action {
        AuditAction::Submit => vec![FeedKind::Submitted],
        AuditAction::Return => vec![FeedKind::Returned],
        AuditAction::Reject => vec![FeedKind::Rejected],
        // Only an application that reached an authority is withdrawn from it.
        AuditAction::Withdraw if next.submission.is_some() => vec![FeedKind::Withdrawn],
        // A joint plan is certified by the last approval; the others only record a decision.
        // A change certified on paper replaces its certification as one certified here does.
        AuditAction::Approve | AuditAction::RecordPaperCertification
            if next.status == Status::Certified =>
        {
            match next.change_of {
                Some(_) => vec![FeedKind::Changed, FeedKind::Superseded],
                None => vec![FeedKind::Certified],
            }
        }
        AuditAction::WithdrawConsent => vec![FeedKind::ConsentWithdrawn],
        // Migrated certifications are in the register and the extracts, not changes made here.
        AuditAction::Migrate
        | AuditAction::Create
        | AuditAction::Edit
        | AuditAction::Delete
        | AuditAction::Withdraw
        | AuditAction::FinaliseForPaper
        | AuditAction::CreateChange
        | AuditAction::Approve
        | AuditAction::RecordPaperCertification => Vec::new(),
    };
    kinds
        .into_iter()
        .map(|kind| FeedRecord::of(kind, next))
        .collect()
}

impl FeedRecord {
    fn of(kind: FeedKind, record: &Application) -> FeedRecord {
        let consent = record.consent.as_ref();
        let mut event = FeedRecord {
            event_id: format!("{}:{}:{}", record.id, record.version, kind.as_str()),
            kind,
            at: record.updated_at,
            application_id: record.id.clone(),
            version: record.version,
            application_kind: record.kind,
            receipt_number: record.submission.as_ref().map(|s| s.receipt_number.clone()),
            corporate_number: record.corporate_number(),
            company_name: record.company_name(),
            prefecture_code: record.prefecture_code(),
            office_ids: record
                .filing()
                .map(|f| f.office_ids.to_vec())
                .unwrap_or_default(),
            certification_number: record.certification.as_ref().map(|c| c.number.clone()),
            certified_on: record.certification.as_ref().map(|c| c.certified_on),
            related_application_id: record.change_of.as_ref().map(|c| c.application_id.clone()),
            publication_consent: consent.is_some_and(|c| c.publication),
            data_use_consent: consent.is_some_and(|c| c.shares_data()),
        };
        if kind == FeedKind::Superseded
            && let Some(original) = &record.change_of
        {
            event.related_application_id = Some(record.id.clone());
            event.application_id = original.application_id.clone();
            event.application_kind = ApplicationKind::New;
            event.receipt_number = None;
            event.office_ids = original.office_ids.clone();
            event.certification_number = Some(original.certification_number.clone());
            event.certified_on = Some(original.certified_on);
        }
        event
    }
}

/// What an agency's client may see (提供先): the authorities of its scope and, for a client
/// bound by the applicants' consent (ミラサポCONNECT), only plans whose data-use consent stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyView {
    pub scope: Scope,
    /// Only plans with データ利活用同意 (given and not withdrawn).
    pub needs_data_use_consent: bool,
}

impl AgencyView {
    /// Whether an event reaches this agency. `shares_data` tells whether an application's
    /// data-use consent stands now: a withdrawn consent hides every earlier event of the plan,
    /// and a `superseded` event (about the original, carrying the change's company data) needs
    /// both plans' consents.
    pub fn sees(&self, event: &FeedRecord, shares_data: impl Fn(&ApplicationId) -> bool) -> bool {
        if !self.covers(&event.office_ids) {
            return false;
        }
        if !self.needs_data_use_consent {
            return true;
        }
        // The withdrawal itself is told, so the agency deletes what it holds.
        if event.kind == FeedKind::ConsentWithdrawn {
            return true;
        }
        let related = match (event.kind, &event.related_application_id) {
            (FeedKind::Superseded, Some(change)) => shares_data(change),
            _ => true,
        };
        shares_data(&event.application_id) && related
    }

    /// Whether a certification of the register reaches this agency (its consent as it stands).
    pub fn sees_entry(&self, entry: &crate::register::RegisterEntry) -> bool {
        self.covers(&entry.office_ids) && (!self.needs_data_use_consent || entry.data_use_consent)
    }

    fn covers(&self, offices: &[OfficeId]) -> bool {
        offices.iter().any(|o| self.scope.covers(o))
    }
}

/// An agency's machine client (提供先), as the operator registers it: the OAuth client id its
/// tokens carry and what it may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyClient {
    pub client_id: String,
    /// 提供先の名称 (中小企業庁 企画課, ミラサポCONNECT …).
    pub name: String,
    #[serde(flatten)]
    pub view: AgencyView,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: FeedKind, offices: &[&str]) -> FeedRecord {
        FeedRecord {
            event_id: format!("x:1:{}", kind.as_str()),
            kind,
            at: OffsetDateTime::UNIX_EPOCH,
            application_id: ApplicationId::parse("01890a5d-ac96-774b-bcce-b302099a8057")
                .unwrap_or_else(|| unreachable!()),
            version: 1,
            application_kind: ApplicationKind::New,
            receipt_number: None,
            corporate_number: None,
            company_name: "テスト".into(),
            prefecture_code: None,
            office_ids: offices.iter().map(|o| OfficeId::from(*o)).collect(),
            certification_number: None,
            certified_on: None,
            related_application_id: None,
            publication_consent: false,
            data_use_consent: true,
        }
    }

    #[test]
    fn a_ministry_sees_the_plans_addressed_to_it_only() {
        let meti = AgencyView {
            scope: Scope::Ministry("meti".into()),
            needs_data_use_consent: false,
        };
        assert!(meti.sees(&event(FeedKind::Certified, &["meti-kanto"]), |_| false));
        assert!(!meti.sees(
            &event(FeedKind::Certified, &["mlit-transport-kanto"]),
            |_| true
        ));
        // A joint plan reaches every ministry it is addressed to.
        assert!(meti.sees(
            &event(FeedKind::Certified, &["mlit-transport-kanto", "meti-kanto"]),
            |_| false
        ));
    }

    #[test]
    fn a_consent_bound_agency_sees_only_plans_whose_consent_stands() {
        let mirasapo = AgencyView {
            scope: Scope::National,
            needs_data_use_consent: true,
        };
        assert!(mirasapo.sees(&event(FeedKind::Certified, &["meti-kanto"]), |_| true));
        assert!(!mirasapo.sees(&event(FeedKind::Certified, &["meti-kanto"]), |_| false));
        // The withdrawal itself reaches it, so it deletes what it holds.
        assert!(
            mirasapo.sees(&event(FeedKind::ConsentWithdrawn, &["meti-kanto"]), |_| {
                false
            })
        );
        // A superseded certification: the original's consent and the change's.
        let mut superseded = event(FeedKind::Superseded, &["meti-kanto"]);
        let change = ApplicationId::parse("01890a5d-ac96-774b-bcce-b302099a8058")
            .unwrap_or_else(|| unreachable!());
        superseded.related_application_id = Some(change.clone());
        assert!(mirasapo.sees(&superseded, |_| true));
        assert!(!mirasapo.sees(&superseded, |id| id != &change));
    }
}
