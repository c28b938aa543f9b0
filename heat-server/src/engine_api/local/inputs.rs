//! Request inputs turned into what the engine takes (names checked, parameter values as
//! text, limits), and stored definitions turned back into what the API shows (parameter
//! values, the merged environment).

use std::collections::BTreeMap;

use heat_core::check::{CheckOptions, SourceFile, check_text};
use heat_core::diagnostic::{Diagnostic, has_errors};
use heat_core::engine::registry::{ProviderRegistry, check_resources};
use heat_core::engine::store::{StackDefinition, StackRecord};
use heat_core::environment::{Environment, RegistryTarget, ResourceOverride, merge_with};
use heat_core::files::FilesMap;
use heat_core::parameters::{BindMode, BoundParameters, MASK, bind_with};
use heat_core::template::load::Limits;
use heat_core::template::{Format, ParameterType, Template};
use serde_json::{Map, Value, json};

use crate::engine_api::EngineApiError;

/// Heat's rule for stack names: a letter, then letters, digits, `_`, `-` or `.`; at most
/// 255 characters.
pub(super) fn check_stack_name(name: &str) -> Result<(), EngineApiError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if first_ok && rest_ok && name.len() <= 255 {
        Ok(())
    } else {
        Err(EngineApiError::bad_request(
            "StackValidationFailed",
            format!(
                "Invalid stack name {name} must contain only alphanumeric or \"_-.\" \
                 characters, must start with alpha and must be 255 characters or less."
            ),
        ))
    }
}

/// Refuses a template text over the size limit (413).
pub(super) fn check_template_size(text: &str, max: usize) -> Result<(), EngineApiError> {
    if text.len() > max {
        return Err(EngineApiError::TooLarge(format!(
            "Request limit exceeded: Template size ({} bytes) exceeds maximum allowed size \
             ({max} bytes).",
            text.len()
        )));
    }
    Ok(())
}

/// A parameter value given as JSON, as the text the engine binds: strings as they are,
/// numbers and booleans as written, a list joined with commas (JSON text for a `json`
/// parameter), a map as JSON text.
pub(super) fn value_text(value: &Value, ty: Option<&ParameterType>) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if ty != Some(&ParameterType::Json) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// The request's parameter values as text, typed by the template's declarations (parsed
/// only when some value is not a string).
pub(super) fn parameter_texts(
    values: &Map<String, Value>,
    template_text: Option<&str>,
    limits: &Limits,
) -> BTreeMap<String, String> {
    let needs_types = values
        .values()
        .any(|v| matches!(v, Value::Array(_) | Value::Object(_)));
    let template = if needs_types {
        template_text.and_then(|t| heat_core::template::parse(t, limits).template)
    } else {
        None
    };
    values
        .iter()
        .map(|(k, v)| {
            let ty = template
                .as_ref()
                .and_then(|t| t.parameter(k))
                .map(|p| &p.ty);
            (k.clone(), value_text(v, ty))
        })
        .collect()
}

/// A definition checked as a create checks it (offline checks, the registry, parameter
/// binding in `mode`): its template, merged environment and bound values, or every error.
pub(super) struct Checked {
    pub(super) template: Template,
    pub(super) env: Environment,
    pub(super) bound: BoundParameters,
}

/// Checks a definition: every diagnostic when it has errors (those whose code is in
/// `ignore` left out).
pub(super) fn check_definition(
    registry: &ProviderRegistry,
    limits: &Limits,
    definition: &StackDefinition,
    mode: BindMode,
    ignore: &[String],
) -> Result<Checked, Vec<Diagnostic>> {
    let env_files: Vec<SourceFile> = environment_files(definition);
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
    let keep = |d: &Diagnostic| !ignore.iter().any(|c| c == d.code.as_str());
    let Some(template) = report.template else {
        diagnostics.retain(keep);
        return Err(diagnostics);
    };
    let env = merged_environment(&template, &env_files, limits);
    diagnostics.extend(check_resources(&template, &env, registry));
    let (bound, bind_diagnostics) = bind_with(&template, &env, &user, mode);
    for d in bind_diagnostics {
        if !diagnostics
            .iter()
            .any(|e| e.code == d.code && e.message == d.message)
        {
            diagnostics.push(d);
        }
    }
    diagnostics.retain(keep);
    if has_errors(&diagnostics) {
        return Err(diagnostics);
    }
    Ok(Checked {
        template,
        env,
        bound,
    })
}

fn environment_files(definition: &StackDefinition) -> Vec<SourceFile> {
    definition
        .environments
        .iter()
        .enumerate()
        .map(|(i, text)| SourceFile {
            name: format!("environment-{i}"),
            text: text.clone(),
        })
        .collect()
}

fn merged_environment(template: &Template, files: &[SourceFile], limits: &Limits) -> Environment {
    let envs: Vec<Environment> = files
        .iter()
        .map(|f| Environment::parse(&f.name, &f.text, limits).0)
        .collect();
    merge_with(envs, |name| template.parameter(name).map(|p| p.ty.clone())).0
}

