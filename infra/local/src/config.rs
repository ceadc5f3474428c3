//! Ports, paths and the values the local stack gives template.yaml's parameters, each overridable
//! by an environment variable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use keiryoku_template::{Function, Template};

use crate::LocalError;

/// The local account and region every AWS client uses against moto.
pub const REGION: &str = "ap-northeast-1";
pub const ACCOUNT_ID: &str = "123456789012";
pub const STACK_NAME: &str = "keiryoku-local";
/// The dev client registered at the dev identity provider.
pub const CLIENT_ID: &str = "keiryoku-local";
pub const CLIENT_SECRET: &str = "keiryoku-local-secret";
/// The domain local mail is sent from (an SES identity in moto).
pub const MAIL_DOMAIN: &str = "keiryoku.example.jp";
/// The staff client registered at the same dev provider (staff accounts only get in).
pub const STAFF_CLIENT_ID: &str = "keiryoku-local-staff";
pub const STAFF_CLIENT_SECRET: &str = "keiryoku-local-staff-secret";
/// The audience of the agencies' machine tokens locally (the dev provider's default resource).
pub const EXPORT_AUDIENCE: &str = "keiryoku-export";
/// The key that seals the change feed's cursors locally.
pub const FEED_CURSOR_KEY: &str = "keiryoku-local-feed-cursor-key-0123456789";

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub root: PathBuf,
    pub host: String,
    pub gateway_port: u16,
    pub idp_port: u16,
    pub moto_port: u16,
    pub gbizinfo_port: u16,
    /// The local scheduler's control port (fires a schedule on request).
    pub scheduler_port: u16,
    /// The Python of the venv that has moto (`make setup` creates it).
    pub python: PathBuf,
    pub bin_dir: PathBuf,
    /// Lambda processes per function, so parallel requests run in parallel as in Lambda.
    pub instances: usize,
    pub log_dir: PathBuf,
    pub template: Template,
    /// The table's name when the platform runs on a restored copy (`local-stack serve-copy`).
    pub table_override: Option<String>,
    /// What the functions' access keys start with (`LOCAL`; `COPY` for a copy of the platform).
    pub key_prefix: &'static str,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn port(name: &str, default: u16) -> Result<u16, LocalError> {
    env_or(name, &default.to_string())
        .parse()
        .map_err(|_| LocalError::Setup(format!("{name} must be a port number")))
}

