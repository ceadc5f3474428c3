//! お知らせ as every page shows them (published now, for this function's audience; see
//! [`keiryoku_http::notices`]).

use keiryoku_store::NoticeKind;

/// A notice as a page shows it.
#[derive(Debug, Clone)]
pub struct NoticeView {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    /// `warning` for maintenance, `info` otherwise (the notification's look).
    pub style: &'static str,
}

/// The notices published now.
pub fn shown() -> Vec<NoticeView> {
    keiryoku_http::notices::published()
        .into_iter()
        .map(|n| NoticeView {
            kind: n.kind.label(),
            style: if n.kind == NoticeKind::Maintenance {
                "warning"
            } else {
                "info"
            },
            title: n.title,
            body: n.body,
        })
        .collect()
}
