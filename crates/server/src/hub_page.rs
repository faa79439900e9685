//! The hub page (`/hub/`) and `embed.js`, built from `ui/` into `crates/server/ui/dist` and
//! embedded in the binary, so that a plain `cargo run` serves them without Node.
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;

#[derive(rust_embed::RustEmbed)]
#[folder = "ui/dist/"]
struct Assets;

/// Adds the hub page's routes to `router`.
pub fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .route("/hub", axum::routing::get(|| async { Redirect::permanent("/hub/") }))
        .route("/hub/", axum::routing::get(|| async { asset("index.html") }))
        .route("/hub/{*path}", axum::routing::get(|axum::extract::Path(path): axum::extract::Path<String>| async move { asset(&path) }))
        .route("/embed.js", axum::routing::get(|| async { asset("embed.js") }))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// The page may be framed by any host (that is its purpose); it talks only to this server, and
/// loads scripts only from it.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *";

fn asset(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return crate::error::ApiError(switchyard_domain::Error::not_found("file")).into_response();
    };
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, content_type(path)), (header::CACHE_CONTROL, cache)], file.data.into_owned()).into_response();
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    if path.ends_with(".html") {
        h.insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(PAGE_CSP));
        h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    }
    if path == "embed.js" {
        // Host pages load it cross-origin.
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
    }
    res
}
