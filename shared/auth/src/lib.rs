//! The GビズID OpenID Connect client.
//!
//! GビズID speaks the authorization code flow with PKCE (S256), authenticates clients with
//! `client_secret_basic`, signs ID tokens with RS256 and puts no personal data in them: everything
//! about the company comes from UserInfo (docs/integrations.md §1.4–1.6). This crate does exactly that
//! and nothing else, with the `openidconnect` crate (discovery, PKCE, code exchange, ID token
//! verification; its HTTP goes through our reqwest client): it knows neither HTTP routing nor
//! storage.

#![forbid(unsafe_code)]

mod claims;
mod client;
mod secret;
mod tokens;
mod transport;

pub use claims::{AccountType, CorpType, GbizUserInfo};
pub use client::{IdTokenClaims, OidcClient, OidcConfig, OidcError, TokenResponse};
pub use secret::ClientSecret;
pub use tokens::random_token;
pub use transport::{is_local, require_tls};
