//! What the engine knows about templates and types: validation, the resource type list
//! and schemas, generated templates, template versions and their functions.

use std::sync::Arc;

use heat_core::diagnostic::{Code, Diagnostic};
use heat_core::engine::ResourceProvider;
use heat_core::engine::schema::{PropertySchema, PropertyType};
use heat_core::engine::store::StackDefinition;
use heat_core::parameters::{BindMode, MASK, pattern_matches};
use heat_core::template::functions::{FunctionInfo, functions, functions_with_conditions};
use heat_core::template::{ConstraintKind, Format, Parameter, ParameterType, Template, Version};
use serde_json::{Map, Value, json};

use super::LocalEngine;
use super::inputs::{check_definition, check_template_size, environment_json, parameter_texts};
use crate::auth::RequestContext;
use crate::engine_api::error::diagnostics_message;
use crate::engine_api::{EngineApiError, TemplateVersion, TypeFilter, ValidateArgs, Validation};

/// A number as JSON: an integer when it is whole.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Whole and within i64's exact range.
        #[allow(clippy::cast_possible_truncation)]
        let whole = n as i64;
        json!(whole)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// Heat's exception type for a failed validation: references get their own.
fn validation_kind(diagnostics: &[Diagnostic]) -> &'static str {
    let first = diagnostics.iter().find(|d| d.is_error()).map(|d| d.code);
    match first {
        Some(
            Code::UnresolvedReference
            | Code::UnknownDependency
            | Code::UnknownAttributeResource
            | Code::UnknownParameterRef,
        ) => "InvalidTemplateReference",
        _ => "HTTPBadRequest",
    }
}

/// A parameter type as Heat's validate shows it.
fn api_type_name(ty: &ParameterType) -> String {
    match ty {
        ParameterType::String => "String".to_string(),
        ParameterType::Number => "Number".to_string(),
        ParameterType::CommaDelimitedList => "CommaDelimitedList".to_string(),
        ParameterType::Json => "Json".to_string(),
        ParameterType::Boolean => "Boolean".to_string(),
        ParameterType::NumberList => "List<Number>".to_string(),
        ParameterType::Aws(name) => name.clone(),
    }
}

/// One parameter in Heat's validate shape. A hidden parameter's default is masked (Heat
/// shows it; principle 7 says secrets never leave).
fn parameter_json(p: &Parameter) -> Value {
    let mut out = Map::new();
    out.insert("Type".to_string(), json!(api_type_name(&p.ty)));
    out.insert(
        "Description".to_string(),
        json!(p.description.clone().unwrap_or_default()),
    );
    out.insert(
        "NoEcho".to_string(),
        json!(if p.hidden { "true" } else { "false" }),
    );
    out.insert(
        "Label".to_string(),
        json!(p.label.clone().unwrap_or_else(|| p.name.value.clone())),
    );
    if let Some(default) = &p.default {
        let value = if p.hidden {
            json!(MASK)
        } else {
            default.to_json()
        };
        out.insert("Default".to_string(), value);
    }
    for c in &p.constraints {
        match &c.kind {
            ConstraintKind::Length { min, max } => {
                if let Some(v) = min {
                    out.insert("MinLength".to_string(), number(*v));
                }
                if let Some(v) = max {
                    out.insert("MaxLength".to_string(), number(*v));
                }
            }
            ConstraintKind::Range { min, max } => {
                if let Some(v) = min {
                    out.insert("MinValue".to_string(), number(*v));
                }
                if let Some(v) = max {
                    out.insert("MaxValue".to_string(), number(*v));
                }
            }
            ConstraintKind::Modulo { step, offset } => {
                out.insert(
                    "Modulo".to_string(),
                    json!({"step": number(*step), "offset": number(*offset)}),
                );
            }
            ConstraintKind::AllowedValues(values) => {
                out.insert("AllowedValues".to_string(), json!(values));
            }
            ConstraintKind::AllowedPattern(pattern) => {
                out.insert("AllowedPattern".to_string(), json!(pattern));
            }
            ConstraintKind::Custom(name) => {
                out.insert("CustomConstraint".to_string(), json!(name));
            }
        }
        if let Some(d) = &c.description {
            out.entry("ConstraintDescription".to_string())
                .or_insert_with(|| json!(d));
        }
    }
    if p.immutable {
        out.insert("Immutable".to_string(), json!(true));
    }
    Value::Object(out)
}

