//! HTTP plumbing every function shares, so a handler only parses, authorises, calls the rules,
//! persists and answers:
//!
//! - [`ApiError`]: every error a handler can return, turned into RFC 9457 `application/problem+json`
//!   with a Japanese title and detail. This is the one place errors become HTTP statuses.
//! - [`JsonBody`]: a JSON body extractor with a size limit and problem+json rejections.
//! - [`Site`]: the platform's public origin, cookie policy and the CSRF / Origin guard.
//! - [`CurrentSession`], [`ApplicantSession`], [`StaffSession`]: who is logged in, from our
//!   session cookie (staff re-checked against the staff directory on every request).
//! - [`fallback`]: 404 / 405 for requests no route takes, from template.yaml's route table.
//! - [`run`]: the Lambda entry point with JSON logs.

#![forbid(unsafe_code)]

mod body;
mod client_info;
mod cookies;
pub mod csv;
pub mod fallback;
mod lambda;
mod machine;
pub mod notices;
mod preconditions;
mod problem;
mod query;
mod session;
mod site;

pub use body::{BODY_LIMIT_BYTES, JsonBody};
pub use client_info::ClientInfo;
pub use cookies::{CSRF_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, read_cookie};
pub use lambda::{ConfigError, env_var, run, run_with_tables};
pub use machine::MachineCaller;
pub use preconditions::{etag, idempotency_key, if_match, is_issued_id, see_other, wants_html};
pub use problem::{ApiError, FieldError, PROBLEM_CONTENT_TYPE, Problem};
pub use query::{LogParams, QueryParams};
pub use session::{ApplicantSession, CurrentSession, StaffSession};
pub use site::{CSRF_FIELD, CSRF_HEADER, ORIGIN_VERIFY_HEADER, Site};
