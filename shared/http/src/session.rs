use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use keiryoku_store::{SessionRecord, Sessions, StaffDirectory, StaffMember, StoreError};

use crate::site::constant_time_eq;
use crate::{ApiError, CSRF_COOKIE, SESSION_COOKIE};

/// Whoever is logged in, applicant or staff. Extracting it answers 401 when the session cookie
/// is missing, unknown, revoked or expired; for a state-changing request it also checks that the
/// CSRF cookie is the one issued with this session (403 otherwise).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    /// The session token from the cookie (needed to revoke it at logout).
    pub token: String,
    pub record: SessionRecord,
}

impl<S> FromRequestParts<S> for CurrentSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    crate::Site: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let site = crate::Site::from_ref(state);
        let token = site
            .read_cookie(&parts.headers, SESSION_COOKIE)
            .ok_or(ApiError::Unauthorized)?;
        // Tokens we issue are 43 base64url characters; anything else cannot be a session.
        if token.len() > 128 {
            return Err(ApiError::Unauthorized);
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sessions = Sessions::from_ref(state);
        let record = match sessions.get(&token, now).await {
            Ok(record) => record,
            Err(StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(other) => return Err(other.into()),
        };
        // The idle timeout slides with use; written at most once a minute.
        let renew_after = if record.idle_seconds > 0 {
            keiryoku_store::RENEW_AFTER_SECONDS.min(record.idle_seconds / 2)
        } else {
            keiryoku_store::RENEW_AFTER_SECONDS
        };
        if now - record.last_seen_at >= renew_after
            && let Err(e) = sessions.touch(&token, now).await
        {
            tracing::warn!(error = %e, "session use not recorded");
        }
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            let cookie = site
                .read_cookie(&parts.headers, CSRF_COOKIE)
                .unwrap_or_default();
            if !constant_time_eq(cookie.as_bytes(), record.csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden(
                    "CSRFトークンがこのログインのものではありません。画面を再読み込みしてください。".into(),
                ));
            }
        }
        Ok(CurrentSession { token, record })
    }
}

/// A logged-in applicant (GビズID). A staff session gets 403: staff never act for a company.
#[derive(Debug, Clone)]
pub struct ApplicantSession {
    pub token: String,
    pub record: SessionRecord,
}

impl<S> FromRequestParts<S> for ApplicantSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    crate::Site: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentSession { token, record } =
            CurrentSession::from_request_parts(parts, state).await?;
        if record.staff.is_some() || record.company_id.is_empty() {
            return Err(ApiError::Forbidden(
                "職員のログインでは申請者の操作はできません。申請者はGビズIDでログインしてください。"
                    .into(),
            ));
        }
        Ok(ApplicantSession { token, record })
    }
}

/// A logged-in staff member whose directory entry is still active: the authority and role come
/// from the directory as it is now, not as it was at login. An applicant session gets 403.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub token: String,
    pub record: SessionRecord,
    pub member: StaffMember,
}

impl<S> FromRequestParts<S> for StaffSession
where
    S: Send + Sync,
    Sessions: FromRef<S>,
    StaffDirectory: FromRef<S>,
    crate::Site: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentSession { token, record } =
            CurrentSession::from_request_parts(parts, state).await?;
        let Some(staff) = &record.staff else {
            return Err(ApiError::Forbidden(
                "この画面は審査担当の職員用です。職員用のログインからログインしてください。".into(),
            ));
        };
        let member = match StaffDirectory::from_ref(state).active(&staff.sub).await {
            Ok(member) => member,
            Err(StoreError::NotFound) => {
                return Err(ApiError::Forbidden(
                    "職員名簿に有効な登録がありません。管理者に確認してください。".into(),
                ));
            }
            Err(other) => return Err(other.into()),
        };
        Ok(StaffSession {
            token,
            record,
            member,
        })
    }
}

impl ApplicantSession {
    /// The applicant as the use cases know it: the company, the audit actor, the identity
    /// GビズID vouches for (from the UserInfo claims kept in the session) and the mail address.
    pub fn applicant(&self) -> keiryoku_lifecycle::Applicant {
        use keiryoku_domain::application::{Actor, CompanyId, VerifiedIdentity};
        let r = &self.record;
        // 法人区分 "1" is a corporation: its 法人番号 is the registry's. A sole proprietor's
        // number from GビズID may be an internal one and is never put on a plan.
        let corporation = r.corp_type == "1";
        keiryoku_lifecycle::Applicant {
            company_id: CompanyId::from(r.company_id.as_str()),
            actor: Actor {
                sub: r.sub.clone(),
                name: r.user_name.clone(),
                role: keiryoku_domain::status::Role::Applicant,
                on_behalf_of: r.company_id.clone(),
            },
            identity: VerifiedIdentity {
                corporation,
                name: r.company_name.clone(),
                corporate_number: r.corporate_number.clone().filter(|_| corporation),
                representative_name: r.representative_name.clone(),
                account: r.sub.clone(),
            },
            email: r.email.clone(),
        }
    }
}

impl StaffSession {
    /// The reviewer as the use cases know it: the audit actor and the office from the staff
    /// directory as it is now.
    pub fn reviewer(&self) -> keiryoku_lifecycle::Reviewer {
        use keiryoku_domain::application::{Actor, OfficeId};
        keiryoku_lifecycle::Reviewer {
            actor: Actor {
                sub: self.member.sub.clone(),
                name: Some(self.member.name.clone()),
                role: keiryoku_domain::status::Role::Reviewer,
                on_behalf_of: self.member.office_id.clone(),
            },
            office: OfficeId::from(self.member.office_id.as_str()),
        }
    }
}
