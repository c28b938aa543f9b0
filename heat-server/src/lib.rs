//! heat-server: Heat's OpenStack-native REST API (heat-api), the engine behind it, and the
//! SQLite / PostgreSQL persistence it runs on.
#![forbid(unsafe_code)]

pub mod auth;
pub mod store;

pub mod api;
pub mod clock;
pub mod config;
pub mod engine_api;
pub mod error;
pub mod random;
pub mod server;
