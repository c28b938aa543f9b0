//! The persistence boundary: what the engine records, and the [`Store`] trait it records it
//! through. heat-core ships [`MemoryStore`]; heat-server adds SQLite and PostgreSQL.
//!
//! Writes go through one method, [`Store::apply`], which takes a batch of [`Change`]s and
//! applies all of them or none (one transaction). The engine groups transitions and events
//! that happen close together into one batch (group commit, DESIGN.md principle 5) and acts
//! on nothing before the batch that records its intent has been applied.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::engine::provider::{Properties, ResourceData};
use crate::engine::state::State;
use crate::template::model::DeletionPolicy;

/// A stack as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRecord {
    /// The stack's id (unique, never reused).
    pub id: String,
    /// The stack's name (unique among a project's live stacks).
    pub name: String,
    /// The project (tenant) the stack belongs to: names are unique per project, and a
    /// server shows a stack only to its project. Empty for an embedder without projects.
    pub project: String,
    /// Who created it (Heat's `stack_owner`).
    pub user: String,
    /// The stack that owns this one (a nested stack's parent), by id.
    pub parent: Option<String>,
    /// The template's description, as of the last create or update.
    pub description: String,
    /// The template text, as submitted.
    pub template: Arc<str>,
    /// The files map sent with the template (`get_file`, template resources).
    pub files: BTreeMap<String, String>,
    /// The environment files' texts, in merge order.
    pub environments: Vec<String>,
    /// Parameter values given by the user.
    pub parameters: BTreeMap<String, String>,
    /// The stack's state.
    pub state: State,
    /// Why it is in that state.
    pub status_reason: String,
    /// Whether a failed create or update is left as is (no rollback).
    pub disable_rollback: bool,
    /// The operation timeout, in minutes.
    pub timeout_mins: u32,
    /// Tags.
    pub tags: Vec<String>,
    /// When it was created (engine clock).
    pub created_at: Duration,
    /// When it last changed (engine clock).
    pub updated_at: Duration,
    /// Soft-deleted: listed only when deleted stacks are asked for.
    pub deleted: bool,
    /// When it was deleted (engine clock); set with `deleted`.
    pub deleted_at: Option<Duration>,
    /// During an update (and its rollback): the definition the stack had before it, what a
    /// rollback returns to. `None` otherwise.
    pub previous: Option<StackDefinition>,
    /// Counts the stack's operations (and rollbacks): increased each time one starts.
    pub operation: u64,
}

/// What a stack is made from: template, files, environments and parameter values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackDefinition {
    /// The template text.
    pub template: Arc<str>,
    /// The files map.
    pub files: BTreeMap<String, String>,
    /// The environment files' texts, in merge order.
    pub environments: Vec<String>,
    /// Parameter values given by the user.
    pub parameters: BTreeMap<String, String>,
}

impl StackRecord {
    /// The stack's current definition (a copy).
    pub fn definition(&self) -> StackDefinition {
        StackDefinition {
            template: self.template.clone(),
            files: self.files.clone(),
            environments: self.environments.clone(),
            parameters: self.parameters.clone(),
        }
    }

    /// Replaces the stack's definition.
    pub fn set_definition(&mut self, definition: StackDefinition) {
        self.template = definition.template;
        self.files = definition.files;
        self.environments = definition.environments;
        self.parameters = definition.parameters;
    }
}

