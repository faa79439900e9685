//! The one error body: Versori's `{code, message, fields?, details?}`, on every 4xx and 5xx.
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_domain::{Error, ErrorKind, FieldError};
use switchyard_store::{Constraint, StoreError};
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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self(store_error(e))
    }
}

/// A store error as the API words it. A conflict's constraint becomes its message (naming the
/// values that collided); a missing row a 404; an unavailable database a 503 (logged with its
/// source) and anything else a 500 carrying its source, which the answer logs and hides.
pub fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::NotFound { what } => Error::not_found(what),
        StoreError::Conflict { constraint } => conflict_error(constraint),
        StoreError::Unavailable(source) => {
            tracing::warn!(error = %source, "database unavailable");
            Error::unavailable("the database is unavailable, try again shortly")
        }
        // Internal errors carry their cause; the answer logs it once and never shows it.
        StoreError::InvalidUrl(why) => Error::internal(format!("database URL refused: {why}")),
        StoreError::Other(source) => Error::internal(format!("database error: {source}")),
    }
}

/// The 409 for each rule a write can break.
fn conflict_error(constraint: Constraint) -> Error {
    let message = match constraint {
        Constraint::Unique => "a resource with these identifying fields already exists".to_owned(),
        Constraint::ForeignKey => {
            "the resource is referenced by, or references, another resource".to_owned()
        }
        Constraint::HubEndUserExternalId { external_id } => {
            format!("an end user with externalId {external_id:?} already exists in this hub")
        }
        Constraint::OrganisationEndUserExternalId { external_id } => format!(
            "an end user with externalId {external_id:?} already exists in this organisation"
        ),
        Constraint::ConnectionName { names } => match names.as_slice() {
            [one] => format!("a connection named {one:?} already exists for this connector"),
            _ => format!(
                "a connection with one of the names {} already exists for its connector",
                names
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Constraint::IntegrationActivated { activation_id } => {
            return Error::conflict(format!(
                "the end user has already activated this integration: activation {activation_id}"
            ))
            .with_details(activation_id)
        }
        Constraint::EnvironmentActivated { external_id } => {
            format!("end user {external_id:?} is already activated in this environment")
        }
        Constraint::EnvironmentName { name } => {
            format!("the project already has an environment named {name:?}")
        }
        Constraint::PlatformTemplateName { name } => {
            format!("the environment already has a connection template named {name:?}")
        }
        Constraint::ConnectorInUse => {
            "the connector is in use by a hub, a connection template or end-user connections"
                .to_owned()
        }
        Constraint::IntegrationHasActivations { count } => {
            format!("the integration has {count} activations; deactivate them first")
        }
        Constraint::EnvironmentLimit { max, count } => {
            format!("a project has at most {max} environments, and this one has {count}")
        }
        Constraint::LastEnvironment => {
            "a project keeps at least one environment: this is its last".to_owned()
        }
    };
    Error::conflict(message)
}

/// The domain's error constructors, as answers: `Err(ApiError::not_found("hub"))`.
impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Error::new(kind, message))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(Error::bad_request(message))
    }
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(Error::invalid_field(field, message))
    }
    pub fn invalid_fields(message: impl Into<String>, fields: Vec<FieldError>) -> Self {
        Self(Error::invalid_fields(message, fields))
    }
    pub fn not_found(what: &str) -> Self {
        Self(Error::not_found(what))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self(Error::conflict(message))
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self(Error::unauthorized(message))
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self(Error::unavailable(message))
    }
    /// A 500. `cause` is logged (with the request id) and never answered: the client gets
    /// "internal error" and the request id to quote.
    pub fn internal(cause: impl Into<String>) -> Self {
        Self(Error::internal(cause))
    }
}

tokio::task_local! {
    /// The id of the request being answered (its `X-Request-Id`).
    static REQUEST_ID: String;
}

/// Makes the request's id known to the errors its handler answers with (an internal error names
/// it, so that a client can quote it and an operator find the log line).
pub async fn request_id_scope(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    REQUEST_ID.scope(id, next.run(req)).await
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut e = self.0;
        let status =
            StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Logged once, here, with its cause (in the request's span: with its id); answered
            // without it.
            let request_id = REQUEST_ID.try_with(String::clone).ok();
            tracing::error!(cause = %e.message, request_id = request_id.as_deref().unwrap_or("-"), "internal error");
            e.message = "internal error".to_owned();
            e.fields.clear();
            e.details = request_id.map(|id| format!("request id {id}"));
        }
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
        self.ok_or_else(|| ApiError::not_found(what))
    }
}
