//! Template and type routes: validate, resource types (list, schema, generated template),
//! template versions and their functions.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{object, read_json, template_input};
use super::fault::Fault;
use super::query::Query;
use super::{ApiState, Caller};
use crate::engine_api::{TypeFilter, ValidateArgs};

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `POST /validate`: what the template declares, or every error with its position.
pub(super) async fn validate(
    State(state): State<ApiState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let input = template_input(&body)?;
    if input.template.is_none() {
        return Err(Fault::bad_request("No template specified"));
    }
    let args = ValidateArgs {
        input,
        show_nested: q.bool("show_nested")?.unwrap_or(false),
        ignore_errors: q.list("ignore_errors"),
    };
    let v = state.engine.validate_template(&caller, args).await?;
    let mut out = Map::new();
    out.insert("Description".to_string(), json!(v.description));
    out.insert("Parameters".to_string(), Value::Object(v.parameters));
    if let Some(groups) = v.parameter_groups {
        out.insert("ParameterGroups".to_string(), groups);
    }
    out.insert("Environment".to_string(), v.environment);
    Ok(ok(Value::Object(out)))
}

/// `GET /resource_types`.
pub(super) async fn list_types(
    State(state): State<ApiState>,
    _caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let filter = TypeFilter {
        name: q.first("name").map(str::to_string),
        support_status: q.first("support_status").map(str::to_string),
        version: q.first("version").map(str::to_string),
    };
    let with_description = q.bool("with_description")?.unwrap_or(false);
    let types = state.engine.resource_types(&filter).await?;
    let list: Vec<Value> = types
        .into_iter()
        .map(|(name, description)| {
            if with_description {
                json!({"resource_type": name, "description": description})
            } else {
                json!(name)
            }
        })
        .collect();
    Ok(ok(json!({"resource_types": list})))
}

/// `GET /resource_types/{type}`.
pub(super) async fn type_schema(
    State(state): State<ApiState>,
    _caller: Caller,
    Path((_tenant, type_name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let with_description = q.bool("with_description")?.unwrap_or(false);
    let schema = state
        .engine
        .resource_schema(&type_name, with_description)
        .await?;
    Ok(ok(schema))
}

/// `GET /resource_types/{type}/template` (`template_type`: `cfn`, the default, or `hot`).
pub(super) async fn type_template(
    State(state): State<ApiState>,
    _caller: Caller,
    Path((_tenant, type_name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let hot = match q
        .first("template_type")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("cfn") => false,
        Some("hot") => true,
        Some(other) => {
            return Err(Fault::bad_request(format!(
                "Template type is not supported: {other} (use cfn or hot)"
            )));
        }
    };
    let template = state.engine.generate_template(&type_name, hot).await?;
    Ok(ok(template))
}

/// `GET /template_versions`.
pub(super) async fn versions(
    State(state): State<ApiState>,
    _caller: Caller,
) -> Result<Response, Fault> {
    let versions = state.engine.template_versions().await?;
    let list: Vec<Value> = versions
        .iter()
        .map(|v| json!({"version": v.version, "type": v.kind, "aliases": v.aliases}))
        .collect();
    Ok(ok(json!({"template_versions": list})))
}

/// `GET /template_versions/{version}/functions` (`with_condition_func`).
pub(super) async fn functions(
    State(state): State<ApiState>,
    _caller: Caller,
    Path((_tenant, version)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let q = Query::parse(raw.as_deref());
    let with_conditions = q.bool("with_condition_func")?.unwrap_or(false);
    let list = state
        .engine
        .template_functions(&version, with_conditions)
        .await?;
    let list: Vec<Value> = list
        .into_iter()
        .map(|(name, description)| json!({"functions": name, "description": description}))
        .collect();
    Ok(ok(json!({"template_functions": list})))
}
