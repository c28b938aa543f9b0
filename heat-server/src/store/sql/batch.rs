//! [`Store::apply`](heat_core::engine::store::Store::apply) in SQL: one batch, inside one
//! transaction the caller opened (and commits only when this returns `Ok`), with the same
//! outcomes as heat-core's `MemoryStore`:
//!
//! - a resource or snapshot whose stack is neither stored nor put by the batch fails the
//!   batch with [`StoreError::Missing`]; a live stack whose name another live stack of its
//!   project has fails it with [`StoreError::DuplicateStackName`] (the partial unique index
//!   `stacks_live_name`; the batch's own soft deletes free names in batch order). When a
//!   batch has both problems, the one that comes first in the batch is reported;
//! - resources: the last change of each record id wins (put or remove), written with one
//!   statement each way (the rows as one JSON array, see [`BatchStatements`]); every put
//!   raises the resource id counter to at least its id;
//! - events get ids from the database, increasing in batch order (and, per stack, in
//!   commit order); beyond the per-stack limit the oldest are purged (down to the limit minus 200, Heat's purge batch), and a
//!   batch's new events that would be purged at once are not written at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use heat_core::engine::store::{Change, EventRecord, ResourceRecord, StackRecord, StoreError};

use super::codec::{backend, signed};
use super::conn::{Conn, Dialect, EventIds, Row, Stmt};
use super::rows::{
    JsonRows, event_columns, push_event_json, push_resource_json, resource_columns, snapshot_args,
    snapshot_columns, stack_args, stack_columns,
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
const PURGE_EVENTS: Stmt = Stmt::fixed(
    "DELETE FROM events WHERE id IN \
     (SELECT id FROM events WHERE stack_id = $1 ORDER BY id LIMIT $2)",
);
const NEXT_EVENT_IDS_COUNTER: Stmt =
    Stmt::fixed("UPDATE counters SET value = value + $1 WHERE name = 'event' RETURNING value");
const NEXT_EVENT_IDS_SEQUENCE: Stmt =
    Stmt::fixed("SELECT nextval('events_id_seq') FROM generate_series(1, $1)");

/// `SET` of the resource upsert (every column but the id).
macro_rules! resource_updates {
    () => {
        "stack_id = excluded.stack_id, name = excluded.name, \
         resource_type = excluded.resource_type, physical_id = excluded.physical_id, \
         action = excluded.action, status = excluded.status, \
         status_reason = excluded.status_reason, properties = excluded.properties, \
         data = excluded.data, metadata = excluded.metadata, \
         idempotency_token = excluded.idempotency_token, replaces = excluded.replaces, \
         deletion_policy = excluded.deletion_policy, requires = excluded.requires, \
         target_properties = excluded.target_properties, hook = excluded.hook, \
         operation = excluded.operation, updated_at = excluded.updated_at"
    };
}

/// The statements that write many rows from one JSON array (`$1`, or `$2` after a stack
/// id): each database unpacks it its own way.
#[derive(Debug)]
pub struct BatchStatements {
    /// `SELECT id FROM stacks` of the ids in a JSON list of texts.
    known_stacks: Stmt,
    /// Tags of stack `$1` from the JSON list of texts `$2`.
    insert_tags: Stmt,
    /// Resources from JSON rows (see `rows::push_resource_json`).
    upsert_resources: Stmt,
    /// Deletes the resources whose ids are in a JSON list of integers.
    delete_resources: Stmt,
    /// Events from JSON rows (see `rows::push_event_json`).
    insert_events: Stmt,
    /// How many events stack `$1` has; first takes the stack's event lock until the end of
    /// the transaction where the database needs one (so that event ids, taken after it,
    /// increase in commit order within each stack).
    count_events: Stmt,
}

/// SQLite: `json_each` over the array; `value ->> n` is a row's column `n` (SQL NULL for
/// JSON null). `WHERE true` tells the parser the `ON CONFLICT` is an upsert clause.
pub static SQLITE_BATCH: BatchStatements = BatchStatements {
    known_stacks: Stmt::fixed(
        "SELECT id FROM stacks WHERE id IN (SELECT value FROM json_each($1))",
    ),
    insert_tags: Stmt::fixed(
        "INSERT INTO stack_tags (stack_id, tag) SELECT $1, value FROM json_each($2) \
         WHERE true ON CONFLICT DO NOTHING",
    ),
    upsert_resources: Stmt::fixed(concat!(
        "INSERT INTO resources (",
        resource_columns!(),
        ") SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, \
         value->>6, value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, \
         value->>13, value->>14, value->>15, value->>16, value->>17, value->>18 \
         FROM jsonb_each($1) WHERE true ON CONFLICT (id) DO UPDATE SET ",
        resource_updates!()
    )),
    delete_resources: Stmt::fixed(
        "DELETE FROM resources WHERE id IN (SELECT value FROM json_each($1))",
    ),
    insert_events: Stmt::fixed(concat!(
        "INSERT INTO events (",
        event_columns!(),
        ") SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, \
         value->>6, value->>7, value->>8 FROM jsonb_each($1)"
    )),
    // One writer at a time: no lock needed.
    count_events: Stmt::fixed("SELECT COUNT(*) FROM events WHERE stack_id = $1"),
};

/// PostgreSQL: `json_array_elements` over the array; `e ->> n` is a row's column `n` as
/// text (NULL for JSON null), cast to the column's type.
pub static POSTGRES_BATCH: BatchStatements = BatchStatements {
    known_stacks: Stmt::fixed(
        "SELECT id FROM stacks WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
    ),
    insert_tags: Stmt::fixed(
        "INSERT INTO stack_tags (stack_id, tag) SELECT $1, jsonb_array_elements_text($2::jsonb) \
         ON CONFLICT DO NOTHING",
    ),
    upsert_resources: Stmt::fixed(concat!(
        "INSERT INTO resources (",
        resource_columns!(),
        ") SELECT (e->>0)::bigint, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, e->>8, \
         e->>9, e->>10, e->>11, (e->>12)::bigint, e->>13, e->>14, e->>15, e->>16, \
         (e->>17)::bigint, (e->>18)::bigint FROM jsonb_array_elements($1::jsonb) AS e \
         ON CONFLICT (id) DO UPDATE SET ",
        resource_updates!()
    )),
    delete_resources: Stmt::fixed(
        "DELETE FROM resources WHERE id IN \
         (SELECT e::bigint FROM jsonb_array_elements_text($1::jsonb) AS e)",
    ),
    insert_events: Stmt::fixed(concat!(
        "INSERT INTO events (",
        event_columns!(),
        ") SELECT (e->>0)::bigint, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->>7, \
         (e->>8)::bigint FROM jsonb_array_elements($1::jsonb) AS e"
    )),
    // A transaction-scoped advisory lock per stack (by a hash of its id; a collision only
    // serializes two stacks' batches): batches adding events to one stack, from any number
    // of engines, take their event ids and commit one after the other. Locks are taken in
    // stack id order (no deadlock between two batches) and after every other write of the
    // batch. The count is as of the statement's start (before the wait): at worst a purge
    // keeps a few events more, until the next one.
    count_events: Stmt::fixed(
        "SELECT (SELECT COUNT(*) FROM events WHERE stack_id = $1) \
         FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS locked",
    ),
};

/// Applies a batch inside the caller's transaction (see the module documentation). On an
/// error the caller must roll back.
///
/// `counter_floor` is a value the resource id counter is known to have reached (counters
/// only grow): a batch whose record ids are all at or below it leaves the counter alone
/// without asking. Returns the id the counter was raised to, if it was (for the caller to
/// remember once the transaction is committed).
pub async fn apply<C: Conn>(
    conn: &mut C,
    dialect: Dialect,
    changes: &[Change],
    max_events_per_stack: Option<usize>,
    counter_floor: u64,
) -> Result<Option<u64>, StoreError> {
    let statements = dialect.batch;
    let missing = first_missing_stack(conn, changes, statements).await?;
    let stacks_until = missing.as_ref().map_or(changes.len(), |(at, _)| *at);
    for change in &changes[..stacks_until] {
        if let Change::PutStack(stack) = change {
            put_stack(conn, stack, statements).await?;
        }
    }
    if let Some((_, stack_id)) = missing {
        return Err(StoreError::Missing(format!("stack {stack_id}")));
    }
    let raised = write_resources(conn, changes, statements, counter_floor).await?;
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
    Ok(raised)
}

/// The stack a change refers to (resources and snapshots belong to one).
fn referenced(change: &Change) -> Option<&str> {
    match change {
        Change::PutResource(r) => Some(&*r.stack_id),
        Change::PutSnapshot(s) => Some(s.stack_id.as_str()),
        _ => None,
    }
}

/// The first change (by position) whose stack is neither stored nor put by the batch.
async fn first_missing_stack<C: Conn>(
    conn: &mut C,
    changes: &[Change],
    batch: &BatchStatements,
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
    let mut list = JsonRows::new();
    for id in &asked {
        list.push_text(id)?;
    }
    let mut known: HashSet<String> = HashSet::new();
    for row in conn
        .fetch(&batch.known_stacks, vec![list.finish()?.into()])
        .await
        .map_err(backend)?
    {
        if let Some(id) = row.text(0).map_err(backend)? {
            known.insert(id);
        }
    }
    Ok(changes.iter().enumerate().find_map(|(at, c)| {
        let id = referenced(c)?;
        (!put.contains(id) && !known.contains(id)).then(|| (at, id.to_string()))
    }))
}

/// Inserts or replaces a stack and its tags.
async fn put_stack<C: Conn>(
    conn: &mut C,
    stack: &StackRecord,
    batch: &BatchStatements,
) -> Result<(), StoreError> {
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
    if !stack.tags.is_empty() {
        let mut list = JsonRows::new();
        for tag in &stack.tags {
            list.push_text(tag)?;
        }
        conn.execute(
            &batch.insert_tags,
            vec![stack.id.as_str().into(), list.finish()?.into()],
        )
        .await
        .map_err(backend)?;
    }
    Ok(())
}

/// Writes the batch's resource puts and removes (the last change of each id wins) and raises
/// the resource id counter to every id put (unless it is known to be there already: at or
/// below `counter_floor`). Returns the id the counter was raised to.
async fn write_resources<C: Conn>(
    conn: &mut C,
    changes: &[Change],
    batch: &BatchStatements,
    counter_floor: u64,
) -> Result<Option<u64>, StoreError> {
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
        return Ok(None);
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
    if !puts.is_empty() {
        let mut rows = JsonRows::new();
        for r in &puts {
            push_resource_json(r, &mut rows)?;
        }
        conn.execute(&batch.upsert_resources, vec![rows.finish()?.into()])
            .await
            .map_err(backend)?;
    }
    if !removes.is_empty() {
        let mut ids = JsonRows::new();
        for id in &removes {
            ids.push_int(signed(*id, "resource id")?);
        }
        conn.execute(&batch.delete_resources, vec![ids.finish()?.into()])
            .await
            .map_err(backend)?;
    }
    match highest {
        Some(highest) if highest > counter_floor => {
            conn.execute(
                &RAISE_RESOURCE_COUNTER,
                vec![signed(highest, "resource id")?.into()],
            )
            .await
            .map_err(backend)?;
            Ok(Some(highest))
        }
        _ => Ok(None),
    }
}

/// Purges old events past the per-stack limit, then inserts the new ones that survive the
/// purge with fresh increasing ids.
async fn write_events<C: Conn>(
    conn: &mut C,
    dialect: Dialect,
    events: &[&EventRecord],
    limit: Option<usize>,
) -> Result<(), StoreError> {
    // New events per stack, in stack id order (the order locks are taken in).
    let mut new_per_stack: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *new_per_stack.entry(e.stack_id.as_str()).or_default() += 1;
    }
    // How many of each stack's new events are purged at once (the oldest come first).
    let mut skip: HashMap<&str, usize> = HashMap::new();
    for (stack_id, new) in new_per_stack {
        // Also takes the stack's event lock where the database needs one.
        let rows = conn
            .fetch(&dialect.batch.count_events, vec![stack_id.into()])
            .await
            .map_err(backend)?;
        let Some(limit) = limit else {
            continue;
        };
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
    if ids.len() != kept.len() {
        return Err(StoreError::Backend(format!(
            "got {} event ids for {} events",
            ids.len(),
            kept.len()
        )));
    }
    let mut rows = JsonRows::new();
    for (id, e) in ids.iter().zip(&kept) {
        push_event_json(*id, e, &mut rows)?;
    }
    conn.execute(&dialect.batch.insert_events, vec![rows.finish()?.into()])
        .await
        .map_err(backend)?;
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
