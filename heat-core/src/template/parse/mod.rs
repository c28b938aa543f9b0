//! From a loaded [`Node`] tree to the typed [`Template`] model, with structural diagnostics.
//! OWNER: structure helper (mod.rs, cfn.rs, hot.rs, util.rs), expression helper (expr.rs),
//! parameters helper (parameters.rs).
//!
//! [`parse_template`] decides the format and version the way Heat does (exactly one version
//! key with a string value; a CloudFormation template may leave the version out when it has
//! `Resources`), reports what the format says about duplicate keys and short-form tags, then
//! hands the sections to `cfn` or `hot`. Every problem is collected; nothing stops at the
//! first one.

mod cfn;
pub mod expr;
mod hot;
pub mod parameters;
mod util;

use std::collections::HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::template::expr::{ExprKind, Func};
use crate::template::load::{Limits, Loaded, load};
use crate::template::model::{DeletionPolicySpec, Template};
use crate::template::node::{Key, Node, Value};
use crate::template::version::{Format, Version};

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

/// The keys that declare a template version, in Heat's terms.
const VERSION_KEYS: &[&str] = &[
    "heat_template_version",
    "HeatTemplateFormatVersion",
    "AWSTemplateFormatVersion",
];

/// Parses a loaded document into a template.
///
/// The template is `None` when the document is not a template at all: nothing loaded, the
/// top level is not a mapping, or the version is missing, ambiguous or unknown.
pub fn parse_template(loaded: &Loaded) -> Parsed {
    let mut diags = loaded.diagnostics.clone();
    let template = parse_root(loaded, &mut diags);
    sort_by_position(&mut diags);
    Parsed {
        template,
        diagnostics: diags,
    }
}

fn parse_root(loaded: &Loaded, diags: &mut Vec<Diagnostic>) -> Option<Template> {
    let has_code = |diags: &[Diagnostic], code| diags.iter().any(|d| d.code == code);
    let Some(root) = &loaded.root else {
        if !crate::diagnostic::has_errors(diags) {
            diags.push(empty_document(Span::default()));
        }
        return None;
    };
    let entries = match &root.value {
        Value::Map(entries) => entries,
        Value::Null => {
            if !has_code(diags, Code::EmptyDocument) {
                diags.push(empty_document(root.span));
            }
            return None;
        }
        _ => {
            if !has_code(diags, Code::NotAMapping) {
                diags.push(
                    Diagnostic::error(
                        Code::NotAMapping,
                        root.span,
                        format!(
                            "The template is not a JSON object or YAML mapping: the top level \
                             is {}",
                            root.kind_name()
                        ),
                    )
                    .with_hint(
                        "a template is a map of sections (heat_template_version, resources, \
                         ... or AWSTemplateFormatVersion, Resources, ...)",
                    ),
                );
            }
            return None;
        }
    };

    let version = detect_version(root, entries, diags);
    let format = version.map_or_else(|| guess_format(entries), |(v, _)| v.format());
    report_duplicates(loaded, format, diags);
    report_short_forms(loaded, format, diags);

    let (version, version_span) = version?;
    let template = match format {
        Format::Hot => hot::parse_hot(entries, version, version_span, diags),
        Format::Cfn | Format::HeatCfn => cfn::parse_cfn(entries, version, version_span, diags),
    };
    // Parameter groups are checked against the parameters by
    // `crate::parameters::check_parameter_groups` (in `crate::check`).
    check_name_clashes(&template, diags);
    check_policy_defaults(&template, diags);
    Some(template)
}

fn empty_document(span: Span) -> Diagnostic {
    Diagnostic::error(
        Code::EmptyDocument,
        span,
        "the file holds no template document (no version, no Resources section)",
    )
    .with_hint("a template needs at least a version key and its resources")
}

/// Sorts diagnostics into source order; those without a position go last. The sort is
/// stable, so diagnostics at one position keep the order they were found in.
fn sort_by_position(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (!d.span.is_known(), d.span.start));
}

