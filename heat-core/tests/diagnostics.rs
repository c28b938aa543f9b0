//! Snapshot tests of diagnostics: every file in `test_data/diagnostics/` is checked the way
//! `heat template validate` checks it, and the rendered diagnostics are pinned with insta
//! (`cargo insta review` after an intended change).
//!
//! Directives, as leading comment lines of a YAML fixture:
//! - `# param: KEY=VALUE` — a user parameter value (repeatable), parsed as the CLI parses
//!   `--parameter` arguments (`parameters::parse_assignment`): a malformed one is reported;
//! - `# env: NAME` — an environment file from `test_data/diagnostics/env/` (repeatable);
//! - `# eval-outputs` — also evaluate every output with the bound parameter values (user
//!   values, environments, defaults; no resources exist), reporting errors;
//! - `# create` — also bind the parameters as creating a stack does (every parameter needs a
//!   value), reporting what validation alone does not;
//! - `# max-template-size: N` — check with a smaller template size limit;
//! - `# max-resources: N` — check with a smaller `max_resources_per_stack`;
//! - `# schema: test` — also check every resource as the engine does before creating
//!   anything (`engine::registry::check_resources`): its type against a registry (unknown
//!   types are errors, `E6005`) and its properties as written against the provider's schema
//!   (`E6001`-`E6004`). The registry is [`test_registry`], a few small made-up types defined
//!   below (the real built-in types have their own tests); the environments of `# env:`
//!   apply to it.
//!
//! JSON fixtures cannot carry directives (JSON has no comments): write those as YAML.
//! Files named `*.env.yaml` are checked as environment files.
//!
//! `every_code_is_covered` makes sure each diagnostic code is triggered by some fixture.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use heat_core::check::{CheckOptions, SourceFile, check};
use heat_core::diagnostic::{Code, Diagnostic};
use heat_core::engine::ResourceProvider;
use heat_core::engine::registry::{ProviderRegistry, check_resources};
use heat_core::engine::schema::{PropertySchema, PropertyType, ResourceSchema};
use heat_core::engine::{Created, Progress, Properties, ProviderError, ResourceContext};
use heat_core::environment::{self, Environment};
use heat_core::eval::{EvalContext, ParameterValues, evaluate};
use heat_core::parameters::{BindMode, bind_with, parse_assignment};
use heat_core::template::Limits;
use heat_core::template::model::ConstraintKind;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/diagnostics")
}

/// What a fixture's leading comment lines ask for, besides checking.
#[derive(Default)]
struct Directives {
    options: CheckOptions,
    eval_outputs: bool,
    create: bool,
    /// `# schema: test`: check resources against [`test_registry`].
    schema: bool,
    /// Malformed `param:` arguments.
    argument_errors: Vec<Diagnostic>,
}

fn directives(text: &str) -> Directives {
    let mut d = Directives::default();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let directive = line.trim_start_matches('#').trim();
        if let Some(kv) = directive.strip_prefix("param:") {
            match parse_assignment(kv.trim()) {
                Ok(pair) => d.options.parameters.push(pair),
                Err(e) => d.argument_errors.push(e),
            }
        } else if let Some(env) = directive.strip_prefix("env:") {
            let env = env.trim();
            let env_text =
                std::fs::read_to_string(data_dir().join("env").join(env)).expect("env fixture");
            d.options.environments.push(SourceFile {
                name: env.to_string(),
                text: env_text,
            });
        } else if let Some(n) = directive.strip_prefix("max-template-size:") {
            d.options.limits.max_template_size = n.trim().parse().expect("a size in bytes");
        } else if let Some(n) = directive.strip_prefix("max-resources:") {
            d.options.limits.max_resources_per_stack =
                n.trim().parse().expect("a number of resources");
        } else if directive == "eval-outputs" {
            d.eval_outputs = true;
        } else if directive == "create" {
            d.create = true;
        } else if let Some(which) = directive.strip_prefix("schema:") {
            assert_eq!(which.trim(), "test", "the only schema registry is `test`");
            d.schema = true;
        }
    }
    d
}

