//! Least privilege, enforced locally: every function signs its AWS calls with an access key of
//! its own, and the emulator (infra/moto/serve.py) refuses any call that the function's
//! template.yaml policy does not allow, as IAM would. The policies are resolved here (ARNs of the
//! local tables and buckets) and written to one JSON document the emulator reads; the local stack
//! itself, the tests and the operator command use the unrestricted key `testing`.

use std::path::{Path, PathBuf};

use keiryoku_template::Template;
use serde_json::{Value, json};

use crate::LocalError;
use crate::config::{ACCOUNT_ID, LocalConfig, REGION};

/// The access key id a function signs with (`LOCALEFFECTSFUNCTION`; `COPY…` for the functions
/// of a copy of the platform on a restored table).
pub fn access_key(prefix: &str, logical_id: &str) -> String {
    format!("{prefix}{}", logical_id.to_ascii_uppercase())
}

/// Where the emulator reads the policies from.
pub fn policies_path(config: &LocalConfig) -> PathBuf {
    config.root.join(".local/iam-policies.json")
}

/// The policies of every function of `template`, resolved against the local stack, with the key
/// schema of each table (the emulator needs it for `dynamodb:LeadingKeys`).
pub fn document(config: &LocalConfig, template: &Template) -> Result<Value, LocalError> {
    let mut principals = serde_json::Map::new();
    for function in &template.functions {
        let mut statements = Vec::new();
        for statement in &function.policies {
            let resources = statement
                .resources
                .iter()
                .map(|r| r.resolve(&|name| config.lookup(name)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LocalError::Setup(format!("{}: policy: {e}", function.logical_id)))?;
            statements.push(json!({
                "Effect": statement.effect,
                "Action": statement.actions,
                "Resource": resources,
                "Condition": statement.condition,
            }));
        }
        principals.insert(
            access_key(config.key_prefix, &function.logical_id),
            json!({ "function": function.logical_id, "statements": statements }),
        );
    }
    let mut tables = serde_json::Map::new();
    for table in &template.tables {
        let Some(name) = config.physical_name(&table.logical_id) else {
            continue;
        };
        let hash = |keys: &[keiryoku_template::KeyElement]| {
            keys.iter().find(|k| k.is_hash).map(|k| k.attribute.clone())
        };
        let indexes: serde_json::Map<String, Value> = table
            .indexes
            .iter()
            .map(|i| (i.name.clone(), json!(hash(&i.key_schema))))
            .collect();
        tables.insert(
            name,
            json!({ "hash_key": hash(&table.key_schema), "indexes": indexes }),
        );
    }
    Ok(json!({
        "account": ACCOUNT_ID,
        "region": REGION,
        "principals": principals,
        "tables": tables,
    }))
}

/// Writes the policies of `template` where the emulator reads them (it reloads them when the
/// file changes).
pub fn write(config: &LocalConfig, template: &Template, path: &Path) -> Result<(), LocalError> {
    put(&document(config, template)?, path)
}

/// Adds the policies of `config` (a copy of the platform: its keys, its table) to those the
/// emulator enforces, keeping the running stack's.
pub fn add(config: &LocalConfig, path: &Path) -> Result<(), LocalError> {
    // The running stack's document: without it, writing only the copy's would take the live
    // functions' policies away.
    let mut current: Value = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            LocalError::Setup(format!(
                "{} does not read: start the stack first (local-stack up or exec)",
                path.display()
            ))
        })?;
    let added = document(config, &config.template)?;
    for part in ["principals", "tables"] {
        if let (Some(into), Some(from)) = (
            current.get_mut(part).and_then(Value::as_object_mut),
            added.get(part).and_then(Value::as_object),
        ) {
            into.extend(from.clone());
        } else {
            current[part] = added[part].clone();
        }
    }
    put(&current, path)
}

fn put(document: &Value, path: &Path) -> Result<(), LocalError> {
    let text = serde_json::to_string_pretty(document)
        .map_err(|e| LocalError::Setup(format!("policies: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(LocalError::io(dir.display().to_string()))?;
    }
    // Written whole, then renamed: the emulator never reads half a document.
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text).map_err(LocalError::io(partial.display().to_string()))?;
    std::fs::rename(&partial, path).map_err(LocalError::io(path.display().to_string()))
}
