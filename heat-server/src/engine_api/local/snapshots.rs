//! Stack snapshots (take, list, show, delete, restore), resource metadata and marking
//! resources unhealthy: the engine's operations, scoped to the caller's project.

use std::sync::Arc;

use heat_core::engine::EngineError;
use heat_core::engine::store::{current_record, replaced_ids};
use serde_json::Value;

use super::LocalEngine;
use crate::auth::RequestContext;
use crate::engine_api::{EngineApiError, SnapshotView, StackIdentity};

/// Heat's `max_snapshots_per_stack` default.
pub(super) const MAX_SNAPSHOTS_PER_STACK: usize = 32;

fn snapshot_not_found(id: &str) -> EngineApiError {
    EngineApiError::NotFound {
        kind: "NotFound",
        message: format!("The Snapshot ({id}) could not be found."),
    }
}

pub(super) async fn take(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    name: Option<String>,
) -> Result<SnapshotView, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let taken = engine.store.snapshots(&record.id).await?;
    if taken.len() >= MAX_SNAPSHOTS_PER_STACK {
        return Err(EngineApiError::bad_request(
            "RequestLimitExceeded",
            format!(
                "Request limit exceeded: You have reached the maximum snapshots per stack, \
                 {MAX_SNAPSHOTS_PER_STACK}. Please delete some snapshots."
            ),
        ));
    }
    let map = |e| EngineApiError::from_engine(e, &record.name);
    let operation = engine
        .engine
        .start_snapshot(&record.id, name.as_deref().unwrap_or(""))
        .await
        .map_err(map)?;
    let id = operation.snapshot_id().unwrap_or_default();
    engine.spawn(operation);
    let snapshot = engine
        .store
        .snapshots(&record.id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| snapshot_not_found(&id))?;
    Ok(SnapshotView {
        record: snapshot,
        stack: Arc::new(record),
    })
}

pub(super) async fn list(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
) -> Result<Vec<SnapshotView>, EngineApiError> {
    let record = Arc::new(engine.stack_of(ctx, stack, false).await?);
    Ok(engine
        .store
        .snapshots(&record.id)
        .await?
        .into_iter()
        .map(|snapshot| SnapshotView {
            record: snapshot,
            stack: Arc::clone(&record),
        })
        .collect())
}

pub(super) async fn show(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    snapshot_id: &str,
) -> Result<SnapshotView, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let snapshot = engine
        .store
        .snapshots(&record.id)
        .await?
        .into_iter()
        .find(|s| s.id == snapshot_id)
        .ok_or_else(|| snapshot_not_found(snapshot_id))?;
    Ok(SnapshotView {
        record: snapshot,
        stack: Arc::new(record),
    })
}

pub(super) async fn delete(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    snapshot_id: &str,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    match engine.engine.delete_snapshot(&record.id, snapshot_id).await {
        Ok(()) => Ok(()),
        Err(EngineError::NotFound(_)) => Err(snapshot_not_found(snapshot_id)),
        Err(e) => Err(EngineApiError::from_engine(e, &record.name)),
    }
}

pub(super) async fn restore(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    snapshot_id: &str,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    match engine.engine.start_restore(&record.id, snapshot_id).await {
        Ok(operation) => {
            engine.spawn(operation);
            Ok(())
        }
        Err(EngineError::NotFound(_)) => Err(snapshot_not_found(snapshot_id)),
        Err(e) => Err(EngineApiError::from_engine(e, &record.name)),
    }
}

pub(super) async fn metadata(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resource: &str,
) -> Result<Value, EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    let records = engine.store.resources(&record.id).await?;
    let replaced = replaced_ids(records.iter().map(|r| &**r));
    let Some(current) = current_record(&records, &replaced, resource) else {
        return Err(EngineApiError::resource_not_found(resource, &record.name));
    };
    Ok(current
        .metadata
        .as_deref()
        .cloned()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new())))
}

pub(super) async fn mark_unhealthy(
    engine: &LocalEngine,
    ctx: &RequestContext,
    stack: &StackIdentity,
    resource: &str,
    unhealthy: bool,
    reason: &str,
) -> Result<(), EngineApiError> {
    let record = engine.stack_of(ctx, stack, false).await?;
    match engine
        .engine
        .mark_unhealthy(&record.id, resource, unhealthy, reason)
        .await
    {
        Ok(()) => Ok(()),
        Err(EngineError::NotFound(_)) => {
            Err(EngineApiError::resource_not_found(resource, &record.name))
        }
        Err(e) => Err(EngineApiError::from_engine(e, &record.name)),
    }
}
