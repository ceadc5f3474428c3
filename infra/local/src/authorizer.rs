//! The HTTP API's JWT authorizer, as the local gateway runs it: what API Gateway does before a
//! route with `Auth: {Authorizer, AuthorizationScopes}` reaches its function.
//!
//! - no token in the identity source (`Authorization`, with or without `Bearer `): 401;
//! - a token not signed by a key of the issuer's JWKS (RS256), expired, not yet valid, of
//!   another issuer, or whose `aud` (or, without one, `client_id`) is not an audience: 401;
//! - a token carrying none of the route's scopes (`scope` or `scp`): 403;
//! - otherwise the claims and scopes go to the function as `requestContext.authorizer.jwt`.
//!
//! The issuer's keys come from its discovery document and are fetched again when a token names
//! a key id not yet seen (the dev provider makes a new key on every start).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::sync::RwLock;

/// Why a request does not reach the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// 403 `{"message":"Forbidden"}`.
    Forbidden,
}

/// One JWT authorizer of the template, with its issuer's keys.
pub struct JwtAuthorizer {
    issuer: String,
    audiences: Vec<String>,
    http: reqwest::Client,
    keys: RwLock<JwkSet>,
    /// When the keys were last fetched: an unknown `kid` fetches them again at most every
    /// [`REFRESH_AFTER`], so junk tokens cannot make the gateway hammer the issuer.
    fetched: tokio::sync::Mutex<Option<std::time::Instant>>,
}

const REFRESH_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// A route's use of an authorizer.
#[derive(Clone)]
pub struct RouteGuard {
    pub authorizer: Arc<JwtAuthorizer>,
    pub scopes: Vec<String>,
}

impl JwtAuthorizer {
    pub fn new(issuer: String, audiences: Vec<String>) -> JwtAuthorizer {
        JwtAuthorizer {
            issuer,
            audiences,
            http: reqwest::Client::new(),
            keys: RwLock::new(JwkSet { keys: Vec::new() }),
            fetched: tokio::sync::Mutex::new(None),
        }
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    async fn refresh(&self) -> Result<(), String> {
        let discovery: Value = self
            .get_json(&format!(
                "{}/.well-known/openid-configuration",
                self.issuer.trim_end_matches('/')
            ))
            .await?;
        let uri = discovery["jwks_uri"]
            .as_str()
            .ok_or("discovery without jwks_uri")?;
        *self.keys.write().await = self.get_json::<JwkSet>(uri).await?;
        Ok(())
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        let find = |set: &JwkSet| {
            set.find(kid)
                .and_then(|jwk| DecodingKey::from_jwk(jwk).ok())
        };
        if let Some(key) = find(&*self.keys.read().await) {
            return Some(key);
        }
        {
            let mut fetched = self.fetched.lock().await;
            // Another request may have fetched the keys while this one waited for the lock: a
            // token that arrived together with the first ones is not refused for that.
            if let Some(key) = find(&*self.keys.read().await) {
                return Some(key);
            }
            if fetched.is_some_and(|at| at.elapsed() < REFRESH_AFTER) {
                return None;
            }
            *fetched = Some(std::time::Instant::now());
            if let Err(e) = self.refresh().await {
                eprintln!("gateway: JWKS of {} unavailable: {e}", self.issuer);
                return None;
            }
        }
        find(&*self.keys.read().await)
    }
}

impl RouteGuard {
    /// The `requestContext.authorizer` of an admitted request, or why it is refused.
    pub async fn admit(&self, headers: &HeaderMap) -> Result<Value, Refusal> {
        let token = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Unauthorized)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Unauthorized)?;
        if header.alg != Algorithm::RS256 {
            return Err(Refusal::Unauthorized);
        }
        let kid = header.kid.ok_or(Refusal::Unauthorized)?;
        let key = self
            .authorizer
            .key(&kid)
            .await
            .ok_or(Refusal::Unauthorized)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.authorizer.issuer]);
        // API Gateway allows no clock skew; neither do we.
        validation.leeway = 0;
        validation.validate_nbf = true;
        // The audience rule is API Gateway's (aud, or client_id without one): checked below.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = jsonwebtoken::decode::<BTreeMap<String, Value>>(token, &key, &validation)
            .map_err(|_| Refusal::Unauthorized)?
            .claims;
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            // An `aud` of another type is refused, never replaced by `client_id`.
            Some(_) => Vec::new(),
            None => claims
                .get("client_id")
                .and_then(Value::as_str)
                .into_iter()
                .collect(),
        };
        if !audiences
            .iter()
            .any(|a| self.authorizer.audiences.iter().any(|ours| ours == a))
        {
            return Err(Refusal::Unauthorized);
        }
        let scopes: Vec<String> = match (claims.get("scope"), claims.get("scp")) {
            (Some(Value::String(scope)), _) => {
                scope.split_whitespace().map(str::to_string).collect()
            }
            (_, Some(Value::Array(scp))) => scp
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        if !self.scopes.is_empty() && !self.scopes.iter().any(|s| scopes.contains(s)) {
            return Err(Refusal::Forbidden);
        }
        // API Gateway hands every claim over as a string.
        let claims: BTreeMap<String, String> = claims
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        Ok(json!({ "jwt": { "claims": claims, "scopes": scopes } }))
    }
}
