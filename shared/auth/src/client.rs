use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{OnceCell, RwLock};
use url::Url;

use crate::{ClientSecret, GbizUserInfo};

/// Why a login could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered something we cannot use.
    #[error("identity provider unavailable: {0}")]
    Provider(String),
    /// The provider refused the code exchange (e.g. `invalid_grant`: a reused or expired code).
    #[error("the identity provider refused the login: {0}")]
    Refused(String),
    /// The ID token failed verification: signature, algorithm, issuer, audience, expiry or nonce.
    #[error("ID token rejected: {0}")]
    InvalidIdToken(String),
    /// The client secret could not be read.
    #[error("client secret unavailable: {0}")]
    Secret(String),
}

/// How this platform is registered at the provider.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer, compared exactly with the discovery document and the ID token's `iss`.
    pub issuer: String,
    pub client_id: String,
    /// Our `/auth/callback` URL, registered at the provider.
    pub redirect_uri: String,
    /// `openid profile user email`: the GビズID scopes whose claims we use.
    pub scopes: String,
}

/// The parts of the provider's discovery document we use.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub id_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The claims we check in an ID token. GビズID puts no personal data there.
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenClaims {
    pub sub: String,
    pub iss: String,
    pub exp: i64,
    #[serde(default)]
    pub nonce: Option<String>,
}

/// An OpenID Connect relying party for one provider. Discovery and keys are fetched lazily and
/// cached for the life of the process.
pub struct OidcClient {
    config: OidcConfig,
    secret: ClientSecret,
    /// Built on first use: loading the trust roots costs milliseconds a cold start serving
    /// only `/me` should not pay.
    http: OnceCell<reqwest::Client>,
    discovery: OnceCell<Discovery>,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

/// Keys are re-fetched for an unknown `kid` (the provider rotated), at most this often.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

impl OidcClient {
    pub fn new(config: OidcConfig, secret: ClientSecret) -> OidcClient {
        OidcClient {
            config,
            secret,
            http: OnceCell::new(),
            discovery: OnceCell::new(),
            keys: RwLock::new(None),
        }
    }

