//! Software config and deployment routes: stored and served per project, with the
//! per-server metadata in-guest agents read.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{object, read_json, string_field};
use super::fault::Fault;
use super::query::Query;
use super::views;
use super::{ApiState, Caller};
use crate::engine_api::{DeploymentArgs, SoftwareConfigArgs};

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /software_configs` (`limit`, `marker`).
pub(super) async fn list_configs(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let configs = state
        .engine
        .list_software_configs(&caller, q.first("marker"), q.int("limit")?)
        .await?;
    let list: Vec<Value> = configs
        .iter()
        .map(|c| views::software_config(c, false))
        .collect();
    Ok(ok(json!({"software_configs": list})))
}

fn config_args(body: &Map<String, Value>) -> Result<SoftwareConfigArgs, Fault> {
    let config = match body.get("config") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    };
    Ok(SoftwareConfigArgs {
        name: string_field(body, "name")?.unwrap_or_default(),
        group: string_field(body, "group")?,
        config,
        inputs: body.get("inputs").cloned().unwrap_or(Value::Null),
        outputs: body.get("outputs").cloned().unwrap_or(Value::Null),
        options: body.get("options").cloned().unwrap_or(Value::Null),
    })
}

/// `POST /software_configs`.
pub(super) async fn create_config(
    State(state): State<ApiState>,
    caller: Caller,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let config = state
        .engine
        .create_software_config(&caller, config_args(&body)?)
        .await?;
    Ok(ok(
        json!({"software_config": views::software_config(&config, true)}),
    ))
}

/// `GET /software_configs/{id}`.
pub(super) async fn show_config(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, id)): Path<(String, String)>,
) -> Result<Response, Fault> {
    let config = state.engine.show_software_config(&caller, &id).await?;
    Ok(ok(
        json!({"software_config": views::software_config(&config, true)}),
    ))
}

/// `DELETE /software_configs/{id}`: 204.
pub(super) async fn delete_config(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, id)): Path<(String, String)>,
) -> Result<Response, Fault> {
    state.engine.delete_software_config(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /software_deployments` (`server_id`).
pub(super) async fn list_deployments(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let deployments = state
        .engine
        .list_software_deployments(&caller, q.first("server_id"))
        .await?;
    let list: Vec<Value> = deployments.iter().map(views::software_deployment).collect();
    Ok(ok(json!({"software_deployments": list})))
}

fn deployment_args(body: &Map<String, Value>) -> Result<DeploymentArgs, Fault> {
    Ok(DeploymentArgs {
        config_id: string_field(body, "config_id")?,
        server_id: string_field(body, "server_id")?,
        input_values: body.get("input_values").cloned().filter(|v| !v.is_null()),
        output_values: body.get("output_values").cloned().filter(|v| !v.is_null()),
        action: string_field(body, "action")?,
        status: string_field(body, "status")?,
        status_reason: string_field(body, "status_reason")?,
        stack_user_project_id: string_field(body, "stack_user_project_id")?,
    })
}

/// `POST /software_deployments`.
pub(super) async fn create_deployment(
    State(state): State<ApiState>,
    caller: Caller,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let deployment = state
        .engine
        .create_software_deployment(&caller, deployment_args(&body)?)
        .await?;
    Ok(ok(
        json!({"software_deployment": views::software_deployment(&deployment)}),
    ))
}

/// `GET /software_deployments/metadata/{server_id}`.
pub(super) async fn metadata(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, server_id)): Path<(String, String)>,
) -> Result<Response, Fault> {
    let configs = state
        .engine
        .deployment_metadata(&caller, &server_id)
        .await?;
    let list: Vec<Value> = configs
        .iter()
        .map(|c| views::software_config(c, true))
        .collect();
    Ok(ok(json!({"metadata": list})))
}

/// `GET /software_deployments/{id}`.
pub(super) async fn show_deployment(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, id)): Path<(String, String)>,
) -> Result<Response, Fault> {
    let deployment = state.engine.show_software_deployment(&caller, &id).await?;
    Ok(ok(
        json!({"software_deployment": views::software_deployment(&deployment)}),
    ))
}

/// `PUT /software_deployments/{id}`.
pub(super) async fn update_deployment(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, id)): Path<(String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let deployment = state
        .engine
        .update_software_deployment(&caller, &id, deployment_args(&body)?)
        .await?;
    Ok(ok(
        json!({"software_deployment": views::software_deployment(&deployment)}),
    ))
}

/// `DELETE /software_deployments/{id}`: 204.
pub(super) async fn delete_deployment(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, id)): Path<(String, String)>,
) -> Result<Response, Fault> {
    state
        .engine
        .delete_software_deployment(&caller, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
