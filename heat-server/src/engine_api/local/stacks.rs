//! Stack operations of the local engine: lookup, listing, show, create (and adopt), update,
//! delete, abandon and export, actions, and the stored template, environment and outputs.

use heat_core::engine::store::StackRecord;
use heat_core::engine::store::replaced_ids;
use heat_core::engine::{CreateRequest, OutputValue, StoreError, UpdateRequest};
use serde_json::{Map, Value, json};

use super::LocalEngine;
use super::inputs::{
    bind_stored, check_stack_name, check_template_size, parameter_texts, shown_parameters,
    stored_environment,
};
use crate::auth::RequestContext;
use crate::engine_api::{
    CreateArgs, EngineApiError, OutputDetail, StackAction, StackDetail, StackIdentity, UpdateArgs,
};
use crate::store::StackQuery;

/// Heat's description of an output that has none.
pub(super) const NO_DESCRIPTION: &str = "No description given";

fn identity(record: &StackRecord) -> StackIdentity {
    StackIdentity {
        project: record.project.clone(),
        name: record.name.clone(),
        id: record.id.clone(),
    }
}

pub(super) async fn identify(
    engine: &LocalEngine,
    ctx: &RequestContext,
    name_or_id: &str,
) -> Result<StackIdentity, EngineApiError> {
    if let Some(record) = engine
        .store
        .stack_by_name(&ctx.project_id, name_or_id)
        .await?
    {
        return Ok(identity(&record));
    }
    match engine.store.stack(name_or_id).await? {
        Some(record) if record.project == ctx.project_id && !record.deleted => {
            Ok(identity(&record))
        }
        _ => Err(EngineApiError::stack_not_found(name_or_id)),
    }
}

fn scoped(ctx: &RequestContext, query: &StackQuery) -> StackQuery {
    StackQuery {
        project: Some(ctx.project_id.clone()),
        ..query.clone()
    }
}

fn listing_error(error: StoreError, query: &StackQuery) -> EngineApiError {
    match (error, &query.marker) {
        (StoreError::Missing(_), Some(marker)) => EngineApiError::bad_request(
            "HTTPBadRequest",
            format!("The marker ({marker}) is not a stack of this listing."),
        ),
        (other, _) => other.into(),
    }
}

pub(super) async fn list(
    engine: &LocalEngine,
    ctx: &RequestContext,
    query: &StackQuery,
) -> Result<Vec<StackRecord>, EngineApiError> {
    let query = scoped(ctx, query);
    engine
        .store
        .list_stacks(&query)
        .await
        .map_err(|e| listing_error(e, &query))
}

pub(super) async fn count(
    engine: &LocalEngine,
    ctx: &RequestContext,
    query: &StackQuery,
) -> Result<u64, EngineApiError> {
    let query = scoped(ctx, query);
    engine
        .store
        .count_stacks(&query)
        .await
        .map_err(|e| listing_error(e, &query))
}

fn output_detail(value: OutputValue) -> OutputDetail {
    OutputDetail {
        key: value.name,
        description: value
            .description
            .unwrap_or_else(|| NO_DESCRIPTION.to_string()),
        value: value.value,
        error: value.error,
    }
}

pub(super) async fn show(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resolve_outputs: bool,
) -> Result<StackDetail, EngineApiError> {
    let record = engine.stack_of(ctx, stack, true).await?;
    let checked = bind_stored(&record, &engine.engine.config().limits);
    let parameters = shown_parameters(&record.name, &record.id, &record.project, checked.as_ref());
    let outputs = if record.deleted || !resolve_outputs {
        None
    } else {
        match engine.engine.outputs(&record.id).await {
            Ok(values) => Some(values.into_iter().map(output_detail).collect()),
            Err(error) => {
                tracing::warn!(stack = %record.name, %error, "cannot evaluate the outputs");
                None
            }
        }
    };
    Ok(StackDetail {
        record,
        parameters,
        outputs,
    })
}