    async fn http(&self) -> Result<&reqwest::Client, OidcError> {
        self.http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .timeout(Duration::from_secs(10))
                    // Token and UserInfo endpoints must answer directly; a redirect would be an
                    // attack or a misconfiguration.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| OidcError::Provider(format!("HTTP client: {e}")))
            })
            .await
    }

    async fn discovery(&self) -> Result<&Discovery, OidcError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.config.issuer.trim_end_matches('/')
                );
                let doc: Discovery = self.get_json(&url).await?;
                if doc.issuer != self.config.issuer {
                    return Err(OidcError::Provider(format!(
                        "discovery issuer {} is not the configured {}",
                        doc.issuer, self.config.issuer
                    )));
                }
                Ok(doc)
            })
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http()
            .await?
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("GET {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(OidcError::Provider(format!(
                "GET {url}: HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("GET {url}: {e}")))
    }

    /// The URL to send the browser to. `login_hint` is passed through (GビズID prefills the
    /// account id with it; the dev provider logs the seeded account in directly).
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        pkce_challenge: &str,
        login_hint: Option<&str>,
    ) -> Result<Url, OidcError> {
        let discovery = self.discovery().await?;
        let mut url = Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| OidcError::Provider(format!("authorization_endpoint: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", &self.config.redirect_uri)
                .append_pair("scope", &self.config.scopes)
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", pkce_challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(url)
    }

    /// Exchanges an authorization code at the token endpoint (`client_secret_basic`).
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenResponse, OidcError> {
        let discovery = self.discovery().await?;
        let secret = self.secret.get().await?;
        let response = self
            .http()
            .await?
            .post(&discovery.token_endpoint)
            .basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(secret)),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.config.redirect_uri.as_str()),
                ("code_verifier", pkce_verifier),
            ])
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| OidcError::Provider(format!("token response: {e}")));
        }
        match serde_json::from_slice::<TokenError>(&body) {
            Ok(err) if status.is_client_error() => Err(OidcError::Refused(format!(
                "{}: {}",
                err.error,
                err.error_description.unwrap_or_default()
            ))),
            _ => Err(OidcError::Provider(format!(
                "token endpoint: HTTP {status}"
            ))),
        }
    }

    /// Verifies an ID token: RS256 only, a key from the provider's JWKS, exact `iss`, our `aud`,
    /// not expired, and the `nonce` we sent.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        expected_nonce: &str,
    ) -> Result<IdTokenClaims, OidcError> {
        let discovery = self.discovery().await?;
        let header = rs256_header(id_token)?;
        let key = self.decoding_key(discovery, header.kid.as_deref()).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[discovery.issuer.as_str()]);
        validation.set_audience(&[self.config.client_id.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
        if data.claims.nonce.as_deref() != Some(expected_nonce) {
            return Err(OidcError::InvalidIdToken("nonce does not match".into()));
        }
        Ok(data.claims)
    }

    async fn decoding_key(
        &self,
        discovery: &Discovery,
        kid: Option<&str>,
    ) -> Result<DecodingKey, OidcError> {
        let find = |set: &JwkSet| -> Option<DecodingKey> {
            let jwk = match kid {
                Some(kid) => set.find(kid)?,
                None if set.keys.len() == 1 => set.keys.first()?,
                None => return None,
            };
            DecodingKey::from_jwk(jwk).ok()
        };
        if let Some((set, _)) = self.keys.read().await.as_ref()
            && let Some(key) = find(set)
        {
            return Ok(key);
        }
        let mut cached = self.keys.write().await;
        let fresh_enough = cached
            .as_ref()
            .is_some_and(|(_, fetched)| fetched.elapsed() < KEY_REFRESH_INTERVAL);
        if !fresh_enough {
            let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
            *cached = Some((set, Instant::now()));
        }
        cached
            .as_ref()
            .and_then(|(set, _)| find(set))
            .ok_or_else(|| OidcError::InvalidIdToken(format!("no usable key for kid {kid:?}")))
    }

    /// Fetches the UserInfo claims with the access token.
    pub async fn userinfo(&self, access_token: &str) -> Result<GbizUserInfo, OidcError> {
        let discovery = self.discovery().await?;
        let response = self
            .http()
            .await?
            .get(&discovery.userinfo_endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?;
        if !response.status().is_success() {
            return Err(OidcError::Provider(format!(
                "userinfo: HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))
    }
}

/// The token's header, refused unless it says RS256: the algorithm is pinned, never taken from
/// the token (no `none`, no HMAC keyed with the public key).
fn rs256_header(token: &str) -> Result<jsonwebtoken::Header, OidcError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| OidcError::InvalidIdToken(format!("header: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(OidcError::InvalidIdToken(format!(
            "algorithm {:?} is not RS256",
            header.alg
        )));
    }
    Ok(header)
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before going into Basic auth.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_credentials_are_form_encoded() {
        assert_eq!(form_encode("a b:c/d"), "a+b%3Ac%2Fd");
        assert_eq!(form_encode("plain-Secret_1"), "plain-Secret_1");
    }

    #[test]
    fn only_rs256_headers_pass() {
        let hs256 = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "x", "iss": "i", "aud": "a", "exp": 4_000_000_000i64, "nonce": "n"}),
            &jsonwebtoken::EncodingKey::from_secret(b"public-key-bytes"),
        );
        let Ok(hs256) = hs256 else {
            panic!("encode failed")
        };
        assert!(matches!(
            rs256_header(&hs256),
            Err(OidcError::InvalidIdToken(_))
        ));
        // alg "none": header {"alg":"none"} with an empty signature.
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
        assert!(rs256_header(none).is_err());
        assert!(rs256_header("not a jwt").is_err());
        // {"alg":"RS256","kid":"k"}
        let rs256 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(
            rs256_header(rs256).ok().and_then(|h| h.kid).as_deref(),
            Some("k")
        );
    }
}
