//! Shared pieces of the commands' output: reading input files, diagnostic lines, counts.

use std::io::{self, Write};
use std::path::Path;

use heat_core::diagnostic::{Diagnostic, Severity};
use heat_core::template::{Format, ParameterType};

/// The name a path is shown with (as the user wrote it).
pub(crate) fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// Reads a text file; the error is the reason, for `heat: cannot read FILE: <reason>`.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| io_reason(&error))
}

/// A short, human reason for an I/O error (no `(os error N)` suffix for the common ones).
pub(crate) fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::InvalidData => "the file is not valid UTF-8 text".to_string(),
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => error.to_string(),
    }
}

/// Writes `heat: cannot read FILE: <reason>`.
pub(crate) fn write_read_error(err: &mut dyn Write, name: &str, reason: &str) -> io::Result<()> {
    writeln!(err, "heat: cannot read {name}: {reason}")
}

/// Diagnostics in source order (those without a position first), keeping the original
/// order among equals.
pub(crate) fn sorted(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    let mut list: Vec<&Diagnostic> = diagnostics.iter().collect();
    list.sort_by_key(|d| (d.span.start.line, d.span.start.col));
    list
}

/// Writes one diagnostic: `FILE:LINE:COL: error[CODE]: message` (`FILE: ...` when the
/// position is unknown), then `  hint: ...` when there is a hint. Continuation lines of a
/// multi-line message or hint are indented.
pub(crate) fn write_diagnostic(
    out: &mut dyn Write,
    diagnostic: &Diagnostic,
    default_file: &str,
) -> io::Result<()> {
    let file = diagnostic.file.as_deref().unwrap_or(default_file);
    if diagnostic.span.is_known() {
        write!(
            out,
            "{file}:{}:{}: ",
            diagnostic.span.start.line, diagnostic.span.start.col
        )?;
    } else {
        write!(out, "{file}: ")?;
    }
    write!(out, "{}[{}]: ", diagnostic.severity, diagnostic.code)?;
    write_indented(out, &diagnostic.message, "    ")?;
    if let Some(hint) = &diagnostic.hint {
        write!(out, "  hint: ")?;
        write_indented(out, hint, "        ")?;
    }
    Ok(())
}

/// Writes `text` and a newline, indenting every line after the first with `indent`.
pub(crate) fn write_indented(out: &mut dyn Write, text: &str, indent: &str) -> io::Result<()> {
    let mut lines = text.lines();
    writeln!(out, "{}", lines.next().unwrap_or(""))?;
    for line in lines {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

/// The number of errors and warnings.
pub(crate) fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diagnostics.len() - errors)
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A parameter type as the template's format spells it.
pub(crate) fn parameter_type_name(ty: &ParameterType, format: Format) -> String {
    let hot = format == Format::Hot;
    let name = match ty {
        ParameterType::String if hot => "string",
        ParameterType::String => "String",
        ParameterType::Number if hot => "number",
        ParameterType::Number => "Number",
        ParameterType::CommaDelimitedList if hot => "comma_delimited_list",
        ParameterType::CommaDelimitedList => "CommaDelimitedList",
        ParameterType::Json if hot => "json",
        ParameterType::Json => "Json",
        ParameterType::Boolean if hot => "boolean",
        ParameterType::Boolean => "Boolean",
        ParameterType::NumberList => "List<Number>",
        ParameterType::Aws(name) => name.as_str(),
    };
    name.to_string()
}

/// What a hidden (`hidden` / `NoEcho`) value is shown as.
pub(crate) const MASK: &str = "******";

#[cfg(test)]
mod tests {
    use super::*;
    use heat_core::diagnostic::Code;
    use heat_core::span::{Pos, Span};

    fn render(d: &Diagnostic) -> String {
        let mut out = Vec::new();
        write_diagnostic(&mut out, d, "t.yaml").unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn diagnostic_lines() {
        let span = Span::new(Pos::new(3, 5), Pos::new(3, 9));
        let cases = [
            (
                Diagnostic::error(Code::UnresolvedReference, span, "unknown x"),
                "t.yaml:3:5: error[E3001]: unknown x\n",
            ),
            (
                Diagnostic::warning(Code::UnusedParameter, Span::default(), "unused p")
                    .with_hint("remove it"),
                "t.yaml: warning[W2001]: unused p\n  hint: remove it\n",
            ),
            (
                Diagnostic::error(Code::Syntax, span, "bad\nyaml")
                    .with_hint("one\ntwo")
                    .in_file("other.yaml"),
                "other.yaml:3:5: error[E0001]: bad\n    yaml\n  hint: one\n        two\n",
            ),
        ];
        for (diagnostic, expected) in cases {
            assert_eq!(render(&diagnostic), expected);
        }
    }

    #[test]
    fn type_names_follow_the_format() {
        let cases = [
            (ParameterType::String, Format::Hot, "string"),
            (ParameterType::String, Format::Cfn, "String"),
            (
                ParameterType::CommaDelimitedList,
                Format::Hot,
                "comma_delimited_list",
            ),
            (
                ParameterType::CommaDelimitedList,
                Format::HeatCfn,
                "CommaDelimitedList",
            ),
            (ParameterType::Json, Format::Hot, "json"),
            (ParameterType::Boolean, Format::Cfn, "Boolean"),
            (ParameterType::Number, Format::Hot, "number"),
            (ParameterType::NumberList, Format::Cfn, "List<Number>"),
            (
                ParameterType::Aws("AWS::EC2::KeyPair::KeyName".to_string()),
                Format::Cfn,
                "AWS::EC2::KeyPair::KeyName",
            ),
        ];
        for (ty, format, expected) in cases {
            assert_eq!(parameter_type_name(&ty, format), expected);
        }
    }

    #[test]
    fn plurals_and_counts() {
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(0, "warning"), "0 warnings");
        let d = [
            Diagnostic::error(Code::Syntax, Span::default(), "a"),
            Diagnostic::warning(Code::UnusedParameter, Span::default(), "b"),
            Diagnostic::warning(Code::UnusedParameter, Span::default(), "c"),
        ];
        assert_eq!(counts(&d), (1, 2));
        let order: Vec<&str> = sorted(&d).iter().map(|d| d.message.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