/// A resource as recorded. A replacement during an update is a second record with the same
/// name (`replaces` points at the old one), as in Heat.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRecord {
    /// The record's id (unique in the store).
    pub id: u64,
    /// The stack it belongs to (one shared copy per stack).
    pub stack_id: Arc<str>,
    /// The logical name.
    pub name: String,
    /// The resource type (shared copies of the type names).
    pub resource_type: Arc<str>,
    /// The physical id, recorded as soon as the provider returns it.
    pub physical_id: Option<String>,
    /// The resource's state.
    pub state: State,
    /// Why it is in that state (Heat's everyday `state changed` is not copied per record).
    pub status_reason: Cow<'static, str>,
    /// The resolved properties it was created or last updated with.
    pub properties: Properties,
    /// Data the provider asked to keep.
    pub data: ResourceData,
    /// The resource's metadata (the template's `metadata`, resolved when the resource was
    /// created or updated; what Heat's metadata API serves). `None`: none.
    pub metadata: Option<Box<serde_json::Value>>,
    /// The token the current step uses with the provider (recorded before the call).
    pub idempotency_token: String,
    /// The record this one replaces (during an update). Of the records of one name, the
    /// current one is the record no other record replaces; the others are cleaned up.
    pub replaces: Option<u64>,
    /// What happens to the physical resource when the record is deleted (the template's
    /// `deletion_policy` when it was last created or updated; `Retain` for an `external_id`).
    pub deletion_policy: DeletionPolicy,
    /// The records this one depended on when it was last created or updated: the order in
    /// which records are deleted comes from here, so a stack whose template has changed (or
    /// holds replaced resources awaiting clean-up) is still deleted in the right order.
    pub requires: Vec<u64>,
    /// The properties an update in progress is moving to (recorded before the provider is
    /// asked, so a resumed engine repeats the same update).
    pub target_properties: Option<Box<Properties>>,
    /// The hook (`pre-create`, ...) the resource is paused at, until a signal clears it.
    pub hook: Option<String>,
    /// The stack operation ([`StackRecord::operation`]) of the last transition: tells a
    /// resumed engine what already happened in the operation it resumes.
    pub operation: u64,
    /// When it last changed (engine clock).
    pub updated_at: Duration,
}

/// The ids of the records that another record `replaces`: of a stack's records, these are
/// the ones awaiting clean-up; every other record is the current one of its name.
pub fn replaced_ids<'a>(
    records: impl IntoIterator<Item = &'a ResourceRecord>,
) -> std::collections::BTreeSet<u64> {
    records.into_iter().filter_map(|r| r.replaces).collect()
}

/// The current record of a resource name among a stack's records: the one no other record
/// replaces (the newest, should there be several). `replaced` is [`replaced_ids`] of them.
pub fn current_record<'a>(
    records: &'a [Arc<ResourceRecord>],
    replaced: &std::collections::BTreeSet<u64>,
    name: &str,
) -> Option<&'a Arc<ResourceRecord>> {
    records
        .iter()
        .filter(|r| r.name == name && !replaced.contains(&r.id))
        .max_by_key(|r| r.id)
}

/// One event: a state transition of a stack or a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// Assigned by the store: increasing per store, never reused.
    pub id: u64,
    /// The stack.
    pub stack_id: String,
    /// The resource's logical name, or the stack's name for stack events.
    pub resource_name: String,
    /// The resource's type ([`STACK_EVENT_TYPE`] for stack events).
    pub resource_type: String,
    /// The physical id, when known.
    pub physical_id: Option<String>,
    /// The new state.
    pub state: State,
    /// Why.
    pub reason: String,
    /// When (engine clock).
    pub at: Duration,
}

/// The `resource_type` of a stack's own events.
pub const STACK_EVENT_TYPE: &str = "OS::Heat::Stack";

/// A stack snapshot: the stack's definition and each resource's snapshot data, what a
/// restore returns the stack to.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotRecord {
    /// The snapshot's id (unique, never reused).
    pub id: String,
    /// The stack it belongs to.
    pub stack_id: String,
    /// The name the user gave (may be empty).
    pub name: String,
    /// `IN_PROGRESS`, `COMPLETE` or `FAILED` (the `SNAPSHOT` action's status).
    pub status: crate::engine::state::Status,
    /// Why it is in that status.
    pub status_reason: String,
    /// The stack's definition when the snapshot was taken.
    pub definition: StackDefinition,
    /// Per resource name: its physical id and the data its provider's snapshot returned.
    pub resources: BTreeMap<String, SnapshotResource>,
    /// When it was taken (engine clock).
    pub created_at: Duration,
}

/// One resource in a [`SnapshotRecord`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SnapshotResource {
    /// The resource's type.
    pub resource_type: String,
    /// Its physical id when the snapshot was taken.
    pub physical_id: Option<String>,
    /// Its recorded properties.
    pub properties: Properties,
    /// What the provider's snapshot returned.
    pub data: ResourceData,
}

