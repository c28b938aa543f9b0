//! `heat template graph FILE [--format dot|mermaid]`.
//!
//! The graph goes to stdout; the template's diagnostics (if any) go to stderr in the same
//! form as `validate` prints them. The graph is printed whenever the text is a template, even
//! one with errors (a cycle is easiest to see in the picture); the exit status is then 1.

use std::io::{self, Write};

use heat_core::check::{CheckOptions, SourceFile, check};

use crate::Exit;
use crate::args::{GraphArgs, GraphFormat};
use crate::output::{display_name, read_text, sorted, write_diagnostic, write_read_error};

/// Runs `graph`.
pub(crate) fn run(args: &GraphArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<Exit> {
    let name = display_name(&args.file);
    let text = match read_text(&args.file) {
        Ok(text) => text,
        Err(reason) => {
            write_read_error(err, &name, &reason)?;
            return Ok(Exit::Usage);
        }
    };
    let report = check(&SourceFile { name, text }, &CheckOptions::default());
    for diagnostic in sorted(&report.diagnostics) {
        write_diagnostic(err, diagnostic, &report.file)?;
    }
    if let Some(template) = &report.template {
        let (graph, _) = heat_core::graph::build(template);
        let rendered = match args.format {
            GraphFormat::Dot => graph.to_dot(),
            GraphFormat::Mermaid => graph.to_mermaid(),
        };
        out.write_all(rendered.as_bytes())?;
    }
    Ok(if report.is_valid() && report.template.is_some() {
        Exit::Success
    } else {
        Exit::Invalid
    })
}