/// The format the keys suggest, for reporting load issues when the version is unusable.
fn guess_format(entries: &[(Key, Node)]) -> Format {
    let has = |name: &str| entries.iter().any(|(k, _)| k.name == name);
    if has("heat_template_version") {
        Format::Hot
    } else if has("HeatTemplateFormatVersion") {
        Format::HeatCfn
    } else {
        Format::Cfn
    }
}

/// Decides the version as Heat's `get_version` does: exactly one of the version keys with a
/// string value. With no version key, a template with `Resources` is AWS CloudFormation
/// 2010-09-09. Reports [`Code::UnknownVersion`] otherwise.
fn detect_version(
    root: &Node,
    entries: &[(Key, Node)],
    diags: &mut Vec<Diagnostic>,
) -> Option<(Version, Span)> {
    let present: Vec<&(Key, Node)> = util::last_wins(entries)
        .into_iter()
        .filter(|(k, _)| VERSION_KEYS.contains(&k.name.as_str()))
        .collect();
    let strings: Vec<(&Key, &Node, &str)> = present
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, v, s)))
        .collect();
    match strings.as_slice() {
        [(key, node, value)] => {
            let found = Version::from_key_value(&key.name, value);
            if found.is_none() {
                diags.push(unknown_version(key, node, value));
            }
            found.map(|v| (v, node.span))
        }
        [] => {
            if let Some((key, node)) = present.first() {
                let known = Version::known_values(&key.name);
                diags.push(
                    Diagnostic::error(
                        Code::UnknownVersion,
                        util::value_span(key, node),
                        format!(
                            "The template version is invalid: {} must be a date string, found \
                             {}",
                            key.name,
                            node.kind_name()
                        ),
                    )
                    .with_hint(format!(
                        "write it as a string; {} should be one of: {}",
                        key.name,
                        known.join(", ")
                    )),
                );
                return None;
            }
            if entries.iter().any(|(k, _)| k.name == "Resources") {
                return Some((Version::Cfn20100909, Span::default()));
            }
            let hot_like = entries.iter().any(|(k, _)| {
                matches!(
                    k.name.as_str(),
                    "resources" | "parameters" | "outputs" | "description"
                )
            });
            let hint = if hot_like {
                "add `heat_template_version: 2021-04-16` (or another HOT version) at the top"
            } else {
                "add `heat_template_version: 2021-04-16` (HOT) or \
                 `AWSTemplateFormatVersion: '2010-09-09'` (CloudFormation), or a Resources \
                 section"
            };
            diags.push(
                Diagnostic::error(
                    Code::UnknownVersion,
                    Span::at(root.span.start),
                    "Template format version not found: the template has no \
                     heat_template_version, HeatTemplateFormatVersion or \
                     AWSTemplateFormatVersion key",
                )
                .with_hint(hint),
            );
            None
        }
        [_, rest @ ..] => {
            let names: Vec<&str> = strings.iter().map(|(k, _, _)| k.name.as_str()).collect();
            for (key, _, _) in rest {
                diags.push(
                    Diagnostic::error(
                        Code::UnknownVersion,
                        key.span,
                        format!(
                            "The template version is invalid: ambiguous versions ({})",
                            names.join(", ")
                        ),
                    )
                    .with_hint("declare exactly one version key"),
                );
            }
            None
        }
    }
}

fn unknown_version(key: &Key, node: &Node, value: &str) -> Diagnostic {
    let known = Version::known_values(&key.name);
    let mut hint = format!("{} should be one of: {}", key.name, known.join(", "));
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    if let Some(s) = util::suggest(value, &candidates) {
        hint = format!("did you mean '{s}'? {hint}");
    }
    Diagnostic::error(
        Code::UnknownVersion,
        node.span,
        format!(
            "The template version is invalid: \"{}: {value}\" is not a known version",
            key.name
        ),
    )
    .with_hint(hint)
}

