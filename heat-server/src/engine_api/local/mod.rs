//! [`LocalEngine`]: the engine in this process. Stack operations are validated and recorded
//! before the call returns (Heat's 201/202 mean "accepted and recorded"); the work itself
//! runs on a tokio task, tracked so that shutdown can bring it to rest.

mod catalogue;
mod inputs;
mod preview;
mod resources;
mod snapshots;
mod software;
mod stacks;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use heat_core::engine::store::{EventRecord, StackRecord, Store};
use heat_core::engine::{Engine, EngineConfig, EngineError, Operation, ProviderRegistry, Services};
use serde_json::Value;
use tokio::task::JoinSet;

use super::drain::{CountingStore, Gate, gate_registry};
use super::{
    CreateArgs, DeploymentArgs, EngineApi, EngineApiError, EventDetail, EventQuery, OutputDetail,
    ResourceDetail, ResourceQuery, ServiceStatus, SnapshotView, SoftwareConfigArgs, StackAction,
    StackDetail, StackIdentity, StackPreview, TemplateVersion, TypeFilter, UpdateArgs,
    UpdatePreview, ValidateArgs, Validation,
};
use crate::auth::RequestContext;
use crate::random::uuid4;
use crate::store::{ServerStore, ServiceRecord, SoftwareConfig, SoftwareDeployment, StackQuery};

/// What the local engine allows and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineOptions {
    /// `enable_stack_abandon` (abandon and export).
    pub enable_stack_abandon: bool,
    /// `enable_stack_adopt`.
    pub enable_stack_adopt: bool,
    /// The most live stacks per project (`None`: no limit).
    pub max_stacks_per_tenant: Option<usize>,
    /// The largest template text, in bytes.
    pub max_template_size: usize,
    /// What `build_info` reports.
    pub heat_revision: String,
    /// The host name the service record shows.
    pub host: String,
    /// How often the service record is refreshed.
    pub report_interval: Duration,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            enable_stack_abandon: false,
            enable_stack_adopt: false,
            max_stacks_per_tenant: Some(512),
            max_template_size: 524_288,
            heat_revision: "unknown".to_string(),
            host: "localhost".to_string(),
            report_interval: Duration::from_secs(60),
        }
    }
}

/// How a shutdown went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shutdown {
    /// Whether every provider call in flight finished (and was recorded) in time.
    pub settled: bool,
    /// How many stack operations were stopped (to be resumed at the next start).
    pub stopped: usize,
}

/// The engine running in this process.
pub struct LocalEngine {
    engine: Engine,
    store: Arc<dyn ServerStore>,
    counting: Arc<CountingStore>,
    services: Services,
    options: EngineOptions,
    gate: Arc<Gate>,
    tasks: Mutex<JoinSet<()>>,
    engine_id: String,
    started_at: Duration,
}

