//! Start-up benchmark: the time from starting a function binary to its first answered request,
//! next to a hello-world lambda_http binary built the same way, measured in the same run.

use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue};

use crate::LocalError;
use crate::config::LocalConfig;
use crate::event::{RequestFacts, request_event};
use crate::runtime_api::FunctionRuntime;
use crate::services::reserve;

/// An API Gateway v2 request event for `path`, with the cookie when given.
fn http_event(path: &str, cookie: Option<&str>) -> Result<Vec<u8>, LocalError> {
    let mut headers = HeaderMap::new();
    if let Some(cookie) = cookie {
        let value = HeaderValue::from_str(cookie)
            .map_err(|e| LocalError::Setup(format!("--cookie: {e}")))?;
        headers.insert(http::header::COOKIE, value);
    }
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
    Ok(event.to_string().into_bytes())
}

async fn time_first_answer(config: &LocalConfig, target: &Target) -> Result<Duration, LocalError> {
    first_answer(config, target)
        .await
        .map(|(elapsed, _)| elapsed)
}

/// A target's binary running against a Runtime API of its own.
struct Running {
    runtime: FunctionRuntime,
    child: tokio::process::Child,
    server: tokio::task::JoinHandle<()>,
    started: Instant,
}

impl Running {
    async fn start(config: &LocalConfig, target: &Target) -> Result<Running, LocalError> {
        let binary = target.binary.as_str();
        let runtime = FunctionRuntime::new(binary, Duration::from_secs(30));
        let listener = reserve(&config.host, 0, "runtime API").await?;
        let address = listener
            .local_addr()
            .map_err(LocalError::io("runtime API address"))?;
        let server = tokio::spawn(runtime.clone().serve(listener));
        let program = config.bin_dir.join(binary);
        let started = Instant::now();
        let child = tokio::process::Command::new(&program)
            .envs(target.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(LocalError::io(format!("start {}", program.display())))?;
        Ok(Running {
            runtime,
            child,
            server,
            started,
        })
    }

    /// Sends the event and waits for the answer; a binary that dies fails the run at once
    /// instead of waiting for the timeout.
    async fn invoke(&mut self, target: &Target) -> Result<Vec<u8>, LocalError> {
        tokio::select! {
            answer = self.runtime.invoke(target.event.clone()) => answer.map_err(|e| LocalError::Setup(e.to_string())),
            status = self.child.wait() => Err(LocalError::Setup(format!("{} exited before answering: {status:?}", target.binary))),
        }
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.server.abort();
    }
}

/// Starts the target's binary, sends it its event and returns the time to the answer, and the
/// answer.
async fn first_answer(
    config: &LocalConfig,
    target: &Target,
) -> Result<(Duration, Vec<u8>), LocalError> {
    let mut running = Running::start(config, target).await?;
    let answer = running.invoke(target).await;
    let elapsed = running.started.elapsed();
    running.stop().await;
    let answer = answer?;
    // A first request that failed (a refused session, a missing permission) would time
    // something other than what the row says.
    if let Some(status) = answer_status(&answer)
        && !(200..300).contains(&status)
        && target.must_succeed
    {
        return Err(LocalError::Setup(format!(
            "{}: {} answered {status}; it must succeed",
            target.binary, target.request
        )));
    }
    Ok((elapsed, answer))
}

/// How many invocations [`runtime_cpu_per_invocation`] times.
const RUNTIME_INVOCATIONS: u32 = 2_000;

/// The CPU time one invocation costs a warm hello-world process: taking the event from the
/// Runtime API, turning it into a request, answering and posting the response. What every
/// invocation of any function costs at least, before its own work.
async fn runtime_cpu_per_invocation(
    config: &LocalConfig,
    target: &Target,
) -> Result<f64, LocalError> {
    let mut running = Running::start(config, target).await?;
    let measured = async {
        running.invoke(target).await?;
        let pid = running
            .child
            .id()
            .ok_or_else(|| LocalError::Setup("bench-hello exited".into()))?;
        let before = process_cpu_ms(pid);
        for _ in 0..RUNTIME_INVOCATIONS {
            running.invoke(target).await?;
        }
        let after = process_cpu_ms(pid);
        after
            .zip(before)
            .map(|(after, before)| (after - before) / f64::from(RUNTIME_INVOCATIONS))
            .ok_or_else(|| LocalError::Setup(format!("no CPU time in /proc/{pid}/stat")))
    }
    .await;
    running.stop().await;
    measured
}

/// The CPU time (user + system) of a process so far, from /proc (clock ticks of 10 ms).
fn process_cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ, which /proc reports in, is 100 on Linux whatever the kernel's tick.
    Some((user + system) * 10.0)
}

