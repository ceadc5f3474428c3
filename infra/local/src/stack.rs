//! Brings the whole local stack up in order and down again.

use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::LocalError;
use crate::config::{CLIENT_ID, CLIENT_SECRET, LocalConfig, STAFF_CLIENT_ID, STAFF_CLIENT_SECRET};
use crate::gateway::{self, GatewayRoute};
use crate::provision::provision;
use crate::runtime_api::FunctionRuntime;
use crate::services::{ChildSpec, Supervisor, ensure_free, reserve, wait_for_http};

/// Starts everything; on failure stops what was started.
async fn start(config: &LocalConfig, echo: bool) -> Result<Supervisor, LocalError> {
    let mut supervisor = Supervisor::new();
    match start_into(config, echo, &mut supervisor).await {
        Ok(()) => Ok(supervisor),
        Err(e) => {
            supervisor.shutdown().await;
            Err(e)
        }
    }
}

async fn start_into(
    config: &LocalConfig,
    echo: bool,
    supervisor: &mut Supervisor,
) -> Result<(), LocalError> {
    let host = config.host.as_str();
    ensure_free(host, config.moto_port, "moto (MOTO_PORT)").await?;
    ensure_free(host, config.idp_port, "identity provider (IDP_PORT)").await?;
    let gateway_listener = reserve(host, config.gateway_port, "API gateway (API_PORT)").await?;
    let gbizinfo_listener = reserve(
        host,
        config.gbizinfo_port,
        "gBizINFO stand-in (GBIZINFO_PORT)",
    )
    .await?;
    let scheduler_listener =
        reserve(host, config.scheduler_port, "scheduler (SCHEDULER_PORT)").await?;
    crate::gbizinfo::serve(
        gbizinfo_listener,
        &config.root.join("infra/gbizinfo/hojin.json"),
    )
    .await?;
    let logs = &config.log_dir;
    for (what, path) in [
        (
            "the venv with moto (make setup installs it)",
            config.python.clone(),
        ),
        (
            "the dev identity provider's packages (make setup installs them)",
            config.root.join("infra/idp/node_modules"),
        ),
    ] {
        if !path.exists() {
            return Err(LocalError::Setup(format!(
                "{} not found: {what}",
                path.display()
            )));
        }
    }

    // Every function's policy, enforced by the emulator (infra/local/src/iam.rs).
    let policies = crate::iam::policies_path(config);
    crate::iam::write(config, &config.template, &policies)?;
    supervisor
        .spawn(ChildSpec {
            label: "moto".into(),
            program: config.python.display().to_string(),
            // moto behind a lock: every AWS call atomic, as DynamoDB's are (infra/moto/serve.py).
            args: vec![
                config
                    .root
                    .join("infra/moto/serve.py")
                    .display()
                    .to_string(),
                host.into(),
                config.moto_port.to_string(),
            ],
            env: vec![(
                "KEIRYOKU_IAM_POLICIES".into(),
                policies.display().to_string(),
            )],
            log_file: logs.join("moto.log"),
            echo: false,
            restart: false,
        })
        .await?;
    wait_for_http(
        &format!("{}/moto-api/", config.moto_url()),
        Duration::from_secs(30),
        &logs.join("moto.log"),
    )
    .await?;

    let mut clients = serde_json::json!([
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{}/auth/callback", config.api_url())],
            // Where logout comes back from the provider's end-session endpoint.
            "post_logout_redirect_uris": [format!("{}/?logged_out=1", config.api_url())],
        },
        {
            "client_id": STAFF_CLIENT_ID,
            "client_secret": STAFF_CLIENT_SECRET,
            "redirect_uris": [format!("{}/staff/callback", config.api_url())],
            "post_logout_redirect_uris": [format!("{}/staff?logged_out=1", config.api_url())],
        },
    ]);
    if let Some(list) = clients.as_array_mut() {
        list.extend(crate::provision::agency_idp_clients(config)?);
    }
    supervisor
        .spawn(ChildSpec {
            label: "idp".into(),
            program: "node".into(),
            args: vec![
                config
                    .root
                    .join("infra/idp/server.mjs")
                    .display()
                    .to_string(),
            ],
            env: vec![
                ("IDP_HOST".into(), host.into()),
                ("IDP_PORT".into(), config.idp_port.to_string()),
                ("IDP_ISSUER".into(), config.idp_url()),
                ("IDP_CLIENTS".into(), clients.to_string()),
                (
                    "IDP_EXPORT_AUDIENCE".into(),
                    crate::config::EXPORT_AUDIENCE.into(),
                ),
            ],
            log_file: logs.join("idp.log"),
            echo: false,
            restart: false,
        })
        .await?;
    wait_for_http(
        &format!("{}/.well-known/openid-configuration", config.idp_url()),
        Duration::from_secs(30),
        &logs.join("idp.log"),
    )
    .await?;

    for line in provision(config).await? {
        println!("  created {line}");
    }
    start_functions(
        config,
        echo,
        supervisor,
        gateway_listener,
        Some(scheduler_listener),
    )
    .await
}

