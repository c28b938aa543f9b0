//! Stack routes: listing, create (and adopt) and its preview, lookup by name (302 to the
//! canonical URL), show, update (PUT and PATCH) and its preview, delete, abandon, export,
//! the stored template, environment and files, outputs and actions.

use axum::body::Body;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{
    bool_field, object, read_json, string_list_field, tags_field, template_input, timeout_field,
};
use super::fault::Fault;
use super::query::{Query, decode};
use super::views::{self, Base};
use super::{ApiState, Caller};
use crate::auth::RequestContext;
use crate::engine_api::{CreateArgs, StackAction, StackIdentity, UpdateArgs};
use crate::store::StackQuery;

/// The sub-paths a name-only URL may be looked up with, per method (Heat's).
const LOOKUP_GET: &[&str] = &[
    "resources",
    "events",
    "template",
    "actions",
    "environment",
    "files",
];
const LOOKUP_POST: &[&str] = &["resources", "events", "template", "actions"];

fn base(state: &ApiState, headers: &HeaderMap) -> Base {
    Base::of(headers, &state.settings.fallback_host)
}

pub(super) fn identity(ctx: &RequestContext, name: String, id: String) -> StackIdentity {
    StackIdentity {
        project: ctx.project_id.clone(),
        name,
        id,
    }
}

/// A JSON answer with a status.
pub(super) fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Heat's 302 to a stack's canonical URL.
fn redirect(location: &str) -> Response {
    let body = json!({
        "message": format!(
            "The resource was found at <a href=\"{location}\">{location}</a>;\nyou should be \
             redirected automatically.\n\n"
        ),
        "code": "302 Found",
        "title": "Found",
    });
    let mut response = json_response(StatusCode::FOUND, body);
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Heat's 202 for an update.
fn accepted() -> Response {
    json_response(
        StatusCode::ACCEPTED,
        json!({
            "message": "The request is accepted for processing.<br /><br />\n\n\n",
            "code": "202 Accepted",
            "title": "Accepted",
        }),
    )
}

/// Heat's 200 with a `null` body (actions, signals).
pub(super) fn null_ok() -> Response {
    json_response(StatusCode::OK, Value::Null)
}

fn with_query(url: String, query: Option<&str>) -> String {
    match query {
        Some(q) if !q.is_empty() => format!("{url}?{q}"),
        _ => url,
    }
}

/// The sort keys a stack listing accepts, by every name Heat accepts for them.
fn stack_sort_key(key: &str) -> Option<&'static str> {
    match key {
        "stack_name" | "name" => Some("stack_name"),
        "stack_status" | "status" => Some("stack_status"),
        "creation_time" | "created_at" => Some("creation_time"),
        "updated_time" | "updated_at" => Some("updated_time"),
        _ => None,
    }
}

/// The field filters of a stack listing.
const STACK_FILTERS: &[&str] = &[
    "id", "status", "name", "action", "tenant", "username", "owner_id",
];

/// A stack listing's query, and whether the count is asked for.
pub(super) fn stack_query(q: &Query) -> Result<(StackQuery, bool), Fault> {
    if q.bool("global_tenant")? == Some(true) {
        return Err(Fault::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Access was denied to this resource.",
        ));
    }
    let mut sort_keys = Vec::new();
    for key in q.list("sort_keys") {
        match stack_sort_key(&key) {
            Some(k) => sort_keys.push(k.to_string()),
            None => {
                return Err(Fault::bad_request(format!(
                    "Unsupported sort key '{key}': use stack_name, stack_status, \
                     creation_time or updated_time"
                )));
            }
        }
    }
    // `show_hidden` is accepted: no stack is hidden here (Heat hides stacks tagged with the
    // configured hidden tags).
    q.bool("show_hidden")?;
    let filters = STACK_FILTERS
        .iter()
        .filter_map(|f| {
            let values = q.all(f);
            (!values.is_empty()).then(|| (f.to_string(), values))
        })
        .collect();
    let query = StackQuery {
        project: None,
        show_deleted: q.bool("show_deleted")?.unwrap_or(false),
        show_nested: q.bool("show_nested")?.unwrap_or(false),
        filters,
        tags: q.list("tags"),
        tags_any: q.list("tags_any"),
        not_tags: q.list("not_tags"),
        not_tags_any: q.list("not_tags_any"),
        sort_keys,
        descending: q.descending()?,
        marker: q.first("marker").map(str::to_string),
        limit: q.int("limit")?,
    };
    Ok((query, q.bool("with_count")?.unwrap_or(false)))
}