/// The HTTP status of a function's answer (an API Gateway v2 response).
fn answer_status(answer: &[u8]) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_slice(answer).ok()?;
    value.get("statusCode")?.as_u64()?.try_into().ok()
}

/// A binary to time: its name, environment, the path of the request it answers and, for an
/// authenticated read, the cookie it is sent with.
#[derive(Clone)]
struct Target {
    row: String,
    binary: String,
    env: Vec<(String, String)>,
    /// What the first request is, for the table.
    request: String,
    event: Vec<u8>,
    must_succeed: bool,
    /// The row of the floor it is compared with: the SDK baseline doing the same service round
    /// trips before its answer.
    floor: Option<&'static str>,
}

/// What `bench-startup` is asked for.
pub struct Options {
    pub rounds: Option<usize>,
    /// An applicant's cookie and the path of a read (needs a running stack).
    pub authenticated: Option<(String, String)>,
    pub json: Option<std::path::PathBuf>,
}

/// The CPU time one GetItem costs bench-hello-sdk's process (its answer to `GET /cpu`).
async fn sdk_cpu_per_call(config: &LocalConfig, target: &Target) -> Result<f64, LocalError> {
    let (_, answer) = first_answer(config, target).await?;
    let body = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v.get("body")?.as_str().map(str::to_owned))
        .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok());
    let per_call = body.as_ref().and_then(|b| {
        let cpu = b.get("cpu_ms")?.as_f64()?;
        let calls = b.get("calls")?.as_f64()?;
        (cpu >= 0.0 && calls > 0.0).then(|| cpu / calls)
    });
    per_call.ok_or_else(|| {
        LocalError::Setup(format!(
            "bench-hello-sdk GET /cpu: unexpected answer {}",
            String::from_utf8_lossy(&answer)
        ))
    })
}