impl LocalConfig {
    pub fn from_env() -> Result<LocalConfig, LocalError> {
        let root = PathBuf::from(env_or("KEIRYOKU_ROOT", "."));
        let template_path = root.join("template.yaml");
        if !template_path.exists() {
            return Err(LocalError::Setup(format!(
                "no template.yaml in {}: run from the repository root or set KEIRYOKU_ROOT",
                root.display()
            )));
        }
        let instances: usize = env_or("LOCAL_FUNCTION_INSTANCES", "3")
            .parse()
            .map_err(|_| LocalError::Setup("LOCAL_FUNCTION_INSTANCES must be a number".into()))?;
        Ok(LocalConfig {
            host: env_or("LOCAL_HOST", "127.0.0.1"),
            gateway_port: port("API_PORT", 3000)?,
            idp_port: port("IDP_PORT", 4000)?,
            moto_port: port("MOTO_PORT", 5000)?,
            gbizinfo_port: port("GBIZINFO_PORT", 4100)?,
            scheduler_port: port("SCHEDULER_PORT", 4200)?,
            python: PathBuf::from(env_or(
                "KEIRYOKU_PYTHON",
                &root.join(".venv/bin/python").display().to_string(),
            )),
            // The functions are built beside this binary, wherever CARGO_TARGET_DIR puts them.
            bin_dir: std::env::var_os("KEIRYOKU_BIN_DIR")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::current_exe()
                        .ok()
                        .and_then(|exe| exe.parent().map(PathBuf::from))
                })
                .unwrap_or_else(|| root.join("target/debug")),
            instances: instances.max(1),
            log_dir: root.join(".local/logs"),
            template: keiryoku_template::Template::load(&template_path)?,
            root,
            table_override: None,
            key_prefix: "LOCAL",
        })
    }

    pub fn api_url(&self) -> String {
        format!("http://{}:{}", self.host, self.gateway_port)
    }

    pub fn idp_url(&self) -> String {
        format!("http://{}:{}", self.host, self.idp_port)
    }

    /// The gBizINFO stand-in's API root.
    pub fn gbizinfo_url(&self) -> String {
        format!("http://{}:{}/hojin", self.host, self.gbizinfo_port)
    }

    /// `POST {scheduler_url}/schedules/<Event>` fires a template.yaml schedule now.
    pub fn scheduler_url(&self) -> String {
        format!("http://{}:{}", self.host, self.scheduler_port)
    }

    pub fn moto_url(&self) -> String {
        format!("http://{}:{}", self.host, self.moto_port)
    }

    /// The environment that points an AWS SDK at moto.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.moto_url()),
            ("AWS_REGION", REGION.to_string()),
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// What each template parameter is locally: an override from `PARAM_<Name>`, a local value,
    /// or the template's default.
    pub fn parameter(&self, name: &str) -> Option<String> {
        if let Ok(value) = std::env::var(format!("PARAM_{name}")) {
            return Some(value);
        }
        match name {
            "PublicBaseUrl" => Some(self.api_url()),
            "OidcIssuer" => Some(self.idp_url()),
            "OidcClientId" => Some(CLIENT_ID.to_string()),
            "StaffOidcIssuer" => Some(self.idp_url()),
            "StaffOidcClientId" => Some(STAFF_CLIENT_ID.to_string()),
            "AgencyTokenIssuer" => Some(self.idp_url()),
            "AgencyTokenAudience" => Some(EXPORT_AUDIENCE.to_string()),
            "GbizInfoBaseUrl" => Some(self.gbizinfo_url()),
            "MailDomain" => Some(MAIL_DOMAIN.to_string()),
            // Published reference tables are looked for every 2 s locally (300 s in AWS), so a
            // test sees a correction in force without waiting minutes.
            "ReferenceDataRefreshSeconds" => Some("2".to_string()),
            // Notices likewise every second (30 s in AWS).
            "NoticesRefreshSeconds" => Some("1".to_string()),
            // No CloudFront in front locally: the origin check is off.
            "OriginVerifySecret" => Some(String::new()),
            _ => self.template.parameter_default(name).map(str::to_string),
        }
    }

    /// The physical name of a table or bucket in moto.
    pub fn physical_name(&self, logical_id: &str) -> Option<String> {
        if let Some(table) = self
            .template
            .tables
            .iter()
            .find(|t| t.logical_id == logical_id)
        {
            if let Some(name) = &self.table_override {
                return Some(name.clone());
            }
            return Some(match &table.table_name {
                Some(expr) => expr.resolve(&|n| self.lookup(n)).ok()?,
                None => format!("{STACK_NAME}-{logical_id}"),
            });
        }
        if let Some(bucket) = self
            .template
            .buckets
            .iter()
            .find(|b| b.logical_id == logical_id)
        {
            return Some(match &bucket.bucket_name {
                Some(expr) => expr.resolve(&|n| self.lookup(n)).ok()?,
                None => format!("{STACK_NAME}-{}", logical_id.to_ascii_lowercase()),
            });
        }
        None
    }

    /// Resolves a `Ref` name or `Resource.Attribute` as CloudFormation would for this stack.
    pub fn lookup(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Region" => return Some(REGION.into()),
            "AWS::AccountId" => return Some(ACCOUNT_ID.into()),
            "AWS::Partition" => return Some("aws".into()),
            "AWS::StackName" => return Some(STACK_NAME.into()),
            "AWS::URLSuffix" => return Some("amazonaws.com".into()),
            _ => {}
        }
        if let Some((resource, attribute)) = name.split_once('.') {
            let physical = self.physical_name(resource)?;
            let is_table = self
                .template
                .tables
                .iter()
                .any(|t| t.logical_id == resource);
            return match (attribute, is_table) {
                ("Arn", true) => Some(format!(
                    "arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{physical}"
                )),
                ("Arn", false) => Some(format!("arn:aws:s3:::{physical}")),
                _ => None,
            };
        }
        self.parameter(name)
            .or_else(|| self.physical_name(name))
            // Any other resource of the template: named as CloudFormation would name it here.
            .or_else(|| {
                self.template
                    .resources
                    .contains_key(name)
                    .then(|| format!("{STACK_NAME}-{name}"))
            })
    }

    /// A function's environment as Lambda would give it, plus the pointers to the local stack.
    pub fn function_env(
        &self,
        function: &Function,
    ) -> Result<BTreeMap<String, String>, LocalError> {
        let mut env = BTreeMap::new();
        for (name, expr) in &function.environment {
            let value = expr
                .resolve(&|n| self.lookup(n))
                .map_err(|e| LocalError::Setup(format!("{}: {name}: {e}", function.logical_id)))?;
            env.insert(name.clone(), value);
        }
        env.extend(self.aws_env());
        // Its own key: the emulator allows it what its template.yaml policy allows.
        env.insert(
            "AWS_ACCESS_KEY_ID".into(),
            crate::iam::access_key(self.key_prefix, &function.logical_id),
        );
        env.extend(lambda_env(&function.logical_id, function.memory_mb));
        if !env.contains_key("RUST_LOG") {
            env.insert("RUST_LOG".into(), "info".into());
        }
        Ok(env)
    }
}

/// The variables Lambda sets for every function process (the runtime client requires them).
pub fn lambda_env(name: &str, memory_mb: u32) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", format!("{STACK_NAME}-{name}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{STACK_NAME}-{name}"),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