/// Runs one fixture and returns its diagnostics.
fn run_fixture(path: &Path) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("fixture name is UTF-8")
        .to_string();
    if name.ends_with(".env.yaml") {
        let (_, diags) = Environment::parse(&name, &text, &Limits::default());
        return diags;
    }
    let Directives {
        options,
        eval_outputs,
        create,
        schema,
        argument_errors,
    } = directives(&text);
    let source = SourceFile { name, text };
    let report = check(&source, &options);
    let mut diags = argument_errors;
    diags.extend(report.diagnostics);
    let Some(template) = &report.template else {
        return diags;
    };
    let env = environment::merge(
        options
            .environments
            .iter()
            .map(|f| Environment::parse(&f.name, &f.text, &options.limits).0),
    );
    if create {
        let (_, more) = bind_with(template, &env, &options.parameters, BindMode::Create);
        for d in more {
            let d = d.in_file(source.name.clone());
            if !diags.contains(&d) {
                diags.push(d);
            }
        }
    }
    if schema {
        for d in check_resources(template, &env, &test_registry()) {
            diags.push(d.in_file(source.name.clone()));
        }
    }
    if eval_outputs {
        let (bound, _) = bind_with(template, &env, &options.parameters, BindMode::Validate);
        let mut params = ParameterValues::new();
        for p in bound.iter() {
            let value = p.value.to_json_for(template.format());
            params = if p.hidden {
                params.with_hidden(p.name.clone(), value)
            } else {
                params.with(p.name.clone(), value)
            };
        }
        let ctx = EvalContext::for_template(template).with_parameters(&params);
        for output in &template.outputs {
            if let Err(e) = evaluate(&output.value, &ctx) {
                diags.push(Diagnostic::from(e).in_file(source.name.clone()));
            }
        }
    }
    diags
}

/// A provider that only has a schema: the `# schema: test` checks never create anything.
struct SchemaOnly(ResourceSchema);

#[async_trait::async_trait]
impl ResourceProvider for SchemaOnly {
    fn schema(&self) -> &ResourceSchema {
        &self.0
    }

    async fn create(
        &self,
        _ctx: &ResourceContext<'_>,
        _properties: &Properties,
    ) -> Result<Created, ProviderError> {
        Err(ProviderError::Failed(
            "schema-only test provider".to_string(),
        ))
    }