/// Starts every function of the template with the gateway in front of it. With a scheduler
/// (the whole stack) also the stream sources and the schedules; without one (a copy of the
/// platform on a restored table) only the HTTP routes.
async fn start_functions(
    config: &LocalConfig,
    echo: bool,
    supervisor: &mut Supervisor,
    gateway_listener: tokio::net::TcpListener,
    scheduler_listener: Option<tokio::net::TcpListener>,
) -> Result<(), LocalError> {
    let host = config.host.as_str();
    let logs = &config.log_dir;
    let mut authorizers = std::collections::HashMap::new();
    for authorizer in &config.template.authorizers {
        let resolve = |expr: &keiryoku_template::Expr| {
            expr.resolve(&|n| config.lookup(n))
                .map_err(|e| LocalError::Setup(format!("authorizer {}: {e}", authorizer.name)))
        };
        let issuer = resolve(&authorizer.issuer)?;
        let mut audiences = Vec::new();
        for expr in &authorizer.audience {
            audiences.extend(resolve(expr)?.split(',').map(|a| a.trim().to_string()));
        }
        authorizers.insert(
            authorizer.name.clone(),
            std::sync::Arc::new(crate::authorizer::JwtAuthorizer::new(issuer, audiences)),
        );
    }
    let mut routes = Vec::new();
    let mut runtimes = Vec::new();
    let mut schedules = Vec::new();
    for function in &config.template.functions {
        let binary = config.bin_dir.join(&function.binary);
        if !binary.exists() {
            return Err(LocalError::Setup(format!(
                "{} not found: build the functions first (cargo build --bins)",
                binary.display()
            )));
        }
        let runtime = FunctionRuntime::new(
            &function.binary,
            Duration::from_secs(u64::from(function.timeout_seconds) + 2),
        );
        let listener = reserve(host, 0, "runtime API").await?;
        let address = listener
            .local_addr()
            .map_err(LocalError::io("runtime API address"))?;
        tokio::spawn(runtime.clone().serve(listener));
        let mut env: Vec<(String, String)> = config.function_env(function)?.into_iter().collect();
        env.push(("AWS_LAMBDA_RUNTIME_API".into(), address.to_string()));
        for instance in 0..config.instances {
            supervisor
                .spawn(ChildSpec {
                    label: format!("{}#{instance}", function.binary),
                    program: binary.display().to_string(),
                    args: vec![],
                    env: env.clone(),
                    log_file: logs.join(format!("{}.log", function.binary)),
                    echo,
                    restart: true,
                })
                .await?;
        }
        for route in &function.routes {
            let guard = match &route.auth {
                Some(auth) => Some(crate::authorizer::RouteGuard {
                    authorizer: authorizers.get(&auth.authorizer).cloned().ok_or_else(|| {
                        LocalError::Setup(format!(
                            "{}: unknown authorizer {}",
                            route.route_key(),
                            auth.authorizer
                        ))
                    })?,
                    scopes: auth.scopes.clone(),
                }),
                None => None,
            };
            routes.push(GatewayRoute {
                method: route.method.clone(),
                path: route.path.clone(),
                route_key: route.route_key(),
                runtime: runtime.clone(),
                guard,
            });
        }
        if scheduler_listener.is_none() {
            runtimes.push((function.binary.clone(), runtime));
            continue;
        }
        for source in &function.streams {
            crate::streams::start(config, &function.logical_id, source, runtime.clone()).await?;
        }
        for source in &function.schedules {
            schedules.push(crate::schedules::Scheduled {
                event: source.event.clone(),
                schedule: crate::schedules::Schedule::parse(&source.expression).map_err(|e| {
                    LocalError::Setup(format!("{}.{}: {e}", function.logical_id, source.event))
                })?,
                runtime: runtime.clone(),
            });
        }
        runtimes.push((function.binary.clone(), runtime));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for (name, runtime) in &runtimes {
        while runtime.pollers() == 0 {
            if tokio::time::Instant::now() > deadline {
                return Err(LocalError::Setup(format!(
                    "function {name} never asked for work; see {}",
                    logs.join(format!("{name}.log")).display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::spawn(gateway::serve(gateway_listener, routes));
    if let Some(listener) = scheduler_listener {
        // The local control plane: schedules fired on request, and the invocations each
        // function has taken (what a load run divides by its requests).
        let counts = std::sync::Arc::new(runtimes);
        let control = crate::schedules::start(schedules).route(
            "/invocations",
            axum::routing::get(move || {
                let counts = counts.clone();
                async move {
                    let by_function: std::collections::BTreeMap<&str, usize> = counts
                        .iter()
                        .map(|(name, runtime)| (name.as_str(), runtime.invocations()))
                        .collect();
                    axum::Json(serde_json::json!(by_function))
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, control).await;
        });
    }
    wait_for_http(
        &format!("{}/health", config.api_url()),
        Duration::from_secs(30),
        &logs.join("platform.log"),
    )
    .await
}

fn banner(config: &LocalConfig) {
    println!();
    println!("keiryoku local stack is up");
    println!(
        "  API gateway        {}   (every route of template.yaml)",
        config.api_url()
    );
    println!(
        "  identity provider  {}   (GビズID-shaped, dev only)",
        config.idp_url()
    );
    println!(
        "  moto (AWS)         {}   (DynamoDB, S3, SSM; AWS_ENDPOINT_URL)",
        config.moto_url()
    );
    println!(
        "  gBizINFO stand-in  {}   (answers from infra/gbizinfo/hojin.json)",
        config.gbizinfo_url()
    );
    println!(
        "  scheduler          {}   (POST /schedules/<Event> fires a template.yaml schedule now)",
        config.scheduler_url()
    );
    println!("  logs               {}", config.log_dir.display());
    let accounts = std::fs::read_to_string(config.root.join("infra/idp/accounts.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    println!(
        "  test accounts (applicants: {0}/auth/login?login_hint=<account>, staff: {0}/staff/login?login_hint=<account>):",
        config.api_url()
    );
    for account in accounts
        .iter()
        .flat_map(|a| a["accounts"].as_array().into_iter().flatten())
    {
        println!(
            "    {:<18} {}",
            account["login"].as_str().unwrap_or_default(),
            account["description"].as_str().unwrap_or_default()
        );
    }
    println!("Ctrl-C stops everything.");
}

async fn stopped() {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// `local-stack serve-copy --table NAME`: the platform's functions and gateway (at `API_PORT`)
/// on a restored copy of the table, beside a running stack whose moto and identity provider
/// they use, until stopped: the restore rehearsal's "platform brought up on the restored copy".
/// The functions sign with keys of their own (`COPY<LogicalId>`), allowed what their policies
/// allow on the copy; no stream sources or schedules run (they belong to the live table).
pub async fn serve_copy(table: String) -> Result<(), LocalError> {
    let mut config = LocalConfig::from_env()?;
    config.table_override = Some(table.clone());
    config.key_prefix = "COPY";
    let host = config.host.clone();
    let gateway_listener = reserve(&host, config.gateway_port, "API gateway (API_PORT)").await?;
    crate::iam::add(&config, &crate::iam::policies_path(&config))?;
    let mut supervisor = Supervisor::new();
    if let Err(e) = start_functions(&config, false, &mut supervisor, gateway_listener, None).await {
        supervisor.shutdown().await;
        return Err(e);
    }
    println!("platform on {table} at {}", config.api_url());
    stopped().await;
    supervisor.shutdown().await;
    Ok(())
}

/// `local-stack up`.
pub async fn up() -> Result<(), LocalError> {
    let config = LocalConfig::from_env()?;
    println!("starting the keiryoku local stack…");
    let supervisor = start(&config, true).await?;
    banner(&config);
    stopped().await;
    println!("stopping…");
    supervisor.shutdown().await;
    Ok(())
}

/// `local-stack exec -- CMD…`: runs CMD against the running stack, then stops it.
pub async fn exec(command: Vec<String>) -> Result<u8, LocalError> {
    let Some((program, args)) = command.split_first() else {
        return Err(LocalError::Setup(
            "exec needs a command: local-stack exec -- cargo test".into(),
        ));
    };
    let config = LocalConfig::from_env()?;
    let supervisor = start(&config, false).await?;
    println!(
        "local stack up at {}; running {}",
        config.api_url(),
        command.join(" ")
    );
    let table = config
        .template
        .tables
        .first()
        .and_then(|t| config.physical_name(&t.logical_id))
        .unwrap_or_default();
    let mut child = tokio::process::Command::new(program);
    child
        .args(args)
        .envs(config.aws_env())
        .env("KEIRYOKU_API_URL", config.api_url())
        .env("KEIRYOKU_BIN_DIR", &config.bin_dir)
        .env("KEIRYOKU_IDP_URL", config.idp_url())
        .env("KEIRYOKU_SCHEDULER_URL", config.scheduler_url())
        .env("KEIRYOKU_TABLE", table)
        .env(
            "KEIRYOKU_BUCKET",
            config
                .template
                .buckets
                .first()
                .and_then(|b| config.physical_name(&b.logical_id))
                .unwrap_or_default(),
        )
        .env(
            "KEIRYOKU_REFERENCE_BUCKET",
            config
                .physical_name("ReferenceDataBucket")
                .unwrap_or_default(),
        )
        .env(
            "KEIRYOKU_LAKE_BUCKET",
            config.physical_name("LakeBucket").unwrap_or_default(),
        )
        .env(
            "KEIRYOKU_AUDIT_ARCHIVE_BUCKET",
            config
                .physical_name("AuditArchiveBucket")
                .unwrap_or_default(),
        )
        .env(
            "KEIRYOKU_MAIL_FROM",
            format!("no-reply@{}", crate::config::MAIL_DOMAIN),
        );
    let status = tokio::select! {
        status = child.status() => status.map_err(LocalError::io(format!("run {program}"))),
        _ = stopped() => Err(LocalError::Setup("interrupted".into())),
    };
    supervisor.shutdown().await;
    let status = status?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}
