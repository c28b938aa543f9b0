//! Forward traversals over the target template: create, adopt and update, with hooks.
//!
//! Each resource, once its dependencies are done, has its properties evaluated against the
//! live resources it refers to (attribute fetches first when it needs any) and then:
//! - create: a record with a fresh idempotency token and the resolved properties is stored
//!   as `CREATE_IN_PROGRESS`, then the provider is asked (an `external_id` is adopted
//!   instead);
//! - adopt: the physical id given in the adopt data is recorded and handed to the provider's
//!   `adopt`; nothing is created;
//! - update: the new properties are compared with the recorded ones and the resource is left
//!   alone, updated in place, or replaced by a new record created before the old one is
//!   cleaned up.

use std::sync::Arc;

use crate::engine::provider::{Progress, Properties, Updated};
use crate::engine::queue::{DependencyQueue, QueueBuilder};
use crate::engine::schema::{self, UpdateKind};
use crate::engine::state::{Action, State, Status};
use crate::environment::{Hook, RestrictedAction};
use crate::eval::{StaticResources, evaluate, evaluate_nullable};
use crate::template::refs::collect;

use super::EngineError;
use super::run::{Finished, Mode, Op, OpKind, Reply, Run, failure_reason, new_token, nid};

/// A resource's definition evaluated: properties, external id, metadata.
pub(super) type Evaluated = (Properties, Option<String>, Option<Box<serde_json::Value>>);

/// What an update does with one resource.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Decision {
    /// Nothing to do.
    Unchanged,
    /// Create it (no record, or a record that never got a physical id).
    Create,
    /// Update in place; the changed properties.
    Update(Vec<String>),
    /// Replace; why.
    Replace(String),
    /// Refused (an immutable property, a restricted action, an external id change); why.
    Refuse(String),
}

impl Run {
    /// The queue of a forward traversal, with resumed work put back in flight.
    pub(super) fn forward_queue(&mut self, mode: Mode) -> Result<DependencyQueue, EngineError> {
        let mut builder = QueueBuilder::for_create(&self.graph);
        builder.set_limit(self.config().concurrency);
        let mut queue = builder
            .seal()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let action = match mode {
            Mode::Adopt => Action::Adopt,
            _ => Action::Create,
        };
        for slot in 0..self.slots.len() {
            let id = nid(slot);
            if !self.slots[slot].enabled {
                let _ = queue.mark_done(id);
                continue;
            }
            let Some(rec) = self.slots[slot].current else {
                if mode != Mode::Update {
                    let _ = queue.mark_done(id);
                }
                continue;
            };
            let record = self.records[rec].record.clone();
            let (a, s) = (record.state.action, record.state.status);
            if s == Status::InProgress && queue.mark_running(id).is_ok() {
                let op = if record.hook.is_some() {
                    Op::HookWait(std::time::Duration::ZERO)
                } else {
                    match (a, &record.physical_id) {
                        (Action::Create, Some(pid)) => {
                            Op::CheckCreate(pid.clone(), std::time::Duration::ZERO)
                        }
                        // Issued again with the same token: the provider finds the
                        // resource the interrupted call made, if it made one.
                        (Action::Create, None) => Op::Create(record.properties.clone()),
                        (Action::Update, Some(pid)) => match &record.target_properties {
                            Some(target) => Op::Update(
                                pid.clone(),
                                record.properties.clone(),
                                (**target).clone(),
                            ),
                            None => Op::CheckUpdate(pid.clone(), std::time::Duration::ZERO),
                        },
                        (Action::Adopt, Some(pid)) => Op::Adopt(pid.clone(), record.data.clone()),
                        _ => {
                            // Nothing to repeat: start the resource over.
                            let _ = queue.fail(id);
                            self.fail(
                                &mut queue,
                                slot,
                                rec,
                                a,
                                "the engine stopped during this step and cannot repeat it",
                            );
                            continue;
                        }
                    }
                };
                self.deferred.push((slot, rec, op));
                continue;
            }
            if mode == Mode::Update {
                // A resource that failed in this very operation before the engine stopped:
                // the operation has failed (as it would have without the stop), it is not
                // tried again.
                if self.resuming && s == Status::Failed && record.operation == self.stack.operation
                {
                    let _ = queue.fail(id);
                    queue.stop();
                    self.failure.get_or_insert_with(|| {
                        failure_reason(a, &record.name, &record.status_reason)
                    });
                }
                continue;
            }
            match (a, s) {
                (x, Status::Complete) if x == action => {
                    let _ = queue.mark_done(id);
                }
                (x, Status::Failed) if x == action => {
                    let _ = queue.fail(id);
                    queue.stop();
                    self.failure.get_or_insert_with(|| {
                        failure_reason(action, &record.name, &record.status_reason)
                    });
                }
                _ => {}
            }
        }
        Ok(queue)
    }

