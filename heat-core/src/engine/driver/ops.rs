//! The engine's stack operations: each validates and records its start (or refuses), then
//! returns an [`Operation`] that drives it to its end. The `*_stack` shorthands do both.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::engine::provider::{ProviderError, ResourceContext, ResourceData};
use crate::engine::state::{Action, State, Status};
use crate::engine::store::{
    Change, EventRecord, ResourceRecord, SnapshotRecord, StackDefinition, StackRecord,
    current_record, replaced_ids,
};
use crate::eval::{StaticResources, condition_enabled, evaluate};
use crate::template::refs::collect;

use super::load::{Loaded, changed_immutable, load, load_light, overlay};
use super::run::{Mode, Run, fetch_attributes, new_uuid};
use super::{
    ActiveGuard, Cancel, Control, CreateRequest, DEFAULT_TIMEOUT_MINS, Engine, EngineError,
    OutputValue, Plan, StackOutcome, UpdateRequest,
};

/// What an [`Operation`] drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drive {
    Create,
    Adopt,
    Update,
    /// Rollback of a failed create (delete everything) or update (back to the previous
    /// definition), told apart by the stack's `previous`.
    Rollback,
    Delete,
    Suspend,
    Resume,
    Check,
    Snapshot,
    /// A restore pass (snapshot data handed back to providers) and an update to the
    /// snapshot's definition.
    Restore,
}

/// A stack operation that has been validated and recorded, ready to be driven.
///
/// Holding it keeps the stack claimed in its engine (another operation on the stack is
/// refused until it is dropped). [`Operation::run`] drives it to its end; a host runs it
/// wherever it likes (e.g. `tokio::spawn`: it is `Send + 'static`). Dropping it without
/// running leaves the stack `*_IN_PROGRESS` in the store, which [`Engine::resume_all`]
/// picks up.
pub struct Operation {
    run: Run,
    drive: Drive,
    _guard: ActiveGuard,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("stack_id", &self.run.stack.id)
            .field("drive", &self.drive)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// The stack's id.
    pub fn stack_id(&self) -> &str {
        &self.run.stack.id
    }

    /// The stack's name.
    pub fn stack_name(&self) -> &str {
        &self.run.stack.name
    }

    /// The snapshot a snapshot operation takes, or a restore restores from.
    pub fn snapshot_id(&self) -> Option<String> {
        self.run.snapshot.as_ref().map(|s| s.id.clone())
    }

    /// The state the operation recorded at its start (`CREATE_IN_PROGRESS`, ...).
    pub fn state(&self) -> State {
        self.run.stack.state
    }

    /// Drives the operation to its end.
    pub async fn run(self) -> Result<StackOutcome, EngineError> {
        let Operation {
            mut run,
            drive,
            _guard,
        } = self;
        run.control.set_action(run.stack.state.action);
        match drive {
            Drive::Create => drive_create(run, Mode::Create).await,
            Drive::Adopt => drive_create(run, Mode::Adopt).await,
            Drive::Update => drive_update(run).await,
            Drive::Rollback => {
                if run.stack.previous.is_some() {
                    drive_update_rollback(run).await
                } else {
                    drive_rollback(&mut run).await
                }
            }
            Drive::Delete => drive_delete(&mut run).await,
            Drive::Suspend => drive_action(&mut run, Mode::Suspend).await,
            Drive::Resume => drive_action(&mut run, Mode::Resume).await,
            Drive::Check => drive_action(&mut run, Mode::Check).await,
            Drive::Snapshot => drive_snapshot(&mut run).await,
            Drive::Restore => drive_restore(run).await,
        }
    }
}

impl Engine {
    pub(super) async fn live_stack(&self, id: &str) -> Result<StackRecord, EngineError> {
        match self.store.stack(id).await? {
            Some(stack) if !stack.deleted => Ok(stack),
            _ => match self.store.stack_by_name("", id).await? {
                Some(stack) => Ok(stack),
                None => Err(EngineError::NotFound(format!("The Stack ({id})"))),
            },
        }
    }

    fn loaded(&self, definition: &StackDefinition) -> Result<Loaded, EngineError> {
        load(&self.registry, &self.config.limits, definition)
    }

    /// A run over the stack's stored definition and records.
    async fn open(
        &self,
        stack: StackRecord,
        control: Arc<Control>,
        light: bool,
    ) -> Result<Run, EngineError> {
        // Delete and abandon evaluate nothing: no validation (and a stack whose template no
        // longer validates, e.g. a provider went away, can still be deleted: the records
        // know what exists and in which order).
        let loaded = if light {
            load_light(&self.config.limits, &stack.definition())
        } else {
            self.loaded(&stack.definition())?
        };
        let records = self.store.resources(&stack.id).await?;
        Ok(Run::new(self.clone(), control, stack, loaded, records))
    }

    fn new_stack(
        &self,
        request: &CreateRequest,
        definition: StackDefinition,
        description: &str,
        state: State,
        reason: &str,
    ) -> StackRecord {
        let now = self.services.clock.now();
        StackRecord {
            id: new_uuid(&self.services),
            name: request.name.clone(),
            project: request.project.clone(),
            user: request.user.clone(),
            parent: None,
            description: description.to_string(),
            template: definition.template,
            files: definition.files,
            environments: definition.environments,
            parameters: definition.parameters,
            state,
            status_reason: reason.to_string(),
            disable_rollback: request
                .disable_rollback
                .unwrap_or(!self.config.rollback_default),
            timeout_mins: request.timeout_mins.unwrap_or(DEFAULT_TIMEOUT_MINS),
            tags: request.tags.clone(),
            created_at: now,
            updated_at: now,
            deleted: false,
            deleted_at: None,
            previous: None,
            operation: 1,
        }
    }

