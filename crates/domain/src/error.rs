//! The one error type. Every layer returns it; the HTTP faces map it to Versori's JSON error shape
//! `{code, message, fields?, details?}`.
use serde::Serialize;
use std::fmt;

/// What went wrong, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    /// The request URI is longer than the server reads (414).
    UriTooLong,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    /// The request's header fields are larger than the server reads (431).
    HeadersTooLarge,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PreconditionFailed => 412,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UriTooLong => 414,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Unprocessable => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::HeadersTooLarge => 431,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// One offending field: `field` is a path such as `connections[1].templateId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub details: Option<String>,
    /// For a 429 or 503: when to try again, in seconds (the `Retry-After` header).
    pub retry_after: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            fields: Vec::new(),
            details: None,
            retry_after: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }
    /// A 400 naming one offending field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = FieldError::new(field, message);
        let mut e = Self::bad_request(format!("invalid {}: {}", field.field, field.message));
        e.fields.push(field);
        e
    }
    /// A 400 listing several offending fields.
    pub fn invalid_fields(message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        let mut e = Self::bad_request(message);
        e.fields = fields;
        e
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    /// A 429: too many requests; try again in `seconds`.
    pub fn too_many(message: impl Into<String>, seconds: u64) -> Self {
        let mut e = Self::new(ErrorKind::TooManyRequests, message);
        e.retry_after = Some(seconds.max(1));
        e
    }
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
    /// The error code as Versori writes it: the HTTP status times 1000, as a string.
    pub fn code(&self) -> String {
        (u32::from(self.kind.status()) * 1000).to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.status())
    }
}

impl std::error::Error for Error {}