/// One write. A batch of changes is applied atomically by [`Store::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Inserts or replaces a stack (by id).
    PutStack(Box<StackRecord>),
    /// Inserts or replaces a resource (by id). Shared: an in-memory store keeps the same
    /// allocation the engine holds (one copy of each record, not two).
    PutResource(Arc<ResourceRecord>),
    /// Removes a resource record (after its deletion, or when a replaced one is cleaned up).
    RemoveResource {
        /// The record's id.
        id: u64,
    },
    /// Appends an event (its `id` is assigned by the store).
    AddEvent(Box<EventRecord>),
    /// Inserts or replaces a snapshot (by id).
    PutSnapshot(Box<SnapshotRecord>),
    /// Removes a snapshot.
    RemoveSnapshot {
        /// The snapshot's id.
        id: String,
    },
}

/// What went wrong in the store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A stack with the same name already exists (and is not deleted).
    #[error("a stack named {0} already exists")]
    DuplicateStackName(String),
    /// The batch refers to a record that does not exist.
    #[error("{0} does not exist")]
    Missing(String),
    /// The backing database failed; the batch was not applied.
    #[error("the store failed: {0}")]
    Backend(String),
}

/// Where the engine records stacks, resources and events.
///
/// **Contract:** `apply` is atomic and durable before it returns `Ok` (a crash after `Ok`
/// loses nothing of the batch; a crash before it loses all of it). Reads see every batch
/// applied before them.
#[async_trait]
pub trait Store: Send + Sync {
    /// Applies a batch of changes atomically.
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError>;

    /// A stack by id (deleted ones included).
    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError>;

    /// A project's live (not deleted) stack by name.
    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError>;

    /// Every stack, in creation order; deleted ones only when asked for.
    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError>;

    /// The resource records of a stack, by id order.
    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError>;

    /// A stack's events with an id greater than `after` (all with `None`), in order.
    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError>;

    /// A stack's snapshots, oldest first.
    async fn snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRecord>, StoreError>;

    /// Reserves `count` fresh, consecutive resource record ids and returns the first (ids
    /// are never handed out twice, even when the reservation is not used).
    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError>;
}

/// The in-memory store: everything in one mutex-guarded map, a batch applied under one lock.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    stacks: Vec<StackRecord>,
    resources: BTreeMap<u64, Arc<ResourceRecord>>,
    snapshots: Vec<SnapshotRecord>,
    events: Vec<EventRecord>,
    /// Events kept per stack (the oldest are purged beyond it; `None`: keep all).
    max_events_per_stack: Option<usize>,
    /// Events held per stack.
    event_counts: BTreeMap<String, usize>,
    next_event: u64,
    next_resource: u64,
    /// How many batches were applied (for tests of group commit).
    batches: u64,
}

/// Heat's `max_events_per_stack` default.
pub const DEFAULT_MAX_EVENTS_PER_STACK: usize = 1000;

/// Heat's `event_purge_batch_size` default: how many events beyond the limit go at once.
const EVENT_PURGE_BATCH: usize = 200;

impl MemoryStore {
    /// An empty store that keeps at most [`DEFAULT_MAX_EVENTS_PER_STACK`] events per stack
    /// (Heat's `max_events_per_stack`: older events are purged, 200 at a time).
    pub fn new() -> MemoryStore {
        MemoryStore::with_event_limit(Some(DEFAULT_MAX_EVENTS_PER_STACK))
    }

    /// An empty store keeping at most `limit` events per stack (`None`: all).
    pub fn with_event_limit(limit: Option<usize>) -> MemoryStore {
        let store = MemoryStore::default();
        store.lock().max_events_per_stack = limit;
        store
    }