    /// Validates a create request and records the new stack (`CREATE_IN_PROGRESS`, one
    /// `INIT_COMPLETE` record per resource); the returned operation creates the resources.
    pub async fn start_create(&self, request: CreateRequest) -> Result<Operation, EngineError> {
        let mut request = request;
        let definition = take_definition(&mut request);
        let loaded = self.loaded(&definition)?;
        if self
            .store
            .stack_by_name(&request.project, &request.name)
            .await?
            .is_some()
        {
            return Err(EngineError::Conflict(format!(
                "The Stack ({}) already exists.",
                request.name
            )));
        }
        let stack = self.new_stack(
            &request,
            definition,
            template_description(&loaded),
            State::new(Action::Create, Status::InProgress),
            "Stack CREATE started",
        );
        self.begin_new(stack, loaded, Drive::Create, &BTreeMap::new())
            .await
    }

    /// Validates an adopt request (a create that records the physical ids given in
    /// `adopt_data`, Heat's `adopt_stack_data`: `{"resources": {NAME: {"resource_id": ...,
    /// "resource_data": {...}}}}`, what [`Engine::abandon_stack`] returns) and records the
    /// stack (`ADOPT_IN_PROGRESS`); the returned operation adopts the resources. Nothing is
    /// created: a resource missing from the adopt data fails the adopt.
    pub async fn start_adopt(
        &self,
        request: CreateRequest,
        adopt_data: &Value,
    ) -> Result<Operation, EngineError> {
        let resources = adopt_data
            .get("resources")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                EngineError::NotAllowed(
                    "the adopt data must be an object with a \"resources\" object \
                     (what abandoning a stack returns)"
                        .to_string(),
                )
            })?;
        let mut adopted: BTreeMap<String, (String, ResourceData)> = BTreeMap::new();
        for (name, entry) in resources {
            let Some(id) = entry.get("resource_id").and_then(Value::as_str) else {
                continue;
            };
            let mut data = ResourceData::new();
            if let Some(map) = entry.get("resource_data").and_then(Value::as_object) {
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    data.insert(k.clone(), text);
                }
            }
            adopted.insert(name.clone(), (id.to_string(), data));
        }
        let mut request = request;
        let definition = take_definition(&mut request);
        let loaded = self.loaded(&definition)?;
        if self
            .store
            .stack_by_name(&request.project, &request.name)
            .await?
            .is_some()
        {
            return Err(EngineError::Conflict(format!(
                "The Stack ({}) already exists.",
                request.name
            )));
        }
        let stack = self.new_stack(
            &request,
            definition,
            template_description(&loaded),
            State::new(Action::Adopt, Status::InProgress),
            "Stack ADOPT started",
        );
        self.begin_new(stack, loaded, Drive::Adopt, &adopted).await
    }

    async fn begin_new(
        &self,
        stack: StackRecord,
        loaded: Loaded,
        drive: Drive,
        adopted: &BTreeMap<String, (String, ResourceData)>,
    ) -> Result<Operation, EngineError> {
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        let mut run = Run::new(self.clone(), control, stack, loaded, Vec::new());
        run.records.reserve_exact(run.slots.len());
        run.pending.reserve(run.slots.len() + 2);
        run.reserve(run.slots.len() as u64).await?;
        run.pending
            .push(Change::PutStack(Box::new(run.stack.clone())));
        for slot in 0..run.slots.len() {
            if !run.slots[slot].enabled {
                continue;
            }
            let Some(rec) = run.new_record(slot, None) else {
                return Err(EngineError::Internal("no record id reserved".to_string()));
            };
            if let Some((id, data)) = adopted.get(run.slot_name(slot)) {
                Arc::make_mut(&mut run.records[rec].record).physical_id = Some(id.clone());
                Arc::make_mut(&mut run.records[rec].record).data = data.clone();
                run.put_record(rec);
            }
        }
        run.stack_event();
        match run.commit().await {
            Ok(()) => {}
            Err(crate::engine::store::StoreError::DuplicateStackName(name)) => {
                return Err(EngineError::Conflict(format!(
                    "The Stack ({name}) already exists."
                )));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Operation {
            run,
            drive,
            _guard: guard,
        })
    }

    /// Validates and creates a stack, and drives the create (and the rollback, when it fails
    /// and rollback is enabled) to its end.
    pub async fn create_stack(&self, request: CreateRequest) -> Result<StackOutcome, EngineError> {
        self.start_create(request).await?.run().await
    }

    /// Adopts a stack (see [`Engine::start_adopt`]) and drives it to its end.
    pub async fn adopt_stack(
        &self,
        request: CreateRequest,
        adopt_data: &Value,
    ) -> Result<StackOutcome, EngineError> {
        self.start_adopt(request, adopt_data).await?.run().await
    }

    /// The definition an update request asks for (PATCH semantics with `existing`).
    fn updated_definition(
        stack: &StackRecord,
        request: &UpdateRequest,
    ) -> Result<StackDefinition, EngineError> {
        if request.existing {
            let mut parameters = overlay(&stack.parameters, &request.parameters);
            for name in &request.clear_parameters {
                parameters.remove(name);
            }
            let mut environments = stack.environments.clone();
            environments.extend(request.environments.iter().cloned());
            Ok(StackDefinition {
                template: match &request.template {
                    Some(text) => Arc::from(text.as_str()),
                    None => Arc::clone(&stack.template),
                },
                files: overlay(&stack.files, &request.files),
                environments,
                parameters,
            })
        } else {
            let Some(template) = request.template.as_deref() else {
                return Err(EngineError::NotAllowed(
                    "an update needs a template (or `existing` to keep the stored one)".to_string(),
                ));
            };
            Ok(StackDefinition {
                template: Arc::from(template),
                files: request.files.clone(),
                environments: request.environments.clone(),
                parameters: request.parameters.clone(),
            })
        }
    }

    /// Refuses an operation on a stack that is busy (here or, per the store, elsewhere).
    fn refuse_busy(&self, stack: &StackRecord) -> Result<(), EngineError> {
        if stack.state.in_progress() || self.is_busy(&stack.id) {
            return Err(EngineError::Conflict(format!(
                "Stack {} is {}: another action is in progress; wait for it to finish \
                 (or cancel it)",
                stack.name, stack.state
            )));
        }
        Ok(())
    }

    /// Validates and loads an update: the stack, its old and new definitions.
    async fn prepare_update(
        &self,
        id: &str,
        request: &UpdateRequest,
    ) -> Result<(StackRecord, StackDefinition, Loaded), EngineError> {
        let stack = self.live_stack(id).await?;
        self.refuse_busy(&stack)?;
        if stack.state.action == Action::Suspend {
            return Err(EngineError::NotAllowed(format!(
                "Updating a stack when it is suspended is not supported: resume stack {} first",
                stack.name
            )));
        }
        if stack.state.action == Action::Delete {
            return Err(EngineError::NotAllowed(format!(
                "Stack {} is {}: delete it again instead of updating it",
                stack.name, stack.state
            )));
        }
        let definition = Engine::updated_definition(&stack, request)?;
        let new = self.loaded(&definition)?;
        if let Ok(old) = self.loaded(&stack.definition()) {
            let changed = changed_immutable(&old, &new);
            if !changed.is_empty() {
                return Err(EngineError::NotAllowed(format!(
                    "The following parameters are immutable and may not be updated: {}",
                    changed.join(", ")
                )));
            }
        }
        Ok((stack, definition, new))
    }

    /// Validates an update (the new definition, immutable parameters, the stack's state) and
    /// records its start (`UPDATE_IN_PROGRESS`, the previous definition kept for rollback);
    /// the returned operation updates the resources, cleans up, and rolls back on failure
    /// when rollback is on.
    pub async fn start_update(
        &self,
        id: &str,
        request: UpdateRequest,
    ) -> Result<Operation, EngineError> {
        let (mut stack, definition, loaded) = self.prepare_update(id, &request).await?;
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        stack.previous = Some(stack.definition());
        stack.set_definition(definition);
        stack.description = template_description(&loaded).to_string();
        if let Some(d) = request.disable_rollback {
            stack.disable_rollback = d;
        }
        if let Some(t) = request.timeout_mins {
            stack.timeout_mins = t;
        }
        if let Some(tags) = request.tags {
            stack.tags = tags;
        }
        let records = self.store.resources(&stack.id).await?;
        let mut run = Run::new(self.clone(), control, stack, loaded, records);
        run.set_stack(
            State::new(Action::Update, Status::InProgress),
            "Stack UPDATE started",
        );
        run.started = run.stack.updated_at;
        run.commit().await?;
        Ok(Operation {
            run,
            drive: Drive::Update,
            _guard: guard,
        })
    }

    /// Updates a stack (see [`Engine::start_update`]) and drives it to its end.
    pub async fn update_stack(
        &self,
        id: &str,
        request: UpdateRequest,
    ) -> Result<StackOutcome, EngineError> {
        self.start_update(id, request).await?.run().await
    }

    /// What an update would do, without doing it (Heat's update preview, CloudFormation's
    /// change sets): per resource, unchanged / updated in place / replaced / added /
    /// deleted, with the property or reason that causes it.
    pub async fn preview_update(
        &self,
        id: &str,
        request: UpdateRequest,
    ) -> Result<Plan, EngineError> {
        let (stack, definition, loaded) = self.prepare_update(id, &request).await?;
        let mut stack = stack;
        stack.set_definition(definition);
        let records = self.store.resources(&stack.id).await?;
        let run = Run::new(
            self.clone(),
            Arc::new(Control::default()),
            stack,
            loaded,
            records,
        );
        run.preview().await
    }

    async fn start_on(
        &self,
        id: &str,
        drive: Drive,
        state: State,
        reason: &str,
    ) -> Result<Operation, EngineError> {
        let stack = self.live_stack(id).await?;
        self.refuse_busy(&stack)?;
        match drive {
            Drive::Suspend if stack.state == State::new(Action::Suspend, Status::Complete) => {
                return Err(EngineError::NotAllowed(format!(
                    "Stack {} is already suspended",
                    stack.name
                )));
            }
            Drive::Resume
                if stack.state.action != Action::Suspend
                    && stack.state != State::new(Action::Resume, Status::Failed) =>
            {
                return Err(EngineError::NotAllowed(format!(
                    "Stack {} is {}: only a suspended stack can be resumed",
                    stack.name, stack.state
                )));
            }
            _ => {}
        }
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        let mut run = self.open(stack, control, drive == Drive::Delete).await?;
        run.set_stack(state, reason);
        run.started = run.stack.updated_at;
        run.commit().await?;
        Ok(Operation {
            run,
            drive,
            _guard: guard,
        })
    }

    /// Records the start of a stack delete; the returned operation deletes the resources in
    /// reverse dependency order (respecting deletion policies) and soft-deletes the stack.
    pub async fn start_delete(&self, id: &str) -> Result<Operation, EngineError> {
        self.start_on(
            id,
            Drive::Delete,
            State::new(Action::Delete, Status::InProgress),
            "Stack DELETE started",
        )
        .await
    }

    /// Deletes a stack and drives the delete to its end.
    pub async fn delete_stack(&self, id: &str) -> Result<StackOutcome, EngineError> {
        self.start_delete(id).await?.run().await
    }

    /// Suspends a stack's resources (dependents first).
    pub async fn start_suspend(&self, id: &str) -> Result<Operation, EngineError> {
        self.start_on(
            id,
            Drive::Suspend,
            State::new(Action::Suspend, Status::InProgress),
            "Stack SUSPEND started",
        )
        .await
    }

    /// Suspends a stack and drives it to its end.
    pub async fn suspend_stack(&self, id: &str) -> Result<StackOutcome, EngineError> {
        self.start_suspend(id).await?.run().await
    }

    /// Resumes a suspended stack's resources (dependencies first).
    pub async fn start_resume(&self, id: &str) -> Result<Operation, EngineError> {
        self.start_on(
            id,
            Drive::Resume,
            State::new(Action::Resume, Status::InProgress),
            "Stack RESUME started",
        )
        .await
    }

    /// Resumes a stack and drives it to its end.
    pub async fn resume_stack(&self, id: &str) -> Result<StackOutcome, EngineError> {
        self.start_resume(id).await?.run().await
    }

    /// Checks a stack's resources against what is live.
    pub async fn start_check(&self, id: &str) -> Result<Operation, EngineError> {
        self.start_on(
            id,
            Drive::Check,
            State::new(Action::Check, Status::InProgress),
            "Stack CHECK started",
        )
        .await
    }

    /// Checks a stack and drives it to its end.
    pub async fn check_stack(&self, id: &str) -> Result<StackOutcome, EngineError> {
        self.start_check(id).await?.run().await
    }

    /// Abandons a stack: returns the data to adopt it elsewhere (Heat's format: name, id,
    /// action, status, template, environment, files, resources with their physical ids and
    /// data) and forgets the stack **without deleting any physical resource**.
    pub async fn abandon_stack(&self, id: &str) -> Result<Value, EngineError> {
        let stack = self.live_stack(id).await?;
        self.refuse_busy(&stack)?;
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        let mut run = self.open(stack, control, true).await?;
        let template = crate::template::load::load(&run.stack.template, &self.config.limits)
            .root
            .map_or(Value::Null, |n| n.to_json());
        let mut resources = Map::new();
        let replaced = replaced_ids(run.records.iter().map(|r| &*r.record));
        for r in &run.records {
            if replaced.contains(&r.record.id) {
                continue;
            }
            let data: Map<String, Value> = r
                .record
                .data
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            resources.insert(
                r.record.name.clone(),
                json!({
                    "name": r.record.name,
                    "resource_id": r.record.physical_id,
                    "type": &*r.record.resource_type,
                    "action": r.record.state.action.as_str(),
                    "status": r.record.state.status.as_str(),
                    "resource_data": data,
                    "metadata": {},
                }),
            );
        }
        let out = json!({
            "name": run.stack.name,
            "id": run.stack.id,
            "action": run.stack.state.action.as_str(),
            "status": run.stack.state.status.as_str(),
            "template": template,
            "environment": {"parameters": run.stack.parameters},
            "files": run.stack.files,
            "resources": resources,
            "tags": run.stack.tags,
        });
        for rec in 0..run.records.len() {
            run.remove_record(rec);
        }
        run.stack.deleted = true;
        run.stack.deleted_at = Some(run.now());
        run.set_stack(
            State::new(Action::Delete, Status::Complete),
            "Stack abandoned: its resources were kept",
        );
        run.commit().await?;
        drop(guard);
        Ok(out)
    }

    /// Delivers a signal to a resource: `{"unset_hook": "pre-create"}` clears a hook the
    /// resource is paused at; anything else goes to the resource's provider (wait condition
    /// handles, ...), whose answer is kept with the resource, with a `SIGNAL` event.
    pub async fn signal(
        &self,
        stack_id: &str,
        resource_name: &str,
        details: &Value,
    ) -> Result<(), EngineError> {
        let stack = self.live_stack(stack_id).await?;
        let records = self.store.resources(&stack.id).await?;
        let replaced = replaced_ids(records.iter().map(|r| &**r));
        let Some(mut record) = current_record(&records, &replaced, resource_name).cloned() else {
            return Err(EngineError::NotFound(format!(
                "The Resource ({resource_name}) in stack {}",
                stack.name
            )));
        };
        if let Some(hook) = details.get("unset_hook") {
            let hook = hook.as_str().unwrap_or_default();
            if record.hook.as_deref() != Some(hook) {
                return Err(EngineError::NotAllowed(format!(
                    "The \"{hook}\" hook is not set on resource {resource_name} \
                     (it is not paused at it)"
                )));
            }
            Arc::make_mut(&mut record).hook = None;
            let event = event_for(
                &record,
                record.state,
                &format!("Hook {hook} is cleared"),
                self,
            );
            self.store
                .apply(vec![
                    Change::PutResource(record),
                    Change::AddEvent(Box::new(event)),
                ])
                .await?;
            return Ok(());
        }
        let Some(physical_id) = record.physical_id.clone() else {
            return Err(EngineError::Conflict(format!(
                "Signal resource during {} is not supported: {resource_name} does not exist yet",
                record.state
            )));
        };
        let Some(provider) = self.registry.get(&record.resource_type).cloned() else {
            return Err(EngineError::NotAllowed(format!(
                "Resource {resource_name} ({}) does not support signals",
                record.resource_type
            )));
        };
        let ctx = ResourceContext {
            stack_id: &stack.id,
            stack_name: &stack.name,
            resource_name,
            resource_type: &record.resource_type,
            idempotency_token: &record.idempotency_token,
            data: &record.data,
            services: &self.services,
            peers: &[],
        };
        let data = match provider.signal(&ctx, &physical_id, details).await {
            Ok(data) => data,
            Err(ProviderError::NotSupported { .. }) => {
                return Err(EngineError::NotAllowed(format!(
                    "Resource {resource_name} ({}) does not support signals",
                    record.resource_type
                )));
            }
            Err(e) => return Err(EngineError::NotAllowed(e.to_string())),
        };
        Arc::make_mut(&mut record).data = data;
        let summary = signal_summary(details);
        let event = event_for(
            &record,
            State::new(Action::Signal, Status::Complete),
            &format!("Signal: {summary}"),
            self,
        );
        self.store
            .apply(vec![
                Change::PutResource(record),
                Change::AddEvent(Box::new(event)),
            ])
            .await?;
        Ok(())
    }

    /// The operations of every stack whose operation was interrupted (state
    /// `*_IN_PROGRESS`, not running in this engine), ready to be driven.
    pub async fn interrupted(&self) -> Result<Vec<Operation>, EngineError> {
        let mut out = Vec::new();
        for stack in self.store.stacks(false).await? {
            if !stack.state.in_progress() || self.is_busy(&stack.id) {
                continue;
            }
            let drive = match stack.state.action {
                Action::Create => Drive::Create,
                Action::Adopt => Drive::Adopt,
                Action::Update => Drive::Update,
                Action::Rollback => Drive::Rollback,
                Action::Delete => Drive::Delete,
                Action::Suspend => Drive::Suspend,
                Action::Resume => Drive::Resume,
                Action::Check => Drive::Check,
                Action::Snapshot => Drive::Snapshot,
                Action::Restore => Drive::Restore,
                _ => Drive::Check,
            };
            let (guard, control) = self.claim(&stack.id, &stack.name)?;
            let snapshot = match drive {
                Drive::Snapshot | Drive::Restore => self.operation_snapshot(&stack).await?,
                _ => None,
            };
            let mut run = self
                .open(stack, control, matches!(drive, Drive::Delete))
                .await?;
            run.resuming = true;
            run.snapshot = snapshot.map(Box::new);
            if matches!(drive, Drive::Restore) {
                let count = run.slots.len() as u64;
                run.reserve(count).await?;
            }
            if matches!(drive, Drive::Update) {
                let count = run.slots.len() as u64;
                run.reserve(count).await?;
            }
            out.push(Operation {
                run,
                drive,
                _guard: guard,
            });
        }
        Ok(out)
    }

    /// The snapshot an interrupted snapshot or restore works with: the snapshot still
    /// `IN_PROGRESS` (a snapshot), or the one named by the restore's stack reason.
    async fn operation_snapshot(
        &self,
        stack: &StackRecord,
    ) -> Result<Option<SnapshotRecord>, EngineError> {
        let snapshots = self.store.snapshots(&stack.id).await?;
        Ok(match stack.state.action {
            Action::Snapshot => snapshots
                .into_iter()
                .rev()
                .find(|s| s.status == Status::InProgress),
            _ => snapshots
                .into_iter()
                .find(|s| stack.status_reason.contains(&s.id)),
        })
    }

    /// Records the start of a stack snapshot (`SNAPSHOT_IN_PROGRESS`, and a snapshot record
    /// `IN_PROGRESS` named `name`); the returned operation asks every resource's provider
    /// for its snapshot data (dependencies first) and completes the snapshot record. The
    /// snapshot's id is [`Operation::snapshot_id`].
    pub async fn start_snapshot(&self, id: &str, name: &str) -> Result<Operation, EngineError> {
        let stack = self.live_stack(id).await?;
        self.refuse_busy(&stack)?;
        if stack.state.action == Action::Delete {
            return Err(EngineError::NotAllowed(format!(
                "Stack {} is {}: it cannot be snapshotted",
                stack.name, stack.state
            )));
        }
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        let mut run = self.open(stack, control, false).await?;
        let snapshot = SnapshotRecord {
            id: new_uuid(&self.services),
            stack_id: run.stack.id.clone(),
            name: name.to_string(),
            status: Status::InProgress,
            status_reason: "Stack SNAPSHOT started".to_string(),
            definition: run.stack.definition(),
            resources: BTreeMap::new(),
            created_at: self.services.clock.now(),
        };
        run.pending
            .push(Change::PutSnapshot(Box::new(snapshot.clone())));
        run.snapshot = Some(Box::new(snapshot));
        run.set_stack(
            State::new(Action::Snapshot, Status::InProgress),
            "Stack SNAPSHOT started",
        );
        run.started = run.stack.updated_at;
        run.commit().await?;
        Ok(Operation {
            run,
            drive: Drive::Snapshot,
            _guard: guard,
        })
    }

    /// Takes a snapshot of a stack (see [`Engine::start_snapshot`]) and returns the
    /// snapshot record as it ended (`COMPLETE` or `FAILED`).
    pub async fn snapshot_stack(
        &self,
        id: &str,
        name: &str,
    ) -> Result<SnapshotRecord, EngineError> {
        let op = self.start_snapshot(id, name).await?;
        let (stack_id, snapshot_id) = (op.stack_id().to_string(), op.snapshot_id());
        op.run().await?;
        self.store
            .snapshots(&stack_id)
            .await?
            .into_iter()
            .find(|s| Some(&s.id) == snapshot_id.as_ref())
            .ok_or_else(|| EngineError::Internal("the snapshot record is gone".to_string()))
    }

    /// A stack's snapshot by id.
    pub async fn snapshot(
        &self,
        id: &str,
        snapshot_id: &str,
    ) -> Result<SnapshotRecord, EngineError> {
        let stack = self.live_stack(id).await?;
        self.store
            .snapshots(&stack.id)
            .await?
            .into_iter()
            .find(|s| s.id == snapshot_id)
            .ok_or_else(|| EngineError::NotFound(format!("The Snapshot ({snapshot_id})")))
    }

    /// Deletes a stack's snapshot record (what the providers' snapshots hold is theirs: a
    /// resource deleted with `DeletionPolicy: Snapshot` keeps its snapshot). Refused while
    /// the snapshot is being taken.
    pub async fn delete_snapshot(&self, id: &str, snapshot_id: &str) -> Result<(), EngineError> {
        let snapshot = self.snapshot(id, snapshot_id).await?;
        if snapshot.status == Status::InProgress {
            return Err(EngineError::Conflict(format!(
                "Snapshot {snapshot_id} is still being taken: wait for it to finish"
            )));
        }
        self.store
            .apply(vec![Change::RemoveSnapshot { id: snapshot.id }])
            .await?;
        Ok(())
    }

    /// Records the start of a restore from a `COMPLETE` snapshot (`RESTORE_IN_PROGRESS`);
    /// the returned operation hands each resource that still has its snapshotted physical id
    /// its snapshot data ([`ResourceProvider::restore`](crate::engine::provider::ResourceProvider::restore)),
    /// then updates the stack to the snapshot's definition (template, environment, files,
    /// parameters): resources created since are deleted, resources deleted since are
    /// created again. A failed restore is `RESTORE_FAILED` (no rollback).
    pub async fn start_restore(
        &self,
        id: &str,
        snapshot_id: &str,
    ) -> Result<Operation, EngineError> {
        let snapshot = self.snapshot(id, snapshot_id).await?;
        if snapshot.status != Status::Complete {
            return Err(EngineError::NotAllowed(format!(
                "Snapshot {snapshot_id} is {}: only a COMPLETE snapshot can be restored",
                snapshot.status.as_str()
            )));
        }
        let mut stack = self.live_stack(id).await?;
        self.refuse_busy(&stack)?;
        let loaded = self.loaded(&snapshot.definition)?;
        let (guard, control) = self.claim(&stack.id, &stack.name)?;
        stack.previous = None;
        stack.set_definition(snapshot.definition.clone());
        stack.description = template_description(&loaded).to_string();
        let records = self.store.resources(&stack.id).await?;
        let mut run = Run::new(self.clone(), control, stack, loaded, records);
        run.snapshot = Some(Box::new(snapshot));
        run.set_stack(
            State::new(Action::Restore, Status::InProgress),
            &format!("Stack RESTORE started from snapshot {snapshot_id}"),
        );
        run.started = run.stack.updated_at;
        let count = run.slots.len() as u64;
        run.reserve(count).await?;
        run.commit().await?;
        Ok(Operation {
            run,
            drive: Drive::Restore,
            _guard: guard,
        })
    }

    /// Restores a stack from a snapshot (see [`Engine::start_restore`]) and drives it to its
    /// end.
    pub async fn restore_stack(
        &self,
        id: &str,
        snapshot_id: &str,
    ) -> Result<StackOutcome, EngineError> {
        self.start_restore(id, snapshot_id).await?.run().await
    }

    /// Marks a resource unhealthy (`CHECK_FAILED` with the reason given: it is replaced at
    /// the next update) or, with `unhealthy == false`, healthy again (a `CHECK_FAILED`
    /// resource becomes `CHECK_COMPLETE`; any other is left as it is). Refused while an
    /// operation runs on the stack.
    pub async fn mark_unhealthy(
        &self,
        id: &str,
        resource: &str,
        unhealthy: bool,
        reason: &str,
    ) -> Result<(), EngineError> {
        let stack = self.live_stack(id).await?;
        if self.is_busy(&stack.id) || stack.state.in_progress() {
            return Err(EngineError::Conflict(format!(
                "Stack {} is {}: a resource cannot be marked while an action is in progress",
                stack.name, stack.state
            )));
        }
        let (_guard, control) = self.claim(&stack.id, &stack.name)?;
        let mut run = self.open(stack, control, true).await?;
        let Some(rec) = run.current_of(resource) else {
            return Err(EngineError::NotFound(format!(
                "The Resource ({resource}) could not be found in Stack {}",
                run.stack.name
            )));
        };
        let failed = State::new(Action::Check, Status::Failed);
        let state = run.records[rec].record.state;
        if unhealthy {
            let reason = if reason.is_empty() {
                "state changed by resource_mark_unhealthy api"
            } else {
                reason
            };
            run.transition(rec, failed, reason);
        } else if state == failed {
            let reason = if reason.is_empty() {
                "state changed by resource_mark_unhealthy api"
            } else {
                reason
            };
            run.transition(rec, State::new(Action::Check, Status::Complete), reason);
        } else {
            return Ok(());
        }
        run.commit().await?;
        Ok(())
    }

    /// Resumes every interrupted stack operation (all at once) and returns how each ended,
    /// in the store's order.
    pub async fn resume_all(&self) -> Result<Vec<StackOutcome>, EngineError> {
        let ops = self.interrupted().await?;
        let results = futures::future::join_all(ops.into_iter().map(Operation::run)).await;
        results.into_iter().collect()
    }

    /// The stack's outputs: each one's value, or its `output_error`. A failing output never
    /// fails the stack; outputs whose condition is false are left out.
    pub async fn outputs(&self, id: &str) -> Result<Vec<OutputValue>, EngineError> {
        let stack = self.live_stack(id).await?;
        let run = self
            .open(stack, Arc::new(Control::default()), false)
            .await?;
        let mut out = Vec::new();
        for output in &run.template.outputs {
            let enabled = run.eval_in(&StaticResources::new(), |ctx| {
                condition_enabled(output.condition.as_ref(), ctx)
            });
            match enabled {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => {
                    out.push(OutputValue {
                        name: output.name.value.clone(),
                        description: output.description.clone(),
                        value: None,
                        error: Some(e.message),
                    });
                    continue;
                }
            }
            let mut refs = Vec::new();
            collect(&output.value, &mut refs);
            let (table, fetches) = run.resolver_for(&refs);
            let result = match fetch_attributes(table, fetches, &self.config).await {
                Ok(table) => run
                    .eval_in(&table, |ctx| evaluate(&output.value, ctx))
                    .map_err(|e| e.message),
                Err(e) => Err(e.to_string()),
            };
            let (value, error) = match result {
                Ok(v) => (Some(v), None),
                Err(e) => (None, Some(e)),
            };
            out.push(OutputValue {
                name: output.name.value.clone(),
                description: output.description.clone(),
                value,
                error,
            });
        }
        Ok(out)
    }
}

