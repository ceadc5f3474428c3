//! AWS adapters of the platform: the records kept in the DynamoDB table and the files in the
//! documents bucket. Everything goes through the `aws-sdk-*` crates; locally and in tests they
//! talk to moto because `AWS_ENDPOINT_URL` points there. Records are the domain's types
//! (`keiryoku_domain::application`), mapped to items with `serde_dynamo`.
//!
//! Each kind of record has its own small handle ([`Sessions`], [`LoginStates`],
//! [`Applications`], [`Cases`], [`Certificates`], [`Effects`], [`StaffDirectory`], [`Cache`],
//! [`Documents`]), so a handler holds only the capability it needs, mirroring the per-function
//! IAM policies in `template.yaml`.

#![forbid(unsafe_code)]

mod agencies;
mod applications;
mod audit;
mod audit_archive;
mod aws;
mod cache;
mod cases;
mod certificates;
mod cursor;
mod digests;
mod documents;
mod effects;
mod error;
mod extracts;
mod feed;
mod item;
mod log_page;
mod login_states;
mod migration;
mod notices;
mod reference_data;
mod register;
mod sessions;
mod staff;
mod staff_reads;
mod stream_json;

pub use agencies::Agencies;
pub use applications::{
    ALREADY_CHANGED, ApplicationPage, Applications, AuditNote, CommitError, Extra,
    IdempotentResult, from_item as application_from_item, to_item as application_to_item,
};
pub use audit::{
    AuditRecord, ChainBreak, compare_with_archive, missing_from_archive, record_hash, verify_chain,
    version_hash,
};
pub use audit_archive::AuditArchive;
pub use aws::{AwsClients, Health, LambdaEnvironment};
pub use cache::Cache;
pub use cases::{
    CaseCounts, CaseDecision, CaseFilter, CasePage, CaseRecord, CaseStat, Cases, search_text,
};
pub use certificates::{
    CertificateDocument, CertificateRecord, Certificates, CheckEntry, DownloadEntry, certificate_id,
};
pub use digests::Digests;
pub use documents::{Documents, FileInfo, StoredFile, Upload};
pub use effects::{Claim, EffectSpec, Effects, ParkedEffect};
pub use error::StoreError;
pub use extracts::{ExtractFormat, ExtractJob, ExtractState, Extracts, extract_job_from_item};
pub use feed::{Feed, FeedPage, MAX_FEED_PAGE};
pub use log_page::{LogPage, MAX_LOG_PAGE, Order};
pub use login_states::{LoginState, LoginStates};
pub use migration::ImportBatch;
pub use notices::{Notice, NoticeAudience, NoticeKind, Notices, Window};
pub use reference_data::{Published, ReferenceData, TABLES_KEY};
pub use register::{MAX_REGISTER_PAGE, Register, RegisterPage, Supersession};
pub use sessions::{
    RENEW_AFTER_SECONDS, SessionRecord, SessionSummary, Sessions, account_partition,
};
pub use staff::{
    CHANGES_SHOWN, DirectoryAction, DirectoryActor, DirectoryChange, DirectoryEntry, RoleName,
    Scope, StaffDirectory, StaffMember, StaffPermission, StaffRole, VersionedMember,
};
pub use staff_reads::{ReadKind, StaffRead, StaffReads};
pub use stream_json::item_to_json;

/// The documents-bucket key of the application PDF kept for a filed revision (ids only).
pub fn application_pdf_key(
    id: &keiryoku_domain::application::ApplicationId,
    revision: i64,
) -> String {
    format!("applications/{id}/{revision}.pdf")
}

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
