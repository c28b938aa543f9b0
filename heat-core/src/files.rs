//! The files a template reads with `get_file`, and checking them against the `files` map a
//! client sends with the template (what python-heatclient builds from local paths).
//!
//! heat-core reads no files itself: the caller (the `heat` command, or a server receiving a
//! `files` map) supplies their contents.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Spanned;
use crate::template::expr::{ExprKind, Func};
use crate::template::model::Template;

/// The files a client supplied: contents by the name the template uses, and the names that
/// could not be read, with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilesMap {
    /// File contents, keyed by the name written in the template (`get_file: NAME`).
    pub contents: BTreeMap<String, String>,
    /// Names the client tried and failed to read, with the reason (e.g. "no such file").
    pub unreadable: BTreeMap<String, String>,
}

/// Every literal `get_file` argument in a template, in document order (computed names,
/// such as `get_file: {get_param: f}`, cannot be known before evaluation and are skipped).
pub fn get_file_references(template: &Template) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    for site in crate::validate::sites(template) {
        site.expr.walk(&mut |expr| {
            if let ExprKind::Call(call) = &expr.kind
                && call.func == Func::GetFile
                && let Some(name) = call.arg.as_str()
            {
                out.push(Spanned::new(name.to_string(), call.arg.span));
            }
        });
    }
    out
}

/// Whether heat can be expected to have a file's contents offline: remote URLs
/// (`http://`, `https://`, ...) are fetched by a server, not by an offline check.
pub fn is_local_reference(name: &str) -> bool {
    match name.split_once("://") {
        Some((scheme, _)) => scheme.eq_ignore_ascii_case("file"),
        None => true,
    }
}

/// Checks that every local `get_file` of the template is in `files` (E5003 otherwise, with
/// the reason the client gave when it could not read the file).
pub fn check_files(template: &Template, files: &FilesMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for reference in get_file_references(template) {
        let name = reference.value.as_str();
        if !is_local_reference(name) || files.contents.contains_key(name) {
            continue;
        }
        let diagnostic = match files.unreadable.get(name) {
            Some(reason) => Diagnostic::error(
                Code::MissingFile,
                reference.span,
                format!("get_file cannot read '{name}': {reason}"),
            )
            .with_hint(
                "get_file paths are relative to the template's own directory; \
                 check the path and that the file is readable",
            ),
            None => Diagnostic::error(
                Code::MissingFile,
                reference.span,
                format!("get_file names '{name}', which is not in the files map"),
            )
            .with_hint("send the file's contents in the files map under this exact name"),
        };
        out.push(diagnostic);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Limits, parse};

    fn template(text: &str) -> Template {
        parse(text, &Limits::default())
            .template
            .expect("a template")
    }

    const TEMPLATE: &str = "heat_template_version: 2018-08-31
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_file: scripts/setup.sh}
      inputs: [{name: {get_file: 'http://example.com/x'}}]
outputs:
  o:
    value: {get_file: {get_param: name}}
  p:
    value: {get_file: 'file:///etc/motd'}
";

    #[test]
    fn references_are_literal_names_in_document_order() {
        let t = template(TEMPLATE);
        let names: Vec<String> = get_file_references(&t)
            .into_iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(
            names,
            [
                "scripts/setup.sh",
                "http://example.com/x",
                "file:///etc/motd"
            ]
        );
    }

    #[test]
    fn missing_local_files_are_errors_remote_ones_are_not_checked() {
        let t = template(TEMPLATE);
        let mut files = FilesMap::default();
        files.unreadable.insert(
            "scripts/setup.sh".into(),
            "No such file or directory".into(),
        );
        let diags = check_files(&t, &files);
        let shown: Vec<(u32, u32, &str)> = diags
            .iter()
            .map(|d| (d.span.start.line, d.span.start.col, d.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    6,
                    26,
                    "get_file cannot read 'scripts/setup.sh': No such file or directory"
                ),
                (
                    12,
                    23,
                    "get_file names 'file:///etc/motd', which is not in the files map"
                ),
            ]
        );
        assert!(
            diags
                .iter()
                .all(|d| d.code == Code::MissingFile && d.hint.is_some())
        );

        files
            .contents
            .insert("scripts/setup.sh".into(), "#!/bin/sh\n".into());
        files
            .contents
            .insert("file:///etc/motd".into(), "hi".into());
        assert!(check_files(&t, &files).is_empty());
    }

    #[test]
    fn local_references() {
        for (name, local) in [
            ("a.sh", true),
            ("../x/y.yaml", true),
            ("/abs/path", true),
            ("file:///abs", true),
            ("FILE:///abs", true),
            ("http://h/x", false),
            ("https://h/x", false),
            ("swift://c/o", false),
        ] {
            assert_eq!(is_local_reference(name), local, "{name}");
        }
    }
}