/// The template's description (empty when it has none).
fn template_description(loaded: &Loaded) -> &str {
    loaded
        .template
        .description
        .as_ref()
        .map_or("", |d| d.value.as_str())
}

/// Moves the definition (template, files, environments, parameters) out of a create request
/// (a large template is not copied).
fn take_definition(request: &mut CreateRequest) -> StackDefinition {
    StackDefinition {
        template: Arc::from(std::mem::take(&mut request.template)),
        files: std::mem::take(&mut request.files),
        environments: std::mem::take(&mut request.environments),
        parameters: std::mem::take(&mut request.parameters),
    }
}

fn event_for(record: &ResourceRecord, state: State, reason: &str, engine: &Engine) -> EventRecord {
    EventRecord {
        id: 0,
        stack_id: record.stack_id.to_string(),
        resource_name: record.name.clone(),
        resource_type: record.resource_type.to_string(),
        physical_id: record.physical_id.clone(),
        state,
        reason: reason.to_string(),
        at: engine.services.clock.now(),
    }
}

/// A short description of a signal for its event (Heat: the status and reason, or the
/// keys).
fn signal_summary(details: &Value) -> String {
    let field = |k: &str| {
        details
            .get(k)
            .or_else(|| details.get(k.to_ascii_uppercase()))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let status = field("status").or_else(|| {
        details
            .get("Status")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let reason = field("reason").or_else(|| {
        details
            .get("Reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    match (status, reason) {
        (Some(s), Some(r)) => format!("status {s} reason {r}"),
        (Some(s), None) => format!("status {s}"),
        _ => match details {
            Value::Object(map) if !map.is_empty() => {
                format!("{} ", map.keys().cloned().collect::<Vec<_>>().join(", "))
                    .trim_end()
                    .to_string()
            }
            Value::Null => "no details".to_string(),
            other => {
                let text = other.to_string();
                text.chars().take(200).collect()
            }
        },
    }
}

// -- drivers ------------------------------------------------------------------------------

/// Create or adopt, then the end state, and the rollback when it failed and rollback is on.
async fn drive_create(mut run: Run, mode: Mode) -> Result<StackOutcome, EngineError> {
    let action = if mode == Mode::Adopt {
        Action::Adopt
    } else {
        Action::Create
    };
    let mut queue = run.forward_queue(mode)?;
    run.traverse(&mut queue, mode).await?;
    match run.failure.take() {
        None => {
            run.set_stack(
                State::new(action, Status::Complete),
                &format!("Stack {} completed successfully", action.as_str()),
            );
            run.commit().await?;
            Ok(run.outcome())
        }
        Some(reason) => {
            run.set_stack(State::new(action, Status::Failed), &reason);
            if run.stack.disable_rollback || run.cancelled == Cancel::NoRollback {
                run.commit().await?;
                return Ok(run.outcome());
            }
            run.set_stack(
                State::new(Action::Rollback, Status::InProgress),
                "Stack ROLLBACK started",
            );
            run.commit().await?;
            drive_rollback(&mut run).await
        }
    }
}

/// Rollback of a failed create: every resource deleted.
async fn drive_rollback(run: &mut Run) -> Result<StackOutcome, EngineError> {
    run.failure = None;
    run.timed_out = false;
    run.started = run.now();
    let mut queue = run.backward_queue(Mode::Rollback)?;
    run.traverse(&mut queue, Mode::Rollback).await?;
    match run.failure.take() {
        None => run.set_stack(
            State::new(Action::Rollback, Status::Complete),
            "Stack ROLLBACK completed successfully",
        ),
        Some(reason) => run.set_stack(State::new(Action::Rollback, Status::Failed), &reason),
    }
    run.commit().await?;
    Ok(run.outcome())
}

async fn drive_delete(run: &mut Run) -> Result<StackOutcome, EngineError> {
    let mut queue = run.backward_queue(Mode::Delete)?;
    run.traverse(&mut queue, Mode::Delete).await?;
    match run.failure.take() {
        None => {
            for rec in 0..run.records.len() {
                run.remove_record(rec);
            }
            run.stack.deleted = true;
            run.stack.deleted_at = Some(run.now());
            run.stack.deleted_at = Some(run.now());
            run.stack.previous = None;
            run.set_stack(
                State::new(Action::Delete, Status::Complete),
                "Stack DELETE completed successfully",
            );
        }
        Some(reason) => run.set_stack(State::new(Action::Delete, Status::Failed), &reason),
    }
    run.commit().await?;
    Ok(run.outcome())
}

async fn drive_action(run: &mut Run, mode: Mode) -> Result<StackOutcome, EngineError> {
    let action = run.stack.state.action;
    let mut queue = run.action_queue(mode)?;
    run.traverse(&mut queue, mode).await?;
    match run.failure.take() {
        None => run.set_stack(
            State::new(action, Status::Complete),
            &format!("Stack {} completed successfully", action.as_str()),
        ),
        Some(reason) => run.set_stack(State::new(action, Status::Failed), &reason),
    }
    run.commit().await?;
    Ok(run.outcome())
}

/// A stack snapshot: every current resource's provider snapshot, then the snapshot record
/// and the stack completed (or failed).
async fn drive_snapshot(run: &mut Run) -> Result<StackOutcome, EngineError> {
    if run.snapshot.is_none() {
        // Interrupted before its record was stored: nothing to complete.
        run.set_stack(
            State::new(Action::Snapshot, Status::Failed),
            "the snapshot record was not found",
        );
        run.commit().await?;
        return Ok(run.outcome());
    }
    let mut queue = run.action_queue(Mode::Snapshot)?;
    run.traverse(&mut queue, Mode::Snapshot).await?;
    let (status, reason) = match run.failure.take() {
        None => (
            Status::Complete,
            "Stack SNAPSHOT completed successfully".to_string(),
        ),
        Some(reason) => (Status::Failed, reason),
    };
    if let Some(mut snapshot) = run.snapshot.take() {
        snapshot.status = status;
        snapshot.status_reason = reason.clone();
        run.pending.push(Change::PutSnapshot(snapshot.clone()));
        run.snapshot = Some(snapshot);
    }
    run.set_stack(State::new(Action::Snapshot, status), &reason);
    run.commit().await?;
    Ok(run.outcome())
}

/// A restore: the restore pass over the resources the snapshot still describes, then an
/// update to the snapshot's definition (already the stack's).
async fn drive_restore(mut run: Run) -> Result<StackOutcome, EngineError> {
    let mut queue = run.action_queue(Mode::Restore)?;
    run.traverse(&mut queue, Mode::Restore).await?;
    let failure = match run.failure.take() {
        Some(reason) => Some(reason),
        None => update_passes(&mut run).await?,
    };
    match failure {
        None => run.set_stack(
            State::new(Action::Restore, Status::Complete),
            "Stack RESTORE completed successfully",
        ),
        Some(reason) => run.set_stack(State::new(Action::Restore, Status::Failed), &reason),
    }
    run.commit().await?;
    Ok(run.outcome())
}

/// The forward pass of an update (or of its rollback) followed by the clean-up; the
/// failure, if any.
async fn update_passes(run: &mut Run) -> Result<Option<String>, EngineError> {
    if run.ids.is_empty() {
        let count = run.slots.len() as u64;
        run.reserve(count).await?;
    }
    let mut queue = run.forward_queue(Mode::Update)?;
    run.traverse(&mut queue, Mode::Update).await?;
    if let Some(reason) = run.failure.take() {
        return Ok(Some(reason));
    }
    let mut queue = run.backward_queue(Mode::Cleanup)?;
    run.traverse(&mut queue, Mode::Cleanup).await?;
    let failure = run.failure.take();
    forget_cleaned_up(run);
    Ok(failure)
}

/// After a clean-up: a record whose `replaces` names a record that is gone now replaces
/// nothing (it goes with the next batch).
fn forget_cleaned_up(run: &mut Run) {
    let alive: std::collections::HashSet<u64> = run
        .records
        .iter()
        .filter(|r| !r.removed)
        .map(|r| r.record.id)
        .collect();
    for rec in 0..run.records.len() {
        let r = &run.records[rec];
        if r.removed {
            continue;
        }
        if r.record.replaces.is_some_and(|id| !alive.contains(&id)) {
            Arc::make_mut(&mut run.records[rec].record).replaces = None;
            run.put_record(rec);
        }
    }
}

async fn drive_update(mut run: Run) -> Result<StackOutcome, EngineError> {
    match update_passes(&mut run).await? {
        None => {
            run.stack.previous = None;
            run.set_stack(
                State::new(Action::Update, Status::Complete),
                "Stack UPDATE completed successfully",
            );
            run.commit().await?;
            Ok(run.outcome())
        }
        Some(reason) => {
            run.set_stack(State::new(Action::Update, Status::Failed), &reason);
            let rollback = match run.cancelled {
                Cancel::Rollback => true,
                Cancel::NoRollback => false,
                Cancel::No => !run.stack.disable_rollback,
            };
            if !rollback || run.stack.previous.is_none() {
                run.stack.previous = None;
                run.pending
                    .push(Change::PutStack(Box::new(run.stack.clone())));
                run.commit().await?;
                return Ok(run.outcome());
            }
            // Back to the previous definition; the failed one is kept in `previous` while
            // the rollback runs (that is how a resumed engine tells this rollback from the
            // rollback of a create).
            let failed = run.stack.definition();
            let Some(previous) = run.stack.previous.take() else {
                return Ok(run.outcome());
            };
            run.stack.set_definition(previous);
            run.stack.description =
                crate::template::parse(&run.stack.template, &run.config().limits)
                    .template
                    .and_then(|t| t.description.map(|d| d.value))
                    .unwrap_or_default();
            run.stack.previous = Some(failed);
            run.set_stack(
                State::new(Action::Rollback, Status::InProgress),
                "Stack ROLLBACK started",
            );
            run.commit().await?;
            let engine = run.engine.clone();
            let control = run.control.clone();
            let stack = run.stack.clone();
            let records: Vec<Arc<ResourceRecord>> = run
                .records
                .into_iter()
                .filter(|r| !r.removed)
                .map(|r| r.record)
                .collect();
            let loaded = engine.loaded(&stack.definition())?;
            let rollback = Run::new(engine, control, stack, loaded, records);
            drive_update_rollback(rollback).await
        }
    }
}

/// Rollback of a failed update: an update back to the previous definition, where replaced
/// resources that still exist become current again (their replacements are cleaned up).
async fn drive_update_rollback(mut run: Run) -> Result<StackOutcome, EngineError> {
    run.started = run.now();
    run.timed_out = false;
    run.failure = None;
    run.cancelled = Cancel::No;
    run.control.request(Cancel::No);
    restore_replaced(&mut run);
    run.commit().await?;
    let result = update_passes(&mut run).await?;
    run.stack.previous = None;
    match result {
        None => run.set_stack(
            State::new(Action::Rollback, Status::Complete),
            "Stack ROLLBACK completed successfully",
        ),
        Some(reason) => run.set_stack(State::new(Action::Rollback, Status::Failed), &reason),
    }
    run.commit().await?;
    Ok(run.outcome())
}

/// For each resource whose current record replaced an older one that still exists, makes
/// the older one current again (it now "replaces" its replacement, which is cleaned up).
fn restore_replaced(run: &mut Run) {
    let index: BTreeMap<u64, usize> = run
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.record.id, i))
        .collect();
    for slot in 0..run.slots.len() {
        let Some(cur) = run.slots[slot].current else {
            continue;
        };
        let Some(old_id) = run.records[cur].record.replaces else {
            continue;
        };
        // Only a newer record replacing an older one is undone: after the swap the older
        // record "replaces" the newer one, which must not be swapped back when a resumed
        // engine runs this again.
        if old_id > run.records[cur].record.id {
            continue;
        }
        // Only replacements made by the failed update are undone, not the ones this
        // rollback made itself before the engine stopped (when it is resumed).
        if run.records[cur].record.operation == run.stack.operation {
            continue;
        }
        let Some(&old) = index.get(&old_id) else {
            continue;
        };
        let usable = {
            let o = &run.records[old];
            // A healthy resource: not failed, not being (or already) deleted by a clean-up
            // the engine was resuming.
            !o.removed
                && o.record.physical_id.is_some()
                && o.record.state.status == Status::Complete
                && o.record.state.action != Action::Delete
        };
        if !usable {
            continue;
        }
        let cur_id = run.records[cur].record.id;
        Arc::make_mut(&mut run.records[cur].record).replaces = None;
        Arc::make_mut(&mut run.records[old].record).replaces = Some(cur_id);
        run.slots[slot].current = Some(old);
        run.put_record(cur);
        run.put_record(old);
        run.resource_event(
            old,
            run.records[old].record.state,
            "restored by the rollback: its replacement is deleted",
        );
    }
}
