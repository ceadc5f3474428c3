//! AWS adapters of the platform: the records kept in the DynamoDB table and the reachability of
//! the documents bucket. Everything goes through the `aws-sdk-*` crates; locally and in tests they
//! talk to moto because `AWS_ENDPOINT_URL` points there.
//!
//! Each kind of record has its own small handle ([`Sessions`], [`LoginStates`], [`Applications`]),
//! so a handler holds only the capability it needs, mirroring the per-function IAM policies in
//! `template.yaml`.

#![forbid(unsafe_code)]

mod applications;
mod aws;
mod error;
mod item;
mod login_states;
mod sessions;

pub use applications::{
    ApplicationPage, ApplicationRecord, Applications, IdempotentResult, NewApplication,
    PaperFiling, Submission, SubmitOutcome,
};
pub use aws::{AwsClients, Health};
pub use error::StoreError;
pub use login_states::{LoginState, LoginStates};
pub use sessions::{SessionRecord, Sessions};

/// Current time as an RFC 3339 string in UTC, the format of every timestamp we store.
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

/// Formats a time as RFC 3339 in UTC with second precision.
pub fn format_rfc3339(at: time::OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}
