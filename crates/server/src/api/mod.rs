//! The HTTP faces, one module per API.
pub mod v1_wire;
