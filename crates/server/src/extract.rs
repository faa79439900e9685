//! Extractors whose rejections are Versori-shaped errors: a body that is not JSON, a wrong content
//! type, a wrong type or a missing field, bad query parameters and path parameters each get a 4xx
//! naming what is wrong.
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchyard_domain::{Error, ErrorKind, FieldError};

/// A JSON request body. Unknown fields are ignored, as Versori's server does.
pub struct Json<T>(pub T);

/// Turns serde's message into one a person can act on, without the line/column noise.
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    }
}

/// Parses `bytes` as JSON into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(Error::bad_request(format!("the request body is not valid JSON: {inner}")));
            }
            let message = describe(&inner);
            // A missing field is reported at its parent's path; name the field itself.
            let field = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                Some(name) if path == "." || path.is_empty() => name.to_owned(),
                Some(name) => format!("{path}.{name}"),
                None if path == "." => String::new(),
                None => path,
            };
            let mut e = Error::bad_request(if field.is_empty() {
                format!("invalid request body: {message}")
            } else {
                format!("invalid request body: {field}: {message}")
            });
            e.fields.push(FieldError::new(if field.is_empty() { "body".to_owned() } else { field }, message));
            Err(e)
        }
    }
}

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(ErrorKind::UnsupportedMediaType, "the request body must be JSON, with Content-Type: application/json"));
        }
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::new(ErrorKind::BadRequest, format!("the request body could not be read: {}", rejection.body_text()))
            }
        })?;
        Ok(Json(parse_json(&bytes)?))
    }
}

/// A JSON body that may be left out altogether (no body: `T::default()`).
pub struct JsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for JsonOrEmpty<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let h = req.headers();
        let empty = match h.get(axum::http::header::CONTENT_LENGTH) {
            Some(len) => len.as_bytes() == b"0",
            None => h.get(axum::http::header::TRANSFER_ENCODING).is_none(),
        };
        if empty {
            return Ok(JsonOrEmpty(T::default()));
        }
        Json::<T>::from_request(req, state).await.map(|Json(t)| JsonOrEmpty(t))
    }
}

/// Query parameters, with a 400 naming the bad one.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de).map(Query).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner().to_string();
            let field = match inner.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                Some(name) => name.to_owned(),
                None => path,
            };
            ApiError(Error::invalid_field(field, inner))
        })
    }
}

/// Path parameters; a malformed one is a 404, as the resource it names cannot exist.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::new(ErrorKind::BadRequest, format!("invalid path parameter: {}", e.body_text())))
    }
}
