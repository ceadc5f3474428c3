use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keiryoku_auth::OidcError;
use keiryoku_store::StoreError;
use serde::Serialize;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One problem with one field of a request body.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON Pointer to the field (`/plan/company/name`).
    pub path: String,
    /// A stable machine code (`required`, `too_long`…).
    pub code: String,
    /// What the applicant should do, in Japanese.
    pub message: String,
}

/// Every error a handler can answer with. `IntoResponse` is the only place an error becomes an
/// HTTP status: handlers return `Result<_, ApiError>` and convert their own errors with `From`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not logged in")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// A certificate id that names no certificate (public verification).
    #[error("unknown certificate")]
    UnknownCertificate,
    /// No certification of the register has the 法人番号, 認定番号 and 認定日 asked about
    /// (public verification by the printed facts).
    #[error("unknown certification")]
    UnknownCertification,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    #[error("login failed: {0}")]
    LoginFailed(String),
    /// `If-Match` names a version that is no longer current (RFC 9110 §13.1.1).
    #[error("precondition failed")]
    PreconditionFailed,
    /// A write that must say which version it changes came without `If-Match`.
    #[error("precondition required")]
    PreconditionRequired,
    /// The resource is in a state that does not allow the request.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("upstream unavailable: {0}")]
    Unavailable(String),
    /// Writes are refused during an announced maintenance window; reads go on.
    #[error("maintenance until {until}")]
    Maintenance {
        /// When it ends, as people read it (日本時間).
        until: String,
        /// Seconds until it ends (`Retry-After`).
        retry_after: u64,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

/// RFC 9457 problem details: how every error of every route is answered
/// (`application/problem+json`, Japanese `title` and `detail`, `errors` per field).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    /// The HTTP status, title and detail a person is shown (a page renders the same words).
    pub fn describe(&self) -> (StatusCode, &'static str, String) {
        let (status, _, title, detail) = self.parts();
        (status, title, detail)
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "ログインが必要です",
                "ログインしていないか、ログインの有効期限が切れています。もう一度ログインしてください。".into(),
            ),
            ApiError::Forbidden(detail) => (StatusCode::FORBIDDEN, "forbidden", "この操作は許可されていません", detail.clone()),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "見つかりません",
                "指定されたページまたはデータは存在しないか、閲覧する権限がありません。".into(),
            ),
            ApiError::UnknownCertificate => (
                StatusCode::NOT_FOUND,
                "unknown-certificate",
                "認定書が見つかりません",
                "この確認IDの認定書はありません。認定書に印刷された確認IDまたはQRコードを確認してください。".into(),
            ),
            ApiError::UnknownCertification => (
                StatusCode::NOT_FOUND,
                "unknown-certification",
                "該当する認定が見つかりません",
                "この法人番号・認定番号・認定日の組み合わせの認定はありません。認定書の記載と照らして、入力を確認してください。".into(),
            ),
            ApiError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "この方法では操作できません",
                format!("このURLで使える方法は {} です。", allow.join(", ")),
            ),
            ApiError::BadRequest(detail) => (StatusCode::BAD_REQUEST, "bad-request", "リクエストの形式が正しくありません", detail.clone()),
            ApiError::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "送信されたデータが大きすぎます",
                format!("一度に送信できるのは {} KiB までです。", limit / 1024),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "データの形式が正しくありません",
                "Content-Type: application/json で送信してください。".into(),
            ),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "入力内容に誤りがあります",
                format!("{} 件の項目を確認してください。", errors.len()),
            ),
            ApiError::LoginFailed(detail) => (StatusCode::BAD_REQUEST, "login-failed", "ログインできませんでした", detail.clone()),
            ApiError::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "他の操作で内容が更新されています",
                "保存しようとした内容は最新ではありません。最新の内容を読み込み直してから、もう一度保存してください。".into(),
            ),
            ApiError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "更新する版の指定が必要です",
                "If-Match ヘッダーに、読み込んだときの ETag を指定してください。".into(),
            ),
            ApiError::Conflict(detail) => (StatusCode::CONFLICT, "conflict", "この状態では操作できません", detail.clone()),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "ただいま処理できません",
                "関連するシステムに接続できません。入力内容は失われていません。時間をおいて再度お試しください。".into(),
            ),
            ApiError::Maintenance { until, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                "メンテナンス中です",
                format!(
                    "{until}まで、申請の保存・提出と審査の判断はできません（閲覧はできます）。この操作は行われていません。メンテナンスの終了後にもう一度操作してください。"
                ),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "システムエラーが発生しました",
                "時間をおいて再度お試しください。解決しない場合はお問い合わせください。".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title, detail) = self.parts();
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            ApiError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "dependency unavailable")
            }
            ApiError::LoginFailed(cause) => tracing::info!(error = %cause, "login failed"),
            _ => {}
        }
        let errors = match &self {
            ApiError::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        };
        let problem = Problem {
            kind: format!("urn:keiryoku:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let ApiError::MethodNotAllowed { allow } = &self
            && let Ok(value) = HeaderValue::from_str(&allow.join(", "))
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        if let ApiError::Maintenance { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::InvalidCursor => ApiError::BadRequest(
                "cursor の値が正しくありません。一覧の最初から取得し直してください。".into(),
            ),
            // Every conditional write guards a version or an id: losing it means someone else
            // wrote first.
            StoreError::ConditionFailed => ApiError::PreconditionFailed,
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Corrupt(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<keiryoku_lifecycle::UseCaseError> for ApiError {
    fn from(err: keiryoku_lifecycle::UseCaseError) -> ApiError {
        use keiryoku_domain::application::LifecycleError;
        use keiryoku_lifecycle::UseCaseError;
        match err {
            UseCaseError::NotFound => ApiError::NotFound,
            UseCaseError::Refused(LifecycleError::Transition(reason)) => reason.into(),
            UseCaseError::Refused(LifecycleError::Conflict(reason)) => ApiError::Conflict(reason),
            UseCaseError::Refused(LifecycleError::Stale) => ApiError::PreconditionFailed,
            UseCaseError::Refused(LifecycleError::TooLarge { limit }) => {
                ApiError::PayloadTooLarge { limit }
            }
            UseCaseError::Refused(LifecycleError::Invalid(findings)) => ApiError::Validation(
                findings
                    .into_iter()
                    .map(|f| FieldError {
                        path: f.path,
                        code: f.code.to_string(),
                        message: f.message,
                    })
                    .collect(),
            ),
            UseCaseError::KeyReused => ApiError::Validation(vec![FieldError {
                path: "/idempotency-key".into(),
                code: "reused".into(),
                message:
                    "この Idempotency-Key は別の操作で使われています。新しい値を指定してください。"
                        .into(),
            }]),
            UseCaseError::Busy(reason) => ApiError::Unavailable(reason),
            UseCaseError::Store(inner) => inner.into(),
            UseCaseError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<keiryoku_domain::status::TransitionError> for ApiError {
    fn from(err: keiryoku_domain::status::TransitionError) -> ApiError {
        // The status machine's reason is the applicant's or reviewer's answer.
        ApiError::Conflict(err.to_string())
    }
}

impl From<keiryoku_store::CommitError> for ApiError {
    fn from(err: keiryoku_store::CommitError) -> ApiError {
        use keiryoku_store::CommitError;
        match err {
            CommitError::Stale => ApiError::PreconditionFailed,
            CommitError::KeyUsed => ApiError::Conflict(
                "同じ Idempotency-Key の操作が同時に行われました。しばらくしてから同じ値で再送してください。".into(),
            ),
            CommitError::CounterMoved => ApiError::Conflict(
                "番号の割り当てが同時に行われました。もう一度操作してください。".into(),
            ),
            CommitError::AlreadyChanged => {
                ApiError::Conflict(keiryoku_store::ALREADY_CHANGED.into())
            }
            CommitError::Store(inner) => inner.into(),
        }
    }
}

impl From<OidcError> for ApiError {
    fn from(err: OidcError) -> ApiError {
        match err {
            OidcError::Refused(_) | OidcError::InvalidIdToken(_) => ApiError::LoginFailed(
                "GビズIDでの認証を確認できませんでした。もう一度ログインしてください。".into(),
            ),
            OidcError::Provider(cause) => ApiError::Unavailable(cause),
            OidcError::Secret(cause) => ApiError::Internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn problem_of(err: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        (
            status,
            content_type,
            serde_json::from_slice(&bytes).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn errors_are_problem_json_with_japanese_titles() {
        let (status, content_type, body) = problem_of(ApiError::NotFound).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(content_type, PROBLEM_CONTENT_TYPE);
        assert_eq!(body["status"], 404);
        assert_eq!(body["title"], "見つかりません");
        assert_eq!(body["type"], "urn:keiryoku:problem:not-found");
    }

    #[tokio::test]
    async fn validation_lists_every_field() {
        let errors = vec![
            FieldError {
                path: "/a".into(),
                code: "required".into(),
                message: "入力してください".into(),
            },
            FieldError {
                path: "/b".into(),
                code: "too_long".into(),
                message: "長すぎます".into(),
            },
        ];
        let (status, _, body) = problem_of(ApiError::Validation(errors)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][1]["path"], "/b");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let (status, _, body) = problem_of(ApiError::Internal("secret stack detail".into())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("secret stack detail"));
    }

    #[tokio::test]
    async fn method_not_allowed_names_the_allowed_methods() {
        let response = ApiError::MethodNotAllowed {
            allow: vec!["GET".into(), "POST".into()],
        }
        .into_response();
        assert_eq!(
            response
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok()),
            Some("GET, POST")
        );
    }
}
