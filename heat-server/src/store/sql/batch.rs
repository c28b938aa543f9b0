//! [`Store::apply`](heat_core::engine::store::Store::apply) in SQL: one batch, inside one
//! transaction the caller opened (and commits only when this returns `Ok`), with the same
//! outcomes as heat-core's `MemoryStore`:
//!
//! - a resource or snapshot whose stack is neither stored nor put by the batch fails the
//!   batch with [`StoreError::Missing`]; a live stack whose name another live stack of its
//!   project has fails it with [`StoreError::DuplicateStackName`] (the partial unique index
//!   `stacks_live_name`; the batch's own soft deletes free names in batch order). When a
//!   batch has both problems, the one that comes first in the batch is reported;
//! - resources: the last change of each record id wins (put or remove), written with
//!   multi-row statements; every put raises the resource id counter to at least its id;
//! - events get ids from the database, increasing in batch order; beyond the per-stack
//!   limit the oldest are purged (down to the limit minus 200, Heat's purge batch), and a
//!   batch's new events that would be purged at once are not written at all.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use heat_core::engine::store::{Change, EventRecord, ResourceRecord, StackRecord, StoreError};

use super::codec::{backend, signed};
use super::conn::{
    Arg, ChunkStatements, Conn, Dialect, EventIds, Row, Stmt, chunk_sizes, placeholder_list,
    placeholders,
};
use super::rows::{
    EVENT_COLUMN_COUNT, EVENT_COLUMNS, RESOURCE_COLUMN_COUNT, RESOURCE_COLUMNS, push_event_args,
    push_resource_args, snapshot_args, snapshot_columns, stack_args, stack_columns,
};

/// Heat's `event_purge_batch_size`: how far below the limit a purge goes.
const EVENT_PURGE_BATCH: usize = 200;

const UPSERT_STACK: Stmt = Stmt::fixed(concat!(
    "INSERT INTO stacks (",
    stack_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
     $19, $20, $21, $22) \
     ON CONFLICT (id) DO UPDATE SET project = excluded.project, name = excluded.name, \
     user_name = excluded.user_name, parent = excluded.parent, action = excluded.action, \
     status = excluded.status, status_reason = excluded.status_reason, \
     description = excluded.description, template = excluded.template, files = excluded.files, \
     environments = excluded.environments, parameters = excluded.parameters, \
     previous = excluded.previous, disable_rollback = excluded.disable_rollback, \
     timeout_mins = excluded.timeout_mins, tags = excluded.tags, operation = excluded.operation, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, \
     deleted = excluded.deleted, deleted_at = excluded.deleted_at"
));
const DELETE_TAGS: Stmt = Stmt::fixed("DELETE FROM stack_tags WHERE stack_id = $1");
const UPSERT_SNAPSHOT: Stmt = Stmt::fixed(concat!(
    "INSERT INTO snapshots (",
    snapshot_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (id) DO UPDATE SET stack_id = excluded.stack_id, name = excluded.name, \
     status = excluded.status, status_reason = excluded.status_reason, \
     definition = excluded.definition, resources = excluded.resources, \
     created_at = excluded.created_at"
));
const DELETE_SNAPSHOT: Stmt = Stmt::fixed("DELETE FROM snapshots WHERE id = $1");
const RAISE_RESOURCE_COUNTER: Stmt =
    Stmt::fixed("UPDATE counters SET value = $1 WHERE name = 'resource' AND value < $1");
const COUNT_EVENTS: Stmt = Stmt::fixed("SELECT COUNT(*) FROM events WHERE stack_id = $1");
const PURGE_EVENTS: Stmt = Stmt::fixed(
    "DELETE FROM events WHERE id IN \
     (SELECT id FROM events WHERE stack_id = $1 ORDER BY id LIMIT $2)",
);
const NEXT_EVENT_IDS_COUNTER: Stmt =
    Stmt::fixed("UPDATE counters SET value = value + $1 WHERE name = 'event' RETURNING value");
const NEXT_EVENT_IDS_SEQUENCE: Stmt =
    Stmt::fixed("SELECT nextval('events_id_seq') FROM generate_series(1, $1)");

