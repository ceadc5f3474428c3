use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Where a request came from, as API Gateway saw it (for download and verification logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub source_ip: String,
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let context = parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
            .and_then(|c| match c {
                lambda_http::request::RequestContext::ApiGatewayV2(v2) => Some(&v2.http),
                #[allow(unreachable_patterns)]
                _ => None,
            });
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let clean = |value: String| -> String {
            value
                .chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect()
        };
        Ok(ClientInfo {
            source_ip: clean(
                context
                    .and_then(|h| h.source_ip.clone())
                    .or_else(|| header("x-forwarded-for"))
                    .unwrap_or_default(),
            ),
            user_agent: clean(
                context
                    .and_then(|h| h.user_agent.clone())
                    .or_else(|| header("user-agent"))
                    .unwrap_or_default(),
            ),
        })
    }
}

impl From<ClientInfo> for keiryoku_lifecycle::Visitor {
    fn from(client: ClientInfo) -> keiryoku_lifecycle::Visitor {
        keiryoku_lifecycle::Visitor {
            source_ip: client.source_ip,
            user_agent: client.user_agent,
        }
    }
}
