//! The baseline of the start-up benchmark: the smallest lambda_http function, built exactly like
//! ours, answering every request with "hello".

#![forbid(unsafe_code)]

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
