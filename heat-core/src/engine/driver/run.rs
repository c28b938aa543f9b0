//! One run of a stack operation: the stack's template and records in memory, the recording
//! of transitions (one pending batch per loop turn), the loop itself, and the step futures
//! that call providers.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

use crate::engine::provider::{
    Created, Peer, Progress, Properties, ProviderError, ResourceContext, ResourceData,
    ResourceProvider, Updated,
};
use crate::engine::queue::{DependencyQueue, NodeId};
use crate::engine::registry::Resolved;
use crate::engine::services::Services;
use crate::engine::state::{Action, State, Status};
use crate::engine::store::{
    Change, EventRecord, ResourceRecord, STACK_EVENT_TYPE, StackRecord, Store, StoreError,
    current_record, replaced_ids,
};
use crate::environment::Environment;
use crate::eval::{
    EvalContext, ParameterValues, PseudoParams, ResourceResolver, StaticResource, StaticResources,
    TemplateConditions, condition_enabled, evaluate,
};
use crate::graph::DependencyGraph;
use crate::template::model::{DeletionPolicy, DeletionPolicySpec, Template};
use crate::template::refs::{RefKind, Reference};

use super::load::Loaded;
use super::{Cancel, Control, Engine, EngineConfig, StackOutcome};

/// Which traversal a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Forward over the template: create every resource.
    Create,
    /// Forward: record the given physical ids (adopt), create nothing.
    Adopt,
    /// Forward over the new template: create, update or replace each resource.
    Update,
    /// Backward over the records: delete every resource (stack delete).
    Delete,
    /// Backward over the records: delete every resource of a failed create.
    Rollback,
    /// Backward over the records that are no longer current (replaced or removed).
    Cleanup,
    /// Backward over the template: suspend.
    Suspend,
    /// Forward over the template: resume.
    Resume,
    /// Forward over the template: check.
    Check,
    /// Forward over the current records: snapshot each (stack snapshot).
    Snapshot,
    /// Forward over the current records: restore each from the snapshot's data (the first
    /// pass of a stack restore; an update to the snapshot's definition follows).
    Restore,
}

/// One resource of the target template (graph node `i` is slot `i`).
///
/// Its name is the graph node's ([`Run::slot_name`]): one copy per resource, not one per
/// structure.
pub(super) struct Slot {
    /// Index in `template.resources`.
    pub(super) resource: Option<usize>,
    /// The type after registry mapping (one shared copy per distinct type).
    pub(super) type_name: Arc<str>,
    pub(super) provider: Option<Arc<dyn ResourceProvider>>,
    /// Why there is no provider.
    pub(super) no_provider: Option<String>,
    pub(super) enabled: bool,
    pub(super) policy: DeletionPolicy,
    /// The current record (index into `records`).
    pub(super) current: Option<usize>,
}

/// One resource record of the stack, current or awaiting clean-up.
pub(super) struct Rec {
    /// Shared with an in-memory store (changed copy-on-write).
    pub(super) record: Arc<ResourceRecord>,
    pub(super) provider: Option<Arc<dyn ResourceProvider>>,
    /// Gone from the store (deleted, or never stored and dropped).
    pub(super) removed: bool,
}

/// A provider call to make, launched once the batch announcing it is stored.
pub(super) enum Op {
    /// Fetch these attributes of dependencies, then evaluate the properties.
    Fetch(StaticResources, Vec<Fetch>),
    Create(Properties),
    CheckCreate(String, Duration),
    Update(String, Properties, Properties),
    CheckUpdate(String, Duration),
    Adopt(String, ResourceData),
    Snapshot(String),
    Delete(String),
    CheckDelete(String, Duration),
    Suspend(String),
    CheckSuspend(String, Duration),
    Resume(String),
    CheckResume(String, Duration),
    Check(String),
    /// Restore from a snapshot's data.
    Restore(String, ResourceData),
    /// Wait, then read the record's hook from the store.
    HookWait(Duration),
}

/// Which kind of step finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OpKind {
    Fetch,
    Create,
    Update,
    Adopt,
    Check,
    Snapshot,
    Delete,
    Action,
    Hook,
}

/// What a step returned.
pub(super) enum Reply {
    Fetched(StaticResources),
    Created(Created),
    Updated(Updated),
    Progress(Progress),
    Snapshot(ResourceData),
    /// A restore's answer: the properties to record (`None`: keep them).
    Restored(Option<Properties>),
    Done,
    /// The hook the store has for the record now (`None`: cleared).
    Hook(Option<String>),
}

