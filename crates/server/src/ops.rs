//! Operations: liveness, readiness, Prometheus metrics, request ids, access logs, the request
//! limits (URI, headers, body, time), and the JSON answers to unknown paths, wrong methods,
//! oversized requests, timeouts and panics.
use crate::error::{ApiError, ErrorBody};
use crate::extract::MAX_BODY_BYTES;
use crate::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use switchyard_domain::{Error, ErrorKind};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use tracing::field::Empty;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(index))
        .routes(routes!(embedded_health))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// `GET /`: where to go from here.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub name: &'static str,
    pub version: &'static str,
    /// The embeddable hub page; it needs a session URL (`POST
    /// /api/embedded/v1/hubs/{hub}/users/{user}/sessions`) or an end-user JWT to show anything.
    pub hub_page: String,
    /// The script that mounts the hub page in a host page (`Switchyard.mount`).
    pub embed_script: String,
    /// This API's OpenAPI 3.1 document, with an example for every request body.
    pub openapi: String,
    pub health: String,
    pub readiness: String,
    pub metrics: String,
    /// Where the documentation is: it ships with the source, not with the server.
    pub docs: &'static str,
}

/// An index of what this server serves.
#[utoipa::path(get, path = "/", tag = "operations", security(()), responses((status = 200, body = Index)))]
async fn index(State(state): State<AppState>) -> axum::Json<Index> {
    let at = |path: &str| format!("{}{path}", state.public_url);
    axum::Json(Index {
        name: "Switchyard",
        version: env!("CARGO_PKG_VERSION"),
        hub_page: at("/hub/"),
        embed_script: at("/embed.js"),
        openapi: at("/openapi.json"),
        health: at("/healthz"),
        readiness: at("/readyz"),
        metrics: at("/metrics"),
        docs: "README.md (First steps: a walkthrough from an organisation to an activation) and docs/ in Switchyard's source",
    })
}

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    pub message: String,
}

/// Versori's HealthCheck: `{"message":"ok"}`.
#[utoipa::path(get, path = "/api/embedded/v1/healthz", operation_id = "HealthCheck", tag = "operations", security(()),
    responses((status = 200, body = HealthResponse)))]
async fn embedded_health() -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse {
        message: "ok".into(),
    })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = HealthResponse)))]
async fn healthz() -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse {
        message: "ok".into(),
    })
}

/// Readiness: the database answers. 503 while it does not.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = HealthResponse), (status = 503, body = ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> Result<axum::Json<HealthResponse>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(HealthResponse {
            message: "ready".into(),
        })),
        Ok(Err(e)) => Err(ApiError::unavailable(format!(
            "the database is not ready: {}",
            crate::error::store_error(e).message
        ))),
        Err(_) => Err(ApiError::unavailable(
            "the database did not answer within 3 seconds",
        )),
    }
}

/// Prometheus metrics: request counts and latency by route and status, database pool figures.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_stats();
    metrics::gauge!("switchyard_db_pool_connections").set(pool.size as f64);
    metrics::gauge!("switchyard_db_pool_idle_connections").set(pool.idle as f64);
    metrics::gauge!("switchyard_db_pool_max_connections").set(pool.max as f64);
    match &state.metrics {
        Some(h) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            h.render(),
        )
            .into_response(),
        None => ApiError::new(ErrorKind::NotFound, "metrics are not enabled").into_response(),
    }
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // The request span (the access log's, and the trace's) learns its route here, after routing.
    tracing::Span::current().record("route", tracing::field::display(&route));
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("switchyard_http_requests_total", &labels).increment(1);
    metrics::histogram!("switchyard_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

#[derive(Clone, Default)]
struct MakeUlid;

impl MakeRequestId for MakeUlid {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&switchyard_domain::new_id())
            .ok()
            .map(RequestId::new)
    }
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorKind::NotFound, "no such path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorKind::MethodNotAllowed,
        "method not allowed on this path",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal("internal error").into_response()
}

