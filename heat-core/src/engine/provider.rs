//! The provider contract: how the engine asks a resource type to create, update, delete and
//! observe its resources.
//!
//! Operations follow the reconcile style. Each call does one step and returns at once:
//! `create` hands back the physical id as soon as the remote side knows it, and readiness is
//! asked for separately, as often as needed, through `check_create` (likewise for update and
//! delete). The engine owns polling, backoff, timeouts and cancellation: **providers never
//! sleep**. Every operation must be idempotent or resumable, because an engine that restarts
//! repeats the step it was in:
//! - `create` gets an [`ResourceContext::idempotency_token`] that is the same when the step is
//!   repeated; a provider that can tag the remote object with it finds that object again
//!   instead of making a second one;
//! - `delete` succeeds when the thing is already gone;
//! - `check_*` may be called any number of times.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::schema::ResourceSchema;
use crate::engine::services::Services;

/// Resolved property values (functions evaluated, defaults applied, validated).
pub type Properties = serde_json::Map<String, Value>;

/// Small key/value data a provider asks the engine to keep with a resource (Heat's
/// `resource_data`), e.g. the value a `RandomString` generated. It is stored with the
/// resource and handed back on every later call.
pub type ResourceData = BTreeMap<String, String>;

/// What the engine tells a provider about the resource it is acting on.
#[derive(Clone, Copy, Debug)]
pub struct ResourceContext<'a> {
    /// The stack's id.
    pub stack_id: &'a str,
    /// The stack's name.
    pub stack_name: &'a str,
    /// The resource's logical name.
    pub resource_name: &'a str,
    /// The resource type as the template wrote it (after registry mapping).
    pub resource_type: &'a str,
    /// Unique to this resource and this attempt of this action, and the same when the engine
    /// repeats the step after a restart (what AWS calls a client token).
    pub idempotency_token: &'a str,
    /// The data stored with the resource so far.
    pub data: &'a ResourceData,
    /// Time, randomness and other services the engine provides.
    pub services: &'a Services,
    /// The resources this one depends on, as recorded when the step started. Filled only for
    /// providers whose [`ResourceProvider::watches_dependencies`] is true (re-read from the
    /// store before every step, so signals delivered to a dependency are seen); empty
    /// otherwise.
    pub peers: &'a [Peer],
}

/// A resource another one depends on, as the engine has it recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// Its logical name.
    pub name: String,
    /// Its type (after registry mapping).
    pub resource_type: String,
    /// Its physical id, when known.
    pub physical_id: Option<String>,
    /// Its reference value (`get_resource` / `Ref`): the physical id unless the provider
    /// says otherwise.
    pub reference: Option<String>,
    /// The data kept with it (for a wait condition handle: the signals received).
    pub data: ResourceData,
}

/// Whether an operation has finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Progress {
    /// Done.
    Done,
    /// Not yet: ask again (with the matching `check_*`) after this long.
    CheckAfter(Duration),
}

/// The result of starting a create.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Created {
    /// The physical id the remote side gave the new resource.
    pub physical_id: String,
    /// Data to keep with the resource.
    pub data: ResourceData,
    /// Whether it is ready yet.
    pub progress: Progress,
}

impl Created {
    /// A resource that is ready at once, with no data.
    pub fn done(physical_id: impl Into<String>) -> Created {
        Created {
            physical_id: physical_id.into(),
            data: ResourceData::new(),
            progress: Progress::Done,
        }
    }
}

/// The answer to an update request.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub enum Updated {
    /// Updated in place (or under way); the data to keep replaces the old data.
    InPlace {
        /// Data to keep with the resource.
        data: ResourceData,
        /// Whether it is finished.
        progress: Progress,
    },
    /// The change cannot be made in place: the engine creates a replacement, points
    /// dependents at it and deletes this one at the end.
    NeedsReplacement {
        /// Why (names the property), for events and previews.
        reason: String,
    },
}

/// What went wrong in a provider call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The operation failed; the resource goes to `<ACTION>_FAILED` with this reason.
    #[error("{0}")]
    Failed(String),
    /// A transient failure (a 5xx, a timeout, a conflict): the engine retries the same step
    /// with backoff, up to its retry limit.
    #[error("{0} (will retry)")]
    Retryable(String),
    /// The physical resource does not exist (any more).
    #[error("{0}: not found")]
    NotFound(String),
    /// The resource type does not support the operation.
    #[error("{operation} is not supported by {resource_type}")]
    NotSupported {
        /// The operation (`suspend`, `snapshot`, ...).
        operation: &'static str,
        /// The resource type.
        resource_type: String,
    },
    /// The attribute does not exist for this resource type.
    #[error("the attribute {0} does not exist")]
    UnknownAttribute(String),
}