/// Refuses a create when the project has as many stacks as it may have.
async fn check_quota(engine: &LocalEngine, ctx: &RequestContext) -> Result<(), EngineApiError> {
    let Some(max) = engine.options.max_stacks_per_tenant else {
        return Ok(());
    };
    let query = StackQuery {
        project: Some(ctx.project_id.clone()),
        show_nested: true,
        ..StackQuery::default()
    };
    let count = engine.store.count_stacks(&query).await?;
    if count >= max as u64 {
        return Err(EngineApiError::bad_request(
            "RequestLimitExceeded",
            format!(
                "Request limit exceeded: You have reached the maximum stacks per tenant, \
                 {max}. Please delete some stacks."
            ),
        ));
    }
    Ok(())
}

/// JSON given inline (an adopt data's template or environment) as text.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

pub(super) async fn create(
    engine: &LocalEngine,
    ctx: &RequestContext,
    args: CreateArgs,
) -> Result<StackIdentity, EngineApiError> {
    check_stack_name(&args.name)?;
    let mut input = args.input;
    if let Some(adopt) = &args.adopt_data {
        if !engine.options.enable_stack_adopt {
            return Err(EngineApiError::not_supported(
                "Stack Adopt is not supported.",
            ));
        }
        if input.template.is_none() {
            input.template = adopt.get("template").map(json_text);
        }
        if input.environments.is_empty()
            && let Some(env) = adopt.get("environment").filter(|e| e.is_object())
        {
            input.environments.push(json_text(env));
        }
    }
    let Some(template) = input.template.take() else {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "No template specified",
        ));
    };
    check_template_size(&template, engine.options.max_template_size)?;
    check_quota(engine, ctx).await?;
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
    let parameters = parameter_texts(
        &input.parameters,
        Some(&template),
        &engine.engine.config().limits,
    );
    let request = CreateRequest {
        name: args.name.clone(),
        project: ctx.project_id.clone(),
        user: ctx.user_name.clone(),
        template,
        files: input.files,
        environments: input.environments,
        parameters,
        disable_rollback: args.disable_rollback,
        timeout_mins: args.timeout_mins,
        tags: args.tags,
    };
    let started = match &args.adopt_data {
        Some(adopt) => engine.engine.start_adopt(request, adopt).await,
        None => engine.engine.start_create(request).await,
    };
    let operation = started.map_err(|e| EngineApiError::from_engine(e, &args.name))?;
    let created = StackIdentity {
        project: ctx.project_id.clone(),
        name: operation.stack_name().to_string(),
        id: operation.stack_id().to_string(),
    };
    engine.spawn(operation);
    Ok(created)
}

/// The engine's update request for `args` on `record`.
pub(super) fn update_request(
    engine: &LocalEngine,
    record: &StackRecord,
    args: UpdateArgs,
) -> Result<UpdateRequest, EngineApiError> {
    if let Some(text) = &args.input.template {
        check_template_size(text, engine.options.max_template_size)?;
    } else if !args.existing {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "No template specified",
        ));
    }
    let types_from = args.input.template.as_deref().unwrap_or(&record.template);
    let parameters = parameter_texts(
        &args.input.parameters,
        Some(types_from),
        &engine.engine.config().limits,
    );
    Ok(UpdateRequest {
        template: args.input.template,
        files: args.input.files,
        environments: args.input.environments,
        parameters,
        clear_parameters: args.clear_parameters,
        existing: args.existing,
        disable_rollback: args.disable_rollback,
        timeout_mins: args.timeout_mins,
        tags: args.tags,
    })
}

pub(super) async fn update(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    args: UpdateArgs,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let request = update_request(engine, &record, args)?;
    let operation = engine
        .engine
        .start_update(&record.id, request)
        .await
        .map_err(|e| EngineApiError::from_engine(e, &record.name))?;
    engine.spawn(operation);
    Ok(())
}

