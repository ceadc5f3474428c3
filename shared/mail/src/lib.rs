//! Mail to applicants (通知メール): one Japanese template per event, sent through SESv2.
//!
//! What makes it safe:
//! - The From address and the Subject are fixed per event and carry no applicant input (only
//!   numbers the platform issued), so nothing typed by anyone reaches a mail header.
//! - The recipient is the address on record for the application (the GビズID address of the
//!   account that submitted it), never one taken from the request that triggers the mail.
//! - Values shown in the body are made single-line: CR, LF and every other control character
//!   become spaces, so a company name like `"X\r\nBcc: a@b"` is just text in the body.
//! - SESv2 builds the MIME message from `Simple` content; we never assemble raw headers.
//!
//! ```
//! use keiryoku_mail::{Event, Facts, compose};
//! let facts = Facts {
//!     company_name: "株式会社\r\nBcc: evil@example.com".into(),
//!     receipt_number: "R2026-000001".into(),
//!     ..Facts::default()
//! };
//! let mail = compose(Event::Received, &facts, "https://keiryoku.example.go.jp");
//! assert!(!mail.subject.contains('\n') && !mail.subject.contains("株式会社"));
//! assert!(mail.body.contains("株式会社 Bcc: evil@example.com"));
//! ```

#![forbid(unsafe_code)]

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

/// What happened to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// 申請を受け付けました.
    Received,
    /// 差戻し.
    Returned,
    /// 認定.
    Certified,
    /// 不認定.
    Rejected,
    /// 取下げ.
    Withdrawn,
}

impl Event {
    /// A stable name (effect keys, logs).
    pub fn name(self) -> &'static str {
        match self {
            Event::Received => "received",
            Event::Returned => "returned",
            Event::Certified => "certified",
            Event::Rejected => "rejected",
            Event::Withdrawn => "withdrawn",
        }
    }
}

/// One comment of a return for correction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comment {
    pub path: String,
    pub message: String,
}

/// The facts a mail may show, all from the stored application.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub application_id: String,
    pub company_name: String,
    pub receipt_number: String,
    /// 受付日時, shown as given (JST text).
    pub received_at: String,
    /// 処理期限.
    pub due_on: String,
    /// The authorities, by name.
    pub authorities: Vec<String>,
    /// 差戻し: the reviewer's message and field comments.
    pub return_message: String,
    pub comments: Vec<Comment>,
    /// 認定.
    pub certification_number: String,
    pub certified_on: String,
    /// 不認定の理由.
    pub rejection_reason: String,
}

/// A composed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// One line of text: control characters (CR, LF, tab, …) become spaces, runs of spaces one.
pub fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split(' ')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A paragraph: line breaks kept as LF, every other control character removed.
fn paragraph(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect()
}

const SIGNATURE: &str =
    "\n――\n経営力向上計画 電子申請（このメールは送信専用です。返信には回答できません。）\n";

