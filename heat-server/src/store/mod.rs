//! Persistence for heat-server: the engine's [`Store`] plus what only the server asks for
//! (stack listing with Heat's filters, sorting and paging; software configs and
//! deployments; engine service records), with one implementation per database.
//!
//! [`ServerStore`] is the contract between the API layer and the databases. Every
//! implementation runs the same test suite (SQLite file, PostgreSQL, in memory).

mod open;
pub mod postgres;
pub mod sql;
pub mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use heat_core::engine::store::{StackRecord, Store, StoreError};
use serde_json::Value;

pub mod memory;

pub use open::{OpenError, OpenOptions, SqliteSync, engine_store, open, redacted};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Which stacks a listing returns, in which order, and which page (Heat's `GET /stacks`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackQuery {
    /// Only this project's stacks; `None`: every project's (`global_tenant`).
    pub project: Option<String>,
    /// Soft-deleted stacks too (`show_deleted`).
    pub show_deleted: bool,
    /// Nested stacks too (`show_nested`); otherwise only stacks without a parent.
    pub show_nested: bool,
    /// Field filters: a stack matches when, for every field given, its value is one of the
    /// values given (Heat: `name`, `id`, `status`, `action`, `tenant`, `username`,
    /// `owner_id`; `status` is the `COMPLETE`/`FAILED`/... part of the state, `action` the
    /// `CREATE`/... part; a full `CREATE_COMPLETE` given as `status` matches the state).
    pub filters: Vec<(String, Vec<String>)>,
    /// Every one of these tags (`tags`).
    pub tags: Vec<String>,
    /// At least one of these tags (`tags_any`).
    pub tags_any: Vec<String>,
    /// Not all of these tags (`not_tags`).
    pub not_tags: Vec<String>,
    /// None of these tags (`not_tags_any`).
    pub not_tags_any: Vec<String>,
    /// Sort keys in priority order (`stack_name`, `stack_status`, `creation_time`,
    /// `updated_time`); empty: `creation_time`.
    pub sort_keys: Vec<String>,
    /// Descending (`sort_dir=desc`, Heat's default) or ascending.
    pub descending: bool,
    /// The page starts after the stack with this id (`marker`).
    pub marker: Option<String>,
    /// At most this many stacks (`limit`).
    pub limit: Option<u64>,
}

/// A software config (Heat's `/software_configs`): immutable once created.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftwareConfig {
    /// Its id (a UUID).
    pub id: String,
    /// The project that owns it.
    pub project: String,
    /// Its name.
    pub name: String,
    /// The group (`script`, `puppet`, `Heat::Ungrouped`, ...).
    pub group: String,
    /// The config text.
    pub config: String,
    /// Inputs, outputs and options as Heat shows them (JSON arrays / object).
    pub inputs: Value,
    /// Outputs.
    pub outputs: Value,
    /// Options.
    pub options: Value,
    /// When it was created (seconds since the Unix epoch).
    pub created_at: Duration,
}

/// A software deployment (Heat's `/software_deployments`).
#[derive(Clone, Debug, PartialEq)]
pub struct SoftwareDeployment {
    /// Its id (a UUID).
    pub id: String,
    /// The project that owns it.
    pub project: String,
    /// The config it deploys.
    pub config_id: String,
    /// The server it deploys to.
    pub server_id: String,
    /// Input values (a JSON object).
    pub input_values: Value,
    /// Output values reported back (a JSON object).
    pub output_values: Value,
    /// The action (`CREATE`, `UPDATE`, ...).
    pub action: String,
    /// The status (`IN_PROGRESS`, `COMPLETE`, `FAILED`).
    pub status: String,
    /// Why.
    pub status_reason: String,
    /// The stack user project, when one was given.
    pub stack_user_project_id: Option<String>,
    /// When it was created (seconds since the Unix epoch).
    pub created_at: Duration,
    /// When it last changed (seconds since the Unix epoch).
    pub updated_at: Option<Duration>,
}

/// An engine process, as `GET /services` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRecord {
    /// The engine's id (a UUID, new at each start).
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// The binary (`heat-engine`).
    pub binary: String,
    /// The topic (`engine`).
    pub topic: String,
    /// How often it reports, in seconds.
    pub report_interval: u64,
    /// When it started (seconds since the Unix epoch).
    pub created_at: Duration,
    /// When it last reported (seconds since the Unix epoch).
    pub updated_at: Duration,
}

/// The engine's store plus the server's own queries and records.
#[async_trait]
pub trait ServerStore: Store {
    /// The stacks a listing returns (see [`StackQuery`]); a `marker` that names no stack
    /// of the listing is [`StoreError::Missing`].
    async fn list_stacks(&self, query: &StackQuery) -> Result<Vec<StackRecord>, StoreError>;

    /// How many stacks match the query, ignoring `marker` and `limit` (`with_count`).
    async fn count_stacks(&self, query: &StackQuery) -> Result<u64, StoreError>;

    /// Stores a new software config.
    async fn put_software_config(&self, config: &SoftwareConfig) -> Result<(), StoreError>;

    /// A project's software config by id.
    async fn software_config(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareConfig>, StoreError>;

    /// A project's software configs, newest first, after `marker`, at most `limit`.
    async fn software_configs(
        &self,
        project: &str,
        marker: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<SoftwareConfig>, StoreError>;

    /// Deletes a software config; `false` when there was none.
    async fn delete_software_config(&self, project: &str, id: &str) -> Result<bool, StoreError>;

    /// Inserts or replaces a software deployment (by id).
    async fn put_software_deployment(
        &self,
        deployment: &SoftwareDeployment,
    ) -> Result<(), StoreError>;

    /// A project's software deployment by id.
    async fn software_deployment(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareDeployment>, StoreError>;

    /// A project's software deployments (of one server when given), oldest first.
    async fn software_deployments(
        &self,
        project: &str,
        server_id: Option<&str>,
    ) -> Result<Vec<SoftwareDeployment>, StoreError>;

    /// Deletes a software deployment; `false` when there was none.
    async fn delete_software_deployment(&self, project: &str, id: &str)
    -> Result<bool, StoreError>;

    /// Inserts or refreshes an engine's service record.
    async fn put_service(&self, service: &ServiceRecord) -> Result<(), StoreError>;

    /// Every engine's service record.
    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError>;
}
