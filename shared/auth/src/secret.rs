use tokio::sync::OnceCell;

use crate::OidcError;

/// The client secret, read once from SSM Parameter Store (a SecureString) on first use, so a cold
/// start that only serves `/me` never pays for it: not even the SSM client is made before then
/// (making a service client parses the SDK's endpoint rules, part of every cold start).
pub struct ClientSecret {
    /// The configuration the SSM client is made from when the secret is first asked for.
    config: aws_config::SdkConfig,
    parameter: String,
    value: OnceCell<String>,
}

impl ClientSecret {
    pub fn from_parameter(
        config: &aws_config::SdkConfig,
        parameter: impl Into<String>,
    ) -> ClientSecret {
        ClientSecret {
            config: config.clone(),
            parameter: parameter.into(),
            value: OnceCell::new(),
        }
    }

    /// A secret known up front (tests and tools): SSM is never asked.
    pub fn fixed(value: impl Into<String>) -> ClientSecret {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        ClientSecret {
            config,
            parameter: String::new(),
            value: OnceCell::new_with(Some(value.into())),
        }
    }

    pub async fn get(&self) -> Result<&str, OidcError> {
        self.value
            .get_or_try_init(|| async {
                let out = aws_sdk_ssm::Client::new(&self.config)
                    .get_parameter()
                    .name(&self.parameter)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| {
                        OidcError::Secret(format!("{}: {}", self.parameter, e.into_service_error()))
                    })?;
                out.parameter
                    .and_then(|p| p.value)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| OidcError::Secret(format!("{} is empty", self.parameter)))
            })
            .await
            .map(String::as_str)
    }
}
