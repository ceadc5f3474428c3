//! API Gateway HTTP API (payload format 2.0) events: built from real HTTP requests by the local
//! gateway, written as samples into `events/`, and the function's proxy response turned back
//! into HTTP — the same shapes API Gateway produces and expects.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use serde_json::{Value, json};

use crate::LocalError;
use crate::config::{ACCOUNT_ID, LocalConfig};

/// What the gateway knows about one incoming request.
pub struct RequestFacts<'a> {
    pub route_key: &'a str,
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub path_parameters: &'a [(String, String)],
    pub body: &'a [u8],
    pub source_ip: &'a str,
    pub request_id: &'a str,
    /// When API Gateway received it.
    pub at: time::OffsetDateTime,
}

fn percent_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn is_textual(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime == "application/json"
        || mime.ends_with("+json")
        || mime == "application/x-www-form-urlencoded"
        || mime.ends_with("xml")
}

/// The payload-v2 event API Gateway would send for this request.
pub fn request_event(facts: &RequestFacts<'_>) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in facts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(facts.raw_query.as_bytes()) {
        query
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }
    let path_parameters: BTreeMap<&str, String> = facts
        .path_parameters
        .iter()
        .map(|(k, v)| (k.as_str(), percent_decode(v)))
        .collect();
    let now = facts.at;
    let time_text = now
        .format(time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();

    let mut event = json!({
        "version": "2.0",
        "routeKey": facts.route_key,
        "rawPath": facts.raw_path,
        "rawQueryString": facts.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": headers.get("host").cloned().unwrap_or_else(|| "127.0.0.1".into()),
            "domainPrefix": "local",
            "http": {
                "method": facts.method,
                "path": facts.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": facts.source_ip,
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": facts.request_id,
            "routeKey": facts.route_key,
            "stage": "$default",
            "time": time_text,
            "timeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if !facts.body.is_empty() {
        let text = std::str::from_utf8(facts.body)
            .ok()
            .filter(|_| is_textual(headers.get("content-type").map(String::as_str)));
        match text {
            Some(text) => event["body"] = json!(text),
            None => {
                event["body"] = json!(STANDARD.encode(facts.body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// Turns the function's proxy response into an HTTP response.
pub fn proxy_response(payload: &[u8]) -> Result<http::Response<Vec<u8>>, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("response is not JSON: {e}"))?;
    let status = value["statusCode"]
        .as_u64()
        .ok_or("response has no statusCode")?;
    let mut builder =
        http::Response::builder().status(u16::try_from(status).map_err(|e| e.to_string())?);
    if let Some(headers) = value["headers"].as_object() {
        for (name, v) in headers {
            if let Some(v) = v.as_str() {
                builder = builder.header(name, v);
            }
        }
    }
    if let Some(headers) = value["multiValueHeaders"].as_object() {
        for (name, values) in headers {
            for v in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                builder = builder.header(name, v);
            }
        }
    }
    for cookie in value["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        builder = builder.header(http::header::SET_COOKIE, cookie);
    }
    let body = match value["body"].as_str() {
        None => Vec::new(),
        Some(b) if value["isBase64Encoded"].as_bool() == Some(true) => STANDARD
            .decode(b)
            .map_err(|e| format!("body is not base64: {e}"))?,
        Some(b) => b.as_bytes().to_vec(),
    };
    builder.body(body).map_err(|e| e.to_string())
}

/// Writes `events/<binary>/<event>.json`: one sample request per route of template.yaml, usable
/// with `cargo lambda invoke --data-file`.
pub fn write_samples() -> Result<(), LocalError> {
    let config = LocalConfig::from_env()?;
    for (function, route) in config.template.routes() {
        let (method, path, params): (&str, String, Vec<(String, String)>) = if route.is_default() {
            ("GET", "/no-such-route".into(), vec![])
        } else {
            let method = if route.method == "ANY" {
                "GET"
            } else {
                route.method.as_str()
            };
            let mut path = route.path.clone();
            let mut params = vec![];
            for segment in route.path.split('/') {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    let name = name.trim_end_matches('+');
                    let sample = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_string();
                    path = path.replace(segment, &sample);
                    params.push((name.to_string(), sample));
                }
            }
            (method, path, params)
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", http::HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", http::HeaderValue::from_static("curl/8.5.0"));
        headers.insert("accept", http::HeaderValue::from_static("application/json"));
        let mut body: &[u8] = b"";
        let mut query = "";
        match (method, route.path.as_str()) {
            ("GET", "/auth/login") => query = "login_hint=applicant-tokyo",
            ("GET", "/auth/callback") => {
                query = "code=sample-code&state=sample-state";
                headers.insert(
                    "cookie",
                    http::HeaderValue::from_static("keiryoku_login=sample-state"),
                );
            }
            ("GET", "/applications") => {
                query = "limit=20";
                headers.insert(
                    "cookie",
                    http::HeaderValue::from_static("keiryoku_session=sample-session"),
                );
            }
            ("POST", _) | ("PUT", _) | ("PATCH", _) | ("DELETE", _) => {
                headers.insert(
                    "cookie",
                    http::HeaderValue::from_static(
                        "keiryoku_session=sample-session; csrf_token=sample-csrf",
                    ),
                );
                headers.insert(
                    "x-csrf-token",
                    http::HeaderValue::from_static("sample-csrf"),
                );
                headers.insert(
                    "content-type",
                    http::HeaderValue::from_static("application/json"),
                );
                headers.insert(
                    "origin",
                    http::HeaderValue::from_static("http://127.0.0.1:3000"),
                );
                if route.path == "/applications" {
                    body =
                        "{\"plan\":{\"applicant\":{\"name\":\"株式会社霞が関精機\"}}}".as_bytes();
                }
            }
            _ => {
                headers.insert(
                    "cookie",
                    http::HeaderValue::from_static("keiryoku_session=sample-session"),
                );
            }
        }
        if route.auth.is_some() {
            // A machine client: a bearer token, no cookie (the authorizer's claims below).
            headers.remove("cookie");
            headers.insert(
                "authorization",
                http::HeaderValue::from_static("Bearer sample-access-token"),
            );
        }
        let mut event = request_event(&RequestFacts {
            route_key: &route.route_key(),
            method,
            raw_path: &path,
            raw_query: query,
            headers: &headers,
            path_parameters: &params,
            body,
            source_ip: "127.0.0.1",
            request_id: "sample-request-id",
            // A fixed instant, so regenerating the samples changes only what the template changed.
            at: time::macros::datetime!(2026-11-26 01:00 UTC),
        });
        if let Some(auth) = &route.auth {
            // What API Gateway's JWT authorizer hands over for an admitted token.
            event["requestContext"]["authorizer"] = serde_json::json!({
                "jwt": {
                    "claims": {
                        "client_id": "chusho-kikakuka",
                        "sub": "chusho-kikakuka",
                        "scope": auth.scopes.join(" "),
                        "iss": "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_sample",
                        "exp": "1764122400",
                        "iat": "1764118800",
                    },
                    "scopes": auth.scopes,
                }
            });
        }
        let dir = config.root.join("events").join(&function.binary);
        std::fs::create_dir_all(&dir)
            .map_err(LocalError::io(format!("create {}", dir.display())))?;
        let file = dir.join(format!("{}.json", route.event));
        let text =
            serde_json::to_string_pretty(&event).map_err(|e| LocalError::Setup(e.to_string()))?;
        std::fs::write(&file, text + "\n")
            .map_err(LocalError::io(format!("write {}", file.display())))?;
        println!("{}", file.display());
    }
    for function in &config.template.functions {
        for source in &function.streams {
            let dir = config.root.join("events").join(&function.binary);
            std::fs::create_dir_all(&dir)
                .map_err(LocalError::io(format!("create {}", dir.display())))?;
            for (name, event) in stream_samples(&config, source)? {
                let file = dir.join(format!("{}-{name}.json", source.event));
                let text = serde_json::to_string_pretty(&event)
                    .map_err(|e| LocalError::Setup(e.to_string()))?;
                std::fs::write(&file, text + "\n")
                    .map_err(LocalError::io(format!("write {}", file.display())))?;
                println!("{}", file.display());
            }
        }
        for source in &function.schedules {
            let dir = config.root.join("events").join(&function.binary);
            std::fs::create_dir_all(&dir)
                .map_err(LocalError::io(format!("create {}", dir.display())))?;
            let file = dir.join(format!("{}.json", source.event));
            // A fixed instant (08:00 in Japan), so regenerating the samples changes nothing.
            let event = crate::schedules::scheduled_event(
                &source.event,
                time::macros::datetime!(2026-11-25 23:00 UTC),
                "00000000-0000-4000-8000-000000000000",
            );
            let text = serde_json::to_string_pretty(&event)
                .map_err(|e| LocalError::Setup(e.to_string()))?;
            std::fs::write(&file, text + "\n")
                .map_err(LocalError::io(format!("write {}", file.display())))?;
            println!("{}", file.display());
        }
    }
    Ok(())
}

/// One Lambda DynamoDB stream event per trigger of the effects (a status change of an
/// application), with fixed ids and times so that regenerating changes nothing.
pub fn stream_samples(
    config: &LocalConfig,
    source: &keiryoku_template::StreamSource,
) -> Result<Vec<(&'static str, serde_json::Value)>, LocalError> {
    use keiryoku_domain::application::{
        Actor, Application, ApplicationId, Certification, Decision, DecisionKind, FieldComment,
        OfficeId, PlanDocument, Rejection, ReturnNote, Submission,
    };
    use keiryoku_domain::status::{Role, Status};
    let setup = |e: String| LocalError::Setup(e);
    let plan: serde_json::Value = serde_json::from_str(include_str!(
        "../../../shared/domain/tests/fixtures/complete_plan.json"
    ))
    .map_err(|e| setup(e.to_string()))?;
    let plan = PlanDocument::from_value(plan).ok_or_else(|| setup("plan fixture".into()))?;
    let at = time::macros::datetime!(2026-11-26 01:00 UTC);
    let on = time::macros::date!(2026 - 11 - 26);
    let id = ApplicationId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        .ok_or_else(|| setup("sample id".into()))?;
    let mut draft = Application::new_draft(
        id,
        "corp-9010401234567".into(),
        "100001".into(),
        plan,
        Some("ichiro.keizai@kasumigaseki-seiki.example.jp".into()),
        at,
    )
    .map_err(|e| setup(e.to_string()))?;
    draft.version = 4;
    let routing = keiryoku_domain::application::route_plan(&draft.typed_plan())
        .map_err(|e| setup(e.to_string()))?;
    let reviewer = Actor {
        sub: "900001".into(),
        name: Some("関東 審査一".into()),
        role: Role::Reviewer,
        on_behalf_of: "meti-kanto".into(),
    };
    let office = OfficeId::from("meti-kanto");
    let mut submitted = draft.clone();
    submitted.version = 5;
    submitted.status = Status::Submitted;
    submitted.submission = Some(Submission {
        receipt_number: "R2026-000123".into(),
        received_at: at,
        received_on: on,
        due_on: time::macros::date!(2026 - 12 - 16),
        office_ids: vec![office.clone()],
        routing,
        revision: 5,
    });
    let next = |status: Status| {
        let mut record = submitted.clone();
        record.version = 6;
        record.status = status;
        record
    };
    let mut returned = next(Status::Returned);
    returned.returned = Some(ReturnNote {
        at,
        by: reviewer.clone(),
        office_id: office.clone(),
        message: "現状認識の課題を具体的に記載してください。".into(),
        comments: vec![FieldComment {
            path: "/plan/current_state/challenges".into(),
            message: "課題の原因も記載してください。".into(),
        }],
        revision: 5,
    });
    let mut certified = next(Status::Certified);
    certified.decisions.insert(
        office.clone(),
        Decision {
            decision: DecisionKind::Approved,
            by: reviewer.clone(),
            at,
            certification_number: Some("関東経産第2026-00001号".into()),
        },
    );
    certified.certification = Some(Certification {
        number: "関東経産第2026-00001号".into(),
        numbers: [(office.clone(), "関東経産第2026-00001号".to_string())].into(),
        certified_on: on,
        certified_at: at,
        office_ids: vec![office.clone()],
        revision: 5,
    });
    let mut rejected = next(Status::Rejected);
    rejected.rejection = Some(Rejection {
        at,
        by: reviewer,
        office_id: office,
        reason: "労働生産性の算定根拠が示されていません。".into(),
    });
    let withdrawn = next(Status::Withdrawn);
    let table = config
        .physical_name(&source.table)
        .unwrap_or_else(|| source.table.clone());
    let stream_arn = format!(
        "arn:aws:dynamodb:{}:{}:table/{table}/stream/2026-11-26T01:00:00.000",
        crate::config::REGION,
        crate::config::ACCOUNT_ID
    );
    let image = |record: &Application| {
        keiryoku_store::application_to_item(&mut record.clone())
            .map(|(item, _)| keiryoku_store::item_to_json(&item))
            .map_err(|e| LocalError::Setup(e.to_string()))
    };
    let mut samples = Vec::new();
    for (name, old, new, sequence) in [
        ("submitted", &draft, &submitted, "100000000000000000001"),
        ("returned", &submitted, &returned, "100000000000000000002"),
        ("certified", &submitted, &certified, "100000000000000000003"),
        ("rejected", &submitted, &rejected, "100000000000000000004"),
        ("withdrawn", &submitted, &withdrawn, "100000000000000000005"),
    ] {
        samples.push((
            name,
            serde_json::json!({"Records": [{
                "eventID": format!("sample-{name}"),
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": crate::config::REGION,
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_795_654_800,
                    "Keys": {"pk": {"S": format!("APP#{}", new.id)}, "sk": {"S": "APP"}},
                    "NewImage": image(new)?,
                    "OldImage": image(old)?,
                    "SequenceNumber": sequence,
                    "SizeBytes": 4096,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": stream_arn,
            }]}),
        ));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_move_out_of_headers_and_binary_bodies_are_base64() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", http::HeaderValue::from_static("a=1; b=2"));
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        headers.append("x-multi", http::HeaderValue::from_static("one"));
        headers.append("x-multi", http::HeaderValue::from_static("two"));
        let params = vec![("id".to_string(), "a%20b".to_string())];
        let event = request_event(&RequestFacts {
            route_key: "POST /x/{id}",
            method: "POST",
            raw_path: "/x/a%20b",
            raw_query: "q=1&q=2&s=%E6%97%A5",
            headers: &headers,
            path_parameters: &params,
            body: &[0xff, 0xfe],
            source_ip: "127.0.0.1",
            request_id: "r",
            at: time::OffsetDateTime::UNIX_EPOCH,
        });
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["headers"]["x-multi"], "one,two");
        assert_eq!(event["queryStringParameters"]["q"], "1,2");
        assert_eq!(event["queryStringParameters"]["s"], "日");
        assert_eq!(event["pathParameters"]["id"], "a b");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "//4=");
    }

    #[test]
    fn proxy_response_carries_cookies_and_decodes_base64() {
        let payload = json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json"},
            "cookies": ["a=1; HttpOnly", "b=2"],
            "body": "aGk=",
            "isBase64Encoded": true
        });
        let response = proxy_response(payload.to_string().as_bytes());
        let Ok(response) = response else {
            panic!("parse failed")
        };
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(response.body(), b"hi");
    }
}
