use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The documented limit of a request body: 256 KiB, well above the largest 様式第1 plan and under
/// DynamoDB's 400 KB item limit.
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// A JSON request body of type `T`. Rejections are problem+json: 413 over the limit, 415 without
/// a JSON content type, 400 for malformed JSON or invalid UTF-8 (serde_json also refuses nesting
/// deeper than 128 levels), 422 for JSON of the wrong shape. An empty body is read as `{}`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let declared_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                // application/json, or any application/*+json (merge-patch+json, problem+json).
                v.parse::<mime::Mime>().is_ok_and(|m| {
                    m.type_() == mime::APPLICATION
                        && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
                })
            });
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge {
                limit: BODY_LIMIT_BYTES,
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse(b"{}");
        }
        if declared_json != Some(true) {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse(&bytes)
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match T::deserialize(&mut deserializer).and_then(|value| deserializer.end().map(|()| value)) {
        Ok(value) => Ok(JsonBody(value)),
        Err(e) if e.is_data() => Err(ApiError::BadRequest(format!(
            "JSONの項目の型が正しくありません（{} 行 {} 列）。",
            e.line(),
            e.column()
        ))),
        Err(e) => Err(ApiError::BadRequest(format!(
            "JSONとして読み取れません（{} 行 {} 列）。文字コードはUTF-8で送信してください。",
            e.line(),
            e.column()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    async fn extract(
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<serde_json::Value, StatusCode> {
        let mut builder = Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let Ok(req) = builder.body(Body::from(body)) else {
            return Err(StatusCode::IM_A_TEAPOT);
        };
        JsonBody::<serde_json::Value>::from_request(req, &())
            .await
            .map(|JsonBody(v)| v)
            .map_err(|e| e.into_response().status())
    }

    #[tokio::test]
    async fn accepts_json_and_treats_empty_as_object() {
        assert_eq!(
            extract(
                Some("application/json; charset=utf-8"),
                b"{\"a\":1}".to_vec()
            )
            .await,
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(extract(None, Vec::new()).await, Ok(serde_json::json!({})));
    }

    #[tokio::test]
    async fn refuses_bad_bodies_with_4xx() {
        let json = Some("application/json");
        assert_eq!(
            extract(json, b"{\"a\":".to_vec()).await,
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            extract(json, vec![b'"', 0xff, 0xfe, b'"']).await,
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            extract(json, b"{} trailing".to_vec()).await,
            Err(StatusCode::BAD_REQUEST)
        );
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            extract(json, deep.into_bytes()).await,
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            extract(Some("text/plain"), b"{}".to_vec()).await,
            Err(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        let huge = format!("{{\"a\":\"{}\"}}", "x".repeat(BODY_LIMIT_BYTES));
        assert_eq!(
            extract(json, huge.into_bytes()).await,
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
    }
}