/// A stored stack's template, merged environment and bound values, read without the
/// checks a create makes (it passed them when it was stored); `None` when the template no
/// longer parses.
pub(super) fn bind_stored(record: &StackRecord, limits: &Limits) -> Option<Checked> {
    let template = heat_core::template::parse(&record.template, limits).template?;
    let definition = record.definition();
    let env = merged_environment(&template, &environment_files(&definition), limits);
    let user: Vec<(String, String)> = record
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (bound, _) = bind_with(&template, &env, &user, BindMode::Validate);
    Some(Checked {
        template,
        env,
        bound,
    })
}

/// Heat's `AWS::Region` for CloudFormation templates (its default region name).
const CFN_REGION: &str = "ap-southeast-1";

/// The parameters a stack shows: the pseudo-parameters (`OS::stack_id`, `OS::project_id`,
/// `OS::stack_name` for HOT; `AWS::Region`, `AWS::StackId`, `AWS::StackName` for
/// CloudFormation), then every parameter with a value, hidden ones masked.
pub(super) fn shown_parameters(
    name: &str,
    id: &str,
    project: &str,
    checked: Option<&Checked>,
) -> Vec<(String, String)> {
    let hot = checked.is_none_or(|c| c.template.format() == Format::Hot);
    let mut out = if hot {
        vec![
            ("OS::stack_id".to_string(), id.to_string()),
            ("OS::project_id".to_string(), project.to_string()),
            ("OS::stack_name".to_string(), name.to_string()),
        ]
    } else {
        vec![
            ("AWS::Region".to_string(), CFN_REGION.to_string()),
            (
                "AWS::StackId".to_string(),
                format!("arn:openstack:heat::{project}:stacks/{name}/{id}"),
            ),
            ("AWS::StackName".to_string(), name.to_string()),
        ]
    };
    if let Some(c) = checked {
        for p in c.bound.iter() {
            out.push((p.name.clone(), p.display_value()));
        }
    }
    out
}

/// A user's parameter value (stored as text) as JSON, typed by its declaration: numbers
/// and booleans as such, `json` parameters parsed, everything else text.
fn typed_value(text: &str, ty: Option<&ParameterType>) -> Value {
    match ty {
        Some(ParameterType::Number) => heat_core::parameters::parse_number(text)
            .map_or_else(|| Value::String(text.to_string()), |n| n.to_json()),
        Some(ParameterType::Boolean) => heat_core::parameters::parse_bool(text)
            .map_or_else(|| Value::String(text.to_string()), Value::Bool),
        Some(ParameterType::Json) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        }
        _ => Value::String(text.to_string()),
    }
}

fn registry_json(env: &Environment) -> Value {
    let mut out = Map::new();
    for entry in &env.resource_registry.entries {
        out.insert(entry.name.value.clone(), target_json(&entry.target));
    }
    let mut resources = Map::new();
    for r in &env.resource_registry.resources {
        resources.insert(r.pattern.value.clone(), resource_override_json(r));
    }
    out.insert("resources".to_string(), Value::Object(resources));
    Value::Object(out)
}

fn target_json(target: &RegistryTarget) -> Value {
    match target {
        RegistryTarget::Alias(name) | RegistryTarget::Template(name) => json!(name),
        RegistryTarget::Remove => Value::Null,
    }
}

/// One item or a list, as environments write them.
fn one_or_many(items: Vec<&str>) -> Value {
    match items.as_slice() {
        [one] => json!(one),
        _ => json!(items),
    }
}

fn resource_override_json(r: &ResourceOverride) -> Value {
    let mut out = Map::new();
    for entry in &r.types {
        out.insert(entry.name.value.clone(), target_json(&entry.target));
    }
    if !r.hooks.is_empty() {
        out.insert(
            "hooks".to_string(),
            one_or_many(r.hooks.iter().map(|h| h.value.name()).collect()),
        );
    }
    if !r.restricted_actions.is_empty() {
        out.insert(
            "restricted_actions".to_string(),
            one_or_many(
                r.restricted_actions
                    .iter()
                    .map(|a| a.value.name())
                    .collect(),
            ),
        );
    }
    for nested in &r.nested {
        out.insert(nested.pattern.value.clone(), resource_override_json(nested));
    }
    Value::Object(out)
}

