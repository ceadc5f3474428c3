//! The rules of 経営力向上計画 under 中小企業等経営強化法, as pure code and data with no I/O, so
//! every handler and every test uses one implementation:
//!
//! - [`plan`]: the 様式第1 model (cover page and 別紙 sections), lenient enough to hold any draft.
//! - [`validation`]: every problem at once, with field paths and Japanese messages, at draft or
//!   submission level.
//! - [`indicators`]: 労働生産性 and growth or reduction rates in exact decimal arithmetic.
//! - [`routing`]: the competent authorities of a plan, with the explanation of every answer.
//! - [`guidelines`]: the 基本方針 and the 21 事業分野別指針 as data.
//! - [`dates`]: 和暦, fiscal years, holidays and business days.
//! - [`status`]: the application status machine.
//! - [`application`]: the application record and every change its lifecycle makes, and the
//!   effects (certificate, mail) each change calls for.
//! - [`corporate_number`]: the 法人番号 check digit.
//! - [`staff`]: staff roles and the authorities each may see.
//! - [`feed`]: the change feed's events and which agency may see each.
//! - [`migration`]: a legacy certification as a migrated, certified application.
//! - [`register`]: 認定台帳, every certification in one shape (public list, gBizINFO, extracts).
//!
//! Tables officials will correct (routing, guidelines, thresholds, rules) are JSON files under
//! `data/`, embedded at build time, each with a version id and a `verified` flag per row.

#![forbid(unsafe_code)]

pub mod application;
pub mod corporate_number;
pub mod dates;
pub mod diff;
pub mod facts;
pub mod feed;
pub mod guidelines;
pub mod indicators;
pub mod jsic;
pub mod migration;
pub mod normalize;
pub mod plan;
pub mod register;
pub mod routing;
pub mod rules;
pub mod staff;
pub mod status;
pub mod tables;
pub mod validation;
