//! The SQLite store: one database file, embedded.
//!
//! - **One writer.** Every write (a batch, an id reservation, a software config) goes through
//!   a single connection, in `BEGIN IMMEDIATE` transactions: writers queue in the process
//!   instead of failing with "database is locked". Reads use a pool of other connections; in
//!   WAL mode they never wait for the writer.
//! - **Durability.** The journal is a write-ahead log. With `synchronous = NORMAL` (the
//!   default, [`SqliteSync::Normal`]) a commit is in the log (in the operating system's
//!   hands) when `apply` returns: it survives the process being killed, but the last commits
//!   before a power loss or kernel crash may be lost (the database stays consistent). With
//!   [`SqliteSync::Full`] every commit is also flushed to the disk (`fsync`) before `apply`
//!   returns: it survives power loss, at the cost of one flush per batch.
//! - A busy timeout ([`OpenOptions::lock_timeout`]) covers another process holding the file.

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use heat_core::engine::store::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, Transaction};

use super::sql::conn::EventIds;
use super::sql::{Arg, Backend, Conn, Dialect, Row, SqlStore, Stmt};
use super::{OpenError, OpenOptions, SqliteSync};

/// The SQLite store.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// The SQLite database behind a [`SqliteStore`]: the writer connection and the readers.
#[derive(Debug)]
pub struct SqliteBackend {
    writer: SqlitePool,
    readers: SqlitePool,
}

/// Page cache per connection, in KiB (SQLite's `cache_size` as a negative number): large
/// batches (10,000 resources) touch many pages.
const CACHE_KIB: i64 = 32 * 1024;

/// Rows buffered between a connection's thread and the reader (sqlx's default is 50).
const ROW_BUFFER: usize = 1024;

impl SqlStore<SqliteBackend> {
    /// Opens (creating it when missing) the database file at `path` and brings its schema up
    /// to date. The directory must exist.
    pub async fn open(
        path: impl AsRef<Path>,
        options: &OpenOptions,
    ) -> Result<SqliteStore, OpenError> {
        let path = path.as_ref();
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(options.lock_timeout)
            .pragma("cache_size", (-CACHE_KIB).to_string())
            .pragma("temp_store", "memory")
            // Rows cross from SQLite's thread in larger groups (a stack's 10,000 resources).
            .row_buffer_size(ROW_BUFFER)
            .disable_statement_logging();
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.sqlite_sync {
                SqliteSync::Normal => SqliteSynchronous::Normal,
                SqliteSync::Full => SqliteSynchronous::Full,
            });
        let connect_error = |e: sqlx::Error| OpenError::Connect {
            database: format!("SQLite file {}", path.display()),
            reason: e.to_string(),
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(options.lock_timeout)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(writer_options)
            .await
            .map_err(connect_error)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| OpenError::Migrate(e.to_string()))?;
        // Readers: the file is in WAL mode now (a lasting property of the file), so they
        // do not set it again (that would need an exclusive lock).
        let readers = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.lock_timeout)
            .test_before_acquire(false)
            .connect_lazy_with(base);
        tracing::info!(
            path = %path.display(),
            synchronous = ?options.sqlite_sync,
            "opened the SQLite store"
        );
        Ok(SqlStore::new(
            SqliteBackend { writer, readers },
            options.max_events_per_stack,
        ))
    }

    /// Closes the connections (waiting for them to finish); the store is unusable after.
    pub async fn close(&self) {
        self.backend().readers.close().await;
        self.backend().writer.close().await;
    }
}

