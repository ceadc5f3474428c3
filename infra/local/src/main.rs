//! `local-stack`: the whole platform on one machine (arguments parsed with clap).
//!
//! - `up`: starts moto, the dev identity provider and a gBizINFO stand-in, creates template.yaml's tables and buckets
//!   in moto, runs every function of template.yaml as a Lambda process (the same binary as in
//!   Lambda, fed through a local Lambda Runtime API) and serves template.yaml's routes on the
//!   local API gateway. Fires the functions' schedules (`Type: Schedule`) at their times, and
//!   on request (`POST $KEIRYOKU_SCHEDULER_URL/schedules/<Event>`), where
//!   `GET $KEIRYOKU_SCHEDULER_URL/invocations` counts the invocations each function has taken.
//!   Stops every child on Ctrl-C.
//! - `exec -- CMD…`: the same, runs CMD once everything answers, stops, exits with CMD's status.
//! - `events`: writes one API Gateway v2 sample event per route into `events/`.
//! - `policies [--template FILE]`: writes the functions' IAM policies where the running stack's
//!   AWS emulator enforces them (a copy of the template with a permission removed shows what
//!   would fail in AWS).
//! - `bench-startup`: time from process start to first answered request, per function, next to
//!   a hello-world lambda_http binary.

#![forbid(unsafe_code)]

mod authorizer;
mod bench;
mod config;
mod event;
mod gateway;
mod gbizinfo;
mod iam;
mod provision;
mod runtime_api;
mod schedules;
mod services;
mod stack;
mod streams;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The whole platform on one machine, from template.yaml.
#[derive(Debug, Parser)]
#[command(name = "local-stack", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs everything until Ctrl-C (prints the URLs and the test accounts).
    Up,
    /// Runs everything, then CMD once everything answers; exits with CMD's status.
    Exec {
        /// The command and its arguments (after `--`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Writes the sample events of every route and stream source into events/.
    Events,
    /// Writes the functions' policies of template.yaml (or `--template`) where the running
    /// stack's AWS emulator enforces them; it reloads them at once.
    Policies {
        #[arg(long)]
        template: Option<std::path::PathBuf>,
    },
    /// The platform's functions and gateway (at API_PORT) on a restored copy of the table,
    /// beside a running stack (its moto and identity provider), until stopped: the restore
    /// rehearsal's platform on the restored copy.
    ServeCopy {
        #[arg(long)]
        table: String,
    },
    /// Start-up time to first answered request per function, next to hello-world.
    BenchStartup {
        /// Interleaved rounds (20 unless given).
        rounds: Option<usize>,
        /// With a running stack (`exec`): an applicant's session cookie
        /// (`keiryoku_session=…`) for an authenticated read as the applications function's
        /// first request, a row of its own.
        #[arg(long, requires = "read")]
        cookie: Option<String>,
        /// The path of that read (e.g. `/applications/<id>`).
        #[arg(long, requires = "cookie")]
        read: Option<String>,
        /// Also writes the rows as JSON lines to this file (for `make perf`).
        #[arg(long)]
        json: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Up => stack::up().await.map(|()| 0),
        Command::Exec { command } => stack::exec(command).await,
        Command::Events => event::write_samples().map(|()| 0),
        Command::Policies { template } => policies(template),
        Command::ServeCopy { table } => stack::serve_copy(table).await.map(|()| 0),
        Command::BenchStartup {
            rounds,
            cookie,
            read,
            json,
        } => bench::startup(bench::Options {
            rounds,
            authenticated: cookie.zip(read),
            json,
        })
        .await
        .map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("local-stack: {e}");
            ExitCode::from(1)
        }
    }
}

fn policies(template: Option<std::path::PathBuf>) -> Result<u8, LocalError> {
    let config = config::LocalConfig::from_env()?;
    let template = match template {
        Some(path) => keiryoku_template::Template::load(path)?,
        None => config.template.clone(),
    };
    let path = iam::policies_path(&config);
    iam::write(&config, &template, &path)?;
    println!("{}", path.display());
    Ok(0)
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