    /// Starts a ready resource: gathers what its properties need.
    pub(super) fn begin_forward(&mut self, queue: &mut DependencyQueue, slot: usize, mode: Mode) {
        let Some(s) = self.slots.get(slot) else {
            return;
        };
        if !s.enabled {
            let _ = queue.complete(nid(slot));
            return;
        }
        if mode != Mode::Update && s.current.is_none() {
            let _ = queue.complete(nid(slot));
            return;
        }
        let rec = s.current.unwrap_or(usize::MAX);
        if let Some(reason) = s.no_provider.clone() {
            let action = if mode == Mode::Adopt {
                Action::Adopt
            } else {
                Action::Create
            };
            if rec == usize::MAX {
                self.fail_node(queue, slot, rec, action, &reason);
            } else {
                self.fail(queue, slot, rec, action, &reason);
            }
            return;
        }
        let mut refs = Vec::new();
        let def = s.resource.and_then(|i| self.template.resources.get(i));
        if let Some(props) = def.and_then(|d| d.properties.as_ref()) {
            collect(props, &mut refs);
        }
        if let Some(ext) = def.and_then(|d| d.external_id.as_ref()) {
            collect(ext, &mut refs);
        }
        if let Some(metadata) = def.and_then(|d| d.metadata.as_ref()) {
            collect(metadata, &mut refs);
        }
        let (table, fetches) = self.resolver_for(&refs);
        if fetches.is_empty() {
            self.evaluated(queue, slot, &table, mode);
        } else {
            self.deferred.push((slot, rec, Op::Fetch(table, fetches)));
        }
    }

    /// Evaluates a slot's properties (and external id) with the resources given.
    pub(super) fn evaluate_slot(
        &self,
        slot: usize,
        table: &StaticResources,
    ) -> Result<(Properties, Option<String>), String> {
        self.evaluate_slot_with_metadata(slot, table)
            .map(|(properties, external, _)| (properties, external))
    }

