//! Reads the SAM `template.yaml`, the single source of truth for routes, functions, tables and
//! buckets, so that the local stack, the route table of the fallback handler and the tests never
//! keep a second copy of it.
//!
//! Only the parts the platform uses are modelled. CloudFormation short-form tags (`!Ref`, `!Sub`,
//! `!GetAtt`) are kept as [`Expr`] values and resolved by the caller, which knows what a logical id
//! stands for in its environment.
//!
//! ```
//! let yaml = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildProperties:\n        Binary: hello\n    Properties:\n      Events:\n        Get:\n          Type: HttpApi\n          Properties:\n            Method: GET\n            Path: /items/{id}\n";
//! let template = keiryoku_template::Template::parse(yaml).unwrap();
//! let route = &template.functions[0].routes[0];
//! assert_eq!(route.path, "/items/{id}");
//! assert_eq!(keiryoku_template::match_path(&route.path, "/items/42").unwrap(), vec![("id".to_string(), "42".to_string())]);
//! ```

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

/// Why the template could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("template.yaml: {0}")]
    Shape(String),
}

/// A value as written in the template: a literal or an intrinsic function to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Literal(String),
    /// `!Ref Name`: a parameter, a resource's physical id or a pseudo parameter.
    Ref(String),
    /// `!Sub "text ${Name} ${Res.Attr}"`.
    Sub(String),
    /// `!GetAtt Resource.Attribute`.
    GetAtt(String, String),
}

impl Expr {
    /// Resolves the expression. `lookup` answers a `Ref` name or a `Resource.Attribute` pair and
    /// returns `None` when it does not know it.
    pub fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, TemplateError> {
        let unknown = |name: &str| TemplateError::Shape(format!("cannot resolve {name}"));
        match self {
            Expr::Literal(s) => Ok(s.clone()),
            Expr::Ref(name) => lookup(name).ok_or_else(|| unknown(name)),
            Expr::GetAtt(res, attr) => {
                let key = format!("{res}.{attr}");
                lookup(&key).ok_or_else(|| unknown(&key))
            }
            Expr::Sub(text) => {
                let mut out = String::with_capacity(text.len());
                let mut rest = text.as_str();
                while let Some(start) = rest.find("${") {
                    out.push_str(&rest[..start]);
                    let after = &rest[start + 2..];
                    let end = after
                        .find('}')
                        .ok_or_else(|| TemplateError::Shape(format!("unclosed ${{ in {text}")))?;
                    let name = &after[..end];
                    out.push_str(&lookup(name).ok_or_else(|| unknown(name))?);
                    rest = &after[end + 1..];
                }
                out.push_str(rest);
                Ok(out)
            }
        }
    }