/// Duplicate keys: an error in AWS CloudFormation (as AWS and cfn-lint), a warning in Heat's
/// formats (Heat's loaders keep the last value).
fn report_duplicates(loaded: &Loaded, format: Format, diags: &mut Vec<Diagnostic>) {
    for dup in &loaded.duplicate_keys {
        let lines = format!(
            "line {} and line {}",
            dup.first.start.line, dup.duplicate.start.line
        );
        let d = if format == Format::Cfn {
            Diagnostic::error(
                Code::DuplicateKey,
                dup.duplicate,
                format!("duplicate key '{}' ({lines})", dup.name),
            )
            .with_hint("AWS CloudFormation rejects duplicate keys: remove or rename one")
        } else {
            Diagnostic::warning(
                Code::DuplicateKeyWarning,
                dup.duplicate,
                format!(
                    "duplicate key '{}' ({lines}): Heat keeps the last value",
                    dup.name
                ),
            )
            .with_hint("remove or rename one of them")
        };
        diags.push(d);
    }
}

/// CloudFormation short forms (`!Ref`): fine in CloudFormation, rejected by Heat's YAML
/// loader in HOT templates.
fn report_short_forms(loaded: &Loaded, format: Format, diags: &mut Vec<Diagnostic>) {
    if format != Format::Hot {
        return;
    }
    for span in &loaded.short_forms {
        diags.push(
            Diagnostic::error(
                Code::ShortFormInHot,
                *span,
                "CloudFormation short-form tag (like !Ref) in a HOT template: Heat's YAML \
                 loader rejects it",
            )
            .with_hint("use the HOT functions: get_param, get_resource, get_attr, ..."),
        );
    }
}

/// A parameter and a resource may not share a name (Heat's "Duplicate names"; AWS logical
/// IDs are unique too).
fn check_name_clashes(template: &Template, diags: &mut Vec<Diagnostic>) {
    let params: HashSet<&str> = template
        .parameters
        .iter()
        .map(|p| p.name.value.as_str())
        .collect();
    for r in &template.resources {
        if params.contains(r.name.value.as_str()) {
            let line = template
                .parameter(&r.name.value)
                .map(|p| p.name.span.start.line)
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    Code::NameClash,
                    r.name.span,
                    format!(
                        "Duplicate names {}: a parameter (line {line}) and a resource share \
                         the name",
                        r.name.value
                    ),
                )
                .with_hint("rename the parameter or the resource"),
            );
        }
    }
}

