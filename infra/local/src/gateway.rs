//! The local API gateway: serves exactly the routes of template.yaml (and sends everything else to
//! the `$default` route, as API Gateway does), turning each HTTP request into a payload-v2 event
//! for the function's Runtime API and the function's proxy response back into HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::event::{RequestFacts, proxy_response, request_event};
use crate::runtime_api::{FunctionRuntime, InvokeError};

/// API Gateway's own payload limit for HTTP APIs (10 MB).
const PAYLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// One route of template.yaml and the function that serves it.
#[derive(Clone)]
pub struct GatewayRoute {
    pub method: String,
    pub path: String,
    pub route_key: String,
    pub runtime: FunctionRuntime,
    /// The JWT authorizer the route requires, if any.
    pub guard: Option<crate::authorizer::RouteGuard>,
}

struct Routes {
    /// Most specific first.
    routes: Vec<GatewayRoute>,
    default: Option<GatewayRoute>,
    counter: AtomicU64,
}

/// API Gateway's own error answers: a JSON `message`, not problem+json (they never reach us).
fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        format!("{{\"message\":\"{message}\"}}"),
    )
        .into_response()
}

pub async fn serve(listener: TcpListener, mut routes: Vec<GatewayRoute>) {
    let default = routes
        .iter()
        .position(|r| r.path == "$default")
        .map(|i| routes.remove(i));
    routes.sort_by_key(|r| std::cmp::Reverse(keiryoku_template::specificity(&r.path)));
    let state = Arc::new(Routes {
        routes,
        default,
        counter: AtomicU64::new(0),
    });
    let app = Router::new().fallback(handle).with_state(state);
    if let Err(e) = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    {
        eprintln!("gateway stopped: {e}");
    }
}

async fn handle(
    State(routes): State<Arc<Routes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, PAYLOAD_LIMIT).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let path = parts.uri.path();
    let method = parts.method.as_str();
    let matched = routes.routes.iter().find_map(|route| {
        if route.method != method && route.method != "ANY" {
            return None;
        }
        keiryoku_template::match_path(&route.path, path).map(|params| (route, params))
    });
    let (route, params) = match (matched, &routes.default) {
        (Some(found), _) => found,
        (None, Some(default)) => (default, Vec::new()),
        (None, None) => return gateway_error(StatusCode::NOT_FOUND, "Not Found"),
    };
    let request_id = format!(
        "local-{:012}",
        routes.counter.fetch_add(1, Ordering::Relaxed)
    );
    let authorizer = match &route.guard {
        Some(guard) => match guard.admit(&parts.headers).await {
            Ok(context) => Some(context),
            Err(crate::authorizer::Refusal::Unauthorized) => {
                return gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
            Err(crate::authorizer::Refusal::Forbidden) => {
                return gateway_error(StatusCode::FORBIDDEN, "Forbidden");
            }
        },
        None => None,
    };
    let mut event = request_event(&RequestFacts {
        route_key: &route.route_key,
        method,
        raw_path: path,
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        path_parameters: &params,
        body: &body,
        source_ip: &peer.ip().to_string(),
        request_id: &request_id,
        at: time::OffsetDateTime::now_utc(),
    });
    if let Some(context) = authorizer {
        event["requestContext"]["authorizer"] = context;
    }
    let payload = match route.runtime.invoke(event.to_string().into_bytes()).await {
        Ok(payload) => payload,
        Err(InvokeError::Timeout(name)) => {
            eprintln!("gateway: {name} timed out on {method} {path}");
            return gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
        }
        Err(e) => {
            eprintln!("gateway: {e} on {method} {path}");
            return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    match proxy_response(&payload) {
        Ok(response) => response.map(Body::from),
        Err(e) => {
            eprintln!("gateway: malformed response from {}: {e}", route.route_key);
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}