    /// How many batches have been applied: the number of transactions a SQL store would
    /// have committed.
    pub fn batches(&self) -> u64 {
        self.lock().batches
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(guard) => guard,
            // A panic elsewhere while holding the lock leaves the data as the last complete
            // batch left it (batches are validated before any write), so it is safe to go on.
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Inner {
    /// Drops the oldest events of every stack over the limit, down to the limit minus a
    /// purge batch (so purging is rare).
    fn purge_events(&mut self) {
        let Some(limit) = self.max_events_per_stack else {
            return;
        };
        let over: BTreeMap<String, usize> = self
            .event_counts
            .iter()
            .filter(|(_, n)| **n > limit)
            .map(|(id, n)| (id.clone(), n - limit.saturating_sub(EVENT_PURGE_BATCH)))
            .collect();
        if over.is_empty() {
            return;
        }
        let mut to_drop = over.clone();
        self.events.retain(|e| match to_drop.get_mut(&e.stack_id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        for (id, dropped) in over {
            if let Some(n) = self.event_counts.get_mut(&id) {
                *n -= dropped;
            }
        }
    }

    /// Checks a batch against the current data without changing anything.
    fn validate(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut names: BTreeMap<(&str, &str), &str> = self
            .stacks
            .iter()
            .filter(|s| !s.deleted)
            .map(|s| ((s.project.as_str(), s.name.as_str()), s.id.as_str()))
            .collect();
        let batch_stacks: std::collections::HashSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::PutStack(s) => Some(s.id.as_str()),
                _ => None,
            })
            .collect();
        let known_stacks: std::collections::HashSet<&str> =
            self.stacks.iter().map(|s| s.id.as_str()).collect();
        for change in changes {
            match change {
                Change::PutStack(stack) if !stack.deleted => {
                    let key = (stack.project.as_str(), stack.name.as_str());
                    if let Some(id) = names.get(&key)
                        && *id != stack.id
                    {
                        return Err(StoreError::DuplicateStackName(stack.name.clone()));
                    }
                    names.insert(key, &stack.id);
                }
                Change::PutStack(stack) => {
                    // A soft delete frees the name for the rest of the batch.
                    let key = (stack.project.as_str(), stack.name.as_str());
                    if names.get(&key) == Some(&stack.id.as_str()) {
                        names.remove(&key);
                    }
                }
                Change::PutResource(resource) => {
                    let stack_known = known_stacks.contains(&*resource.stack_id)
                        || batch_stacks.contains(&*resource.stack_id);
                    if !stack_known {
                        return Err(StoreError::Missing(format!("stack {}", resource.stack_id)));
                    }
                }
                Change::PutSnapshot(snapshot) => {
                    let stack_known = known_stacks.contains(snapshot.stack_id.as_str())
                        || batch_stacks.contains(snapshot.stack_id.as_str());
                    if !stack_known {
                        return Err(StoreError::Missing(format!("stack {}", snapshot.stack_id)));
                    }
                }
                Change::RemoveResource { .. }
                | Change::AddEvent(_)
                | Change::RemoveSnapshot { .. } => {}
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.validate(&changes)?;
        for change in changes {
            match change {
                Change::PutStack(stack) => {
                    match inner.stacks.iter_mut().find(|s| s.id == stack.id) {
                        Some(existing) => *existing = *stack,
                        None => inner.stacks.push(*stack),
                    }
                }
                Change::PutResource(resource) => {
                    inner.next_resource = inner.next_resource.max(resource.id + 1);
                    inner.resources.insert(resource.id, resource);
                }
                Change::RemoveResource { id } => {
                    inner.resources.remove(&id);
                }
                Change::AddEvent(event) => {
                    let mut event = *event;
                    inner.next_event += 1;
                    event.id = inner.next_event;
                    *inner
                        .event_counts
                        .entry(event.stack_id.clone())
                        .or_default() += 1;
                    inner.events.push(event);
                }
                Change::PutSnapshot(snapshot) => {
                    match inner.snapshots.iter_mut().find(|s| s.id == snapshot.id) {
                        Some(existing) => *existing = *snapshot,
                        None => inner.snapshots.push(*snapshot),
                    }
                }
                Change::RemoveSnapshot { id } => {
                    inner.snapshots.retain(|s| s.id != id);
                }
            }
        }
        inner.purge_events();
        inner.batches += 1;
        Ok(())
    }

    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        Ok(self.lock().stacks.iter().find(|s| s.id == id).cloned())
    }

    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError> {
        Ok(self
            .lock()
            .stacks
            .iter()
            .find(|s| s.project == project && s.name == name && !s.deleted)
            .cloned())
    }

    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        Ok(self
            .lock()
            .stacks
            .iter()
            .filter(|s| include_deleted || !s.deleted)
            .cloned()
            .collect())
    }

    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        let inner = self.lock();
        let mine = || {
            inner
                .resources
                .values()
                .filter(|r| &*r.stack_id == stack_id)
        };
        let mut out = Vec::with_capacity(mine().count());
        out.extend(mine().cloned());
        Ok(out)
    }

    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        Ok(self
            .lock()
            .events
            .iter()
            .filter(|e| e.stack_id == stack_id && after.is_none_or(|a| e.id > a))
            .cloned()
            .collect())
    }