fn upsert_resources_sql(rows: usize) -> String {
    format!(
        "INSERT INTO resources ({RESOURCE_COLUMNS}) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET stack_id = excluded.stack_id, name = excluded.name, \
         resource_type = excluded.resource_type, physical_id = excluded.physical_id, \
         action = excluded.action, status = excluded.status, \
         status_reason = excluded.status_reason, properties = excluded.properties, \
         data = excluded.data, metadata = excluded.metadata, \
         idempotency_token = excluded.idempotency_token, replaces = excluded.replaces, \
         deletion_policy = excluded.deletion_policy, requires = excluded.requires, \
         target_properties = excluded.target_properties, hook = excluded.hook, \
         operation = excluded.operation, updated_at = excluded.updated_at",
        placeholders(rows, RESOURCE_COLUMN_COUNT, 1)
    )
}

fn delete_resources_sql(rows: usize) -> String {
    format!(
        "DELETE FROM resources WHERE id IN ({})",
        placeholder_list(rows, 1)
    )
}

fn insert_events_sql(rows: usize) -> String {
    format!(
        "INSERT INTO events ({EVENT_COLUMNS}) VALUES {}",
        placeholders(rows, EVENT_COLUMN_COUNT, 1)
    )
}

fn insert_tags_sql(rows: usize) -> String {
    format!(
        "INSERT INTO stack_tags (stack_id, tag) VALUES {} ON CONFLICT DO NOTHING",
        placeholders(rows, 2, 1)
    )
}

fn known_stacks_sql(rows: usize) -> String {
    format!(
        "SELECT id FROM stacks WHERE id IN ({})",
        placeholder_list(rows, 1)
    )
}

static UPSERT_RESOURCES: ChunkStatements = ChunkStatements::new(upsert_resources_sql);
static DELETE_RESOURCES: ChunkStatements = ChunkStatements::new(delete_resources_sql);
static INSERT_EVENTS: ChunkStatements = ChunkStatements::new(insert_events_sql);
static INSERT_TAGS: ChunkStatements = ChunkStatements::new(insert_tags_sql);
static KNOWN_STACKS: ChunkStatements = ChunkStatements::new(known_stacks_sql);

/// Applies a batch inside the caller's transaction (see the module documentation). On an
/// error the caller must roll back.
pub async fn apply<C: Conn>(
    conn: &mut C,
    dialect: Dialect,
    changes: &[Change],
    max_events_per_stack: Option<usize>,
) -> Result<(), StoreError> {
    let missing = first_missing_stack(conn, changes).await?;
    let stacks_until = missing.as_ref().map_or(changes.len(), |(at, _)| *at);
    for change in &changes[..stacks_until] {
        if let Change::PutStack(stack) = change {
            put_stack(conn, stack).await?;
        }
    }
    if let Some((_, stack_id)) = missing {
        return Err(StoreError::Missing(format!("stack {stack_id}")));
    }
    write_resources(conn, changes).await?;
    for change in changes {
        match change {
            Change::PutSnapshot(snapshot) => {
                conn.execute(&UPSERT_SNAPSHOT, snapshot_args(snapshot)?)
                    .await
                    .map_err(backend)?;
            }
            Change::RemoveSnapshot { id } => {
                conn.execute(&DELETE_SNAPSHOT, vec![id.as_str().into()])
                    .await
                    .map_err(backend)?;
            }
            _ => {}
        }
    }
    let events: Vec<&EventRecord> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddEvent(e) => Some(&**e),
            _ => None,
        })
        .collect();
    if !events.is_empty() {
        write_events(conn, dialect, &events, max_events_per_stack).await?;
    }
    Ok(())
}

/// The stack a change refers to (resources and snapshots belong to one).
fn referenced(change: &Change) -> Option<&str> {
    match change {
        Change::PutResource(r) => Some(r.stack_id.as_str()),
        Change::PutSnapshot(s) => Some(s.stack_id.as_str()),
        _ => None,
    }
}

