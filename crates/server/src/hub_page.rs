//! The hub page (`/hub/`) and `embed.js`, built from `ui/` into `crates/server/ui/dist` and
//! embedded in the binary, so that a plain `cargo run` serves them without Node.
//!
//! The page's CSP `frame-ancestors` is the organisation's `hubFrameAncestors` when the URL names
//! the organisation (`/hub/?o=<organisationId>`, as the URLs Switchyard hands out do), `*`
//! otherwise. The page itself refuses to run when `o` is not its token's organisation, and reloads
//! itself with `o` when the URL lacks it, so that the policy applies whichever URL a host uses.
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;

#[derive(rust_embed::RustEmbed)]
#[folder = "ui/dist/"]
struct Assets;

/// Adds the hub page's routes to `router`.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route(
            "/hub",
            axum::routing::get(|RawQuery(q): RawQuery| async move {
                // The query (`o`) goes along: it decides the page's framing policy.
                Redirect::permanent(&match q {
                    Some(q) if !q.is_empty() => format!("/hub/?{q}"),
                    _ => "/hub/".to_owned(),
                })
            }),
        )
        .route(
            "/hub/",
            axum::routing::get(
                |State(s): State<AppState>, RawQuery(q): RawQuery| async move {
                    page(&s, "index.html", q).await
                },
            ),
        )
        .route(
            "/hub/{*path}",
            axum::routing::get(
                |State(s): State<AppState>,
                 axum::extract::Path(path): axum::extract::Path<String>,
                 RawQuery(q): RawQuery| async move { page(&s, &path, q).await },
            ),
        )
        .route(
            "/embed.js",
            axum::routing::get(|| async { asset("embed.js", "*") }),
        )
}

/// The organisation a hub page URL names: its `o` query parameter, when it looks like an id.
fn organisation_param(query: Option<&str>) -> Option<String> {
    let o = form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "o")?
        .1
        .into_owned();
    (!o.is_empty()
        && o.len() <= 64
        && o.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(o)
}

/// A file of the hub page; HTML pages get the framing policy of the organisation `o` names.
async fn page(s: &AppState, path: &str, query: Option<String>) -> Response {
    if !path.ends_with(".html") {
        return asset(path, "*");
    }
    match frame_ancestors(s, query.as_deref()).await {
        Ok(ancestors) => asset(path, &ancestors),
        Err(e) => e.into_response(),
    }
}

/// The CSP `frame-ancestors` sources for a page URL's query: the organisation's
/// `hubFrameAncestors`, or `*` (no `o`, an organisation with no list, or no such organisation).
async fn frame_ancestors(s: &AppState, query: Option<&str>) -> ApiResult<String> {
    let Some(org) = organisation_param(query) else {
        return Ok("*".to_owned());
    };
    let ancestors = s.store.public_hub_frame_ancestors(&org).await?;
    Ok(crate::oauth::policy::frame_ancestors_source(&ancestors))
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

/// The page talks only to this server, and loads scripts only from it; who may frame it (that is
/// its purpose) is appended: `frame-ancestors <sources>`.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors ";

fn asset(path: &str, frame_ancestors: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return crate::error::ApiError(switchyard_domain::Error::not_found("file")).into_response();
    };
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type(path)),
            (header::CACHE_CONTROL, cache),
        ],
        file.data.into_owned(),
    )
        .into_response();
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if path.ends_with(".html") {
        // The sources were checked (origins, no quotes, semicolons or whitespace); a value a header
        // cannot carry falls back to framing by nobody rather than by anybody.
        let csp = header::HeaderValue::from_str(&format!("{PAGE_CSP}{frame_ancestors}"))
            .unwrap_or_else(|_| {
                header::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
            });
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
        h.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("no-referrer"),
        );
    }
    if path == "embed.js" {
        // Host pages load it cross-origin.
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderValue::from_static("*"),
        );
    }
    res
}