/// A finished step: queue node, record index, kind, result.
pub(super) type Finished = (usize, usize, OpKind, Result<Reply, ProviderError>);
type Step = BoxFuture<'static, Finished>;

/// The attributes to fetch from one resource.
pub(super) struct Fetch {
    target: Target,
    physical_id: String,
    attributes: Vec<String>,
}

impl Fetch {
    /// The resource whose attributes are fetched.
    pub(super) fn resource_name(&self) -> &str {
        &self.target.resource_name
    }
}

/// A dependency of a watching provider: name, type, provider.
type PeerDep = (String, String, Option<Arc<dyn ResourceProvider>>);

/// Where a watching provider's peers come from: the store, re-read before the call.
#[derive(Clone)]
struct PeerSource {
    store: Arc<dyn Store>,
    stack_id: String,
    /// The dependencies.
    deps: Vec<PeerDep>,
}

/// An owned [`ResourceContext`], so a step future can own it.
#[derive(Clone)]
pub(super) struct Target {
    stack_id: String,
    stack_name: String,
    resource_name: String,
    resource_type: String,
    token: String,
    data: ResourceData,
    services: Services,
    provider: Arc<dyn ResourceProvider>,
    peers: Vec<Peer>,
    peer_source: Option<PeerSource>,
}

impl Target {
    pub(super) fn ctx(&self) -> ResourceContext<'_> {
        ResourceContext {
            stack_id: &self.stack_id,
            stack_name: &self.stack_name,
            resource_name: &self.resource_name,
            resource_type: &self.resource_type,
            idempotency_token: &self.token,
            data: &self.data,
            services: &self.services,
            peers: &self.peers,
        }
    }

    /// Re-reads the peers of a watching provider from the store.
    async fn refresh_peers(&mut self) -> Result<(), ProviderError> {
        let Some(source) = &self.peer_source else {
            return Ok(());
        };
        let records = source
            .store
            .resources(&source.stack_id)
            .await
            .map_err(|e| ProviderError::Retryable(e.to_string()))?;
        let replaced = replaced_ids(records.iter().map(|r| &**r));
        let mut peers = Vec::new();
        for (name, ty, provider) in &source.deps {
            let Some(record) = current_record(&records, &replaced, name) else {
                continue;
            };
            let reference = match (&record.physical_id, provider) {
                (Some(pid), Some(p)) => {
                    let ctx = ResourceContext {
                        stack_id: &source.stack_id,
                        stack_name: &self.stack_name,
                        resource_name: name,
                        resource_type: ty,
                        idempotency_token: &record.idempotency_token,
                        data: &record.data,
                        services: &self.services,
                        peers: &[],
                    };
                    Some(p.reference_id(&ctx, pid).unwrap_or_else(|| pid.clone()))
                }
                (Some(pid), None) => Some(pid.clone()),
                _ => None,
            };
            peers.push(Peer {
                name: name.clone(),
                resource_type: ty.clone(),
                physical_id: record.physical_id.clone(),
                reference,
                data: record.data.clone(),
            });
        }
        self.peers = peers;
        Ok(())
    }
}

pub(super) struct Run {
    pub(super) engine: Engine,
    pub(super) control: Arc<Control>,
    pub(super) stack: StackRecord,
    pub(super) template: Template,
    pub(super) env: Environment,
    pub(super) graph: DependencyGraph,
    pub(super) params: ParameterValues,
    pub(super) pseudo: PseudoParams,
    pub(super) slots: Vec<Slot>,
    pub(super) records: Vec<Rec>,
    /// Reserved record ids not used yet: `next..end`.
    pub(super) ids: std::ops::Range<u64>,
    /// The changes of the current loop turn.
    pub(super) pending: Vec<Change>,
    /// Steps to launch once `pending` is stored: (queue node, record, operation).
    pub(super) deferred: Vec<(usize, usize, Op)>,
    /// The first failure of the traversal.
    pub(super) failure: Option<String>,
    pub(super) timed_out: bool,
    /// The cancel request seen by the traversal.
    pub(super) cancelled: Cancel,
    /// When the operation started (for the timeout).
    pub(super) started: Duration,
    /// Whether the run resumes an interrupted operation.
    pub(super) resuming: bool,
    /// The stack's id, shared by its records.
    pub(super) stack_key: Arc<str>,
    /// A snapshot: the one being taken (stack snapshot) or the one restored from.
    pub(super) snapshot: Option<Box<crate::engine::store::SnapshotRecord>>,
}

