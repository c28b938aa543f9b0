//! The drive loop: creates, deletes and rolls back a stack's resources through their
//! providers, concurrently and in dependency order, recording every transition in the
//! [`Store`] before acting on it, and resuming after a crash from what the store holds.
//!
//! How a traversal runs (one async function, no task spawned, no runtime needed):
//! - a pure [`DependencyQueue`] says which resource may start;
//! - every provider call is one *step* future (a create, a check after a
//!   [`Progress::CheckAfter`] delay slept on [`Services::clock`], a delete, a snapshot, the
//!   attribute fetches a resource's properties need); the steps in flight are polled together
//!   in a [`FuturesUnordered`];
//! - each *loop turn* starts what is ready, then writes **one** batch ([`Store::apply`]) with
//!   every transition and event of the turn (group commit), and only once that batch is
//!   durable launches the provider calls it announced (intent before action): a create is
//!   issued only after its `CREATE_IN_PROGRESS` record with a fresh idempotency token and the
//!   resolved properties is stored, and the physical id a create returns is recorded in the
//!   very next batch, before anything else uses it;
//! - then it waits for one step to finish and takes every other finished step without
//!   waiting, so all of them land in the next turn's batch.
//!
//! Crash resume ([`Engine::resume_all`]) rebuilds the traversal from the store: completed
//! resources are pre-marked done, a create in flight without a physical id is issued again
//! with the same idempotency token (providers hand back the same resource), one with a
//! physical id is checked again, a delete in flight is issued again (deletes are
//! idempotent).
//!
//! The stack timeout is checked at every loop turn against [`Services::clock`]; since every
//! step in flight is at most one provider call after at most one poll delay, a timeout is
//! noticed within one poll interval of passing.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;

use crate::check::{CheckOptions, SourceFile, check};
use crate::diagnostic::{Diagnostic, has_errors};
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
};
use crate::engine::queue::{DependencyQueue, NodeId, QueueBuilder};
use crate::engine::registry::{ProviderRegistry, Resolved, check_resources};
use crate::engine::schema;
use crate::engine::services::Services;
use crate::engine::state::{Action, State, Status};
use crate::engine::store::{Change, EventRecord, ResourceRecord, StackRecord, Store, StoreError};
use crate::environment::{Environment, merge_with};
use crate::eval::{
    EvalContext, ParameterValues, PseudoParams, ResourceResolver, StaticResource, StaticResources,
    TemplateConditions, condition_enabled, evaluate, evaluate_nullable,
};
use crate::files::FilesMap;
use crate::graph::DependencyGraph;
use crate::parameters::{BindMode, bind_with};
use crate::template::load::Limits;
use crate::template::model::{DeletionPolicy, DeletionPolicySpec, Template};
use crate::template::refs::{RefKind, Reference, collect};

/// How the engine behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// At most this many resource steps of one stack run at once (`None`: no limit).
    /// Default 64: enough to start every resource of a typical wide stack together while
    /// bounding the load one stack puts on the cloud's APIs.
    pub concurrency: Option<NonZeroUsize>,
    /// How many times a step that failed with [`ProviderError::Retryable`] is retried, with
    /// exponential backoff (`retry_base`, doubled each time). Default 2, Heat's
    /// `client_retry_limit`.
    pub retry_limit: u32,
    /// The first retry delay. Default 1 second.
    pub retry_base: Duration,
    /// Template limits: size (Heat's `max_template_size`, 524288 bytes), nesting, and the
    /// most resources one stack may have (`max_resources_per_stack`, 1000).
    pub limits: Limits,
    /// Whether a failed create is rolled back when the request does not say. Default
    /// `false`: Heat's API defaults `disable_rollback` to true.
    pub rollback_default: bool,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            concurrency: NonZeroUsize::new(64),
            retry_limit: 2,
            retry_base: Duration::from_secs(1),
            limits: Limits::default(),
            rollback_default: false,
        }
    }
}

/// A request to create a stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateRequest {
    /// The stack's name.
    pub name: String,
    /// The template text.
    pub template: String,
    /// The files map (`get_file`, template resources).
    pub files: BTreeMap<String, String>,
    /// Environment file texts, merged in order.
    pub environments: Vec<String>,
    /// Parameter values given by the user.
    pub parameters: BTreeMap<String, String>,
    /// Whether a failed create is left as is; `None`: the engine's default.
    pub disable_rollback: Option<bool>,
    /// The timeout in minutes; `None`: 60.
    pub timeout_mins: Option<u32>,
    /// Tags.
    pub tags: Vec<String>,
}

/// How a stack operation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackOutcome {
    /// The stack's id.
    pub id: String,
    /// The stack's name.
    pub name: String,
    /// The final state (`CREATE_COMPLETE`, `ROLLBACK_COMPLETE`, `DELETE_FAILED`, ...).
    pub state: State,
    /// Why.
    pub reason: String,
}

/// One output of a stack: its value, or why it could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputValue {
    /// The output's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The value (`None` when evaluation failed).
    pub value: Option<Value>,
    /// Heat's `output_error`: the evaluation error's message.
    pub error: Option<String>,
}

