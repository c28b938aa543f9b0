//! Heat's stack listing in SQL: filters, tags, sort keys and direction, marker paging,
//! `show_deleted`, `show_nested`, and the count (`with_count`).
//!
//! Names that are not Heat's are ignored, as Heat's API ignores them: a filter field other
//! than `name`, `id`, `status`, `action`, `tenant`, `username`, `owner_id`, and a sort key
//! other than `stack_name`, `stack_status`, `creation_time`, `updated_time` (the API layer is
//! expected to reject those first). Every ordering ends with the stack id, which makes pages
//! stable when sort values tie.

use heat_core::engine::state::State;
use heat_core::engine::store::{StackRecord, StoreError};

use super::codec::backend;
use super::conn::{Arg, Conn, Row, Stmt};
use super::rows::{STACK_COLUMNS_S, stack_from_row};
use crate::store::StackQuery;

/// A `WHERE` clause under construction, with its bound values.
struct Clause {
    conditions: Vec<String>,
    args: Vec<Arg>,
}

impl Clause {
    fn new() -> Clause {
        Clause {
            conditions: Vec::new(),
            args: Vec::new(),
        }
    }

    /// Binds a value; its placeholder.
    fn bind(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// `$a, $b, ...` for a list of texts.
    fn bind_list(&mut self, values: &[String]) -> String {
        values
            .iter()
            .map(|v| self.bind(v.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn sql(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// The column a filter field names (`None`: not one Heat filters on).
fn filter_column(field: &str) -> Option<&'static str> {
    match field {
        "name" => Some("s.name"),
        "id" => Some("s.id"),
        "action" => Some("s.action"),
        "tenant" => Some("s.project"),
        "username" => Some("s.user_name"),
        "owner_id" => Some("s.parent"),
        _ => None,
    }
}

/// The column a sort key names (`None`: not one of Heat's).
fn sort_column(key: &str) -> Option<&'static str> {
    match key {
        "stack_name" => Some("s.name"),
        "stack_status" => Some("s.status"),
        "creation_time" => Some("s.created_at"),
        "updated_time" => Some("s.updated_at"),
        _ => None,
    }
}

/// The conditions every listing of `query` shares (everything but marker and limit).
fn conditions(query: &StackQuery) -> Clause {
    let mut c = Clause::new();
    if let Some(project) = &query.project {
        let p = c.bind(project.as_str());
        c.conditions.push(format!("s.project = {p}"));
    }
    if !query.show_deleted {
        c.conditions.push("s.deleted = FALSE".to_string());
    }
    if !query.show_nested {
        c.conditions.push("s.parent IS NULL".to_string());
    }
    for (field, values) in &query.filters {
        if field == "status" {
            if values.is_empty() {
                c.conditions.push("1 = 0".to_string());
                continue;
            }
            // A bare status (`COMPLETE`) or a whole state (`CREATE_COMPLETE`).
            let alternatives: Vec<String> = values
                .iter()
                .map(|v| match State::parse(v) {
                    Some(state) => {
                        let a = c.bind(state.action.as_str());
                        let s = c.bind(state.status.as_str());
                        format!("(s.action = {a} AND s.status = {s})")
                    }
                    None => {
                        let s = c.bind(v.as_str());
                        format!("s.status = {s}")
                    }
                })
                .collect();
            c.conditions
                .push(format!("({})", alternatives.join(" OR ")));
            continue;
        }
        let Some(column) = filter_column(field) else {
            continue;
        };
        if values.is_empty() {
            c.conditions.push("1 = 0".to_string());
        } else {
            let list = c.bind_list(values);
            c.conditions.push(format!("{column} IN ({list})"));
        }
    }
    if !query.tags.is_empty() {
        let n = distinct(&query.tags);
        let list = c.bind_list(&query.tags);
        c.conditions.push(format!(
            "(SELECT COUNT(*) FROM stack_tags t WHERE t.stack_id = s.id AND t.tag IN ({list})) = {n}"
        ));
    }
    if !query.tags_any.is_empty() {
        let list = c.bind_list(&query.tags_any);
        c.conditions.push(format!(
            "EXISTS (SELECT 1 FROM stack_tags t WHERE t.stack_id = s.id AND t.tag IN ({list}))"
        ));
    }
    if !query.not_tags.is_empty() {
        let n = distinct(&query.not_tags);
        let list = c.bind_list(&query.not_tags);
        c.conditions.push(format!(
            "(SELECT COUNT(*) FROM stack_tags t WHERE t.stack_id = s.id AND t.tag IN ({list})) < {n}"
        ));
    }
    if !query.not_tags_any.is_empty() {
        let list = c.bind_list(&query.not_tags_any);
        c.conditions.push(format!(
            "NOT EXISTS (SELECT 1 FROM stack_tags t WHERE t.stack_id = s.id AND t.tag IN ({list}))"
        ));
    }
    c
}

/// How many different values a list has (tags are stored once per stack).
fn distinct(values: &[String]) -> usize {
    values
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The sort columns: the query's known keys (each once), `created_at` when none, then `id`.
fn sort_columns(query: &StackQuery) -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = Vec::new();
    for key in &query.sort_keys {
        if let Some(column) = sort_column(key)
            && !columns.contains(&column)
        {
            columns.push(column);
        }
    }
    if columns.is_empty() {
        columns.push("s.created_at");
    }
    columns.push("s.id");
    columns
}

/// The stacks a listing returns.
pub async fn list_stacks<C: Conn>(
    conn: &mut C,
    query: &StackQuery,
) -> Result<Vec<StackRecord>, StoreError> {
    let mut clause = conditions(query);
    let columns = sort_columns(query);
    let column_list = columns.join(", ");
    if let Some(marker) = &query.marker {
        // The marker must be a stack of this listing.
        let mut check = conditions(query);
        let m = check.bind(marker.as_str());
        check.conditions.push(format!("s.id = {m}"));
        let sql = format!("SELECT s.id FROM stacks s{}", check.sql());
        let found = conn
            .fetch(&Stmt::once(sql), check.args)
            .await
            .map_err(backend)?;
        if found.is_empty() {
            return Err(StoreError::Missing(format!("marker {marker}")));
        }
        let m = clause.bind(marker.as_str());
        let op = if query.descending { "<" } else { ">" };
        let marker_columns = columns
            .iter()
            .map(|c| c.trim_start_matches("s."))
            .collect::<Vec<_>>()
            .join(", ");
        clause.conditions.push(format!(
            "({column_list}) {op} (SELECT {marker_columns} FROM stacks WHERE id = {m})"
        ));
    }
    let direction = if query.descending { "DESC" } else { "ASC" };
    let order = columns
        .iter()
        .map(|c| format!("{c} {direction}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT {STACK_COLUMNS_S} FROM stacks s{} ORDER BY {order}",
        clause.sql()
    );
    if let Some(limit) = query.limit {
        let l = clause.bind(i64::try_from(limit).unwrap_or(i64::MAX));
        sql.push_str(&format!(" LIMIT {l}"));
    }
    let rows = conn
        .fetch(&Stmt::once(sql), clause.args)
        .await
        .map_err(backend)?;
    rows.iter().map(stack_from_row).collect()
}

/// How many stacks match, ignoring marker and limit.
pub async fn count_stacks<C: Conn>(conn: &mut C, query: &StackQuery) -> Result<u64, StoreError> {
    let clause = conditions(query);
    let sql = format!("SELECT COUNT(*) FROM stacks s{}", clause.sql());
    let rows = conn
        .fetch(&Stmt::once(sql), clause.args)
        .await
        .map_err(backend)?;
    let n = match rows.first() {
        Some(row) => row.int(0).map_err(backend)?.unwrap_or(0),
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sort_keys_are_ignored_and_id_always_ends_the_order() {
        let q = StackQuery {
            sort_keys: vec!["stack_name".into(), "bogus".into(), "stack_name".into()],
            ..StackQuery::default()
        };
        assert_eq!(sort_columns(&q), ["s.name", "s.id"]);
        assert_eq!(
            sort_columns(&StackQuery::default()),
            ["s.created_at", "s.id"]
        );
    }

    #[test]
    fn values_are_bound_never_spliced() {
        let q = StackQuery {
            project: Some("p'; DROP TABLE stacks; --".into()),
            filters: vec![
                ("name".into(), vec!["x'y".into()]),
                (
                    "status".into(),
                    vec!["CREATE_COMPLETE".into(), "FAILED".into()],
                ),
                ("nonsense".into(), vec!["z".into()]),
            ],
            tags: vec!["a".into(), "a".into()],
            ..StackQuery::default()
        };
        let c = conditions(&q);
        let sql = c.sql();
        assert!(!sql.contains("DROP") && !sql.contains("x'y"), "{sql}");
        assert!(sql.contains("= 1"), "duplicate tags count once: {sql}");
        assert_eq!(c.args.len(), 1 + 1 + 3 + 2);
    }
}