    fn from_value(value: &Value) -> Option<Expr> {
        match value {
            Value::String(s) => Some(Expr::Literal(s.clone())),
            Value::Number(n) => Some(Expr::Literal(n.to_string())),
            Value::Bool(b) => Some(Expr::Literal(b.to_string())),
            Value::Tagged(tagged) => {
                let inner = tagged.value.as_str()?;
                if tagged.tag == "Ref" {
                    Some(Expr::Ref(inner.to_string()))
                } else if tagged.tag == "Sub" {
                    Some(Expr::Sub(inner.to_string()))
                } else if tagged.tag == "GetAtt" {
                    let (res, attr) = inner.split_once('.')?;
                    Some(Expr::GetAtt(res.to_string(), attr.to_string()))
                } else {
                    None
                }
            }
            Value::Mapping(map) if map.len() == 1 => {
                let (key, inner) = map.iter().next()?;
                match (key.as_str()?, inner) {
                    ("Ref", Value::String(s)) => Some(Expr::Ref(s.clone())),
                    ("Fn::Sub", Value::String(s)) => Some(Expr::Sub(s.clone())),
                    ("Fn::GetAtt", Value::Sequence(parts)) if parts.len() == 2 => {
                        Some(Expr::GetAtt(
                            parts[0].as_str()?.to_string(),
                            parts[1].as_str()?.to_string(),
                        ))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A template parameter with its default, if any.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub default: Option<String>,
}

/// One HTTP API route of a function: `GET /applications/{id}`, or `ANY $default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The event's name in the template (`Get`, `Create`…).
    pub event: String,
    /// Upper-case method, or `ANY`.
    pub method: String,
    /// The path template, or `$default`.
    pub path: String,
    /// The JWT authorizer the route requires (`Auth: {Authorizer, AuthorizationScopes}`), if any.
    pub auth: Option<RouteAuth>,
}

/// A route's `Auth`: the authorizer that checks the caller's token before the function runs, and
/// the scopes of which the token must carry at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAuth {
    pub authorizer: String,
    pub scopes: Vec<String>,
}

/// A JWT authorizer of the HTTP API (`Auth.Authorizers.<Name>.JwtConfiguration`).
#[derive(Debug, Clone, PartialEq)]
pub struct JwtAuthorizer {
    pub name: String,
    /// Where the token is taken from (`$request.header.Authorization`).
    pub identity_source: String,
    pub issuer: Expr,
    /// A token's `aud` (or, without one, its `client_id`) must be one of these (each value may
    /// be a comma-separated list: a `!Ref` of a `CommaDelimitedList`).
    pub audience: Vec<Expr>,
}

impl Route {
    /// The API Gateway route key, e.g. `GET /applications/{id}` or `$default`.
    pub fn route_key(&self) -> String {
        if self.is_default() {
            "$default".to_string()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }

    /// Whether this is the catch-all route that answers what no other route matches.
    pub fn is_default(&self) -> bool {
        self.path == "$default"
    }
}

/// An `AWS::Serverless::Function`.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    /// Environment variables: the globals, then the function's own.
    pub environment: BTreeMap<String, Expr>,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub routes: Vec<Route>,
    /// DynamoDB stream event sources (event source mappings).
    pub streams: Vec<StreamSource>,
    /// EventBridge schedules (`Type: Schedule`).
    pub schedules: Vec<ScheduleSource>,
    /// The statements of its execution role (`Policies: - Statement: …`).
    pub policies: Vec<PolicyStatement>,
}

/// One statement of a function's `Policies`, as written: the local stack resolves the
/// resources and makes its AWS emulator enforce it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyStatement {
    /// `Allow` or `Deny`.
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<Expr>,
    /// `Condition`: operator → condition key → values (literals).
    pub condition: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A `Type: DynamoDB` event of a function: an event source mapping on a table's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSource {
    pub event: String,
    /// The logical id of the table whose stream it reads (`!GetAtt Table.StreamArn`).
    pub table: String,
    pub batch_size: u32,
    /// Retries of a failing batch before the mapping gives up on it.
    pub maximum_retry_attempts: u32,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
    /// `FilterCriteria.Filters[].Pattern`, as JSON (a record passes if any pattern matches).
    pub filter_patterns: Vec<String>,
}

/// A `Type: Schedule` event of a function: an EventBridge rule that invokes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSource {
    pub event: String,
    /// `cron(…)` or `rate(…)`, as EventBridge reads it (UTC).
    pub expression: String,
}

/// A key attribute: name and whether it is the hash (partition) or range (sort) key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute: String,
    pub is_hash: bool,
}

/// A global secondary index of a table.
#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub key_schema: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
    pub non_key_attributes: Vec<String>,
}

/// An `AWS::DynamoDB::Table`.
#[derive(Debug, Clone)]
pub struct Table {
    pub logical_id: String,
    pub table_name: Option<Expr>,
    /// Attribute name → type (`S`, `N`, `B`).
    pub attributes: BTreeMap<String, String>,
    pub key_schema: Vec<KeyElement>,
    pub indexes: Vec<Index>,
    pub stream_view_type: Option<String>,
    pub ttl_attribute: Option<String>,
}

/// An `AWS::S3::Bucket`.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub logical_id: String,
    pub bucket_name: Option<Expr>,
    pub versioned: bool,
    /// Object Lock's default retention, when the bucket has one.
    pub object_lock: Option<ObjectLock>,
}

