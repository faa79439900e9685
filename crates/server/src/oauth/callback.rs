//! The hosted callback page (`/oauth2/callback`): it hands the provider's answer
//! (`location.search`) to the window that opened it, through the `hello`/`response` postMessage
//! protocol of Versori's embed SDK, and only to a window of the origin recorded when the flow
//! started.
use super::common::sha256_hex;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use switchyard_domain::time::{self};
use utoipa_axum::router::OpenApiRouter;

pub(super) fn routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .route(
            super::common::CALLBACK_PATH,
            axum::routing::get(callback_page),
        )
        .route("/oauth2/callback.js", axum::routing::get(callback_script))
}

// ---------------------------------------------------------------------------------------------
// The hosted callback page.

/// The page, with `{meta}` (the opener origin's `<meta>`, or nothing), `{title}` and `{status}`.
const CALLBACK_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{title}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f2933;background:#f7f9fb}main{max-width:28rem;padding:2rem;text-align:center}</style>
<script src="/oauth2/callback.js" defer></script>
</head>
<body>
<main><h1>{title}</h1><p id="status" role="status">{status}</p></main>
</body>
</html>
"#;

/// The `<meta>` that carries the origin of the page that started the flow to the script.
const OPENER_META: &str = "switchyard-opener-origin";

/// Answers the opener's `{type:"hello", payload:{state}}` with `{type:"response",
/// payload:{search}}`: only to the opener, only when the hello comes from the origin recorded when
/// the flow started (the page's `<meta name="switchyard-opener-origin">`), posted with exactly that
/// target origin, once, and only when the state is the one in this page's URL. Without the
/// `<meta>` (an unknown, used or expired state) it posts nothing. OAuth 1.0a callbacks bring
/// `state` (Switchyard's, in the callback URL) besides `oauth_token` and `oauth_verifier`; a hello
/// may name either the state or the `oauth_token` of the authorize URL the opener was given.
const CALLBACK_JS: &str = r#"(function () {
  'use strict';
  var search = window.location.search;
  var params = new URLSearchParams(search);
  var state = params.get('state');
  var token = params.get('oauth_token');
  var status = document.getElementById('status');
  var meta = document.querySelector('meta[name="switchyard-opener-origin"]');
  var origin = meta ? meta.getAttribute('content') : '';
  var done = false;
  function say(text) { if (status) status.textContent = text; }
  if (!origin) {
    say('This sign-in attempt has expired or was already used. Close this window and start again.');
    return;
  }
  if (!window.opener) {
    say('This page finishes a connection started in another window. You can close it.');
    return;
  }
  window.addEventListener('message', function (event) {
    if (done || event.source !== window.opener || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== 'hello' || !data.payload) return;
    var said = data.payload.state;
    if (!said || (said !== state && said !== token)) return;
    done = true;
    window.opener.postMessage({ type: 'response', payload: { search: search } }, origin);
    say('Connected. You can close this window.');
    setTimeout(function () { window.close(); }, 300);
  });
})();

"#;

/// The callback page for one flow: with the opener origin its state recorded (a live state), or
/// saying the attempt expired (an unknown, used or expired one).
pub(crate) fn callback_html(opener_origin: Option<&str>) -> String {
    let (meta, title, status) = match opener_origin {
        Some(o) => (
            format!("<meta name=\"{OPENER_META}\" content=\"{}\">\n", crate::oauth::policy::html_escape(o)),
            "Connecting…",
            "Finishing the connection. This window closes by itself.",
        ),
        None => (String::new(), "Sign-in expired", "This sign-in attempt has expired or was already used. Close this window and start again."),
    };
    CALLBACK_HTML
        .replace("{meta}", &meta)
        .replace("{title}", title)
        .replace("{status}", status)
}

/// No referrer (the URL carries the code), no caching, scripts from this origin only.
fn page_headers(content_type: &'static str) -> [(header::HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ]
}

/// The hosted callback page. It looks the flow up by its `state` (the OAuth2 provider's echo, or
/// Switchyard's own in an OAuth 1.0a callback URL), by the state's SHA-256 and without spending it,
/// and tells the page's script the origin recorded when the flow started.
async fn callback_page(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let state = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let origin = match state.filter(|st| !st.is_empty()) {
        // A flow recorded before origins were (no `opener_origin`): the hub page's, Switchyard's own.
        Some(st) => s
            .store
            .find_oauth_state_origin(&sha256_hex(&st), time::now())
            .await?
            .map(|o| o.unwrap_or_else(|| crate::oauth::policy::public_origin(&s.public_url))),
        None => None,
    };
    Ok((
        page_headers("text/html; charset=utf-8"),
        callback_html(origin.as_deref()),
    ))
}

async fn callback_script() -> impl IntoResponse {
    (page_headers("text/javascript; charset=utf-8"), CALLBACK_JS)
}
