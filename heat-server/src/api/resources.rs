//! Resource and event routes: resource list (filters, `with_detail`), show (`with_attr`),
//! signal; event lists of a stack or one resource (paging, sorting, filters) and one event.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::body::read_json;
use super::fault::Fault;
use super::query::Query;
use super::stacks::{identity as stack, null_ok};
use super::views::{self, Base};
use super::{ApiState, Caller};
use crate::auth::RequestContext;
use crate::engine_api::{EventQuery, ResourceQuery, StackIdentity};

/// The field filters of a resource listing.
const RESOURCE_FILTERS: &[&str] = &[
    "type",
    "status",
    "name",
    "action",
    "id",
    "physical_resource_id",
];

/// The field filters of an event listing.
const EVENT_FILTERS: &[&str] = &[
    "resource_status",
    "resource_action",
    "resource_name",
    "resource_type",
];

fn base(state: &ApiState, headers: &HeaderMap) -> Base {
    Base::of(headers, &state.settings.fallback_host)
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A resource listing's query: unknown parameters are refused, as Heat does.
pub(super) fn resource_query(q: &Query) -> Result<ResourceQuery, Fault> {
    let unknown: Vec<String> = q
        .keys()
        .filter(|k| !RESOURCE_FILTERS.contains(k) && !["with_detail", "nested_depth"].contains(k))
        .map(|k| format!("'{k}'"))
        .collect();
    if !unknown.is_empty() {
        return Err(Fault::bad_request(format!(
            "Invalid filter parameters [{}]",
            unknown.join(", ")
        )));
    }
    // Nested stacks are not run yet: any depth lists the same resources.
    q.int("nested_depth")?;
    Ok(ResourceQuery {
        filters: RESOURCE_FILTERS
            .iter()
            .filter_map(|f| {
                let values = q.all(f);
                (!values.is_empty()).then(|| (f.to_string(), values))
            })
            .collect(),
        with_detail: q.bool("with_detail")?.unwrap_or(false),
    })
}

/// `GET /stacks/{name}/{id}/resources`.
pub(super) async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let query = resource_query(&Query::parse(raw.as_deref()))?;
    let stack = stack(&caller, name, id);
    let resources = state.engine.list_resources(&caller, &stack, &query).await?;
    let b = base(&state, &headers);
    let list: Vec<Value> = resources
        .iter()
        .map(|r| views::resource(&b, &stack, r, query.with_detail))
        .collect();
    Ok(ok(json!({"resources": list})))
}

/// `GET /stacks/{name}/{id}/resources/{resource}`.
pub(super) async fn show(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id, resource)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let with_attr = Query::parse(raw.as_deref()).all("with_attr");
    let stack = stack(&caller, name, id);
    let detail = state
        .engine
        .show_resource(&caller, &stack, &resource, &with_attr)
        .await?;
    let b = base(&state, &headers);
    Ok(ok(
        json!({"resource": views::resource(&b, &stack, &detail, true)}),
    ))
}

/// `POST /stacks/{name}/{id}/resources/{resource}/signal`: any JSON (or none).
pub(super) async fn signal(
    State(state): State<ApiState>,
    caller: Caller,
    Path((_tenant, name, id, resource)): Path<(String, String, String, String)>,
    body: Body,
) -> Result<Response, Fault> {
    let details = read_json(body, state.settings.max_json_body_size).await?;
    let stack = stack(&caller, name, id);
    state
        .engine
        .signal_resource(&caller, &stack, &resource, details)
        .await?;
    Ok(null_ok())
}

/// An event listing's query.
pub(super) fn event_query(q: &Query, resource: Option<String>) -> Result<EventQuery, Fault> {
    q.int("nested_depth")?;
    Ok(EventQuery {
        resource,
        filters: EVENT_FILTERS
            .iter()
            .filter_map(|f| {
                let values = q.all(f);
                (!values.is_empty()).then(|| (f.to_string(), values))
            })
            .collect(),
        sort_keys: q.list("sort_keys"),
        descending: q.descending()?,
        marker: q.first("marker").map(str::to_string),
        limit: q.int("limit")?,
    })
}

async fn events(
    state: ApiState,
    ctx: &RequestContext,
    headers: &HeaderMap,
    stack: StackIdentity,
    resource: Option<String>,
    raw: Option<&str>,
) -> Result<Response, Fault> {
    let query = event_query(&Query::parse(raw), resource)?;
    let events = state.engine.list_events(ctx, &stack, &query).await?;
    let b = base(&state, headers);
    let list: Vec<Value> = events
        .iter()
        .map(|e| views::event(&b, &stack, e, None))
        .collect();
    Ok(ok(json!({"events": list})))
}

/// `GET /stacks/{name}/{id}/events`.
pub(super) async fn stack_events(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let stack = stack(&caller, name, id);
    events(state, &caller, &headers, stack, None, raw.as_deref()).await
}

/// `GET /stacks/{name}/{id}/resources/{resource}/events`.
pub(super) async fn resource_events(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id, resource)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Fault> {
    let stack = stack(&caller, name, id);
    events(
        state,
        &caller,
        &headers,
        stack,
        Some(resource),
        raw.as_deref(),
    )
    .await
}

/// `GET /stacks/{name}/{id}/resources/{resource}/events/{event}`.
pub(super) async fn event(
    State(state): State<ApiState>,
    caller: Caller,
    headers: HeaderMap,
    Path((_tenant, name, id, resource, event_id)): Path<(String, String, String, String, String)>,
) -> Result<Response, Fault> {
    let stack = stack(&caller, name, id);
    let detail = state
        .engine
        .show_event(&caller, &stack, &resource, &event_id)
        .await?;
    let b = base(&state, &headers);
    Ok(ok(
        json!({"event": views::event(&b, &stack, &detail.event, Some(&detail))}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_queries_refuse_unknown_parameters() {
        let q = resource_query(&Query::parse(Some(
            "with_detail=true&type=OS::Heat::None&status=COMPLETE&nested_depth=2",
        )))
        .unwrap();
        assert!(q.with_detail);
        assert_eq!(q.filters.len(), 2);
        let err = resource_query(&Query::parse(Some("colour=red&size=1"))).unwrap_err();
        assert_eq!(err.message, "Invalid filter parameters ['colour', 'size']");
        assert!(resource_query(&Query::parse(Some("nested_depth=x"))).is_err());
    }

    #[test]
    fn event_queries_page_and_sort() {
        let q = event_query(
            &Query::parse(Some("limit=2&sort_dir=asc&marker=7&resource_action=CREATE")),
            Some("tr".into()),
        )
        .unwrap();
        assert_eq!(q.limit, Some(2));
        assert!(!q.descending);
        assert_eq!(q.marker.as_deref(), Some("7"));
        assert_eq!(q.resource.as_deref(), Some("tr"));
        assert_eq!(q.filters.len(), 1);
        assert!(event_query(&Query::parse(None), None).unwrap().descending);
    }
}
