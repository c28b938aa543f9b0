//! The engine's reads: stacks, resources, events and snapshots.

use std::sync::Arc;

use heat_core::engine::store::{
    EventRecord, ResourceRecord, SnapshotRecord, StackRecord, StoreError,
};

use super::codec::{backend, signed};
use super::conn::{Conn, Row, Stmt};
use super::rows::{
    event_columns, event_from_row, resource_columns, resource_from_row, snapshot_columns,
    snapshot_from_row, stack_columns, stack_from_row,
};

const STACK_BY_ID: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    stack_columns!(),
    " FROM stacks WHERE id = $1"
));
const STACK_BY_NAME: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    stack_columns!(),
    " FROM stacks WHERE project = $1 AND name = $2 AND deleted = FALSE"
));
const ALL_STACKS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    stack_columns!(),
    " FROM stacks ORDER BY seq"
));
const LIVE_STACKS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    stack_columns!(),
    " FROM stacks WHERE deleted = FALSE ORDER BY seq"
));
const RESOURCES: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    resource_columns!(),
    " FROM resources WHERE stack_id = $1 ORDER BY id"
));
const EVENTS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE stack_id = $1 AND id > $2 ORDER BY id"
));
const SNAPSHOTS: Stmt = Stmt::fixed(concat!(
    "SELECT ",
    snapshot_columns!(),
    " FROM snapshots WHERE stack_id = $1 ORDER BY seq"
));
const RESERVE_RESOURCE_IDS: Stmt =
    Stmt::fixed("UPDATE counters SET value = value + $1 WHERE name = 'resource' RETURNING value");

/// A stack by id.
pub async fn stack<C: Conn>(conn: &mut C, id: &str) -> Result<Option<StackRecord>, StoreError> {
    let rows = conn
        .fetch(&STACK_BY_ID, vec![id.into()])
        .await
        .map_err(backend)?;
    rows.first().map(stack_from_row).transpose()
}

/// A project's live stack by name.
pub async fn stack_by_name<C: Conn>(
    conn: &mut C,
    project: &str,
    name: &str,
) -> Result<Option<StackRecord>, StoreError> {
    let rows = conn
        .fetch(&STACK_BY_NAME, vec![project.into(), name.into()])
        .await
        .map_err(backend)?;
    rows.first().map(stack_from_row).transpose()
}

/// Every stack in creation order.
pub async fn stacks<C: Conn>(
    conn: &mut C,
    include_deleted: bool,
) -> Result<Vec<StackRecord>, StoreError> {
    let stmt = if include_deleted {
        &ALL_STACKS
    } else {
        &LIVE_STACKS
    };
    let rows = conn.fetch(stmt, Vec::new()).await.map_err(backend)?;
    rows.iter().map(stack_from_row).collect()
}

/// A stack's resource records by id.
pub async fn resources<C: Conn>(
    conn: &mut C,
    stack_id: &str,
) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
    let rows = conn
        .fetch(&RESOURCES, vec![stack_id.into()])
        .await
        .map_err(backend)?;
    rows.iter()
        .map(|row| resource_from_row(row).map(Arc::new))
        .collect()
}

/// A stack's events after an id.
pub async fn events<C: Conn>(
    conn: &mut C,
    stack_id: &str,
    after: Option<u64>,
) -> Result<Vec<EventRecord>, StoreError> {
    // Ids start at 1; an `after` beyond what a column holds leaves nothing.
    let after = after.map_or(0, |a| i64::try_from(a).unwrap_or(i64::MAX));
    let rows = conn
        .fetch(&EVENTS, vec![stack_id.into(), after.into()])
        .await
        .map_err(backend)?;
    rows.iter().map(event_from_row).collect()
}

/// A stack's snapshots, oldest first.
pub async fn snapshots<C: Conn>(
    conn: &mut C,
    stack_id: &str,
) -> Result<Vec<SnapshotRecord>, StoreError> {
    let rows = conn
        .fetch(&SNAPSHOTS, vec![stack_id.into()])
        .await
        .map_err(backend)?;
    rows.iter().map(snapshot_from_row).collect()
}

/// Reserves `count` consecutive resource ids (one statement: the counter row's lock makes
/// concurrent reservations queue) and returns the first.
pub async fn reserve_resource_ids<C: Conn>(conn: &mut C, count: u64) -> Result<u64, StoreError> {
    let n = signed(count, "resource id reservation")?;
    let rows = conn
        .fetch(&RESERVE_RESOURCE_IDS, vec![n.into()])
        .await
        .map_err(backend)?;
    let last = match rows.first() {
        Some(row) => row.int(0).map_err(backend)?,
        None => None,
    }
    .ok_or_else(|| StoreError::Backend("the resource id counter row is missing".to_string()))?;
    let first = last
        .checked_sub(n)
        .and_then(|v| v.checked_add(1))
        .ok_or_else(|| StoreError::Backend("the resource id counter overflowed".to_string()))?;
    super::codec::unsigned(first, "resource id")
}
