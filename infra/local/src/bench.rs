//! Start-up benchmark: the time from starting a function binary to its first answered request,
//! next to a hello-world lambda_http binary built the same way, measured in the same run.

use std::time::{Duration, Instant};

use http::HeaderMap;

use crate::LocalError;
use crate::config::LocalConfig;
use crate::event::{RequestFacts, request_event};
use crate::runtime_api::FunctionRuntime;
use crate::services::reserve;

async fn time_first_answer(
    config: &LocalConfig,
    binary: &str,
    env: &[(String, String)],
    path: &str,
) -> Result<Duration, LocalError> {
    let runtime = FunctionRuntime::new(binary, Duration::from_secs(30));
    let listener = reserve(&config.host, 0, "runtime API").await?;
    let address = listener
        .local_addr()
        .map_err(LocalError::io("runtime API address"))?;
    let server = tokio::spawn(runtime.clone().serve(listener));
    let headers = HeaderMap::new();
    let event = request_event(&RequestFacts {
        route_key: "$default",
        method: "GET",
        raw_path: path,
        raw_query: "",
        headers: &headers,
        path_parameters: &[],
        body: b"",
        source_ip: "127.0.0.1",
        request_id: "bench",
        at: time::OffsetDateTime::now_utc(),
    });
    let program = config.bin_dir.join(binary);
    let started = Instant::now();
    let mut child = tokio::process::Command::new(&program)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(LocalError::io(format!("start {}", program.display())))?;
    // A binary that dies at start-up fails the run at once instead of waiting for the timeout.
    let answer = tokio::select! {
        answer = runtime.invoke(event.to_string().into_bytes()) => answer.map_err(|e| LocalError::Setup(e.to_string())),
        status = child.wait() => Err(LocalError::Setup(format!("{binary} exited before answering: {status:?}"))),
    };
    let elapsed = started.elapsed();
    let _ = child.start_kill();
    let _ = child.wait().await;
    server.abort();
    answer?;
    Ok(elapsed)
}

/// A binary to time: its name, environment and the path of the request it answers.
struct Target {
    binary: String,
    env: Vec<(String, String)>,
    path: String,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `local-stack bench-startup [ROUNDS]`. Needs no running stack: each function answers a request
/// that touches no AWS service (`GET /me` without a cookie, an unknown route…), so what is timed is
/// process start, configuration and the first trip through the handler.
pub async fn startup(rounds: Option<usize>) -> Result<(), LocalError> {
    let config = LocalConfig::from_env()?;
    let rounds = rounds.unwrap_or(20).max(1);
    let mut rows = Vec::new();
    let mut hello_env = config.aws_env();
    hello_env.extend(crate::config::lambda_env("BenchHello", 128));
    let mut targets = vec![Target {
        binary: "bench-hello".into(),
        env: hello_env,
        path: "/".into(),
    }];
    for function in &config.template.functions {
        let env: Vec<(String, String)> = config.function_env(function)?.into_iter().collect();
        let path = match function.binary.as_str() {
            "auth" => "/me",
            "applications" => "/applications",
            "reference" => "/reference/guidelines",
            _ => "/no-such-route",
        };
        targets.push(Target {
            binary: function.binary.clone(),
            env,
            path: path.into(),
        });
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    // Interleaved rounds, so machine noise falls on every binary alike.
    for _ in 0..rounds {
        for (i, target) in targets.iter().enumerate() {
            samples[i]
                .push(time_first_answer(&config, &target.binary, &target.env, &target.path).await?);
        }
    }
    let hello = median(samples[0].clone());
    println!(
        "start-up to first answered request, median of {rounds} rounds ({} binaries):",
        config.bin_dir.display()
    );
    println!(
        "{:<14} {:>10} {:>12} {:>8}",
        "binary", "size", "median", "ratio"
    );
    for (Target { binary, .. }, s) in targets.iter().zip(samples) {
        let size = std::fs::metadata(config.bin_dir.join(binary))
            .map(|m| m.len())
            .unwrap_or(0);
        let m = median(s);
        rows.push(format!(
            "{:<14} {:>8.1}MB {:>10.2}ms {:>7.2}x",
            binary,
            size as f64 / 1_048_576.0,
            m.as_secs_f64() * 1000.0,
            m.as_secs_f64() / hello.as_secs_f64()
        ));
    }
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
