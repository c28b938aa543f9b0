//! Previews: what a create would make (`POST /stacks/preview`: each resource with the
//! properties it would get) and what an update would do (`PUT|PATCH .../preview`: Heat's
//! `resource_changes`, from the engine's update [`Plan`](heat_core::engine::Plan)).

use std::collections::BTreeMap;
use std::sync::Arc;

use heat_core::engine::ChangeAction;
use heat_core::engine::registry::ProviderRegistry;
use heat_core::engine::schema::{self, PropertySchema, PropertyType};
use heat_core::engine::store::StackDefinition;
use heat_core::eval::{
    EvalContext, ParameterValues, PseudoParams, StaticResources, TemplateConditions,
    condition_enabled, evaluate_nullable,
};
use heat_core::parameters::BindMode;
use heat_core::template::{Expr, Template};
use serde_json::{Map, Value};

use super::LocalEngine;
use super::inputs::{
    Checked, check_definition, check_stack_name, check_template_size, parameter_texts,
    shown_parameters,
};
use super::resources::{Current, attribute_names, attributes, creation_times};
use super::stacks::{NO_DESCRIPTION, update_request};
use crate::auth::RequestContext;
use crate::engine_api::error::diagnostics_message;
use crate::engine_api::{
    CreateArgs, EngineApiError, OutputDetail, PreviewResource, StackIdentity, StackPreview,
    UpdateArgs, UpdatePreview,
};

/// The names of the resources that depend on each resource, per the template's graph.
fn dependents(template: &Template) -> BTreeMap<String, Vec<String>> {
    let (graph, _) = heat_core::graph::build(template);
    template
        .resources
        .iter()
        .map(|r| {
            let name = r.name.value.clone();
            let mut deps: Vec<String> = graph
                .dependents(&name)
                .into_iter()
                .map(str::to_string)
                .collect();
            // Heat lists dependents latest-defined first.
            let position = |n: &str| template.resources.iter().position(|r| r.name.value == n);
            deps.sort_by_key(|n| std::cmp::Reverse(position(n)));
            (name, deps)
        })
        .collect()
}

/// The resources in dependency order (template order when the graph has a cycle).
fn dependency_order(template: &Template) -> Vec<String> {
    let (graph, _) = heat_core::graph::build(template);
    match graph.topological_order() {
        Some(names) => names.into_iter().map(str::to_string).collect(),
        None => template
            .resources
            .iter()
            .map(|r| r.name.value.clone())
            .collect(),
    }
}

