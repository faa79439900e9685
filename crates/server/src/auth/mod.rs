//! Who is calling: the authentication extractors, and nothing else (no handlers live here).
//!
//! - [`OrgAuth`]: an organisation API key (`Bearer sy_...`).
//! - [`HubAuth`]: an API key, or a hub page session (`Bearer sys_...`) scoped to one end user in
//!   one hub.
//! - [`PlatformAuth`]: an API key, or an end-user JWT (`JWT ...`); [`PlatformAdmin`]: the API key
//!   only.
//!
//! Each checks the path's organisation (and a session's or end user's scope) before the handler,
//! and its body, is reached.
mod api_keys;
pub mod cache;
mod end_user_jwt;
mod hub;
pub mod key_uses;
mod platform;
mod session_tokens;
mod token;

pub use api_keys::{new_api_key, OrgAuth, KEY_PREFIX};
pub use end_user_jwt::{verify_end_user_jwt, EndUserToken, VERSORI_ISSUER_PREFIX};
pub use hub::HubAuth;
pub use platform::{end_user_forbidden, Caller, PlatformAdmin, PlatformAuth};
pub use session_tokens::TOKEN_PREFIX as SESSION_TOKEN_PREFIX;
pub use token::hash_key;
