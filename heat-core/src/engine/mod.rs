//! The engine: runs create / update / delete / rollback of a stack's resources through
//! [`provider::ResourceProvider`]s, concurrently, in dependency order, recording every
//! transition in a [`store::Store`] before acting on it.
//!
//! - the contract: [`provider`] (what a resource type implements), [`schema`] (its properties
//!   and attributes), [`services`] (clock and randomness the host injects), [`state`];
//! - [`registry`]: providers by type through the environment's `resource_registry`;
//! - [`queue`]: the pure scheduler; [`store`]: the persistence boundary;
//! - [`driver`]: the [`Engine`] and its operations (create, update and its preview, delete,
//!   rollback, suspend, resume, check, adopt, abandon, signals, cancel, crash resume);
//! - [`builtins`]: cloud-free resource types.
pub mod builtins;
pub mod driver;
pub mod provider;
pub mod queue;
pub mod registry;
pub mod schema;
pub mod services;
pub mod state;
pub mod store;

pub use driver::{
    ChangeAction, CreateRequest, Engine, EngineConfig, EngineError, Operation, OutputValue, Plan,
    PlannedChange, StackOutcome, UpdateRequest,
};
pub use provider::{
    Created, Peer, Progress, Properties, ProviderError, ResourceContext, ResourceData,
    ResourceProvider, Updated,
};
pub use queue::{DependencyQueue, Edge, NodeId, NodeState, QueueBuilder, QueueCounts, QueueError};
pub use registry::{ProviderRegistry, Resolved};
pub use schema::{
    AttributeSchema, PropertyError, PropertyErrorKind, PropertySchema, PropertyType,
    ResourceSchema, UpdateKind,
};
pub use services::{Clock, Random, SeededRandom, Services};
pub use state::{Action, State, Status};
pub use store::{
    Change, EventRecord, MemoryStore, ResourceRecord, StackDefinition, StackRecord, Store,
    StoreError,
};