/// Every property of a schema with a value: the given one, else null (nested map schemas
/// filled the same way), as Heat shows a resource's properties.
fn with_every_property(props: &[PropertySchema], given: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for p in props {
        let value = given.get(p.name).cloned().unwrap_or(Value::Null);
        let value = match (&p.ty, value) {
            (PropertyType::Map(sub), Value::Object(map)) if !sub.is_empty() => {
                Value::Object(with_every_property(sub, &map))
            }
            (_, v) => v,
        };
        out.insert(p.name.to_string(), value);
    }
    for (k, v) in given {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Evaluates an expression property by property: a property whose value depends on
/// something not known yet (a resource not created) is null, as in Heat's preview.
fn evaluate_properties(expr: &Expr, ctx: &EvalContext<'_>) -> Map<String, Value> {
    if let Ok(Some(Value::Object(map))) = evaluate_nullable(expr, ctx) {
        return map;
    }
    let mut out = Map::new();
    if let Some(entries) = expr.as_map() {
        for (key, value) in entries {
            match evaluate_nullable(value, ctx) {
                Ok(Some(v)) => {
                    out.insert(key.name.clone(), v);
                }
                Ok(None) => {}
                Err(_) => {
                    out.insert(key.name.clone(), Value::Null);
                }
            }
        }
    }
    out
}

/// A resource as Heat shows it before it exists: `INIT_COMPLETE`, no physical id, its
/// attributes unknown.
fn new_resource(
    engine: &LocalEngine,
    template: &Template,
    name: &str,
    resource_type: &str,
    required_by: Vec<String>,
) -> PreviewResource {
    let description = template
        .resource(name)
        .and_then(|r| r.description.clone())
        .unwrap_or_default();
    PreviewResource {
        name: name.to_string(),
        resource_type: resource_type.to_string(),
        record: None,
        creation_time: None,
        required_by,
        description,
        metadata: Value::Object(Map::new()),
        attributes: attribute_names(engine, resource_type)
            .into_iter()
            .map(|a| (a, Value::Null))
            .collect(),
        properties: None,
    }
}

/// The evaluation context of a preview: the bound parameters, the stack's name and
/// project (no id yet), no resource created.
fn preview_values(checked: &Checked) -> ParameterValues {
    let format = checked.template.format();
    let mut params = ParameterValues::new();
    for p in checked.bound.iter() {
        let value = p.value.to_json_for(format);
        params = if p.hidden {
            params.with_hidden(p.name.clone(), value)
        } else {
            params.with(p.name.clone(), value)
        };
    }
    params
}

fn resolved_type(
    registry: &ProviderRegistry,
    checked: &Checked,
    name: &str,
    written: &str,
) -> (String, Option<Arc<dyn heat_core::engine::ResourceProvider>>) {
    match registry.resolve(&checked.env, name, written) {
        heat_core::engine::Resolved::Provider(provider, type_name) => (type_name, Some(provider)),
        _ => (written.to_string(), None),
    }
}

pub(super) async fn create_preview(
    engine: &LocalEngine,
    ctx: &RequestContext,
    args: CreateArgs,
) -> Result<StackPreview, EngineApiError> {
    check_stack_name(&args.name)?;
    let Some(template) = args.input.template.clone() else {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "No template specified",
        ));
    };
    check_template_size(&template, engine.options.max_template_size)?;
    if engine
        .store
        .stack_by_name(&ctx.project_id, &args.name)
        .await?
        .is_some()
    {
        return Err(EngineApiError::Conflict {
            kind: "StackExists",
            message: format!("The Stack ({}) already exists.", args.name),
        });
    }
    let limits = &engine.engine.config().limits;
    let parameters = parameter_texts(&args.input.parameters, Some(&template), limits);
    let definition = StackDefinition {
        template: Arc::from(template.as_str()),
        files: args.input.files.clone(),
        environments: args.input.environments.clone(),
        parameters,
    };
    let registry = engine.engine.registry();
    let checked =
        check_definition(registry, limits, &definition, BindMode::Create, &[]).map_err(|d| {
            EngineApiError::bad_request("StackValidationFailed", diagnostics_message(&d))
        })?;
    let t = &checked.template;
    let values = preview_values(&checked);
    let pseudo = PseudoParams {
        stack_name: Some(args.name.clone()),
        project_id: Some(ctx.project_id.clone()),
        ..PseudoParams::new()
    };
    let mut table = StaticResources::new();
    for r in &t.resources {
        let (type_name, _) = resolved_type(registry, &checked, &r.name.value, &r.ty.value);
        let attrs: Map<String, Value> = attribute_names(engine, &type_name)
            .into_iter()
            .map(|a| (a, Value::Null))
            .collect();
        table = table.with(r.name.value.clone(), None, Value::Object(attrs));
    }
    let conditions = TemplateConditions::new(&t.conditions);
    let eval = EvalContext::for_template(t)
        .with_parameters(&values)
        .with_pseudo(&pseudo)
        .with_resources(&table)
        .with_files(&definition.files)
        .with_conditions(&conditions);
    let dependents = dependents(t);
    let mut resources = Vec::new();
    for name in dependency_order(t) {
        let Some(r) = t.resource(&name) else { continue };
        let enabled = r
            .condition
            .as_deref()
            .is_none_or(|c| condition_enabled(Some(c), &eval).unwrap_or(true));
        if !enabled {
            continue;
        }
        let (type_name, provider) = resolved_type(registry, &checked, &name, &r.ty.value);
        let given = r
            .properties
            .as_ref()
            .map(|p| evaluate_properties(p, &eval))
            .unwrap_or_default();
        let properties = match &provider {
            Some(p) => {
                let resolved = schema::resolve(p.schema(), Some(Value::Object(given.clone())))
                    .unwrap_or(given);
                with_every_property(&p.schema().properties, &resolved)
            }
            None => given,
        };
        let metadata = r
            .metadata
            .as_deref()
            .and_then(|m| evaluate_nullable(m, &eval).ok().flatten())
            .unwrap_or_else(|| Value::Object(Map::new()));
        let mut entry = new_resource(
            engine,
            t,
            &name,
            &type_name,
            dependents.get(&name).cloned().unwrap_or_default(),
        );
        entry.metadata = metadata;
        entry.properties = Some(properties);
        resources.push(entry);
    }
    let outputs = t
        .outputs
        .iter()
        .map(|o| OutputDetail {
            key: o.name.value.clone(),
            description: o
                .description
                .clone()
                .unwrap_or_else(|| NO_DESCRIPTION.to_string()),
            value: None,
            error: None,
        })
        .collect();
    Ok(StackPreview {
        name: args.name.clone(),
        project: ctx.project_id.clone(),
        user: ctx.user_name.clone(),
        description: t
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .unwrap_or_default(),
        created_at: engine.now(),
        parameters: shown_parameters(&args.name, "None", &ctx.project_id, Some(&checked)),
        outputs,
        disable_rollback: args.disable_rollback.unwrap_or(true),
        timeout_mins: args.timeout_mins,
        tags: args.tags,
        resources,
    })
}

