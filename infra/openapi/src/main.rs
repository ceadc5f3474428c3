//! `keiryoku-openapi`: prints the OpenAPI document of every route (`make openapi` writes it to
//! functions/platform/openapi.json).

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    match keiryoku_openapi::document_json() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keiryoku-openapi: {e}");
            ExitCode::FAILURE
        }
    }
}
