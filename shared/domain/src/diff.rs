//! What changed between two versions of a plan, field by field, as JSON Pointers.
//!
//! Used for the audit trail (changed paths of every edit), for the reviewer's view of a
//! resubmission (against the version returned) and of a change application (against the
//! certified plan). Objects are compared key by key; arrays element by element, so a row
//! appended shows as that row's path; a value that changed type is one change at its path.

use serde::Serialize;
use serde_json::Value;

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldChange {
    /// JSON Pointer (RFC 6901) of the field.
    pub path: String,
    /// The value before (absent: the field was added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent: the field was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// Every changed leaf between `before` and `after`, in document order, with paths under `prefix`.
///
/// ```
/// use serde_json::json;
/// let changes = keiryoku_domain::diff::changes(
///     &json!({"period": {"start": "2027-01", "months": 36}}),
///     &json!({"period": {"start": "2027-02", "months": 36}, "note": "x"}),
///     "/plan",
/// );
/// let paths: Vec<_> = changes.iter().map(|c| c.path.as_str()).collect();
/// assert_eq!(paths, ["/plan/note", "/plan/period/start"]);
/// ```
pub fn changes(before: &Value, after: &Value, prefix: &str) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(Some(before), Some(after), prefix.to_string(), &mut out);
    out
}

/// Only the paths of [`changes`].
pub fn changed_paths(before: &Value, after: &Value, prefix: &str) -> Vec<String> {
    changes(before, after, prefix)
        .into_iter()
        .map(|c| c.path)
        .collect()
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn walk(before: Option<&Value>, after: Option<&Value>, path: String, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(a.get(k), b.get(k), format!("{path}/{}", escape(k)), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(a.get(i), b.get(i), format!("{path}/{i}"), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
            path,
            before: a.cloned(),
            after: b.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unchanged_documents_have_no_changes() {
        let plan = json!({"a": [1, {"b": "x"}], "c": null});
        assert!(changes(&plan, &plan, "").is_empty());
    }

    #[test]
    fn added_removed_and_replaced_fields_are_reported_once_each() {
        let before = json!({"keep": 1, "gone": "x", "rows": [{"n": 1}], "kind": {"type": "new"}});
        let after = json!({"keep": 1, "rows": [{"n": 2}, {"n": 3}], "kind": "oops", "new": true});
        let found = changes(&before, &after, "/plan");
        let paths: Vec<_> = found.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/plan/gone",
                "/plan/kind",
                "/plan/new",
                "/plan/rows/0/n",
                "/plan/rows/1"
            ]
        );
        assert_eq!(found[0].after, None);
        assert_eq!(found[2].before, None);
        assert_eq!(found[4].after, Some(json!({"n": 3})));
    }

    #[test]
    fn keys_with_slashes_are_escaped() {
        let paths = changed_paths(&json!({}), &json!({"a/b~c": 1}), "");
        assert_eq!(paths, ["/a~1b~0c"]);
    }
}
