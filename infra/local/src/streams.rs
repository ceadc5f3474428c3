//! The local event source mapping: reads moto's DynamoDB stream and invokes a function with
//! Lambda's DynamoDB event, as an event source mapping of template.yaml (`Type: DynamoDB`) does:
//! records in order, batches of `BatchSize`, the filter patterns of `FilterCriteria`, partial
//! batch failures (`ReportBatchItemFailures`: the batch is retried from the first failed
//! record) and `MaximumRetryAttempts` before a batch is given up.

use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use keiryoku_template::StreamSource;
use serde_json::{Map, Value, json};

use crate::LocalError;
use crate::config::{LocalConfig, REGION};
use crate::runtime_api::FunctionRuntime;

/// How often an idle stream is read.
const POLL: Duration = Duration::from_millis(200);
/// The pause before a failed batch is delivered again.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// Starts one reader per stream source of a function.
pub async fn start(
    config: &LocalConfig,
    function: &str,
    source: &StreamSource,
    runtime: FunctionRuntime,
) -> Result<(), LocalError> {
    let sdk = crate::provision::sdk_config(config).await;
    let table = config
        .physical_name(&source.table)
        .ok_or_else(|| LocalError::Setup(format!("{function}: unknown table {}", source.table)))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let described = dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .map_err(|e| LocalError::Setup(format!("describe {table}: {e}")))?;
    let stream_arn = described
        .table()
        .and_then(|t| t.latest_stream_arn())
        .ok_or_else(|| LocalError::Setup(format!("{table} has no stream")))?
        .to_string();
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
    let patterns: Vec<Value> = source
        .filter_patterns
        .iter()
        .map(|p| serde_json::from_str(p))
        .collect::<Result<_, _>>()
        .map_err(|e| LocalError::Setup(format!("{function}: filter pattern: {e}")))?;
    let reader = Reader {
        streams,
        stream_arn,
        source: source.clone(),
        patterns,
        runtime,
        label: format!("{function}.{}", source.event),
    };
    tokio::spawn(async move { reader.run().await });
    Ok(())
}

struct Reader {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    source: StreamSource,
    patterns: Vec<Value>,
    runtime: FunctionRuntime,
    label: String,
}

