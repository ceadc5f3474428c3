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
//! keiryoku-admin effects list                      # parked effects (certificates, mail)
//! keiryoku-admin effects replay --key APP#VERSION#EFFECT
//! keiryoku-admin certificates rerender --id CERTIFICATE_ID
//! ```
//!
//! `effects replay` and `certificates rerender` run the effects function's own code, so they also
//! need `DOCUMENTS_BUCKET`, `MAIL_FROM`, `PUBLIC_BASE_URL` (and `MAIL_CONFIGURATION_SET` if any):
//! the values of the effects function's environment.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::process::ExitCode;

use keiryoku_fn_effects::{Effector, Outcome, rerender};
use keiryoku_mail::Mailer;
use keiryoku_store::{
    Applications, AwsClients, Certificates, Documents, EffectSpec, Effects, StaffDirectory,
    StaffMember, StaffRole,
};

const USAGE: &str = "usage: keiryoku-admin [--table NAME] staff list
       keiryoku-admin [--table NAME] staff put --sub SUB --name NAME --office OFFICE_ID [--email EMAIL] [--role reviewer]
       keiryoku-admin [--table NAME] staff deactivate --sub SUB
       keiryoku-admin [--table NAME] staff remove --sub SUB
       keiryoku-admin [--table NAME] staff import FILE.json
       keiryoku-admin [--table NAME] effects list
       keiryoku-admin [--table NAME] effects replay --key APPLICATION#VERSION#EFFECT
       keiryoku-admin [--table NAME] certificates rerender --id CERTIFICATE_ID
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
    let (Some(group), Some(command)) = (
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
    ) else {
        return Err(USAGE.into());
    };
    let aws = AwsClients::from_env().await;
    match group {
        "staff" => {}
        "effects" | "certificates" => {
            return effects(&aws, &table, group, command, &args[2..]).await;
        }
        _ => return Err(USAGE.into()),
    }
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

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set (use the effects function's environment)"))
}

/// The effects function's code, configured from the environment.
fn effector(aws: &AwsClients, table: &str) -> Result<Effector, String> {
    Ok(Effector {
        applications: Applications::new(aws.dynamodb.clone(), table),
        certificates: Certificates::new(aws.dynamodb.clone(), table),
        effects: Effects::new(aws.dynamodb.clone(), table),
        documents: Documents::new(aws.s3(), env("DOCUMENTS_BUCKET")?),
        mailer: Mailer::new(
            aws.sdk_config(),
            env("MAIL_FROM")?,
            std::env::var("MAIL_CONFIGURATION_SET").ok(),
        ),
        public_base_url: env("PUBLIC_BASE_URL")?,
        max_attempts: 5,
    })
}

async fn effects(
    aws: &AwsClients,
    table: &str,
    group: &str,
    command: &str,
    rest: &[String],
) -> Result<(), String> {
    let store = Effects::new(aws.dynamodb.clone(), table);
    match (group, command) {
        ("effects", "list") => {
            for parked in store.parked().await.map_err(|e| e.to_string())? {
                println!(
                    "{}",
                    serde_json::json!({
                        "key": parked.spec.key(),
                        "attempts": parked.attempts,
                        "last_error": parked.last_error,
                        "parked_at": parked.parked_at,
                    })
                );
            }
            Ok(())
        }
        ("effects", "replay") => {
            let options = options(rest)?;
            let key = required(&options, "key")?;
            let mut parts = key.rsplitn(3, '#');
            let (Some(effect), Some(version), Some(application_id)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "--key must be APPLICATION#VERSION#EFFECT, not {key}"
                ));
            };
            let spec = EffectSpec {
                application_id: keiryoku_domain::application::ApplicationId::parse(application_id)
                    .ok_or_else(|| format!("bad application id in {key}"))?,
                version: version
                    .parse()
                    .map_err(|_| format!("bad version in {key}"))?,
                effect: keiryoku_domain::application::Effect::parse(effect)
                    .ok_or_else(|| format!("unknown effect in {key}"))?,
            };
            let effector = effector(aws, table)?;
            store
                .unpark(&spec)
                .await
                .map_err(|e| format!("{key} is not parked: {e}"))?;
            match effector.run(&spec, None).await {
                Outcome::Done | Outcome::AlreadyDone => {
                    println!("replayed {key}: done");
                    Ok(())
                }
                other => Err(format!("replayed {key}: {other:?}")),
            }
        }
        ("certificates", "rerender") => {
            let options = options(rest)?;
            let id = required(&options, "id")?;
            let effector = effector(aws, table)?;
            let document = rerender(&effector, id).await?;
            println!(
                "{}",
                serde_json::to_string(&document).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}
