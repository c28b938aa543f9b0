//! The boundary between the API layer and the engine (Heat's heat-api → heat-engine RPC):
//! the [`EngineApi`] trait, the values that cross it, and [`LocalEngine`], the in-process
//! implementation every heat-server runs by default.
//!
//! The API layer sees stacks only through this trait: it parses requests into the argument
//! types below and formats the answers; it never touches the store or the engine itself.
//! Every stack-scoped call takes the caller's [`RequestContext`]: a stack of another
//! project is "not found".

mod drain;
mod error;
mod local;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use heat_core::engine::store::{EventRecord, ResourceRecord, SnapshotRecord, StackRecord};
use serde_json::{Map, Value};

use crate::auth::RequestContext;
use crate::store::{ServiceRecord, SoftwareConfig, SoftwareDeployment, StackQuery};

pub use drain::{Gate, gate_registry};
pub use error::EngineApiError;
pub use local::{EngineOptions, LocalEngine};

/// A stack as a URL names it: `/v1/{project}/stacks/{name}/{id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackIdentity {
    /// The project.
    pub project: String,
    /// The stack's name.
    pub name: String,
    /// The stack's id.
    pub id: String,
}

/// The template, files, environments and parameter values of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateInput {
    /// The template text (`None`: keep the stored one, PATCH only).
    pub template: Option<String>,
    /// The files map.
    pub files: BTreeMap<String, String>,
    /// Environment texts in merge order (the request's `environment`, then its
    /// `environment_files`).
    pub environments: Vec<String>,
    /// Parameter values as the request gave them (any JSON; converted by the template's
    /// parameter types).
    pub parameters: Map<String, Value>,
}

/// A stack create (or adopt, or create preview).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreateArgs {
    /// The stack's name.
    pub name: String,
    /// Template and values.
    pub input: TemplateInput,
    /// The timeout (`None`: 60 minutes).
    pub timeout_mins: Option<u32>,
    /// Whether a failure is left as is (`None`: Heat's default, true).
    pub disable_rollback: Option<bool>,
    /// Tags.
    pub tags: Vec<String>,
    /// Adopt these resources instead of creating them (`adopt_stack_data`).
    pub adopt_data: Option<Value>,
}

/// A stack update (PUT) or patch (PATCH, `existing`), or their preview.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateArgs {
    /// Template and values (PATCH: laid over the stored ones).
    pub input: TemplateInput,
    /// PATCH semantics.
    pub existing: bool,
    /// PATCH: stored parameter values to drop.
    pub clear_parameters: Vec<String>,
    /// A new timeout.
    pub timeout_mins: Option<u32>,
    /// A new rollback setting.
    pub disable_rollback: Option<bool>,
    /// New tags (`None`: keep them).
    pub tags: Option<Vec<String>>,
}

/// A stack with what `GET /stacks/{name}/{id}` shows beyond its record.
#[derive(Clone, Debug, PartialEq)]
pub struct StackDetail {
    /// The record.
    pub record: StackRecord,
    /// Parameter values as shown (the `OS::` pseudo-parameters first, hidden values
    /// masked).
    pub parameters: Vec<(String, String)>,
    /// The outputs with their values (`None` for a deleted stack, or when not asked for).
    pub outputs: Option<Vec<OutputDetail>>,
}

/// One output.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputDetail {
    /// Its name.
    pub key: String,
    /// Its description (Heat's "No description given" when it has none).
    pub description: String,
    /// Its value (`None` when not resolved or failed).
    pub value: Option<Value>,
    /// Why it could not be evaluated.
    pub error: Option<String>,
}

/// A stack action (`POST .../actions`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackAction {
    /// Suspend the stack's resources.
    Suspend,
    /// Resume them.
    Resume,
    /// Check them against what is live.
    Check,
    /// Stop an update and roll it back.
    CancelUpdate,
    /// Stop a create or update where it is.
    CancelWithoutRollback,
}

/// Which resources a listing returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceQuery {
    /// Field filters (`type`, `status`, `name`, `action`, `id`, `physical_resource_id`):
    /// for every field, one of the values.
    pub filters: Vec<(String, Vec<String>)>,
    /// Resolve attributes (`with_detail`).
    pub with_detail: bool,
}

