//! The little each database has to provide for the shared SQL code: run a statement with
//! bound values, fetch rows, and read a row's columns by position.
//!
//! Statements are written once for both databases: numbered placeholders (`$1`, `$2`, ...),
//! which SQLite accepts too, and SQL both understand (`ON CONFLICT ... DO UPDATE`, row-value
//! comparisons, `LIMIT`). What differs lives in [`Dialect`].

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

    /// A generated statement that is reused (multi-row inserts of a given size).
    pub fn shared(sql: Arc<str>) -> Stmt {
        Stmt {
            sql: sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(sql)),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    /// The database's name, for messages.
    pub name: &'static str,
    /// Where event ids come from.
    pub event_ids: EventIds,
}

/// Rows per multi-row statement at most: `2^MAX_CHUNK_BITS`. 256 rows of the widest table
/// (19 columns) bind 4,864 values, well under both databases' limits (SQLite 32,766,
/// PostgreSQL 65,535).
pub const MAX_CHUNK_BITS: u32 = 8;

/// Splits `n` rows into chunks whose sizes are powers of two (at most `2^MAX_CHUNK_BITS`):
/// a batch of any size uses at most `MAX_CHUNK_BITS + 1` distinct statements, each kept
/// prepared.
pub fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let max = 1usize << MAX_CHUNK_BITS;
    let mut out = Vec::with_capacity(n / max + MAX_CHUNK_BITS as usize + 1);
    while n >= max {
        out.push(max);
        n -= max;
    }
    for bit in (0..MAX_CHUNK_BITS).rev() {
        let size = 1usize << bit;
        if n >= size {
            out.push(size);
            n -= size;
        }
    }
    out
}

/// The `MAX_CHUNK_BITS + 1` statements of one multi-row shape (indexed by `log2(rows)`),
/// built on first use.
#[derive(Debug)]
pub struct ChunkStatements {
    build: fn(usize) -> String,
    built: [std::sync::OnceLock<Arc<str>>; MAX_CHUNK_BITS as usize + 1],
}

impl ChunkStatements {
    /// Statements built by `build(rows)`.
    pub const fn new(build: fn(usize) -> String) -> ChunkStatements {
        ChunkStatements {
            build,
            built: [const { std::sync::OnceLock::new() }; MAX_CHUNK_BITS as usize + 1],
        }
    }

    /// The statement for `rows` rows (a power of two from [`chunk_sizes`]).
    pub fn get(&self, rows: usize) -> Stmt {
        let bit = rows.trailing_zeros() as usize;
        match self.built.get(bit) {
            Some(cell) if rows.is_power_of_two() => {
                Stmt::shared(cell.get_or_init(|| (self.build)(rows).into()).clone())
            }
            // Not a size chunk_sizes makes: build it for this once.
            _ => Stmt::once((self.build)(rows)),
        }
    }
}

/// `($1, $2, ...), ($k, ...)`: `rows` tuples of `columns` numbered placeholders, starting at
/// `$first`.
pub fn placeholders(rows: usize, columns: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    let mut n = first;
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&n.to_string());
            n += 1;
        }
        out.push(')');
    }
    out
}

/// `$first, $first+1, ...`: a list of `count` placeholders (for `IN (...)`).
pub fn placeholder_list(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_that_add_up() {
        for n in [0usize, 1, 2, 3, 255, 256, 257, 1000, 10_001] {
            let sizes = chunk_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= 256));
            assert!(sizes.len() <= n / 256 + 8 + 1, "{n}: {sizes:?}");
        }
    }

    #[test]
    fn placeholders_are_numbered_in_row_order() {
        assert_eq!(placeholders(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholder_list(3, 4), "$4, $5, $6");
    }
}
