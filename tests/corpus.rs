//! Data-driven test over the shared template corpus (`../shared/corpus/MANIFEST.tsv`, or
//! `$HEAT_CORPUS`): 816 real templates and environments from Heat, heat-templates,
//! heat-tempest-plugin, AWS's sample templates and cfn-lint.
//!
//! Every `valid` row must validate (warnings allowed). Every `invalid` row must fail, and
//! for each cause its note names, a diagnostic with the matching code must name the same
//! thing. Rows whose label we dispute are listed, with evidence, in
//! `tests/corpus-disputed.tsv`; the test applies that file instead of special-casing code.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use heat_core::check::{CheckOptions, SourceFile, check};
use heat_core::diagnostic::{Code, Diagnostic, Severity};
use heat_core::environment::Environment;
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The corpus directory: `$HEAT_CORPUS`, else `../shared/corpus` beside the workspace.
fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("HEAT_CORPUS") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

struct Row {
    local_path: String,
    format: String,
    expect: String,
    note: String,
}

fn manifest(dir: &Path) -> Vec<Row> {
    let path = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "\n\n*** THE TEMPLATE CORPUS IS MISSING ***\ncannot read {}: {e}\n\
             The corpus tests need ../shared/corpus (beside the repository) or HEAT_CORPUS=DIR.\n\n",
            path.display()
        )
    });
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 7, "bad manifest line: {line}");
            Row {
                local_path: cols[3].to_string(),
                format: cols[4].to_string(),
                expect: cols[5].to_string(),
                note: cols[6].to_string(),
            }
        })
        .collect()
}

/// `tests/corpus-disputed.tsv`: local_path, our expectation, evidence.
fn disputed() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus-disputed.tsv");
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let path = cols.next()?.to_string();
            let expect = cols.next()?.to_string();
            let evidence = cols.next().unwrap_or("");
            assert!(
                evidence.len() > 20,
                "disputed row {path} must carry its evidence"
            );
            Some((path, expect))
        })
        .collect()
}

