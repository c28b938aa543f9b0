//! The one loader for YAML and JSON templates and environments.
//! OWNER: loader helper. Contract below; body to be written.

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::template::node::Node;

/// Bounds on what the loader accepts (principle 8: limits are explicit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of a template in bytes (Heat's `max_template_size`, default 524288).
    pub max_template_size: usize,
    /// Maximum nesting depth of collections.
    pub max_depth: usize,
    /// Maximum number of nodes that alias expansion may produce in one document.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_template_size: 524_288,
            max_depth: 256,
            max_alias_nodes: 100_000,
        }
    }
}

/// Whether the text was JSON (starts with `{` after whitespace, as Heat decides) or YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// JSON text.
    Json,
    /// YAML text.
    Yaml,
}

/// A key written twice in one mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key.
    pub name: String,
    /// The first occurrence.
    pub first: Span,
    /// The later occurrence.
    pub duplicate: Span,
}

/// What the loader produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The document, unless the text could not be loaded at all.
    pub root: Option<Node>,
    /// JSON or YAML.
    pub kind: SourceKind,
    /// Keys written twice; the tree keeps both entries, in order (lookups take the last).
    /// Whether this is an error depends on the format, which the loader does not know.
    pub duplicate_keys: Vec<DuplicateKey>,
    /// Spans of CloudFormation short-form tags (`!Ref`, ...) that were rewritten.
    pub short_forms: Vec<Span>,
    /// Load errors (syntax, limits, unknown tags), without file names.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads a YAML or JSON text into a [`Node`] tree.
pub fn load(text: &str, limits: &Limits) -> Loaded {
    let _ = (text, limits);
    unimplemented!("loader helper")
}
