//! Who is signed in on a staff page, and the menu their role opens. Shared by the functions
//! that serve staff pages (review, staff directory), so every staff page names the person and
//! offers the same menu.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use keiryoku_http::{ApiError, StaffSession};
use keiryoku_store::{StaffPermission, StaffRole};

use crate::{PageError, SignedIn};

/// The signed-in staff member of a page. Without a valid session the page answers with the way
/// to log in at the staff provider and come back (a GET) or to the queue (after a post).
pub struct Staff(pub StaffSession);

/// The staff menu of a page: the entries the member's role may open.
pub struct Menu {
    /// href, label, key (the page's `current`)
    pub items: Vec<(&'static str, &'static str, &'static str)>,
}

impl Menu {
    /// Where the member starts: the first entry.
    pub fn home(&self) -> (&'static str, &'static str) {
        self.items
            .first()
            .map_or(("/staff", "職員メニュー"), |(href, label, _)| {
                (*href, *label)
            })
    }
}

impl Staff {
    pub fn role(&self) -> &StaffRole {
        &self.0.member.role
    }

    /// The menu of the member's role.
    pub fn menu(&self) -> Menu {
        let role = self.role();
        let mut items = Vec::new();
        if role.may(StaffPermission::Decide) {
            items.push(("/staff", "審査キュー", "queue"));
        }
        if role.may(StaffPermission::Read) {
            items.push(("/staff/cases", "案件の検索", "search"));
            items.push(("/staff/statistics", "審査の統計", "statistics"));
        }
        if role.may(StaffPermission::Administer) {
            items.push(("/staff/directory", "職員名簿", "directory"));
            items.push(("/staff/notices", "お知らせ", "notices"));
        }
        if role.may(StaffPermission::Audit) {
            items.push(("/staff/audit", "閲覧・変更の記録", "audit"));
        }
        Menu { items }
    }

    /// The header's view: the person, their role and place.
    pub fn header(&self) -> SignedIn {
        let member = &self.0.member;
        let (home, home_label) = self.menu().home();
        SignedIn {
            name: format!("{}／{}", member.name, member.role.describe()),
            csrf: self.0.record.csrf_token.clone(),
            home,
            home_label,
        }
    }
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    keiryoku_store::Sessions: FromRef<S>,
    keiryoku_store::StaffDirectory: FromRef<S>,
    keiryoku_http::Site: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match StaffSession::from_request_parts(parts, state).await {
            Ok(session) => Ok(Staff(session)),
            Err(ApiError::Unauthorized) => Err(PageError::login_needed(
                parts,
                &keiryoku_http::Site::from_ref(state),
                true,
                "/staff",
            )),
            Err(other) => Err(other.into()),
        }
    }
}