async fn listing(
    state: &ApiState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    raw: Option<&str>,
    include_project: bool,
) -> Result<Response, Fault> {
    let (query, with_count) = stack_query(&Query::parse(raw))?;
    let stacks = state.engine.list_stacks(ctx, &query).await?;
    let b = base(state, headers);
    let list: Vec<Value> = stacks
        .iter()
        .map(|s| views::stack_summary(&b, s, include_project))
        .collect();
    let mut body = Map::new();
    body.insert("stacks".to_string(), Value::Array(list));
    if with_count {
        let count = state.engine.count_stacks(ctx, &query).await?;
        body.insert("count".to_string(), json!(count));
    }
    Ok(json_response(StatusCode::OK, Value::Object(body)))
}

/// `GET /stacks`.
pub(super) async fn index(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    listing(&state, &caller, &headers, raw.as_deref(), caller.is_admin()).await
}

/// `GET /stacks/detail`.
pub(super) async fn detail(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    listing(&state, &caller, &headers, raw.as_deref(), false).await
}

/// The create arguments of a body (`adopt`: `adopt_stack_data` is allowed).
fn create_args(body: &Map<String, Value>, adopt: bool) -> Result<CreateArgs, Fault> {
    let name = match body.get("stack_name") {
        Some(Value::String(n)) if !n.is_empty() => n.clone(),
        _ => return Err(Fault::bad_request("No stack name specified")),
    };
    let adopt_data = match body.get("adopt_stack_data") {
        None | Some(Value::Null) => None,
        Some(_) if !adopt => {
            return Err(Fault::bad_request(
                "adopt_stack_data is not allowed in a preview",
            ));
        }
        Some(Value::String(text)) => Some(
            serde_json::from_str(text)
                .map_err(|e| Fault::bad_request(format!("Invalid adopt data: {e}")))?,
        ),
        Some(data @ Value::Object(_)) => Some(data.clone()),
        Some(_) => return Err(Fault::bad_request("Invalid adopt data: not a map")),
    };
    let input = template_input(body)?;
    if input.template.is_none() && adopt_data.is_none() {
        return Err(Fault::bad_request("No template specified"));
    }
    Ok(CreateArgs {
        name,
        input,
        timeout_mins: timeout_field(body)?,
        disable_rollback: bool_field(body, "disable_rollback")?,
        tags: tags_field(body)?.unwrap_or_default(),
        adopt_data,
    })
}

/// `POST /stacks`: 201 with the new stack's id, links and `Location`.
pub(super) async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let args = create_args(&body, true)?;
    let created = state.engine.create_stack(&caller, args).await?;
    let url = base(&state, &headers).stack(&created);
    let mut response = json_response(
        StatusCode::CREATED,
        json!({"stack": {"id": created.id, "links": [{"href": url, "rel": "self"}]}}),
    );
    if let Ok(v) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `POST /stacks/preview`.
pub(super) async fn preview(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let args = create_args(&body, false)?;
    let preview = state.engine.preview_stack(&caller, args).await?;
    let b = base(&state, &headers);
    Ok(json_response(
        StatusCode::OK,
        json!({"stack": views::stack_preview(&b, &preview)}),
    ))
}

/// `/stacks/{name}` (any method): 302 to the stack's canonical URL, query kept.
pub(super) async fn lookup(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let found = state.engine.identify_stack(&caller, &name).await?;
    let url = base(&state, &headers).stack(&found);
    Ok(redirect(&with_query(url, raw.as_deref())))
}

async fn lookup_subpath(
    state: &ApiState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    name: &str,
    path: &str,
    raw: Option<&str>,
) -> Result<Response, Fault> {
    let found = state.engine.identify_stack(ctx, name).await?;
    let url = format!("{}/{path}", base(state, headers).stack(&found));
    Ok(redirect(&with_query(url, raw)))
}

