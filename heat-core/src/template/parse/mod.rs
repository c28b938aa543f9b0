//! From a loaded [`Node`] tree to the typed [`Template`] model, with structural diagnostics.
//! OWNER: structure helper (cfn.rs, hot.rs), expression helper (expr.rs), parameters helper
//! (parameters.rs).

pub mod expr;
pub mod parameters;

use crate::diagnostic::Diagnostic;
use crate::template::load::{Limits, Loaded, load};
use crate::template::model::Template;

/// A parsed template and everything found wrong on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The model, when the text was a template at all (even if it has errors).
    pub template: Option<Template>,
    /// Load and structure diagnostics, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads and parses a template text.
pub fn parse(text: &str, limits: &Limits) -> Parsed {
    let loaded = load(text, limits);
    parse_template(&loaded)
}

/// Parses a loaded document into a template.
pub fn parse_template(loaded: &Loaded) -> Parsed {
    let _ = loaded;
    unimplemented!("structure helper")
}