/// How a cause named in a manifest note shows up in our diagnostics: the note clause
/// pattern, the code we must report, and which capture group (if any) our message must name.
fn cause_rules() -> Vec<(Regex, Code, Option<usize>)> {
    let r = |p: &str| Regex::new(p).expect("valid rule regex");
    vec![
        (
            r(r"unknown intrinsic function (\S+)"),
            Code::UnknownFunction,
            Some(1),
        ),
        (
            r(r"resource Type is a mapping"),
            Code::BadResourceType,
            None,
        ),
        (r(r"Type type must be string"), Code::BadResourceType, None),
        (
            r(r"^Heat: Type must be string"),
            Code::BadResourceType,
            None,
        ),
        (
            r(r"get_resource/get_attr to undefined resource (\w+)"),
            Code::UnknownAttributeResource,
            Some(1),
        ),
        (
            r(r"^Ref to undefined (\w+)"),
            Code::UnresolvedReference,
            Some(1),
        ),
        (
            r(r"^GetAtt to undefined resource (\w+)"),
            Code::UnknownAttributeResource,
            Some(1),
        ),
        (
            r(r"^resource \S+ has unknown (?:attribute|key) '(\w+)'"),
            Code::UnknownResourceKey,
            Some(1),
        ),
        (r(r"^malformed: (?:JSON|YAML)"), Code::Syntax, None),
        (
            r(r"^duplicate mapping keys: (\w+)"),
            Code::DuplicateKey,
            Some(1),
        ),
        (r(r"^empty file"), Code::EmptyDocument, None),
        (
            r(r"^circular dependency: (.*)$"),
            Code::DependencyCycle,
            None,
        ),
        (
            r(r"^parameter (\w+) has no [Tt]ype"),
            Code::MissingParameterType,
            Some(1),
        ),
        (
            r(r"^parameter (\w+) has unknown [Tt]ype"),
            Code::UnknownParameterType,
            Some(1),
        ),
        (
            r(r"^parameter (\w+) has unknown key '(\w+)'"),
            Code::UnknownParameterKey,
            Some(2),
        ),
        (
            r(r"^parameter (\w+) has unknown constraint '(\w+)'"),
            Code::BadConstraint,
            Some(2),
        ),
        (
            r(r"^parameter (\w+) constraints not a list"),
            Code::BadConstraint,
            Some(1),
        ),
        (
            r(r"^parameter (\w+) type number with non-numeric default"),
            Code::BadDefault,
            Some(1),
        ),
        (
            r(r"Invalid parameter constraints, expected a mapping"),
            Code::BadConstraint,
            None,
        ),
        (r(r"No constraint expressed"), Code::BadConstraint, None),
        (
            r(r"Invalid key '(\w+)' for (?:range|length) constraint"),
            Code::BadConstraint,
            Some(1),
        ),
        (
            r(r"AllowedPattern must be a string"),
            Code::BadConstraint,
            None,
        ),
        (
            r(r"Invalid key 'tags' for parameter \((\w+)\)"),
            Code::UnknownParameterKey,
            Some(1),
        ),
        (
            r(r"Tags property should be a list for parameter: (\w+)"),
            Code::BadParameterField,
            Some(1),
        ),
        (
            r(r"^resource (\w+) Condition (\w+) undefined"),
            Code::UnknownCondition,
            Some(2),
        ),
        (
            r(r"^unknown top-level section (\w+)"),
            Code::UnknownSection,
            Some(1),
        ),
        (
            r(r"template version is invalid"),
            Code::UnknownVersion,
            None,
        ),
        (
            r(r"^(?:depends_on|DependsOn) undefined resource (\w+)"),
            Code::UnknownDependency,
            Some(1),
        ),
        (
            r(r"^resource (\w+) is not a mapping"),
            Code::ResourceNotAMapping,
            Some(1),
        ),
        (
            r(r"^resource type is not a mapping"),
            Code::ResourceNotAMapping,
            None,
        ),
        (
            r(r"^resource (\w+) has no [Tt]ype"),
            Code::MissingResourceType,
            Some(1),
        ),
        (
            r(r"^resource (\w+) metadata has no type"),
            Code::MissingResourceType,
            Some(1),
        ),
        (
            r(r"^resource properties has no type"),
            Code::MissingResourceType,
            None,
        ),
        (
            r(r"Output definitions must be a map"),
            Code::OutputNotAMapping,
            None,
        ),
        (
            r(r"Each output definition must contain a [vV]alue key"),
            Code::OutputMissingValue,
            None,
        ),
        (
            r(r#"Invalid deletion policy"#),
            Code::BadDeletionPolicy,
            None,
        ),
        (
            r(r#"The "expression" argument to yaql must contain a string"#),
            Code::BadArguments,
            None,
        ),
        (
            r(r"Resource (\w+) depends_on must be a list of strings"),
            Code::BadDependsOn,
            Some(1),
        ),
        (
            r(r"Parameter Groups error: .*?(?:The (\w+) parameter must|grouped parameter (\w+)|$)"),
            Code::BadParameterGroups,
            None,
        ),
        (
            r(r#"Arguments to "get_attr" must be of the form"#),
            Code::BadArguments,
            None,
        ),
        (
            r(r"^get_param undefined (\w+)"),
            Code::UnknownParameterRef,
            Some(1),
        ),
    ]
}

/// Splits a note into the causes it names (dropping provenance such as "cfn-lint tests: ...").
fn causes(note: &str) -> Vec<String> {
    let note = note
        .split("audited against Heat 27 validate: ")
        .last()
        .unwrap_or(note);
    let note = match note.split_once(": ") {
        Some((prefix, rest))
            if prefix.starts_with("Rain pre-processor")
                || prefix.starts_with("source template for Rain") =>
        {
            rest
        }
        _ => note,
    };
    note.split("; ")
        .map(str::trim)
        .filter(|c| {
            !c.is_empty()
                && !c.starts_with("group of ")
                && !c.starts_with("cfn-lint tests:")
                && !c.starts_with("Transform=")
        })
        .map(String::from)
        .collect()
}

fn run_row(dir: &Path, row: &Row) -> Vec<Diagnostic> {
    let path = dir.join(&row.local_path);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => panic!("cannot read corpus file {}: {e}", path.display()),
    };
    if row.format == "env" {
        let (_, diags) = Environment::parse(
            &row.local_path,
            &text,
            &heat_core::template::Limits::default(),
        );
        return diags;
    }
    let source = SourceFile {
        name: row.local_path.clone(),
        text,
    };
    check(&source, &CheckOptions::default()).diagnostics
}

#[test]
fn corpus_agrees_with_manifest() {
    let dir = corpus_dir();
    let rows = manifest(&dir);
    assert!(rows.len() >= 800, "the manifest lists {} rows", rows.len());
    let disputed = disputed();
    let rules = cause_rules();
    let mut failures = Vec::new();
    let (mut valid_ok, mut invalid_ok) = (0, 0);

    for row in &rows {
        let expect = disputed.get(&row.local_path).unwrap_or(&row.expect);
        let diags = run_row(&dir, row);
        let errors: Vec<&Diagnostic> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if expect == "valid" {
            if errors.is_empty() {
                valid_ok += 1;
            } else {
                let shown: Vec<String> = errors.iter().take(3).map(|d| d.to_string()).collect();
                failures.push(format!(
                    "VALID but we report errors: {}\n    {}",
                    row.local_path,
                    shown.join("\n    ")
                ));
            }
            continue;
        }
        if errors.is_empty() {
            failures.push(format!(
                "INVALID but we report no error: {} (note: {})",
                row.local_path, row.note
            ));
            continue;
        }
        if disputed.contains_key(&row.local_path) {
            invalid_ok += 1;
            continue;
        }
        let mut row_ok = true;
        for cause in causes(&row.note) {
            let Some((re, code, group)) = rules.iter().find(|(re, _, _)| re.is_match(&cause))
            else {
                failures.push(format!(
                    "UNCLASSIFIED cause in note of {}: {cause:?} (add a rule)",
                    row.local_path
                ));
                row_ok = false;
                continue;
            };
            let name = group.and_then(|g| {
                re.captures(&cause)
                    .and_then(|c| c.get(g))
                    .map(|m| m.as_str().to_string())
            });
            let cycle_members: Vec<String> = if *code == Code::DependencyCycle {
                cause
                    .trim_start_matches("circular dependency: ")
                    .split(" -> ")
                    .map(String::from)
                    .collect()
            } else {
                Vec::new()
            };
            let found = errors.iter().any(|d| {
                d.code == *code
                    && name.as_ref().is_none_or(|n| d.message.contains(n.as_str()))
                    && cycle_members.iter().all(|m| d.message.contains(m.as_str()))
            });
            if !found {
                let shown: Vec<String> = errors.iter().take(4).map(|d| d.to_string()).collect();
                failures.push(format!(
                    "MISSING cause in {}: {cause:?} needs {}{}; we report:\n    {}",
                    row.local_path,
                    code.as_str(),
                    name.map(|n| format!(" naming {n}")).unwrap_or_default(),
                    shown.join("\n    ")
                ));
                row_ok = false;
            }
        }
        if row_ok {
            invalid_ok += 1;
        }
    }
    eprintln!(
        "corpus: {valid_ok} valid and {invalid_ok} invalid rows agree; {} disagreements",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements with the manifest:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_note_cause_is_classified() {
    let rows = manifest(&corpus_dir());
    let rules = cause_rules();
    let unclassified: Vec<String> = rows
        .iter()
        .filter(|r| r.expect == "invalid")
        .flat_map(|r| causes(&r.note))
        .filter(|c| !rules.iter().any(|(re, _, _)| re.is_match(c)))
        .collect();
    assert!(
        unclassified.is_empty(),
        "unclassified causes: {unclassified:#?}"
    );
}
