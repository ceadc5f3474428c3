//! gBizINFO (法人インフォメーション / Gビズインフォ) REST API v2, as docs/integrations.md §2 describes
//! it: `GET {base}/v2/hojin/{corporate_number}` with the header `X-hojinInfo-api-token`.
//!
//! The answer is read leniently: empty values come as JSON `null`, as the string `"Null"`, as
//! `""` or not at all, and numbers sometimes as strings; all of that becomes `None` or a number.
//! A lookup never takes longer than the client's timeout: prefill is advisory and must never
//! hold up the applicant.

#![forbid(unsafe_code)]

mod client;
mod model;

pub use client::{GbizInfoClient, GbizInfoError, Lookup};
pub use model::{HojinInfo, parse_response};