    async fn snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        Ok(self
            .lock()
            .snapshots
            .iter()
            .filter(|s| s.stack_id == stack_id)
            .cloned()
            .collect())
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let first = inner.next_resource + 1;
        inner.next_resource = inner.next_resource.saturating_add(count);
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::{Action, Status};
    use futures::executor::block_on;

    fn stack(id: &str, name: &str) -> StackRecord {
        StackRecord {
            id: id.into(),
            name: name.into(),
            project: "p1".into(),
            user: "u1".into(),
            parent: None,
            description: String::new(),
            template: "heat_template_version: 2018-08-31\n".into(),
            files: BTreeMap::new(),
            environments: Vec::new(),
            parameters: BTreeMap::new(),
            state: State::new(Action::Create, Status::InProgress),
            status_reason: "Stack CREATE started".into(),
            disable_rollback: true,
            timeout_mins: 60,
            tags: Vec::new(),
            created_at: Duration::ZERO,
            updated_at: Duration::ZERO,
            deleted: false,
            deleted_at: None,
            previous: None,
            operation: 0,
        }
    }

    fn resource(id: u64, stack_id: &str, name: &str) -> ResourceRecord {
        ResourceRecord {
            id,
            stack_id: stack_id.into(),
            name: name.into(),
            resource_type: "OS::Heat::None".into(),
            physical_id: None,
            state: State::INIT,
            status_reason: "".into(),
            properties: Properties::new(),
            data: ResourceData::new(),
            metadata: None,
            idempotency_token: format!("{stack_id}-{name}-1"),
            replaces: None,
            deletion_policy: DeletionPolicy::Delete,
            requires: Vec::new(),
            target_properties: None,
            hook: None,
            operation: 0,
            updated_at: Duration::ZERO,
        }
    }

    fn event(stack_id: &str, name: &str, state: State) -> EventRecord {
        EventRecord {
            id: 0,
            stack_id: stack_id.into(),
            resource_name: name.into(),
            resource_type: "OS::Heat::None".into(),
            physical_id: None,
            state,
            reason: "state changed".into(),
            at: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_batch_is_applied_whole_and_counted_once() {
        block_on(async {
            let store = MemoryStore::new();
            let running = State::new(Action::Create, Status::InProgress);
            store
                .apply(vec![
                    Change::PutStack(Box::new(stack("s1", "web"))),
                    Change::PutResource(Arc::new(resource(1, "s1", "a"))),
                    Change::PutResource(Arc::new(resource(2, "s1", "b"))),
                    Change::AddEvent(Box::new(event("s1", "a", running))),
                    Change::AddEvent(Box::new(event("s1", "b", running))),
                ])
                .await
                .unwrap();
            assert_eq!(store.batches(), 1);
            assert_eq!(store.resources("s1").await.unwrap().len(), 2);
            let events = store.events("s1", None).await.unwrap();
            assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
            assert_eq!(store.events("s1", Some(1)).await.unwrap().len(), 1);
            assert!(store.reserve_resource_ids(1).await.unwrap() > 2);
        });
    }

    #[test]
    fn a_rejected_batch_changes_nothing() {
        block_on(async {
            let store = MemoryStore::new();
            store
                .apply(vec![Change::PutStack(Box::new(stack("s1", "web")))])
                .await
                .unwrap();
            // Second stack with the same live name, plus other changes: all refused.
            let err = store
                .apply(vec![
                    Change::PutResource(Arc::new(resource(5, "s1", "x"))),
                    Change::PutStack(Box::new(stack("s2", "web"))),
                ])
                .await
                .unwrap_err();
            assert_eq!(err, StoreError::DuplicateStackName("web".into()));
            assert!(store.resources("s1").await.unwrap().is_empty());
            assert_eq!(store.batches(), 1);
            // A resource of an unknown stack is refused.
            let err = store
                .apply(vec![Change::PutResource(Arc::new(resource(
                    6, "nope", "x",
                )))])
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Missing(_)));
        });
    }