/// A resource with what the API shows beyond its record.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDetail {
    /// The (current) record.
    pub record: Arc<ResourceRecord>,
    /// The resources that depend on it, by name.
    pub required_by: Vec<String>,
    /// When it was created (its latest create event; its last change when that event was
    /// purged).
    pub creation_time: Duration,
    /// The template's description of the resource.
    pub description: String,
    /// Its attributes with their values (only when asked for).
    pub attributes: Option<Map<String, Value>>,
}

/// Which events a listing returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only this resource's events.
    pub resource: Option<String>,
    /// Field filters (`resource_status`, `resource_action`, `resource_name`,
    /// `resource_type`).
    pub filters: Vec<(String, Vec<String>)>,
    /// Sort keys (`event_time`, `resource_name`, `resource_status`, `resource_action`,
    /// `resource_type`); empty: by time.
    pub sort_keys: Vec<String>,
    /// Newest first (the default).
    pub descending: bool,
    /// The page starts after this event.
    pub marker: Option<String>,
    /// At most this many.
    pub limit: Option<u64>,
}

/// One event with the resource's properties (`GET .../events/{id}`).
#[derive(Clone, Debug, PartialEq)]
pub struct EventDetail {
    /// The event.
    pub event: EventRecord,
    /// The resource's recorded properties (empty for the stack's own events).
    pub properties: Map<String, Value>,
}

/// One resource of a create or update preview (a resource as Heat shows it before it
/// exists, or an existing one).
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewResource {
    /// The logical name.
    pub name: String,
    /// The type.
    pub resource_type: String,
    /// The existing record, for resources shown as they are.
    pub record: Option<Arc<ResourceRecord>>,
    /// Creation time (with a record).
    pub creation_time: Option<Duration>,
    /// The resources that depend on it.
    pub required_by: Vec<String>,
    /// The template's description of it.
    pub description: String,
    /// Its metadata.
    pub metadata: Value,
    /// Attributes by name (null when not known yet).
    pub attributes: Map<String, Value>,
    /// Resolved properties (create preview only).
    pub properties: Option<Map<String, Value>>,
}

/// A snapshot as the API shows it: the record and the stack it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotView {
    /// The snapshot.
    pub record: SnapshotRecord,
    /// The stack's record when it was shown.
    pub stack: Arc<StackRecord>,
}

/// A create preview (`POST /stacks/preview`).
#[derive(Clone, Debug, PartialEq)]
pub struct StackPreview {
    /// The stack's name.
    pub name: String,
    /// The project.
    pub project: String,
    /// Who asked.
    pub user: String,
    /// The template's description.
    pub description: String,
    /// When the preview was made.
    pub created_at: Duration,
    /// Parameter values as shown.
    pub parameters: Vec<(String, String)>,
    /// Output names and descriptions.
    pub outputs: Vec<OutputDetail>,
    /// Rollback setting.
    pub disable_rollback: bool,
    /// Timeout given.
    pub timeout_mins: Option<u32>,
    /// Tags given.
    pub tags: Vec<String>,
    /// The resources, in dependency order.
    pub resources: Vec<PreviewResource>,
}

/// An update preview: resources by Heat's `resource_changes` key (`unchanged`, `updated`,
/// `replaced`, `added`, `deleted`).
#[derive(Clone, Debug, PartialEq)]
pub struct UpdatePreview {
    /// The stack.
    pub stack: StackIdentity,
    /// Per key, the resources.
    pub changes: Vec<(&'static str, Vec<PreviewResource>)>,
}

/// A template validation request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidateArgs {
    /// Template and values.
    pub input: TemplateInput,
    /// `show_nested` (accepted; nested stacks are not run yet, so nothing changes).
    pub show_nested: bool,
    /// Diagnostic codes to ignore (`ignore_errors`).
    pub ignore_errors: Vec<String>,
}

/// What a valid template declares (the body of `POST /validate`).
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    /// The template's description.
    pub description: String,
    /// Parameters in Heat's shape (`Type`, `Description`, `NoEcho`, `Label`, `Default`,
    /// constraints), by name, in template order.
    pub parameters: Map<String, Value>,
    /// Parameter groups, when the template has any.
    pub parameter_groups: Option<Value>,
    /// The merged environment.
    pub environment: Value,
}

/// A filter on the resource type list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeFilter {
    /// A regular expression the name must contain a match of.
    pub name: Option<String>,
    /// The support status (`SUPPORTED`, ...).
    pub support_status: Option<String>,
    /// The version the type appeared in.
    pub version: Option<String>,
}

/// One template version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateVersion {
    /// `heat_template_version.2018-08-31`.
    pub version: String,
    /// `hot` or `cfn`.
    pub kind: &'static str,
    /// Release-name aliases.
    pub aliases: Vec<String>,
}