/// The floor rows (bench-hello-sdk): the SDK's set-up alone, and with the service round trips of
/// the published-tables check (one S3 HEAD), of an authenticated read (two GetItems), and both.
const FLOOR_SDK: &str = "bench-hello-sdk (SDK clients)";
const FLOOR_HEAD: &str = "bench-hello-sdk (one S3 HEAD)";
const FLOOR_READ: &str = "bench-hello-sdk (two GetItems)";
const FLOOR_HEAD_READ: &str = "bench-hello-sdk (S3 HEAD, two GetItems)";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// `local-stack bench-startup [ROUNDS] [--cookie C --read PATH] [--json FILE]`. Without a
/// cookie it needs no running stack: each function answers a request that touches no AWS service
/// (`GET /me` without a cookie, an unknown route…), so what is timed is process start,
/// configuration and the first trip through the handler. With one (inside `exec`), the
/// applications function also answers an authenticated read as its first request: the session
/// and the application are read from DynamoDB (moto) within the time.
pub async fn startup(options: Options) -> Result<(), LocalError> {
    let config = LocalConfig::from_env()?;
    let rounds = options.rounds.unwrap_or(20).max(1);
    let mut hello_env = config.aws_env();
    hello_env.extend(crate::config::lambda_env("BenchHello", 128));
    let mut targets = vec![Target {
        row: "bench-hello".into(),
        binary: "bench-hello".into(),
        env: hello_env,
        request: "GET /".into(),
        event: http_event("/", None)?,
        must_succeed: true,
        floor: None,
    }];
    // The floors of a function that talks to AWS: hello-world plus the SDK clients made as ours
    // make them, and the service round trips of a row with nothing of ours around them. They run
    // with the applications function's environment (its table, bucket and role). The round trips
    // need the running stack, so they are timed with an authenticated read only.
    let stack = options.authenticated.is_some();
    let mut sdk_cpu_target = None;
    if let Some(applications) = config
        .template
        .functions
        .iter()
        .find(|f| f.binary == "applications")
    {
        let env: Vec<(String, String)> = config.function_env(applications)?.into_iter().collect();
        let floors: &[(&str, &str)] = if stack {
            &[
                (FLOOR_SDK, "/"),
                (FLOOR_HEAD, "/head"),
                (FLOOR_READ, "/read"),
                (FLOOR_HEAD_READ, "/head-read"),
            ]
        } else {
            &[(FLOOR_SDK, "/")]
        };
        sdk_cpu_target = Some(Target {
            row: "bench-hello-sdk (CPU per GetItem)".into(),
            binary: "bench-hello-sdk".into(),
            env: env.clone(),
            request: "GET /cpu".into(),
            event: http_event("/cpu", None)?,
            must_succeed: true,
            floor: None,
        });
        for (row, path) in floors {
            targets.push(Target {
                row: (*row).into(),
                binary: "bench-hello-sdk".into(),
                env: env.clone(),
                request: format!("GET {path}"),
                event: http_event(path, None)?,
                must_succeed: true,
                floor: None,
            });
        }
    }
    // A function checks the published tables before its first answer when it has their bucket
    // (the stream consumer only before an application's effects, never for an empty batch).
    let checks = |env: &[(String, String)]| {
        stack
            && env
                .iter()
                .any(|(k, v)| k == "REFERENCE_DATA_BUCKET" && !v.is_empty())
    };
    for function in &config.template.functions {
        let env: Vec<(String, String)> = config.function_env(function)?.into_iter().collect();
        if function.routes.is_empty() {
            // A stream consumer's first invocation: an empty batch. Scheduled jobs (daily
            // digest, hourly lake) are not timed: their first event is the job itself.
            if !function.streams.is_empty() {
                targets.push(Target {
                    row: function.binary.clone(),
                    binary: function.binary.clone(),
                    env,
                    request: "empty stream batch".into(),
                    event: br#"{"Records":[]}"#.to_vec(),
                    must_succeed: false,
                    floor: Some(FLOOR_SDK),
                });
            }
            continue;
        }
        let path = match function.binary.as_str() {
            "auth" => "/me",
            "applications" => "/applications",
            "reference" => "/reference/guidelines",
            _ => "/no-such-route",
        };
        if function.binary == "applications" {
            // The same function without the published-tables check (one S3 HEAD before the
            // first answer), to show what that check costs.
            let unchecked: Vec<(String, String)> = env
                .iter()
                .filter(|(k, _)| k != "REFERENCE_DATA_BUCKET")
                .cloned()
                .collect();
            if let Some((cookie, read)) = &options.authenticated {
                targets.push(Target {
                    row: "applications (authenticated read)".into(),
                    binary: function.binary.clone(),
                    env: env.clone(),
                    request: format!("GET {read}"),
                    event: http_event(read, Some(cookie))?,
                    must_succeed: true,
                    floor: Some(FLOOR_HEAD_READ),
                });
                targets.push(Target {
                    row: "applications (authenticated read, no tables check)".into(),
                    binary: function.binary.clone(),
                    env: unchecked.clone(),
                    request: format!("GET {read}"),
                    event: http_event(read, Some(cookie))?,
                    must_succeed: true,
                    floor: Some(FLOOR_READ),
                });
            }
            targets.push(Target {
                row: "applications (no tables check)".into(),
                binary: function.binary.clone(),
                env: unchecked,
                request: format!("GET {path}"),
                event: http_event(path, None)?,
                must_succeed: false,
                floor: Some(FLOOR_SDK),
            });
        }
        let floor = if checks(&env) { FLOOR_HEAD } else { FLOOR_SDK };
        targets.push(Target {
            row: function.binary.clone(),
            binary: function.binary.clone(),
            env,
            request: format!("GET {path}"),
            event: http_event(path, None)?,
            must_succeed: false,
            floor: Some(floor),
        });
    }
    // What one service call costs our process at least (bench-hello-sdk's `GET /cpu`).
    let sdk_cpu = match (&sdk_cpu_target, stack) {
        (Some(target), true) => Some(sdk_cpu_per_call(&config, target).await?),
        _ => None,
    };
    // What one invocation costs a process at least (bench-hello, warm, sent the request of an
    // authenticated read so the event is as large as the load run's).
    let runtime_cpu = match &options.authenticated {
        Some((cookie, read)) => {
            let target = Target {
                row: "bench-hello (CPU per invocation)".into(),
                event: http_event(read, Some(cookie))?,
                ..targets[0].clone()
            };
            Some(runtime_cpu_per_invocation(&config, &target).await?)
        }
        None => None,
    };
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    // Interleaved rounds, so machine noise falls on every binary alike.
    for _ in 0..rounds {
        for (i, target) in targets.iter().enumerate() {
            samples[i].push(time_first_answer(&config, target).await?);
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let hello = medians[0];
    let floor_of = |target: &Target| {
        let row = target.floor?;
        targets
            .iter()
            .position(|t| t.row == row)
            .map(|i| medians[i])
    };
    println!(
        "start-up to first answered request, median of {rounds} interleaved rounds ({} binaries):",
        config.bin_dir.display()
    );
    println!(
        "{:<52} {:<26} {:>8} {:>10} {:>7} {:>9}",
        "binary", "first request", "size", "median", "ratio", "÷ floor"
    );
    let mut json = Vec::new();
    for (target, &m) in targets.iter().zip(&medians) {
        let size = std::fs::metadata(config.bin_dir.join(&target.binary))
            .map(|m| m.len())
            .unwrap_or(0);
        let request = &target.request;
        let floor = floor_of(target);
        let over_floor = floor.map(|f| m.as_secs_f64() / f.as_secs_f64());
        println!(
            "{:<52} {:<26} {:>6.1}MB {:>8.2}ms {:>6.2}x {:>9}",
            target.row,
            request.chars().take(26).collect::<String>(),
            size as f64 / 1_048_576.0,
            m.as_secs_f64() * 1000.0,
            m.as_secs_f64() / hello.as_secs_f64(),
            over_floor.map_or(String::new(), |r| format!("{r:.2}x"))
        );
        json.push(serde_json::json!({
            "row": target.row,
            "binary": target.binary,
            "request": request,
            "bytes": size,
            "median_ms": m.as_secs_f64() * 1000.0,
            "ratio": m.as_secs_f64() / hello.as_secs_f64(),
            "floor": target.floor,
            "floor_ms": floor.map(|f| f.as_secs_f64() * 1000.0),
            "ratio_to_floor": over_floor,
        }));
    }
    if let Some(ms) = sdk_cpu {
        println!(
            "CPU of one DynamoDB GetItem in bench-hello-sdk's process (the SDK alone): {ms:.3} ms"
        );
        json.push(serde_json::json!({
            "row": "sdk-cpu-per-call",
            "binary": "bench-hello-sdk",
            "cpu_ms_per_call": ms,
        }));
    }
    if let Some(ms) = runtime_cpu {
        println!(
            "CPU of one invocation of a warm hello-world process (the runtime alone): {ms:.3} ms"
        );
        json.push(serde_json::json!({
            "row": "runtime-cpu-per-invocation",
            "binary": "bench-hello",
            "cpu_ms_per_invocation": ms,
        }));
    }
    if let Some(path) = options.json {
        let lines: String = json.iter().map(|row| format!("{row}\n")).collect();
        std::fs::write(&path, lines)
            .map_err(LocalError::io(format!("write {}", path.display())))?;
    }
    Ok(())
}