/// Why an engine operation could not run (a resource failing is not an error: it is a
/// `*_FAILED` [`StackOutcome`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The request is invalid; nothing was stored.
    #[error("the stack is invalid ({} problems)", .0.len())]
    Invalid(Vec<Diagnostic>),
    /// No (live) stack has this id.
    #[error("stack {0} not found")]
    NotFound(String),
    /// The stack is busy or in a state that does not allow the operation.
    #[error("{0}")]
    Conflict(String),
    /// The store failed; the operation stopped (it can be resumed).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An invariant did not hold (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The engine: a store, the providers and the services they use.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    registry: Arc<ProviderRegistry>,
    services: Services,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The default stack timeout, in minutes (Heat's).
pub const DEFAULT_TIMEOUT_MINS: u32 = 60;

impl Engine {
    /// An engine.
    pub fn new(
        store: Arc<dyn Store>,
        registry: Arc<ProviderRegistry>,
        services: Services,
        config: EngineConfig,
    ) -> Engine {
        Engine {
            store,
            registry,
            services,
            config,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Validates and creates a stack, and drives the create (and the rollback, when it fails
    /// and rollback is enabled) to its end.
    pub async fn create_stack(&self, request: CreateRequest) -> Result<StackOutcome, EngineError> {
        let loaded = load(
            &self.registry,
            &self.config,
            &request.template,
            &request.environments,
            &request.parameters,
            &request.files,
        )?;
        let now = self.services.clock.now();
        let stack = StackRecord {
            id: new_uuid(&self.services),
            name: request.name.clone(),
            template: request.template,
            files: request.files,
            environments: request.environments,
            parameters: request.parameters,
            state: State::new(Action::Create, Status::InProgress),
            status_reason: "Stack CREATE started".to_string(),
            disable_rollback: request
                .disable_rollback
                .unwrap_or(!self.config.rollback_default),
            timeout_mins: request.timeout_mins.unwrap_or(DEFAULT_TIMEOUT_MINS),
            tags: request.tags,
            created_at: now,
            updated_at: now,
            deleted: false,
        };
        let mut run = Run::new(self, stack, loaded);
        let enabled: Vec<usize> = (0..run.nodes.len())
            .filter(|i| run.nodes[*i].enabled)
            .collect();
        for i in enabled {
            let id = self.store.next_resource_id().await?;
            let node = &mut run.nodes[i];
            node.record = Some(ResourceRecord {
                id,
                stack_id: run.stack.id.clone(),
                name: node.name.clone(),
                resource_type: node.type_name.clone(),
                physical_id: None,
                state: State::INIT,
                status_reason: String::new(),
                properties: Properties::new(),
                data: ResourceData::new(),
                idempotency_token: String::new(),
                replaces: None,
                updated_at: now,
            });
        }
        run.pending.push(Change::PutStack(run.stack.clone()));
        for record in run.nodes.iter().filter_map(|n| n.record.as_ref()) {
            run.pending.push(Change::PutResource(record.clone()));
        }
        run.stack_event();
        run.commit().await?;
        run.drive_create().await
    }

    /// Deletes a stack: its resources in reverse dependency order (respecting deletion
    /// policies), then the stack record is soft-deleted.
    pub async fn delete_stack(&self, id: &str) -> Result<StackOutcome, EngineError> {
        let stack = self.live_stack(id).await?;
        if stack.state.in_progress() {
            return Err(EngineError::Conflict(format!(
                "stack {} is {}: wait for it to finish",
                stack.name, stack.state
            )));
        }
        let mut run = self.open(stack).await?;
        run.set_stack(
            State::new(Action::Delete, Status::InProgress),
            "Stack DELETE started",
        );
        run.commit().await?;
        run.drive_delete().await
    }

    /// Resumes every stack whose operation was interrupted (its state is `*_IN_PROGRESS`):
    /// creates, deletes and rollbacks continue where the store says they were. Returns how
    /// each ended, in the store's order.
    pub async fn resume_all(&self) -> Result<Vec<StackOutcome>, EngineError> {
        let mut out = Vec::new();
        for stack in self.store.stacks(false).await? {
            if stack.state.in_progress() {
                out.push(self.resume(stack).await?);
            }
        }
        Ok(out)
    }

    /// Resumes one interrupted stack operation.
    async fn resume(&self, stack: StackRecord) -> Result<StackOutcome, EngineError> {
        let action = stack.state.action;
        let mut run = self.open(stack).await?;
        match action {
            Action::Create => run.drive_create().await,
            Action::Delete => run.drive_delete().await,
            Action::Rollback => run.drive_rollback().await,
            other => {
                run.set_stack(
                    State::new(other, Status::Failed),
                    &format!(
                        "the engine stopped during {} and cannot resume it",
                        other.as_str()
                    ),
                );
                run.commit().await?;
                Ok(run.outcome())
            }
        }
    }

    /// The stack's outputs: each one's value, or its `output_error`. A failing output never
    /// fails the stack; outputs whose condition is false are left out.
    pub async fn outputs(&self, id: &str) -> Result<Vec<OutputValue>, EngineError> {
        let stack = self.live_stack(id).await?;
        let run = self.open(stack).await?;
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

    async fn live_stack(&self, id: &str) -> Result<StackRecord, EngineError> {
        match self.store.stack(id).await? {
            Some(stack) if !stack.deleted => Ok(stack),
            _ => Err(EngineError::NotFound(id.to_string())),
        }
    }

    /// Rebuilds a run from a stored stack and its resource records.
    async fn open(&self, stack: StackRecord) -> Result<Run<'_>, EngineError> {
        let loaded = load(
            &self.registry,
            &self.config,
            &stack.template,
            &stack.environments,
            &stack.parameters,
            &stack.files,
        )?;
        let records = self.store.resources(&stack.id).await?;
        let mut run = Run::new(self, stack, loaded);
        for record in records {
            if let Some(node) = run.nodes.iter_mut().find(|n| n.name == record.name) {
                // The newest record of a name is the current one.
                if node.record.as_ref().is_none_or(|r| r.id < record.id) {
                    node.record = Some(record);
                }
            }
        }
        Ok(run)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------------------------------

/// A validated template with its environment and parameter values.
struct Loaded {
    template: Template,
    env: Environment,
    params: ParameterValues,
}

/// Validates a template as a create would (offline check, registry check, parameter
/// binding): every error, or the parts the engine runs on.
fn load(
    registry: &ProviderRegistry,
    config: &EngineConfig,
    template_text: &str,
    environments: &[String],
    parameters: &BTreeMap<String, String>,
    files: &BTreeMap<String, String>,
) -> Result<Loaded, EngineError> {
    let limits = config.limits.clone();
    let env_files: Vec<SourceFile> = environments
        .iter()
        .enumerate()
        .map(|(i, text)| SourceFile {
            name: format!("environment-{i}"),
            text: text.clone(),
        })
        .collect();
    let user: Vec<(String, String)> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let options = CheckOptions {
        limits: limits.clone(),
        environments: env_files.clone(),
        parameters: user.clone(),
        files: Some(FilesMap {
            contents: files.clone(),
            ..FilesMap::default()
        }),
    };
    let report = check(
        &SourceFile {
            name: "template".to_string(),
            text: template_text.to_string(),
        },
        &options,
    );
    let mut diagnostics = report.diagnostics;
    let Some(template) = report.template else {
        return Err(EngineError::Invalid(diagnostics));
    };
    let envs: Vec<Environment> = env_files
        .iter()
        .map(|f| Environment::parse(&f.name, &f.text, &limits).0)
        .collect();
    let (env, _) = merge_with(envs, |name| template.parameter(name).map(|p| p.ty.clone()));
    diagnostics.extend(check_resources(&template, &env, registry));
    let (bound, bind_diags) = bind_with(&template, &env, &user, BindMode::Create);
    for d in bind_diags {
        if !diagnostics
            .iter()
            .any(|e| e.code == d.code && e.message == d.message)
        {
            diagnostics.push(d);
        }
    }
    if has_errors(&diagnostics) {
        return Err(EngineError::Invalid(diagnostics));
    }
    let format = template.format();
    let mut params = ParameterValues::new();
    for p in bound.iter() {
        let value = p.value.to_json_for(format);
        params = if p.hidden {
            params.with_hidden(p.name.clone(), value)
        } else {
            params.with(p.name.clone(), value)
        };
    }
    Ok(Loaded {
        template,
        env,
        params,
    })
}

// ---------------------------------------------------------------------------------------------
// One run of a stack operation
// ---------------------------------------------------------------------------------------------

/// One resource of the run (graph node `i` is template resource `resource`).
struct Node {
    name: String,
    /// Index in `template.resources` (always found for a graph built from the template).
    resource: Option<usize>,
    type_name: String,
    provider: Option<Arc<dyn ResourceProvider>>,
    /// Why there is no provider (a template resource: nested stacks are not supported yet).
    no_provider: Option<String>,
    enabled: bool,
    policy: DeletionPolicy,
    record: Option<ResourceRecord>,
}

/// Which traversal a run drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Create,
    Delete,
    Rollback,
}

impl Mode {
    fn delete_action(self) -> Action {
        match self {
            Mode::Rollback => Action::Rollback,
            _ => Action::Delete,
        }
    }
}

/// A provider call to make, launched once the batch announcing it is stored.
enum Op {
    /// Fetch these attributes of dependencies, then evaluate the properties and create.
    Fetch(StaticResources, Vec<Fetch>),
    Create(Properties),
    CheckCreate(String, Duration),
    Snapshot(String),
    Delete(String),
    CheckDelete(String, Duration),
}

/// Which kind of step finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Fetch,
    Create,
    Check,
    Snapshot,
    Delete,
}

/// What a step returned.
enum Reply {
    Fetched(StaticResources),
    Created(Created),
    Progress(Progress),
    Snapshot(ResourceData),
}

/// The attributes to fetch from one resource.
struct Fetch {
    target: Target,
    physical_id: String,
    attributes: Vec<String>,
}

/// An owned [`ResourceContext`], so a step future can own it.
#[derive(Clone)]
struct Target {
    stack_id: String,
    stack_name: String,
    resource_name: String,
    resource_type: String,
    token: String,
    data: ResourceData,
    services: Services,
    provider: Arc<dyn ResourceProvider>,
}

impl Target {
    fn ctx(&self) -> ResourceContext<'_> {
        ResourceContext {
            stack_id: &self.stack_id,
            stack_name: &self.stack_name,
            resource_name: &self.resource_name,
            resource_type: &self.resource_type,
            idempotency_token: &self.token,
            data: &self.data,
            services: &self.services,
            peers: &[],
        }
    }
}

type Step = BoxFuture<'static, (usize, OpKind, Result<Reply, ProviderError>)>;

struct Run<'e> {
    engine: &'e Engine,
    stack: StackRecord,
    template: Template,
    graph: DependencyGraph,
    params: ParameterValues,
    pseudo: PseudoParams,
    nodes: Vec<Node>,
    /// The changes of the current loop turn.
    pending: Vec<Change>,
    /// Steps to launch once `pending` is stored.
    deferred: Vec<(usize, Op)>,
    /// The first failure of the traversal.
    failure: Option<String>,
    timed_out: bool,
}

impl<'e> Run<'e> {
    fn new(engine: &'e Engine, stack: StackRecord, loaded: Loaded) -> Run<'e> {
        let Loaded {
            template,
            env,
            params,
        } = loaded;
        let (graph, _) = crate::graph::build(&template);
        let pseudo = PseudoParams {
            stack_name: Some(stack.name.clone()),
            stack_id: Some(stack.id.clone()),
            ..PseudoParams::new()
        };
        let mut run = Run {
            engine,
            stack,
            template,
            graph,
            params,
            pseudo,
            nodes: Vec::new(),
            pending: Vec::new(),
            deferred: Vec::new(),
            failure: None,
            timed_out: false,
        };
        let mut nodes = Vec::with_capacity(run.graph.len());
        for graph_node in run.graph.resources() {
            let resource = run
                .template
                .resources
                .iter()
                .position(|r| r.name.value == graph_node.name);
            let Some(def) = resource.and_then(|i| run.template.resources.get(i)) else {
                nodes.push(Node {
                    name: graph_node.name.clone(),
                    resource: None,
                    type_name: graph_node.ty.clone(),
                    provider: None,
                    no_provider: Some("the resource is not in the template".to_string()),
                    enabled: false,
                    policy: DeletionPolicy::Delete,
                    record: None,
                });
                continue;
            };
            let (provider, type_name, no_provider) =
                match engine
                    .registry
                    .resolve(&env, &def.name.value, &def.ty.value)
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
            let enabled = run
                .eval_in(&StaticResources::new(), |ctx| {
                    condition_enabled(def.condition.as_ref(), ctx)
                })
                .unwrap_or(true);
            let policy = match &def.deletion_policy {
                None => DeletionPolicy::Delete,
                Some(DeletionPolicySpec::Known(p)) => p.value,
                Some(DeletionPolicySpec::Expr(e)) => {
                    match run.eval_in(&StaticResources::new(), |ctx| evaluate(e, ctx)) {
                        Ok(Value::String(s)) if s.eq_ignore_ascii_case("retain") => {
                            DeletionPolicy::Retain
                        }
                        Ok(Value::String(s)) if s.eq_ignore_ascii_case("snapshot") => {
                            DeletionPolicy::Snapshot
                        }
                        _ => DeletionPolicy::Delete,
                    }
                }
            };
            nodes.push(Node {
                name: graph_node.name.clone(),
                resource,
                type_name,
                provider,
                no_provider,
                enabled,
                policy,
                record: None,
            });
        }
        run.nodes = nodes;
        run
    }

    /// Evaluates with this stack's parameters, pseudo-parameters, files, conditions and the
    /// given resources. Synchronous: the condition table is not `Send`.
    fn eval_in<T>(
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

    fn now(&self) -> Duration {
        self.engine.services.clock.now()
    }

    fn deadline(&self) -> Duration {
        self.stack.updated_at + Duration::from_secs(u64::from(self.stack.timeout_mins) * 60)
    }

    fn outcome(&self) -> StackOutcome {
        StackOutcome {
            id: self.stack.id.clone(),
            name: self.stack.name.clone(),
            state: self.stack.state,
            reason: self.stack.status_reason.clone(),
        }
    }

    // -- recording ------------------------------------------------------------------------

    /// Appends the stack's current state as an event.
    fn stack_event(&mut self) {
        self.pending.push(Change::AddEvent(EventRecord {
            id: 0,
            stack_id: self.stack.id.clone(),
            resource_name: self.stack.name.clone(),
            physical_id: Some(self.stack.id.clone()),
            state: self.stack.state,
            reason: self.stack.status_reason.clone(),
            at: self.stack.updated_at,
        }));
    }

    /// Moves the stack to a state: the record and the event go into the pending batch.
    fn set_stack(&mut self, state: State, reason: &str) {
        self.stack.state = state;
        self.stack.status_reason = reason.to_string();
        self.stack.updated_at = self.now();
        self.pending.push(Change::PutStack(self.stack.clone()));
        self.stack_event();
    }

    /// Every resource transition goes through here: the record and its event are appended
    /// to the pending batch.
    fn transition(&mut self, node: usize, state: State, reason: &str) {
        let now = self.now();
        let Some(record) = self.nodes.get_mut(node).and_then(|n| n.record.as_mut()) else {
            return;
        };
        record.state = state;
        record.status_reason = reason.to_string();
        record.updated_at = now;
        let event = EventRecord {
            id: 0,
            stack_id: record.stack_id.clone(),
            resource_name: record.name.clone(),
            physical_id: record.physical_id.clone(),
            state,
            reason: reason.to_string(),
            at: now,
        };
        self.pending.push(Change::PutResource(record.clone()));
        self.pending.push(Change::AddEvent(event));
    }

    /// Records a resource's data (physical id, provider data) without a transition.
    fn put_record(&mut self, node: usize) {
        if let Some(record) = self.nodes.get(node).and_then(|n| n.record.as_ref()) {
            self.pending.push(Change::PutResource(record.clone()));
        }
    }

    /// Removes a resource's record.
    fn remove_record(&mut self, node: usize) {
        if let Some(record) = self.nodes.get_mut(node).and_then(|n| n.record.take()) {
            self.pending.push(Change::RemoveResource { id: record.id });
        }
    }

    /// Stores the pending batch (if any) in one [`Store::apply`].
    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.engine.store.apply(batch).await
    }

    // -- the loop -------------------------------------------------------------------------

    /// Drives a traversal until nothing runs and nothing can start.
    async fn traverse(
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
            while let Some(node) = queue.next_ready() {
                self.begin(queue, node, mode);
            }
            self.commit().await?;
            for (node, op) in std::mem::take(&mut self.deferred) {
                in_flight.push(self.launch(node, op));
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

    /// Fails a node: its `<ACTION>_FAILED` transition, the queue told, the traversal
    /// stopped after the first failure.
    fn fail(&mut self, queue: &mut DependencyQueue, node: usize, action: Action, reason: &str) {
        self.transition(node, State::new(action, Status::Failed), reason);
        let _ = queue.fail(nid(node));
        queue.stop();
        if self.failure.is_none() {
            let name = self.nodes.get(node).map_or("", |n| n.name.as_str());
            self.failure = Some(format!(
                "Resource {} failed: {name}: {reason}",
                action.as_str()
            ));
        }
    }

    fn complete(&mut self, queue: &mut DependencyQueue, node: usize, state: State) {
        self.transition(node, state, "state changed");
        let _ = queue.complete(nid(node));
    }

    /// Starts a ready node.
    fn begin(&mut self, queue: &mut DependencyQueue, id: NodeId, mode: Mode) {
        let node = id.index();
        match mode {
            Mode::Create => self.begin_create(queue, node),
            Mode::Delete | Mode::Rollback => self.begin_delete(queue, node, mode),
        }
    }

    fn begin_create(&mut self, queue: &mut DependencyQueue, node: usize) {
        let Some(n) = self.nodes.get(node) else {
            return;
        };
        if n.record.is_none() {
            let _ = queue.complete(nid(node));
            return;
        }
        if let Some(reason) = n.no_provider.clone() {
            self.fail(queue, node, Action::Create, &reason);
            return;
        }
        let mut refs = Vec::new();
        let def = n.resource.and_then(|i| self.template.resources.get(i));
        if let Some(props) = def.and_then(|d| d.properties.as_ref()) {
            collect(props, &mut refs);
        }
        let (table, fetches) = self.resolver_for(&refs);
        if fetches.is_empty() {
            self.start_create(queue, node, &table);
        } else {
            self.deferred.push((node, Op::Fetch(table, fetches)));
        }
    }

    /// Evaluates a node's properties with the resources given, records the intent to create
    /// (fresh idempotency token, resolved properties) and schedules the create.
    fn start_create(&mut self, queue: &mut DependencyQueue, node: usize, table: &StaticResources) {
        let Some(n) = self.nodes.get(node) else {
            return;
        };
        let Some(provider) = n.provider.clone() else {
            return;
        };
        let name = n.name.clone();
        let expr = n
            .resource
            .and_then(|i| self.template.resources.get(i))
            .and_then(|d| d.properties.as_ref());
        let evaluated = match expr {
            None => Ok(None),
            Some(e) => self.eval_in(table, |ctx| evaluate_nullable(e, ctx)),
        };
        let resolved = match evaluated {
            Ok(value) => schema::resolve(provider.schema(), value).map_err(|errs| {
                errs.iter()
                    .map(|e| e.message_for(&name))
                    .collect::<Vec<_>>()
                    .join("; ")
            }),
            Err(e) => Err(e.message),
        };
        match resolved {
            Ok(properties) => {
                let token = new_token(&self.engine.services);
                if let Some(record) = self.nodes[node].record.as_mut() {
                    record.idempotency_token = token;
                    record.properties = properties.clone();
                }
                self.transition(
                    node,
                    State::new(Action::Create, Status::InProgress),
                    "state changed",
                );
                self.deferred.push((node, Op::Create(properties)));
            }
            Err(reason) => self.fail(queue, node, Action::Create, &reason),
        }
    }

    fn begin_delete(&mut self, queue: &mut DependencyQueue, node: usize, mode: Mode) {
        let action = mode.delete_action();
        let Some(n) = self.nodes.get(node) else {
            return;
        };
        let Some(record) = &n.record else {
            let _ = queue.complete(nid(node));
            return;
        };
        let Some(physical_id) = record.physical_id.clone() else {
            if mode == Mode::Delete {
                self.remove_record(node);
            }
            let _ = queue.complete(nid(node));
            return;
        };
        let retain = match n.policy {
            DeletionPolicy::Retain => true,
            DeletionPolicy::RetainExceptOnCreate => mode == Mode::Delete,
            DeletionPolicy::Delete | DeletionPolicy::Snapshot => false,
        };
        let snapshot = n.policy == DeletionPolicy::Snapshot && mode == Mode::Delete;
        if retain || n.provider.is_none() {
            let reason = if retain {
                "the resource is retained (deletion policy Retain)"
            } else {
                "there is no provider for the type: nothing to delete"
            };
            self.transition(node, State::new(Action::Delete, Status::Complete), reason);
            self.remove_record(node);
            let _ = queue.complete(nid(node));
            return;
        }
        self.transition(
            node,
            State::new(action, Status::InProgress),
            "state changed",
        );
        let op = if snapshot {
            Op::Snapshot(physical_id)
        } else {
            Op::Delete(physical_id)
        };
        self.deferred.push((node, op));
    }

    /// A finished step.
    fn finish(
        &mut self,
        queue: &mut DependencyQueue,
        (node, kind, result): (usize, OpKind, Result<Reply, ProviderError>),
        mode: Mode,
    ) {
        let action = match mode {
            Mode::Create => Action::Create,
            _ => mode.delete_action(),
        };
        match (kind, result) {
            (_, Ok(Reply::Fetched(table))) => self.start_create(queue, node, &table),
            (_, Ok(Reply::Created(created))) => {
                if let Some(record) = self.nodes[node].record.as_mut() {
                    record.physical_id = Some(created.physical_id.clone());
                    record.data = created.data;
                }
                self.after_progress(queue, node, mode, created.progress, created.physical_id);
            }
            (_, Ok(Reply::Progress(progress))) => {
                let physical_id = self.physical_id(node);
                self.after_progress(queue, node, mode, progress, physical_id);
            }
            (_, Ok(Reply::Snapshot(data))) => {
                if let Some(record) = self.nodes[node].record.as_mut() {
                    record.data.extend(data);
                }
                self.put_record(node);
                let physical_id = self.physical_id(node);
                self.deferred.push((node, Op::Delete(physical_id)));
            }
            (OpKind::Snapshot, Err(ProviderError::NotSupported { .. })) => {
                let physical_id = self.physical_id(node);
                self.deferred.push((node, Op::Delete(physical_id)));
            }
            (OpKind::Delete | OpKind::Check, Err(ProviderError::NotFound(_)))
                if mode != Mode::Create =>
            {
                self.deleted(queue, node);
            }
            (_, Err(e)) => self.fail(queue, node, action, &e.to_string()),
        }
    }

    fn physical_id(&self, node: usize) -> String {
        self.nodes
            .get(node)
            .and_then(|n| n.record.as_ref())
            .and_then(|r| r.physical_id.clone())
            .unwrap_or_default()
    }

    /// After a create, delete or check: done, or check again later (unless timed out).
    fn after_progress(
        &mut self,
        queue: &mut DependencyQueue,
        node: usize,
        mode: Mode,
        progress: Progress,
        physical_id: String,
    ) {
        match (progress, mode) {
            (Progress::Done, Mode::Create) => {
                self.complete(queue, node, State::new(Action::Create, Status::Complete));
            }
            (Progress::Done, _) => self.deleted(queue, node),
            (Progress::CheckAfter(_), _) if self.timed_out => {
                self.put_record(node);
                let action = match mode {
                    Mode::Create => Action::Create,
                    _ => mode.delete_action(),
                };
                self.fail(queue, node, action, "Timed out");
            }
            (Progress::CheckAfter(delay), Mode::Create) => {
                // The physical id is recorded before the check acts on it.
                self.put_record(node);
                self.deferred
                    .push((node, Op::CheckCreate(physical_id, delay)));
            }
            (Progress::CheckAfter(delay), _) => {
                self.deferred
                    .push((node, Op::CheckDelete(physical_id, delay)));
            }
        }
    }

    /// A resource is gone: `DELETE_COMPLETE`, the record removed.
    fn deleted(&mut self, queue: &mut DependencyQueue, node: usize) {
        self.transition(
            node,
            State::new(Action::Delete, Status::Complete),
            "state changed",
        );
        self.remove_record(node);
        let _ = queue.complete(nid(node));
    }

    /// The step future of an operation on a node.
    fn launch(&self, node: usize, op: Op) -> Step {
        let config = self.engine.config.clone();
        let target = self.target(node);
        let services = self.engine.services.clone();
        async move {
            let kind = match &op {
                Op::Fetch(..) => OpKind::Fetch,
                Op::Create(_) => OpKind::Create,
                Op::CheckCreate(..) | Op::CheckDelete(..) => OpKind::Check,
                Op::Snapshot(_) => OpKind::Snapshot,
                Op::Delete(_) => OpKind::Delete,
            };
            let result = match (op, target) {
                (Op::Fetch(table, fetches), _) => fetch_attributes(table, fetches, &config)
                    .await
                    .map(Reply::Fetched),
                (_, None) => Err(ProviderError::Failed(
                    "the resource has no provider".to_string(),
                )),
                (Op::Create(properties), Some(t)) => {
                    let ctx = t.ctx();
                    retrying(&config, &services, || t.provider.create(&ctx, &properties))
                        .await
                        .map(Reply::Created)
                }
                (Op::CheckCreate(id, delay), Some(t)) => {
                    services.clock.sleep(delay).await;
                    let ctx = t.ctx();
                    retrying(&config, &services, || t.provider.check_create(&ctx, &id))
                        .await
                        .map(Reply::Progress)
                }
                (Op::Snapshot(id), Some(t)) => {
                    let ctx = t.ctx();
                    retrying(&config, &services, || t.provider.snapshot(&ctx, &id))
                        .await
                        .map(Reply::Snapshot)
                }
                (Op::Delete(id), Some(t)) => {
                    let ctx = t.ctx();
                    retrying(&config, &services, || t.provider.delete(&ctx, &id))
                        .await
                        .map(Reply::Progress)
                }
                (Op::CheckDelete(id, delay), Some(t)) => {
                    services.clock.sleep(delay).await;
                    let ctx = t.ctx();
                    retrying(&config, &services, || t.provider.check_delete(&ctx, &id))
                        .await
                        .map(Reply::Progress)
                }
            };
            (node, kind, result)
        }
        .boxed()
    }

    /// An owned provider context for a node.
    fn target(&self, node: usize) -> Option<Target> {
        let n = self.nodes.get(node)?;
        let record = n.record.as_ref()?;
        Some(Target {
            stack_id: self.stack.id.clone(),
            stack_name: self.stack.name.clone(),
            resource_name: n.name.clone(),
            resource_type: n.type_name.clone(),
            token: record.idempotency_token.clone(),
            data: record.data.clone(),
            services: self.engine.services.clone(),
            provider: n.provider.clone()?,
        })
    }

    /// The resolver table for the given references: reference ids now, attributes as
    /// fetches to make. Only resources with a physical id are in the table.
    fn resolver_for(&self, refs: &[Reference]) -> (StaticResources, Vec<Fetch>) {
        let mut attributes: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
        let mut table = StaticResources::new();
        for r in refs {
            let Some(node) = self.nodes.iter().position(|n| n.name == r.name) else {
                continue;
            };
            let n = &self.nodes[node];
            let Some(record) = &n.record else { continue };
            let Some(physical_id) = &record.physical_id else {
                continue;
            };
            if !table.resources.contains_key(&n.name) {
                let reference = self
                    .target(node)
                    .and_then(|t| t.provider.reference_id(&t.ctx(), physical_id))
                    .unwrap_or_else(|| physical_id.clone());
                table.resources.insert(
                    n.name.clone(),
                    StaticResource {
                        reference: Some(Value::String(reference)),
                        attributes: serde_json::Map::new(),
                    },
                );
            }
            match &r.kind {
                RefKind::Attribute(Some(name)) => {
                    attributes.entry(node).or_default().insert(name.clone());
                }
                RefKind::Attribute(None) => {
                    let set = attributes.entry(node).or_default();
                    if let Some(p) = &n.provider {
                        set.extend(p.schema().attributes.iter().map(|a| a.name.to_string()));
                    }
                }
                _ => {}
            }
        }
        let fetches = attributes
            .into_iter()
            .filter_map(|(node, names)| {
                Some(Fetch {
                    target: self.target(node)?,
                    physical_id: self.physical_id(node),
                    attributes: names.into_iter().collect(),
                })
            })
            .collect();
        (table, fetches)
    }

    // -- whole operations -----------------------------------------------------------------

    /// The create traversal (from the start or resumed), then the stack's end state and the
    /// rollback when the create failed and rollback is enabled.
    async fn drive_create(&mut self) -> Result<StackOutcome, EngineError> {
        let mut builder = QueueBuilder::for_create(&self.graph);
        builder.set_limit(self.engine.config.concurrency);
        let mut queue = builder
            .seal()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        for node in 0..self.nodes.len() {
            let id = nid(node);
            let Some(record) = self.nodes[node].record.clone() else {
                let _ = queue.mark_done(id);
                continue;
            };
            match (record.state.action, record.state.status) {
                (Action::Create, Status::Complete) => {
                    let _ = queue.mark_done(id);
                }
                (Action::Create, Status::Failed) => {
                    let _ = queue.fail(id);
                    queue.stop();
                    self.failure.get_or_insert_with(|| {
                        format!(
                            "Resource CREATE failed: {}: {}",
                            record.name, record.status_reason
                        )
                    });
                }
                (Action::Create, Status::InProgress) if queue.mark_running(id).is_ok() => {
                    let op = match record.physical_id {
                        Some(physical_id) => Op::CheckCreate(physical_id, Duration::ZERO),
                        // Issued again with the same token: the provider finds the
                        // resource the interrupted call made, if it made one.
                        None => Op::Create(record.properties.clone()),
                    };
                    self.deferred.push((node, op));
                }
                _ => {}
            }
        }
        self.traverse(&mut queue, Mode::Create).await?;
        match self.failure.take() {
            None => {
                self.set_stack(
                    State::new(Action::Create, Status::Complete),
                    "Stack CREATE completed successfully",
                );
                self.commit().await?;
                Ok(self.outcome())
            }
            Some(reason) => {
                self.set_stack(State::new(Action::Create, Status::Failed), &reason);
                if self.stack.disable_rollback {
                    self.commit().await?;
                    return Ok(self.outcome());
                }
                self.set_stack(
                    State::new(Action::Rollback, Status::InProgress),
                    "Stack ROLLBACK started",
                );
                self.commit().await?;
                self.drive_rollback().await
            }
        }
    }

    /// The reverse traversal shared by delete and rollback.
    async fn delete_traversal(&mut self, mode: Mode) -> Result<(), EngineError> {
        self.failure = None;
        self.timed_out = false;
        let mut builder = QueueBuilder::for_delete(&self.graph);
        builder.set_limit(self.engine.config.concurrency);
        let mut queue = builder
            .seal()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let action = mode.delete_action();
        for node in 0..self.nodes.len() {
            let id = nid(node);
            match &self.nodes[node].record {
                None => {
                    let _ = queue.mark_done(id);
                }
                Some(record) if mode == Mode::Rollback && record.physical_id.is_none() => {
                    let _ = queue.mark_done(id);
                }
                Some(record)
                    if record.state == State::new(action, Status::InProgress)
                        && record.physical_id.is_some() =>
                {
                    if queue.mark_running(id).is_ok() {
                        let physical_id = self.physical_id(node);
                        self.deferred.push((node, Op::Delete(physical_id)));
                    }
                }
                Some(_) => {}
            }
        }
        self.traverse(&mut queue, mode).await?;
        Ok(())
    }

    async fn drive_rollback(&mut self) -> Result<StackOutcome, EngineError> {
        self.delete_traversal(Mode::Rollback).await?;
        match self.failure.take() {
            None => self.set_stack(
                State::new(Action::Rollback, Status::Complete),
                "Stack ROLLBACK completed successfully",
            ),
            Some(reason) => self.set_stack(State::new(Action::Rollback, Status::Failed), &reason),
        }
        self.commit().await?;
        Ok(self.outcome())
    }

    async fn drive_delete(&mut self) -> Result<StackOutcome, EngineError> {
        self.delete_traversal(Mode::Delete).await?;
        match self.failure.take() {
            None => {
                for node in 0..self.nodes.len() {
                    self.remove_record(node);
                }
                self.stack.deleted = true;
                self.set_stack(
                    State::new(Action::Delete, Status::Complete),
                    "Stack DELETE completed successfully",
                );
            }
            Some(reason) => self.set_stack(State::new(Action::Delete, Status::Failed), &reason),
        }
        self.commit().await?;
        Ok(self.outcome())
    }
}

/// Calls a provider operation, retrying [`ProviderError::Retryable`] failures up to the
/// retry limit with exponential backoff on the engine's clock.
async fn retrying<'a, T, F>(
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
async fn fetch_attributes(
    mut table: StaticResources,
    fetches: Vec<Fetch>,
    config: &EngineConfig,
) -> Result<StaticResources, ProviderError> {
    for fetch in fetches {
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

/// The queue node of a graph index.
fn nid(node: usize) -> NodeId {
    NodeId::new(u32::try_from(node).unwrap_or(u32::MAX))
}

/// A fresh idempotency token: 128 random bits, hex.
fn new_token(services: &Services) -> String {
    let mut bytes = [0u8; 16];
    services.random.fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random (version 4) UUID.
fn new_uuid(services: &Services) -> String {
    let mut b = [0u8; 16];
    services.random.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
