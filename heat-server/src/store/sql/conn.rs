//! The little each database has to provide for the shared SQL code: run a statement with
//! bound values, fetch rows, and read a row's columns by position.
//!
//! Statements are written once for both databases where they can be: numbered placeholders
//! (`$1`, `$2`, ...), which SQLite accepts too, and SQL both understand (`ON CONFLICT ... DO
//! UPDATE`, row-value comparisons, `LIMIT`). What differs lives in [`Dialect`].
//!
//! Many rows are written with one statement and one bound value: a JSON array of rows that
//! the database unpacks (`json_each` in SQLite, `json_array_elements` in PostgreSQL). One
//! fixed statement serves every batch size, prepared once, and binding one text is far
//! cheaper than binding thousands of values (in SQLite, each *named* parameter lookup the
//! driver makes is a linear search: `$n` placeholders by the thousand cost more than the
//! insert).

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::SqlStr;

/// One value bound to a statement. Nulls are typed: PostgreSQL wants to know.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// An integer (or a typed integer null).
    Int(Option<i64>),
    /// A text (or a typed text null).
    Text(Option<String>),
    /// A shared text (a stack's template), bound without a copy where the driver allows.
    Shared(Arc<str>),
    /// A boolean.
    Bool(bool),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::Text(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::Text(v.map(str::to_string))
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}

/// A statement's text and whether the driver should keep it prepared.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// The SQL text.
    pub sql: SqlStr,
    /// Kept in the connection's statement cache (fixed statements) or prepared for one use
    /// (listing queries built from a request, which would only crowd the cache).
    pub persistent: bool,
}

impl Stmt {
    /// A fixed statement, prepared once per connection.
    pub const fn fixed(sql: &'static str) -> Stmt {
        Stmt {
            sql: SqlStr::from_static(sql),
            persistent: true,
        }
    }

    /// A statement built for one request: only fixed fragments and `$n` placeholders,
    /// never values (those are bound).
    pub fn once(sql: String) -> Stmt {
        Stmt {
            sql: sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql)),
            persistent: false,
        }
    }
}

/// A connection (or a transaction on one) of either database.
#[async_trait]
pub trait Conn: Send {
    /// The database's row type.
    type Row: Row + Send + Sync;

    /// Runs a statement; the number of rows it changed.
    async fn execute(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<u64, sqlx::Error>;

    /// Runs a query and collects its rows.
    async fn fetch(&mut self, stmt: &Stmt, args: Vec<Arg>) -> Result<Vec<Self::Row>, sqlx::Error>;
}

/// Reads a row's columns by position.
pub trait Row {
    /// An integer column (`None`: NULL).
    fn int(&self, index: usize) -> Result<Option<i64>, sqlx::Error>;
    /// A text column (`None`: NULL).
    fn text(&self, index: usize) -> Result<Option<String>, sqlx::Error>;
    /// A boolean column.
    fn boolean(&self, index: usize) -> Result<bool, sqlx::Error>;
}

/// How event ids are handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventIds {
    /// From the `event` row of `counters`, under the single writer (SQLite).
    Counter,
    /// From the `events_id_seq` sequence (PostgreSQL: no lock held across engines).
    Sequence,
}

/// What differs between the databases in the shared code.
#[derive(Clone, Copy, Debug)]
pub struct Dialect {
    /// Where event ids come from.
    pub event_ids: EventIds,
    /// The statements that write many rows at once (each database unpacks a JSON array its
    /// own way).
    pub batch: &'static super::batch::BatchStatements,
}