/// `GET /stacks/{name}/{id}`: the stack; `GET /stacks/{name}/{resources|events|...}`:
/// 302 to the canonical sub-path.
pub(super) async fn show(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    if LOOKUP_GET.contains(&id.as_str()) {
        return lookup_subpath(&state, &caller, &headers, &name, &id, raw.as_deref()).await;
    }
    let q = Query::parse(raw.as_deref());
    let resolve_outputs = q.bool("resolve_outputs")?.unwrap_or(true);
    let stack = identity(&caller, name, id);
    let detail = state
        .engine
        .show_stack(&caller, &stack, resolve_outputs)
        .await?;
    let b = base(&state, &headers);
    Ok(json_response(
        StatusCode::OK,
        json!({"stack": views::stack_detail(&b, &detail)}),
    ))
}

/// `POST /stacks/{name}/{resources|events|template|actions}`: 302 to the canonical
/// sub-path; POST on a stack itself is not allowed.
pub(super) async fn post_lookup(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, path)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    if LOOKUP_POST.contains(&path.as_str()) {
        return lookup_subpath(&state, &caller, &headers, &name, &path, raw.as_deref()).await;
    }
    Err(Fault::method_not_allowed(Some(
        "GET,HEAD,PUT,PATCH,DELETE".to_string(),
    )))
}

/// The update arguments of a body: PUT replaces (tags too: none given means none), PATCH
/// (`existing`) lays the body over what is stored.
fn update_args(body: &Map<String, Value>, existing: bool) -> Result<UpdateArgs, Fault> {
    let input = template_input(body)?;
    if !existing && input.template.is_none() {
        return Err(Fault::bad_request("No template specified"));
    }
    if bool_field(body, "converge")? == Some(true) {
        return Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "NotSupported",
            "converge (observing the real resources during an update) is not supported",
        ));
    }
    let tags = match tags_field(body)? {
        Some(tags) => Some(tags),
        None if existing => None,
        None => Some(Vec::new()),
    };
    Ok(UpdateArgs {
        input,
        existing,
        clear_parameters: string_list_field(body, "clear_parameters")?,
        timeout_mins: timeout_field(body)?,
        disable_rollback: bool_field(body, "disable_rollback")?,
        tags,
    })
}

async fn do_update(
    state: ApiState,
    ctx: &RequestContext,
    name: String,
    id: String,
    body: Body,
    existing: bool,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let args = update_args(&body, existing)?;
    let stack = identity(ctx, name, id);
    state.engine.update_stack(ctx, &stack, args).await?;
    Ok(accepted())
}

/// `PUT /stacks/{name}/{id}`: 202.
pub(super) async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    do_update(state, &caller, name, id, body, false).await
}

/// `PATCH /stacks/{name}/{id}`: 202.
pub(super) async fn update_patch(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    do_update(state, &caller, name, id, body, true).await
}

async fn do_preview_update(
    state: ApiState,
    ctx: &RequestContext,
    name: String,
    id: String,
    body: Body,
    existing: bool,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let args = update_args(&body, existing)?;
    let stack = identity(ctx, name, id);
    let preview = state.engine.preview_update(ctx, &stack, args).await?;
    let mut changes = Map::new();
    for (key, entries) in &preview.changes {
        let list: Vec<Value> = entries
            .iter()
            .map(|r| views::preview_resource(&preview.stack, r))
            .collect();
        changes.insert((*key).to_string(), Value::Array(list));
    }
    Ok(json_response(
        StatusCode::OK,
        json!({"resource_changes": changes}),
    ))
}

/// `PUT /stacks/{name}/{id}/preview`.
pub(super) async fn preview_update(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    do_preview_update(state, &caller, name, id, body, false).await
}

/// `PATCH /stacks/{name}/{id}/preview`.
pub(super) async fn preview_update_patch(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    do_preview_update(state, &caller, name, id, body, true).await
}

