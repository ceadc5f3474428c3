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
//! keiryoku-admin certificates show --id CERTIFICATE_ID   # with "provisional": unverified facts printed
//! keiryoku-admin audit verify --id APPLICATION_ID       # the audit trail's hash chain holds
//! keiryoku-admin sessions list --sub SUB [--staff]     # an account's sessions (never tokens)
//! keiryoku-admin sessions revoke --sub SUB [--staff]   # ends them all at once
//! keiryoku-admin facts unverified [--printed] [--tables FILE]
//! keiryoku-admin tables export > tables.json          # the tables of this build, to correct
//! keiryoku-admin tables check tables.json
//! keiryoku-admin tables publish tables.json           # in force everywhere within the refresh interval
//! keiryoku-admin tables current | withdraw
//! ```
//!
//! `tables publish|current|withdraw` use the bucket named by `REFERENCE_DATA_BUCKET` (or
//! `--bucket`), the stack's `ReferenceDataBucketName` output.
//!
//! `effects replay` and `certificates rerender` run the effects function's own code, so they also
//! need `DOCUMENTS_BUCKET`, `MAIL_FROM`, `PUBLIC_BASE_URL` (and `MAIL_CONFIGURATION_SET` if any):
//! the values of the effects function's environment.

#![forbid(unsafe_code)]

mod legacy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use keiryoku_domain::application::{ApplicationId, Effect};
use keiryoku_fn_effects::{Effector, Outcome, rerender};
use keiryoku_mail::Mailer;
use keiryoku_store::{
    Applications, AwsClients, Certificates, DirectoryActor, DirectoryEntry, Documents, EffectSpec,
    Effects, RoleName, StaffDirectory, StaffMember,
};

/// The operator's command: staff directory, parked effects, certificate re-rendering.
#[derive(Debug, Parser)]
#[command(name = "keiryoku-admin", version)]
struct Cli {
    /// The platform's DynamoDB table.
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    #[command(subcommand)]
    group: Group,
}

