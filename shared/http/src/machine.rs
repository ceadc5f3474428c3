//! The machine caller of an export route: the OAuth client the HTTP API's JWT authorizer let
//! through, as API Gateway hands it over (`requestContext.authorizer.jwt`). The authorizer has
//! already checked the token's signature, issuer, audience, expiry and the route's scopes; a
//! request without that context never came through it and is refused.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::ApiError;

/// The client a token was issued to, and the scopes it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineCaller {
    /// The token's `client_id` (Cognito and the dev provider both carry it).
    pub client_id: String,
    pub scopes: Vec<String>,
}

impl MachineCaller {
    /// Whether the token carries `scope` (the authorizer checked the route's; a handler serving
    /// several kinds of data checks again for the one it serves).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MachineCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let jwt = parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
            .and_then(|c| match c {
                lambda_http::request::RequestContext::ApiGatewayV2(v2) => v2.authorizer.as_ref(),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .and_then(|a| a.jwt.as_ref())
            .ok_or(ApiError::Unauthorized)?;
        let client_id = jwt
            .claims
            .get("client_id")
            .filter(|id| !id.is_empty())
            .ok_or(ApiError::Unauthorized)?
            .clone();
        let scopes = match &jwt.scopes {
            Some(scopes) => scopes.clone(),
            None => jwt
                .claims
                .get("scope")
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
        };
        Ok(MachineCaller { client_id, scopes })
    }
}
