//! A local Lambda Runtime API (the interface a custom runtime polls): each function process gets
//! `AWS_LAMBDA_RUNTIME_API` pointing at one of these, fetches invocations from
//! `/invocation/next` and posts the result back, exactly as in Lambda. Several processes may poll
//! one function, so parallel requests run in parallel.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::config::{ACCOUNT_ID, REGION};

/// Why an invocation produced no response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("function {0} timed out")]
    Timeout(String),
    #[error("function {name} failed: {detail}")]
    Failed { name: String, detail: String },
}

/// Where a function's response (or its error text) goes.
type Reply = oneshot::Sender<Result<Vec<u8>, String>>;

struct Invocation {
    event: Vec<u8>,
    reply: Reply,
}

struct Inner {
    name: String,
    timeout: Duration,
    queue: mpsc::Sender<Invocation>,
    waiting: Mutex<mpsc::Receiver<Invocation>>,
    pending: std::sync::Mutex<HashMap<String, Reply>>,
    pollers: AtomicUsize,
    next_id: AtomicUsize,
}

/// The Runtime API of one function.
#[derive(Clone)]
pub struct FunctionRuntime {
    inner: Arc<Inner>,
}

struct PollerGuard<'a>(&'a AtomicUsize);

impl Drop for PollerGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FunctionRuntime {
    pub fn new(name: &str, timeout: Duration) -> FunctionRuntime {
        let (queue, waiting) = mpsc::channel(1024);
        FunctionRuntime {
            inner: Arc::new(Inner {
                name: name.to_string(),
                timeout,
                queue,
                waiting: Mutex::new(waiting),
                pending: std::sync::Mutex::new(HashMap::new()),
                pollers: AtomicUsize::new(0),
                next_id: AtomicUsize::new(1),
            }),
        }
    }

    /// How many function processes are waiting for work right now.
    pub fn pollers(&self) -> usize {
        self.inner.pollers.load(Ordering::SeqCst)
    }

    /// How many invocations its processes have taken so far.
    pub fn invocations(&self) -> usize {
        self.inner.next_id.load(Ordering::SeqCst) - 1
    }

    /// Serves the Runtime API on `listener` until the process ends.
    pub async fn serve(self, listener: TcpListener) {
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(7 * 1024 * 1024))
            .with_state(self);
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("runtime API stopped: {e}");
        }
    }

    /// Invokes the function with an event and waits for its response, up to its timeout.
    pub async fn invoke(&self, event: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let (reply, answer) = oneshot::channel();
        let name = self.inner.name.clone();
        self.inner
            .queue
            .send(Invocation { event, reply })
            .await
            .map_err(|_| InvokeError::Failed {
                name: name.clone(),
                detail: "runtime stopped".into(),
            })?;
        match tokio::time::timeout(self.inner.timeout, answer).await {
            Ok(Ok(Ok(payload))) => Ok(payload),
            Ok(Ok(Err(detail))) => Err(InvokeError::Failed { name, detail }),
            Ok(Err(_)) => Err(InvokeError::Failed {
                name,
                detail: "invocation dropped".into(),
            }),
            Err(_) => Err(InvokeError::Timeout(name)),
        }
    }
}

async fn next(State(runtime): State<FunctionRuntime>) -> impl IntoResponse {
    let inner = &runtime.inner;
    inner.pollers.fetch_add(1, Ordering::SeqCst);
    let _guard = PollerGuard(&inner.pollers);
    let invocation = {
        let mut waiting = inner.waiting.lock().await;
        waiting.recv().await
    };
    let Some(invocation) = invocation else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            HeaderMap::new(),
            Vec::new(),
        );
    };
    let id = format!(
        "local-{}-{}",
        inner.name,
        inner.next_id.fetch_add(1, Ordering::SeqCst)
    );
    if let Ok(mut pending) = inner.pending.lock() {
        pending.insert(id.clone(), invocation.reply);
    }
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d + inner.timeout)
        .unwrap_or_default()
        .as_millis();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}",
            inner.name
        ),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    (StatusCode::OK, headers, invocation.event)
}

fn complete(runtime: &FunctionRuntime, id: &str, result: Result<Vec<u8>, String>) -> StatusCode {
    let reply = runtime
        .inner
        .pending
        .lock()
        .ok()
        .and_then(|mut p| p.remove(id));
    match reply {
        Some(reply) => {
            let _ = reply.send(result);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn respond(
    State(runtime): State<FunctionRuntime>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    complete(&runtime, &id, Ok(body.to_vec()))
}

async fn fail(
    State(runtime): State<FunctionRuntime>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let detail = String::from_utf8_lossy(&body).into_owned();
    eprintln!("[{}] invocation error: {detail}", runtime.inner.name);
    complete(&runtime, &id, Err(detail))
}

async fn init_error(State(runtime): State<FunctionRuntime>, body: Bytes) -> StatusCode {
    eprintln!(
        "[{}] init error: {}",
        runtime.inner.name,
        String::from_utf8_lossy(&body)
    );
    StatusCode::ACCEPTED
}
