//! Resources and events of the local engine: current records with their dependents,
//! creation times and attributes; signals; event listings with Heat's filters, sorting and
//! paging.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::EngineError;
use heat_core::engine::provider::ResourceContext;
use heat_core::engine::state::{Action, Status};
use heat_core::engine::store::{
    EventRecord, ResourceRecord, STACK_EVENT_TYPE, StackRecord, current_record, replaced_ids,
};
use serde_json::{Map, Value};

use super::LocalEngine;
use crate::auth::RequestContext;
use crate::engine_api::{
    EngineApiError, EventDetail, EventQuery, ResourceDetail, ResourceQuery, StackIdentity,
};

/// A stack's current records (one per name: the one no other record replaces), newest
/// first, with every record's name by id (replaced ones included).
pub(super) struct Current {
    pub(super) records: Vec<Arc<ResourceRecord>>,
    names_by_id: BTreeMap<u64, String>,
}

impl Current {
    pub(super) fn of(all: &[Arc<ResourceRecord>]) -> Current {
        let replaced = replaced_ids(all.iter().map(|r| &**r));
        let names: BTreeSet<&str> = all.iter().map(|r| r.name.as_str()).collect();
        let mut records: Vec<Arc<ResourceRecord>> = names
            .into_iter()
            .filter_map(|n| current_record(all, &replaced, n).cloned())
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.id));
        let names_by_id = all.iter().map(|r| (r.id, r.name.clone())).collect();
        Current {
            records,
            names_by_id,
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<&Arc<ResourceRecord>> {
        self.records.iter().find(|r| r.name == name)
    }

    /// The names of the current resources that depend on `name` (newest first).
    pub(super) fn required_by(&self, name: &str) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| {
                r.requires
                    .iter()
                    .any(|id| self.names_by_id.get(id).is_some_and(|n| n == name))
            })
            .map(|r| r.name.clone())
            .collect()
    }
}

/// When each resource was (last) created: the time of its latest `CREATE_IN_PROGRESS` or
/// `ADOPT_IN_PROGRESS` event.
pub(super) fn creation_times(events: &[EventRecord]) -> BTreeMap<String, Duration> {
    let mut out = BTreeMap::new();
    for e in events {
        if e.resource_type != STACK_EVENT_TYPE
            && e.state.status == Status::InProgress
            && matches!(e.state.action, Action::Create | Action::Adopt)
        {
            out.insert(e.resource_name.clone(), e.at);
        }
    }
    out
}