    /// [`Run::evaluate_slot`], and the resource's `metadata` resolved (`None`: none).
    pub(super) fn evaluate_slot_with_metadata(
        &self,
        slot: usize,
        table: &StaticResources,
    ) -> Result<Evaluated, String> {
        let s = &self.slots[slot];
        let Some(provider) = s.provider.clone() else {
            return Err("the resource has no provider".to_string());
        };
        let def = s.resource.and_then(|i| self.template.resources.get(i));
        let evaluated = match def.and_then(|d| d.properties.as_ref()) {
            None => Ok(None),
            Some(e) => self.eval_in(table, |ctx| evaluate_nullable(e, ctx)),
        };
        let properties = match evaluated {
            Ok(value) => schema::resolve(provider.schema(), value).map_err(|errs| {
                errs.iter()
                    .map(|e| e.message_for(self.slot_name(slot)))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?,
            Err(e) => return Err(e.message),
        };
        let external = match def.and_then(|d| d.external_id.as_ref()) {
            None => None,
            Some(e) => match self.eval_in(table, |ctx| evaluate(e, ctx)) {
                Ok(serde_json::Value::String(id)) if !id.is_empty() => Some(id),
                Ok(serde_json::Value::Null) => None,
                Ok(other) => {
                    return Err(format!(
                        "external_id must be a non-empty string, not {other}"
                    ));
                }
                Err(e) => return Err(e.message),
            },
        };
        let metadata = match def.and_then(|d| d.metadata.as_deref()) {
            None => None,
            Some(e) => match self.eval_in(table, |ctx| evaluate_nullable(e, ctx)) {
                Ok(None) | Ok(Some(serde_json::Value::Null)) => None,
                Ok(Some(value)) => Some(Box::new(value)),
                Err(e) => return Err(format!("metadata: {}", e.message)),
            },
        };
        Ok((properties, external, metadata))
    }

    /// What an update does with a slot, given its new properties.
    pub(super) fn decide(
        &self,
        slot: usize,
        properties: &Properties,
        external: Option<&str>,
    ) -> Decision {
        let s = &self.slots[slot];
        let Some(rec) = s.current else {
            return Decision::Create;
        };
        let record = &self.records[rec].record;
        let Some(physical_id) = &record.physical_id else {
            return Decision::Create;
        };
        if let Some(ext) = external {
            if ext != physical_id {
                return Decision::Refuse(format!(
                    "Update to the external_id of resource {} is not supported (from {physical_id} to {ext})",
                    self.slot_name(slot)
                ));
            }
            // Heat: updates of an external resource are skipped.
            return Decision::Unchanged;
        }
        if *record.resource_type != *s.type_name {
            return Decision::Replace(format!(
                "the type changed from {} to {}",
                record.resource_type, s.type_name
            ));
        }
        if record.state == State::new(Action::Check, Status::Failed) {
            return Decision::Replace("the resource failed its check (CHECK_FAILED)".to_string());
        }
        if record.state.status == Status::Failed {
            return Decision::Replace(format!("the resource is {}", record.state));
        }
        let Some(provider) = &s.provider else {
            return Decision::Unchanged;
        };
        match schema::update_kind(provider.schema(), &record.properties, properties) {
            UpdateKind::Unchanged => Decision::Unchanged,
            UpdateKind::InPlace { changed } => Decision::Update(changed),
            UpdateKind::Replace { property } => {
                Decision::Replace(format!("the property {property} changed"))
            }
            UpdateKind::Forbidden { property } => Decision::Refuse(format!(
                "Update to property {property} of resource {} is not allowed: the property is immutable",
                self.slot_name(slot)
            )),
        }
    }

    /// Whether the environment restricts an action on a resource.
    pub(super) fn restricted(&self, slot: usize, action: RestrictedAction) -> bool {
        slot < self.slots.len()
            && self
                .env
                .resource_registry
                .restricted_actions_for(self.slot_name(slot))
                .contains(&action)
    }

    /// Continues a slot once its properties can be evaluated.
    fn evaluated(
        &mut self,
        queue: &mut DependencyQueue,
        slot: usize,
        table: &StaticResources,
        mode: Mode,
    ) {
        let current = self.slots[slot].current;
        let (properties, external, metadata) = match self.evaluate_slot_with_metadata(slot, table) {
            Ok(v) => v,
            Err(reason) => {
                let action = match mode {
                    Mode::Adopt => Action::Adopt,
                    Mode::Update if current.is_some() => Action::Update,
                    _ => Action::Create,
                };
                match current {
                    Some(rec) => self.fail(queue, slot, rec, action, &reason),
                    None => self.fail_node(queue, slot, usize::MAX, action, &reason),
                }
                return;
            }
        };
        match mode {
            Mode::Create => {
                let Some(rec) = current else { return };
                // A create run never reads this resource's definition again: free its
                // expressions now (they are most of a large stack's template).
                if let Some(def) = self.slots[slot]
                    .resource
                    .and_then(|i| self.template.resources.get_mut(i))
                {
                    def.properties = None;
                    def.metadata = None;
                    def.depends_on = Vec::new();
                }
                Arc::make_mut(&mut self.records[rec].record).metadata = metadata;
                match external {
                    Some(ext) => self.start_external(slot, rec, properties, ext),
                    None => self.start_create(slot, rec, properties),
                }
            }
            Mode::Adopt => {
                let Some(rec) = current else { return };
                let Some(pid) = self.records[rec].record.physical_id.clone() else {
                    self.fail(
                        queue,
                        slot,
                        rec,
                        Action::Adopt,
                        "Resource ID was not provided in the adopt data",
                    );
                    return;
                };
                Arc::make_mut(&mut self.records[rec].record).properties = properties;
                Arc::make_mut(&mut self.records[rec].record).requires = self.requires_of(slot);
                Arc::make_mut(&mut self.records[rec].record).metadata = metadata;
                self.transition(
                    rec,
                    State::new(Action::Adopt, Status::InProgress),
                    "state changed",
                );
                let data = self.records[rec].record.data.clone();
                self.deferred.push((slot, rec, Op::Adopt(pid, data)));
            }
            _ => self.update_slot(queue, slot, properties, external, metadata),
        }
    }

    fn update_slot(
        &mut self,
        queue: &mut DependencyQueue,
        slot: usize,
        properties: Properties,
        external: Option<String>,
        metadata: Option<Box<serde_json::Value>>,
    ) {
        let decision = self.decide(slot, &properties, external.as_deref());
        if matches!(decision, Decision::Create | Decision::Update(_))
            && let Some(rec) = self.slots[slot].current
        {
            // Recorded with the transition the decision makes (same batch).
            Arc::make_mut(&mut self.records[rec].record).metadata = metadata.clone();
        }
        match decision {
            Decision::Unchanged => {
                if let Some(rec) = self.slots[slot].current {
                    let requires = self.requires_of(slot);
                    let policy = self.slots[slot].policy;
                    let record = Arc::make_mut(&mut self.records[rec].record);
                    if record.requires != requires
                        || record.deletion_policy != policy
                        || record.metadata != metadata
                    {
                        // Heat: a change of metadata alone updates the resource's
                        // metadata without calling the provider.
                        record.requires = requires;
                        record.deletion_policy = policy;
                        record.metadata = metadata;
                        self.put_record(rec);
                    }
                }
                let _ = queue.complete(nid(slot));
            }
            Decision::Create => {
                let rec = match self.slots[slot].current {
                    Some(rec) => rec,
                    None => match self.new_record(slot, None) {
                        Some(rec) => rec,
                        None => {
                            self.fail_node(
                                queue,
                                slot,
                                usize::MAX,
                                Action::Create,
                                "internal error: no record id reserved",
                            );
                            return;
                        }
                    },
                };
                match external {
                    Some(ext) => self.start_external(slot, rec, properties, ext),
                    None => self.start_create(slot, rec, properties),
                }
            }
            Decision::Update(_) => {
                let Some(rec) = self.slots[slot].current else {
                    return;
                };
                if self.restricted(slot, RestrictedAction::Update) {
                    let name = self.slot_name(slot).to_string();
                    self.fail(
                        queue,
                        slot,
                        rec,
                        Action::Update,
                        &format!("update is restricted for resource {name}"),
                    );
                    return;
                }
                self.start_update(slot, rec, properties);
            }
            Decision::Replace(cause) => {
                self.replace(queue, slot, properties, &cause);
                // The replacement (now the slot's current record) carries the metadata.
                if let Some(rec) = self.slots[slot].current
                    && self.records[rec].record.metadata != metadata
                {
                    Arc::make_mut(&mut self.records[rec].record).metadata = metadata;
                    self.put_record(rec);
                }
            }
            Decision::Refuse(reason) => match self.slots[slot].current {
                Some(rec) => self.fail(queue, slot, rec, Action::Update, &reason),
                None => self.fail_node(queue, slot, usize::MAX, Action::Update, &reason),
            },
        }
    }

    /// Replaces a slot's current record by a new one (created now; the old one is cleaned
    /// up after the traversal).
    fn replace(
        &mut self,
        queue: &mut DependencyQueue,
        slot: usize,
        properties: Properties,
        cause: &str,
    ) {
        let Some(old) = self.slots[slot].current else {
            return;
        };
        let name = self.slot_name(slot).to_string();
        if self.restricted(slot, RestrictedAction::Replace) {
            self.fail(
                queue,
                slot,
                old,
                Action::Update,
                &format!("replace is restricted for resource {name} ({cause})"),
            );
            return;
        }
        let old_id = self.records[old].record.id;
        let Some(rec) = self.new_record(slot, Some(old_id)) else {
            self.fail_node(
                queue,
                slot,
                old,
                Action::Update,
                "internal error: no record id reserved",
            );
            return;
        };
        self.resource_event(
            old,
            State::new(Action::Update, Status::InProgress),
            &format!("UpdateReplace: {cause}: a replacement is created first"),
        );
        self.start_create(slot, rec, properties);
    }

    /// Records the intent to create (fresh idempotency token, resolved properties) and
    /// schedules the create, or pauses at a `pre-create` hook.
    pub(super) fn start_create(&mut self, slot: usize, rec: usize, properties: Properties) {
        let token = new_token(&self.engine.services);
        let requires = self.requires_of(slot);
        let policy = self.slots[slot].policy;
        let record = Arc::make_mut(&mut self.records[rec].record);
        record.idempotency_token = token;
        record.properties = properties.clone();
        record.requires = requires;
        record.deletion_policy = policy;
        record.target_properties = None;
        record.physical_id = None;
        if self.pause_at(
            rec,
            Hook::PreCreate,
            State::new(Action::Create, Status::InProgress),
        ) {
            self.deferred
                .push((slot, rec, Op::HookWait(self.config().poll_interval)));
            return;
        }
        self.transition(
            rec,
            State::new(Action::Create, Status::InProgress),
            "state changed",
        );
        self.deferred.push((slot, rec, Op::Create(properties)));
    }

    /// An `external_id`: the resource is adopted (recorded and validated by the provider),
    /// never created, and retained on delete.
    fn start_external(&mut self, slot: usize, rec: usize, properties: Properties, ext: String) {
        let requires = self.requires_of(slot);
        let record = Arc::make_mut(&mut self.records[rec].record);
        record.properties = properties;
        record.requires = requires;
        record.physical_id = Some(ext.clone());
        record.deletion_policy = crate::template::model::DeletionPolicy::Retain;
        let data = record.data.clone();
        self.transition(
            rec,
            State::new(Action::Adopt, Status::InProgress),
            "state changed",
        );
        self.deferred.push((slot, rec, Op::Adopt(ext, data)));
    }

    /// Records the intent to update in place (target properties, fresh token) and schedules
    /// the update, or pauses at a `pre-update` hook.
    fn start_update(&mut self, slot: usize, rec: usize, properties: Properties) {
        let token = new_token(&self.engine.services);
        let record = Arc::make_mut(&mut self.records[rec].record);
        record.idempotency_token = token;
        record.target_properties = Some(Box::new(properties.clone()));
        let old = record.properties.clone();
        let pid = record.physical_id.clone().unwrap_or_default();
        if self.pause_at(
            rec,
            Hook::PreUpdate,
            State::new(Action::Update, Status::InProgress),
        ) {
            self.deferred
                .push((slot, rec, Op::HookWait(self.config().poll_interval)));
            return;
        }
        self.transition(
            rec,
            State::new(Action::Update, Status::InProgress),
            "state changed",
        );
        self.deferred
            .push((slot, rec, Op::Update(pid, old, properties)));
    }

    /// When the environment sets `hook` on the record's resource: moves the record to
    /// `state`, marks it paused and says so (the caller then waits for the signal).
    pub(super) fn pause_at(&mut self, rec: usize, hook: Hook, state: State) -> bool {
        let name = self.records[rec].record.name.clone();
        if !self.env.resource_registry.has_hook(&name, hook) {
            return false;
        }
        Arc::make_mut(&mut self.records[rec].record).hook = Some(hook.name().to_string());
        self.transition(
            rec,
            state,
            &format!("paused until Hook {} is cleared", hook.name()),
        );
        true
    }

    /// A finished forward step.
    pub(super) fn finish_forward(
        &mut self,
        queue: &mut DependencyQueue,
        (slot, rec, kind, result): Finished,
        mode: Mode,
    ) {
        let action = match (mode, kind) {
            (Mode::Adopt, _) | (_, OpKind::Adopt) => Action::Adopt,
            (_, OpKind::Update) => Action::Update,
            (_, OpKind::Fetch) if mode == Mode::Update && self.slots[slot].current.is_some() => {
                Action::Update
            }
            _ => Action::Create,
        };
        match result {
            Ok(Reply::Fetched(table)) => self.evaluated(queue, slot, &table, mode),
            Ok(Reply::Created(created)) => {
                let record = Arc::make_mut(&mut self.records[rec].record);
                record.physical_id = Some(created.physical_id);
                record.data = created.data;
                self.after_forward(queue, slot, rec, Action::Create, created.progress);
            }
            Ok(Reply::Updated(Updated::InPlace { data, progress })) => {
                Arc::make_mut(&mut self.records[rec].record).data = data;
                self.after_forward(queue, slot, rec, Action::Update, progress);
            }
            Ok(Reply::Updated(Updated::NeedsReplacement { reason })) => {
                let record = Arc::make_mut(&mut self.records[rec].record);
                let properties = record.target_properties.take().unwrap_or_default();
                // Back to where it was: the old resource is untouched and cleaned up later.
                record.state = State::new(Action::Update, Status::Complete);
                self.put_record(rec);
                self.replace(queue, slot, *properties, &reason);
            }
            Ok(Reply::Progress(progress)) => self.after_forward(queue, slot, rec, action, progress),
            Ok(Reply::Done) => {
                let state = State::new(Action::Adopt, Status::Complete);
                self.transition(rec, state, "state changed");
                let _ = queue.complete(nid(slot));
            }
            Ok(Reply::Hook(hook)) => self.after_hook(queue, slot, rec, hook, mode),
            Ok(Reply::Snapshot(_) | Reply::Restored(_)) => {}
            Err(e) => {
                if kind == OpKind::Update {
                    Arc::make_mut(&mut self.records[rec].record).target_properties = None;
                }
                self.fail(queue, slot, rec, action, &e.to_string());
            }
        }
    }

    /// After a create or update call or check: done (or paused at a post hook), or check
    /// again later (unless timed out).
    fn after_forward(
        &mut self,
        queue: &mut DependencyQueue,
        slot: usize,
        rec: usize,
        action: Action,
        progress: Progress,
    ) {
        let pid = self.physical_id(rec);
        match progress {
            Progress::CheckAfter(_) if self.timed_out => {
                self.put_record(rec);
                self.fail(queue, slot, rec, action, "Timed out");
            }
            Progress::CheckAfter(_) if self.cancelled != super::Cancel::No => {
                // Cancelled: a resource still waiting to be ready is not waited for.
                self.put_record(rec);
                let reason = format!("{} cancelled", action.as_str());
                self.fail(queue, slot, rec, action, &reason);
            }
            Progress::CheckAfter(delay) => {
                // The physical id (and data) are recorded before the check acts on them.
                self.put_record(rec);
                let op = if action == Action::Update {
                    Op::CheckUpdate(pid, delay)
                } else {
                    Op::CheckCreate(pid, delay)
                };
                self.deferred.push((slot, rec, op));
            }
            Progress::Done => {
                if action == Action::Update {
                    let requires = self.requires_of(slot);
                    let policy = self.slots[slot].policy;
                    let record = Arc::make_mut(&mut self.records[rec].record);
                    if let Some(target) = record.target_properties.take() {
                        record.properties = *target;
                    }
                    record.requires = requires;
                    record.deletion_policy = policy;
                }
                let post = if action == Action::Update {
                    Hook::PostUpdate
                } else {
                    Hook::PostCreate
                };
                if self.pause_at(rec, post, State::new(action, Status::InProgress)) {
                    self.deferred
                        .push((slot, rec, Op::HookWait(self.config().poll_interval)));
                    return;
                }
                self.transition(rec, State::new(action, Status::Complete), "state changed");
                let _ = queue.complete(nid(slot));
            }
        }
    }

    /// A hook poll came back: still paused, or cleared (go on with the step it held).
    fn after_hook(
        &mut self,
        queue: &mut DependencyQueue,
        slot: usize,
        rec: usize,
        hook: Option<String>,
        mode: Mode,
    ) {
        let record = &self.records[rec].record;
        let action = record.state.action;
        let held = record.hook.clone();
        if hook.is_some() {
            if self.failure.is_some() {
                let reason = format!(
                    "the stack {} stopped while the resource was paused at its hook",
                    self.stack.state.action.as_str()
                );
                Arc::make_mut(&mut self.records[rec].record).hook = None;
                self.fail(queue, slot, rec, action, &reason);
                return;
            }
            self.deferred
                .push((slot, rec, Op::HookWait(self.config().poll_interval)));
            return;
        }
        Arc::make_mut(&mut self.records[rec].record).hook = None;
        let record = &self.records[rec].record;
        let is_post = held.as_deref().is_some_and(|h| h.starts_with("post-"));
        if is_post {
            self.transition(rec, State::new(action, Status::Complete), "state changed");
            let _ = queue.complete(nid(slot));
            return;
        }
        let op = match (action, mode) {
            (Action::Update, _) => Op::Update(
                record.physical_id.clone().unwrap_or_default(),
                record.properties.clone(),
                record
                    .target_properties
                    .as_deref()
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => Op::Create(record.properties.clone()),
        };
        self.transition(rec, State::new(action, Status::InProgress), "state changed");
        self.deferred.push((slot, rec, op));
    }
}