/// An environment as Heat shows it: `resource_registry`, `parameters` (the environments'
/// values with the user's laid over them), `parameter_defaults`, `event_sinks` and, for a
/// stored stack, `encrypted_param_names`. Values of hidden parameters are masked.
pub(super) fn environment_json(
    env: &Environment,
    template: Option<&Template>,
    user: &BTreeMap<String, String>,
    with_encrypted_names: bool,
) -> Value {
    let hidden = |name: &str| {
        template
            .and_then(|t| t.parameter(name))
            .is_some_and(|p| p.hidden)
    };
    let shown = |name: &str, value: Value| {
        if hidden(name) {
            Value::String(MASK.to_string())
        } else {
            value
        }
    };
    let mut parameters = Map::new();
    for p in &env.parameters {
        parameters.insert(
            p.name.value.clone(),
            shown(&p.name.value, p.value.to_json()),
        );
    }
    for (name, text) in user {
        let ty = template.and_then(|t| t.parameter(name)).map(|p| &p.ty);
        parameters.insert(name.clone(), shown(name, typed_value(text, ty)));
    }
    let mut defaults = Map::new();
    for p in &env.parameter_defaults {
        defaults.insert(
            p.name.value.clone(),
            shown(&p.name.value, p.value.to_json()),
        );
    }
    let sinks: Vec<Value> = env
        .event_sinks
        .iter()
        .map(|s| {
            let mut sink = Map::new();
            sink.insert("type".to_string(), json!(s.ty.value));
            if let Some(target) = &s.target {
                sink.insert("target".to_string(), json!(target.value));
            }
            if let Some(ttl) = s.ttl {
                sink.insert("ttl".to_string(), json!(ttl));
            }
            Value::Object(sink)
        })
        .collect();
    let mut out = Map::new();
    out.insert("resource_registry".to_string(), registry_json(env));
    out.insert("parameters".to_string(), Value::Object(parameters));
    out.insert("parameter_defaults".to_string(), Value::Object(defaults));
    out.insert("event_sinks".to_string(), Value::Array(sinks));
    if with_encrypted_names {
        let names: Vec<Value> = env
            .encrypted_param_names
            .iter()
            .map(|n| json!(n.value))
            .collect();
        out.insert("encrypted_param_names".to_string(), Value::Array(names));
    }
    Value::Object(out)
}

/// A stored stack's environment as `GET .../environment` shows it.
pub(super) fn stored_environment(record: &StackRecord, limits: &Limits) -> Value {
    match bind_stored(record, limits) {
        Some(c) => environment_json(&c.env, Some(&c.template), &record.parameters, true),
        None => environment_json(&Environment::default(), None, &record.parameters, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_follow_heats_rule() {
        for ok in ["a", "web-1", "x.y_z", &"a".repeat(255)] {
            assert!(check_stack_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "-a", "a b", "ä", &"a".repeat(256)] {
            let err = check_stack_name(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
            assert_eq!(err.kind(), "StackValidationFailed");
        }
    }

    #[test]
    fn templates_over_the_limit_are_too_large() {
        assert!(check_template_size("abc", 3).is_ok());
        let err = check_template_size("abcd", 3).unwrap_err();
        assert_eq!(err.status(), 413);
        assert!(err.to_string().contains("(4 bytes)") && err.to_string().contains("(3 bytes)"));
    }

    #[test]
    fn parameter_values_become_text_by_type() {
        let cases: &[(Value, Option<ParameterType>, &str)] = &[
            (json!("x"), None, "x"),
            (json!(16), Some(ParameterType::Number), "16"),
            (json!(1.5), None, "1.5"),
            (json!(true), None, "true"),
            (
                json!(["a", "b", 3]),
                Some(ParameterType::CommaDelimitedList),
                "a,b,3",
            ),
            (json!(["a"]), Some(ParameterType::Json), "[\"a\"]"),
            (json!({"k": 1}), None, "{\"k\":1}"),
            (Value::Null, None, ""),
        ];
        for (value, ty, want) in cases {
            assert_eq!(value_text(value, ty.as_ref()), *want, "{value}");
        }
        let template = "heat_template_version: 2018-08-31\nparameters:\n  \
                        j: {type: json}\n  l: {type: comma_delimited_list}\n";
        let values: Map<String, Value> =
            serde_json::from_value(json!({"j": [1, 2], "l": [1, 2], "n": 3})).unwrap();
        let texts = parameter_texts(&values, Some(template), &Limits::default());
        assert_eq!(texts["j"], "[1,2]");
        assert_eq!(texts["l"], "1,2");
        assert_eq!(texts["n"], "3");
    }

    #[test]
    fn the_environment_shows_typed_values_and_masks_hidden_ones() {
        let template = heat_core::template::parse(
            "heat_template_version: 2018-08-31\nparameters:\n  len: {type: number}\n  \
             secret: {type: string, hidden: true}\n  flag: {type: boolean}\n",
            &Limits::default(),
        )
        .template
        .unwrap();
        let (env, diags) = Environment::parse(
            "env",
            "parameter_defaults: {secret: shh}\nresource_registry:\n  \"My::Type\": \
             OS::Heat::None\n  resources:\n    web: {hooks: pre-create}\n",
            &Limits::default(),
        );
        assert!(diags.is_empty(), "{diags:?}");
        let user: BTreeMap<String, String> = [
            ("len".to_string(), "16".to_string()),
            ("flag".to_string(), "true".to_string()),
            ("secret".to_string(), "hunter2".to_string()),
        ]
        .into();
        let shown = environment_json(&env, Some(&template), &user, true);
        assert_eq!(
            shown,
            json!({
                "resource_registry": {
                    "My::Type": "OS::Heat::None",
                    "resources": {"web": {"hooks": "pre-create"}}
                },
                "parameters": {"flag": true, "len": 16, "secret": "******"},
                "parameter_defaults": {"secret": "******"},
                "event_sinks": [],
                "encrypted_param_names": []
            })
        );
        assert!(!shown.to_string().contains("hunter2") && !shown.to_string().contains("shh"));
    }
}
