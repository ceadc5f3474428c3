use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret as OidcSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse as _,
};
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

/// The token endpoint's answer: what the callback needs of it.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: String,
    /// The ID token as sent (verified by [`OidcClient::verify_id_token`]).
    pub id_token: String,
}

/// The claims we use of a verified ID token. GビズID puts no personal data there.
#[derive(Debug, Clone)]
pub struct IdTokenClaims {
    pub sub: String,
    pub iss: String,
    pub exp: i64,
}

/// An OpenID Connect relying party for one provider (the `openidconnect` crate: discovery,
/// PKCE, code exchange, ID token verification). Discovery and keys are fetched lazily and
/// cached for the life of the process; keys are fetched again when a token names a key we do
/// not have (the provider rotated).
pub struct OidcClient {
    config: OidcConfig,
    secret: ClientSecret,
    /// Built on first use: loading the trust roots costs milliseconds a cold start serving
    /// only `/me` should not pay.
    http: OnceCell<reqwest::Client>,
    /// With RP-Initiated Logout's `end_session_endpoint`, when the provider has one.
    metadata: OnceCell<ProviderMetadataWithLogout>,
    keys: RwLock<Option<(CoreJsonWebKeySet, Instant)>>,
}

/// Keys are re-fetched for an unknown key, at most this often.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

impl OidcClient {
    pub fn new(config: OidcConfig, secret: ClientSecret) -> OidcClient {
        OidcClient {
            config,
            secret,
            http: OnceCell::new(),
            metadata: OnceCell::new(),
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

    /// The provider's discovery document (its issuer checked to be exactly ours) with its keys.
    async fn metadata(&self) -> Result<&ProviderMetadataWithLogout, OidcError> {
        let http = self.http().await?;
        self.metadata
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| OidcError::Provider(format!("issuer: {e}")))?;
                ProviderMetadataWithLogout::discover_async(issuer, &Http(http))
                    .await
                    .map_err(|e| OidcError::Provider(format!("discovery: {}", chain(&e))))
            })
            .await
    }

    /// The client as registered, with the secret (read at first use).
    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let mut metadata = self.metadata().await?.clone();
        // Keys fetched again after a rotation replace those of the discovery.
        if let Some((keys, _)) = self.keys.read().await.as_ref() {
            metadata = metadata.set_jwks(keys.clone());
        }
        let secret = self.secret.get().await?;
        let redirect = RedirectUrl::new(self.config.redirect_uri.clone())
            .map_err(|e| OidcError::Provider(format!("redirect_uri: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(OidcSecret::new(secret.to_string())),
        )
        .set_redirect_uri(redirect);
        Ok(client)
    }

    /// Where a logout sends the browser so that the provider's session ends too (OpenID Connect
    /// RP-Initiated Logout 1.0), coming back to `post_logout` (registered at the provider), with
    /// the login's ID token as `id_token_hint`; `None` when the provider's discovery document
    /// names no `end_session_endpoint`.
    pub async fn end_session_url(
        &self,
        id_token: Option<&str>,
        post_logout: &str,
    ) -> Result<Option<String>, OidcError> {
        let metadata = self.metadata().await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let back = PostLogoutRedirectUrl::new(post_logout.to_string())
            .map_err(|e| OidcError::Provider(format!("post_logout_redirect_uri: {e}")))?;
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(back);
        if let Some(token) = id_token.and_then(|t| t.parse::<CoreIdToken>().ok()) {
            request = request.set_id_token_hint(&token);
        }
        Ok(Some(request.http_get_url().to_string()))
    }

    /// The URL to send the browser to: authorization code flow with our `state`, `nonce` and
    /// the PKCE S256 challenge of `pkce_verifier`. `login_hint` is passed through (GビズID
    /// prefills the account id with it; the dev provider logs the seeded account in directly).
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        pkce_verifier: &str,
        login_hint: Option<&str>,
    ) -> Result<Url, OidcError> {
        let client = self.client().await?;
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            pkce_verifier.to_string(),
        ));
        let state = state.to_string();
        let nonce = nonce.to_string();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(challenge);
        for scope in self
            .config
            .scopes
            .split_whitespace()
            .filter(|s| *s != "openid")
        {
            request = request.add_scope(Scope::new(scope.to_string()));
        }
        if let Some(hint) = login_hint {
            request = request.add_extra_param("login_hint", hint);
        }
        Ok(request.url().0)
    }

    /// Exchanges an authorization code at the token endpoint (`client_secret_basic`, the PKCE
    /// verifier).
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<TokenResponse, OidcError> {
        let client = self.client().await?;
        let http = self.http().await?;
        let response: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&Http(http))
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(refused) => OidcError::Refused(format!(
                    "{}: {}",
                    refused.error(),
                    refused.error_description().cloned().unwrap_or_default()
                )),
                other => OidcError::Provider(format!("token endpoint: {}", chain(&other))),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Provider("token response without an ID token".into()))?;
        Ok(TokenResponse {
            access_token: response.access_token().secret().clone(),
            id_token: id_token.to_string(),
        })
    }

    /// Verifies an ID token: RS256 only, a key from the provider's JWKS, exact `iss`, our `aud`,
    /// not expired, and the `nonce` we sent.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        expected_nonce: &str,
    ) -> Result<IdTokenClaims, OidcError> {
        let token: CoreIdToken = id_token
            .parse()
            .map_err(|e| OidcError::InvalidIdToken(format!("not an ID token: {e}")))?;
        let nonce = Nonce::new(expected_nonce.to_string());
        let mut refreshed = false;
        loop {
            let client = self.client().await?;
            let verifier = client
                .id_token_verifier()
                .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
            match token.claims(&verifier, &nonce) {
                Ok(claims) => {
                    return Ok(IdTokenClaims {
                        sub: claims.subject().to_string(),
                        iss: claims.issuer().to_string(),
                        exp: claims.expiration().timestamp(),
                    });
                }
                // A key we do not know: the provider may have rotated. Fetch the keys again
                // (at most every KEY_REFRESH_INTERVAL) and retry once.
                Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) if !refreshed => {
                    refreshed = true;
                    if !self.refresh_keys().await? {
                        return Err(OidcError::InvalidIdToken("no usable key".into()));
                    }
                }
                Err(e) => return Err(OidcError::InvalidIdToken(e.to_string())),
            }
        }
    }

    /// Fetches the provider's keys again unless that was done very recently; whether it did.
    async fn refresh_keys(&self) -> Result<bool, OidcError> {
        let mut cached = self.keys.write().await;
        if cached
            .as_ref()
            .is_some_and(|(_, fetched)| fetched.elapsed() < KEY_REFRESH_INTERVAL)
        {
            return Ok(false);
        }
        let http = self.http().await?;
        let uri = self.metadata().await?.jwks_uri();
        let keys = CoreJsonWebKeySet::fetch_async(uri, &Http(http))
            .await
            .map_err(|e| OidcError::Provider(format!("keys: {}", chain(&e))))?;
        *cached = Some((keys, Instant::now()));
        Ok(true)
    }

    /// Fetches the UserInfo claims with the access token. GビズID sends them flat, every value a
    /// string (the caller checks they are about the ID token's subject).
    pub async fn userinfo(&self, access_token: &str) -> Result<GbizUserInfo, OidcError> {
        let endpoint = self
            .metadata()
            .await?
            .userinfo_endpoint()
            .ok_or_else(|| OidcError::Provider("no userinfo_endpoint".into()))?
            .url()
            .clone();
        let response = self
            .http()
            .await?
            .get(endpoint)
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

/// Our HTTP client (no redirects, timeouts) as the `openidconnect` crate calls it.
struct Http<'a>(&'a reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http<'_> {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// One HTTP exchange through our client.
async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut answer = http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        *headers = response.headers().clone();
    }
    let body = response.bytes().await?.to_vec();
    Ok(answer.body(body).unwrap_or_default())
}

