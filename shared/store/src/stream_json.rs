//! DynamoDB's JSON form of attribute values (`{"S": "…"}`, `{"N": "1"}`, …), as stream records
//! carry them to Lambda: from and to the SDK's attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::StoreError;

/// An attribute map from DynamoDB JSON (`{"pk": {"S": "APP#1"}, …}`).
pub fn item_from_json(image: &Value) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let object = image
        .as_object()
        .ok_or_else(|| StoreError::Corrupt("image is not an object".into()))?;
    object
        .iter()
        .map(|(name, value)| Ok((name.clone(), value_from_json(value)?)))
        .collect()
}

fn value_from_json(value: &Value) -> Result<AttributeValue, StoreError> {
    let bad = || StoreError::Corrupt(format!("not a DynamoDB JSON value: {value}"));
    let (kind, inner) = value
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(bad)?;
    let text = || inner.as_str().map(str::to_string).ok_or_else(bad);
    let texts = || -> Result<Vec<String>, StoreError> {
        inner
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect()
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text()?),
        "N" => AttributeValue::N(text()?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or_else(bad)?),
        "NULL" => AttributeValue::Null(true),
        "B" => AttributeValue::B(Blob::new(STANDARD.decode(text()?).map_err(|_| bad())?)),
        "SS" => AttributeValue::Ss(texts()?),
        "NS" => AttributeValue::Ns(texts()?),
        "L" => AttributeValue::L(
            inner
                .as_array()
                .ok_or_else(bad)?
                .iter()
                .map(value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        "M" => AttributeValue::M(item_from_json(inner)?),
        _ => return Err(bad()),
    })
}

/// DynamoDB JSON of an attribute map.
pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), value_to_json(value)))
            .collect::<Map<_, _>>(),
    )
}

fn value_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::B(b) => json!({"B": STANDARD.encode(b.as_ref())}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => {
            json!({"BS": v.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>()})
        }
        AttributeValue::L(v) => json!({"L": v.iter().map(value_to_json).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": item_to_json(m)}),
        _ => json!({"NULL": true}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip() {
        let image = json!({
            "pk": {"S": "APP#1"}, "version": {"N": "3"}, "ok": {"BOOL": true},
            "tags": {"SS": ["a", "b"]}, "list": {"L": [{"S": "x"}, {"M": {"n": {"N": "1"}}}]},
            "nothing": {"NULL": true}
        });
        let item = item_from_json(&image).unwrap_or_default();
        assert_eq!(item_to_json(&item), image);
        assert!(item_from_json(&json!({"x": {"Q": 1}})).is_err());
    }
}