/// The subject and body of the mail for `event`. The subject is fixed text plus numbers the
/// platform issued.
pub fn compose(event: Event, facts: &Facts, public_base_url: &str) -> Mail {
    let company = single_line(&facts.company_name);
    let case_url = format!(
        "{public_base_url}/plans/{}",
        single_line(&facts.application_id)
    );
    let receipt = single_line(&facts.receipt_number);
    let authorities = facts
        .authorities
        .iter()
        .map(|a| single_line(a))
        .collect::<Vec<_>>()
        .join("、");
    let (subject, lines) = match event {
        Event::Received => (
            format!("【経営力向上計画】申請を受け付けました（受付番号 {receipt}）"),
            format!(
                "{company} 御中\n\n経営力向上計画の申請を受け付けました。\n\n受付番号: {receipt}\n受付日時: {}\n提出先: {authorities}\n標準処理期間の期限: {}\n\n審査の状況は次のページで確認できます。\n{case_url}\n",
                single_line(&facts.received_at),
                single_line(&facts.due_on),
            ),
        ),
        Event::Returned => {
            let comments: String = facts
                .comments
                .iter()
                .map(|c| format!("・{}: {}\n", single_line(&c.path), single_line(&c.message)))
                .collect();
            (
                format!("【経営力向上計画】申請の修正をお願いします（受付番号 {receipt}）"),
                format!(
                    "{company} 御中\n\n審査担当から申請の修正の依頼がありました。内容を修正し、再度申請してください。\n\n受付番号: {receipt}\n\n{}\n\n項目ごとのコメント:\n{comments}\n申請内容は次のページで修正できます。\n{case_url}\n",
                    paragraph(&facts.return_message),
                ),
            )
        }
        Event::Certified => (
            format!("【経営力向上計画】計画が認定されました（受付番号 {receipt}）"),
            format!(
                "{company} 御中\n\n経営力向上計画が認定されました。\n\n認定番号: {}\n認定日: {}\n認定した行政庁: {authorities}\n\n認定書（PDF）は次のページからダウンロードできます（ログインが必要です）。\n{case_url}\n",
                single_line(&facts.certification_number),
                single_line(&facts.certified_on),
            ),
        ),
        Event::Rejected => (
            format!("【経営力向上計画】審査の結果のお知らせ（受付番号 {receipt}）"),
            format!(
                "{company} 御中\n\n審査の結果、経営力向上計画は認定されませんでした。\n\n受付番号: {receipt}\n理由:\n{}\n\n詳しくは次のページをご覧ください。\n{case_url}\n",
                paragraph(&facts.rejection_reason),
            ),
        ),
        Event::Withdrawn => (
            format!("【経営力向上計画】申請を取り下げました（受付番号 {receipt}）"),
            format!(
                "{company} 御中\n\n経営力向上計画の申請の取下げを受け付けました。\n\n受付番号: {receipt}\n{case_url}\n"
            ),
        ),
    };
    Mail {
        subject: single_line(&subject),
        body: format!("{lines}{SIGNATURE}"),
    }
}

/// What a mail to the reviewers is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent {
    /// 新しい申請.
    NewCase,
    /// 差し戻した申請の再提出.
    Resubmitted,
    /// 取下げ.
    Withdrawn,
}

/// The mail to the reviewers of the competent authorities: what happened, the 受付番号, the due
/// date and the link to the case on the staff pages. The subject is fixed text plus the
/// 受付番号; applicant text stays in the body, on one line.
pub fn compose_staff(event: StaffEvent, facts: &Facts, public_base_url: &str) -> Mail {
    let receipt = single_line(&facts.receipt_number);
    let (what, subject) = match event {
        StaffEvent::NewCase => ("新しい申請が届きました。", "新しい申請"),
        StaffEvent::Resubmitted => (
            "差し戻した申請が再提出されました。差戻し時点からの変更は案件のページで確認できます。",
            "再提出",
        ),
        StaffEvent::Withdrawn => ("申請が取り下げられました。審査は不要です。", "取下げ"),
    };
    let body = format!(
        "審査担当者各位\n\n{what}\n\n受付番号: {receipt}\n申請者: {}\n受付日時: {}\n提出先: {}\n標準処理期間の期限: {}\n\n案件: {public_base_url}/staff/cases/{}\n",
        single_line(&facts.company_name),
        single_line(&facts.received_at),
        facts
            .authorities
            .iter()
            .map(|a| single_line(a))
            .collect::<Vec<_>>()
            .join("、"),
        single_line(&facts.due_on),
        single_line(&facts.application_id),
    );
    Mail {
        subject: single_line(&format!(
            "【経営力向上計画・審査】{subject}（受付番号 {receipt}）"
        )),
        body: format!("{body}{SIGNATURE}"),
    }
}