/// A software config to create.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SoftwareConfigArgs {
    /// Name.
    pub name: String,
    /// Group (`Heat::Ungrouped` when not given).
    pub group: Option<String>,
    /// The config text.
    pub config: String,
    /// Inputs (a list).
    pub inputs: Value,
    /// Outputs (a list).
    pub outputs: Value,
    /// Options (a map).
    pub options: Value,
}

/// A software deployment to create or fields of one to change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeploymentArgs {
    /// The config.
    pub config_id: Option<String>,
    /// The server (required on create).
    pub server_id: Option<String>,
    /// Input values (a map).
    pub input_values: Option<Value>,
    /// Output values (a map; update only).
    pub output_values: Option<Value>,
    /// Action.
    pub action: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Status reason.
    pub status_reason: Option<String>,
    /// The stack user project.
    pub stack_user_project_id: Option<String>,
}

/// An engine service with whether it is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceStatus {
    /// The record.
    pub record: ServiceRecord,
    /// Reported within two report intervals.
    pub up: bool,
}

/// The engine as the API sees it (Heat's engine RPC surface).
#[async_trait]
pub trait EngineApi: Send + Sync {
    // -- stacks ---------------------------------------------------------------------------

    /// The live stack of the caller's project with this name (or id).
    async fn identify_stack(
        &self,
        ctx: &RequestContext,
        name_or_id: &str,
    ) -> Result<StackIdentity, EngineApiError>;

    /// The caller's stacks a listing returns (the query's project is the caller's).
    async fn list_stacks(
        &self,
        ctx: &RequestContext,
        query: &StackQuery,
    ) -> Result<Vec<StackRecord>, EngineApiError>;

    /// How many stacks match, ignoring paging.
    async fn count_stacks(
        &self,
        ctx: &RequestContext,
        query: &StackQuery,
    ) -> Result<u64, EngineApiError>;