/// A bucket's Object Lock default retention (`ObjectLockConfiguration.Rule.DefaultRetention`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLock {
    /// `COMPLIANCE` or `GOVERNANCE`.
    pub mode: String,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

fn object_lock_of(props: Option<&Value>) -> Option<ObjectLock> {
    let props = props?;
    if props.get("ObjectLockEnabled").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let retention = props
        .get("ObjectLockConfiguration")
        .and_then(|c| c.get("Rule"))
        .and_then(|r| r.get("DefaultRetention"));
    let number = |name: &str| {
        retention
            .and_then(|r| r.get(name))
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    };
    Some(ObjectLock {
        mode: retention
            .and_then(|r| r.get("Mode"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        days: number("Days"),
        years: number("Years"),
    })
}

/// What the platform reads from `template.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Template {
    pub parameters: Vec<Parameter>,
    pub functions: Vec<Function>,
    pub tables: Vec<Table>,
    pub buckets: Vec<Bucket>,
    /// `AWS::SES::EmailIdentity` resources: the identity (a domain or address) each verifies.
    pub email_identities: Vec<Expr>,
    /// Every resource: logical id → type.
    pub resources: BTreeMap<String, String>,
    /// The HTTP API's JWT authorizers.
    pub authorizers: Vec<JwtAuthorizer>,
}

impl Template {
    /// Reads and parses a template file.
    pub fn load(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Template::parse(&text)
    }

    /// Parses template text.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let root: Value = serde_norway::from_str(text)?;
        let mut template = Template::default();

        if let Some(params) = root.get("Parameters").and_then(Value::as_mapping) {
            for (name, body) in params {
                let name = key_str(name)?;
                let default = body.get("Default").and_then(|d| match d {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                });
                template.parameters.push(Parameter { name, default });
            }
        }

        let globals = root.get("Globals").and_then(|g| g.get("Function"));
        let global_env = environment_of(globals)?;
        let global_memory = globals
            .and_then(|g| g.get("MemorySize"))
            .and_then(Value::as_u64);
        let global_timeout = globals
            .and_then(|g| g.get("Timeout"))
            .and_then(Value::as_u64);

        let resources = root
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| TemplateError::Shape("no Resources section".into()))?;
        for (id, resource) in resources {
            let id = key_str(id)?;
            let kind = resource
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let props = resource.get("Properties");
            template.resources.insert(id.clone(), kind.to_string());
            match kind {
                "AWS::Serverless::Function" => {
                    let binary = resource
                        .get("Metadata")
                        .and_then(|m| m.get("BuildProperties"))
                        .and_then(|b| b.get("Binary"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            TemplateError::Shape(format!(
                                "{id}: Metadata.BuildProperties.Binary is required"
                            ))
                        })?
                        .to_string();
                    let mut environment = global_env.clone();
                    environment.extend(environment_of(props)?);
                    let routes = routes_of(&id, props)?;
                    let streams = streams_of(&id, props)?;
                    let schedules = schedules_of(&id, props)?;
                    let policies = policies_of(&id, props)?;
                    let memory = props
                        .and_then(|p| p.get("MemorySize"))
                        .and_then(Value::as_u64);
                    let timeout = props.and_then(|p| p.get("Timeout")).and_then(Value::as_u64);
                    template.functions.push(Function {
                        logical_id: id,
                        binary,
                        environment,
                        memory_mb: memory.or(global_memory).unwrap_or(128) as u32,
                        timeout_seconds: timeout.or(global_timeout).unwrap_or(3) as u32,
                        routes,
                        streams,
                        schedules,
                        policies,
                    });
                }
                "AWS::DynamoDB::Table" => template.tables.push(table_of(&id, props)?),
                "AWS::Serverless::HttpApi" => template.authorizers.extend(authorizers_of(props)?),
                "AWS::S3::Bucket" => template.buckets.push(Bucket {
                    bucket_name: props
                        .and_then(|p| p.get("BucketName"))
                        .and_then(Expr::from_value),
                    versioned: props
                        .and_then(|p| p.get("VersioningConfiguration"))
                        .and_then(|v| v.get("Status"))
                        .and_then(Value::as_str)
                        == Some("Enabled"),
                    object_lock: object_lock_of(props),
                    logical_id: id,
                }),
                "AWS::SES::EmailIdentity" => {
                    if let Some(identity) = props
                        .and_then(|p| p.get("EmailIdentity"))
                        .and_then(Expr::from_value)
                    {
                        template.email_identities.push(identity);
                    }
                }
                _ => {}
            }
        }
        Ok(template)
    }

    /// Every HTTP route of every function, with the function that serves it.
    pub fn routes(&self) -> impl Iterator<Item = (&Function, &Route)> {
        self.functions
            .iter()
            .flat_map(|f| f.routes.iter().map(move |r| (f, r)))
    }

    /// The default of a parameter, if it has one.
    pub fn parameter_default(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.default.as_deref())
    }
}