/// An error with its causes, for the logs.
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::core::{CoreHmacKey, CoreIdTokenClaims, CoreIdTokenVerifier};
    use openidconnect::{Audience, EmptyAdditionalClaims, StandardClaims, SubjectIdentifier};

    const ISSUER: &str = "https://auth.example.go.jp";
    const CLIENT: &str = "keiryoku";
    const SECRET: &str = "client-secret-known-to-both";

    /// The verifier `verify_id_token` uses, for a provider with no keys: RS256 pinned.
    fn verifier() -> CoreIdTokenVerifier<'static> {
        CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(CLIENT.into()),
            OidcSecret::new(SECRET.into()),
            IssuerUrl::new(ISSUER.into()).unwrap_or_else(|e| panic!("{e}")),
            CoreJsonWebKeySet::new(vec![]),
        )
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
    }

    fn claims(nonce: &str) -> CoreIdTokenClaims {
        CoreIdTokenClaims::new(
            IssuerUrl::new(ISSUER.into()).unwrap_or_else(|e| panic!("{e}")),
            vec![Audience::new(CLIENT.into())],
            chrono::Utc::now() + chrono::Duration::minutes(5),
            chrono::Utc::now(),
            StandardClaims::new(SubjectIdentifier::new("100001".into())),
            EmptyAdditionalClaims {},
        )
        .set_nonce(Some(Nonce::new(nonce.into())))
    }

    /// A token signed with HS256 and the client secret (which a confidential client shares with
    /// the provider) must not pass: the algorithm is pinned to RS256, never taken from the token.
    #[test]
    fn an_hmac_token_keyed_with_the_client_secret_is_refused() {
        let token = CoreIdToken::new(
            claims("n"),
            &CoreHmacKey::new(SECRET.as_bytes()),
            CoreJwsSigningAlgorithm::HmacSha256,
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let refused = token.claims(&verifier(), &Nonce::new("n".into()));
        assert!(refused.is_err(), "HS256 accepted");
        // The same token is valid for a verifier that allowed HMAC: the pin is what refuses it.
        let lax = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(CLIENT.into()),
            OidcSecret::new(SECRET.into()),
            IssuerUrl::new(ISSUER.into()).unwrap_or_else(|e| panic!("{e}")),
            CoreJsonWebKeySet::new(vec![]),
        )
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::HmacSha256]);
        assert!(token.claims(&lax, &Nonce::new("n".into())).is_ok());
        assert!(
            token.claims(&lax, &Nonce::new("other".into())).is_err(),
            "nonce checked"
        );
    }

    /// `alg: none` (an unsigned token) never passes.
    #[test]
    fn an_unsigned_token_is_refused() {
        use base64::Engine;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let body = serde_json::to_value(claims("n")).unwrap_or_default();
        let unsigned = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg": "none"})),
            b64(&body)
        );
        let parsed: Result<CoreIdToken, _> = unsigned.parse();
        if let Ok(token) = parsed {
            assert!(token.claims(&verifier(), &Nonce::new("n".into())).is_err());
        }
    }
}