/// The template's description of each resource.
fn descriptions(engine: &LocalEngine, stack: &StackRecord) -> BTreeMap<String, String> {
    heat_core::template::parse(&stack.template, &engine.engine.config().limits)
        .template
        .map(|t| {
            t.resources
                .iter()
                .map(|r| {
                    (
                        r.name.value.clone(),
                        r.description.clone().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The names of a resource type's attributes as Heat shows them (without `show`).
pub(super) fn attribute_names(engine: &LocalEngine, resource_type: &str) -> Vec<String> {
    engine
        .engine
        .registry()
        .get(resource_type)
        .map(|p| {
            p.schema()
                .attributes
                .iter()
                .filter(|a| a.name != "show")
                .map(|a| a.name.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A resource's attributes, asked of its provider (null when it has no physical resource
/// yet or the provider cannot tell).
pub(super) async fn attributes(
    engine: &LocalEngine,
    stack: &StackRecord,
    record: &ResourceRecord,
    extra: &[String],
) -> Map<String, Value> {
    let mut names = attribute_names(engine, &record.resource_type);
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let provider = engine.engine.registry().get(&record.resource_type).cloned();
    let mut out = Map::new();
    for name in names {
        let value = match (&provider, &record.physical_id) {
            (Some(provider), Some(physical_id)) => {
                let ctx = ResourceContext {
                    stack_id: &stack.id,
                    stack_name: &stack.name,
                    resource_name: &record.name,
                    resource_type: &record.resource_type,
                    idempotency_token: &record.idempotency_token,
                    data: &record.data,
                    services: &engine.services,
                    peers: &[],
                };
                provider
                    .attribute(&ctx, physical_id, &name)
                    .await
                    .unwrap_or(Value::Null)
            }
            _ => Value::Null,
        };
        out.insert(name, value);
    }
    out
}

fn resource_matches(record: &ResourceRecord, filters: &[(String, Vec<String>)]) -> bool {
    filters.iter().all(|(field, values)| {
        values.iter().any(|v| match field.as_str() {
            "type" => **v == *record.resource_type,
            "status" => v == record.state.status.as_str() || *v == record.state.to_string(),
            "action" => v == record.state.action.as_str(),
            "name" => *v == record.name,
            "id" => *v == record.id.to_string(),
            "physical_resource_id" => record.physical_id.as_deref() == Some(v.as_str()),
            _ => false,
        })
    })
}

pub(super) async fn list(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    query: &ResourceQuery,
) -> Result<Vec<ResourceDetail>, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let all = engine.store.resources(&record.id).await?;
    let current = Current::of(&all);
    let events = engine.store.events(&record.id, None).await?;
    let created = creation_times(&events);
    let descriptions = if query.with_detail {
        descriptions(engine, &record)
    } else {
        BTreeMap::new()
    };
    let mut out = Vec::new();
    for r in current
        .records
        .iter()
        .filter(|r| resource_matches(r, &query.filters))
    {
        let attributes = if query.with_detail {
            Some(attributes(engine, &record, r, &[]).await)
        } else {
            None
        };
        out.push(ResourceDetail {
            record: Arc::clone(r),
            required_by: current.required_by(&r.name),
            creation_time: created.get(&r.name).copied().unwrap_or(r.updated_at),
            description: descriptions.get(&r.name).cloned().unwrap_or_default(),
            attributes,
        });
    }
    Ok(out)
}

pub(super) async fn show(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resource: &str,
    with_attr: &[String],
) -> Result<ResourceDetail, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let all = engine.store.resources(&record.id).await?;
    let current = Current::of(&all);
    let Some(r) = current.get(resource) else {
        return Err(EngineApiError::resource_not_found(resource, &record.name));
    };
    let events = engine.store.events(&record.id, None).await?;
    let created = creation_times(&events);
    Ok(ResourceDetail {
        record: Arc::clone(r),
        required_by: current.required_by(resource),
        creation_time: created.get(resource).copied().unwrap_or(r.updated_at),
        description: descriptions(engine, &record)
            .remove(resource)
            .unwrap_or_default(),
        attributes: Some(attributes(engine, &record, r, with_attr).await),
    })
}

pub(super) async fn signal(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resource: &str,
    details: Value,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    match engine.engine.signal(&record.id, resource, &details).await {
        Ok(()) => Ok(()),
        Err(EngineError::NotFound(_)) => {
            Err(EngineApiError::resource_not_found(resource, &record.name))
        }
        Err(e) => Err(EngineApiError::from_engine(e, &record.name)),
    }
}

fn event_matches(event: &EventRecord, filters: &[(String, Vec<String>)]) -> bool {
    filters.iter().all(|(field, values)| {
        values.iter().any(|v| match field.as_str() {
            "resource_status" => v == event.state.status.as_str() || *v == event.state.to_string(),
            "resource_action" => v == event.state.action.as_str(),
            "resource_name" => *v == event.resource_name,
            "resource_type" => *v == event.resource_type,
            _ => false,
        })
    })
}

/// The event sort keys Heat accepts, as this listing names them.
pub const EVENT_SORT_KEYS: &[&str] = &[
    "event_time",
    "created_at",
    "resource_name",
    "resource_status",
    "resource_action",
    "resource_type",
    "physical_resource_id",
];

fn compare_events(a: &EventRecord, b: &EventRecord, key: &str) -> Ordering {
    match key {
        "event_time" | "created_at" => a.at.cmp(&b.at),
        "resource_name" => a.resource_name.cmp(&b.resource_name),
        "resource_status" => a.state.status.as_str().cmp(b.state.status.as_str()),
        "resource_action" => a.state.action.as_str().cmp(b.state.action.as_str()),
        "resource_type" => a.resource_type.cmp(&b.resource_type),
        "physical_resource_id" => a.physical_id.cmp(&b.physical_id),
        _ => Ordering::Equal,
    }
}

/// Filters, sorts (then by event id, in the same direction) and pages events.
pub(super) fn select_events(
    events: Vec<EventRecord>,
    query: &EventQuery,
) -> Result<Vec<EventRecord>, EngineApiError> {
    if let Some(bad) = query
        .sort_keys
        .iter()
        .find(|k| !EVENT_SORT_KEYS.contains(&k.as_str()))
    {
        return Err(EngineApiError::bad_request(
            "HTTPBadRequest",
            format!(
                "Unsupported sort key '{bad}' for events: use one of {}",
                EVENT_SORT_KEYS.join(", ")
            ),
        ));
    }
    let mut events: Vec<EventRecord> = events
        .into_iter()
        .filter(|e| {
            query
                .resource
                .as_ref()
                .is_none_or(|r| *r == e.resource_name)
                && event_matches(e, &query.filters)
        })
        .collect();
    events.sort_by(|a, b| {
        let order = query
            .sort_keys
            .iter()
            .map(|k| compare_events(a, b, k))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
    let start = match &query.marker {
        Some(marker) => match events.iter().position(|e| e.id.to_string() == *marker) {
            Some(i) => i + 1,
            None => return Err(event_not_found(marker)),
        },
        None => 0,
    };
    let limit = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(events.into_iter().skip(start).take(limit).collect())
}

fn event_not_found(id: &str) -> EngineApiError {
    EngineApiError::NotFound {
        kind: "EntityNotFound",
        message: format!("The Event ({id}) could not be found."),
    }
}

pub(super) async fn events(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    query: &EventQuery,
) -> Result<Vec<EventRecord>, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let all = engine.store.events(&record.id, None).await?;
    if let Some(resource) = &query.resource
        && !all.iter().any(|e| e.resource_name == *resource)
    {
        return Err(EngineApiError::NotFound {
            kind: "HTTPNotFound",
            message: format!("No events found for resource {resource}"),
        });
    }
    select_events(all, query)
}

pub(super) async fn event(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resource: &str,
    event_id: &str,
) -> Result<EventDetail, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let all = engine.store.events(&record.id, None).await?;
    let Some(event) = all
        .into_iter()
        .find(|e| e.id.to_string() == event_id && e.resource_name == resource)
    else {
        return Err(event_not_found(event_id));
    };
    let properties = if event.resource_type == STACK_EVENT_TYPE {
        Map::new()
    } else {
        let records = engine.store.resources(&record.id).await?;
        Current::of(&records)
            .get(resource)
            .map(|r| r.properties.clone())
            .unwrap_or_default()
    };
    Ok(EventDetail { event, properties })
}

#[cfg(test)]
mod tests {
    use super::*;
    use heat_core::engine::state::State;

    fn event(id: u64, name: &str, state: State, at: u64) -> EventRecord {
        EventRecord {
            id,
            stack_id: "s".into(),
            resource_name: name.into(),
            resource_type: "OS::Heat::None".into(),
            physical_id: None,
            state,
            reason: "state changed".into(),
            at: Duration::from_secs(at),
        }
    }

    fn sample() -> Vec<EventRecord> {
        let ip = State::new(Action::Create, Status::InProgress);
        let done = State::new(Action::Create, Status::Complete);
        vec![
            event(1, "a", ip, 10),
            event(2, "b", ip, 10),
            event(3, "a", done, 11),
            event(4, "b", done, 12),
        ]
    }

    fn ids(events: &[EventRecord]) -> Vec<u64> {
        events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn events_are_filtered_sorted_and_paged() {
        let newest_first = EventQuery {
            descending: true,
            ..EventQuery::default()
        };
        assert_eq!(
            ids(&select_events(sample(), &newest_first).unwrap()),
            [4, 3, 2, 1]
        );
        let paged = EventQuery {
            limit: Some(2),
            marker: Some("1".into()),
            ..EventQuery::default()
        };
        assert_eq!(ids(&select_events(sample(), &paged).unwrap()), [2, 3]);
        let filtered = EventQuery {
            filters: vec![("resource_status".into(), vec!["COMPLETE".into()])],
            resource: Some("a".into()),
            ..EventQuery::default()
        };
        assert_eq!(ids(&select_events(sample(), &filtered).unwrap()), [3]);
        let by_name = EventQuery {
            sort_keys: vec!["resource_name".into()],
            ..EventQuery::default()
        };
        assert_eq!(
            ids(&select_events(sample(), &by_name).unwrap()),
            [1, 3, 2, 4]
        );
        let bad = EventQuery {
            sort_keys: vec!["colour".into()],
            ..EventQuery::default()
        };
        assert_eq!(select_events(sample(), &bad).unwrap_err().status(), 400);
        let missing = EventQuery {
            marker: Some("99".into()),
            ..EventQuery::default()
        };
        assert_eq!(select_events(sample(), &missing).unwrap_err().status(), 404);
    }

    #[test]
    fn creation_time_is_the_latest_create() {
        let mut events = sample();
        events.push(event(
            5,
            "a",
            State::new(Action::Create, Status::InProgress),
            30,
        ));
        let times = creation_times(&events);
        assert_eq!(times["a"], Duration::from_secs(30));
        assert_eq!(times["b"], Duration::from_secs(10));
    }
}