/// Matches a concrete path against a route path template (`/applications/{id}`, `/files/{key+}`)
/// and returns the path parameters, or `None` when it does not match.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut actual = path.split('/');
    let mut pattern = template.split('/').peekable();
    while let Some(part) = pattern.next() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            // A greedy parameter takes the rest of the path and must be last.
            let rest: Vec<&str> = actual.by_ref().collect();
            if rest.is_empty() || rest.iter().all(|s| s.is_empty()) || pattern.peek().is_some() {
                return None;
            }
            params.push((name.to_string(), rest.join("/")));
            return Some(params);
        }
        let segment = actual.next()?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            params.push((name.to_string(), segment.to_string()));
        } else if part != segment {
            return None;
        }
    }
    actual.next().is_none().then_some(params)
}

/// How specific a route path is: literal segments first, then fewer parameters. API Gateway picks
/// the most specific matching route; sorting by this key descending does the same.
pub fn specificity(path: &str) -> (usize, usize) {
    let segments: Vec<&str> = path.split('/').collect();
    let literals = segments.iter().filter(|s| !s.starts_with('{')).count();
    (literals, usize::MAX - segments.len())
}

fn key_str(value: &Value) -> Result<String, TemplateError> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| TemplateError::Shape(format!("expected a string key, found {value:?}")))
}

fn environment_of(props: Option<&Value>) -> Result<BTreeMap<String, Expr>, TemplateError> {
    let mut env = BTreeMap::new();
    let Some(vars) = props
        .and_then(|p| p.get("Environment"))
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
    else {
        return Ok(env);
    };
    for (name, value) in vars {
        let name = key_str(name)?;
        let expr = Expr::from_value(value).ok_or_else(|| {
            TemplateError::Shape(format!("environment variable {name}: unsupported value"))
        })?;
        env.insert(name, expr);
    }
    Ok(env)
}