impl std::fmt::Debug for LocalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEngine")
            .field("engine_id", &self.engine_id)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl LocalEngine {
    /// An engine over `store` with the providers of `registry` (each call passing through
    /// the shutdown gate).
    pub fn new(
        store: Arc<dyn ServerStore>,
        registry: &ProviderRegistry,
        services: Services,
        config: EngineConfig,
        options: EngineOptions,
    ) -> LocalEngine {
        let gate = Arc::new(Gate::new());
        let registry = Arc::new(gate_registry(registry, &gate));
        let counting = Arc::new(CountingStore::new(Arc::clone(&store)));
        let engine_store: Arc<dyn Store> = counting.clone();
        let engine = Engine::new(engine_store, registry, services.clone(), config);
        let engine_id = uuid4(&*services.random);
        let started_at = services.clock.now();
        LocalEngine {
            engine,
            store,
            counting,
            services,
            options,
            gate,
            tasks: Mutex::new(JoinSet::new()),
            engine_id,
            started_at,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ServerStore> {
        &self.store
    }

    /// This engine's id (its service record's).
    pub fn engine_id(&self) -> &str {
        &self.engine_id
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, JoinSet<()>> {
        match self.tasks.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs an operation on a task of its own.
    fn spawn(&self, operation: Operation) {
        let stack_id = operation.stack_id().to_string();
        let stack_name = operation.stack_name().to_string();
        let mut tasks = self.lock_tasks();
        // Forget the tasks that have ended.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            match operation.run().await {
                Ok(outcome) => tracing::info!(
                    stack = %outcome.name,
                    id = %outcome.id,
                    state = %outcome.state,
                    reason = %outcome.reason,
                    "stack operation finished"
                ),
                Err(error) => tracing::error!(
                    stack = %stack_name,
                    id = %stack_id,
                    %error,
                    "stack operation stopped; it resumes at the next start"
                ),
            }
        });
    }

    /// How many stack operations are running.
    pub fn running(&self) -> usize {
        let mut tasks = self.lock_tasks();
        while tasks.try_join_next().is_some() {}
        tasks.len()
    }

    /// Waits until no stack operation is running.
    pub async fn wait_idle(&self) {
        loop {
            let mut tasks = std::mem::take(&mut *self.lock_tasks());
            if tasks.is_empty() {
                return;
            }
            while tasks.join_next().await.is_some() {}
        }
    }

    /// Records this engine's service record (and refreshes it when called again).
    pub async fn report(&self) -> Result<(), heat_core::engine::StoreError> {
        let record = ServiceRecord {
            id: self.engine_id.clone(),
            host: self.options.host.clone(),
            binary: "heat-engine".to_string(),
            topic: "engine".to_string(),
            report_interval: self.options.report_interval.as_secs(),
            created_at: self.started_at,
            updated_at: self.services.clock.now(),
        };
        self.store.put_service(&record).await
    }

    /// The report interval.
    pub fn report_interval(&self) -> Duration {
        self.options.report_interval
    }

    /// Picks up every stack operation an earlier process left `*_IN_PROGRESS` and runs it
    /// again from where the store says it was; returns how many.
    pub async fn resume_interrupted(&self) -> Result<usize, EngineError> {
        let operations = self.engine.interrupted().await?;
        let count = operations.len();
        for operation in operations {
            tracing::info!(
                stack = %operation.stack_name(),
                id = %operation.stack_id(),
                state = %operation.state(),
                "resuming an interrupted stack operation"
            );
            self.spawn(operation);
        }
        Ok(count)
    }

    /// Brings the running operations to rest: provider calls in flight may finish (for at
    /// most `timeout`) and have their results recorded; no new call starts; then the
    /// operations are stopped, leaving their stacks `*_IN_PROGRESS` for the next start.
    pub async fn shutdown(&self, timeout: Duration) -> Shutdown {
        let now = tokio::time::Instant::now();
        // A timeout too large to add is as good as a year.
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
        let mut settled = self.gate.close_and_drain(timeout).await;
        if settled {
            // The engines record what the last calls returned: wait until the store has
            // seen no new batch for a moment.
            settled = self.counting.settle(deadline).await;
        }
        let mut tasks = std::mem::take(&mut *self.lock_tasks());
        while tasks.try_join_next().is_some() {}
        let stopped = tasks.len();
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        Shutdown { settled, stopped }
    }

    // -- lookups shared by the operations --------------------------------------------------

    /// The stack a URL names, when it belongs to the caller's project and its name matches
    /// (deleted stacks only when `deleted_too`).
    async fn stack_of(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        deleted_too: bool,
    ) -> Result<StackRecord, EngineApiError> {
        match self.store.stack(&stack.id).await? {
            Some(record)
                if record.project == ctx.project_id
                    && record.name == stack.name
                    && (deleted_too || !record.deleted) =>
            {
                Ok(record)
            }
            _ => Err(EngineApiError::stack_not_found(&stack.name)),
        }
    }

    fn new_id(&self) -> String {
        uuid4(&*self.services.random)
    }

    fn now(&self) -> Duration {
        self.services.clock.now()
    }
}

#[async_trait]
impl EngineApi for LocalEngine {
    async fn identify_stack(
        &self,
        ctx: &RequestContext,
        name_or_id: &str,
    ) -> Result<StackIdentity, EngineApiError> {
        stacks::identify(self, ctx, name_or_id).await
    }

    async fn list_stacks(
        &self,
        ctx: &RequestContext,
        query: &StackQuery,
    ) -> Result<Vec<StackRecord>, EngineApiError> {
        stacks::list(self, ctx, query).await
    }

    async fn count_stacks(
        &self,
        ctx: &RequestContext,
        query: &StackQuery,
    ) -> Result<u64, EngineApiError> {
        stacks::count(self, ctx, query).await
    }

    async fn show_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resolve_outputs: bool,
    ) -> Result<StackDetail, EngineApiError> {
        stacks::show(self, ctx, stack, resolve_outputs).await
    }

    async fn create_stack(
        &self,
        ctx: &RequestContext,
        args: CreateArgs,
    ) -> Result<StackIdentity, EngineApiError> {
        stacks::create(self, ctx, args).await
    }

    async fn preview_stack(
        &self,
        ctx: &RequestContext,
        args: CreateArgs,
    ) -> Result<StackPreview, EngineApiError> {
        preview::create_preview(self, ctx, args).await
    }

    async fn update_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        args: UpdateArgs,
    ) -> Result<(), EngineApiError> {
        stacks::update(self, ctx, stack, args).await
    }

    async fn preview_update(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        args: UpdateArgs,
    ) -> Result<UpdatePreview, EngineApiError> {
        preview::update_preview(self, ctx, stack, args).await
    }

    async fn delete_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<(), EngineApiError> {
        stacks::delete(self, ctx, stack).await
    }

    async fn abandon_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError> {
        stacks::abandon(self, ctx, stack).await
    }

    async fn export_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError> {
        stacks::export(self, ctx, stack).await
    }

    async fn stack_action(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        action: StackAction,
    ) -> Result<(), EngineApiError> {
        stacks::action(self, ctx, stack, action).await
    }

    async fn stack_template(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError> {
        stacks::template(self, ctx, stack).await
    }

    async fn stack_environment(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError> {
        stacks::environment(self, ctx, stack).await
    }

    async fn stack_files(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<BTreeMap<String, String>, EngineApiError> {
        Ok(self.stack_of(ctx, stack, false).await?.files)
    }

    async fn list_outputs(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Vec<OutputDetail>, EngineApiError> {
        stacks::list_outputs(self, ctx, stack).await
    }

    async fn show_output(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        key: &str,
    ) -> Result<OutputDetail, EngineApiError> {
        stacks::show_output(self, ctx, stack, key).await
    }

    async fn list_resources(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        query: &ResourceQuery,
    ) -> Result<Vec<ResourceDetail>, EngineApiError> {
        resources::list(self, ctx, stack, query).await
    }

    async fn show_resource(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        with_attr: &[String],
    ) -> Result<ResourceDetail, EngineApiError> {
        resources::show(self, ctx, stack, resource, with_attr).await
    }

    async fn resource_metadata(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
    ) -> Result<Value, EngineApiError> {
        snapshots::metadata(self, ctx, stack, resource).await
    }

    async fn mark_unhealthy(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        unhealthy: bool,
        reason: &str,
    ) -> Result<(), EngineApiError> {
        snapshots::mark_unhealthy(self, ctx, stack, resource, unhealthy, reason).await
    }

    async fn snapshot_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        name: Option<String>,
    ) -> Result<SnapshotView, EngineApiError> {
        snapshots::take(self, ctx, stack, name).await
    }

    async fn list_snapshots(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Vec<SnapshotView>, EngineApiError> {
        snapshots::list(self, ctx, stack).await
    }

    async fn show_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<SnapshotView, EngineApiError> {
        snapshots::show(self, ctx, stack, snapshot_id).await
    }

    async fn delete_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<(), EngineApiError> {
        snapshots::delete(self, ctx, stack, snapshot_id).await
    }

    async fn restore_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<(), EngineApiError> {
        snapshots::restore(self, ctx, stack, snapshot_id).await
    }

    async fn signal_resource(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        details: Value,
    ) -> Result<(), EngineApiError> {
        resources::signal(self, ctx, stack, resource, details).await
    }

    async fn list_events(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        query: &EventQuery,
    ) -> Result<Vec<EventRecord>, EngineApiError> {
        resources::events(self, ctx, stack, query).await
    }

    async fn show_event(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        event_id: &str,
    ) -> Result<EventDetail, EngineApiError> {
        resources::event(self, ctx, stack, resource, event_id).await
    }

    async fn validate_template(
        &self,
        ctx: &RequestContext,
        args: ValidateArgs,
    ) -> Result<Validation, EngineApiError> {
        catalogue::validate(self, ctx, args)
    }

    async fn resource_types(
        &self,
        filter: &TypeFilter,
    ) -> Result<Vec<(String, String)>, EngineApiError> {
        catalogue::resource_types(self, filter)
    }

    async fn resource_schema(
        &self,
        type_name: &str,
        with_description: bool,
    ) -> Result<Value, EngineApiError> {
        catalogue::resource_schema(self, type_name, with_description)
    }

    async fn generate_template(&self, type_name: &str, hot: bool) -> Result<Value, EngineApiError> {
        catalogue::generate_template(self, type_name, hot)
    }

    async fn template_versions(&self) -> Result<Vec<TemplateVersion>, EngineApiError> {
        Ok(catalogue::template_versions())
    }

    async fn template_functions(
        &self,
        version: &str,
        with_condition_functions: bool,
    ) -> Result<Vec<(String, String)>, EngineApiError> {
        catalogue::template_functions(version, with_condition_functions)
    }

    async fn list_software_configs(
        &self,
        ctx: &RequestContext,
        marker: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<SoftwareConfig>, EngineApiError> {
        software::list_configs(self, ctx, marker, limit).await
    }

    async fn create_software_config(
        &self,
        ctx: &RequestContext,
        args: SoftwareConfigArgs,
    ) -> Result<SoftwareConfig, EngineApiError> {
        software::create_config(self, ctx, args).await
    }

    async fn show_software_config(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SoftwareConfig, EngineApiError> {
        software::show_config(self, ctx, id).await
    }

    async fn delete_software_config(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<(), EngineApiError> {
        software::delete_config(self, ctx, id).await
    }

    async fn list_software_deployments(
        &self,
        ctx: &RequestContext,
        server_id: Option<&str>,
    ) -> Result<Vec<SoftwareDeployment>, EngineApiError> {
        Ok(self
            .store
            .software_deployments(&ctx.project_id, server_id)
            .await?)
    }

    async fn create_software_deployment(
        &self,
        ctx: &RequestContext,
        args: DeploymentArgs,
    ) -> Result<SoftwareDeployment, EngineApiError> {
        software::create_deployment(self, ctx, args).await
    }

    async fn show_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SoftwareDeployment, EngineApiError> {
        software::show_deployment(self, ctx, id).await
    }

    async fn update_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
        args: DeploymentArgs,
    ) -> Result<SoftwareDeployment, EngineApiError> {
        software::update_deployment(self, ctx, id, args).await
    }

    async fn delete_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<(), EngineApiError> {
        software::delete_deployment(self, ctx, id).await
    }

    async fn deployment_metadata(
        &self,
        ctx: &RequestContext,
        server_id: &str,
    ) -> Result<Vec<SoftwareConfig>, EngineApiError> {
        software::metadata(self, ctx, server_id).await
    }

    async fn services(&self) -> Result<Vec<ServiceStatus>, EngineApiError> {
        software::services(self).await
    }

    fn revision(&self) -> String {
        self.options.heat_revision.clone()
    }
}
