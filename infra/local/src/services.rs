//! Child processes of the local stack (moto, the dev identity provider, the function instances):
//! started with their output in `.local/logs`, supervised, and all stopped together.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::LocalError;

/// Every child process, and the signal that stops them.
pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// How a child is started.
pub struct ChildSpec {
    pub label: String,
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub log_file: std::path::PathBuf,
    /// Also print its output, prefixed with the label.
    pub echo: bool,
    /// Start it again when it exits (function instances), or not (moto, the provider).
    pub restart: bool,
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor {
            stop: watch::channel(false).0,
            tasks: JoinSet::new(),
        }
    }

    /// Starts a child; fails at once when the program cannot be started.
    pub async fn spawn(&mut self, spec: ChildSpec) -> Result<(), LocalError> {
        if let Some(dir) = spec.log_file.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(LocalError::io(format!("create {}", dir.display())))?;
        }
        let mut child = start(&spec).await?;
        let mut stop = self.stop.subscribe();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    status = child.wait() => {
                        if *stop.borrow() { return; }
                        let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                        eprintln!("[{}] exited ({status})", spec.label);
                        if !spec.restart { return; }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        match start(&spec).await {
                            Ok(next) => child = next,
                            Err(e) => { eprintln!("[{}] cannot restart: {e}", spec.label); return; }
                        }
                    }
                    _ = stop.changed() => {
                        let _ = child.start_kill();
                        let _ = child.wait().await;
                        return;
                    }
                }
            }
        });
        Ok(())
    }

    /// Stops every child and waits for them to exit.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn start(spec: &ChildSpec) -> Result<tokio::process::Child, LocalError> {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(LocalError::io(format!(
        "start {} ({})",
        spec.label, spec.program
    )))?;
    let log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log_file)
        .await
        .map_err(LocalError::io(format!("open {}", spec.log_file.display())))?;
    let log = std::sync::Arc::new(tokio::sync::Mutex::new(log));
    let streams: [Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ];
    for stream in streams.into_iter().flatten() {
        let log = log.clone();
        let label = spec.label.clone();
        let echo = spec.echo;
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if echo {
                    println!("[{label}] {line}");
                }
                let mut file = log.lock().await;
                let _ = file.write_all(format!("{line}\n").as_bytes()).await;
            }
        });
    }
    Ok(child)
}

/// Waits until `url` answers 2xx, or fails after `limit` naming the log to read.
pub async fn wait_for_http(url: &str, limit: Duration, log: &Path) -> Result<(), LocalError> {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Ok(response) = client.get(url).timeout(Duration::from_secs(2)).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(LocalError::Setup(format!(
                "{url} did not answer within {}s; see {}",
                limit.as_secs(),
                log.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fails with a clear message when a port is already taken.
pub async fn reserve(
    host: &str,
    port: u16,
    what: &str,
) -> Result<tokio::net::TcpListener, LocalError> {
    tokio::net::TcpListener::bind((host, port)).await.map_err(|e| {
        LocalError::Setup(format!(
            "{what}: cannot listen on {host}:{port} ({e}); is another local stack running? Set the port with its environment variable."
        ))
    })
}

/// Whether a port is free (checked before starting a child that binds it itself).
pub async fn ensure_free(host: &str, port: u16, what: &str) -> Result<(), LocalError> {
    reserve(host, port, what).await.map(drop)
}
