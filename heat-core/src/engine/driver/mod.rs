//! The drive loop: creates, updates, deletes, rolls back, suspends, resumes and checks a
//! stack's resources through their providers, concurrently and in dependency order,
//! recording every transition in the [`Store`] before acting on it, and resuming after a
//! crash from what the store holds.
//!
//! How a traversal runs (one async function, no task spawned, no runtime needed):
//! - a pure [`DependencyQueue`](crate::engine::DependencyQueue) says which resource may
//!   start: forward traversals (create, adopt, update, resume, check) walk the target
//!   template's dependency graph; backward ones (delete, rollback of a create, the clean-up
//!   after an update) walk the **records**, ordered by the dependencies each record kept
//!   ([`ResourceRecord::requires`](crate::engine::ResourceRecord)), so resources a template
//!   no longer mentions are still deleted in the right order;
//! - every provider call is one *step* future (a create, a check after a
//!   [`Progress::CheckAfter`](crate::engine::Progress) delay slept on the clock, an update,
//!   a delete, the attribute fetches a resource's properties need, a hook poll); the steps in
//!   flight are polled together in a `FuturesUnordered`;
//! - each *loop turn* starts what is ready, then writes **one** batch ([`Store::apply`]) with
//!   every transition and event of the turn (group commit), and only once that batch is
//!   durable launches the provider calls it announced (intent before action): a create is
//!   issued only after its `CREATE_IN_PROGRESS` record with a fresh idempotency token and the
//!   resolved properties is stored, an update only after its target properties are, and the
//!   physical id a create returns is recorded in the very next batch, before anything else
//!   uses it;
//! - then it waits for one step to finish and takes every other finished step without
//!   waiting, so all of them land in the next turn's batch.
//!
//! Updates. The new definition is validated first (nothing changes when it is invalid, when
//! an immutable parameter would change, or when the stack is busy). The forward traversal
//! then visits the new template's resources in dependency order; each one's new properties
//! are evaluated against the live resources it depends on and compared with the recorded
//! ones: unchanged, updated in place, or replaced (a change to a property that is not
//! `update_allowed`, a type change, a failed or `CHECK_FAILED` resource, a provider's
//! [`Updated::NeedsReplacement`](crate::engine::Updated)). A replacement is a second record
//! of the same name that `replaces` the old one: it is created first, dependents see it, and
//! the old record is deleted in the clean-up traversal at the end, with the resources the new
//! template removed. A failed update rolls back (when rollback is on) by updating to the
//! previous definition, restoring replaced resources that still exist instead of creating
//! them again.
//!
//! Crash resume ([`Engine::resume_all`]) rebuilds the traversal from the store: completed
//! creates are pre-marked done, a create in flight without a physical id is issued again
//! with the same idempotency token (providers hand back the same resource), one with a
//! physical id is checked again, an update in flight is issued again with its recorded target
//! properties, a delete in flight is issued again (deletes are idempotent), and an update
//! re-evaluates every resource (unchanged ones are left alone).
//!
//! The stack timeout, cancellation and hooks are checked at every loop turn; since every step
//! in flight is at most one provider call after at most one poll delay, they are noticed
//! within one poll interval.

mod actions;
mod backward;
mod forward;
mod load;
mod ops;
mod plan;
mod run;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::engine::registry::ProviderRegistry;
use crate::engine::services::Services;
use crate::engine::state::State;
use crate::engine::store::{Store, StoreError};
use crate::template::load::Limits;

pub use ops::Operation;
pub use plan::{ChangeAction, Plan, PlannedChange};

/// How the engine behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// At most this many resource steps of one stack run at once (`None`: no limit).
    /// Default 64: enough to start every resource of a typical wide stack together while
    /// bounding the load one stack puts on the cloud's APIs.
    pub concurrency: Option<NonZeroUsize>,
    /// How many times a step that failed with
    /// [`ProviderError::Retryable`](crate::engine::ProviderError) is retried, with
    /// exponential backoff (`retry_base`, doubled each time). Default 2, Heat's
    /// `client_retry_limit`.
    pub retry_limit: u32,
    /// The first retry delay. Default 1 second.
    pub retry_base: Duration,
    /// How often a resource paused at a hook looks for the signal that clears it. Default 1
    /// second.
    pub poll_interval: Duration,
    /// Template limits: size (Heat's `max_template_size`, 524288 bytes), nesting, and the
    /// most resources one stack may have (`max_resources_per_stack`, 1000).
    pub limits: Limits,
    /// Whether a failed create or update is rolled back when the request does not say.
    /// Default `false`: Heat's API defaults `disable_rollback` to true (CloudFormation's API
    /// rolls back by default; its front end passes `true`).
    pub rollback_default: bool,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            concurrency: NonZeroUsize::new(64),
            retry_limit: 2,
            retry_base: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            limits: Limits::default(),
            rollback_default: false,
        }
    }
}

/// A request to create (or adopt) a stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateRequest {
    /// The stack's name.
    pub name: String,
    /// The project (tenant) it belongs to; names are unique per project. An embedder
    /// without projects leaves it empty (the engine's operations then also find stacks of
    /// the empty project by name).
    pub project: String,
    /// Who creates it (Heat's `stack_owner`).
    pub user: String,
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

