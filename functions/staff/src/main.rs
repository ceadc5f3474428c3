#![forbid(unsafe_code)]

use keiryoku_fn_staff::{StaffState, app};
use keiryoku_http::{Site, env_var};
use keiryoku_store::{AwsClients, Sessions, StaffDirectory};

/// The administrator's pages keep working during maintenance: a notice can be ended early and
/// a compromised account deactivated.
const STAFF_EXEMPT: &[&str] = &["/staff/notices", "/staff/directory"];

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    keiryoku_http::notices::install(
        keiryoku_store::Notices::new(aws.dynamodb.clone(), &table),
        keiryoku_store::NoticeAudience::Staff,
        STAFF_EXEMPT,
    );
    let state = StaffState {
        site: Site::from_env()?,
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        reads: keiryoku_store::StaffReads::new(aws.dynamodb.clone(), &table),
        notices: keiryoku_store::Notices::new(aws.dynamodb.clone(), &table),
    };
    keiryoku_http::run_with_tables(app(state), &aws).await
}
