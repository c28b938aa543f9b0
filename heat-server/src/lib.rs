//! heat-server: Heat's OpenStack-native REST API (heat-api), the engine behind it, and the
//! SQLite / PostgreSQL persistence it runs on.
#![forbid(unsafe_code)]

pub mod auth;
pub mod store;