/// A request to update a stack (Heat's PUT, or PATCH with `existing`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The new template text; `None` keeps the stored one (allowed only with `existing`).
    pub template: Option<String>,
    /// Files. With `existing`, they are laid over the stored files.
    pub files: BTreeMap<String, String>,
    /// Environment texts. With `existing`, appended to the stored ones (merged on top);
    /// otherwise they replace them.
    pub environments: Vec<String>,
    /// Parameter values. With `existing`, laid over the stored values.
    pub parameters: BTreeMap<String, String>,
    /// With `existing`: stored parameter values to drop (back to their defaults).
    pub clear_parameters: Vec<String>,
    /// PATCH semantics: start from the stored template, files, environments and parameters.
    pub existing: bool,
    /// Whether a failed update is left as is; `None`: the stack's setting.
    pub disable_rollback: Option<bool>,
    /// The timeout in minutes; `None`: the stack's.
    pub timeout_mins: Option<u32>,
    /// New tags; `None` keeps them.
    pub tags: Option<Vec<String>>,
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
    /// No (live) stack has this id, or it has no such resource.
    #[error("{0} not found")]
    NotFound(String),
    /// The stack is busy or in a state that does not allow the operation.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but not allowed (an immutable parameter changed, a
    /// restricted action, a hook that is not set, an update of a suspended stack, ...).
    #[error("{0}")]
    NotAllowed(String),
    /// The store failed; the operation stopped (it can be resumed).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An invariant did not hold (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The default stack timeout, in minutes (Heat's).
pub const DEFAULT_TIMEOUT_MINS: u32 = 60;

/// What a cancel request asks of the running operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// Not cancelled.
    No,
    /// Stop and roll back (Heat's `cancel_update`).
    Rollback,
    /// Stop and leave things as they are (`cancel_without_rollback`).
    NoRollback,
}

/// Shared between the engine (which receives cancel requests) and the running operation.
#[derive(Debug, Default)]
pub(crate) struct Control {
    cancel: AtomicU8,
    /// The action of the running operation (for cancel's checks).
    action: Mutex<Option<crate::engine::state::Action>>,
}

impl Control {
    pub(crate) fn cancel(&self) -> Cancel {
        match self.cancel.load(Ordering::Acquire) {
            1 => Cancel::Rollback,
            2 => Cancel::NoRollback,
            _ => Cancel::No,
        }
    }

    pub(crate) fn request(&self, cancel: Cancel) {
        let v = match cancel {
            Cancel::No => 0,
            Cancel::Rollback => 1,
            Cancel::NoRollback => 2,
        };
        self.cancel.store(v, Ordering::Release);
    }

    pub(crate) fn set_action(&self, action: crate::engine::state::Action) {
        let mut guard = match self.action.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *guard = Some(action);
    }

    fn action(&self) -> Option<crate::engine::state::Action> {
        match self.action.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

type ActiveMap = Arc<Mutex<BTreeMap<String, Arc<Control>>>>;

/// Holds a stack's slot in the engine's table of running operations; frees it when dropped.
struct ActiveGuard {
    active: ActiveMap,
    stack_id: String,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let mut map = match self.active.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        map.remove(&self.stack_id);
    }
}

/// The engine: a store, the providers and the services they use.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    registry: Arc<ProviderRegistry>,
    services: Services,
    config: EngineConfig,
    /// The stacks this engine is driving an operation on.
    active: ActiveMap,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

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
            active: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The provider registry.
    pub fn registry(&self) -> &Arc<ProviderRegistry> {
        &self.registry
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Whether this engine is driving an operation on the stack.
    pub fn is_busy(&self, stack_id: &str) -> bool {
        self.lock_active().contains_key(stack_id)
    }

    fn lock_active(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Arc<Control>>> {
        match self.active.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Takes the stack's slot in the table of running operations: refused when an operation
    /// on it is already running in this engine.
    fn claim(
        &self,
        stack_id: &str,
        name: &str,
    ) -> Result<(ActiveGuard, Arc<Control>), EngineError> {
        let mut map = self.lock_active();
        if map.contains_key(stack_id) {
            return Err(EngineError::Conflict(format!(
                "Stack {name} already has an action in progress"
            )));
        }
        let control = Arc::new(Control::default());
        map.insert(stack_id.to_string(), control.clone());
        Ok((
            ActiveGuard {
                active: self.active.clone(),
                stack_id: stack_id.to_string(),
            },
            control,
        ))
    }

    /// Asks the operation running on a stack to stop: with `rollback`, Heat's
    /// `cancel_update` (only for an update in progress: the update stops and rolls back);
    /// without, `cancel_without_rollback` (a create or update stops where it is, in-flight
    /// steps finish, the stack ends `*_FAILED`).
    pub async fn cancel(&self, stack_id: &str, rollback: bool) -> Result<(), EngineError> {
        let stack = self.live_stack(stack_id).await?;
        let control = self.lock_active().get(&stack.id).cloned();
        let action = control.as_ref().and_then(|c| c.action());
        use crate::engine::state::Action;
        match (control, action) {
            (Some(control), Some(Action::Update)) => {
                control.request(if rollback {
                    Cancel::Rollback
                } else {
                    Cancel::NoRollback
                });
                Ok(())
            }
            (Some(control), Some(Action::Create)) if !rollback => {
                control.request(Cancel::NoRollback);
                Ok(())
            }
            _ => Err(EngineError::NotAllowed(format!(
                "Cancelling {} of stack {} is not supported: the stack is {}",
                if rollback {
                    "an update"
                } else {
                    "a create or update"
                },
                stack.name,
                stack.state
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
