//! Turning a stack definition (template text, environments, files, parameter values) into
//! what the engine runs on, with every error a create or update would report.

use std::collections::BTreeMap;

use crate::check::{CheckOptions, SourceFile, check_text};
use crate::diagnostic::has_errors;
use crate::engine::registry::{ProviderRegistry, check_resources};
use crate::engine::store::StackDefinition;
use crate::environment::{Environment, merge_with};
use crate::eval::ParameterValues;
use crate::files::FilesMap;
use crate::parameters::{BindMode, bind_with};
use crate::template::load::Limits;
use crate::template::model::Template;

use super::EngineError;

/// A validated template with its environment and parameter values.
pub(super) struct Loaded {
    pub(super) template: Template,
    /// The template's graph, when validation built it already.
    pub(super) graph: Option<crate::graph::DependencyGraph>,
    pub(super) env: Environment,
    pub(super) params: ParameterValues,
}

/// Validates a definition as a create would (offline check, registry check, parameter
/// binding): every error, or the parts the engine runs on.
pub(super) fn load(
    registry: &ProviderRegistry,
    limits: &Limits,
    definition: &StackDefinition,
) -> Result<Loaded, EngineError> {
    let env_files: Vec<SourceFile> = definition
        .environments
        .iter()
        .enumerate()
        .map(|(i, text)| SourceFile {
            name: format!("environment-{i}"),
            text: text.clone(),
        })
        .collect();
    let user: Vec<(String, String)> = definition
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let options = CheckOptions {
        limits: limits.clone(),
        environments: env_files.clone(),
        parameters: user.clone(),
        files: Some(FilesMap {
            contents: definition.files.clone(),
            ..FilesMap::default()
        }),
        known_types: registry.types().into_iter().map(str::to_string).collect(),
    };
    let report = check_text("template", &definition.template, &options);
    let mut diagnostics = report.diagnostics;
    let graph = report.graph;
    let Some(template) = report.template else {
        return Err(EngineError::Invalid(diagnostics));
    };
    let envs: Vec<Environment> = env_files
        .iter()
        .map(|f| Environment::parse(&f.name, &f.text, limits).0)
        .collect();
    let (env, _) = merge_with(envs, |name| template.parameter(name).map(|p| p.ty.clone()));
    diagnostics.extend(check_resources(&template, &env, registry));
    let (bound, bind_diags) = bind_with(&template, &env, &user, BindMode::Create);
    for d in bind_diags {
        if !diagnostics
            .iter()
            .any(|e| e.code == d.code && e.message == d.message)
        {
            diagnostics.push(d);
        }
    }
    if has_errors(&diagnostics) {
        return Err(EngineError::Invalid(diagnostics));
    }
    let format = template.format();
    let mut params = ParameterValues::new();
    for p in bound.iter() {
        let value = p.value.to_json_for(format);
        params = if p.hidden {
            params.with_hidden(p.name.clone(), value)
        } else {
            params.with(p.name.clone(), value)
        };
    }
    Ok(Loaded {
        template,
        graph,
        env,
        params,
    })
}

/// The parameters whose value an update would change although the template marks them
/// `immutable` (in the old or the new template), by name.
pub(super) fn changed_immutable(old: &Loaded, new: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for p in &new.template.parameters {
        let name = &p.name.value;
        let immutable = p.immutable || old.template.parameter(name).is_some_and(|o| o.immutable);
        if !immutable {
            continue;
        }
        let Some(before) = old.params.values.get(name) else {
            continue;
        };
        if new.params.values.get(name) != Some(before) {
            out.push(name.clone());
        }
    }
    out
}

/// Overlays `new` on `old` (later keys win).
pub(super) fn overlay(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = old.clone();
    out.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Loads a stored definition for an operation that evaluates nothing (delete, abandon): the
/// environment only (hooks still apply); the template is not even parsed, since the records
/// alone say what exists and in which order to delete it (and a stack whose template no
/// longer validates, e.g. a provider went away, can still be deleted).
pub(super) fn load_light(limits: &Limits, definition: &StackDefinition) -> Loaded {
    let template = Template::new(
        crate::template::version::Version::Hot20130523,
        crate::span::Span::default(),
    );
    let envs: Vec<Environment> = definition
        .environments
        .iter()
        .enumerate()
        .map(|(i, text)| Environment::parse(&format!("environment-{i}"), text, limits).0)
        .collect();
    let (env, _) = merge_with(envs, |_| None);
    Loaded {
        template,
        graph: None,
        env,
        params: ParameterValues::new(),
    }
}