/// The path a `sqlite://PATH` (or `sqlite:PATH`) URL names. `sqlite:///abs/file.db` is an
/// absolute path, `sqlite://rel/file.db` a relative one. In-memory databases are refused:
/// the writer and the readers would each see their own.
pub fn path_of_url(url: &str) -> Result<&str, OpenError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| OpenError::UnsupportedUrl {
            scheme: url.split(':').next().unwrap_or_default().to_string(),
        })?;
    if rest.is_empty() {
        return Err(OpenError::InvalidUrl(
            "a sqlite URL needs a file path: sqlite://PATH".to_string(),
        ));
    }
    if rest == ":memory:" || rest.starts_with(":memory:") || rest.contains("mode=memory") {
        return Err(OpenError::InvalidUrl(
            "in-memory SQLite is not supported: give a file path (sqlite://PATH)".to_string(),
        ));
    }
    if rest.contains('?') {
        return Err(OpenError::InvalidUrl(
            "a sqlite URL takes no parameters: sqlite://PATH (the options are settings)"
                .to_string(),
        ));
    }
    Ok(rest)
}

#[async_trait]
impl Backend for SqliteBackend {
    type Conn = SqliteConnection;
    type Read = PoolConnection<Sqlite>;
    type Write = Transaction<'static, Sqlite>;

    fn dialect(&self) -> Dialect {
        Dialect {
            event_ids: EventIds::Counter,
            batch: &super::sql::SQLITE_BATCH,
        }
    }

    async fn read(&self) -> Result<Self::Read, StoreError> {
        self.readers.acquire().await.map_err(unavailable)
    }

    async fn begin(&self) -> Result<Self::Write, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(unavailable)
    }

    async fn commit(&self, tx: Self::Write) -> Result<(), StoreError> {
        tx.commit()
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        // One statement in autocommit mode on the writer: its own transaction.
        let mut conn = self.writer.acquire().await.map_err(unavailable)?;
        super::sql::reserve_resource_ids(&mut *conn, count).await
    }
}

/// A connection could not be had.
fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("the SQLite database is unavailable: {e}"))
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, SqliteArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments> {
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
impl Conn for SqliteConnection {
    type Row = SqliteRow;

    async fn execute(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
        let query = bind(
            sqlx::query::<Sqlite>(stmt.sql.clone()).persistent(stmt.persistent),
            args,
        );
        Ok(query.execute(&mut *self).await?.rows_affected())
    }

    async fn fetch(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<Vec<SqliteRow>, sqlx::Error> {
        let query = bind(
            sqlx::query::<Sqlite>(stmt.sql.clone()).persistent(stmt.persistent),
            args,
        );
        query.fetch_all(&mut *self).await
    }
}

impl Row for SqliteRow {
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

/// Options parsed from text (`normal`, `full`), for configuration files.
impl FromStr for SqliteSync {
    type Err = String;

    fn from_str(s: &str) -> Result<SqliteSync, String> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(SqliteSync::Normal),
            "full" => Ok(SqliteSync::Full),
            other => Err(format!(
                "unknown SQLite synchronous mode {other:?}: expected normal or full"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file() {
        assert_eq!(
            path_of_url("sqlite:///var/lib/heat.db").unwrap(),
            "/var/lib/heat.db"
        );
        assert_eq!(path_of_url("sqlite://heat.db").unwrap(), "heat.db");
        assert_eq!(path_of_url("sqlite:heat.db").unwrap(), "heat.db");
        assert!(matches!(
            path_of_url("sqlite::memory:"),
            Err(OpenError::InvalidUrl(_))
        ));
        assert!(matches!(
            path_of_url("sqlite://"),
            Err(OpenError::InvalidUrl(_))
        ));
        assert!(matches!(
            path_of_url("sqlite://x.db?mode=ro"),
            Err(OpenError::InvalidUrl(_))
        ));
        assert!(matches!(
            path_of_url("mysql://x"),
            Err(OpenError::UnsupportedUrl { .. })
        ));
    }

    #[test]
    fn synchronous_modes_parse() {
        assert_eq!("FULL".parse::<SqliteSync>().unwrap(), SqliteSync::Full);
        assert_eq!("normal".parse::<SqliteSync>().unwrap(), SqliteSync::Normal);
        assert!("off".parse::<SqliteSync>().is_err());
    }
}