fn parameter_groups(template: &Template) -> Option<Value> {
    if template.parameter_groups.is_empty() {
        return None;
    }
    let groups: Vec<Value> = template
        .parameter_groups
        .iter()
        .map(|g| {
            let mut out = Map::new();
            if let Some(label) = &g.label {
                out.insert("label".to_string(), json!(label));
            }
            if let Some(d) = &g.description {
                out.insert("description".to_string(), json!(d));
            }
            let names: Vec<&str> = g.parameters.iter().map(|p| p.value.as_str()).collect();
            out.insert("parameters".to_string(), json!(names));
            Value::Object(out)
        })
        .collect();
    Some(Value::Array(groups))
}

pub(super) fn validate(
    engine: &LocalEngine,
    _ctx: &RequestContext,
    args: ValidateArgs,
) -> Result<Validation, EngineApiError> {
    let Some(template) = args.input.template else {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "No template specified",
        ));
    };
    check_template_size(&template, engine.options.max_template_size)?;
    let limits = &engine.engine.config().limits;
    let parameters = parameter_texts(&args.input.parameters, Some(&template), limits);
    let definition = StackDefinition {
        template: Arc::from(template.as_str()),
        files: args.input.files,
        environments: args.input.environments,
        parameters,
    };
    let checked = check_definition(
        engine.engine.registry(),
        limits,
        &definition,
        BindMode::Validate,
        &args.ignore_errors,
    )
    .map_err(|d| EngineApiError::bad_request(validation_kind(&d), diagnostics_message(&d)))?;
    let t = &checked.template;
    Ok(Validation {
        description: t
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default(),
        parameters: t
            .parameters
            .iter()
            .map(|p| (p.name.value.clone(), parameter_json(p)))
            .collect(),
        parameter_groups: parameter_groups(t),
        environment: environment_json(&checked.env, Some(t), &definition.parameters, false),
    })
}

fn type_not_found(type_name: &str) -> EngineApiError {
    EngineApiError::NotFound {
        kind: "EntityNotFound",
        message: format!("The Resource Type ({type_name}) could not be found."),
    }
}

fn provider<'a>(
    engine: &'a LocalEngine,
    type_name: &str,
) -> Result<&'a Arc<dyn ResourceProvider>, EngineApiError> {
    engine
        .engine
        .registry()
        .get(type_name)
        .ok_or_else(|| type_not_found(type_name))
}

pub(super) fn resource_types(
    engine: &LocalEngine,
    filter: &TypeFilter,
) -> Result<Vec<(String, String)>, EngineApiError> {
    let registry = engine.engine.registry();
    let mut out = Vec::new();
    for type_name in registry.types() {
        if let Some(pattern) = &filter.name {
            // Heat: the name must contain a match of the expression.
            let search = format!(".*(?:{pattern}).*");
            let found = pattern_matches(&search, type_name, Format::Cfn).map_err(|why| {
                EngineApiError::bad_request(
                    "HTTPBadRequest",
                    format!("Invalid name filter '{pattern}': {why}"),
                )
            })?;
            if !found {
                continue;
            }
        }
        // Every registered type is SUPPORTED, and none records the version it appeared in.
        if filter
            .support_status
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("SUPPORTED"))
            || filter.version.is_some()
        {
            continue;
        }
        let description = registry
            .get(type_name)
            .map(|p| p.schema().description.to_string())
            .unwrap_or_default();
        out.push((type_name.to_string(), description));
    }
    Ok(out)
}

fn constraint_json(kind: &ConstraintKind) -> Value {
    match kind {
        ConstraintKind::Length { min, max } => {
            json!({"length": range_json(*min, *max)})
        }
        ConstraintKind::Range { min, max } => json!({"range": range_json(*min, *max)}),
        ConstraintKind::Modulo { step, offset } => {
            json!({"modulo": {"step": number(*step), "offset": number(*offset)}})
        }
        ConstraintKind::AllowedValues(values) => json!({"allowed_values": values}),
        ConstraintKind::AllowedPattern(p) => json!({"allowed_pattern": p}),
        ConstraintKind::Custom(name) => json!({"custom_constraint": name}),
    }
}