/// One resource type's implementation.
///
/// Only `schema`, `create`, `delete` and `attribute` are required; the rest have defaults:
/// checks say "done", `update` asks for replacement; suspend, resume and adopt succeed
/// doing nothing and snapshot keeps the stored data (Heat's behaviour for types without
/// those handlers); check, restore and signal are not supported.
#[async_trait]
pub trait ResourceProvider: Send + Sync {
    /// Properties and attributes: what the engine validates before creating anything.
    fn schema(&self) -> &ResourceSchema;

    /// Whether the provider reads its dependencies' recorded data
    /// ([`ResourceContext::peers`]), e.g. a wait condition reading the signals its handle
    /// received. Default `false`: the engine then skips gathering them.
    fn watches_dependencies(&self) -> bool {
        false
    }

    /// Starts creating the resource.
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError>;

    /// Whether a create that returned [`Progress::CheckAfter`] has finished.
    async fn check_create(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Starts an update from `old` to `new` properties (only called when they differ and
    /// every changed property is `update_allowed` in the schema).
    async fn update(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _old: &Properties,
        _new: &Properties,
    ) -> Result<Updated, ProviderError> {
        Ok(Updated::NeedsReplacement {
            reason: "the resource type cannot be updated in place".to_string(),
        })
    }

    /// Whether an update that returned [`Progress::CheckAfter`] has finished.
    async fn check_update(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Starts deleting the resource. Must succeed when it is already gone.
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError>;

    /// Whether a delete that returned [`Progress::CheckAfter`] has finished.
    async fn check_delete(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// The value of an attribute (`get_attr` / `Fn::GetAtt`).
    async fn attribute(
        &self,
        ctx: &ResourceContext<'_>,
        physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError>;

    /// The resource's reference value (`get_resource` / `Ref`), when it is not the physical
    /// id (`None`, the default, means the physical id). `OS::Heat::RandomString`, as in Heat,
    /// answers with the string it generated (kept in `ctx.data`).
    fn reference_id(&self, _ctx: &ResourceContext<'_>, _physical_id: &str) -> Option<String> {
        None
    }

    /// Suspends the resource. The default, as in Heat for types without a suspend handler,
    /// succeeds and does nothing.
    async fn suspend(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Resumes a suspended resource. The default succeeds and does nothing (Heat's
    /// behaviour for types without a resume handler).
    async fn resume(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Whether a suspend that returned [`Progress::CheckAfter`] has finished.
    async fn check_suspend(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Whether a resume that returned [`Progress::CheckAfter`] has finished.
    async fn check_resume(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        Ok(Progress::Done)
    }

    /// Checks that the live resource is healthy (the stack CHECK action).
    async fn check(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<(), ProviderError> {
        Err(not_supported("check", ctx))
    }

    /// Takes a snapshot; returns data the engine keeps for a later restore. The default keeps
    /// the resource's stored data (a type with nothing remote to snapshot).
    async fn snapshot(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<ResourceData, ProviderError> {
        Ok(ctx.data.clone())
    }

    /// Restores the resource from data an earlier [`snapshot`](ResourceProvider::snapshot)
    /// returned (a stack snapshot restore). Returns the properties to record afterwards,
    /// or `None` to keep the recorded ones. The default is not supported: such resources
    /// are replaced from their snapshotted properties instead.
    async fn restore(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _snapshot: &ResourceData,
    ) -> Result<Option<Properties>, ProviderError> {
        Err(not_supported("restore", ctx))
    }

    /// Adopts an existing physical resource (records it; creates nothing). The default
    /// accepts the physical id as given.
    async fn adopt(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _data: &ResourceData,
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    /// Delivers a signal (wait condition handles, software deployments, scaling policies);
    /// returns the data to keep with the resource afterwards.
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
        _details: &Value,
    ) -> Result<ResourceData, ProviderError> {
        Err(not_supported("signal", ctx))
    }
}

fn not_supported(operation: &'static str, ctx: &ResourceContext<'_>) -> ProviderError {
    ProviderError::NotSupported {
        operation,
        resource_type: ctx.resource_type.to_string(),
    }
}
