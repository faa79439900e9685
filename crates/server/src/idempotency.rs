//! `Idempotency-Key`: a client that retries a POST, PUT, PATCH or DELETE with the same key gets
//! the first answer again instead of a second activation, connection or end user. Keys belong to
//! the caller itself: one API key (another key of the same organisation has keys of its own), one
//! hub session, or one end user (a verified JWT: its organisation and `sub`), and are remembered
//! for 24 hours.
//! Reusing a key for a different request is a 422; retrying while the first is still running, a
//! 409. Answers of 5xx are not remembered, so such a request can be retried.
//!
//! A remembered answer can hold a secret shown once (a signing key's private key, a new API key, a
//! hub session token, an access token): its body is stored sealed by the vault, bound to its
//! (scope, key) by [`aad`], and re-sealed by `switchyard keys rotate` like credentials. Only the
//! status code is stored in the clear.
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use switchyard_domain::{time, ErrorKind};
use switchyard_store::IdempotencyBegin;

pub const HEADER: &str = "idempotency-key";
const LIMIT: usize = crate::extract::MAX_BODY_BYTES;

/// Whose keys these are: one API key (by id), one hub session (by token hash), or one end user
/// (a verified JWT: organisation and a hash of `sub`).
async fn scope_of(s: &AppState, authorization: &str) -> Option<String> {
    if let Some(token) = authorization.strip_prefix("JWT ") {
        let user = crate::auth::verify_end_user_jwt(s, token).await.ok()?;
        return Some(format!(
            "enduser:{}:{}",
            user.org,
            hex::encode(Sha256::digest(user.external_id.as_bytes()))
        ));
    }
    let token = authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))?
        .trim();
    let hash = crate::auth::hash_key(token);
    if token.starts_with(crate::auth::SESSION_TOKEN_PREFIX) {
        return s
            .store
            .find_hub_session(&hash, time::now())
            .await
            .ok()
            .flatten()
            .map(|_| format!("session:{hash}"));
    }
    let key = s
        .store
        .find_api_key_by_hash(&hash)
        .await
        .ok()
        .flatten()
        .filter(|(_, k)| k.revoked_at.is_none())?;
    Some(format!("apikey:{}", key.1.id))
}

/// What a remembered answer's sealed body is bound to: its row, so that a sealed body copied to
/// another caller's or another key's row does not open.
pub fn aad(scope: &str, key: &str) -> String {
    format!("idempotency\0{scope}\0{key}")
}

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_owned(),
        _ => {
            return ApiError::invalid_field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response()
        }
    };
    let Some(auth) = req.headers().get(axum::http::header::AUTHORIZATION) else {
        // Unauthenticated: the handler answers 401, nothing to remember.
        return next.run(req).await;
    };
    let Some(scope) = scope_of(&s, auth.to_str().unwrap_or_default()).await else {
        // Not a valid caller: the handler answers 401, nothing to remember.
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
                .into_response()
        }
    };
    let mut fp = Sha256::new();
    fp.update(parts.method.as_str());
    fp.update([0]);
    fp.update(parts.uri.to_string());
    fp.update([0]);
    fp.update(&bytes);
    let fingerprint = hex::encode(fp.finalize());
    match s
        .store
        .idempotency_begin(&scope, &key, &fingerprint, time::now())
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(IdempotencyBegin::Mismatch) => {
            return ApiError::new(
                ErrorKind::Unprocessable,
                "this Idempotency-Key was used for a different request",
            )
            .into_response();
        }
        Ok(IdempotencyBegin::InProgress) => {
            return ApiError::conflict(
                "a request with this Idempotency-Key is still in progress; retry later",
            )
            .into_response();
        }
        Ok(IdempotencyBegin::Replay {
            status,
            sealed_body,
        }) => {
            let body = match s.vault.open(&sealed_body, &aad(&scope, &key)) {
                Ok(b) => b.to_vec(),
                Err(e) => {
                    tracing::warn!(error = %e, "a remembered idempotent answer could not be opened");
                    return ApiError::internal(
                        "the remembered answer to this Idempotency-Key could not be opened",
                    )
                    .into_response();
                }
            };
            let mut res =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            let h = res.headers_mut();
            if status != 204 {
                h.insert(
                    axum::http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Ok(IdempotencyBegin::Started) => {}
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = res.status();
    if status.is_server_error() {
        abandon(&s, &scope, &key).await;
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => {
            abandon(&s, &scope, &key).await;
            return ApiError::internal("the response could not be read").into_response();
        }
    };
    let sealed = s.vault.seal(&bytes, &aad(&scope, &key));
    let key_id = switchyard_vault::KeyRing::key_id_of(&sealed)
        .unwrap_or_default()
        .to_owned();
    if let Err(e) = s
        .store
        .idempotency_finish(&scope, &key, status.as_u16(), &sealed, &key_id)
        .await
    {
        tracing::warn!(error = %e, "could not remember an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Forgets a claim. A store error is only logged: a claim left running is taken over after five
/// minutes.
async fn abandon(s: &AppState, scope: &str, key: &str) {
    if let Err(e) = s.store.idempotency_abandon(scope, key).await {
        tracing::warn!(error = %e, "could not forget an idempotency claim");
    }
}
