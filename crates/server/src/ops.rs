//! Operations: liveness, readiness, Prometheus metrics, request ids, access logs, and the JSON
//! answers to unknown paths, wrong methods and panics.
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use std::time::{Duration, Instant};
use switchyard_domain::{Error, ErrorKind};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embedded_health)).routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    pub message: String,
}

/// Versori's HealthCheck: `{"message":"ok"}`.
#[utoipa::path(get, path = "/api/embedded/v1/healthz", operation_id = "HealthCheck", tag = "operations", security(()),
    responses((status = 200, body = HealthResponse)))]
async fn embedded_health() -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse { message: "ok".into() })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = HealthResponse)))]
async fn healthz() -> axum::Json<HealthResponse> {
    axum::Json(HealthResponse { message: "ok".into() })
}

/// Readiness: the database answers. 503 while it does not.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, body = HealthResponse), (status = 503, body = ErrorBody)))]
async fn readyz(State(state): State<AppState>) -> Result<axum::Json<HealthResponse>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(HealthResponse { message: "ready".into() })),
        Ok(Err(e)) => Err(ApiError(Error::unavailable(format!("the database is not ready: {}", e.message)))),
        Err(_) => Err(ApiError(Error::unavailable("the database did not answer within 3 seconds"))),
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
        Some(h) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => ApiError(Error::new(ErrorKind::NotFound, "metrics are not enabled")).into_response(),
    }
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("switchyard_http_requests_total", &labels).increment(1);
    metrics::histogram!("switchyard_http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    res
}

#[derive(Clone, Default)]
struct MakeUlid;

impl MakeRequestId for MakeUlid {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        axum::http::HeaderValue::from_str(&switchyard_domain::new_id()).ok().map(RequestId::new)
    }
}

async fn not_found() -> ApiError {
    ApiError(Error::new(ErrorKind::NotFound, "no such path"))
}

async fn method_not_allowed() -> ApiError {
    ApiError(Error::new(ErrorKind::MethodNotAllowed, "method not allowed on this path"))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError(Error::internal("internal error")).into_response()
}

/// Wraps the application in its cross-cutting layers.
pub fn layers(router: Router, state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::layer))
        .layer(axum::middleware::from_fn_with_state(state, crate::rate_limit::layer))
        .layer(axum::middleware::from_fn(record_metrics))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                })
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeUlid))
}

/// Every status this server may answer with is JSON; this is used by tests of the error shape.
pub fn is_error(status: StatusCode) -> bool {
    status.is_client_error() || status.is_server_error()
}
