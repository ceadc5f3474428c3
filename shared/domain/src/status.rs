//! The application status machine (docs/product.md §4): which role may make which transition, and
//! why not when it may not.
//!
//! `draft → submitted → (returned → submitted)* → certified | rejected`;
//! `draft | submitted | returned → withdrawn`; `draft → finalised_for_paper` for authorities
//! without e-filing, `finalised_for_paper → certified` when a reviewer records the certification
//! issued on paper.

use serde::{Deserialize, Serialize};

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 作成中.
    Draft,
    /// 申請中 (received, under review).
    Submitted,
    /// 差戻し: returned for correction.
    Returned,
    /// 認定.
    Certified,
    /// 不認定.
    Rejected,
    /// 取下げ.
    Withdrawn,
    /// 紙申請用に確定: the applicant prints and posts it.
    FinalisedForPaper,
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Applicant,
    Reviewer,
}

/// What is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    FinaliseForPaper,
    Withdraw,
    Return,
    Approve,
    Reject,
    /// 紙申請の認定を登録: the certification an authority issued on paper, recorded here.
    RecordPaperCertification,
}

pub const ALL_STATUSES: [Status; 7] = [
    Status::Draft,
    Status::Submitted,
    Status::Returned,
    Status::Certified,
    Status::Rejected,
    Status::Withdrawn,
    Status::FinalisedForPaper,
];
pub const ALL_ACTIONS: [Action; 7] = [
    Action::Submit,
    Action::FinaliseForPaper,
    Action::Withdraw,
    Action::Return,
    Action::Approve,
    Action::Reject,
    Action::RecordPaperCertification,
];
pub const ALL_ROLES: [Role; 2] = [Role::Applicant, Role::Reviewer];

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// This role never takes this action.
    #[error("{0}")]
    NotYourAction(String),
    /// The action is not possible from the current status.
    #[error("{0}")]
    WrongStatus(String),
}

impl Status {
    /// The stored name (`draft`, `submitted`, … as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Certified => "certified",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
            Status::FinalisedForPaper => "finalised_for_paper",
        }
    }

    /// The status of a stored name, `None` for anything else.
    ///
    /// ```
    /// use keiryoku_domain::status::Status;
    /// assert_eq!(Status::parse("returned"), Some(Status::Returned));
    /// assert_eq!(Status::parse("Returned"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Status> {
        ALL_STATUSES.into_iter().find(|s| s.as_str() == name)
    }

    /// 日本語の表示名.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "作成中",
            Status::Submitted => "申請中",
            Status::Returned => "差戻し",
            Status::Certified => "認定",
            Status::Rejected => "不認定",
            Status::Withdrawn => "取下げ",
            Status::FinalisedForPaper => "紙申請用に確定",
        }
    }

    /// Whether nothing more can happen (a plan finalised for paper still waits for the
    /// certification its authority records).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Certified | Status::Rejected | Status::Withdrawn
        )
    }
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Submit => "申請",
            Action::FinaliseForPaper => "紙申請用に確定",
            Action::Withdraw => "取下げ",
            Action::Return => "差戻し",
            Action::Approve => "認定",
            Action::Reject => "不認定",
            Action::RecordPaperCertification => "紙申請の認定を登録",
        }
    }

    /// The role that takes this action.
    pub fn role(self) -> Role {
        match self {
            Action::Submit | Action::FinaliseForPaper | Action::Withdraw => Role::Applicant,
            Action::Return
            | Action::Approve
            | Action::Reject
            | Action::RecordPaperCertification => Role::Reviewer,
        }
    }
}

/// The status after `action` by `role` from `from`, or why it is refused.
///
/// ```
/// use keiryoku_domain::status::{transition, Action, Role, Status};
/// assert_eq!(transition(Status::Draft, Action::Submit, Role::Applicant), Ok(Status::Submitted));
/// assert!(transition(Status::Draft, Action::Approve, Role::Reviewer).is_err());
/// ```
pub fn transition(from: Status, action: Action, role: Role) -> Result<Status, TransitionError> {
    if action.role() != role {
        return Err(TransitionError::NotYourAction(match role {
            Role::Applicant => format!("「{}」は審査担当者の操作です。", action.label()),
            Role::Reviewer => format!("「{}」は申請者の操作です。", action.label()),
        }));
    }
    let to = match (from, action) {
        (Status::Draft | Status::Returned, Action::Submit) => Status::Submitted,
        (Status::Draft, Action::FinaliseForPaper) => Status::FinalisedForPaper,
        (Status::Draft | Status::Submitted | Status::Returned, Action::Withdraw) => {
            Status::Withdrawn
        }
        (Status::Submitted, Action::Return) => Status::Returned,
        (Status::Submitted, Action::Approve) => Status::Certified,
        (Status::Submitted, Action::Reject) => Status::Rejected,
        (Status::FinalisedForPaper, Action::RecordPaperCertification) => Status::Certified,
        _ => {
            return Err(TransitionError::WrongStatus(format!(
                "「{}」の申請は「{}」できません。",
                from.label(),
                action.label()
            )));
        }
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_serialised_names() {
        for status in ALL_STATUSES {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::String(status.as_str().into()))
            );
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
    }

    /// The whole table: (from, action) → to, for the role that owns the action.
    const ALLOWED: [(Status, Action, Status); 10] = [
        (Status::Draft, Action::Submit, Status::Submitted),
        (Status::Returned, Action::Submit, Status::Submitted),
        (
            Status::Draft,
            Action::FinaliseForPaper,
            Status::FinalisedForPaper,
        ),
        (Status::Draft, Action::Withdraw, Status::Withdrawn),
        (Status::Submitted, Action::Withdraw, Status::Withdrawn),
        (Status::Returned, Action::Withdraw, Status::Withdrawn),
        (Status::Submitted, Action::Return, Status::Returned),
        (Status::Submitted, Action::Approve, Status::Certified),
        (Status::Submitted, Action::Reject, Status::Rejected),
        (
            Status::FinalisedForPaper,
            Action::RecordPaperCertification,
            Status::Certified,
        ),
    ];

    #[test]
    fn every_transition_is_allowed_or_refused_per_role() {
        for from in ALL_STATUSES {
            for action in ALL_ACTIONS {
                for role in ALL_ROLES {
                    let expected = ALLOWED
                        .iter()
                        .find(|(f, a, _)| *f == from && *a == action)
                        .filter(|_| action.role() == role)
                        .map(|(_, _, to)| *to);
                    let got = transition(from, action, role);
                    assert_eq!(
                        got.as_ref().ok().copied(),
                        expected,
                        "{from:?} --{action:?}/{role:?}"
                    );
                    if let Err(reason) = got {
                        assert!(
                            !reason.to_string().is_empty() && !reason.to_string().is_ascii(),
                            "a Japanese reason"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn final_statuses_allow_nothing() {
        for from in ALL_STATUSES.into_iter().filter(|s| s.is_final()) {
            for action in ALL_ACTIONS {
                assert!(
                    transition(from, action, action.role()).is_err(),
                    "{from:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn the_wrong_role_is_told_whose_action_it_is() {
        assert_eq!(
            transition(Status::Submitted, Action::Approve, Role::Applicant),
            Err(TransitionError::NotYourAction(
                "「認定」は審査担当者の操作です。".into()
            ))
        );
    }
}
