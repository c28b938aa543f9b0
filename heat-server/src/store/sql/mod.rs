//! The SQL store shared by both databases: [`SqlStore`] implements [`Store`] and
//! [`ServerStore`] once, over a backend that hands out connections and transactions of
//! one database ([`SqliteStore`](crate::store::sqlite::SqliteStore),
//! [`PostgresStore`](crate::store::postgres::PostgresStore)).
//!
//! - `conn` — what a database provides: run a statement with bound values, read rows.
//! - `codec`, `rows` — how records map to columns.
//! - `batch` — `apply`: one batch in one transaction.
//! - `read`, `listing`, `software` — the queries.

mod batch;
mod codec;
pub(crate) mod conn;
mod listing;
mod read;
mod rows;
mod software;

use std::ops::DerefMut;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use heat_core::engine::store::{
    Change, EventRecord, ResourceRecord, SnapshotRecord, StackRecord, Store, StoreError,
};

use crate::store::{ServerStore, ServiceRecord, SoftwareConfig, SoftwareDeployment, StackQuery};
pub(crate) use conn::{Arg, Conn, Dialect, Row, Stmt};

pub(crate) use backend::Backend;
pub(crate) use batch::{POSTGRES_BATCH, SQLITE_BATCH};
pub(crate) use read::reserve_resource_ids;

mod backend {
    use super::*;

    /// What one database provides to [`SqlStore`]: connections to read on, transactions to
    /// write in, and the id reservation (which each database serializes its own way).
    ///
    /// Sealed: implemented by the SQLite and PostgreSQL backends of this crate only.
    #[async_trait]
    pub trait Backend: Send + Sync + 'static {
        /// The database's connection type.
        type Conn: Conn;
        /// A pooled connection to read on.
        type Read: DerefMut<Target = Self::Conn> + Send;
        /// A write transaction.
        type Write: DerefMut<Target = Self::Conn> + Send;

        /// The database's SQL differences.
        fn dialect(&self) -> Dialect;

        /// A connection to read on.
        async fn read(&self) -> Result<Self::Read, StoreError>;

        /// Begins a write transaction.
        async fn begin(&self) -> Result<Self::Write, StoreError>;

        /// Commits a write transaction (durably, before it returns).
        async fn commit(&self, tx: Self::Write) -> Result<(), StoreError>;

        /// Reserves resource ids (see [`Store::reserve_resource_ids`]).
        async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError>;
    }
}

/// A [`Store`] and [`ServerStore`] on a SQL database.
pub struct SqlStore<B> {
    backend: B,
    /// Events kept per stack (`None`: all).
    max_events_per_stack: Option<usize>,
    /// A value the resource id counter is known to have reached (it only grows): the last
    /// id this handle reserved or raised it to, in a committed transaction. Batches whose
    /// ids are all below it need not touch the counter row.
    counter_floor: AtomicU64,
}

impl<B> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("database", &std::any::type_name::<B>())
            .field("max_events_per_stack", &self.max_events_per_stack)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> SqlStore<B> {
    /// A store on a backend.
    pub(crate) fn new(backend: B, max_events_per_stack: Option<usize>) -> SqlStore<B> {
        SqlStore {
            backend,
            max_events_per_stack,
            counter_floor: AtomicU64::new(0),
        }
    }

    /// The backend.
    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    /// Commits a write transaction after `result` succeeded (otherwise the transaction is
    /// dropped: rolled back).
    async fn finish<T>(
        &self,
        tx: B::Write,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let value = result?;
        self.backend.commit(tx).await?;
        Ok(value)
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.backend.begin().await?;
        let result = batch::apply(
            &mut *tx,
            self.backend.dialect(),
            &changes,
            self.max_events_per_stack,
            self.counter_floor.load(Ordering::Acquire),
        )
        .await;
        // Only a committed raise may move the floor.
        if let Some(raised) = self.finish(tx, result).await? {
            self.counter_floor.fetch_max(raised, Ordering::AcqRel);
        }
        Ok(())
    }

    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        read::stack(&mut *self.backend.read().await?, id).await
    }

    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError> {
        read::stack_by_name(&mut *self.backend.read().await?, project, name).await
    }

    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        read::stacks(&mut *self.backend.read().await?, include_deleted).await
    }

    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        read::resources(&mut *self.backend.read().await?, stack_id).await
    }

    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        read::events(&mut *self.backend.read().await?, stack_id, after).await
    }

    async fn snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        read::snapshots(&mut *self.backend.read().await?, stack_id).await
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        let first = self.backend.reserve_resource_ids(count).await?;
        if let Some(last) = first.checked_add(count).and_then(|end| end.checked_sub(1)) {
            self.counter_floor.fetch_max(last, Ordering::AcqRel);
        }
        Ok(first)
    }
}

#[async_trait]
impl<B: Backend> ServerStore for SqlStore<B> {
    async fn list_stacks(&self, query: &StackQuery) -> Result<Vec<StackRecord>, StoreError> {
        listing::list_stacks(&mut *self.backend.read().await?, query).await
    }

    async fn count_stacks(&self, query: &StackQuery) -> Result<u64, StoreError> {
        listing::count_stacks(&mut *self.backend.read().await?, query).await
    }

    async fn put_software_config(&self, config: &SoftwareConfig) -> Result<(), StoreError> {
        let mut tx = self.backend.begin().await?;
        let result = software::put_config(&mut *tx, config).await;
        self.finish(tx, result).await
    }

    async fn software_config(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareConfig>, StoreError> {
        software::config(&mut *self.backend.read().await?, project, id).await
    }

    async fn software_configs(
        &self,
        project: &str,
        marker: Option<&str>,
        limit: Option<u64>,
    ) -> Result<Vec<SoftwareConfig>, StoreError> {
        software::configs(&mut *self.backend.read().await?, project, marker, limit).await
    }

    async fn delete_software_config(&self, project: &str, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.backend.begin().await?;
        let result = software::delete_config(&mut *tx, project, id).await;
        self.finish(tx, result).await
    }

    async fn put_software_deployment(
        &self,
        deployment: &SoftwareDeployment,
    ) -> Result<(), StoreError> {
        let mut tx = self.backend.begin().await?;
        let result = software::put_deployment(&mut *tx, deployment).await;
        self.finish(tx, result).await
    }

    async fn software_deployment(
        &self,
        project: &str,
        id: &str,
    ) -> Result<Option<SoftwareDeployment>, StoreError> {
        software::deployment(&mut *self.backend.read().await?, project, id).await
    }

    async fn software_deployments(
        &self,
        project: &str,
        server_id: Option<&str>,
    ) -> Result<Vec<SoftwareDeployment>, StoreError> {
        software::deployments(&mut *self.backend.read().await?, project, server_id).await
    }

    async fn delete_software_deployment(
        &self,
        project: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.backend.begin().await?;
        let result = software::delete_deployment(&mut *tx, project, id).await;
        self.finish(tx, result).await
    }

    async fn put_service(&self, service: &ServiceRecord) -> Result<(), StoreError> {
        let mut tx = self.backend.begin().await?;
        let result = software::put_service(&mut *tx, service).await;
        self.finish(tx, result).await
    }

    async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        software::services(&mut *self.backend.read().await?).await
    }
}
