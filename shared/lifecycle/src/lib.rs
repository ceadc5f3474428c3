//! The use cases of an application's lifecycle, one function per action, shared by every face
//! of the platform (the JSON API, the web pages, the export).
//!
//! Each one reads what it needs, lets the domain decide ([`keiryoku_domain::application`]:
//! the status machine and the rule of the action), and commits the next version with its audit
//! record in one transaction ([`Applications::commit`]). It returns the typed outcome or a
//! [`UseCaseError`]; faces only parse, call and map the error to HTTP (in `keiryoku-http`).
//!
//! Who acts is given as an [`Applicant`] (the company and the GビズID identity of the session)
//! or a [`Reviewer`] (the staff member and the office they decide for): every use case sees
//! only that company's applications, or that office's cases, and answers
//! [`UseCaseError::NotFound`] for anything else, exactly as for what does not exist.

#![forbid(unsafe_code)]

mod applicant;
mod documents;
pub mod prefill;
pub mod reference_tables;
mod reviewer;
pub mod statistics;

pub use applicant::{
    Done, create_draft, delete_draft, finalise_for_paper, history, owned, save, start_change,
    submit, withdraw, withdraw_data_use_consent,
};
pub use documents::{
    DownloadLink, Registration, Verification, Visitor, application_pdf, case_pdf,
    download_certificate, verify_certificate, verify_registration,
};
pub use reviewer::{
    Against, CaseView, Comparison, Decided, approve, case_of, case_view, check_return,
    next_certification_number, record_paper_certification, reject, return_for_correction,
};

use keiryoku_domain::application::{
    Actor, ApplicationId, CompanyId, LifecycleError, OfficeId, VerifiedIdentity,
};
use keiryoku_domain::validation::Finding;
use keiryoku_store::{CommitError, StoreError};

/// The applicant who acts: its company, how it appears in the audit trail, the identity GビズID
/// vouches for, and where its notices go.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub company_id: CompanyId,
    pub actor: Actor,
    pub identity: VerifiedIdentity,
    /// The GビズID mail address of the account (notices about what it files go there).
    pub email: Option<String>,
}

/// The staff member who decides, and the office they decide for.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub actor: Actor,
    pub office: OfficeId,
}

impl Reviewer {
    /// The cases a reviewer reads: those of the own authority.
    pub fn scope(&self) -> keiryoku_domain::staff::Scope {
        keiryoku_domain::staff::Scope::Office(self.office.clone())
    }
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// It does not exist, or not for this company / office.
    #[error("not found")]
    NotFound,
    /// The domain refused (status, version, validation, size).
    #[error(transparent)]
    Refused(#[from] LifecycleError),
    /// The idempotency key was used for another action.
    #[error("idempotency key used for another action")]
    KeyReused,
    /// Too many concurrent attempts (e.g. at one authority's certification counter).
    #[error("busy: {0}")]
    Busy(String),
    #[error(transparent)]
    Store(StoreError),
    /// Something that cannot happen with consistent data (a bug, a manual edit).
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for UseCaseError {
    fn from(e: StoreError) -> UseCaseError {
        match e {
            StoreError::NotFound => UseCaseError::NotFound,
            other => UseCaseError::Store(other),
        }
    }
}

impl From<CommitError> for UseCaseError {
    fn from(e: CommitError) -> UseCaseError {
        match e {
            CommitError::Stale => UseCaseError::Refused(LifecycleError::Stale),
            CommitError::KeyUsed => UseCaseError::KeyReused,
            CommitError::CounterMoved => UseCaseError::Busy("counter moved".into()),
            CommitError::AlreadyChanged => UseCaseError::Refused(LifecycleError::Conflict(
                keiryoku_store::ALREADY_CHANGED.into(),
            )),
            CommitError::Store(inner) => inner.into(),
        }
    }
}

impl UseCaseError {
    /// A refusal of the request's own fields (outside the plan).
    pub fn invalid(path: &str, code: &'static str, message: impl Into<String>) -> UseCaseError {
        UseCaseError::Refused(LifecycleError::Invalid(vec![Finding {
            path: path.into(),
            code,
            message: message.into(),
        }]))
    }
}

/// The id if it has the shape of the ids we issue; anything else cannot exist.
pub fn application_id(text: &str) -> Result<ApplicationId, UseCaseError> {
    ApplicationId::parse(text).ok_or(UseCaseError::NotFound)
}

/// Now, as every stored time is: UTC, whole seconds.
fn now() -> time::OffsetDateTime {
    keiryoku_domain::application::to_second(time::OffsetDateTime::now_utc())
}
