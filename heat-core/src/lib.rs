//! heat-core: the pure, embeddable heart of heat.
//!
//! It parses CloudFormation and HOT templates into a typed model ([`template::Template`]),
//! checks them statically ([`validate`]), evaluates intrinsic functions ([`eval`]) and builds
//! the dependency graph ([`graph`]). It does no I/O: callers hand it text and get back data
//! and [`diagnostic::Diagnostic`]s.
#![forbid(unsafe_code)]

pub mod check;
pub mod diagnostic;
pub mod engine;
pub mod environment;
pub mod eval;
pub mod files;
pub mod graph;
pub mod names;
pub mod parameters;
pub mod span;
pub mod template;
pub mod validate;
