//! `heat template validate FILE... [-e ENV]... [-P KEY=VALUE]... [--format text|json]`.
//!
//! Each file is checked on its own with [`heat_core::check::check`]. Text output: one line
//! per diagnostic, then a summary line per file and, for a valid file, its description and
//! parameters. JSON output: one document, `{"files": [...]}` (shape in the README).

use std::io::{self, Write};
use std::path::Path;

use heat_core::check::{CheckOptions, Report, SourceFile, check};
use heat_core::diagnostic::Diagnostic;
use heat_core::files::{FilesMap, get_file_references, is_local_reference};
use heat_core::template::{Limits, Template};
use serde_json::{Value, json};

use crate::Exit;
use crate::args::{ValidateArgs, ValidateFormat};
use crate::output::{
    MASK, counts, display_name, parameter_type_name, plural, read_text, sorted, write_diagnostic,
    write_indented, write_read_error,
};

/// The outcome for one file.
enum Outcome {
    /// The file could not be read.
    Unreadable { file: String, reason: String },
    /// The file was checked.
    Checked(Box<Report>),
}

/// Runs `validate`.
pub(crate) fn run(
    args: &ValidateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<Exit> {
    // Environments apply to every template: when one cannot be read, nothing is checked.
    let mut environments = Vec::with_capacity(args.environments.len());
    let mut unreadable_environment = false;
    for path in &args.environments {
        let name = display_name(path);
        match read_text(path) {
            Ok(text) => environments.push(SourceFile { name, text }),
            Err(reason) => {
                write_read_error(err, &name, &reason)?;
                unreadable_environment = true;
            }
        }
    }
    if unreadable_environment {
        return Ok(Exit::Usage);
    }

    // `..default()` keeps this compiling when heat-core adds options.
    #[allow(clippy::needless_update)]
    let options = CheckOptions {
        limits: Limits {
            max_template_size: args.max_template_size,
            ..Limits::default()
        },
        environments,
        parameters: args
            .parameters
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone()))
            .collect(),
        ..CheckOptions::default()
    };

    let mut exit = Exit::Success;
    let mut outcomes = Vec::new();
    for path in &args.files {
        let name = display_name(path);
        let outcome = match read_text(path) {
            Ok(text) => {
                let options = CheckOptions {
                    files: Some(read_get_files(path, &text, &options.limits)),
                    ..options.clone()
                };
                Outcome::Checked(Box::new(check(&SourceFile { name, text }, &options)))
            }
            Err(reason) => {
                write_read_error(err, &name, &reason)?;
                Outcome::Unreadable { file: name, reason }
            }
        };
        exit = exit.worst(match &outcome {
            Outcome::Unreadable { .. } => Exit::Usage,
            Outcome::Checked(report) if report.is_valid() => Exit::Success,
            Outcome::Checked(_) => Exit::Invalid,
        });
        match args.format {
            ValidateFormat::Text => {
                if let Outcome::Checked(report) = &outcome {
                    write_text(out, report)?;
                }
            }
            ValidateFormat::Json => outcomes.push(outcome),
        }
    }

    if args.format == ValidateFormat::Json {
        let files: Vec<Value> = outcomes.iter().map(outcome_json).collect();
        let document = json!({ "files": files });
        let text = serde_json::to_string_pretty(&document).map_err(io::Error::other)?;
        writeln!(out, "{text}")?;
    }
    Ok(exit)
}