pub(super) async fn update_preview(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    args: UpdateArgs,
) -> Result<UpdatePreview, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let request = update_request(engine, &record, args)?;
    let new_text = request
        .template
        .clone()
        .unwrap_or_else(|| record.template.to_string());
    let plan = engine
        .engine
        .preview_update(&record.id, request)
        .await
        .map_err(|e| EngineApiError::from_engine(e, &record.name))?;
    if let Some(refused) = plan.with_action(ChangeAction::Refused).next() {
        return Err(EngineApiError::not_supported(format!(
            "The update would fail at resource {}: {}",
            refused.name,
            refused
                .cause
                .as_deref()
                .unwrap_or("the change is not allowed")
        )));
    }
    let limits = &engine.engine.config().limits;
    let template = heat_core::template::parse(&new_text, limits)
        .template
        .ok_or_else(|| {
            EngineApiError::Internal("the new template does not parse any more".to_string())
        })?;
    let new_dependents = dependents(&template);
    let all = engine.store.resources(&record.id).await?;
    let current = Current::of(&all);
    let events = engine.store.events(&record.id, None).await?;
    let created = creation_times(&events);
    let keys = [
        ChangeAction::Unchanged,
        ChangeAction::Update,
        ChangeAction::Replace,
        ChangeAction::Add,
        ChangeAction::Delete,
    ];
    let mut changes = Vec::new();
    for action in keys {
        let mut entries = Vec::new();
        for change in plan.with_action(action) {
            // Heat shows updated and deleted resources as they are, and the others as the
            // new template defines them.
            let existing = matches!(action, ChangeAction::Update | ChangeAction::Delete)
                .then(|| current.get(&change.name))
                .flatten();
            let entry = match existing {
                Some(r) => PreviewResource {
                    name: r.name.clone(),
                    resource_type: r.resource_type.to_string(),
                    record: Some(Arc::clone(r)),
                    creation_time: Some(created.get(&r.name).copied().unwrap_or(r.updated_at)),
                    required_by: current.required_by(&r.name),
                    description: template
                        .resource(&r.name)
                        .and_then(|d| d.description.clone())
                        .unwrap_or_default(),
                    metadata: r
                        .metadata
                        .as_deref()
                        .cloned()
                        .unwrap_or_else(|| Value::Object(Map::new())),
                    attributes: attributes(engine, &record, r, &[]).await,
                    properties: None,
                },
                None => new_resource(
                    engine,
                    &template,
                    &change.name,
                    &change.resource_type,
                    new_dependents
                        .get(&change.name)
                        .cloned()
                        .unwrap_or_default(),
                ),
            };
            entries.push(entry);
        }
        changes.push((action.heat_key(), entries));
    }
    Ok(UpdatePreview {
        stack: StackIdentity {
            project: record.project.clone(),
            name: record.name.clone(),
            id: record.id.clone(),
        },
        changes,
    })
}
