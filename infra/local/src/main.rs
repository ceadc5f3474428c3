//! `local-stack`: the whole platform on one machine.
//!
//! - `up`: starts moto, the dev identity provider and a gBizINFO stand-in, creates template.yaml's tables and buckets
//!   in moto, runs every function of template.yaml as a Lambda process (the same binary as in
//!   Lambda, fed through a local Lambda Runtime API) and serves template.yaml's routes on the
//!   local API gateway. Stops every child on Ctrl-C.
//! - `exec -- CMD…`: the same, runs CMD once everything answers, stops, exits with CMD's status.
//! - `events`: writes one API Gateway v2 sample event per route into `events/`.
//! - `bench-startup`: time from process start to first answered request, per function, next to
//!   a hello-world lambda_http binary.

#![forbid(unsafe_code)]

mod bench;
mod config;
mod event;
mod gateway;
mod gbizinfo;
mod provision;
mod runtime_api;
mod services;
mod stack;
mod streams;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => stack::up().await.map(|()| 0),
        Some("exec") => {
            let command: Vec<String> = args
                .iter()
                .skip(1)
                .skip_while(|a| *a == "--")
                .cloned()
                .collect();
            stack::exec(command).await
        }
        Some("events") => event::write_samples().map(|()| 0),
        Some("bench-startup") => bench::startup(args.get(1).map(String::as_str))
            .await
            .map(|()| 0),
        _ => {
            eprintln!(
                "usage: local-stack up | exec -- CMD [ARGS…] | events | bench-startup [ROUNDS]"
            );
            Ok(2)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("local-stack: {e}");
            ExitCode::from(1)
        }
    }
}

/// Everything that can stop the local stack, with a message that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error(transparent)]
    Template(#[from] keiryoku_template::TemplateError),
    #[error("{0}")]
    Setup(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl LocalError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalError {
        let what = what.into();
        move |source| LocalError::Io { what, source }
    }
}
