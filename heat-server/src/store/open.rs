//! Opening a store by URL, and the options and errors of opening one.

use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::store::{DEFAULT_MAX_EVENTS_PER_STACK, Store};

use super::memory::MemoryServerStore;
use super::{PostgresStore, ServerStore, SqliteStore, sqlite};

/// How a database store is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOptions {
    /// Events kept per stack; older ones are purged, 200 beyond the limit at a time (Heat's
    /// `max_events_per_stack`, default 1000). `None`: keep all.
    pub max_events_per_stack: Option<usize>,
    /// Connections at most: SQLite's readers (writes have their own single connection),
    /// PostgreSQL's whole pool. Default 8.
    pub max_connections: u32,
    /// How long to wait for a connection, and (SQLite) for another process's lock on the
    /// file, before a call fails. Default 60 seconds.
    pub lock_timeout: Duration,
    /// When a SQLite commit is on the disk (see [`SqliteSync`]). Default
    /// [`SqliteSync::Normal`].
    pub sqlite_sync: SqliteSync,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions {
            max_events_per_stack: Some(DEFAULT_MAX_EVENTS_PER_STACK),
            max_connections: 8,
            lock_timeout: Duration::from_secs(60),
            sqlite_sync: SqliteSync::Normal,
        }
    }
}

/// SQLite's `synchronous` setting (the file is always in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteSync {
    /// `NORMAL`: a committed batch survives the process being killed; the last batches
    /// before a power loss or an operating system crash may be lost (never half of one).
    /// No flush per commit: the fast default.
    #[default]
    Normal,
    /// `FULL`: every commit is flushed to the disk before `apply` returns, so it also
    /// survives power loss; each batch costs one `fsync`.
    Full,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL's scheme is not a database heat-server knows.
    #[error(
        "unsupported database URL scheme {scheme:?}: use sqlite://PATH, postgres://USER@HOST/DATABASE or memory://"
    )]
    UnsupportedUrl {
        /// The scheme given.
        scheme: String,
    },
    /// The URL is malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot open the {database}: {reason}")]
    Connect {
        /// Which database (never with a password).
        database: String,
        /// Why.
        reason: String,
    },
    /// The schema could not be brought up to date.
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(String),
}

/// Opens the store a URL names: `sqlite://PATH` (the file is created when missing; its
/// directory must exist), `postgres://...` / `postgresql://...` (the schema is brought up
/// to date), or `memory://` (nothing is kept across restarts).
pub async fn open(url: &str, options: &OpenOptions) -> Result<Arc<dyn ServerStore>, OpenError> {
    if url == "memory://" || url == "memory:" {
        return Ok(Arc::new(MemoryServerStore::new(
            options.max_events_per_stack,
        )));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PostgresStore::connect(url, options).await?;
        return Ok(Arc::new(store));
    }
    let path = sqlite::path_of_url(url)?;
    let store = SqliteStore::open(path, options).await?;
    Ok(Arc::new(store))
}

/// The same store as the engine's [`Store`] (what `heat_core::engine::Engine::new` takes).
pub fn engine_store(store: Arc<dyn ServerStore>) -> Arc<dyn Store> {
    store
}

/// The URL with any password replaced by `***` (for messages and logs).
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_opens_and_unknown_schemes_are_refused() {
        let options = OpenOptions::default();
        assert!(open("memory://", &options).await.is_ok());
        let err = open("mysql://x/y", &options).await.err();
        assert!(
            err.is_some_and(|e| e.to_string().contains("memory://")),
            "an unknown scheme names the ones there are"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redacted("postgres://heat:pw@db:5432/heat"),
            "postgres://heat:***@db:5432/heat"
        );
        assert_eq!(
            redacted("postgres://heat@db/heat"),
            "postgres://heat@db/heat"
        );
        assert_eq!(redacted("sqlite:///a/b.db"), "sqlite:///a/b.db");
    }
}