/// A string or a list of strings (`Action`, condition values).
fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Bool(b) => Some(vec![b.to_string()]),
        Value::Sequence(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// `Policies: - Statement: [...]`. Any other form (a managed policy name, a SAM policy
/// template) is refused: the local stack could not enforce what it cannot read.
fn policies_of(
    function: &str,
    props: Option<&Value>,
) -> Result<Vec<PolicyStatement>, TemplateError> {
    let shape = |what: &str| TemplateError::Shape(format!("{function}.Policies: {what}"));
    let mut out = Vec::new();
    let Some(policies) = props.and_then(|p| p.get("Policies")) else {
        return Ok(out);
    };
    let policies = policies
        .as_sequence()
        .ok_or_else(|| shape("expected a list"))?;
    for policy in policies {
        let statements = policy
            .get("Statement")
            .and_then(Value::as_sequence)
            .ok_or_else(|| shape("only `- Statement: [...]` policies are supported"))?;
        for statement in statements {
            let effect = statement
                .get("Effect")
                .and_then(Value::as_str)
                .filter(|e| *e == "Allow" || *e == "Deny")
                .ok_or_else(|| shape("Effect must be Allow or Deny"))?
                .to_string();
            let actions = statement
                .get("Action")
                .and_then(strings)
                .ok_or_else(|| shape("Action must be a string or a list of strings"))?;
            let resources = match statement.get("Resource") {
                Some(Value::Sequence(items)) => items
                    .iter()
                    .map(Expr::from_value)
                    .collect::<Option<Vec<_>>>(),
                Some(one) => Expr::from_value(one).map(|e| vec![e]),
                None => None,
            }
            .ok_or_else(|| shape("Resource must be given"))?;
            let mut condition = BTreeMap::new();
            if let Some(operators) = statement.get("Condition").and_then(Value::as_mapping) {
                for (operator, keys) in operators {
                    let mut by_key = BTreeMap::new();
                    for (key, values) in keys
                        .as_mapping()
                        .ok_or_else(|| shape("a Condition operator maps keys to values"))?
                    {
                        by_key.insert(
                            key_str(key)?,
                            strings(values).ok_or_else(|| shape("condition values are strings"))?,
                        );
                    }
                    condition.insert(key_str(operator)?, by_key);
                }
            }
            out.push(PolicyStatement {
                effect,
                actions,
                resources,
                condition,
            });
        }
    }
    Ok(out)
}

fn routes_of(function: &str, props: Option<&Value>) -> Result<Vec<Route>, TemplateError> {
    let mut routes = Vec::new();
    let Some(events) = props
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
    else {
        return Ok(routes);
    };
    for (name, event) in events {
        if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
            continue;
        }
        let name = key_str(name)?;
        let p = event.get("Properties");
        let method = p
            .and_then(|p| p.get("Method"))
            .and_then(Value::as_str)
            .unwrap_or("ANY")
            .to_ascii_uppercase();
        let path = p
            .and_then(|p| p.get("Path"))
            .and_then(Value::as_str)
            .unwrap_or("$default")
            .to_string();
        if path != "$default" && !path.starts_with('/') {
            return Err(TemplateError::Shape(format!(
                "{function}.{name}: path {path} must start with /"
            )));
        }
        let auth = p.and_then(|p| p.get("Auth"));
        let auth = match auth
            .and_then(|a| a.get("Authorizer"))
            .and_then(Value::as_str)
        {
            None | Some("NONE") => None,
            Some(authorizer) => Some(RouteAuth {
                authorizer: authorizer.to_string(),
                scopes: auth
                    .and_then(|a| a.get("AuthorizationScopes"))
                    .and_then(strings)
                    .unwrap_or_default(),
            }),
        };
        routes.push(Route {
            event: name,
            method,
            path,
            auth,
        });
    }
    Ok(routes)
}

