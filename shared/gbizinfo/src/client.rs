use std::time::Duration;

use keiryoku_auth::ClientSecret;

use crate::{HojinInfo, parse_response};

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Box<HojinInfo>),
    /// gBizINFO answered 404 or listed no such company.
    NotFound,
}

/// Why gBizINFO could not answer. Every variant means "type the data in yourself".
#[derive(Debug, thiserror::Error)]
pub enum GbizInfoError {
    #[error("gBizINFO did not answer within {0:?}")]
    Timeout(Duration),
    #[error("gBizINFO unreachable: {0}")]
    Unreachable(String),
    #[error("gBizINFO answered {0}")]
    Status(u16),
    #[error("gBizINFO answer unreadable: {0}")]
    Unreadable(String),
    #[error("gBizINFO token unavailable: {0}")]
    Token(String),
}

/// A client of `GET {base_url}/v2/hojin/{corporate_number}`.
pub struct GbizInfoClient {
    /// Built at the first lookup: building it loads the TLS trust roots, which a cold start that
    /// never prefills should not pay for.
    http: std::sync::OnceLock<reqwest::Client>,
    base_url: String,
    token: ClientSecret,
    timeout: Duration,
}

impl GbizInfoClient {
    /// `base_url` is the API root without a trailing slash (`https://api.info.gbiz.go.jp/hojin`);
    /// the token is read from its SSM parameter on first use.
    pub fn new(
        base_url: impl Into<String>,
        token: ClientSecret,
        timeout: Duration,
    ) -> GbizInfoClient {
        GbizInfoClient {
            http: std::sync::OnceLock::new(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            token,
            timeout,
        }
    }

    /// The basic information of one company (法人基本情報).
    pub async fn lookup(&self, corporate_number: &str) -> Result<Lookup, GbizInfoError> {
        let token = self
            .token
            .get()
            .await
            .map_err(|e| GbizInfoError::Token(e.to_string()))?;
        let url = format!("{}/v2/hojin/{corporate_number}", self.base_url);
        let http = self.http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.timeout)
                .build()
                .unwrap_or_default()
        });
        let response = http
            .get(&url)
            .header("X-hojinInfo-api-token", token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    GbizInfoError::Timeout(self.timeout)
                } else {
                    GbizInfoError::Unreachable(e.to_string())
                }
            })?;
        let status = response.status().as_u16();
        if status == 404 {
            return Ok(Lookup::NotFound);
        }
        if status != 200 {
            return Err(GbizInfoError::Status(status));
        }
        let body = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                GbizInfoError::Timeout(self.timeout)
            } else {
                GbizInfoError::Unreachable(e.to_string())
            }
        })?;
        match parse_response(&body, corporate_number).map_err(GbizInfoError::Unreadable)? {
            Some(info) => Ok(Lookup::Found(Box::new(info))),
            None => Ok(Lookup::NotFound),
        }
    }
}