/// A deletion policy given as `{get_param: p}` / `{Ref: p}` is resolved when the stack is
/// created; with no value given, that is the parameter's default. A default that is not a
/// valid policy is reported now, as Heat's validation does.
fn check_policy_defaults(template: &Template, diags: &mut Vec<Diagnostic>) {
    let allowed: &[&str] = match template.version.format() {
        Format::Cfn => &["Delete", "Retain", "Snapshot", "RetainExceptOnCreate"],
        Format::HeatCfn => &["Delete", "Retain", "Snapshot"],
        Format::Hot if template.version >= Version::Hot20161014 => &[
            "Delete", "Retain", "Snapshot", "delete", "retain", "snapshot",
        ],
        Format::Hot => &["Delete", "Retain", "Snapshot"],
    };
    for r in &template.resources {
        let Some(DeletionPolicySpec::Expr(expr)) = r.deletion_policy.as_deref() else {
            continue;
        };
        let Some(call) = expr.as_call() else { continue };
        if !matches!(call.func, Func::GetParam | Func::Ref) {
            continue;
        }
        let ExprKind::String(pname) = &call.arg.kind else {
            continue;
        };
        let Some(param) = template.parameter(pname) else {
            continue;
        };
        let Some(default) = &param.default else {
            continue;
        };
        if default.as_str().is_some_and(|s| allowed.contains(&s)) {
            continue;
        }
        let shown = if param.hidden {
            "(hidden value)".to_string()
        } else {
            util::render_value(default)
        };
        diags.push(
            Diagnostic::error(
                Code::BadDeletionPolicy,
                expr.span,
                format!(
                    "Invalid deletion policy \"{shown}\" in resource {}: the default of \
                     parameter {pname}",
                    r.name.value
                ),
            )
            .with_hint(format!("the policy must be one of: {}", allowed.join(", "))),
        );
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::util::testing::{codes, find, run, table};
    use super::*;
    use crate::template::load::SourceKind;

    #[test]
    fn not_a_template() {
        table(&[
            ("empty text", "", &["E0007"]),
            ("a list", "- a\n- b", &["E0008"]),
            ("a scalar", "hello", &["E0008"]),
            ("a JSON list", "[1, 2]", &["E0008"]),
            ("null", "~", &["E0007"]),
        ]);
        for text in ["", "- a", "hello", "~"] {
            assert!(run(text).template.is_none());
        }
        let p = run("- a");
        assert!(
            find(&p, "E0008")
                .message
                .contains("not a JSON object or YAML mapping")
        );
    }

    #[test]
    fn nothing_loaded_without_loader_errors_is_an_empty_document() {
        let loaded = Loaded {
            root: None,
            kind: SourceKind::Yaml,
            duplicate_keys: Vec::new(),
            short_forms: Vec::new(),
            diagnostics: Vec::new(),
        };
        let p = parse_template(&loaded);
        assert_eq!(codes(&p), ["E0007"]);
        assert!(p.template.is_none());
    }

    #[test]
    fn version_detection() {
        table(&[
            (
                "no version, no Resources",
                "
                Parameters: {}
                Outputs: {}
                ",
                &["E1001"],
            ),
            ("an empty map", "{}", &["E1001"]),
            (
                "unknown HOT version",
                "
                heat_template_version: 2013-05-26
                resources:
                  resource1:
                    type: UnknownResourceType
                ",
                &["E1001"],
            ),
            (
                "unknown CFN version",
                "
                AWSTemplateFormatVersion: 2010-09-10
                Resources: {}
                ",
                &["E1001"],
            ),
            (
                "two version keys",
                "
                heat_template_version: 2013-05-23
                AWSTemplateFormatVersion: 2010-09-09
                ",
                &["E1001"],
            ),
            (
                "a number as version",
                "
                heat_template_version: 2013
                resources: {}
                ",
                &["E1001"],
            ),
            (
                "a non-string version key next to a real one is not a version key",
                "
                heat_template_version: 2013-05-23
                AWSTemplateFormatVersion: 5
                ",
                &["E1002"],
            ),
            (
                "a non-string version key in CFN is a known section",
                "
                AWSTemplateFormatVersion: '2010-09-09'
                HeatTemplateFormatVersion: 5
                Resources:
                  B: {Type: AWS::S3::Bucket}
                ",
                &[],
            ),
        ]);
    }

    #[test]
    fn version_messages() {
        let p = run("
            heat_template_version: 2013-05-26
            resources: {}
            ");
        assert!(p.template.is_none());
        let d = find(&p, "E1001");
        assert!(d.message.contains("heat_template_version: 2013-05-26"));
        assert_eq!((d.span.start.line, d.span.start.col), (1, 24));
        let hint = d.hint.as_deref().unwrap_or_default();
        for v in Version::known_values("heat_template_version") {
            assert!(hint.contains(&v), "{v} missing from {hint}");
        }
        assert!(hint.starts_with("did you mean '2013-05-23'?"), "{hint}");

        let p = run("Parameters: {}");
        let d = find(&p, "E1001");
        assert!(d.message.contains("Template format version not found"));

        let p = run("
            heat_template_version: 2013-05-23
            AWSTemplateFormatVersion: 2010-09-09
            ");
        let d = find(&p, "E1001");
        assert!(d.message.contains("ambiguous versions"));
        assert_eq!(d.span.start.line, 2);
    }

    #[test]
    fn every_version_and_alias() {
        for v in Version::ALL {
            let mut names = vec![v.date()];
            names.extend(v.alias());
            for name in names {
                let text = format!("{}: '{name}'\n", v.key());
                let p = run(&text);
                let t = p
                    .template
                    .as_ref()
                    .unwrap_or_else(|| panic!("{text}: {p:#?}"));
                assert_eq!(t.version, *v, "{text}");
                assert_eq!(t.version_span.start.line, 1);
                assert!(
                    !crate::diagnostic::has_errors(&p.diagnostics),
                    "{text}: {p:#?}"
                );
            }
        }
        // Unquoted dates stay strings.
        let p = run("heat_template_version: 2018-08-31");
        assert_eq!(p.template.map(|t| t.version), Some(Version::Hot20180831));
        // No version key, but Resources: AWS CloudFormation.
        let p = run("Resources:\n  B: {Type: AWS::S3::Bucket}");
        let t = p.template.as_ref().expect("template");
        assert_eq!(t.version, Version::Cfn20100909);
        assert!(!t.version_span.is_known());
    }

    #[test]
    fn json_templates() {
        let p = run(r#"
            {
              "heat_template_version": "2016-10-14",
              "resources": {"r": {"type": "OS::Heat::None", "wibble": 1}}
            }
            "#);
        assert_eq!(codes(&p), ["E1013"]);
        assert_eq!(find(&p, "E1013").span.start.line, 3);
    }

    #[test]
    fn every_problem_is_reported_in_source_order() {
        let p = run("
            heat_template_version: 2013-05-23
            resources:
              a:
                type: [x]
              b:
                properties: {}
              c:
                type: OS::Heat::None
                wibble: 1
            outputs:
              o: {}
            ");
        assert_eq!(codes(&p), ["E1012", "E1011", "E1013", "E1021"]);
        let lines: Vec<u32> = p.diagnostics.iter().map(|d| d.span.start.line).collect();
        assert_eq!(lines, [4, 5, 9, 11]);
        assert!(p.template.is_some());
    }

    #[test]
    fn no_panics_on_odd_shapes() {
        // Shapes at every level that are not what the format expects.
        let values = [
            "~",
            "1",
            "1.5",
            "true",
            "''",
            "x",
            "[]",
            "[1, [2]]",
            "{}",
            "{a: {b: c}}",
        ];
        let heads = [
            "heat_template_version: 2021-04-16",
            "heat_template_version: 2013-05-23",
            "AWSTemplateFormatVersion: 2010-09-09",
            "HeatTemplateFormatVersion: 2012-12-12",
        ];
        let hot_fields = [
            "type",
            "properties",
            "metadata",
            "depends_on",
            "deletion_policy",
            "update_policy",
            "description",
            "external_id",
            "condition",
        ];
        let cfn_fields = [
            "Type",
            "Properties",
            "Metadata",
            "DependsOn",
            "DeletionPolicy",
            "UpdatePolicy",
            "UpdateReplacePolicy",
            "CreationPolicy",
            "Condition",
            "Description",
            "Version",
        ];
        for head in heads {
            let hot = head.starts_with("heat_");
            let (sections, fields): (&[&str], &[&str]) = if hot {
                (
                    &[
                        "description",
                        "parameter_groups",
                        "resources",
                        "outputs",
                        "conditions",
                    ],
                    &hot_fields,
                )
            } else {
                (
                    &[
                        "Description",
                        "Mappings",
                        "Conditions",
                        "Transform",
                        "Resources",
                        "Outputs",
                        "Metadata",
                        "Rules",
                    ],
                    &cfn_fields,
                )
            };
            for v in values {
                for s in sections {
                    let _ = run(&format!("{head}\n{s}: {v}\n"));
                    let _ = run(&format!("{head}\n{s}:\n  n: {v}\n"));
                    let _ = run(&format!("{head}\n{s}:\n  n:\n    m: {v}\n"));
                }
                for f in fields {
                    let res = if hot { "resources" } else { "Resources" };
                    let ty = if hot { "type" } else { "Type" };
                    let _ = run(&format!(
                        "{head}\n{res}:\n  r:\n    {ty}: T\n    {f}: {v}\n"
                    ));
                    let out = if hot { "outputs" } else { "Outputs" };
                    let _ = run(&format!("{head}\n{out}:\n  o:\n    {f}: {v}\n"));
                }
            }
        }
    }
}
