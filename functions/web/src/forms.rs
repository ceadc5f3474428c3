//! What a page request brings: the signed-in applicant (or the way to log in and come back).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use keiryoku_http::{ApiError, ApplicantSession};
use keiryoku_store::Sessions;
use keiryoku_web::{PageError, SignedIn};

/// The signed-in applicant of a page. Without a valid session the page answers with the way to
/// log in and come back to the page (a GET) or to my page (after a post).
pub struct Signed(pub ApplicantSession);

impl Signed {
    /// The header's view of who is signed in.
    pub fn header(&self) -> SignedIn {
        SignedIn {
            name: self.0.record.company_name.clone(),
            csrf: self.0.record.csrf_token.clone(),
            home: "/mypage",
            home_label: "マイページ",
        }
    }
}

impl<S> FromRequestParts<S> for Signed
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    keiryoku_http::Site: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match ApplicantSession::from_request_parts(parts, state).await {
            Ok(session) => Ok(Signed(session)),
            Err(ApiError::Unauthorized) => Err(PageError::login_needed(
                parts,
                &keiryoku_http::Site::from_ref(state),
                false,
                "/mypage",
            )),
            Err(other) => Err(other.into()),
        }
    }
}

pub use keiryoku_web::Form;
