//! Dynamic-variables validation off the async workers, with a time budget.
//!
//! Compiling a JSON Schema and validating against it are CPU work of a size the schema's author
//! decides, so neither runs on an async worker: each runs on a blocking thread, at most
//! [`threads`] at a time, and is given [`budget`] (2 s unless `--variables-budget-ms` says
//! otherwise). A schema whose check or validation blows the budget is remembered as unusable,
//! so the next request does not burn another thread on it. The static checks of
//! [`switchyard_domain::schema_guard`] keep a schema from running away in the first place; the
//! budget is the backstop (a thread past its budget cannot be stopped, only left to finish, still
//! holding its slot, so the work in flight stays bounded).
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchyard_domain::variables::{self, SchemaOwner};
use switchyard_domain::{Error, ErrorKind, FieldError};
use tokio::sync::Semaphore;

pub use switchyard_domain::variables::{INTEGRATION, PROJECT};

/// The default time budget of one schema check or validation.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(2);

static BUDGET: OnceLock<Duration> = OnceLock::new();

/// Sets the time budget (once, at start-up; later calls are ignored).
pub fn configure(budget: Duration) {
    let _ = BUDGET.set(budget.max(Duration::from_millis(1)));
}

/// The time budget of one schema check or validation.
pub fn budget() -> Duration {
    BUDGET.get().copied().unwrap_or(DEFAULT_BUDGET)
}

/// How many checks and validations run at once: the cores, within 2..=8.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

fn pool() -> Arc<Semaphore> {
    static POOL: OnceLock<Arc<Semaphore>> = OnceLock::new();
    POOL.get_or_init(|| Arc::new(Semaphore::new(threads())))
        .clone()
}

fn describe(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Runs `job` on a blocking thread within the budget. `Err(None)` when the budget ran out while
/// it ran (it is left to finish in the background); a wait for a free thread longer than the
/// budget is a 503.
async fn run<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Option<Error>> {
    let budget = budget();
    let permit = match tokio::time::timeout(budget, pool().acquire_owned()).await {
        Ok(Ok(p)) => p,
        _ => {
            return Err(Some(Error::unavailable(
                "too many variables validations are running; retry shortly",
            )))
        }
    };
    let handle = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        job()
    });
    match tokio::time::timeout(budget, handle).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(_)) => Err(Some(Error::internal("variables validation failed"))),
        Err(_) => Err(None),
    }
}

/// Checks a schema about to be stored (see [`variables::check_schema`]): a 400 naming `field`
/// when it is not usable.
pub async fn check_schema(schema: &Value, field: &str) -> Result<(), Error> {
    if !schema.is_object() {
        return Err(Error::invalid_field(field, "must be a JSON Schema object"));
    }
    let key = variables::schema_key(schema);
    if let Some(problem) = variables::known_unusable(&key) {
        return Err(Error::invalid_field(field, problem));
    }
    let (schema, owned_field) = (schema.clone(), field.to_owned());
    match run(move || variables::check_schema(&schema, &owned_field)).await {
        Ok(result) => result,
        Err(Some(e)) => Err(e),
        Err(None) => {
            let problem = format!("took longer than {} to check", describe(budget()));
            tracing::warn!(
                field,
                bytes = key.len(),
                "a variables schema blew its time budget when checked; remembered as unusable"
            );
            variables::mark_unusable(&key, &problem);
            Err(Error::invalid_field(field, problem))
        }
    }
}

/// Validates dynamic variables against `owner`'s schema (see [`variables::validate`]) on a
/// blocking thread within the budget. A schema that blows it is remembered as unusable and
/// answered with [`SchemaOwner::unusable`].
pub async fn validate(
    owner: SchemaOwner,
    schema: Option<&Value>,
    vars: Map<String, Value>,
    root: &str,
) -> Result<Map<String, Value>, Error> {
    let Some(schema) = schema.filter(|s| !s.is_null()) else {
        // Nothing to compile: only "no variables are defined" to say.
        return variables::validate(owner, None, vars, root);
    };
    variables::check_size(&vars, root)?;
    let key = variables::schema_key(schema);
    if let Some(problem) = variables::known_unusable(&key) {
        return Err(owner.unusable(&problem));
    }
    let (schema, root_owned) = (schema.clone(), root.to_owned());
    match run(move || variables::validate(owner, Some(&schema), vars, &root_owned)).await {
        Ok(result) => result,
        Err(Some(e)) => Err(e),
        Err(None) => {
            let problem = format!(
                "checking variables against it took longer than {}",
                describe(budget())
            );
            tracing::warn!(
                schema = owner.field,
                bytes = key.len(),
                "a variables schema blew its time budget; remembered as unusable"
            );
            variables::mark_unusable(&key, &problem);
            Err(owner.unusable(&problem))
        }
    }
}

/// The violations of a failed [`validate`], for handlers that report them with other problems;
/// any other error (an unusable schema, a busy server) is returned as it is.
pub fn violations(e: Error) -> Result<Vec<FieldError>, Error> {
    if e.kind == ErrorKind::BadRequest && !e.fields.is_empty() {
        Ok(e.fields)
    } else {
        Err(e)
    }
}