#[derive(Debug, Subcommand)]
enum Group {
    /// The staff directory (職員名簿).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The agencies' machine clients of the export (提供先) and what each may see.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// The legacy system's certifications: import an extract, or generate a synthetic one.
    #[command(subcommand)]
    Legacy(LegacyCommand),
    /// Certificates or mail that failed five times and were parked.
    #[command(subcommand)]
    Effects(EffectsCommand),
    /// Issued certificates (認定書).
    #[command(subcommand)]
    Certificates(CertificatesCommand),
    /// The facts of the rule tables and certificate templates.
    #[command(subcommand)]
    Facts(FactsCommand),
    /// The reference tables officials correct (提出先, 指針, 手続の規則), published without a
    /// new build.
    #[command(subcommand)]
    Tables(TablesCommand),
    /// Login sessions of one account.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The audit trail (append-only, hash-chained).
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks that every record of an application's trail follows the one before it and
    /// matches its hash, and that every record of its write-once copy (the Object Lock bucket,
    /// `AUDIT_ARCHIVE_BUCKET` or `--archive-bucket`) is still in the table unchanged; exits 2
    /// naming the first record that is not.
    Verify {
        #[arg(long)]
        id: String,
        /// The stack's `AuditArchiveBucketName` (default: `AUDIT_ARCHIVE_BUCKET`); without
        /// one, the table's chain alone is checked, which cannot show its last records
        /// replaced or dropped.
        #[arg(long, env = "AUDIT_ARCHIVE_BUCKET")]
        archive_bucket: Option<String>,
        /// A table record the copy still lacks this long after it was written fails the
        /// check (the stream brings each within seconds).
        #[arg(long, default_value_t = 15)]
        archive_grace_minutes: i64,
    },
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// The account's live sessions, newest first, one JSON object a line.
    List {
        /// GビズID `sub` (or the staff provider's, with --staff).
        #[arg(long)]
        sub: String,
        #[arg(long)]
        staff: bool,
    },
    /// Ends every session of the account at once (a lost device, a leaver).
    Revoke {
        #[arg(long)]
        sub: String,
        #[arg(long)]
        staff: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TablesCommand {
    /// Prints the tables embedded in this build as one document, the shape `publish` takes.
    Export,
    /// Checks a document as the functions will before using it; prints its versions.
    Check { file: std::path::PathBuf },
    /// Checks, then publishes a document (a new version of the object; earlier ones are kept).
    Publish {
        file: std::path::PathBuf,
        #[arg(long, env = "REFERENCE_DATA_BUCKET")]
        bucket: String,
    },
    /// What is published now, with its versions.
    Current {
        #[arg(long, env = "REFERENCE_DATA_BUCKET")]
        bucket: String,
    },
    /// Withdraws the published tables: the functions go back to the copy of their build.
    Withdraw {
        #[arg(long, env = "REFERENCE_DATA_BUCKET")]
        bucket: String,
    },
}

#[derive(Debug, Subcommand)]
enum FactsCommand {
    /// Every fact no public source confirmed, one JSON object a line (table, row, what, source,
    /// printed: whether an issued 認定書 prints it). Needs no table and no AWS.
    Unverified {
        /// Only the facts an issued 認定書 prints.
        #[arg(long)]
        printed: bool,
        /// The facts of a tables document (`tables export`, corrected) instead of this build's.
        #[arg(long)]
        tables: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Every entry, one JSON object a line.
    List,
    /// Adds or replaces an entry (active). A reviewer needs --office; a reader exactly one of
    /// --office, --network, --ministry; planning and administrator none.
    Put {
        /// The staff identity provider's `sub`.
        #[arg(long)]
        sub: String,
        #[arg(long)]
        name: String,
        /// An office id of authorities.json (`meti-kanto`).
        #[arg(long)]
        office: Option<String>,
        /// A network id of authorities.json (`meti-bureaus`), for a reader.
        #[arg(long)]
        network: Option<String>,
        /// A ministry id of authorities.json (`meti`), for a reader.
        #[arg(long)]
        ministry: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, value_enum, default_value = "reviewer")]
        role: RoleArg,
    },
    /// Keeps the entry but refuses its sessions at once.
    Deactivate {
        #[arg(long)]
        sub: String,
    },
    /// Removes the entry.
    Remove {
        #[arg(long)]
        sub: String,
    },
    /// Puts every entry of a JSON file (the format of infra/staff-directory.json).
    Import { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
enum LegacyCommand {
    /// Imports an extract (CSV, the columns of docs/legacy-import.md) as migrated certified
    /// records: each rejected row and a summary, one JSON object a line. Idempotent: run it
    /// again after a crash.
    Import {
        file: std::path::PathBuf,
        /// Skip the rows before this line (the header is line 1).
        #[arg(long, default_value_t = 0)]
        from_line: u64,
    },
    /// Writes a synthetic extract of `--rows` certifications (deterministic for a `--seed`).
    Generate {
        #[arg(long)]
        rows: u64,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum AgencyCommand {
    /// Every registered client, one JSON object a line.
    List,
    /// Registers (or replaces) a client: the OAuth client id its tokens carry, and its scope:
    /// exactly one of --national, --ministry, --network, --office.
    Put {
        #[arg(long)]
        client_id: String,
        /// 提供先の名称.
        #[arg(long)]
        name: String,
        /// Every authority (the SME Agency).
        #[arg(long)]
        national: bool,
        /// A ministry id of authorities.json (`meti`).
        #[arg(long)]
        ministry: Option<String>,
        /// A network id of authorities.json (`meti-bureaus`).
        #[arg(long)]
        network: Option<String>,
        /// An office id of authorities.json (`meti-kanto`).
        #[arg(long)]
        office: Option<String>,
        /// Only plans whose data-use consent (データ利活用同意) stands (ミラサポCONNECT).
        #[arg(long)]
        consent_bound: bool,
    },
    /// Puts every client of a JSON file (the format of infra/agency-clients.json).
    Import { file: std::path::PathBuf },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// 審査担当.
    Reviewer,
    /// 局・本省 閲覧.
    Reader,
    /// 企画課.
    Planning,
    /// 管理者.
    Administrator,
}

#[derive(Debug, Subcommand)]
enum EffectsCommand {
    /// Parked effects, one JSON object a line.
    List,
    /// Runs a parked effect once more (exactly once), after its cause was fixed.
    Replay {
        /// APPLICATION#VERSION#EFFECT, as `effects list` shows it.
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum CertificatesCommand {
    /// A new rendering of a certificate (after a template fix); every earlier one is kept.
    Rerender {
        #[arg(long)]
        id: String,
    },
    /// The certificate record with every rendering; `provisional` lists the unverified facts
    /// (template, issuer title, 認定番号 format) its current rendering prints.
    Show {
        #[arg(long)]
        id: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keiryoku-admin: {message}");
            ExitCode::from(2)
        }
    }
}

/// Refuses an entry whose place the authority table does not know, or whose name holds
/// invisible characters.
fn checked_member(member: &StaffMember) -> Result<(), String> {
    if let Some(email) = &member.email
        && !keiryoku_mail::plain_address(email)
    {
        return Err(format!("{}: not a plain mail address: {email}", member.sub));
    }
    if !member.role.is_known() {
        return Err(format!(
            "{}: unknown office, network or ministry id (see GET /reference/authorities)",
            member.sub
        ));
    }
    plain_name(&member.name)
}

/// Refuses a staff name with control or invisible format characters (a bidi override would
/// make the name read otherwise wherever it is shown).
fn plain_name(name: &str) -> Result<(), String> {
    if name.chars().any(keiryoku_domain::normalize::is_forbidden) {
        return Err(format!(
            "the name {name:?} holds control or invisible format characters"
        ));
    }
    Ok(())
}

fn json_line<T: serde::Serialize>(value: &T) -> Result<(), String> {
    use std::io::Write;
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    // A closed pipe (`| head`) ends the listing quietly instead of panicking.
    writeln!(std::io::stdout().lock(), "{text}").map_err(|e| format!("stdout: {e}"))
}

/// Reads and checks a tables document.
fn read_tables(
    file: &std::path::Path,
) -> Result<(Vec<u8>, keiryoku_domain::tables::Tables), String> {
    let path = file.display();
    let bytes = std::fs::read(file).map_err(|e| format!("{path}: {e}"))?;
    let tables = keiryoku_domain::tables::Tables::from_bundle(&bytes, path.to_string())
        .map_err(|e| format!("{path} refused: {e}"))?;
    Ok((bytes, tables))
}

async fn tables(command: TablesCommand) -> Result<(), String> {
    use keiryoku_store::ReferenceData;
    let store = |bucket: &str, aws: &AwsClients| ReferenceData::new(aws.s3(), bucket);
    match command {
        TablesCommand::Export => {
            use std::io::Write;
            write!(
                std::io::stdout().lock(),
                "{}",
                keiryoku_domain::tables::embedded_bundle()
            )
            .map_err(|e| format!("stdout: {e}"))
        }
        TablesCommand::Check { file } => json_line(&read_tables(&file)?.1.versions()),
        TablesCommand::Publish { file, bucket } => {
            let (bytes, tables) = read_tables(&file)?;
            let aws = AwsClients::from_env().await;
            let data = store(&bucket, &aws);
            let published = data.publish(bytes).await.map_err(|e| e.to_string())?;
            let mut versions = tables.versions();
            versions.published = Some(published.location(data.bucket()));
            json_line(&versions)
        }
        TablesCommand::Current { bucket } => {
            let aws = AwsClients::from_env().await;
            let data = store(&bucket, &aws);
            let current = data.current().await.map_err(|e| e.to_string())?;
            let Some(published) = current else {
                return json_line(&serde_json::json!({
                    "published": null,
                    "in_force": keiryoku_domain::tables::embedded().versions(),
                }));
            };
            // As the functions resolve it: the newest version that checks out.
            let location = published.location(data.bucket());
            let resolution = keiryoku_lifecycle::reference_tables::resolve(&data, published, None)
                .await
                .map_err(|e| e.to_string())?;
            let refused: Vec<serde_json::Value> = resolution
                .refused
                .iter()
                .map(|(at, e)| serde_json::json!({ "published": at, "refused": e.to_string() }))
                .collect();
            let in_force = match &resolution.in_force {
                Some((_, Some(tables))) => tables.versions(),
                _ => keiryoku_domain::tables::embedded().versions(),
            };
            json_line(&serde_json::json!({
                "published": location,
                "refused": refused,
                "in_force": in_force,
            }))
        }
        TablesCommand::Withdraw { bucket } => {
            let aws = AwsClients::from_env().await;
            store(&bucket, &aws)
                .withdraw()
                .await
                .map_err(|e| e.to_string())?;
            println!("withdrawn: the functions use the tables of their build");
            Ok(())
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    if let Group::Tables(command) = cli.group {
        return tables(command).await;
    }
    if let Group::Legacy(LegacyCommand::Generate { rows, out, seed }) = &cli.group {
        return legacy::generate(*rows, out, *seed);
    }
    if let Group::Facts(FactsCommand::Unverified { printed, tables }) = cli.group {
        if let Some(file) = tables {
            keiryoku_domain::tables::install(read_tables(&file)?.1);
        }
        let mut facts = keiryoku_domain::facts::unverified();
        facts.extend(keiryoku_pdf::certificate::unverified_templates());
        for fact in facts.iter().filter(|f| f.printed || !printed) {
            json_line(fact)?;
        }
        return Ok(());
    }
    let table = cli
        .table
        .filter(|t| !t.is_empty())
        .ok_or("no table: set TABLE_NAME or --table")?;
    let aws = AwsClients::from_env().await;
    // Re-rendering and replays print what the effects function would: the published tables.
    if let Some(source) = keiryoku_lifecycle::reference_tables::TablesSource::from_env(&aws) {
        source.refresh().await;
    }
    match cli.group {
        Group::Staff(command) => staff(&aws, &table, command).await,
        Group::Agency(command) => agency(&aws, &table, command).await,
        Group::Legacy(LegacyCommand::Import { file, from_line }) => {
            legacy::import(
                &Applications::new(aws.dynamodb.clone(), &table),
                &file,
                from_line,
            )
            .await
        }
        Group::Legacy(LegacyCommand::Generate { .. }) => Ok(()),
        Group::Effects(command) => effects(&aws, &table, command).await,
        Group::Certificates(CertificatesCommand::Rerender { id }) => {
            let effector = effector(&aws, &table)?;
            json_line(&rerender(&effector, &id).await?)
        }
        Group::Certificates(CertificatesCommand::Show { id }) => {
            let (record, _) = Certificates::new(aws.dynamodb.clone(), &table)
                .get(&id)
                .await
                .map_err(|e| format!("{id}: {e}"))?;
            let provisional = record
                .documents
                .last()
                .map(|d| d.unverified_facts.clone())
                .unwrap_or_default();
            json_line(&serde_json::json!({
                "certificate": record,
                "provisional": !provisional.is_empty(),
                "unverified_facts_printed": provisional,
            }))
        }
        Group::Sessions(command) => {
            let sessions = keiryoku_store::Sessions::new(aws.dynamodb.clone(), &table);
            match command {
                SessionsCommand::List { sub, staff } => {
                    for session in sessions
                        .of_account(&sub, staff)
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        json_line(&session)?;
                    }
                    Ok(())
                }
                SessionsCommand::Revoke { sub, staff } => {
                    let revoked = sessions
                        .revoke_account(&sub, staff)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!("revoked {revoked} sessions of {sub}");
                    Ok(())
                }
            }
        }
        Group::Audit(AuditCommand::Verify {
            id,
            archive_bucket,
            archive_grace_minutes,
        }) => {
            let id =
                ApplicationId::parse(&id).ok_or_else(|| format!("not an application id: {id}"))?;
            let applications = Applications::new(aws.dynamodb.clone(), &table);
            let tampered = |broken| format!("{id}: the audit trail was tampered with: {broken}");
            let trail = applications
                .verify_audit(&id)
                .await
                .map_err(|e| e.to_string())?
                .map_err(tampered)?;
            let (archived, not_archived) = match archive_bucket.filter(|b| !b.is_empty()) {
                Some(bucket) => {
                    let archived = keiryoku_store::AuditArchive::new(aws.s3(), bucket)
                        .records(&id)
                        .await
                        .map_err(|e| e.to_string())?;
                    let hashes: Vec<Option<String>> =
                        trail.iter().map(|(hash, _)| hash.clone()).collect();
                    keiryoku_store::compare_with_archive(&hashes, &archived).map_err(tampered)?;
                    let missing = keiryoku_store::missing_from_archive(trail.len(), &archived);
                    // A record the stream should long have brought: lost to the copy.
                    let cutoff = time::OffsetDateTime::now_utc()
                        - time::Duration::minutes(archive_grace_minutes);
                    for position in &missing {
                        let at = &trail[position - 1].1;
                        let written = time::OffsetDateTime::parse(
                            at,
                            &time::format_description::well_known::Rfc3339,
                        );
                        if written.is_ok_and(|w| w < cutoff) {
                            return Err(format!(
                                "{id}: audit record {position} ({at}) is not in the write-once copy {archive_grace_minutes} minutes after it was written"
                            ));
                        }
                    }
                    (Some(archived.len()), Some(missing.len()))
                }
                None => (None, None),
            };
            json_line(&serde_json::json!({
                "application": id,
                "records": trail.len(),
                "chain": "intact",
                // How many records the write-once copy holds (it follows the stream), all
                // found unchanged in the table, and how many it does not hold yet; null when
                // no copy was compared.
                "archived": archived,
                "not_archived": not_archived,
            }))
        }
        Group::Facts(_) | Group::Tables(_) => Ok(()),
    }
}

async fn agency(aws: &AwsClients, table: &str, command: AgencyCommand) -> Result<(), String> {
    use keiryoku_domain::feed::{AgencyClient, AgencyView};
    use keiryoku_domain::staff::Scope;
    let agencies = keiryoku_store::Agencies::new(aws.dynamodb.clone(), table);
    let clients = match command {
        AgencyCommand::List => {
            for client in agencies.list().await.map_err(|e| e.to_string())? {
                json_line(&client)?;
            }
            return Ok(());
        }
        AgencyCommand::Put {
            client_id,
            name,
            national,
            ministry,
            network,
            office,
            consent_bound,
        } => {
            let scope = match (national, ministry, network, office) {
                (true, None, None, None) => Scope::National,
                (false, Some(id), None, None) => Scope::Ministry(id),
                (false, None, Some(id), None) => Scope::Network(id),
                (false, None, None, Some(id)) => Scope::Office(id.into()),
                _ => {
                    return Err(
                        "give exactly one of --national, --ministry, --network, --office".into(),
                    );
                }
            };
            vec![AgencyClient {
                client_id,
                name,
                view: AgencyView {
                    scope,
                    needs_data_use_consent: consent_bound,
                },
            }]
        }
        AgencyCommand::Import { file } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?
        }
    };
    for client in &clients {
        if client.client_id.is_empty() || !client.view.scope.is_known() {
            return Err(format!(
                "{}: unknown scope {}",
                client.client_id,
                client.view.scope.label()
            ));
        }
    }
    for client in &clients {
        agencies.put(client).await.map_err(|e| e.to_string())?;
        println!(
            "put {} ({}{})",
            client.client_id,
            client.view.scope.label(),
            if client.view.needs_data_use_consent {
                ", データ利活用同意のある計画のみ"
            } else {
                ""
            }
        );
    }
    Ok(())
}

async fn staff(aws: &AwsClients, table: &str, command: StaffCommand) -> Result<(), String> {
    let directory = StaffDirectory::new(aws.dynamodb.clone(), table);
    match command {
        StaffCommand::List => {
            for member in directory.list().await.map_err(|e| e.to_string())? {
                json_line(&member)?;
            }
        }
        StaffCommand::Put {
            sub,
            name,
            office,
            network,
            ministry,
            email,
            role,
        } => {
            let member = StaffMember::try_from(DirectoryEntry {
                sub,
                name,
                email,
                role: match role {
                    RoleArg::Reviewer => RoleName::Reviewer,
                    RoleArg::Reader => RoleName::Reader,
                    RoleArg::Planning => RoleName::Planning,
                    RoleArg::Administrator => RoleName::Administrator,
                },
                office_id: office,
                network_id: network,
                ministry_id: ministry,
                active: true,
            })?;
            checked_member(&member)?;
            directory
                .put(&member, DirectoryActor::operator())
                .await
                .map_err(|e| e.to_string())?;
            println!("put {} ({})", member.sub, member.role.describe());
        }
        StaffCommand::Deactivate { sub } => {
            let mut member = directory
                .get(&sub)
                .await
                .map_err(|e| format!("{sub}: {e}"))?;
            member.active = false;
            directory
                .put(&member, DirectoryActor::operator())
                .await
                .map_err(|e| e.to_string())?;
            println!("deactivated {sub}");
        }
        StaffCommand::Remove { sub } => {
            directory
                .remove(&sub, DirectoryActor::operator())
                .await
                .map_err(|e| format!("{sub}: {e}"))?;
            println!("removed {sub}");
        }
        StaffCommand::Import { file } => {
            let path = file.display();
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{path}: {e}"))?;
            let members: Vec<StaffMember> =
                serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            for member in &members {
                checked_member(member)?;
            }
            for member in &members {
                directory
                    .put(member, DirectoryActor::operator())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            println!("imported {} entries", members.len());
        }
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
        staff: StaffDirectory::new(aws.dynamodb.clone(), table),
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
        archive: None,
        // The published tables were looked at once when the command started (see `main`).
        tables: None,
    })
}

/// The effect a key of `effects list` names (`APPLICATION#VERSION#EFFECT`).
fn parse_key(key: &str) -> Result<EffectSpec, String> {
    let mut parts = key.rsplitn(3, '#');
    let (Some(effect), Some(version), Some(application_id)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "--key must be APPLICATION#VERSION#EFFECT, not {key}"
        ));
    };
    Ok(EffectSpec {
        application_id: ApplicationId::parse(application_id)
            .ok_or_else(|| format!("bad application id in {key}"))?,
        version: version
            .parse()
            .map_err(|_| format!("bad version in {key}"))?,
        effect: Effect::parse(effect).ok_or_else(|| format!("unknown effect in {key}"))?,
    })
}

async fn effects(aws: &AwsClients, table: &str, command: EffectsCommand) -> Result<(), String> {
    let store = Effects::new(aws.dynamodb.clone(), table);
    match command {
        EffectsCommand::List => {
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
        EffectsCommand::Replay { key } => {
            let spec = parse_key(&key)?;
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
    }
}
