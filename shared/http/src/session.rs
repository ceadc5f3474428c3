use axum::extract::{FromRef, FromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use keiryoku_store::{
    SessionRecord, Sessions, StaffDirectory, StaffMember, StaffPermission, StoreError,
};

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
                "この画面は職員用です。職員用のログインからログインしてください。".into(),
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
    /// The staff member as the audit trail names them: the `sub`, the name, and the office or
    /// scope they act for.
    pub fn actor(&self) -> keiryoku_domain::application::Actor {
        let on_behalf_of = match self.member.role.scope() {
            Some(keiryoku_store::Scope::Office(office)) => office.to_string(),
            Some(keiryoku_store::Scope::Network(id) | keiryoku_store::Scope::Ministry(id)) => id,
            Some(keiryoku_store::Scope::National) | None => self.member.role.label().to_string(),
        };
        keiryoku_domain::application::Actor {
            sub: self.member.sub.clone(),
            name: Some(self.member.name.clone()),
            role: keiryoku_domain::status::Role::Reviewer,
            on_behalf_of,
        }
    }

    /// The record of a read by this member, to be written before the data is answered.
    pub fn read(
        &self,
        kind: keiryoku_store::ReadKind,
        application_id: Option<&keiryoku_domain::application::ApplicationId>,
        conditions: Option<&str>,
    ) -> keiryoku_store::StaffRead {
        keiryoku_store::StaffRead {
            at: keiryoku_store::format_rfc3339(time::OffsetDateTime::now_utc()),
            sub: self.member.sub.clone(),
            name: self.member.name.clone(),
            role: self.member.role.describe(),
            kind,
            application_id: application_id.cloned(),
            conditions: conditions.filter(|c| !c.is_empty()).map(str::to_string),
        }
    }

    /// Refuses (403) unless the member's role allows `permission`.
    pub fn require(&self, permission: StaffPermission) -> Result<(), ApiError> {
        if self.member.role.may(permission) {
            return Ok(());
        }
        let what = match permission {
            StaffPermission::Decide => {
                "審査の判断（差戻し・認定・不認定）は審査担当のみが行えます。"
            }
            StaffPermission::Read => "案件の閲覧は審査担当・閲覧・企画課の職員のみが行えます。",
            StaffPermission::Audit => "監査記録の検索は企画課・管理者のみが行えます。",
            StaffPermission::Administer => "職員名簿とお知らせの管理は管理者のみが行えます。",
        };
        Err(ApiError::Forbidden(format!(
            "{what}あなたの役割は「{}」です。",
            self.member.role.describe()
        )))
    }

    /// The authorities whose cases the member reads; 403 for a role that reads none.
    pub fn scope(&self) -> Result<keiryoku_store::Scope, ApiError> {
        self.require(StaffPermission::Read)?;
        self.member
            .role
            .scope()
            .ok_or_else(|| ApiError::Forbidden("案件を閲覧できる役割ではありません。".into()))
    }

    /// The reviewer as the use cases know it: the audit actor and the office from the staff
    /// directory as it is now; 403 for a role that does not decide.
    pub fn reviewer(&self) -> Result<keiryoku_lifecycle::Reviewer, ApiError> {
        self.require(StaffPermission::Decide)?;
        let office = self
            .member
            .role
            .deciding_office()
            .cloned()
            .ok_or_else(|| ApiError::Forbidden("審査担当ではありません。".into()))?;
        Ok(keiryoku_lifecycle::Reviewer {
            actor: self.actor(),
            office,
        })
    }
}
