//! Stack snapshots (`/stacks/{name}/{id}/snapshots...`), resource metadata and marking a
//! resource unhealthy (`PATCH /stacks/{name}/{id}/resources/{resource}`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::read_json;
use super::fault::Fault;
use super::stacks::{identity, json_response as json};
use super::{ApiState, Caller};
use crate::clock::iso8601;
use crate::engine_api::SnapshotView;

/// Heat's snapshot body: `id`, `name`, `status`, `status_reason`, `data` (what the stack
/// was: its definition and each resource's physical id and snapshot data; `null` until the
/// snapshot is done) and `creation_time`.
pub(super) fn snapshot_json(view: &SnapshotView) -> Value {
    let s = &view.record;
    let done = s.status != heat_core::engine::state::Status::InProgress;
    let data = if done {
        let resources: Map<String, Value> = s
            .resources
            .iter()
            .map(|(name, r)| {
                let data: Map<String, Value> = r
                    .data
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                (
                    name.clone(),
                    json!({
                        "name": name,
                        "type": r.resource_type,
                        "resource_id": r.physical_id,
                        "action": "SNAPSHOT",
                        "status": "COMPLETE",
                        "resource_data": data,
                        "properties": Value::Object(r.properties.clone()),
                        "metadata": {},
                    }),
                )
            })
            .collect();
        let template = heat_core::template::load(
            &s.definition.template,
            &heat_core::template::load::Limits::default(),
        )
        .root
        .map_or(Value::Null, |n| n.to_json());
        json!({
            "id": view.stack.id,
            "name": view.stack.name,
            "project_id": view.stack.project,
            "action": "SNAPSHOT",
            "status": s.status.as_str(),
            "template": template,
            "environment": {"parameters": s.definition.parameters},
            "files": s.definition.files,
            "resources": resources,
        })
    } else {
        Value::Null
    };
    json!({
        "id": s.id,
        "name": s.name,
        "status": s.status.as_str(),
        "status_reason": s.status_reason,
        "data": data,
        "creation_time": iso8601(s.created_at),
    })
}

/// `POST /stacks/{name}/{id}/snapshots` `{"name": ...}`: the snapshot as it starts (200).
pub(super) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    let body = read_json(body, state.settings.max_json_body_size).await?;
    let snapshot_name = match &body {
        Value::Null => None,
        Value::Object(map) => match map.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(Fault::bad_request(format!(
                    "The snapshot name must be a string, not {other}"
                )));
            }
        },
        _ => {
            return Err(Fault::bad_request(
                "The request body must be a JSON object such as {\"name\": \"before-upgrade\"}",
            ));
        }
    };
    let stack = identity(&caller, name, id);
    let view = state
        .engine
        .snapshot_stack(&caller, &stack, snapshot_name)
        .await?;
    Ok(json(StatusCode::OK, snapshot_json(&view)))
}

/// `GET /stacks/{name}/{id}/snapshots`.
pub(super) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let views = state.engine.list_snapshots(&caller, &stack).await?;
    let all: Vec<Value> = views.iter().map(snapshot_json).collect();
    Ok(json(StatusCode::OK, json!({ "snapshots": all })))
}

/// `GET /stacks/{name}/{id}/snapshots/{snapshot_id}`.
pub(super) async fn show(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, snapshot)): Path<(String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let view = state
        .engine
        .show_snapshot(&caller, &stack, &snapshot)
        .await?;
    Ok(json(
        StatusCode::OK,
        json!({ "snapshot": snapshot_json(&view) }),
    ))
}

/// `DELETE /stacks/{name}/{id}/snapshots/{snapshot_id}`: 204.
pub(super) async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, snapshot)): Path<(String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    state
        .engine
        .delete_snapshot(&caller, &stack, &snapshot)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /stacks/{name}/{id}/snapshots/{snapshot_id}/restore`: 202, the restore goes on.
pub(super) async fn restore(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, snapshot)): Path<(String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    state
        .engine
        .restore_snapshot(&caller, &stack, &snapshot)
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /stacks/{name}/{id}/resources/{resource}/metadata`: `{"metadata": {...}}`.
pub(super) async fn metadata(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, resource)): Path<(String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let metadata = state
        .engine
        .resource_metadata(&caller, &stack, &resource)
        .await?;
    Ok(json(StatusCode::OK, json!({ "metadata": metadata })))
}

/// The body of a mark-unhealthy request: `mark_unhealthy` (a boolean, required) and
/// `resource_status_reason` (a string, optional); nothing else.
fn mark_request(body: &Value) -> Result<(bool, String), Fault> {
    let Value::Object(map) = body else {
        return Err(Fault::bad_request(
            "The request body must be a JSON object such as {\"mark_unhealthy\": true, \
             \"resource_status_reason\": \"...\"}",
        ));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !["mark_unhealthy", "resource_status_reason"].contains(&k.as_str()))
    {
        return Err(Fault::bad_request(format!(
            "Invalid key {key} for a resource update: only mark_unhealthy and \
             resource_status_reason are accepted"
        )));
    }
    let unhealthy = match map.get("mark_unhealthy") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(Fault::bad_request(format!(
                "Unrecognized value \"{other}\" for \"mark_unhealthy\", acceptable values \
                 are: true, false."
            )));
        }
        None => {
            return Err(Fault::bad_request(
                "Missing mandatory (mark_unhealthy) key from mark unhealthy request",
            ));
        }
    };
    let reason = match map.get("resource_status_reason") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(Fault::bad_request(format!(
                "resource_status_reason must be a string, not {other}"
            )));
        }
    };
    Ok((unhealthy, reason))
}

/// `PATCH /stacks/{name}/{id}/resources/{resource}`: mark it unhealthy or healthy (200,
/// `null`).
pub(super) async fn mark_unhealthy(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, resource)): Path<(String, String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    let body = read_json(body, state.settings.max_json_body_size).await?;
    let (unhealthy, reason) = mark_request(&body)?;
    let stack = identity(&caller, name, id);
    state
        .engine
        .mark_unhealthy(&caller, &stack, &resource, unhealthy, &reason)
        .await?;
    Ok(json(StatusCode::OK, Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_requests_are_checked() {
        assert_eq!(
            mark_request(&json!({"mark_unhealthy": true, "resource_status_reason": "x"})).unwrap(),
            (true, "x".to_string())
        );
        assert_eq!(
            mark_request(&json!({"mark_unhealthy": "False"})).unwrap(),
            (false, String::new())
        );
        for bad in [
            json!({}),
            json!({"mark_unhealthy": 1}),
            json!({"mark_unhealthy": true, "other": 1}),
            json!({"mark_unhealthy": true, "resource_status_reason": 3}),
            json!([1]),
        ] {
            assert!(mark_request(&bad).is_err(), "{bad}");
        }
    }
}
