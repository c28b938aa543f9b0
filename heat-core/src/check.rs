//! The whole offline check of one template: load, parse, validate, graph, parameters.
//! This is what `heat template validate` runs. OWNER: lead.

use crate::diagnostic::{Code, Diagnostic};
use crate::environment::Environment;
use crate::files::FilesMap;
use crate::parameters::{BindMode, bind_with};
use crate::template::load::Limits;
use crate::template::model::Template;
use crate::validate::ValidateOptions;

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
    /// The files the template reads with `get_file`, when the caller supplies them; `None`
    /// leaves `get_file` checked for shape only.
    pub files: Option<FilesMap>,
    /// Resource types the caller knows beyond Heat's built-in ones (an engine's provider
    /// registry): never reported as unknown.
    pub known_types: Vec<String>,
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
    /// The template's dependency graph (absent with the template).
    pub graph: Option<crate::graph::DependencyGraph>,
}

impl Report {
    /// Whether the template is valid (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !crate::diagnostic::has_errors(&self.diagnostics)
    }
}

/// Checks one template: load, parse, validate, graph, then (when values or environments
/// were given) parameter binding. Every diagnostic of every stage is returned.
pub fn check(source: &SourceFile, options: &CheckOptions) -> Report {
    check_text(&source.name, &source.text, options)
}

/// [`check`] of a text that is not in a [`SourceFile`] (no copy of it is made).
pub fn check_text(name: &str, text: &str, options: &CheckOptions) -> Report {
    let parsed = crate::template::parse(text, &options.limits);
    let mut diagnostics = parsed.diagnostics;
    set_file(&mut diagnostics, name);

    let mut environments = Vec::with_capacity(options.environments.len());
    for env_file in &options.environments {
        let (env, mut env_diags) =
            Environment::parse(&env_file.name, &env_file.text, &options.limits);
        set_file(&mut env_diags, &env_file.name);
        diagnostics.append(&mut env_diags);
        environments.push(env);
    }
    let template_ref = parsed.template.as_ref();
    let (environment, mut merge_diags) = crate::environment::merge_with(environments, |name| {
        template_ref
            .and_then(|t| t.parameter(name))
            .map(|p| p.ty.clone())
    });
    diagnostics.append(&mut merge_diags);

    let mut graph = None;
    if let Some(template) = &parsed.template {
        let mut found = Vec::new();
        let mut extra_resource_types = registry_types(&environment);
        extra_resource_types.extend(options.known_types.iter().cloned());
        let validate_options = ValidateOptions {
            extra_resource_types,
            max_resources_per_stack: options.limits.max_resources_per_stack,
            ..ValidateOptions::default()
        };
        found.extend(crate::validate::validate(template, &validate_options));
        if let Some(files) = &options.files {
            found.extend(crate::files::check_files(template, files));
        }
        let (built, graph_diags) = crate::graph::build(template);
        graph = Some(built);
        found.extend(graph_diags);
        crate::parameters::validate_defaults(template, &mut found);
        drop_shadowed_defaults(&mut found, &diagnostics, name);
        crate::parameters::check_parameter_groups(
            &template.parameter_groups,
            &template.parameters,
            template.version,
            &mut found,
        );
        if !options.parameters.is_empty() || !options.environments.is_empty() {
            let (_bound, bind_diags) = bind_with(
                template,
                &environment,
                &options.parameters,
                BindMode::Validate,
            );
            found.extend(bind_diags);
        }
        set_file(&mut found, name);
        diagnostics.append(&mut found);
    }
    drop_shadowed_by_short_forms(&mut diagnostics);
    sort_diagnostics(&mut diagnostics, name);
    Report {
        file: name.to_string(),
        template: parsed.template,
        diagnostics,
        graph,
    }
}

/// The resource types an environment's registry defines (they are valid types for the
/// template, whatever the offline type list says).
fn registry_types(environment: &Environment) -> Vec<String> {
    let registry = &environment.resource_registry;
    registry
        .entries
        .iter()
        .chain(registry.resources.iter().flat_map(|r| r.types.iter()))
        .map(|entry| entry.name.value.clone())
        .collect()
}

/// Drops bad-default diagnostics ([`Code::BadDefault`]) at a place where the loader already
/// reported the value (`default: !!int three` is [`Code::BadTaggedValue`]): one problem,
/// one diagnostic.
fn drop_shadowed_defaults(found: &mut Vec<Diagnostic>, earlier: &[Diagnostic], file: &str) {
    let is_load_error = |d: &Diagnostic| {
        d.is_error() && d.code.as_str().starts_with("E0") && d.file.as_deref() == Some(file)
    };
    found.retain(|d| {
        d.code != Code::BadDefault
            || !earlier
                .iter()
                .any(|l| is_load_error(l) && l.span.start == d.span.start)
    });
}

/// A CloudFormation short form in a HOT template (`!Ref x`, [`Code::ShortFormInHot`]) is
/// loaded as the map `{Ref: x}`, whose key then gets a function diagnostic of its own at the
/// same span ("Ref is not supported in this version"). Heat reports only the load error, so
/// function diagnostics at exactly the span of a short-form error are dropped.
fn drop_shadowed_by_short_forms(diagnostics: &mut Vec<Diagnostic>) {
    let short_forms: Vec<(Option<String>, crate::span::Span)> = diagnostics
        .iter()
        .filter(|d| d.code == Code::ShortFormInHot)
        .map(|d| (d.file.clone(), d.span))
        .collect();
    if short_forms.is_empty() {
        return;
    }
    diagnostics.retain(|d| {
        let about_the_function_name = matches!(
            d.code,
            Code::UnknownFunction
                | Code::FunctionNotInVersion
                | Code::RemovedFunction
                | Code::FunctionOutOfContext
                | Code::PossibleFunctionTypo
        );
        !(about_the_function_name && short_forms.contains(&(d.file.clone(), d.span)))
    });
}

fn set_file(diagnostics: &mut [Diagnostic], file: &str) {
    for d in diagnostics {
        if d.file.is_none() {
            d.file = Some(file.to_string());
        }
    }
}

/// Orders diagnostics: the checked template's first, then each other file's; within a file
/// by position (positionless ones last). The sort is stable, so diagnostics at one position
/// keep the order the stages produced them in.
fn sort_diagnostics(diagnostics: &mut [Diagnostic], template_file: &str) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.file.as_deref() != Some(template_file),
                d.file.clone(),
                d.span.start.line == 0,
                d.span.start,
            )
        };
        key(a).cmp(&key(b))
    });
}