    async fn delete(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    async fn attribute(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<serde_json::Value, ProviderError> {
        Err(ProviderError::UnknownAttribute(name.to_string()))
    }
}

/// The registry of `# schema: test`:
/// - `Test::Server`: `name` (string, required, length 1-16), `flavor` (string, `small` or
///   `large`, default `small`), `count` (integer, 1-5), `enabled` (boolean), `networks`
///   (list of maps: `uuid` string, required; `port` integer 1-65535), `metadata` (free-form
///   map), `tags` (list, at most 3 items);
/// - `Test::Volume`: `size` (integer, required, even), `description` (string);
/// - `OS::Heat::None`: no properties (what a type mapped to `OS::Heat::None` resolves to).
fn test_registry() -> ProviderRegistry {
    use PropertyType as T;
    let length = |min: Option<f64>, max: Option<f64>| ConstraintKind::Length { min, max };
    let range = |min: f64, max: f64| ConstraintKind::Range {
        min: Some(min),
        max: Some(max),
    };
    let network = PropertySchema::new(
        "network",
        T::Map(vec![
            PropertySchema::new("uuid", T::String, "The network's id.").required(),
            PropertySchema::new("port", T::Integer, "The port number.")
                .constraint(range(1.0, 65535.0)),
        ]),
        "A network to attach.",
    );
    let server = ResourceSchema {
        open: false,
        type_name: "Test::Server",
        description: "A made-up server.",
        properties: vec![
            PropertySchema::new("name", T::String, "The server's name.")
                .required()
                .constraint(length(Some(1.0), Some(16.0))),
            PropertySchema::new("flavor", T::String, "How big it is.")
                .default(json!("small"))
                .constraint(ConstraintKind::AllowedValues(vec![
                    json!("small"),
                    json!("large"),
                ])),
            PropertySchema::new("count", T::Integer, "How many.").constraint(range(1.0, 5.0)),
            PropertySchema::new("enabled", T::Boolean, "Whether it runs."),
            PropertySchema::new(
                "networks",
                T::List(Some(Box::new(network))),
                "The networks to attach.",
            ),
            PropertySchema::new("metadata", T::Map(Vec::new()), "Free-form metadata."),
            PropertySchema::new("tags", T::List(None), "Tags.").constraint(length(None, Some(3.0))),
        ],
        attributes: Vec::new(),
    };
    let volume = ResourceSchema {
        open: false,
        type_name: "Test::Volume",
        description: "A made-up volume.",
        properties: vec![
            PropertySchema::new("size", T::Integer, "The size in GB.")
                .required()
                .constraint(ConstraintKind::Modulo {
                    step: 2.0,
                    offset: 0.0,
                }),
            PropertySchema::new("description", T::String, "What it is for."),
        ],
        attributes: Vec::new(),
    };
    let none = ResourceSchema {
        open: true,
        type_name: "OS::Heat::None",
        description: "Nothing.",
        properties: Vec::new(),
        attributes: Vec::new(),
    };
    let mut registry = ProviderRegistry::new();
    for schema in [server, volume, none] {
        assert!(
            schema.schema_errors().is_empty(),
            "{:?}",
            schema.schema_errors()
        );
        registry.register(schema.type_name, Arc::new(SchemaOnly(schema)));
    }
    registry
}

fn render(diags: &[Diagnostic]) -> String {
    if diags.is_empty() {
        return "(no diagnostics)\n".to_string();
    }
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn diagnostics_snapshots() {
    insta::glob!("../test_data/diagnostics", "*.{yaml,json}", |path| {
        let diags = run_fixture(path);
        insta::assert_snapshot!(render(&diags));
    });
}

#[test]
fn every_code_is_covered() {
    let mut seen = BTreeSet::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("test_data/diagnostics exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "json"))
        .collect();
    entries.sort();
    for path in &entries {
        for d in run_fixture(path) {
            seen.insert(d.code);
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture in test_data/diagnostics triggers: {missing:?}"
    );
}

/// Diagnostics that may have no position, and why: they are about values given on the
/// command line (the fixtures' `# param:` directives), which are in no file.
/// - E2023, a malformed `KEY=VALUE` argument: nothing in the template is wrong;
/// - E2009, a value for a parameter the template does not declare: there is no declaration
///   to point at, and pointing at the `parameters` section would suggest the error is there.
///
/// A command-line value that a declared parameter rejects (E2007) points at the parameter's
/// declaration instead, so it is not in this list; the same codes about a value written in an
/// environment file point at that value.
const POSITIONLESS: &[(Code, &str)] = &[
    (
        Code::BadParameterArgument,
        "a malformed command-line argument",
    ),
    (
        Code::UnknownParameter,
        "a command-line value for an undeclared parameter",
    ),
];

#[test]
fn every_diagnostic_has_a_hint_and_position() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("test_data/diagnostics exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "json"))
        .collect();
    entries.sort();
    let mut problems = Vec::new();
    for path in &entries {
        let fixture = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        for d in run_fixture(path) {
            if d.hint.as_deref().is_none_or(|h| h.trim().is_empty()) {
                problems.push(format!("{fixture}: no hint: {d}"));
            }
            // Environment files are files: only the template's diagnostics may be about a
            // command-line value.
            let from_command_line = POSITIONLESS.iter().any(|(c, _)| *c == d.code)
                && d.file.as_deref().is_none_or(|f| f == fixture);
            if !d.span.is_known() && !from_command_line {
                problems.push(format!("{fixture}: no position: {d}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
