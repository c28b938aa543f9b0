//! How the native API shows stacks, resources, events, previews, software configs and
//! deployments and services: Heat's field names, in Heat's order, with links built from the
//! URL the client used.

use std::time::Duration;

use axum::http::HeaderMap;
use heat_core::engine::state::Action;
use heat_core::engine::store::{EventRecord, StackRecord};
use serde_json::{Map, Value, json};

use super::query::encode_segment;
use crate::clock::{iso8601, iso8601_micros};
use crate::engine_api::{
    EventDetail, OutputDetail, PreviewResource, ResourceDetail, ServiceStatus, StackDetail,
    StackIdentity, StackPreview,
};
use crate::store::{SoftwareConfig, SoftwareDeployment};

/// Where links point: the scheme and host the client used (`X-Forwarded-Proto` and
/// `Host`), e.g. `http://127.0.0.1:8004`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base(pub String);

impl Base {
    /// The base of a request, from its headers (`fallback` when it has no `Host`).
    pub fn of(headers: &HeaderMap, fallback: &str) -> Base {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let scheme = match header("x-forwarded-proto") {
            Some("https") => "https",
            _ => "http",
        };
        match header("host") {
            Some(host) => Base(format!("{scheme}://{host}")),
            None => Base(format!("{scheme}://{fallback}")),
        }
    }

    /// `{base}/v1/{project}/stacks/{name}/{id}`.
    pub fn stack_url(&self, project: &str, name: &str, id: &str) -> String {
        format!(
            "{}/v1/{}/stacks/{}/{}",
            self.0,
            encode_segment(project),
            encode_segment(name),
            encode_segment(id)
        )
    }

    /// The URL of a stack identity.
    pub fn stack(&self, stack: &StackIdentity) -> String {
        self.stack_url(&stack.project, &stack.name, &stack.id)
    }

    /// `.../resources/{name}` of a stack.
    pub fn resource(&self, stack: &StackIdentity, resource: &str) -> String {
        format!(
            "{}/resources/{}",
            self.stack(stack),
            encode_segment(resource)
        )
    }
}

fn link(href: String, rel: &str) -> Value {
    json!({"href": href, "rel": rel})
}

fn time(t: Duration) -> Value {
    json!(iso8601(t))
}

fn identity_of(record: &StackRecord) -> StackIdentity {
    StackIdentity {
        project: record.project.clone(),
        name: record.name.clone(),
        id: record.id.clone(),
    }
}

/// Heat's `updated_time`: none until the stack is changed after its create.
fn updated_time(record: &StackRecord) -> Value {
    if matches!(
        record.state.action,
        Action::Create | Action::Adopt | Action::Init
    ) {
        Value::Null
    } else {
        time(record.updated_at)
    }
}

/// A stack in a listing (`GET /stacks`; the project only for admins, as in Heat).
pub fn stack_summary(base: &Base, record: &StackRecord, include_project: bool) -> Value {
    let mut out = Map::new();
    out.insert("id".to_string(), json!(record.id));
    out.insert(
        "links".to_string(),
        json!([link(base.stack(&identity_of(record)), "self")]),
    );
    if include_project {
        out.insert("project".to_string(), json!(record.project));
    }
    out.insert("stack_name".to_string(), json!(record.name));
    out.insert("description".to_string(), json!(record.description));
    out.insert("stack_status".to_string(), json!(record.state.to_string()));
    out.insert(
        "stack_status_reason".to_string(),
        json!(record.status_reason),
    );
    out.insert("creation_time".to_string(), time(record.created_at));
    out.insert("updated_time".to_string(), updated_time(record));
    out.insert(
        "deletion_time".to_string(),
        record.deleted_at.map_or(Value::Null, time),
    );
    out.insert("stack_owner".to_string(), json!(record.user));
    out.insert("parent".to_string(), json!(record.parent));
    out.insert("stack_user_project_id".to_string(), json!(record.project));
    out.insert("tags".to_string(), json!(record.tags));
    Value::Object(out)
}

fn parameters_json(parameters: &[(String, String)]) -> Value {
    Value::Object(
        parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect(),
    )
}