impl Run {
    /// A run over a loaded definition and the stack's records.
    pub(super) fn new(
        engine: Engine,
        control: Arc<Control>,
        stack: StackRecord,
        loaded: Loaded,
        records: Vec<Arc<ResourceRecord>>,
    ) -> Run {
        let Loaded {
            template,
            graph,
            env,
            params,
        } = loaded;
        let graph = graph.unwrap_or_else(|| crate::graph::build(&template).0);
        let pseudo = PseudoParams {
            stack_name: Some(stack.name.clone()),
            stack_id: Some(stack.id.clone()),
            ..PseudoParams::new()
        };
        let started = stack.updated_at;
        let stack_key: Arc<str> = Arc::from(stack.id.as_str());
        let mut run = Run {
            engine,
            control,
            stack,
            template,
            env,
            graph,
            params,
            pseudo,
            slots: Vec::new(),
            records: Vec::new(),
            ids: 0..0,
            pending: Vec::new(),
            deferred: Vec::new(),
            failure: None,
            timed_out: false,
            cancelled: Cancel::No,
            started,
            resuming: false,
            stack_key,
            snapshot: None,
        };
        run.slots = run.build_slots();
        run.set_records(records);
        run
    }

    fn build_slots(&self) -> Vec<Slot> {
        let mut slots = Vec::with_capacity(self.graph.len());
        let mut types: HashMap<String, Arc<str>> = HashMap::new();
        let by_name: BTreeMap<&str, usize> = self
            .template
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.value.as_str(), i))
            .collect();
        for graph_node in self.graph.resources() {
            let resource = by_name.get(&*graph_node.name).copied();
            let Some(def) = resource.and_then(|i| self.template.resources.get(i)) else {
                slots.push(Slot {
                    resource: None,
                    type_name: intern(&mut types, &graph_node.ty),
                    provider: None,
                    no_provider: Some("the resource is not in the template".to_string()),
                    enabled: false,
                    policy: DeletionPolicy::Delete,
                    current: None,
                });
                continue;
            };
            let (provider, type_name, no_provider) =
                match self
                    .engine
                    .registry
                    .resolve(&self.env, &def.name.value, &def.ty.value)
                {
                    Resolved::Provider(p, name) => (Some(p), name, None),
                    Resolved::TemplateResource(file) => (
                        None,
                        def.ty.value.clone(),
                        Some(format!(
                            "the template resource {file} (a nested stack) is not supported yet"
                        )),
                    ),
                    other => (
                        None,
                        def.ty.value.clone(),
                        Some(format!("the type cannot be resolved: {other:?}")),
                    ),
                };
            let enabled = match def.condition.as_deref() {
                None => true,
                Some(condition) => self
                    .eval_in(&StaticResources::new(), |ctx| {
                        condition_enabled(Some(condition), ctx)
                    })
                    .unwrap_or(true),
            };
            let policy = if def.external_id.is_some() {
                // Heat: an external resource is never deleted by the stack.
                DeletionPolicy::Retain
            } else {
                match def.deletion_policy.as_deref() {
                    None => DeletionPolicy::Delete,
                    Some(DeletionPolicySpec::Known(p)) => p.value,
                    Some(DeletionPolicySpec::Expr(e)) => {
                        match self.eval_in(&StaticResources::new(), |ctx| evaluate(e, ctx)) {
                            Ok(Value::String(s)) if s.eq_ignore_ascii_case("retain") => {
                                DeletionPolicy::Retain
                            }
                            Ok(Value::String(s)) if s.eq_ignore_ascii_case("snapshot") => {
                                DeletionPolicy::Snapshot
                            }
                            _ => DeletionPolicy::Delete,
                        }
                    }
                }
            };
            slots.push(Slot {
                resource,
                type_name: intern(&mut types, &type_name),
                provider,
                no_provider,
                enabled,
                policy,
                current: None,
            });
        }
        slots
    }

    /// Loads the stack's records and picks each enabled slot's current one: of the records
    /// of a name, the one no other record replaces (the newest when several).
    pub(super) fn set_records(&mut self, records: Vec<Arc<ResourceRecord>>) {
        let replaced = replaced_ids(records.iter().map(|r| &**r));
        self.records = records
            .into_iter()
            .map(|record| Rec {
                provider: self.engine.registry.get(&record.resource_type).cloned(),
                record,
                removed: false,
            })
            .collect();
        let mut current: Vec<Option<usize>> = vec![None; self.slots.len()];
        for (i, rec) in self.records.iter().enumerate() {
            if replaced.contains(&rec.record.id) {
                continue;
            }
            let Some(slot) = self.slot_of(&rec.record.name) else {
                continue;
            };
            if !self.slots[slot].enabled {
                continue;
            }
            let newer = current[slot].is_none_or(|c| self.records[c].record.id < rec.record.id);
            if newer {
                current[slot] = Some(i);
            }
        }
        for (slot, c) in current.into_iter().enumerate() {
            self.slots[slot].current = c;
        }
    }

    /// The slot index of a resource name (slot `i` is graph node `i`).
    /// The index of a resource's current record (of its name's records, the one no other
    /// record replaces: the newest should there be several), whatever the template holds.
    pub(super) fn current_of(&self, name: &str) -> Option<usize> {
        let replaced = replaced_ids(self.records.iter().map(|r| &*r.record));
        self.records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !r.removed && r.record.name == name && !replaced.contains(&r.record.id)
            })
            .max_by_key(|(_, r)| r.record.id)
            .map(|(i, _)| i)
    }

    /// The resource name of a slot (its graph node's name).
    pub(super) fn slot_name(&self, slot: usize) -> &str {
        self.graph
            .graph()
            .node_weight(petgraph::graph::NodeIndex::new(slot))
            .map_or("", |node| &*node.name)
    }

    pub(super) fn slot_of(&self, name: &str) -> Option<usize> {
        self.graph.node_index(name).map(|i| i.index())
    }

    /// The slot of a resource name.
    pub(super) fn slot_named(&self, name: &str) -> Option<&Slot> {
        self.slot_of(name).and_then(|i| self.slots.get(i))
    }

    /// Whether record `rec` is the current record of its slot.
    pub(super) fn is_current(&self, rec: usize) -> bool {
        self.records
            .get(rec)
            .and_then(|r| self.slot_named(&r.record.name))
            .is_some_and(|s| s.current == Some(rec))
    }

    /// A fresh record id from the reservation (reserving more when it is used up).
    pub(super) async fn reserve(&mut self, count: u64) -> Result<(), StoreError> {
        let first = self.engine.store.reserve_resource_ids(count).await?;
        self.ids = first..first.saturating_add(count);
        Ok(())
    }

    pub(super) fn take_id(&mut self) -> Option<u64> {
        self.ids.next()
    }

    /// A new record for a slot (state `INIT_COMPLETE`), stored with the next batch; `None`
    /// when the reservation is used up (a bug: a run reserves one id per slot).
    pub(super) fn new_record(&mut self, slot: usize, replaces: Option<u64>) -> Option<usize> {
        let id = self.take_id()?;
        let s = self.slots.get(slot)?;
        let record = ResourceRecord {
            id,
            stack_id: Arc::clone(&self.stack_key),
            name: self.slot_name(slot).to_string(),
            resource_type: Arc::clone(&s.type_name),
            physical_id: None,
            state: State::INIT,
            status_reason: Cow::Borrowed(""),
            properties: Properties::new(),
            data: ResourceData::new(),
            metadata: None,
            idempotency_token: String::new(),
            replaces,
            deletion_policy: s.policy,
            requires: Vec::new(),
            target_properties: None,
            hook: None,
            operation: self.stack.operation,
            updated_at: self.now(),
        };
        self.records.push(Rec {
            record: Arc::new(record),
            provider: s.provider.clone(),
            removed: false,
        });
        let index = self.records.len() - 1;
        self.slots[slot].current = Some(index);
        self.put_record(index);
        Some(index)
    }

    /// Evaluates with this stack's parameters, pseudo-parameters, files, conditions and the
    /// given resources. Synchronous: the condition table is not `Send`.
    pub(super) fn eval_in<T>(
        &self,
        resources: &dyn ResourceResolver,
        f: impl FnOnce(&EvalContext<'_>) -> T,
    ) -> T {
        let conditions = TemplateConditions::new(&self.template.conditions);
        let ctx = EvalContext::for_template(&self.template)
            .with_parameters(&self.params)
            .with_pseudo(&self.pseudo)
            .with_resources(resources)
            .with_files(&self.stack.files)
            .with_conditions(&conditions);
        f(&ctx)
    }

    pub(super) fn now(&self) -> Duration {
        self.engine.services.clock.now()
    }

    fn deadline(&self) -> Duration {
        self.started + Duration::from_secs(u64::from(self.stack.timeout_mins) * 60)
    }

    pub(super) fn config(&self) -> &EngineConfig {
        &self.engine.config
    }

    pub(super) fn outcome(&self) -> StackOutcome {
        StackOutcome {
            id: self.stack.id.clone(),
            name: self.stack.name.clone(),
            state: self.stack.state,
            reason: self.stack.status_reason.clone(),
        }
    }

    // -- recording ------------------------------------------------------------------------

    /// Appends the stack's current state as an event.
    pub(super) fn stack_event(&mut self) {
        self.pending.push(Change::AddEvent(Box::new(EventRecord {
            id: 0,
            stack_id: self.stack.id.clone(),
            resource_name: self.stack.name.clone(),
            resource_type: STACK_EVENT_TYPE.to_string(),
            physical_id: Some(self.stack.id.clone()),
            state: self.stack.state,
            reason: self.stack.status_reason.clone(),
            at: self.stack.updated_at,
        })));
    }

    /// Moves the stack to a state: the record and the event go into the pending batch.
    pub(super) fn set_stack(&mut self, state: State, reason: &str) {
        if state.status == Status::InProgress && state != self.stack.state {
            self.stack.operation += 1;
        }
        self.stack.state = state;
        self.stack.status_reason = reason.to_string();
        self.stack.updated_at = self.now();
        self.pending
            .push(Change::PutStack(Box::new(self.stack.clone())));
        self.stack_event();
    }

    /// Every resource transition goes through here: the record and its event are appended
    /// to the pending batch.
    pub(super) fn transition(&mut self, rec: usize, state: State, reason: &str) {
        let now = self.now();
        let Some(r) = self.records.get_mut(rec) else {
            return;
        };
        let operation = self.stack.operation;
        let record = Arc::make_mut(&mut r.record);
        record.state = state;
        record.status_reason = reason_text(reason);
        record.updated_at = now;
        record.operation = operation;
        let event = EventRecord {
            id: 0,
            stack_id: record.stack_id.to_string(),
            resource_name: record.name.clone(),
            resource_type: record.resource_type.to_string(),
            physical_id: record.physical_id.clone(),
            state,
            reason: reason.to_string(),
            at: now,
        };
        self.pending.push(Change::PutResource(r.record.clone()));
        self.pending.push(Change::AddEvent(Box::new(event)));
    }

    /// An event about a resource that does not change its state (a hook, a signal).
    pub(super) fn resource_event(&mut self, rec: usize, state: State, reason: &str) {
        let now = self.now();
        let Some(r) = self.records.get(rec) else {
            return;
        };
        self.pending.push(Change::AddEvent(Box::new(EventRecord {
            id: 0,
            stack_id: r.record.stack_id.to_string(),
            resource_name: r.record.name.clone(),
            resource_type: r.record.resource_type.to_string(),
            physical_id: r.record.physical_id.clone(),
            state,
            reason: reason.to_string(),
            at: now,
        })));
    }

    /// Records a resource's data (physical id, provider data) without a transition.
    pub(super) fn put_record(&mut self, rec: usize) {
        if let Some(r) = self.records.get(rec) {
            self.pending.push(Change::PutResource(r.record.clone()));
        }
    }

    /// Removes a resource's record.
    pub(super) fn remove_record(&mut self, rec: usize) {
        if let Some(r) = self.records.get_mut(rec)
            && !r.removed
        {
            r.removed = true;
            self.pending
                .push(Change::RemoveResource { id: r.record.id });
        }
    }

    /// Stores the pending batch (if any) in one [`Store::apply`].
    pub(super) async fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.engine.store.apply(batch).await
    }

    // -- the loop -------------------------------------------------------------------------

    /// Drives a traversal until nothing runs and nothing can start.
    pub(super) async fn traverse(
        &mut self,
        queue: &mut DependencyQueue,
        mode: Mode,
    ) -> Result<(), StoreError> {
        let mut in_flight: FuturesUnordered<Step> = FuturesUnordered::new();
        loop {
            if !self.timed_out && self.now() >= self.deadline() {
                self.timed_out = true;
                self.failure.get_or_insert_with(|| "Timed out".to_string());
                queue.stop();
            }
            if self.cancelled == Cancel::No {
                let cancel = self.control.cancel();
                if cancel != Cancel::No && matches!(mode, Mode::Create | Mode::Update) {
                    self.cancelled = cancel;
                    self.failure.get_or_insert_with(|| {
                        format!("Stack {} cancelled", self.stack.state.action.as_str())
                    });
                    queue.stop();
                }
            }
            while let Some(node) = queue.next_ready() {
                self.begin(queue, node, mode);
            }
            self.commit().await?;
            for (node, rec, op) in std::mem::take(&mut self.deferred) {
                in_flight.push(self.launch(node, rec, op));
            }
            let Some(first) = in_flight.next().await else {
                break;
            };
            self.finish(queue, first, mode);
            while let Some(Some(done)) = in_flight.next().now_or_never() {
                self.finish(queue, done, mode);
            }
        }
        self.commit().await
    }

    /// Starts a ready node.
    fn begin(&mut self, queue: &mut DependencyQueue, id: NodeId, mode: Mode) {
        let node = id.index();
        match mode {
            Mode::Create | Mode::Adopt | Mode::Update => self.begin_forward(queue, node, mode),
            Mode::Delete | Mode::Rollback | Mode::Cleanup => {
                self.begin_backward(queue, node, mode);
            }
            Mode::Suspend | Mode::Resume | Mode::Check | Mode::Snapshot | Mode::Restore => {
                self.begin_action(queue, node, mode)
            }
        }
    }

    /// A finished step.
    fn finish(&mut self, queue: &mut DependencyQueue, done: Finished, mode: Mode) {
        match mode {
            Mode::Create | Mode::Adopt | Mode::Update => self.finish_forward(queue, done, mode),
            Mode::Delete | Mode::Rollback | Mode::Cleanup => {
                self.finish_backward(queue, done, mode);
            }
            Mode::Suspend | Mode::Resume | Mode::Check | Mode::Snapshot | Mode::Restore => {
                self.finish_action(queue, done, mode)
            }
        }
    }

    /// Fails a record: its `<ACTION>_FAILED` transition, the queue told, the traversal
    /// stopped after the first failure.
    pub(super) fn fail(
        &mut self,
        queue: &mut DependencyQueue,
        node: usize,
        rec: usize,
        action: Action,
        reason: &str,
    ) {
        self.transition(rec, State::new(action, Status::Failed), reason);
        self.fail_node(queue, node, rec, action, reason);
    }

    /// Fails a node without a record transition (there may be no record).
    pub(super) fn fail_node(
        &mut self,
        queue: &mut DependencyQueue,
        node: usize,
        rec: usize,
        action: Action,
        reason: &str,
    ) {
        let _ = queue.fail(nid(node));
        queue.stop();
        if self.failure.is_none() {
            let name = self
                .records
                .get(rec)
                .map(|r| r.record.name.clone())
                .or_else(|| {
                    self.slots
                        .get(node)
                        .map(|_| self.slot_name(node).to_string())
                })
                .unwrap_or_default();
            self.failure = Some(failure_reason(action, &name, reason));
        }
    }

    pub(super) fn physical_id(&self, rec: usize) -> String {
        self.records
            .get(rec)
            .and_then(|r| r.record.physical_id.clone())
            .unwrap_or_default()
    }

    /// The step future of an operation on a record.
    pub(super) fn launch(&self, node: usize, rec: usize, op: Op) -> Step {
        let config = self.engine.config.clone();
        let target = self.target(rec);
        let services = self.engine.services.clone();
        let store = self.engine.store.clone();
        let stack_id = self.stack.id.clone();
        let record_id = self.records.get(rec).map(|r| r.record.id);
        async move {
            let kind = match &op {
                Op::Fetch(..) => OpKind::Fetch,
                Op::Create(_) | Op::CheckCreate(..) => OpKind::Create,
                Op::Update(..) | Op::CheckUpdate(..) => OpKind::Update,
                Op::Adopt(..) => OpKind::Adopt,
                Op::Check(_) | Op::Restore(..) => OpKind::Check,
                Op::Snapshot(_) => OpKind::Snapshot,
                Op::Delete(_) | Op::CheckDelete(..) => OpKind::Delete,
                Op::Suspend(_) | Op::CheckSuspend(..) | Op::Resume(_) | Op::CheckResume(..) => {
                    OpKind::Action
                }
                Op::HookWait(_) => OpKind::Hook,
            };
            let result = run_op(op, target, &config, &services, &store, &stack_id, record_id).await;
            (node, rec, kind, result)
        }
        .boxed()
    }

    /// An owned provider context for a record (`None` without a provider).
    pub(super) fn target(&self, rec: usize) -> Option<Target> {
        let r = self.records.get(rec)?;
        let provider = r.provider.clone()?;
        let peer_source = if provider.watches_dependencies() {
            let deps = self
                .graph
                .dependencies(&r.record.name)
                .into_iter()
                .map(|name| {
                    let slot = self.slot_named(name);
                    (
                        name.to_string(),
                        slot.map(|s| s.type_name.to_string()).unwrap_or_default(),
                        slot.and_then(|s| s.provider.clone()),
                    )
                })
                .collect();
            Some(PeerSource {
                store: self.engine.store.clone(),
                stack_id: self.stack.id.clone(),
                deps,
            })
        } else {
            None
        };
        Some(Target {
            stack_id: self.stack.id.clone(),
            stack_name: self.stack.name.clone(),
            resource_name: r.record.name.clone(),
            resource_type: r.record.resource_type.to_string(),
            token: r.record.idempotency_token.clone(),
            data: r.record.data.clone(),
            services: self.engine.services.clone(),
            provider,
            peers: Vec::new(),
            peer_source,
        })
    }

    /// The resolver table for the given references: reference ids now, attributes as
    /// fetches to make. Only current resources with a physical id are in the table.
    pub(super) fn resolver_for(&self, refs: &[Reference]) -> (StaticResources, Vec<Fetch>) {
        let mut attributes: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        let mut table = StaticResources::new();
        for r in refs {
            let Some(slot) = self.slot_named(&r.name) else {
                continue;
            };
            let Some(rec) = slot.current else { continue };
            let Some(record) = self.records.get(rec).map(|x| &x.record) else {
                continue;
            };
            let Some(physical_id) = &record.physical_id else {
                continue;
            };
            if !table.resources.contains_key(&r.name) {
                let reference = self
                    .target(rec)
                    .and_then(|t| t.provider.reference_id(&t.ctx(), physical_id))
                    .unwrap_or_else(|| physical_id.clone());
                table.resources.insert(
                    r.name.clone(),
                    StaticResource {
                        reference: Some(Value::String(reference)),
                        attributes: serde_json::Map::new(),
                    },
                );
            }
            match &r.kind {
                RefKind::Attribute(Some(name)) => {
                    attributes.entry(rec).or_default().insert(name.clone());
                }
                RefKind::Attribute(None) => {
                    let set = attributes.entry(rec).or_default();
                    if let Some(p) = &slot.provider {
                        set.extend(p.schema().attributes.iter().map(|a| a.name.to_string()));
                    }
                }
                _ => {}
            }
        }
        let fetches = attributes
            .into_iter()
            .filter_map(|(rec, names)| {
                Some(Fetch {
                    target: self.target(rec)?,
                    physical_id: self.physical_id(rec),
                    attributes: names.into_iter().collect(),
                })
            })
            .collect();
        (table, fetches)
    }

    /// The current records of the slot's dependencies (by record id), for `requires`.
    pub(super) fn requires_of(&self, slot: usize) -> Vec<u64> {
        if slot >= self.slots.len() {
            return Vec::new();
        }
        let mut out: Vec<u64> = self
            .graph
            .dependencies(self.slot_name(slot))
            .into_iter()
            .filter_map(|name| self.slot_named(name))
            .filter_map(|x| x.current)
            .filter_map(|rec| self.records.get(rec).map(|r| r.record.id))
            .collect();
        out.sort_unstable();
        out
    }
}