/// The longest request URI (path and query, as sent) answered: longer is a 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most request header bytes answered, counting each header's name, value and 4 bytes (`: `
/// and the line end, as HTTP/1 sends them): more is a 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What a request may take, beyond what the listener enforces per connection.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// A request (reading its body included) not answered within this gets a 503 in the error
    /// shape, and its handler is stopped.
    pub request_timeout: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
        }
    }
}

fn too_large(kind: ErrorKind, field: &str, field_message: String, message: String) -> Response {
    let mut e = Error::new(kind, message);
    e.fields
        .push(switchyard_domain::FieldError::new(field, field_message));
    ApiError(e).into_response()
}

/// 414, 431 and (for a declared `Content-Length`) 413, in the error shape, before routing.
async fn check_request_size(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let uri_bytes = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return too_large(
            ErrorKind::UriTooLong,
            "uri",
            format!("{uri_bytes} bytes, more than {MAX_URI_BYTES}"),
            format!("the request URI is {uri_bytes} bytes, more than the {MAX_URI_BYTES} this server reads"),
        );
    }
    let mut header_bytes = 0;
    let mut largest: Option<(&str, usize)> = None;
    for (name, value) in req.headers() {
        let n = name.as_str().len() + value.len() + 4;
        header_bytes += n;
        if largest.is_none_or(|(_, l)| n > l) {
            largest = Some((name.as_str(), n));
        }
    }
    if header_bytes > MAX_HEADER_BYTES {
        let (name, n) = largest.unwrap_or_default();
        return too_large(
            ErrorKind::HeadersTooLarge,
            name,
            format!("the largest header: {n} of the {header_bytes} bytes"),
            format!("the request headers are {header_bytes} bytes, more than the {MAX_HEADER_BYTES} this server reads (the largest, {name}, is {n})"),
        );
    }
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let http1 = req.version() <= axum::http::Version::HTTP_11;
    let mut res = match declared.filter(|&len| len > MAX_BODY_BYTES as u64) {
        Some(len) => too_large(
            ErrorKind::PayloadTooLarge,
            "body",
            format!("{len} bytes, more than {MAX_BODY_BYTES}"),
            format!(
                "the request body is {len} bytes, more than the {MAX_BODY_BYTES} this server reads"
            ),
        ),
        None => next.run(req).await,
    };
    // The rest of an oversized body is never read: the connection cannot carry another request,
    // and a client must not put it back in its pool.
    if http1 && res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    res
}

/// The request timeout: 503 in the error shape when the rest of the stack takes longer. It sits
/// outside the idempotency layer: a write stopped by it keeps its `Idempotency-Key` marked as in
/// progress (retries get a 409 until the key is reclaimed after 5 minutes), since the write may
/// have been committed just before the handler was stopped.
async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(
                timeout_seconds = limit.as_secs_f64(),
                "a request was not answered within the request timeout; its handler was stopped"
            );
            ApiError::unavailable(format!(
                "the request was not answered within {} seconds",
                limit.as_secs_f64()
            ))
            .into_response()
        }
    }
}

/// Wraps the application in its cross-cutting layers. Before routing: the request id, the access
/// log, panics, and the URI, header and declared body sizes; after it (so that they know the
/// route): metrics, the request timeout, idempotency, and the body limit for the extractors.
pub fn layers(router: Router, state: AppState, limits: &RequestLimits) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let routed = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.rate_limits.clone(),
            crate::rate_limit::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn(record_metrics))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    // An outer router with nothing but the routed application as its fallback: its layers run
    // before any route is matched.
    Router::new()
        .fallback_service(routed)
        .layer(axum::middleware::from_fn(check_request_size))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
                        Some(ConnectInfo(client)) => {
                            tracing::info_span!("request", request_id = %id, client = %client, method = %req.method(), path = %req.uri().path(), route = Empty, status = Empty)
                        }
                        None => tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), route = Empty, status = Empty),
                    }
                })
                .on_response(|res: &Response, latency: Duration, span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                    span.record("status", res.status().as_u16());
                })
                .on_failure(()),
        )
        .layer(axum::middleware::from_fn(crate::error::request_id_scope))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeUlid))
}

/// Every status this server may answer with is JSON; this is used by tests of the error shape.
pub fn is_error(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}