fn authorizers_of(props: Option<&Value>) -> Result<Vec<JwtAuthorizer>, TemplateError> {
    let Some(authorizers) = props
        .and_then(|p| p.get("Auth"))
        .and_then(|a| a.get("Authorizers"))
        .and_then(Value::as_mapping)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, body) in authorizers {
        let name = key_str(name)?;
        let Some(jwt) = body.get("JwtConfiguration") else {
            return Err(TemplateError::Shape(format!(
                "authorizer {name}: only JWT authorizers are supported"
            )));
        };
        let issuer = jwt
            .get("issuer")
            .and_then(Expr::from_value)
            .ok_or_else(|| TemplateError::Shape(format!("authorizer {name}: no issuer")))?;
        let audience =
            match jwt.get("audience") {
                Some(Value::Sequence(items)) => items
                    .iter()
                    .map(|v| {
                        Expr::from_value(v).ok_or_else(|| {
                            TemplateError::Shape(format!("authorizer {name}: bad audience"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                // `!Ref` of a CommaDelimitedList parameter: the caller splits the value on commas.
                Some(single) => vec![Expr::from_value(single).ok_or_else(|| {
                    TemplateError::Shape(format!("authorizer {name}: bad audience"))
                })?],
                None => {
                    return Err(TemplateError::Shape(format!(
                        "authorizer {name}: no audience"
                    )));
                }
            };
        let identity_source = body
            .get("IdentitySource")
            .and_then(Value::as_str)
            .unwrap_or("$request.header.Authorization")
            .to_string();
        out.push(JwtAuthorizer {
            name,
            identity_source,
            issuer,
            audience,
        });
    }
    Ok(out)
}

fn streams_of(function: &str, props: Option<&Value>) -> Result<Vec<StreamSource>, TemplateError> {
    let mut streams = Vec::new();
    let Some(events) = props
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
    else {
        return Ok(streams);
    };
    for (name, event) in events {
        if event.get("Type").and_then(Value::as_str) != Some("DynamoDB") {
            continue;
        }
        let name = key_str(name)?;
        let p = event.get("Properties");
        let table = match p.and_then(|p| p.get("Stream")).and_then(Expr::from_value) {
            Some(Expr::GetAtt(table, attribute)) if attribute == "StreamArn" => table,
            _ => {
                return Err(TemplateError::Shape(format!(
                    "{function}.{name}: Stream must be !GetAtt <Table>.StreamArn"
                )));
            }
        };
        let number = |key: &str, default: u64| {
            p.and_then(|p| p.get(key))
                .and_then(Value::as_u64)
                .unwrap_or(default) as u32
        };
        let report_batch_item_failures = p
            .and_then(|p| p.get("FunctionResponseTypes"))
            .and_then(Value::as_sequence)
            .is_some_and(|types| {
                types
                    .iter()
                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
            });
        let filter_patterns = p
            .and_then(|p| p.get("FilterCriteria"))
            .and_then(|f| f.get("Filters"))
            .and_then(Value::as_sequence)
            .map(|filters| {
                filters
                    .iter()
                    .filter_map(|f| f.get("Pattern")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        streams.push(StreamSource {
            event: name,
            table,
            batch_size: number("BatchSize", 100),
            maximum_retry_attempts: number("MaximumRetryAttempts", 10_000),
            report_batch_item_failures,
            filter_patterns,
        });
    }
    Ok(streams)
}

fn schedules_of(
    function: &str,
    props: Option<&Value>,
) -> Result<Vec<ScheduleSource>, TemplateError> {
    let mut schedules = Vec::new();
    let Some(events) = props
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
    else {
        return Ok(schedules);
    };
    for (name, event) in events {
        if event.get("Type").and_then(Value::as_str) != Some("Schedule") {
            continue;
        }
        let name = key_str(name)?;
        let expression = event
            .get("Properties")
            .and_then(|p| p.get("Schedule"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TemplateError::Shape(format!("{function}.{name}: Schedule is required"))
            })?;
        schedules.push(ScheduleSource {
            event: name,
            expression: expression.to_string(),
        });
    }
    Ok(schedules)
}

fn key_schema_of(value: Option<&Value>) -> Vec<KeyElement> {
    value
        .and_then(Value::as_sequence)
        .map(|elements| {
            elements
                .iter()
                .filter_map(|k| {
                    Some(KeyElement {
                        attribute: k.get("AttributeName")?.as_str()?.to_string(),
                        is_hash: k.get("KeyType")?.as_str()? == "HASH",
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn table_of(id: &str, props: Option<&Value>) -> Result<Table, TemplateError> {
    let props = props.ok_or_else(|| TemplateError::Shape(format!("{id}: no Properties")))?;
    let attributes = props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .map(|defs| {
            defs.iter()
                .filter_map(|d| {
                    Some((
                        d.get("AttributeName")?.as_str()?.to_string(),
                        d.get("AttributeType")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let indexes = props
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .map(|list| {
            list.iter()
                .filter_map(|i| {
                    let projection = i.get("Projection");
                    Some(Index {
                        name: i.get("IndexName")?.as_str()?.to_string(),
                        key_schema: key_schema_of(i.get("KeySchema")),
                        projection: projection
                            .and_then(|p| p.get("ProjectionType"))
                            .and_then(Value::as_str)
                            .unwrap_or("ALL")
                            .to_string(),
                        non_key_attributes: projection
                            .and_then(|p| p.get("NonKeyAttributes"))
                            .and_then(Value::as_sequence)
                            .map(|s| {
                                s.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let ttl = props.get("TimeToLiveSpecification");
    let ttl_attribute = match ttl.and_then(|t| t.get("Enabled")).and_then(Value::as_bool) {
        Some(true) => ttl
            .and_then(|t| t.get("AttributeName"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    Ok(Table {
        logical_id: id.to_string(),
        table_name: props.get("TableName").and_then(Expr::from_value),
        attributes,
        key_schema: key_schema_of(props.get("KeySchema")),
        indexes,
        stream_view_type: props
            .get("StreamSpecification")
            .and_then(|s| s.get("StreamViewType"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ttl_attribute,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_template() -> Template {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        match Template::load(path) {
            Ok(t) => t,
            Err(e) => panic!("the project's template.yaml must parse: {e}"),
        }
    }

    #[test]
    fn project_template_has_the_skeleton_routes() {
        let template = project_template();
        let keys: Vec<String> = template.routes().map(|(_, r)| r.route_key()).collect();
        for expected in [
            "GET /auth/login",
            "GET /auth/callback",
            "POST /auth/logout",
            "GET /me",
            "POST /applications",
            "GET /applications",
            "GET /applications/{id}",
            "GET /health",
            "$default",
        ] {
            assert!(
                keys.contains(&expected.to_string()),
                "{expected} missing from {keys:?}"
            );
        }
    }

    #[test]
    fn project_table_has_stream_ttl_and_index() {
        let template = project_template();
        let table = &template.tables[0];
        assert_eq!(
            table.stream_view_type.as_deref(),
            Some("NEW_AND_OLD_IMAGES")
        );
        assert_eq!(table.ttl_attribute.as_deref(), Some("ttl"));
        assert!(table.indexes.iter().any(|i| i.name == "gsi1"));
        assert!(template.buckets.iter().any(|b| b.versioned));
        let archive = template
            .buckets
            .iter()
            .find(|b| b.logical_id == "AuditArchiveBucket")
            .and_then(|b| b.object_lock.clone());
        assert_eq!(
            archive,
            Some(ObjectLock {
                mode: "COMPLIANCE".into(),
                days: None,
                years: Some(10),
            })
        );
    }

    #[test]
    fn functions_inherit_global_environment() {
        let template = project_template();
        let auth = template.functions.iter().find(|f| f.binary == "auth");
        let Some(auth) = auth else {
            panic!("no auth function")
        };
        assert_eq!(
            auth.environment.get("TABLE_NAME"),
            Some(&Expr::Ref("AppTable".into()))
        );
        assert_eq!(
            auth.environment.get("OIDC_ISSUER"),
            Some(&Expr::Ref("OidcIssuer".into()))
        );
    }

    #[test]
    fn sub_resolves_names_and_attributes() {
        let expr = Expr::Sub("arn:${AWS::Partition}:x:${Bucket.Arn}/*".into());
        let resolved = expr.resolve(&|name| match name {
            "AWS::Partition" => Some("aws".into()),
            "Bucket.Arn" => Some("arn:b".into()),
            _ => None,
        });
        assert_eq!(resolved.ok().as_deref(), Some("arn:aws:x:arn:b/*"));
        assert!(Expr::Ref("Nope".into()).resolve(&|_| None).is_err());
    }

    #[test]
    fn path_matching_follows_api_gateway() {
        assert_eq!(match_path("/applications", "/applications"), Some(vec![]));
        assert_eq!(match_path("/applications", "/applications/"), None);
        assert_eq!(
            match_path("/applications/{id}", "/applications/abc"),
            Some(vec![("id".into(), "abc".into())])
        );
        assert_eq!(match_path("/applications/{id}", "/applications/"), None);
        assert_eq!(match_path("/applications/{id}", "/applications/a/b"), None);
        assert_eq!(
            match_path("/files/{key+}", "/files/a/b/c"),
            Some(vec![("key".into(), "a/b/c".into())])
        );
        assert_eq!(match_path("/files/{key+}", "/files"), None);
        assert!(specificity("/applications/mine") > specificity("/applications/{id}"));
    }
}