    #[test]
    fn deleted_stacks_free_their_name_and_are_listed_on_request() {
        block_on(async {
            let store = MemoryStore::new();
            let mut old = stack("s1", "web");
            store
                .apply(vec![Change::PutStack(Box::new(old.clone()))])
                .await
                .unwrap();
            old.deleted = true;
            old.state = State::new(Action::Delete, Status::Complete);
            store
                .apply(vec![
                    Change::PutStack(Box::new(old)),
                    Change::PutStack(Box::new(stack("s2", "web"))),
                ])
                .await
                .unwrap();
            assert_eq!(store.stacks(false).await.unwrap().len(), 1);
            assert_eq!(store.stacks(true).await.unwrap().len(), 2);
            let live = store.stack_by_name("p1", "web").await.unwrap().unwrap();
            assert_eq!(live.id, "s2");
            assert!(store.stack("s1").await.unwrap().unwrap().deleted);
        });
    }

    #[test]
    fn names_are_unique_per_project_and_snapshots_belong_to_a_stack() {
        block_on(async {
            let store = MemoryStore::new();
            let mut other = stack("s2", "web");
            other.project = "p2".into();
            store
                .apply(vec![
                    Change::PutStack(Box::new(stack("s1", "web"))),
                    Change::PutStack(Box::new(other)),
                ])
                .await
                .unwrap();
            assert_eq!(
                store.stack_by_name("p2", "web").await.unwrap().unwrap().id,
                "s2"
            );
            assert!(store.stack_by_name("p3", "web").await.unwrap().is_none());
            let again = store
                .apply(vec![Change::PutStack(Box::new(stack("s3", "web")))])
                .await;
            assert_eq!(again, Err(StoreError::DuplicateStackName("web".into())));

            let snapshot = SnapshotRecord {
                id: "snap1".into(),
                stack_id: "s1".into(),
                name: "before".into(),
                status: Status::Complete,
                status_reason: "Stack SNAPSHOT completed successfully".into(),
                definition: StackDefinition::default(),
                resources: BTreeMap::new(),
                created_at: Duration::from_secs(3),
            };
            let mut orphan = snapshot.clone();
            orphan.id = "snap2".into();
            orphan.stack_id = "nope".into();
            assert!(matches!(
                store
                    .apply(vec![Change::PutSnapshot(Box::new(orphan))])
                    .await,
                Err(StoreError::Missing(_))
            ));
            store
                .apply(vec![Change::PutSnapshot(Box::new(snapshot.clone()))])
                .await
                .unwrap();
            assert_eq!(store.snapshots("s1").await.unwrap(), vec![snapshot]);
            assert!(store.snapshots("s2").await.unwrap().is_empty());
            store
                .apply(vec![Change::RemoveSnapshot { id: "snap1".into() }])
                .await
                .unwrap();
            assert!(store.snapshots("s1").await.unwrap().is_empty());
        });
    }

    #[test]
    fn resources_are_replaced_and_removed_by_id() {
        block_on(async {
            let store = MemoryStore::new();
            let mut r = resource(1, "s1", "a");
            store
                .apply(vec![
                    Change::PutStack(Box::new(stack("s1", "web"))),
                    Change::PutResource(Arc::new(r.clone())),
                ])
                .await
                .unwrap();
            r.physical_id = Some("phys-1".into());
            r.state = State::new(Action::Create, Status::Complete);
            store
                .apply(vec![Change::PutResource(Arc::new(r.clone()))])
                .await
                .unwrap();
            let got = store.resources("s1").await.unwrap();
            assert_eq!(got, vec![Arc::new(r)]);
            store
                .apply(vec![Change::RemoveResource { id: 1 }])
                .await
                .unwrap();
            assert!(store.resources("s1").await.unwrap().is_empty());
        });
    }
}