/// A case in a reviewers' digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCase {
    pub application_id: String,
    pub receipt_number: String,
    pub company_name: String,
    /// 処理期限 (YYYY-MM-DD).
    pub due_on: String,
    /// Past its due date (otherwise due within 3 business days).
    pub overdue: bool,
}

/// The most cases a digest lists one by one.
pub const DIGEST_LISTED: usize = 100;

/// The daily digest to the reviewers of one authority: the cases overdue or due within 3
/// business days, earliest due date first, each with its link.
pub fn compose_digest(
    office: &str,
    day: &str,
    cases: &[DigestCase],
    public_base_url: &str,
) -> Mail {
    let overdue = cases.iter().filter(|c| c.overdue).count();
    let mut body = format!(
        "審査担当者各位\n\n{}で処理期限を過ぎた案件が{overdue}件、3営業日以内に期限を迎える案件が{}件あります（{}時点）。\n\n",
        single_line(office),
        cases.len() - overdue,
        single_line(day),
    );
    for case in cases.iter().take(DIGEST_LISTED) {
        body.push_str(&format!(
            "・{}{} 受付番号 {} {}\n  {public_base_url}/staff/cases/{}\n",
            if case.overdue {
                "【期限超過】"
            } else {
                ""
            },
            single_line(&case.due_on),
            single_line(&case.receipt_number),
            single_line(&case.company_name),
            single_line(&case.application_id),
        ));
    }
    if cases.len() > DIGEST_LISTED {
        body.push_str(&format!(
            "ほか{}件は審査キューで確認してください。\n",
            cases.len() - DIGEST_LISTED
        ));
    }
    body.push_str(&format!("\n審査キュー: {public_base_url}/staff\n"));
    Mail {
        subject: single_line(&format!(
            "【経営力向上計画・審査】期限が近い案件 {}件（{}）",
            cases.len(),
            single_line(day)
        )),
        body: format!("{body}{SIGNATURE}"),
    }
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("recipient address unusable")]
    BadRecipient,
    #[error("SES refused or was unreachable: {0}")]
    Ses(String),
}

/// One plain address: no display name, no list, nothing a header could be made of. The staff
/// directory accepts only such addresses, and the senders check them again.
pub fn plain_address(to: &str) -> bool {
    to.len() <= 254
        && to.matches('@').count() == 1
        && !to.starts_with('@')
        && !to.ends_with('@')
        && to
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ',' | ';' | '<' | '>' | '"' | '(' | ')'))
}

/// Sends mail through SESv2 from a fixed address, with a configuration set.
#[derive(Clone)]
pub struct Mailer {
    /// The configuration the SES client is made from when the first mail goes out: making a
    /// service client parses the SDK's endpoint rules, which a cold start that sends no mail
    /// (an empty batch, an audit copy) need not pay for.
    config: aws_config::SdkConfig,
    ses: std::sync::Arc<std::sync::OnceLock<aws_sdk_sesv2::Client>>,
    from: String,
    configuration_set: Option<String>,
}

impl Mailer {
    pub fn new(
        config: &aws_config::SdkConfig,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Mailer {
        Mailer {
            config: config.clone(),
            ses: Default::default(),
            from: from.into(),
            configuration_set: configuration_set.filter(|c| !c.is_empty()),
        }
    }

    /// Sends `mail` to one recipient; returns SES's message id.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<String, MailError> {
        self.send_to_all(&[to.to_string()], mail).await
    }