fn range_json(min: Option<f64>, max: Option<f64>) -> Value {
    let mut out = Map::new();
    if let Some(v) = min {
        out.insert("min".to_string(), number(v));
    }
    if let Some(v) = max {
        out.insert("max".to_string(), number(v));
    }
    Value::Object(out)
}

/// One property's schema as Heat shows it.
fn property_json(p: &PropertySchema) -> Value {
    let mut out = Map::new();
    out.insert("type".to_string(), json!(p.ty.name()));
    out.insert("description".to_string(), json!(p.description));
    if let Some(d) = &p.default {
        out.insert("default".to_string(), d.clone());
    }
    match &p.ty {
        PropertyType::Map(sub) if !sub.is_empty() => {
            let schema: Map<String, Value> = sub
                .iter()
                .map(|s| (s.name.to_string(), property_json(s)))
                .collect();
            out.insert("schema".to_string(), Value::Object(schema));
        }
        PropertyType::List(Some(item)) => {
            out.insert("schema".to_string(), json!({"*": property_json(item)}));
        }
        _ => {}
    }
    out.insert("required".to_string(), json!(p.required));
    if !p.constraints.is_empty() {
        let constraints: Vec<Value> = p.constraints.iter().map(constraint_json).collect();
        out.insert("constraints".to_string(), Value::Array(constraints));
    }
    out.insert("update_allowed".to_string(), json!(p.update_allowed));
    out.insert("immutable".to_string(), json!(p.immutable));
    Value::Object(out)
}

/// What Heat says about every resource's `show` attribute.
const SHOW_DESCRIPTION: &str = "Detailed information about resource.";

pub(super) fn resource_schema(
    engine: &LocalEngine,
    type_name: &str,
    with_description: bool,
) -> Result<Value, EngineApiError> {
    let schema = provider(engine, type_name)?.schema();
    let properties: Map<String, Value> = schema
        .properties
        .iter()
        .map(|p| (p.name.to_string(), property_json(p)))
        .collect();
    let mut attributes: Map<String, Value> = schema
        .attributes
        .iter()
        .filter(|a| a.name != "show")
        .map(|a| (a.name.to_string(), json!({"description": a.description})))
        .collect();
    attributes.insert(
        "show".to_string(),
        json!({"description": SHOW_DESCRIPTION, "type": "map"}),
    );
    let mut out = Map::new();
    out.insert("resource_type".to_string(), json!(type_name));
    out.insert("properties".to_string(), Value::Object(properties));
    out.insert("attributes".to_string(), Value::Object(attributes));
    out.insert(
        "support_status".to_string(),
        json!({"status": "SUPPORTED", "message": null, "version": null, "previous_status": null}),
    );
    if with_description {
        out.insert("description".to_string(), json!(schema.description));
    }
    Ok(Value::Object(out))
}

/// A property's type as a template parameter type (HOT names; CloudFormation names when
/// `!hot`).
fn parameter_type_for(ty: &PropertyType, hot: bool) -> &'static str {
    match (ty, hot) {
        (PropertyType::String, true) => "string",
        (PropertyType::String, false) => "String",
        (PropertyType::Integer | PropertyType::Number, true) => "number",
        (PropertyType::Integer | PropertyType::Number, false) => "Number",
        (PropertyType::Boolean, true) => "boolean",
        (PropertyType::Boolean, false) => "Boolean",
        (PropertyType::List(_), true) => "comma_delimited_list",
        (PropertyType::List(_), false) => "CommaDelimitedList",
        (PropertyType::Map(_) | PropertyType::Any, true) => "json",
        (PropertyType::Map(_) | PropertyType::Any, false) => "Json",
    }
}

