//! The second baseline of the start-up benchmark: the hello-world function plus what any of ours
//! that talks to AWS cannot do without, and nothing of ours besides. It makes the SDK clients the
//! way our functions do (`AwsClients::from_env`: configuration from the Lambda environment, one
//! HTTPS client, compiled-in trust roots) and answers
//! - `GET /` with "hello" (what the SDK's set-up costs a cold start),
//! - `GET /read` after two consistent `GetItem`s on `TABLE_NAME` (the round trips of an
//!   authenticated read: the session, then the application),
//! - `GET /head` after one `HeadObject` of the published tables in `REFERENCE_DATA_BUCKET` (the
//!   round trip of the published-tables check),
//! - `GET /head-read` after both, one after the other (as the applications function does),
//! - `GET /cpu` after [`CPU_CALLS`] GetItems one after the other, with the CPU time the process
//!   spent on them (`{"calls": N, "cpu_ms": T}`): what one service call costs in our process
//!   at least, the floor of CPU per request.
//!
//! so the benchmark can say how far a row is from what the runtime, the SDK and the service
//! calls cost by themselves.

#![forbid(unsafe_code)]

use aws_sdk_dynamodb::types::AttributeValue;
use keiryoku_store::{AwsClients, ReferenceData};
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let aws = AwsClients::from_env().await;
    let table = std::env::var("TABLE_NAME").unwrap_or_default();
    let bucket = std::env::var("REFERENCE_DATA_BUCKET").unwrap_or_default();
    let reference = ReferenceData::new(aws.s3(), bucket);
    let dynamodb = aws.dynamodb.clone();
    lambda_http::run(service_fn(move |request: Request| {
        let dynamodb = dynamodb.clone();
        let table = table.clone();
        let reference = reference.clone();
        async move {
            let path = request.uri().path();
            if path.starts_with("/head") {
                reference.current().await?;
            }
            if path == "/cpu" {
                let before = cpu_ms();
                for _ in 0..CPU_CALLS {
                    get(&dynamodb, &table, "SESSION#bench").await?;
                }
                let spent = cpu_ms().zip(before).map(|(after, before)| after - before);
                let body = format!(
                    r#"{{"calls": {CPU_CALLS}, "cpu_ms": {}}}"#,
                    spent.unwrap_or(-1.0)
                );
                return Ok(Response::new(Body::from(body)));
            }
            if path.ends_with("read") {
                for pk in ["SESSION#bench", "APP#bench"] {
                    get(&dynamodb, &table, pk).await?;
                }
            }
            Ok::<_, Error>(Response::new(Body::from("hello")))
        }
    }))
    .await
}

/// How many calls `GET /cpu` times.
const CPU_CALLS: u32 = 1_000;

/// A consistent read of one item (absent or not, the round trip is the same).
async fn get(dynamodb: &aws_sdk_dynamodb::Client, table: &str, pk: &str) -> Result<(), Error> {
    dynamodb
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S("A".into()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(())
}

/// The CPU time (user + system) of this process so far, from /proc (clock ticks of 10 ms).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ, which /proc reports in, is 100 on Linux whatever the kernel's tick.
    Some((user + system) * 10.0)
}
