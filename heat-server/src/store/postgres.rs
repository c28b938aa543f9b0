//! The PostgreSQL store: for several heat-server processes on one database.
//!
//! - A batch is one transaction on a pooled connection; it is durable when `COMMIT`
//!   returns (PostgreSQL's default `synchronous_commit = on`).
//! - Resource ids are reserved with one `UPDATE counters ... RETURNING` statement in its own
//!   transaction: the counter row's lock queues concurrent reservations, from any number of
//!   engines, and each gets its own range. A batch only raises the counter when it stores a
//!   record id beyond it (normally never: ids come from reservations), so batches do not
//!   queue on that row.
//! - Event ids come from a sequence. Within a stack they increase in commit order: a batch
//!   takes a per-stack advisory lock (until it commits) before it takes event ids, so two
//!   batches adding events to one stack (an operation and a signal, or two engines) take
//!   their ids one after the other, and a reader paging with `after` never misses an event
//!   committed later with a smaller id. Across stacks, ids are only unique.
//! - Sorted text columns use the "C" collation, so listings order exactly as on SQLite.

use std::str::FromStr;

use async_trait::async_trait;
use heat_core::engine::store::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow, Postgres,
};
use sqlx::{ConnectOptions, Transaction};

use super::sql::conn::EventIds;
use super::sql::{Arg, Backend, Conn, Dialect, Row, SqlStore, Stmt};
use super::{OpenError, OpenOptions};

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// The PostgreSQL database behind a [`PostgresStore`]: a connection pool.
#[derive(Debug)]
pub struct PostgresBackend {
    pool: PgPool,
}

impl SqlStore<PostgresBackend> {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// brings its schema up to date (several processes may do so at once: the migration
    /// takes a lock).
    pub async fn connect(url: &str, options: &OpenOptions) -> Result<PostgresStore, OpenError> {
        let connect_options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::InvalidUrl(e.to_string()))?
            .disable_statement_logging();
        let database = format!(
            "PostgreSQL database {:?} on {}:{}",
            connect_options.get_database().unwrap_or_default(),
            connect_options.get_host(),
            connect_options.get_port()
        );
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.lock_timeout)
            .connect_with(connect_options)
            .await
            .map_err(|e| OpenError::Connect {
                database: database.clone(),
                reason: e.to_string(),
            })?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate(e.to_string()))?;
        tracing::info!(%database, "opened the PostgreSQL store");
        Ok(SqlStore::new(
            PostgresBackend { pool },
            options.max_events_per_stack,
        ))
    }

    /// Closes the connections (waiting for them to finish); the store is unusable after.
    pub async fn close(&self) {
        self.backend().pool.close().await;
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    type Conn = PgConnection;
    type Read = PoolConnection<Postgres>;
    type Write = Transaction<'static, Postgres>;

    fn dialect(&self) -> Dialect {
        Dialect {
            event_ids: EventIds::Sequence,
            batch: &super::sql::POSTGRES_BATCH,
        }
    }

    async fn read(&self) -> Result<Self::Read, StoreError> {
        self.pool.acquire().await.map_err(unavailable)
    }

    async fn begin(&self) -> Result<Self::Write, StoreError> {
        self.pool.begin().await.map_err(unavailable)
    }

    async fn commit(&self, tx: Self::Write) -> Result<(), StoreError> {
        tx.commit()
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        // One statement in autocommit mode: its own transaction, the row lock held only
        // for it.
        let mut conn = self.pool.acquire().await.map_err(unavailable)?;
        super::sql::reserve_resource_ids(&mut *conn, count).await
    }
}

/// A connection could not be had.
fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("the PostgreSQL database is unavailable: {e}"))
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Postgres, PgArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for arg in args {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Shared(v) => query.bind(v),
            Arg::Bool(v) => query.bind(v),
        };
    }
    query
}

#[async_trait]
impl Conn for PgConnection {
    type Row = PgRow;

    async fn execute(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
        let query = bind(
            sqlx::query::<Postgres>(stmt.sql.clone()).persistent(stmt.persistent),
            args,
        );
        Ok(query.execute(&mut *self).await?.rows_affected())
    }

    async fn fetch(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<Vec<PgRow>, sqlx::Error> {
        let query = bind(
            sqlx::query::<Postgres>(stmt.sql.clone()).persistent(stmt.persistent),
            args,
        );
        query.fetch_all(&mut *self).await
    }
}

impl Row for PgRow {
    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error> {
        sqlx::Row::try_get(self, index)
    }

    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error> {
        sqlx::Row::try_get(self, index)
    }

    fn boolean(&self, index: usize) -> Result<bool, sqlx::Error> {
        sqlx::Row::try_get(self, index)
    }
}
