#![forbid(unsafe_code)]

use keiryoku_fn_documents::{DocumentsState, app};
use keiryoku_http::{Site, env_var};
use keiryoku_store::{
    Applications, AwsClients, Cases, Certificates, Documents, Register, Sessions, StaffDirectory,
};

// A Lambda process handles one event at a time: one thread, no work-stealing wake-ups
// (about a sixth of our CPU per request went to them; see README, Performance).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = AwsClients::from_env().await;
    let table = env_var("TABLE_NAME")?;
    let state = DocumentsState {
        site: Site::from_env()?,
        sessions: Sessions::new(aws.dynamodb.clone(), &table),
        staff: StaffDirectory::new(aws.dynamodb.clone(), &table),
        applications: Applications::new(aws.dynamodb.clone(), &table),
        cases: Cases::new(aws.dynamodb.clone(), &table),
        certificates: Certificates::new(aws.dynamodb.clone(), &table),
        register: Register::new(aws.dynamodb.clone(), &table),
        documents: Documents::new(aws.s3(), env_var("DOCUMENTS_BUCKET")?),
        reads: keiryoku_store::StaffReads::new(aws.dynamodb.clone(), &table),
    };
    keiryoku_http::run(app(state)).await
}
