//! The template language: loading, the typed model, versions and functions.
//!
//! The way through: text → [`load::load`] (YAML/JSON → [`node::Node`] tree with spans,
//! short forms rewritten, YAML 1.1 scalars resolved) → [`parse::parse_template`] (→ typed
//! [`model::Template`] + structural diagnostics; expressions parsed into [`expr::Expr`]).

pub mod expr;
pub mod functions;
pub mod load;
pub mod model;
pub mod node;
pub mod parse;
pub mod refs;
pub mod version;
pub mod yaml11;

pub use expr::{Call, Expr, ExprKind, Func};
pub use load::{Limits, Loaded, load};
pub use model::*;
pub use node::{Key, Node, Value};
pub use parse::{Parsed, parse, parse_template};
pub use version::{Format, Version};
