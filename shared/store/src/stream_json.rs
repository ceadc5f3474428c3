//! DynamoDB's JSON form of attribute maps (`{"pk": {"S": "…"}, "version": {"N": "1"}, …}`), as
//! stream records carry them to Lambda: the local stack writes the SDK's items in it, the effects
//! function reads them back with `aws_lambda_events` (both through `serde_dynamo`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

/// DynamoDB JSON of an attribute map.
pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    serde_json::to_value(serde_dynamo::Item::from(item.clone())).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn images_round_trip() {
        let image = json!({
            "pk": {"S": "APP#1"}, "version": {"N": "3"}, "ok": {"BOOL": true},
            "tags": {"SS": ["a", "b"]}, "list": {"L": [{"S": "x"}, {"M": {"n": {"N": "1"}}}]},
            "nothing": {"NULL": true}
        });
        let item: serde_dynamo::Item =
            serde_json::from_value(image.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(item_to_json(&item.into()), image);
    }
}
