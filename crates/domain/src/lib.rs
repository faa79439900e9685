//! Switchyard's domain model.
//!
//! One model serves every API face: a v1 hub integration is "something an end user activates", a v1
//! connector is "an external API with auth scheme configs". The HTTP faces map their wire encodings
//! to these types; the store persists them; the activation engine in [`activation`] decides what an
//! activation request writes, without doing any I/O itself.
#![forbid(unsafe_code)]

pub mod activation;
pub mod auth_scheme;
pub mod connection;
pub mod credential;
pub mod error;
pub mod events;
pub mod model;
pub mod page;
pub mod pem_check;
pub mod platform;
pub mod schema_guard;
pub mod secret;
pub mod signing_key;
pub mod time;
pub mod variables;

pub use error::{Error, ErrorKind, FieldError, Result};

/// A new identifier: a ULID in its canonical 26-character form. Ids made by one process increase
/// strictly, even within a millisecond, so that creation order is id order.
pub fn new_id() -> String {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut g = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    g.generate()
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}

/// Whether `s` is a well-formed ULID.
pub fn is_ulid(s: &str) -> bool {
    s.len() == 26 && ulid::Ulid::from_string(s).is_ok()
}