/// Reads the local files a template names with `get_file`, relative to the template's
/// directory (as python-heatclient does before sending them in the `files` map). Remote URLs
/// are left to the server.
fn read_get_files(template_path: &Path, text: &str, limits: &Limits) -> FilesMap {
    let mut files = FilesMap::default();
    let Some(template) = heat_core::template::parse(text, limits).template else {
        return files;
    };
    let base = template_path.parent().unwrap_or(Path::new(""));
    for reference in get_file_references(&template) {
        let name = reference.value;
        if !is_local_reference(&name)
            || files.contents.contains_key(&name)
            || files.unreadable.contains_key(&name)
        {
            continue;
        }
        let relative = name
            .strip_prefix("file://")
            .or_else(|| name.strip_prefix("FILE://"))
            .unwrap_or(&name);
        let resolved = base.join(relative);
        match std::fs::read(&resolved) {
            Ok(bytes) => {
                files
                    .contents
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
            Err(error) => {
                let reason = crate::output::io_reason(&error);
                files
                    .unreadable
                    .insert(name, format!("{reason} ({})", resolved.display()));
            }
        }
    }
    files
}

/// The text report of one checked file.
fn write_text(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for diagnostic in sorted(&report.diagnostics) {
        write_diagnostic(out, diagnostic, &report.file)?;
    }
    let (errors, warnings) = counts(&report.diagnostics);
    if errors > 0 {
        writeln!(
            out,
            "{}: {}, {}",
            report.file,
            plural(errors, "error"),
            plural(warnings, "warning")
        )?;
        return Ok(());
    }
    if warnings > 0 {
        writeln!(
            out,
            "{}: valid ({})",
            report.file,
            plural(warnings, "warning")
        )?;
    } else {
        writeln!(out, "{}: valid", report.file)?;
    }
    if let Some(template) = &report.template {
        write_template_summary(out, template)?;
    }
    Ok(())
}

/// `  description: ...` and `  parameters:` with one line per parameter.
fn write_template_summary(out: &mut dyn Write, template: &Template) -> io::Result<()> {
    if let Some(description) = &template.description {
        let text = description.value.trim_end();
        if !text.is_empty() {
            write!(out, "  description: ")?;
            write_indented(out, text, "    ")?;
        }
    }
    if template.parameters.is_empty() {
        writeln!(out, "  parameters: none")?;
        return Ok(());
    }
    writeln!(out, "  parameters:")?;
    let format = template.format();
    for parameter in &template.parameters {
        let ty = parameter_type_name(&parameter.ty, format);
        let default = match &parameter.default {
            _ if parameter.hidden && parameter.default.is_some() => {
                format!("default {MASK} (hidden)")
            }
            Some(node) => format!("default {}", node.to_json()),
            None if parameter.hidden => "required, hidden".to_string(),
            None => "required".to_string(),
        };
        writeln!(out, "    {}: {ty}, {default}", parameter.name.value)?;
    }
    Ok(())
}

/// One element of the JSON `files` list.
fn outcome_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Unreadable { file, reason } => json!({
            "file": file,
            "valid": false,
            "read_error": reason,
            "errors": 0,
            "warnings": 0,
            "diagnostics": [],
            "description": null,
            "parameters": [],
        }),
        Outcome::Checked(report) => {
            let (errors, warnings) = counts(&report.diagnostics);
            let diagnostics: Vec<Value> = sorted(&report.diagnostics)
                .into_iter()
                .map(|d| diagnostic_json(d, &report.file))
                .collect();
            let (description, parameters) = match &report.template {
                Some(template) => (
                    template
                        .description
                        .as_ref()
                        .map_or(Value::Null, |d| Value::String(d.value.clone())),
                    parameters_json(template),
                ),
                None => (Value::Null, Vec::new()),
            };
            json!({
                "file": report.file,
                "valid": report.is_valid(),
                "read_error": null,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
                "description": description,
                "parameters": parameters,
            })
        }
    }
}

/// A diagnostic as JSON; positions are `null` when unknown.
fn diagnostic_json(diagnostic: &Diagnostic, default_file: &str) -> Value {
    let known = diagnostic.span.is_known();
    let position = |n: u32| if known { json!(n) } else { Value::Null };
    json!({
        "code": diagnostic.code.as_str(),
        "severity": diagnostic.severity.to_string(),
        "message": diagnostic.message,
        "hint": diagnostic.hint,
        "file": diagnostic.file.as_deref().unwrap_or(default_file),
        "line": position(diagnostic.span.start.line),
        "column": position(diagnostic.span.start.col),
        "end_line": position(diagnostic.span.end.line),
        "end_column": position(diagnostic.span.end.col),
    })
}

/// The parameters as JSON, hidden defaults masked.
fn parameters_json(template: &Template) -> Vec<Value> {
    let format = template.format();
    template
        .parameters
        .iter()
        .map(|p| {
            let default = match &p.default {
                Some(_) if p.hidden => Value::String(MASK.to_string()),
                Some(node) => node.to_json(),
                None => Value::Null,
            };
            json!({
                "name": p.name.value,
                "type": parameter_type_name(&p.ty, format),
                "description": p.description,
                "label": p.label,
                "default": default,
                "has_default": p.default.is_some(),
                "hidden": p.hidden,
            })
        })
        .collect()
}