    /// One stack (deleted ones too), with outputs when `resolve_outputs`.
    async fn show_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resolve_outputs: bool,
    ) -> Result<StackDetail, EngineApiError>;

    /// Creates (or adopts) a stack; the work goes on after the answer.
    async fn create_stack(
        &self,
        ctx: &RequestContext,
        args: CreateArgs,
    ) -> Result<StackIdentity, EngineApiError>;

    /// What a create would make, without making it.
    async fn preview_stack(
        &self,
        ctx: &RequestContext,
        args: CreateArgs,
    ) -> Result<StackPreview, EngineApiError>;

    /// Updates a stack; the work goes on after the answer.
    async fn update_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        args: UpdateArgs,
    ) -> Result<(), EngineApiError>;

    /// What an update would do, without doing it.
    async fn preview_update(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        args: UpdateArgs,
    ) -> Result<UpdatePreview, EngineApiError>;

    /// Deletes a stack; the work goes on after the answer.
    async fn delete_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<(), EngineApiError>;

    /// Abandons a stack: its adopt data; the records are forgotten, the resources kept.
    async fn abandon_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError>;

    /// The stack's adopt data, nothing changed.
    async fn export_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError>;

    /// Runs a stack action.
    async fn stack_action(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        action: StackAction,
    ) -> Result<(), EngineApiError>;

    /// The stored template, as JSON.
    async fn stack_template(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError>;

    /// The merged environment (hidden parameter values masked).
    async fn stack_environment(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Value, EngineApiError>;

    /// The stored files map.
    async fn stack_files(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<BTreeMap<String, String>, EngineApiError>;

    /// The outputs' names and descriptions (nothing evaluated).
    async fn list_outputs(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Vec<OutputDetail>, EngineApiError>;

    /// One output, evaluated.
    async fn show_output(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        key: &str,
    ) -> Result<OutputDetail, EngineApiError>;

    // -- resources and events -------------------------------------------------------------

    /// The stack's (current) resources.
    async fn list_resources(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        query: &ResourceQuery,
    ) -> Result<Vec<ResourceDetail>, EngineApiError>;

    /// One resource with its attributes (and `with_attr` extra ones).
    async fn show_resource(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        with_attr: &[String],
    ) -> Result<ResourceDetail, EngineApiError>;

    /// A resource's metadata (`{}` when it has none).
    async fn resource_metadata(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
    ) -> Result<Value, EngineApiError>;

    /// Marks a resource unhealthy (`CHECK_FAILED`, replaced at the next update) or healthy
    /// again.
    async fn mark_unhealthy(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        unhealthy: bool,
        reason: &str,
    ) -> Result<(), EngineApiError>;

    /// Starts a snapshot of the stack; the record as it starts (`IN_PROGRESS`).
    async fn snapshot_stack(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        name: Option<String>,
    ) -> Result<SnapshotView, EngineApiError>;

    /// The stack's snapshots, oldest first.
    async fn list_snapshots(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
    ) -> Result<Vec<SnapshotView>, EngineApiError>;

    /// One snapshot of the stack.
    async fn show_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<SnapshotView, EngineApiError>;

    /// Deletes a snapshot of the stack.
    async fn delete_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<(), EngineApiError>;

    /// Starts restoring the stack from one of its snapshots; the work goes on after the
    /// answer.
    async fn restore_snapshot(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        snapshot_id: &str,
    ) -> Result<(), EngineApiError>;

    /// Delivers a signal to a resource.
    async fn signal_resource(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        details: Value,
    ) -> Result<(), EngineApiError>;

    /// The stack's events.
    async fn list_events(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        query: &EventQuery,
    ) -> Result<Vec<EventRecord>, EngineApiError>;

    /// One event of a resource.
    async fn show_event(
        &self,
        ctx: &RequestContext,
        stack: &StackIdentity,
        resource: &str,
        event_id: &str,
    ) -> Result<EventDetail, EngineApiError>;

    // -- templates and types --------------------------------------------------------------

    /// Validates a template with its environments, files and values.
    async fn validate_template(
        &self,
        ctx: &RequestContext,
        args: ValidateArgs,
    ) -> Result<Validation, EngineApiError>;

    /// The registered resource types with their descriptions, sorted.
    async fn resource_types(
        &self,
        filter: &TypeFilter,
    ) -> Result<Vec<(String, String)>, EngineApiError>;

    /// A type's schema, in Heat's shape.
    async fn resource_schema(
        &self,
        type_name: &str,
        with_description: bool,
    ) -> Result<Value, EngineApiError>;

    /// A template wrapping one resource of the type (`hot` or CloudFormation).
    async fn generate_template(&self, type_name: &str, hot: bool) -> Result<Value, EngineApiError>;

    /// The template versions.
    async fn template_versions(&self) -> Result<Vec<TemplateVersion>, EngineApiError>;

    /// A version's functions (name, description).
    async fn template_functions(
        &self,
        version: &str,
        with_condition_functions: bool,
    ) -> Result<Vec<(String, String)>, EngineApiError>;

    // -- software configs and deployments -------------------------------------------------

    /// The caller's software configs, newest first.
    async fn list_software_configs(
        &self,
        ctx: &RequestContext,
        marker: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<SoftwareConfig>, EngineApiError>;

    /// Creates a software config.
    async fn create_software_config(
        &self,
        ctx: &RequestContext,
        args: SoftwareConfigArgs,
    ) -> Result<SoftwareConfig, EngineApiError>;

    /// One software config.
    async fn show_software_config(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SoftwareConfig, EngineApiError>;

    /// Deletes a software config.
    async fn delete_software_config(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<(), EngineApiError>;

    /// The caller's deployments (of one server).
    async fn list_software_deployments(
        &self,
        ctx: &RequestContext,
        server_id: Option<&str>,
    ) -> Result<Vec<SoftwareDeployment>, EngineApiError>;

    /// Creates a deployment.
    async fn create_software_deployment(
        &self,
        ctx: &RequestContext,
        args: DeploymentArgs,
    ) -> Result<SoftwareDeployment, EngineApiError>;

    /// One deployment.
    async fn show_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<SoftwareDeployment, EngineApiError>;

    /// Changes a deployment.
    async fn update_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
        args: DeploymentArgs,
    ) -> Result<SoftwareDeployment, EngineApiError>;

    /// Deletes a deployment.
    async fn delete_software_deployment(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<(), EngineApiError>;

    /// The configs deployed to a server, by config name (what in-guest agents read).
    async fn deployment_metadata(
        &self,
        ctx: &RequestContext,
        server_id: &str,
    ) -> Result<Vec<SoftwareConfig>, EngineApiError>;

    // -- the service ----------------------------------------------------------------------

    /// The engine services.
    async fn services(&self) -> Result<Vec<ServiceStatus>, EngineApiError>;

    /// The engine's revision (`build_info`).
    fn revision(&self) -> String;
}
