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
                // The token header must never follow a redirect to another host.
                .redirect(reqwest::redirect::Policy::none())
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

#[cfg(test)]
mod redirect_tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-request server answering `answer`; returns its address and whether it was called.
    fn serve(answer: String) -> (String, std::sync::mpsc::Receiver<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let address = format!(
            "http://{}",
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buffer = [0u8; 4096];
                let n = stream.read(&mut buffer).unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buffer[..n]).into_owned());
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (address, rx)
    }

    #[test]
    fn the_token_never_follows_a_redirect() {
        let (elsewhere, elsewhere_hit) =
            serve("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".into());
        let (gbizinfo, _) = serve(format!(
            "HTTP/1.1 302 Found\r\nlocation: {elsewhere}/steal\r\ncontent-length: 0\r\n\r\n"
        ));
        let client = GbizInfoClient::new(
            format!("{gbizinfo}/hojin"),
            ClientSecret::fixed("secret-token"),
            Duration::from_secs(2),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let answer = runtime.block_on(client.lookup("9010401234567"));
        assert!(
            matches!(answer, Err(GbizInfoError::Status(302))),
            "{answer:?}"
        );
        assert!(
            elsewhere_hit
                .recv_timeout(Duration::from_millis(300))
                .is_err(),
            "the redirect target was never asked (with the token)"
        );
    }
}