pub(super) async fn delete(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    if engine.engine.is_busy(&record.id) {
        // As Heat does, a delete supersedes the operation in progress: it is cancelled
        // (without rollback: the delete removes what it made) and the delete starts once it
        // has stopped.
        let _ = engine.engine.cancel(&record.id, false).await;
        let deadline = tokio::time::Instant::now() + DELETE_WAITS_FOR_CANCEL;
        while engine.engine.is_busy(&record.id) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let operation = engine
        .engine
        .start_delete(&record.id)
        .await
        .map_err(|e| EngineApiError::from_engine(e, &record.name))?;
    engine.spawn(operation);
    Ok(())
}

/// How long a delete waits for the operation it cancels to stop (provider calls in flight
/// finish first) before it answers 409.
const DELETE_WAITS_FOR_CANCEL: std::time::Duration = std::time::Duration::from_secs(30);

fn check_abandon_enabled(engine: &LocalEngine) -> Result<(), EngineApiError> {
    if engine.options.enable_stack_abandon {
        Ok(())
    } else {
        Err(EngineApiError::not_supported(
            "Stack Abandon is not supported.",
        ))
    }
}

pub(super) async fn abandon(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Value, EngineApiError> {
    check_abandon_enabled(engine)?;
    let record = engine.stack_of(ctx, stack, false).await?;
    engine
        .engine
        .abandon_stack(&record.id)
        .await
        .map_err(|e| EngineApiError::from_engine(e, &record.name))
}

/// What abandoning the stack would return (the same document as
/// [`heat_core::engine::Engine::abandon_stack`]), without forgetting anything.
pub(super) async fn export(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Value, EngineApiError> {
    check_abandon_enabled(engine)?;
    let record = engine.stack_of(ctx, stack, false).await?;
    if record.state.in_progress() || engine.engine.is_busy(&record.id) {
        return Err(EngineApiError::Conflict {
            kind: "ActionInProgress",
            message: format!(
                "Stack {} is {}: wait for the action to finish before exporting it",
                record.name, record.state
            ),
        });
    }
    let records = engine.store.resources(&record.id).await?;
    let replaced = replaced_ids(records.iter().map(|r| &**r));
    let mut resources = Map::new();
    for r in records.iter().filter(|r| !replaced.contains(&r.id)) {
        let data: Map<String, Value> = r
            .data
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        resources.insert(
            r.name.clone(),
            json!({
                "name": r.name,
                "resource_id": r.physical_id,
                "type": r.resource_type,
                "action": r.state.action.as_str(),
                "status": r.state.status.as_str(),
                "resource_data": data,
                "metadata": {},
            }),
        );
    }
    let template = heat_core::template::load(&record.template, &engine.engine.config().limits)
        .root
        .map_or(Value::Null, |n| n.to_json());
    Ok(json!({
        "name": record.name,
        "id": record.id,
        "action": record.state.action.as_str(),
        "status": record.state.status.as_str(),
        "template": template,
        "environment": {"parameters": record.parameters},
        "files": record.files,
        "resources": resources,
        "tags": record.tags,
    }))
}

pub(super) async fn action(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    action: StackAction,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let e = &engine.engine;
    let map = |err| EngineApiError::from_engine(err, &record.name);
    let operation = match action {
        StackAction::Suspend => e.start_suspend(&record.id).await.map_err(map)?,
        StackAction::Resume => e.start_resume(&record.id).await.map_err(map)?,
        StackAction::Check => e.start_check(&record.id).await.map_err(map)?,
        StackAction::CancelUpdate => return e.cancel(&record.id, true).await.map_err(map),
        StackAction::CancelWithoutRollback => {
            return e.cancel(&record.id, false).await.map_err(map);
        }
    };
    engine.spawn(operation);
    Ok(())
}

pub(super) async fn template(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Value, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    heat_core::template::load(&record.template, &engine.engine.config().limits)
        .root
        .map(|n| n.to_json())
        .ok_or_else(|| {
            EngineApiError::Internal(format!(
                "the stored template of stack {} does not load",
                record.name
            ))
        })
}

pub(super) async fn environment(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Value, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    Ok(stored_environment(&record, &engine.engine.config().limits))
}

pub(super) async fn list_outputs(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Vec<OutputDetail>, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let template =
        heat_core::template::parse(&record.template, &engine.engine.config().limits).template;
    Ok(template
        .map(|t| {
            t.outputs
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
                .collect()
        })
        .unwrap_or_default())
}

pub(super) async fn show_output(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    key: &str,
) -> Result<OutputDetail, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let outputs = engine
        .engine
        .outputs(&record.id)
        .await
        .map_err(|e| EngineApiError::from_engine(e, &record.name))?;
    outputs
        .into_iter()
        .find(|o| o.name == key)
        .map(output_detail)
        .ok_or_else(|| EngineApiError::NotFound {
            kind: "NotFound",
            message: format!("Specified output key {key} not found."),
        })
}