fn output_json(o: &OutputDetail, with_value: bool) -> Value {
    let mut out = Map::new();
    out.insert("output_key".to_string(), json!(o.key));
    out.insert("description".to_string(), json!(o.description));
    if let Some(error) = &o.error {
        out.insert("output_error".to_string(), json!(error));
    }
    if with_value {
        out.insert(
            "output_value".to_string(),
            o.value.clone().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

/// One output (`GET .../outputs/{key}`; `with_value` false for the outputs list).
pub fn output(o: &OutputDetail, with_value: bool) -> Value {
    output_json(o, with_value)
}

/// A stack as `GET /stacks/{name}/{id}` shows it.
pub fn stack_detail(base: &Base, detail: &StackDetail) -> Value {
    let record = &detail.record;
    let mut out = Map::new();
    out.insert("stack_name".to_string(), json!(record.name));
    out.insert("id".to_string(), json!(record.id));
    out.insert(
        "links".to_string(),
        json!([link(base.stack(&identity_of(record)), "self")]),
    );
    out.insert("creation_time".to_string(), time(record.created_at));
    out.insert("updated_time".to_string(), updated_time(record));
    out.insert(
        "deletion_time".to_string(),
        record.deleted_at.map_or(Value::Null, time),
    );
    out.insert("notification_topics".to_string(), json!([]));
    out.insert(
        "parameters".to_string(),
        parameters_json(&detail.parameters),
    );
    out.insert("description".to_string(), json!(record.description));
    out.insert(
        "template_description".to_string(),
        json!(record.description),
    );
    out.insert("capabilities".to_string(), json!([]));
    out.insert(
        "disable_rollback".to_string(),
        json!(record.disable_rollback),
    );
    out.insert("timeout_mins".to_string(), json!(record.timeout_mins));
    out.insert("stack_owner".to_string(), json!(record.user));
    out.insert("parent".to_string(), json!(record.parent));
    out.insert("stack_user_project_id".to_string(), json!(record.project));
    out.insert("tags".to_string(), json!(record.tags));
    out.insert("stack_status".to_string(), json!(record.state.to_string()));
    out.insert(
        "stack_status_reason".to_string(),
        json!(record.status_reason),
    );
    if let Some(outputs) = &detail.outputs {
        let list: Vec<Value> = outputs.iter().map(|o| output_json(o, true)).collect();
        out.insert("outputs".to_string(), Value::Array(list));
    }
    Value::Object(out)
}

/// A resource (`with_detail` adds its description and attributes).
pub fn resource(base: &Base, stack: &StackIdentity, r: &ResourceDetail, detail: bool) -> Value {
    let rec = &r.record;
    let mut out = Map::new();
    out.insert("updated_time".to_string(), time(rec.updated_at));
    out.insert("creation_time".to_string(), time(r.creation_time));
    out.insert("logical_resource_id".to_string(), json!(rec.name));
    out.insert("resource_name".to_string(), json!(rec.name));
    out.insert(
        "physical_resource_id".to_string(),
        json!(rec.physical_id.clone().unwrap_or_default()),
    );
    out.insert("resource_status".to_string(), json!(rec.state.to_string()));
    out.insert(
        "resource_status_reason".to_string(),
        json!(rec.status_reason),
    );
    out.insert("resource_type".to_string(), json!(rec.resource_type));
    out.insert(
        "links".to_string(),
        json!([
            link(base.resource(stack, &rec.name), "self"),
            link(base.stack(stack), "stack")
        ]),
    );
    out.insert("required_by".to_string(), json!(r.required_by));
    if detail {
        out.insert("description".to_string(), json!(r.description));
        out.insert(
            "attributes".to_string(),
            Value::Object(r.attributes.clone().unwrap_or_default()),
        );
    }
    Value::Object(out)
}

/// An event (the summary of a listing, or with `detail` its type and the resource's
/// properties).
pub fn event(
    base: &Base,
    stack: &StackIdentity,
    e: &EventRecord,
    detail: Option<&EventDetail>,
) -> Value {
    let id = e.id.to_string();
    let resource_url = base.resource(stack, &e.resource_name);
    let mut out = Map::new();
    out.insert("id".to_string(), json!(id));
    out.insert(
        "links".to_string(),
        json!([
            link(format!("{resource_url}/events/{id}"), "self"),
            link(resource_url, "resource"),
            link(base.stack(stack), "stack")
        ]),
    );
    out.insert("event_time".to_string(), time(e.at));
    out.insert("logical_resource_id".to_string(), json!(e.resource_name));
    out.insert("resource_name".to_string(), json!(e.resource_name));
    out.insert(
        "physical_resource_id".to_string(),
        json!(e.physical_id.clone().unwrap_or_default()),
    );
    out.insert("resource_status".to_string(), json!(e.state.to_string()));
    out.insert("resource_status_reason".to_string(), json!(e.reason));
    if let Some(d) = detail {
        out.insert("resource_type".to_string(), json!(e.resource_type));
        out.insert(
            "resource_properties".to_string(),
            Value::Object(d.properties.clone()),
        );
    }
    Value::Object(out)
}

fn identity_json(stack: &StackIdentity, path: &str) -> Value {
    json!({
        "tenant": stack.project,
        "stack_name": stack.name,
        "stack_id": stack.id,
        "path": path,
    })
}

/// A resource of a preview, in Heat's `format_stack_resource` shape.
pub fn preview_resource(stack: &StackIdentity, r: &PreviewResource) -> Value {
    let mut out = Map::new();
    let (updated, created, physical, action, status, reason) = match &r.record {
        Some(rec) => (
            time(rec.updated_at),
            r.creation_time.map_or(Value::Null, time),
            json!(rec.physical_id.clone().unwrap_or_default()),
            json!(rec.state.action.as_str()),
            json!(rec.state.status.as_str()),
            json!(rec.status_reason),
        ),
        None => (
            Value::Null,
            Value::Null,
            json!(""),
            json!("INIT"),
            json!("COMPLETE"),
            json!(""),
        ),
    };
    out.insert("updated_time".to_string(), updated);
    out.insert("creation_time".to_string(), created);
    out.insert("resource_name".to_string(), json!(r.name));
    out.insert("physical_resource_id".to_string(), physical);
    out.insert("resource_action".to_string(), action);
    out.insert("resource_status".to_string(), status);
    out.insert("resource_status_reason".to_string(), reason);
    out.insert("resource_type".to_string(), json!(r.resource_type));
    out.insert(
        "resource_identity".to_string(),
        identity_json(stack, &format!("/resources/{}", r.name)),
    );
    out.insert("stack_identity".to_string(), identity_json(stack, ""));
    out.insert("stack_name".to_string(), json!(stack.name));
    out.insert("required_by".to_string(), json!(r.required_by));
    out.insert("description".to_string(), json!(r.description));
    out.insert("metadata".to_string(), r.metadata.clone());
    out.insert(
        "attributes".to_string(),
        Value::Object(r.attributes.clone()),
    );
    if let Some(p) = &r.properties {
        out.insert("properties".to_string(), Value::Object(p.clone()));
    }
    Value::Object(out)
}

/// A create preview (`POST /stacks/preview`): the stack has no id yet (Heat shows `None`).
pub fn stack_preview(base: &Base, p: &StackPreview) -> Value {
    let stack = StackIdentity {
        project: p.project.clone(),
        name: p.name.clone(),
        id: "None".to_string(),
    };
    let mut out = Map::new();
    out.insert("stack_name".to_string(), json!(p.name));
    out.insert("id".to_string(), json!("None"));
    out.insert(
        "links".to_string(),
        json!([link(base.stack(&stack), "self")]),
    );
    out.insert("creation_time".to_string(), time(p.created_at));
    out.insert("updated_time".to_string(), Value::Null);
    out.insert("deletion_time".to_string(), Value::Null);
    out.insert("notification_topics".to_string(), json!([]));
    out.insert("parameters".to_string(), parameters_json(&p.parameters));
    out.insert("description".to_string(), json!(p.description));
    out.insert("template_description".to_string(), json!(p.description));
    out.insert("capabilities".to_string(), json!([]));
    out.insert("disable_rollback".to_string(), json!(p.disable_rollback));
    out.insert("timeout_mins".to_string(), json!(p.timeout_mins));
    out.insert("stack_owner".to_string(), json!(p.user));
    out.insert("parent".to_string(), Value::Null);
    out.insert("stack_user_project_id".to_string(), Value::Null);
    out.insert("tags".to_string(), json!(p.tags));
    let outputs: Vec<Value> = p.outputs.iter().map(|o| output_json(o, true)).collect();
    out.insert("outputs".to_string(), Value::Array(outputs));
    let resources: Vec<Value> = p
        .resources
        .iter()
        .map(|r| preview_resource(&stack, r))
        .collect();
    out.insert("resources".to_string(), Value::Array(resources));
    Value::Object(out)
}

/// A software config (`detail`: with its config, inputs, outputs and options).
pub fn software_config(c: &SoftwareConfig, detail: bool) -> Value {
    let mut out = Map::new();
    out.insert("id".to_string(), json!(c.id));
    out.insert("name".to_string(), json!(c.name));
    out.insert("group".to_string(), json!(c.group));
    out.insert("creation_time".to_string(), time(c.created_at));
    if detail {
        out.insert("config".to_string(), json!(c.config));
        out.insert("inputs".to_string(), c.inputs.clone());
        out.insert("outputs".to_string(), c.outputs.clone());
        out.insert("options".to_string(), c.options.clone());
    }
    Value::Object(out)
}

/// A software deployment.
pub fn software_deployment(d: &SoftwareDeployment) -> Value {
    let mut out = Map::new();
    out.insert("id".to_string(), json!(d.id));
    out.insert("config_id".to_string(), json!(d.config_id));
    out.insert("server_id".to_string(), json!(d.server_id));
    out.insert("input_values".to_string(), d.input_values.clone());
    out.insert("output_values".to_string(), d.output_values.clone());
    out.insert("action".to_string(), json!(d.action));
    out.insert("status".to_string(), json!(d.status));
    out.insert("status_reason".to_string(), json!(d.status_reason));
    out.insert("creation_time".to_string(), time(d.created_at));
    out.insert(
        "updated_time".to_string(),
        d.updated_at.map_or(Value::Null, time),
    );
    Value::Object(out)
}

/// An engine service as `GET /services` shows it.
pub fn service(s: &ServiceStatus) -> Value {
    let r = &s.record;
    json!({
        "id": r.id,
        "binary": r.binary,
        "engine_id": r.id,
        "host": r.host,
        "hostname": r.host,
        "topic": r.topic,
        "report_interval": r.report_interval,
        "created_at": iso8601_micros(r.created_at),
        "updated_at": iso8601_micros(r.updated_at),
        "deleted_at": null,
        "status": if s.up { "up" } else { "down" },
    })
}