/// `DELETE /stacks/{name}/{id}`: 204 once the delete is recorded.
pub(super) async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    state.engine.delete_stack(&caller, &stack).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /stacks/{name}/{id}/abandon`.
pub(super) async fn abandon(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let data = state.engine.abandon_stack(&caller, &stack).await?;
    Ok(json_response(StatusCode::OK, data))
}

/// `GET /stacks/{name}/{id}/export`.
pub(super) async fn export(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let data = state.engine.export_stack(&caller, &stack).await?;
    Ok(json_response(StatusCode::OK, data))
}

/// `GET /stacks/{name}/{id}/template`.
pub(super) async fn template(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let data = state.engine.stack_template(&caller, &stack).await?;
    Ok(json_response(StatusCode::OK, data))
}

/// `GET /stacks/{name}/{id}/environment`.
pub(super) async fn environment(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let data = state.engine.stack_environment(&caller, &stack).await?;
    Ok(json_response(StatusCode::OK, data))
}

/// `GET /stacks/{name}/{id}/files`.
pub(super) async fn files(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let files = state.engine.stack_files(&caller, &stack).await?;
    Ok(json_response(StatusCode::OK, json!(files)))
}

/// `GET /stacks/{name}/{id}/outputs`: names and descriptions.
pub(super) async fn outputs(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let outputs = state.engine.list_outputs(&caller, &stack).await?;
    let list: Vec<Value> = outputs.iter().map(|o| views::output(o, false)).collect();
    Ok(json_response(StatusCode::OK, json!({"outputs": list})))
}

/// `GET /stacks/{name}/{id}/outputs/{key}`: one output, evaluated.
pub(super) async fn output(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, key)): Path<(String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = identity(&caller, name, id);
    let output = state.engine.show_output(&caller, &stack, &key).await?;
    Ok(json_response(
        StatusCode::OK,
        json!({"output": views::output(&output, true)}),
    ))
}

/// The one action a body asks for.
pub(super) fn action_of(body: &Map<String, Value>) -> Result<StackAction, Fault> {
    let mut keys = body.keys();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err(Fault::bad_request(if body.is_empty() {
            "No action specified"
        } else {
            "Multiple actions specified"
        }));
    };
    match key.as_str() {
        "suspend" => Ok(StackAction::Suspend),
        "resume" => Ok(StackAction::Resume),
        "check" => Ok(StackAction::Check),
        "cancel_update" => Ok(StackAction::CancelUpdate),
        "cancel_without_rollback" => Ok(StackAction::CancelWithoutRollback),
        other => Err(Fault::bad_request(format!("Invalid action {other}"))),
    }
}

/// `POST /stacks/{name}/{id}/actions`: 200 with `null`.
pub(super) async fn action(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    let body = object(read_json(body, state.settings.max_json_body_size).await?)?;
    let action = action_of(&body)?;
    let stack = identity(&caller, name, id);
    state.engine.stack_action(&caller, &stack, action).await?;
    Ok(null_ok())
}

/// A stack ARN (`arn:openstack:heat::{project}:stacks/{name}/{id}`) and what follows it.
fn parse_arn(text: &str) -> Option<(String, String, String, String)> {
    let rest = text.strip_prefix("arn:openstack:heat::")?;
    let (project, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("stacks/")?;
    let mut parts = rest.splitn(3, '/');
    let name = parts.next()?.to_string();
    let id = parts.next()?.to_string();
    let tail = parts.next().map(|t| format!("/{t}")).unwrap_or_default();
    (!name.is_empty() && !id.is_empty()).then(|| (project.to_string(), name, id, tail))
}

/// Everything no route matches: a stack ARN lookup (302 to the canonical URL), else 404.
pub(super) async fn fallback(
    State(state): State<ApiState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, Fault> {
    let path = decode(uri.path());
    let Some((prefix, arn)) = path.split_once("/stacks/arn:") else {
        return Err(Fault::not_found());
    };
    let Some(project) = super::middleware::url_project(&format!("{prefix}/")) else {
        return Err(Fault::not_found());
    };
    let ctx = state.auth.authenticate(&headers, &project).await?;
    let Some((arn_project, name, id, tail)) = parse_arn(&format!("arn:{arn}")) else {
        return Err(Fault::not_found());
    };
    if arn_project != ctx.project_id {
        return Err(Fault::not_found());
    }
    let found = state.engine.identify_stack(&ctx, &id).await?;
    if found.name != name {
        return Err(crate::engine_api::EngineApiError::stack_not_found(&name).into());
    }
    let url = format!("{}{tail}", base(&state, &headers).stack(&found));
    Ok(redirect(&with_query(url, query_of(&uri))))
}

fn query_of(uri: &Uri) -> Option<&str> {
    uri.query()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        object(v).unwrap()
    }

    #[test]
    fn stack_listing_queries_follow_heat() {
        let (q, count) = stack_query(&Query::parse(Some(
            "status=CREATE_COMPLETE&status=FAILED&limit=5&sort_keys=created_at&sort_keys=name\
             &sort_dir=asc&show_nested=false&tags=a,b&not_tags_any=c&with_count=true&bogus=1",
        )))
        .unwrap();
        assert!(count);
        assert_eq!(
            q.filters,
            vec![(
                "status".to_string(),
                vec!["CREATE_COMPLETE".to_string(), "FAILED".to_string()]
            )]
        );
        assert_eq!(q.sort_keys, ["creation_time", "stack_name"]);
        assert!(!q.descending);
        assert_eq!(q.limit, Some(5));
        assert_eq!(q.tags, ["a", "b"]);
        assert_eq!(q.not_tags_any, ["c"]);
        let bad = |s: &str| stack_query(&Query::parse(Some(s))).unwrap_err();
        assert_eq!(bad("sort_keys=colour").status, StatusCode::BAD_REQUEST);
        assert_eq!(bad("limit=-3").status, StatusCode::BAD_REQUEST);
        assert_eq!(bad("show_deleted=perhaps").status, StatusCode::BAD_REQUEST);
        assert_eq!(bad("global_tenant=true").status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn create_bodies_need_a_name_and_a_template() {
        let err = create_args(&body(json!({"template": "x: 1"})), true).unwrap_err();
        assert_eq!(err.message, "No stack name specified");
        let err = create_args(&body(json!({"stack_name": "s"})), true).unwrap_err();
        assert_eq!(err.message, "No template specified");
        let args = create_args(
            &body(json!({
                "stack_name": "s", "template": "heat_template_version: 2018-08-31",
                "tags": "a,b", "timeout_mins": 30, "disable_rollback": false
            })),
            true,
        )
        .unwrap();
        assert_eq!(args.tags, ["a", "b"]);
        assert_eq!(args.timeout_mins, Some(30));
        assert_eq!(args.disable_rollback, Some(false));
        let adopt = create_args(
            &body(json!({"stack_name": "s", "adopt_stack_data": "{\"resources\": {}}"})),
            true,
        )
        .unwrap();
        assert_eq!(adopt.adopt_data, Some(json!({"resources": {}})));
        assert!(
            create_args(
                &body(json!({"stack_name": "s", "adopt_stack_data": "{bad"})),
                true
            )
            .is_err()
        );
        assert!(
            create_args(
                &body(json!({"stack_name": "s", "template": "t", "adopt_stack_data": {}})),
                false
            )
            .is_err()
        );
    }

    #[test]
    fn put_replaces_tags_and_patch_keeps_them() {
        let put = update_args(&body(json!({"template": "t"})), false).unwrap();
        assert_eq!(put.tags, Some(Vec::new()));
        let patch = update_args(&body(json!({})), true).unwrap();
        assert_eq!(patch.tags, None);
        assert!(patch.existing);
        assert_eq!(
            update_args(&body(json!({})), false).unwrap_err().message,
            "No template specified"
        );
        assert!(update_args(&body(json!({"template": "t", "converge": true})), false).is_err());
    }

    #[test]
    fn exactly_one_action() {
        assert_eq!(
            action_of(&body(json!({"suspend": null}))).unwrap(),
            StackAction::Suspend
        );
        assert_eq!(
            action_of(&body(json!({"cancel_without_rollback": null}))).unwrap(),
            StackAction::CancelWithoutRollback
        );
        assert_eq!(
            action_of(&body(json!({}))).unwrap_err().message,
            "No action specified"
        );
        assert_eq!(
            action_of(&body(json!({"suspend": null, "resume": null})))
                .unwrap_err()
                .message,
            "Multiple actions specified"
        );
        assert_eq!(
            action_of(&body(json!({"explode": null})))
                .unwrap_err()
                .message,
            "Invalid action explode"
        );
    }

    #[test]
    fn stack_arns_are_parsed() {
        assert_eq!(
            parse_arn("arn:openstack:heat::admin:stacks/web/1234/resources"),
            Some((
                "admin".to_string(),
                "web".to_string(),
                "1234".to_string(),
                "/resources".to_string()
            ))
        );
        assert_eq!(parse_arn("arn:openstack:heat::admin:stacks/web"), None);
        assert_eq!(parse_arn("arn:aws:cloudformation::x"), None);
    }
}
