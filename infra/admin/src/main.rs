//! `keiryoku-admin`: the operator's command for the staff directory (職員名簿).
//!
//! It uses the same store code as the functions, against the table named by `TABLE_NAME` (or
//! `--table`), with the usual AWS credentials; locally `AWS_ENDPOINT_URL` points it at moto.
//!
//! ```text
//! keiryoku-admin staff list
//! keiryoku-admin staff put --sub 900001 --name "関東 審査一" --office meti-kanto [--email a@b] [--role reviewer]
//! keiryoku-admin staff deactivate --sub 900001
//! keiryoku-admin staff remove --sub 900001
//! keiryoku-admin staff import FILE.json
//! ```

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::process::ExitCode;

use keiryoku_store::{AwsClients, StaffDirectory, StaffMember, StaffRole};

const USAGE: &str = "usage: keiryoku-admin [--table NAME] staff list
       keiryoku-admin [--table NAME] staff put --sub SUB --name NAME --office OFFICE_ID [--email EMAIL] [--role reviewer]
       keiryoku-admin [--table NAME] staff deactivate --sub SUB
       keiryoku-admin [--table NAME] staff remove --sub SUB
       keiryoku-admin [--table NAME] staff import FILE.json
The table defaults to $TABLE_NAME.";

#[tokio::main]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keiryoku-admin: {message}");
            ExitCode::from(2)
        }
    }
}

/// `--name value` pairs after the command words.
fn options(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut found = HashMap::new();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {flag}\n{USAGE}"))?;
        let value = rest
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        found.insert(name.to_string(), value.clone());
    }
    Ok(found)
}

fn required<'a>(options: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    options
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
}

/// Refuses an office id the routing tables do not know: a typo would lock the reviewer out of
/// every case.
fn known_office(office: &str) -> Result<(), String> {
    keiryoku_domain::tables::tables()
        .office(office)
        .map(|_| ())
        .ok_or_else(|| format!("unknown office id {office} (see GET /reference/authorities)"))
}

async fn run(mut args: Vec<String>) -> Result<(), String> {
    let mut table = std::env::var("TABLE_NAME").ok();
    if args.first().map(String::as_str) == Some("--table") {
        if args.len() < 2 {
            return Err(USAGE.into());
        }
        table = Some(args[1].clone());
        args.drain(..2);
    }
    let table = table.ok_or_else(|| format!("no table: set TABLE_NAME or --table\n{USAGE}"))?;
    let (Some("staff"), Some(command)) = (
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
    ) else {
        return Err(USAGE.into());
    };
    let aws = AwsClients::from_env().await;
    let directory = StaffDirectory::new(aws.dynamodb.clone(), &table);
    let rest = &args[2..];
    match command {
        "list" => {
            for member in directory.list().await.map_err(|e| e.to_string())? {
                println!(
                    "{}",
                    serde_json::to_string(&member).map_err(|e| e.to_string())?
                );
            }
        }
        "put" => {
            let options = options(rest)?;
            let office = required(&options, "office")?;
            known_office(office)?;
            let role = match options.get("role").map(String::as_str) {
                None | Some("reviewer") => StaffRole::Reviewer,
                Some(other) => return Err(format!("unknown role {other} (reviewer)")),
            };
            let member = StaffMember {
                sub: required(&options, "sub")?.to_string(),
                name: required(&options, "name")?.to_string(),
                email: options.get("email").cloned(),
                office_id: office.to_string(),
                role,
                active: true,
            };
            directory.put(&member).await.map_err(|e| e.to_string())?;
            println!("put {} ({})", member.sub, member.office_id);
        }
        "deactivate" => {
            let options = options(rest)?;
            let sub = required(&options, "sub")?;
            let mut member = directory
                .get(sub)
                .await
                .map_err(|e| format!("{sub}: {e}"))?;
            member.active = false;
            directory.put(&member).await.map_err(|e| e.to_string())?;
            println!("deactivated {sub}");
        }
        "remove" => {
            let options = options(rest)?;
            let sub = required(&options, "sub")?;
            directory
                .remove(sub)
                .await
                .map_err(|e| format!("{sub}: {e}"))?;
            println!("removed {sub}");
        }
        "import" => {
            let path = rest.first().ok_or_else(|| USAGE.to_string())?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let members: Vec<StaffMember> =
                serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            for member in &members {
                known_office(&member.office_id)?;
            }
            for member in &members {
                directory.put(member).await.map_err(|e| e.to_string())?;
            }
            println!("imported {} entries", members.len());
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