impl Reader {
    async fn run(self) {
        let mut iterator = None;
        loop {
            if iterator.is_none() {
                iterator = self.first_iterator().await;
                if iterator.is_none() {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            }
            let out = match self
                .streams
                .get_records()
                .set_shard_iterator(iterator.clone())
                .limit(1000)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    eprintln!("[{}] get records: {e}", self.label);
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let events: Vec<Value> = out
                .records()
                .iter()
                .map(|r| lambda_record(r, &self.stream_arn))
                .filter(|r| self.passes(r))
                .collect();
            for batch in events.chunks(self.source.batch_size.max(1) as usize) {
                self.deliver(batch.to_vec()).await;
            }
            iterator = out.next_shard_iterator().map(str::to_string);
            if out.records().is_empty() {
                tokio::time::sleep(POLL).await;
            }
        }
    }

    async fn first_iterator(&self) -> Option<String> {
        let described = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .ok()?;
        let shard = described
            .stream_description()?
            .shards()
            .first()?
            .shard_id()?
            .to_string();
        self.streams
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .ok()?
            .shard_iterator()
            .map(str::to_string)
    }

    fn passes(&self, record: &Value) -> bool {
        self.patterns.is_empty() || self.patterns.iter().any(|p| matches(p, record))
    }

    /// Invokes the function with a batch until it succeeds, retrying from the first failed
    /// record. `MaximumRetryAttempts` bounds the retries without progress: a retry that got past
    /// some records (the checkpoint moved) starts the count again.
    async fn deliver(&self, mut batch: Vec<Value>) {
        let mut retries = 0;
        while !batch.is_empty() {
            let event = json!({ "Records": batch });
            let failed_from = match self.runtime.invoke(event.to_string().into_bytes()).await {
                Ok(answer) => self.first_failure(&batch, &answer),
                Err(e) => {
                    eprintln!("[{}] invoke failed: {e}", self.label);
                    Some(0)
                }
            };
            let Some(index) = failed_from else {
                return;
            };
            if retries >= self.source.maximum_retry_attempts {
                eprintln!(
                    "[{}] gave up on {} records after {retries} retries",
                    self.label,
                    batch.len() - index
                );
                return;
            }
            retries = if index > 0 { 1 } else { retries + 1 };
            batch.drain(..index);
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Where to resume: the first record named in `batchItemFailures` (the whole batch when
    /// the answer is not a success).
    fn first_failure(&self, batch: &[Value], answer: &[u8]) -> Option<usize> {
        let Ok(answer) = serde_json::from_slice::<Value>(answer) else {
            return Some(0);
        };
        if !self.source.report_batch_item_failures {
            return None;
        }
        let failed: Vec<&str> = answer
            .get("batchItemFailures")?
            .as_array()?
            .iter()
            .filter_map(|f| f.get("itemIdentifier")?.as_str())
            .collect();
        batch.iter().position(|r| {
            failed.contains(&r["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default())
        })
    }
}

/// A stream record as Lambda receives it.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let image =
        |image: Option<&std::collections::HashMap<String, AttributeValue>>| image.map(item_json);
    let mut dynamodb = Map::new();
    if let Some(change) = change {
        dynamodb.insert(
            "Keys".into(),
            item_json(change.keys().unwrap_or(&Default::default())),
        );
        if let Some(new) = image(change.new_image()) {
            dynamodb.insert("NewImage".into(), new);
        }
        if let Some(old) = image(change.old_image()) {
            dynamodb.insert("OldImage".into(), old);
        }
        dynamodb.insert(
            "SequenceNumber".into(),
            json!(change.sequence_number().unwrap_or_default()),
        );
        dynamodb.insert(
            "SizeBytes".into(),
            json!(change.size_bytes().unwrap_or_default()),
        );
        dynamodb.insert(
            "StreamViewType".into(),
            json!(
                change
                    .stream_view_type()
                    .map(|v| v.as_str())
                    .unwrap_or("NEW_AND_OLD_IMAGES")
            ),
        );
        if let Some(at) = change.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(at.secs()));
        }
    }
    json!({
        "eventID": record.event_id().unwrap_or_default(),
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), value_json(v)))
            .collect(),
    )
}

fn value_json(value: &AttributeValue) -> Value {
    use base64::Engine;
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(v) => json!({"L": v.iter().map(value_json).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": item_json(m)}),
        _ => json!({"NULL": true}),
    }
}

/// Whether an event matches a filter pattern (the subset of Lambda's filter syntax the template
/// uses: nested objects, arrays of allowed values, `{"prefix": …}`, `{"exists": …}` and
/// `{"anything-but": […]}`).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(key, expected)| {
            let actual = event.get(key);
            match expected {
                Value::Array(allowed) => allowed.iter().any(|a| allowed_value(a, actual)),
                Value::Object(_) => actual.is_some_and(|a| matches(expected, a)),
                other => actual == Some(other),
            }
        }),
        _ => false,
    }
}

fn allowed_value(allowed: &Value, actual: Option<&Value>) -> bool {
    match allowed {
        Value::Object(rule) => {
            if let Some(prefix) = rule.get("prefix").and_then(Value::as_str) {
                return actual
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with(prefix));
            }
            if let Some(exists) = rule.get("exists").and_then(Value::as_bool) {
                return actual.is_some() == exists;
            }
            // As in Lambda: the field must be there, with none of the values.
            if let Some(excluded) = rule.get("anything-but") {
                let excluded = match excluded {
                    Value::Array(values) => values.as_slice(),
                    value => std::slice::from_ref(value),
                };
                return actual.is_some_and(|a| !excluded.contains(a));
            }
            false
        }
        literal => actual == Some(literal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns_match_like_lambda() {
        let pattern = json!({"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"kind": {"S": ["application"]}}}});
        let event = |name: &str, kind: &str| json!({"eventName": name, "dynamodb": {"NewImage": {"kind": {"S": kind}}}});
        assert!(matches(&pattern, &event("MODIFY", "application")));
        assert!(!matches(&pattern, &event("REMOVE", "application")));
        assert!(!matches(&pattern, &event("INSERT", "session")));
        assert!(!matches(&pattern, &json!({"eventName": "INSERT"})));
        let prefix = json!({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "APP#"}]}}}});
        assert!(matches(
            &prefix,
            &json!({"dynamodb": {"Keys": {"pk": {"S": "APP#1"}}}})
        ));
        assert!(!matches(
            &prefix,
            &json!({"dynamodb": {"Keys": {"pk": {"S": "SESSION#1"}}}})
        ));
        let not_draft =
            json!({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["draft"]}]}}}});
        let status = |s: &str| json!({"dynamodb": {"NewImage": {"status": {"S": s}}}});
        assert!(matches(&not_draft, &status("submitted")));
        assert!(!matches(&not_draft, &status("draft")));
        assert!(!matches(&not_draft, &json!({"dynamodb": {"NewImage": {}}})));
    }
}
