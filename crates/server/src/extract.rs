//! Extractors whose rejections are Versori-shaped errors: a body that is not JSON, a wrong content
//! type, a wrong type or a missing field, bad query parameters and path parameters each get a 4xx
//! naming what is wrong.
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use switchyard_domain::{Error, ErrorKind, FieldError};

/// The largest request body read: larger is a 413, before routing when `Content-Length` says so,
/// and from whatever reads a body (the JSON extractors, the idempotency layer) otherwise.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body. Unknown fields are ignored, as Versori's server does.
pub struct Json<T>(pub T);

/// Turns serde's message into one a person can act on, without the line/column noise and
/// without the value that was given (which may be a secret): `invalid type: integer `918273645`,
/// expected a string` becomes `invalid type: expected a string, found an integer`.
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg,
    };
    without_value(&msg)
}

/// serde's messages with the offending value left out.
fn without_value(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.split_once(", expected ") {
                // `integer `5``, `string "x"`, `boolean `true``, `map`: keep the kind only.
                let kind = found.split(['`', '"']).next().unwrap_or(found).trim();
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                return format!("{prefix}expected {expected}, found {article} {kind}");
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        if let Some((_, expected)) = rest.split_once("`, expected ") {
            return format!("unknown variant, expected {expected}");
        }
    }
    msg.to_owned()
}

/// Parses `bytes` as JSON into `T`, after the input hygiene checks ([`crate::hygiene`]), naming
/// the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(inner) => {
            return Err(Error::bad_request(format!(
                "the request body is not valid JSON: {}",
                describe(&inner)
            )))
        }
    };
    crate::hygiene::check_json(&value)?;
    match serde_path_to_error::deserialize::<_, T>(&value) {
        Ok(v) => Ok(v),
        Err(err) => {
            let segments: Vec<String> = err
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                    serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                    _ => None,
                })
                .collect();
            let path = err.path().to_string();
            let inner = err.into_inner();
            let message = describe(&inner);
            // A missing field is reported at its parent's path; name the field itself, and every
            // other required field missing beside it.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
            {
                let at = |f: &str| {
                    if path == "." || path.is_empty() {
                        f.to_owned()
                    } else {
                        format!("{path}.{f}")
                    }
                };
                let fields: Vec<String> = crate::missing_fields::all::<T>(&value, &segments, name)
                    .iter()
                    .map(|f| at(f))
                    .collect();
                let mut e = Error::bad_request(format!(
                    "invalid request body: missing field{} {}",
                    if fields.len() > 1 { "s" } else { "" },
                    fields
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                for f in fields {
                    let m = format!("missing field `{}`", f.rsplit('.').next().unwrap_or(&f));
                    e.fields.push(FieldError::new(f, m));
                }
                return Err(e);
            }
            let field = if path == "." { String::new() } else { path };
            let message = message + &scheme_type_hint(&field, &value, &segments);
            let mut e = Error::bad_request(if field.is_empty() {
                format!("invalid request body: {message}")
            } else {
                format!("invalid request body: {field}: {message}")
            });
            e.fields.push(FieldError::new(
                if field.is_empty() {
                    "body".to_owned()
                } else {
                    field
                },
                message,
            ));
            Err(e)
        }
    }
}

/// A credential `type` that is an auth scheme's `schemeType` (`api-key`, `hmac`, `oauth2`): the
/// usual first mistake, answered with what to send instead.
fn scheme_type_hint(field: &str, body: &serde_json::Value, segments: &[String]) -> String {
    if !field.ends_with("credential.type") {
        return String::new();
    }
    let given = segments
        .iter()
        .try_fold(body, |v, s| match s.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(s.as_str()),
        })
        .and_then(|v| v.as_str());
    let takes = match given {
        Some("api-key") => "`string`",
        Some("hmac") => "`string` or `binary`",
        Some("oauth2") => "`oauth2-code`, `oauth2-token`, `oauth2-client`, `oauth2-password`, `jwt-bearer` or `custom-function`",
        _ => return String::new(),
    };
    format!(
        " (a credential's type is not its auth scheme's: `{}` schemes take {takes})",
        given.unwrap_or_default()
    )
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
            return Err(ApiError::new(
                ErrorKind::UnsupportedMediaType,
                "the request body must be JSON, with Content-Type: application/json",
            ));
        }
        let bytes = bytes::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorKind::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::new(
                        ErrorKind::BadRequest,
                        format!(
                            "the request body could not be read: {}",
                            rejection.body_text()
                        ),
                    )
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
        if has_no_body(req.headers()) {
            return Ok(JsonOrEmpty(T::default()));
        }
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(t)| JsonOrEmpty(t))
    }
}