/// Runs one operation (the body of a step future).
async fn run_op(
    op: Op,
    target: Option<Target>,
    config: &EngineConfig,
    services: &Services,
    store: &Arc<dyn Store>,
    stack_id: &str,
    record_id: Option<u64>,
) -> Result<Reply, ProviderError> {
    match op {
        Op::Fetch(table, fetches) => fetch_attributes(table, fetches, config)
            .await
            .map(Reply::Fetched),
        Op::HookWait(delay) => {
            services.clock.sleep(delay).await;
            let records = store
                .resources(stack_id)
                .await
                .map_err(|e| ProviderError::Retryable(e.to_string()))?;
            let hook = records
                .into_iter()
                .find(|r| Some(r.id) == record_id)
                .and_then(|r| r.hook.clone());
            Ok(Reply::Hook(hook))
        }
        other => {
            let Some(mut t) = target else {
                return Err(ProviderError::Failed(
                    "the resource has no provider".to_string(),
                ));
            };
            let delay = match &other {
                Op::CheckCreate(_, d)
                | Op::CheckUpdate(_, d)
                | Op::CheckDelete(_, d)
                | Op::CheckSuspend(_, d)
                | Op::CheckResume(_, d) => *d,
                _ => Duration::ZERO,
            };
            if !delay.is_zero() {
                services.clock.sleep(delay).await;
            }
            t.refresh_peers().await?;
            let ctx = t.ctx();
            let p = &t.provider;
            match other {
                Op::Create(props) => retrying(config, services, || p.create(&ctx, &props))
                    .await
                    .map(Reply::Created),
                Op::CheckCreate(id, _) => retrying(config, services, || p.check_create(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::Update(id, old, new) => {
                    retrying(config, services, || p.update(&ctx, &id, &old, &new))
                        .await
                        .map(Reply::Updated)
                }
                Op::CheckUpdate(id, _) => retrying(config, services, || p.check_update(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::Adopt(id, data) => retrying(config, services, || p.adopt(&ctx, &id, &data))
                    .await
                    .map(|()| Reply::Done),
                Op::Snapshot(id) => retrying(config, services, || p.snapshot(&ctx, &id))
                    .await
                    .map(Reply::Snapshot),
                Op::Delete(id) => retrying(config, services, || p.delete(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::CheckDelete(id, _) => retrying(config, services, || p.check_delete(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::Suspend(id) => retrying(config, services, || p.suspend(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::CheckSuspend(id, _) => {
                    retrying(config, services, || p.check_suspend(&ctx, &id))
                        .await
                        .map(Reply::Progress)
                }
                Op::Resume(id) => retrying(config, services, || p.resume(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::CheckResume(id, _) => retrying(config, services, || p.check_resume(&ctx, &id))
                    .await
                    .map(Reply::Progress),
                Op::Check(id) => retrying(config, services, || p.check(&ctx, &id))
                    .await
                    .map(|()| Reply::Done),
                Op::Restore(id, data) => retrying(config, services, || p.restore(&ctx, &id, &data))
                    .await
                    .map(Reply::Restored),
                Op::Fetch(..) | Op::HookWait(_) => Err(ProviderError::Failed(
                    "internal error: unexpected operation".to_string(),
                )),
            }
        }
    }
}

/// Calls a provider operation, retrying [`ProviderError::Retryable`] failures up to the
/// retry limit with exponential backoff on the engine's clock.
pub(super) async fn retrying<'a, T, F>(
    config: &EngineConfig,
    services: &Services,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> BoxFuture<'a, Result<T, ProviderError>>,
{
    let mut attempt: u32 = 0;
    loop {
        match call().await {
            Err(ProviderError::Retryable(_)) if attempt < config.retry_limit => {
                let delay = config
                    .retry_base
                    .saturating_mul(2u32.saturating_pow(attempt));
                services.clock.sleep(delay).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Fetches the attributes of each resource into the table.
pub(super) async fn fetch_attributes(
    mut table: StaticResources,
    fetches: Vec<Fetch>,
    config: &EngineConfig,
) -> Result<StaticResources, ProviderError> {
    for mut fetch in fetches {
        fetch.target.refresh_peers().await?;
        let ctx = fetch.target.ctx();
        for name in &fetch.attributes {
            let got = retrying(config, &fetch.target.services, || {
                fetch
                    .target
                    .provider
                    .attribute(&ctx, &fetch.physical_id, name)
            })
            .await;
            let value = match got {
                Ok(v) => v,
                // Left out: evaluation reports the unknown attribute by name.
                Err(ProviderError::UnknownAttribute(_)) => continue,
                Err(e) => {
                    return Err(ProviderError::Failed(format!(
                        "could not get attribute {name} of resource {}: {e}",
                        fetch.target.resource_name
                    )));
                }
            };
            if let Some(entry) = table.resources.get_mut(&fetch.target.resource_name) {
                entry.attributes.insert(name.clone(), value);
            }
        }
    }
    Ok(table)
}

/// The stack's status reason for a resource's failure (`Resource CREATE failed: web: ...`).
pub(super) fn failure_reason(action: Action, name: &str, reason: &str) -> String {
    format!("Resource {} failed: {name}: {reason}", action.as_str())
}

/// The queue node of an index.
pub(super) fn nid(node: usize) -> NodeId {
    NodeId::new(u32::try_from(node).unwrap_or(u32::MAX))
}

/// A fresh idempotency token: 128 random bits, hex.
pub(super) fn new_token(services: &Services) -> String {
    let mut bytes = [0u8; 16];
    services.random.fill(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A random (version 4) UUID.
pub(super) fn new_uuid(services: &Services) -> String {
    let mut b = [0u8; 16];
    services.random.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A status reason as recorded: Heat's everyday reasons are not copied per record.
fn reason_text(reason: &str) -> Cow<'static, str> {
    const COMMON: [&str; 2] = ["state changed", ""];
    match COMMON.iter().find(|c| **c == reason) {
        Some(common) => Cow::Borrowed(common),
        None => Cow::Owned(reason.to_string()),
    }
}

/// The shared copy of a type name (one allocation per distinct type in a run).
fn intern(types: &mut HashMap<String, Arc<str>>, name: &str) -> Arc<str> {
    if let Some(shared) = types.get(name) {
        return Arc::clone(shared);
    }
    let shared: Arc<str> = Arc::from(name);
    types.insert(name.to_string(), Arc::clone(&shared));
    shared
}