    /// Sends one `mail` to every address of `to` (at most 50, SES's limit), as one message:
    /// one send, so a retry never mails some of them twice.
    pub async fn send_to_all(&self, to: &[String], mail: &Mail) -> Result<String, MailError> {
        if to.is_empty() || to.len() > 50 || !to.iter().all(|a| plain_address(a)) {
            return Err(MailError::BadRecipient);
        }
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| MailError::Ses(e.to_string()))
        };
        let message = Message::builder()
            .subject(text(&mail.subject)?)
            .body(Body::builder().text(text(&mail.body)?).build())
            .build();
        let out = self
            .ses
            .get_or_init(|| aws_sdk_sesv2::Client::new(&self.config))
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(to.to_vec()))
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| {
                MailError::Ses(format!("{}", aws_sdk_sesv2::error::DisplayErrorContext(e)))
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            application_id: "0190-abc".into(),
            company_name: "株式会社霞が関精機".into(),
            receipt_number: "R2026-000007".into(),
            received_at: "2026-11-26 10:00".into(),
            due_on: "2026-12-16".into(),
            authorities: vec!["関東経済産業局".into()],
            return_message: "課題を\r\n具体的に。".into(),
            comments: vec![Comment {
                path: "/plan/current_state/challenges".into(),
                message: "原因も\n記載".into(),
            }],
            certification_number: "関東経産第2026-00001号".into(),
            certified_on: "令和8年11月26日".into(),
            rejection_reason: "要件不備".into(),
        }
    }

    #[test]
    fn every_event_has_a_fixed_single_line_subject_without_applicant_text() {
        for event in [
            Event::Received,
            Event::Returned,
            Event::Certified,
            Event::Rejected,
            Event::Withdrawn,
        ] {
            let mail = compose(event, &facts(), "https://example.go.jp");
            assert!(mail.subject.starts_with("【経営力向上計画】"), "{event:?}");
            assert!(!mail.subject.contains("霞が関"), "{event:?}");
            assert!(!mail.subject.chars().any(char::is_control), "{event:?}");
            assert!(mail.body.contains("株式会社霞が関精機 御中"), "{event:?}");
            // The link opens the application's page (a browser, not the JSON API).
            assert!(
                mail.body.contains("https://example.go.jp/plans/"),
                "{event:?}"
            );
            assert!(!mail.body.contains('\r'), "{event:?}");
        }
    }

    #[test]
    fn reviewers_get_a_fixed_subject_and_a_link_to_the_staff_case_page() {
        for event in [
            StaffEvent::NewCase,
            StaffEvent::Resubmitted,
            StaffEvent::Withdrawn,
        ] {
            let mut f = facts();
            f.company_name = "悪意\r\nBcc: x@example.com".into();
            let mail = compose_staff(event, &f, "https://example.go.jp");
            assert!(
                mail.subject.starts_with("【経営力向上計画・審査】"),
                "{event:?}"
            );
            assert!(
                mail.subject.ends_with("（受付番号 R2026-000007）"),
                "{event:?}"
            );
            assert!(
                mail.body
                    .contains("https://example.go.jp/staff/cases/0190-abc")
            );
            assert!(mail.body.contains("申請者: 悪意 Bcc: x@example.com\n"));
        }
    }

    #[test]
    fn addresses_that_could_make_headers_are_refused() {
        assert!(plain_address("shinsa1@kanto-meti.example.go.jp"));
        for bad in ["a@b,c@d", "Name <a@b>", "a@b\r\nBcc: c@d", "@b", "a@"] {
            assert!(!plain_address(bad), "{bad}");
        }
    }

    #[test]
    fn returned_mail_lists_the_comments_by_field() {
        let mail = compose(Event::Returned, &facts(), "https://example.go.jp");
        assert!(
            mail.body
                .contains("・/plan/current_state/challenges: 原因も 記載")
        );
        assert!(mail.body.contains("課題を\n具体的に。"));
    }

    #[test]
    fn injected_headers_stay_in_the_body_on_one_line() {
        let mut f = facts();
        f.company_name = "悪意\r\nBcc: victim@example.com\r\nSubject: x".into();
        let mail = compose(Event::Certified, &f, "https://example.go.jp");
        assert!(
            mail.body
                .starts_with("悪意 Bcc: victim@example.com Subject: x 御中")
        );
        assert_eq!(
            mail.subject,
            "【経営力向上計画】計画が認定されました（受付番号 R2026-000007）"
        );
    }
}