/// A JSON body whose problems are answered only when the handler asks for it, after it has made
/// sure the caller may act on what the path names: a caller who may not (another organisation,
/// another end user's session) gets its 404 or 403 whatever it sent, and learns nothing from a
/// 400 about the body. [`JsonBody::get`] answers as [`Json`] would, [`JsonBody::get_or_default`] as
/// [`JsonOrEmpty`] would.
pub struct JsonBody<T> {
    empty: bool,
    parsed: Result<T, ApiError>,
}

impl<T> JsonBody<T> {
    /// The body, or the 4xx it deserves.
    pub fn get(self) -> Result<T, ApiError> {
        self.parsed
    }
}

impl<T: Default> JsonBody<T> {
    /// The body, `T::default()` when there is none, or the 4xx it deserves.
    pub fn get_or_default(self) -> Result<T, ApiError> {
        if self.empty {
            Ok(T::default())
        } else {
            self.parsed
        }
    }
}

/// Whether a request carries no body at all.
fn has_no_body(h: &axum::http::HeaderMap) -> bool {
    match h.get(axum::http::header::CONTENT_LENGTH) {
        Some(len) => len.as_bytes() == b"0",
        None => h.get(axum::http::header::TRANSFER_ENCODING).is_none(),
    }
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = has_no_body(req.headers());
        let parsed = Json::<T>::from_request(req, state).await.map(|Json(t)| t);
        // A body over the size limit is a transport limit, not something about the body that the
        // caller should not learn: it is answered at once.
        if let Err(e) = &parsed {
            if e.0.kind == ErrorKind::PayloadTooLarge {
                return Err(ApiError::new(
                    ErrorKind::PayloadTooLarge,
                    e.0.message.clone(),
                ));
            }
        }
        Ok(JsonBody { empty, parsed })
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
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            crate::hygiene::check_query_param(&k, &v)?;
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let inner = without_value(&err.into_inner().to_string());
                let field = match inner
                    .strip_prefix("missing field `")
                    .and_then(|m| m.split('`').next())
                {
                    Some(name) => name.to_owned(),
                    None => path,
                };
                ApiError::invalid_field(field, inner)
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
        if let Ok(raw) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            for (name, value) in raw.iter() {
                crate::hygiene::check_path_param(name, value)?;
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| {
                ApiError::new(
                    ErrorKind::BadRequest,
                    format!("invalid path parameter: {}", e.body_text()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        #[serde(rename = "clientSecret")]
        client_secret: String,
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Kind {
        #[serde(rename = "a")]
        A,
    }

    #[test]
    fn type_errors_never_echo_the_value() {
        let e = parse_json::<Body>(br#"{"clientSecret": 918273645}"#).unwrap_err();
        assert!(!e.message.contains("918273645"), "{}", e.message);
        assert_eq!(e.fields[0].field, "clientSecret");
        assert!(
            e.fields[0]
                .message
                .contains("expected a string, found an integer"),
            "{}",
            e.fields[0].message
        );
        let e =
            parse_json::<Body>(br#"{"clientSecret": "x", "kind": "s3cret-variant"}"#).unwrap_err();
        assert!(!e.message.contains("s3cret"), "{}", e.message);
        let e = parse_json::<Body>(br#"{"clientSecret": "a\u0000b"}"#).unwrap_err();
        assert_eq!(e.fields[0].field, "clientSecret");
    }
}