/// The first change (by position) whose stack is neither stored nor put by the batch.
async fn first_missing_stack<C: Conn>(
    conn: &mut C,
    changes: &[Change],
) -> Result<Option<(usize, String)>, StoreError> {
    let put: HashSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::PutStack(s) => Some(s.id.as_str()),
            _ => None,
        })
        .collect();
    let mut asked: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for id in changes.iter().filter_map(referenced) {
        if !put.contains(id) && seen.insert(id) {
            asked.push(id);
        }
    }
    if asked.is_empty() {
        return Ok(None);
    }
    let mut known: HashSet<String> = HashSet::new();
    let mut rest = asked.as_slice();
    for size in chunk_sizes(asked.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let args = chunk.iter().map(|id| Arg::from(*id)).collect();
        for row in conn
            .fetch(&KNOWN_STACKS.get(size), args)
            .await
            .map_err(backend)?
        {
            if let Some(id) = row.text(0).map_err(backend)? {
                known.insert(id);
            }
        }
    }
    Ok(changes.iter().enumerate().find_map(|(at, c)| {
        let id = referenced(c)?;
        (!put.contains(id) && !known.contains(id)).then(|| (at, id.to_string()))
    }))
}

/// Inserts or replaces a stack and its tags.
async fn put_stack<C: Conn>(conn: &mut C, stack: &StackRecord) -> Result<(), StoreError> {
    match conn.execute(&UPSERT_STACK, stack_args(stack)?).await {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::DuplicateStackName(stack.name.clone()));
        }
        Err(e) => return Err(backend(e)),
    }
    conn.execute(&DELETE_TAGS, vec![stack.id.as_str().into()])
        .await
        .map_err(backend)?;
    let tags: Vec<&String> = {
        let mut seen = HashSet::new();
        stack.tags.iter().filter(|t| seen.insert(*t)).collect()
    };
    let mut rest = tags.as_slice();
    for size in chunk_sizes(tags.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let mut args = Vec::with_capacity(size * 2);
        for tag in chunk {
            args.push(stack.id.as_str().into());
            args.push(tag.as_str().into());
        }
        conn.execute(&INSERT_TAGS.get(size), args)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Writes the batch's resource puts and removes (the last change of each id wins) and raises
/// the resource id counter past every id put.
async fn write_resources<C: Conn>(conn: &mut C, changes: &[Change]) -> Result<(), StoreError> {
    // The last change per id: Some(record) for a put, None for a remove.
    let mut last: HashMap<u64, Option<&Arc<ResourceRecord>>> = HashMap::new();
    let mut highest: Option<u64> = None;
    for change in changes {
        match change {
            Change::PutResource(r) => {
                last.insert(r.id, Some(r));
                highest = Some(highest.map_or(r.id, |h| h.max(r.id)));
            }
            Change::RemoveResource { id } => {
                last.insert(*id, None);
            }
            _ => {}
        }
    }
    if last.is_empty() {
        return Ok(());
    }
    let mut puts: Vec<&ResourceRecord> = Vec::new();
    let mut removes: Vec<u64> = Vec::new();
    for (id, change) in &last {
        match change {
            Some(r) => puts.push(r),
            None => removes.push(*id),
        }
    }
    // Id order: the same rows in the same order whatever the hash, so concurrent writers
    // (PostgreSQL) take row locks in one order.
    puts.sort_unstable_by_key(|r| r.id);
    removes.sort_unstable();
    let mut rest = puts.as_slice();
    for size in chunk_sizes(puts.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let mut args = Vec::with_capacity(size * RESOURCE_COLUMN_COUNT);
        for r in chunk {
            push_resource_args(r, &mut args)?;
        }
        conn.execute(&UPSERT_RESOURCES.get(size), args)
            .await
            .map_err(backend)?;
    }
    let mut rest = removes.as_slice();
    for size in chunk_sizes(removes.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let args = chunk
            .iter()
            .map(|id| signed(*id, "resource id").map(Arg::from))
            .collect::<Result<Vec<_>, _>>()?;
        conn.execute(&DELETE_RESOURCES.get(size), args)
            .await
            .map_err(backend)?;
    }
    if let Some(highest) = highest {
        conn.execute(
            &RAISE_RESOURCE_COUNTER,
            vec![signed(highest, "resource id")?.into()],
        )
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Purges old events past the per-stack limit, then inserts the new ones that survive the
/// purge with fresh increasing ids.
async fn write_events<C: Conn>(
    conn: &mut C,
    dialect: Dialect,
    events: &[&EventRecord],
    limit: Option<usize>,
) -> Result<(), StoreError> {
    // How many of each stack's new events are purged at once (the oldest come first).
    let mut skip: HashMap<&str, usize> = HashMap::new();
    if let Some(limit) = limit {
        let mut new_per_stack: Vec<(&str, usize)> = Vec::new();
        for e in events {
            match new_per_stack
                .iter_mut()
                .find(|(id, _)| *id == e.stack_id.as_str())
            {
                Some((_, n)) => *n += 1,
                None => new_per_stack.push((e.stack_id.as_str(), 1)),
            }
        }
        for (stack_id, new) in new_per_stack {
            let rows = conn
                .fetch(&COUNT_EVENTS, vec![stack_id.into()])
                .await
                .map_err(backend)?;
            let stored = match rows.first() {
                Some(row) => row.int(0).map_err(backend)?.unwrap_or(0),
                None => 0,
            };
            let stored = usize::try_from(stored).unwrap_or(0);
            let total = stored + new;
            if total <= limit {
                continue;
            }
            let drop = total - limit.saturating_sub(EVENT_PURGE_BATCH);
            let old = drop.min(stored);
            if old > 0 {
                let old = i64::try_from(old).unwrap_or(i64::MAX);
                conn.execute(&PURGE_EVENTS, vec![stack_id.into(), old.into()])
                    .await
                    .map_err(backend)?;
            }
            if drop > stored {
                skip.insert(stack_id, drop - stored);
            }
        }
    }
    let kept: Vec<&EventRecord> = events
        .iter()
        .filter(|e| match skip.get_mut(e.stack_id.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .copied()
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    let ids = next_event_ids(conn, dialect, kept.len()).await?;
    let mut rest = kept.as_slice();
    let mut next_id = ids.iter();
    for size in chunk_sizes(kept.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let mut args = Vec::with_capacity(size * EVENT_COLUMN_COUNT);
        for e in chunk {
            let id = next_id
                .next()
                .copied()
                .ok_or_else(|| StoreError::Backend("fewer event ids than events".to_string()))?;
            push_event_args(id, e, &mut args)?;
        }
        conn.execute(&INSERT_EVENTS.get(size), args)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// `count` fresh event ids, ascending.
async fn next_event_ids<C: Conn>(
    conn: &mut C,
    dialect: Dialect,
    count: usize,
) -> Result<Vec<i64>, StoreError> {
    let n = i64::try_from(count)
        .map_err(|_| StoreError::Backend(format!("too many events in one batch: {count}")))?;
    match dialect.event_ids {
        EventIds::Counter => {
            let rows = conn
                .fetch(&NEXT_EVENT_IDS_COUNTER, vec![n.into()])
                .await
                .map_err(backend)?;
            let last = match rows.first() {
                Some(row) => row.int(0).map_err(backend)?,
                None => None,
            }
            .ok_or_else(|| StoreError::Backend("the event counter row is missing".to_string()))?;
            Ok((last - n + 1..=last).collect())
        }
        EventIds::Sequence => {
            let rows = conn
                .fetch(&NEXT_EVENT_IDS_SEQUENCE, vec![n.into()])
                .await
                .map_err(backend)?;
            let mut ids = rows
                .iter()
                .map(|row| {
                    row.int(0).map_err(backend)?.ok_or_else(|| {
                        StoreError::Backend("the event sequence gave NULL".to_string())
                    })
                })
                .collect::<Result<Vec<i64>, _>>()?;
            if ids.len() != count {
                return Err(StoreError::Backend(format!(
                    "asked the event sequence for {count} ids, got {}",
                    ids.len()
                )));
            }
            ids.sort_unstable();
            Ok(ids)
        }
    }
}