pub(super) fn generate_template(
    engine: &LocalEngine,
    type_name: &str,
    hot: bool,
) -> Result<Value, EngineApiError> {
    let schema = provider(engine, type_name)?.schema();
    // The resource is named after the type's last part (Heat uses its class name).
    let name = type_name.rsplit("::").next().unwrap_or(type_name);
    let description = format!("Initial template of {name}");
    let mut parameters = Map::new();
    let mut properties = Map::new();
    for p in &schema.properties {
        let mut param = Map::new();
        let (type_key, description_key, default_key) = if hot {
            ("type", "description", "default")
        } else {
            ("Type", "Description", "Default")
        };
        param.insert(type_key.to_string(), json!(parameter_type_for(&p.ty, hot)));
        param.insert(description_key.to_string(), json!(p.description));
        if let Some(d) = &p.default {
            param.insert(default_key.to_string(), d.clone());
        }
        parameters.insert(p.name.to_string(), Value::Object(param));
        let reference = if hot {
            json!({"get_param": p.name})
        } else {
            json!({"Ref": p.name})
        };
        properties.insert(p.name.to_string(), reference);
    }
    let mut outputs = Map::new();
    let mut attributes: Vec<(&str, &str)> = schema
        .attributes
        .iter()
        .filter(|a| a.name != "show")
        .map(|a| (a.name, a.description))
        .collect();
    attributes.push(("show", SHOW_DESCRIPTION));
    for (attr, desc) in attributes {
        let output = if hot {
            json!({"value": {"get_attr": [name, attr]}, "description": desc})
        } else {
            json!({"Value": {"Fn::GetAtt": [name, attr]}, "Description": desc})
        };
        outputs.insert(attr.to_string(), output);
    }
    let template = if hot {
        outputs.insert(
            "OS::stack_id".to_string(),
            json!({"value": {"get_resource": name}}),
        );
        json!({
            "heat_template_version": "2016-10-14",
            "description": description,
            "parameters": parameters,
            "outputs": outputs,
            "resources": {name: {"type": type_name, "properties": properties}},
        })
    } else {
        json!({
            "HeatTemplateFormatVersion": "2012-12-12",
            "Description": description,
            "Parameters": parameters,
            "Resources": {name: {"Type": type_name, "Properties": properties}},
            "Outputs": outputs,
        })
    };
    Ok(template)
}

/// Every template version in Heat's order (sorted by name), with its kind and aliases.
pub(super) fn template_versions() -> Vec<TemplateVersion> {
    let mut out: Vec<TemplateVersion> = Version::ALL
        .iter()
        .map(|v| TemplateVersion {
            version: v.api_name(),
            kind: if v.is_hot() { "hot" } else { "cfn" },
            aliases: v
                .alias()
                .map(|a| vec![format!("{}.{a}", v.key())])
                .unwrap_or_default(),
        })
        .collect();
    out.sort_by(|a, b| a.version.cmp(&b.version));
    out
}

/// A version named as the API names it (`heat_template_version.2018-08-31`, an alias such
/// as `heat_template_version.rocky`, `AWSTemplateFormatVersion.2010-09-09`).
fn parse_version(text: &str) -> Option<Version> {
    Version::from_api_name(text).or_else(|| {
        let (key, value) = text.split_once('.')?;
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.key() == key && v.alias() == Some(value))
    })
}

pub(super) fn template_functions(
    version: &str,
    with_condition_functions: bool,
) -> Result<Vec<(String, String)>, EngineApiError> {
    let Some(v) = parse_version(version) else {
        return Err(EngineApiError::NotFound {
            kind: "NotFound",
            message: format!("Template with version {version} not found"),
        });
    };
    let list: Vec<FunctionInfo> = if with_condition_functions {
        functions_with_conditions(v)
    } else {
        functions(v)
    };
    Ok(list
        .into_iter()
        .map(|f| (f.name.to_string(), f.description.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_functions_are_heats() {
        let versions = template_versions();
        assert_eq!(versions.len(), 13);
        assert_eq!(versions[0].version, "AWSTemplateFormatVersion.2010-09-09");
        assert_eq!(versions[0].kind, "cfn");
        let rocky = versions
            .iter()
            .find(|v| v.version == "heat_template_version.2018-08-31")
            .unwrap();
        assert_eq!(rocky.aliases, ["heat_template_version.rocky"]);
        let by_date = template_functions("heat_template_version.2018-08-31", false).unwrap();
        let by_alias = template_functions("heat_template_version.rocky", false).unwrap();
        assert_eq!(by_date, by_alias);
        assert!(by_date.iter().any(|(f, _)| f == "get_attr"));
        let with_conditions = template_functions("heat_template_version.2018-08-31", true).unwrap();
        assert!(with_conditions.iter().any(|(f, _)| f == "equals"));
        let err = template_functions("heat_template_version.1999-01-01", false).unwrap_err();
        assert_eq!((err.status(), err.kind()), (404, "NotFound"));
    }

    #[test]
    fn numbers_are_integers_when_whole() {
        assert_eq!(number(4.0), json!(4));
        assert_eq!(number(0.5), json!(0.5));
    }
}
