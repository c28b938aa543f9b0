//! Software configs and deployments (stored and served per project, as the metadata
//! server for in-guest agents), and the engine services list.

use std::time::Duration;

use heat_core::engine::StoreError;
use serde_json::{Map, Value};

use super::LocalEngine;
use crate::auth::RequestContext;
use crate::engine_api::{DeploymentArgs, EngineApiError, ServiceStatus, SoftwareConfigArgs};
use crate::store::{SoftwareConfig, SoftwareDeployment};

/// The group of a config created without one (Heat's).
const UNGROUPED: &str = "Heat::Ungrouped";

fn config_not_found(id: &str) -> EngineApiError {
    EngineApiError::NotFound {
        kind: "NotFound",
        message: format!("Software config with id {id} not found"),
    }
}

fn deployment_not_found(id: &str) -> EngineApiError {
    EngineApiError::NotFound {
        kind: "NotFound",
        message: format!("Deployment with id {id} not found"),
    }
}

/// A value that must be a JSON list (`null`: empty).
fn list_or_empty(value: Value, what: &str) -> Result<Value, EngineApiError> {
    match value {
        Value::Null => Ok(Value::Array(Vec::new())),
        Value::Array(_) => Ok(value),
        _ => Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            format!("The {what} of a software config must be a list"),
        )),
    }
}

/// A value that must be a JSON map (`null`: empty).
fn map_or_empty(value: Value, what: &str) -> Result<Value, EngineApiError> {
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value),
        _ => Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            format!("The {what} must be a map"),
        )),
    }
}

pub(super) async fn list_configs(
    engine: &LocalEngine,
    ctx: &RequestContext,
    marker: Option<&str>,
    limit: Option<u64>,
) -> Result<Vec<SoftwareConfig>, EngineApiError> {
    engine
        .store
        .software_configs(&ctx.project_id, marker, limit)
        .await
        .map_err(|e| match (e, marker) {
            (StoreError::Missing(_), Some(m)) => config_not_found(m),
            (other, _) => other.into(),
        })
}

pub(super) async fn create_config(
    engine: &LocalEngine,
    ctx: &RequestContext,
    args: SoftwareConfigArgs,
) -> Result<SoftwareConfig, EngineApiError> {
    let config = SoftwareConfig {
        id: engine.new_id(),
        project: ctx.project_id.clone(),
        name: args.name,
        group: args
            .group
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| UNGROUPED.to_string()),
        config: args.config,
        inputs: list_or_empty(args.inputs, "inputs")?,
        outputs: list_or_empty(args.outputs, "outputs")?,
        options: map_or_empty(args.options, "options")?,
        created_at: engine.now(),
    };
    engine.store.put_software_config(&config).await?;
    Ok(config)
}

pub(super) async fn show_config(
    engine: &LocalEngine,
    ctx: &RequestContext,
    id: &str,
) -> Result<SoftwareConfig, EngineApiError> {
    engine
        .store
        .software_config(&ctx.project_id, id)
        .await?
        .ok_or_else(|| config_not_found(id))
}

pub(super) async fn delete_config(
    engine: &LocalEngine,
    ctx: &RequestContext,
    id: &str,
) -> Result<(), EngineApiError> {
    if engine
        .store
        .delete_software_config(&ctx.project_id, id)
        .await?
    {
        Ok(())
    } else {
        Err(config_not_found(id))
    }
}

pub(super) async fn create_deployment(
    engine: &LocalEngine,
    ctx: &RequestContext,
    args: DeploymentArgs,
) -> Result<SoftwareDeployment, EngineApiError> {
    let Some(server_id) = args.server_id.filter(|s| !s.is_empty()) else {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "A software deployment needs a server_id",
        ));
    };
    let Some(config_id) = args.config_id.filter(|s| !s.is_empty()) else {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            "A software deployment needs a config_id",
        ));
    };
    show_config(engine, ctx, &config_id).await?;
    let deployment = SoftwareDeployment {
        id: engine.new_id(),
        project: ctx.project_id.clone(),
        config_id,
        server_id,
        input_values: map_or_empty(args.input_values.unwrap_or(Value::Null), "input_values")?,
        output_values: Value::Object(Map::new()),
        action: args.action.unwrap_or_else(|| "INIT".to_string()),
        status: args.status.unwrap_or_else(|| "COMPLETE".to_string()),
        status_reason: args.status_reason.unwrap_or_default(),
        stack_user_project_id: args.stack_user_project_id,
        created_at: engine.now(),
        updated_at: None,
    };
    engine.store.put_software_deployment(&deployment).await?;
    Ok(deployment)
}

pub(super) async fn show_deployment(
    engine: &LocalEngine,
    ctx: &RequestContext,
    id: &str,
) -> Result<SoftwareDeployment, EngineApiError> {
    engine
        .store
        .software_deployment(&ctx.project_id, id)
        .await?
        .ok_or_else(|| deployment_not_found(id))
}

pub(super) async fn update_deployment(
    engine: &LocalEngine,
    ctx: &RequestContext,
    id: &str,
    args: DeploymentArgs,
) -> Result<SoftwareDeployment, EngineApiError> {
    let mut deployment = show_deployment(engine, ctx, id).await?;
    if let Some(config_id) = args.config_id.filter(|c| !c.is_empty()) {
        show_config(engine, ctx, &config_id).await?;
        deployment.config_id = config_id;
    }
    if let Some(values) = args.input_values {
        deployment.input_values = map_or_empty(values, "input_values")?;
    }
    if let Some(values) = args.output_values {
        deployment.output_values = map_or_empty(values, "output_values")?;
    }
    if let Some(action) = args.action {
        deployment.action = action;
    }
    if let Some(status) = args.status {
        deployment.status = status;
    }
    if let Some(reason) = args.status_reason {
        deployment.status_reason = reason;
    }
    deployment.updated_at = Some(engine.now());
    engine.store.put_software_deployment(&deployment).await?;
    Ok(deployment)
}

pub(super) async fn delete_deployment(
    engine: &LocalEngine,
    ctx: &RequestContext,
    id: &str,
) -> Result<(), EngineApiError> {
    if engine
        .store
        .delete_software_deployment(&ctx.project_id, id)
        .await?
    {
        Ok(())
    } else {
        Err(deployment_not_found(id))
    }
}

/// The configs deployed to a server, sorted by config name (Heat's order, which agents
/// rely on).
pub(super) async fn metadata(
    engine: &LocalEngine,
    ctx: &RequestContext,
    server_id: &str,
) -> Result<Vec<SoftwareConfig>, EngineApiError> {
    let deployments = engine
        .store
        .software_deployments(&ctx.project_id, Some(server_id))
        .await?;
    let mut configs = Vec::new();
    for d in deployments {
        if let Some(c) = engine
            .store
            .software_config(&ctx.project_id, &d.config_id)
            .await?
        {
            configs.push(c);
        }
    }
    configs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(configs)
}

pub(super) async fn services(engine: &LocalEngine) -> Result<Vec<ServiceStatus>, EngineApiError> {
    let now = engine.now();
    Ok(engine
        .store
        .services()
        .await?
        .into_iter()
        .map(|record| {
            let silence = now.saturating_sub(record.updated_at);
            let up = silence <= Duration::from_secs(record.report_interval.saturating_mul(2));
            ServiceStatus { record, up }
        })
        .collect())
}
