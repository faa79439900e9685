//! The one error body: Versori's `{code, message, fields?, details?}`, on every 4xx and 5xx.
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_domain::{Error, ErrorKind, FieldError};
use utoipa::ToSchema;

/// Versori's error shape.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// The HTTP status times 1000, as a string: `"400000"`, `"404000"`...
    pub code: String,
    pub message: String,
    /// The offending fields, with paths such as `connections[1].templateId`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

/// A domain error on its way out as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Error::new(kind, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status =
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            code: e.code(),
            message: e.message,
            fields: e.fields,
            details: e.details,
        };
        let mut res = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = e.retry_after {
            res.headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
        }
        res
    }
}

/// `Option<T>` → the resource, or a 404 naming it.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> Result<T, ApiError>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &str) -> Result<T, ApiError> {
        self.ok_or_else(|| ApiError(Error::not_found(what)))
    }
}
