//! Each record's columns: the column list every statement uses, the values a record binds
//! (in that order) and the record read back from a row (in that order).

use std::sync::Arc;

use heat_core::engine::store::{
    EventRecord, ResourceRecord, SnapshotRecord, StackRecord, StoreError,
};

use super::codec::{
    self, backend, corrupt, definition, definition_json, duration, from_json, nanos, signed,
    snapshot_resources, snapshot_resources_json, to_json, unsigned,
};
use super::conn::{Arg, Row};
use crate::store::{ServiceRecord, SoftwareConfig, SoftwareDeployment};

/// Reads columns in order, naming the table in errors.
pub struct Reader<'r, R> {
    row: &'r R,
    next: usize,
    table: &'static str,
}

impl<'r, R: Row> Reader<'r, R> {
    /// A reader at the row's first column.
    pub fn new(row: &'r R, table: &'static str) -> Self {
        Reader {
            row,
            next: 0,
            table,
        }
    }

    fn index(&mut self) -> usize {
        let i = self.next;
        self.next += 1;
        i
    }

    fn null(&self, column: &str) -> StoreError {
        corrupt(&format!("{}.{column}", self.table), "unexpected NULL")
    }

    /// The next column as text (NULL is an error).
    pub fn text(&mut self, column: &str) -> Result<String, StoreError> {
        let i = self.index();
        self.row
            .text(i)
            .map_err(backend)?
            .ok_or_else(|| self.null(column))
    }

    /// The next column as optional text.
    pub fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        let i = self.index();
        self.row.text(i).map_err(backend)
    }

    /// The next column as an integer (NULL is an error).
    pub fn int(&mut self, column: &str) -> Result<i64, StoreError> {
        let i = self.index();
        self.row
            .int(i)
            .map_err(backend)?
            .ok_or_else(|| self.null(column))
    }

    /// The next column as an optional integer.
    pub fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        let i = self.index();
        self.row.int(i).map_err(backend)
    }

    /// The next column as an unsigned integer.
    pub fn uint(&mut self, column: &str) -> Result<u64, StoreError> {
        let n = self.int(column)?;
        unsigned(n, column)
    }

    /// The next column as a time.
    pub fn time(&mut self, column: &str) -> Result<std::time::Duration, StoreError> {
        let n = self.int(column)?;
        duration(n, column)
    }

    /// The next column as an optional time.
    pub fn opt_time(&mut self, column: &str) -> Result<Option<std::time::Duration>, StoreError> {
        self.opt_int()?.map(|n| duration(n, column)).transpose()
    }

    /// The next column as a boolean.
    pub fn boolean(&mut self) -> Result<bool, StoreError> {
        let i = self.index();
        self.row.boolean(i).map_err(backend)
    }

    /// The next column as JSON of type `T`.
    pub fn json<T: for<'de> serde::Deserialize<'de>>(
        &mut self,
        column: &str,
    ) -> Result<T, StoreError> {
        let text = self.text(column)?;
        from_json(&text, column)
    }

    /// The next column as optional JSON of type `T`.
    pub fn opt_json<T: for<'de> serde::Deserialize<'de>>(
        &mut self,
        column: &str,
    ) -> Result<Option<T>, StoreError> {
        self.opt_text()?
            .map(|text| from_json(&text, column))
            .transpose()
    }
}

/// Rows written as one JSON array of arrays (`[[1, "a", null], [2, "b", "c"]]`), the one
/// value a multi-row statement binds.
#[derive(Debug, Default)]
pub struct JsonRows {
    buf: Vec<u8>,
    rows: usize,
    columns: usize,
}

impl JsonRows {
    /// An empty list.
    pub fn new() -> JsonRows {
        JsonRows {
            buf: b"[".to_vec(),
            rows: 0,
            columns: 0,
        }
    }

    fn begin_row(&mut self) {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        self.buf.push(b'[');
        self.columns = 0;
    }

    fn end_row(&mut self) {
        self.buf.push(b']');
        self.rows += 1;
    }

    fn separate(&mut self) {
        if self.columns > 0 {
            self.buf.push(b',');
        }
        self.columns += 1;
    }

    /// A bare value (an element of a flat list): an integer.
    pub fn push_int(&mut self, n: i64) {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        self.buf.extend_from_slice(n.to_string().as_bytes());
        self.rows += 1;
    }

    /// A bare value (an element of a flat list): a text.
    pub fn push_text(&mut self, text: &str) -> Result<(), StoreError> {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        self.rows += 1;
        write_string(&mut self.buf, text)
    }

    fn int(&mut self, n: i64) {
        self.separate();
        self.buf.extend_from_slice(n.to_string().as_bytes());
    }

    fn null(&mut self) {
        self.separate();
        self.buf.extend_from_slice(b"null");
    }

    fn text(&mut self, text: &str) -> Result<(), StoreError> {
        self.separate();
        write_string(&mut self.buf, text)
    }

    fn opt_text(&mut self, text: Option<&str>) -> Result<(), StoreError> {
        match text {
            Some(t) => self.text(t),
            None => {
                self.null();
                Ok(())
            }
        }
    }

    /// The JSON text.
    pub fn finish(mut self) -> Result<String, StoreError> {
        self.buf.push(b']');
        String::from_utf8(self.buf)
            .map_err(|e| StoreError::Backend(format!("rows are not UTF-8: {e}")))
    }
}

/// A JSON string literal.
fn write_string(buf: &mut Vec<u8>, text: &str) -> Result<(), StoreError> {
    serde_json::to_writer(buf, text)
        .map_err(|e| StoreError::Backend(format!("cannot encode a text as JSON: {e}")))
}

// -- stacks ---------------------------------------------------------------------------------

/// The columns of `stacks` a record is written to and read from, in order (a literal, for
/// `concat!`).
macro_rules! stack_columns {
    () => {
        "id, project, name, user_name, parent, action, status, \
     status_reason, description, template, files, environments, parameters, previous, \
     disable_rollback, timeout_mins, tags, operation, created_at, updated_at, deleted, deleted_at"
    };
}
pub(crate) use stack_columns;

/// The same columns qualified with the alias `s` (for listings).
pub const STACK_COLUMNS_S: &str = "s.id, s.project, s.name, s.user_name, s.parent, s.action, \
     s.status, s.status_reason, s.description, s.template, s.files, s.environments, \
     s.parameters, s.previous, s.disable_rollback, s.timeout_mins, s.tags, s.operation, \
     s.created_at, s.updated_at, s.deleted, s.deleted_at";

/// A stack's values, in `stack_columns!()` order.
pub fn stack_args(s: &StackRecord) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        s.id.as_str().into(),
        s.project.as_str().into(),
        s.name.as_str().into(),
        s.user.as_str().into(),
        s.parent.as_deref().into(),
        s.state.action.as_str().into(),
        s.state.status.as_str().into(),
        s.status_reason.as_str().into(),
        s.description.as_str().into(),
        Arg::Shared(s.template.clone()),
        to_json(&s.files, "files")?.into(),
        to_json(&s.environments, "environments")?.into(),
        to_json(&s.parameters, "parameters")?.into(),
        s.previous.as_ref().map(definition_json).transpose()?.into(),
        s.disable_rollback.into(),
        i64::from(s.timeout_mins).into(),
        to_json(&s.tags, "tags")?.into(),
        signed(s.operation, "stack operation")?.into(),
        nanos(s.created_at)?.into(),
        nanos(s.updated_at)?.into(),
        s.deleted.into(),
        s.deleted_at.map(nanos).transpose()?.into(),
    ])
}

/// A stack from a row of `stack_columns!()`.
pub fn stack_from_row<R: Row>(row: &R) -> Result<StackRecord, StoreError> {
    let mut r = Reader::new(row, "stacks");
    let id = r.text("id")?;
    let project = r.text("project")?;
    let name = r.text("name")?;
    let user = r.text("user_name")?;
    let parent = r.opt_text()?;
    let action = r.text("action")?;
    let status = r.text("status")?;
    let state = codec::state(&action, &status)?;
    let status_reason = r.text("status_reason")?;
    let description = r.text("description")?;
    let template: Arc<str> = Arc::from(r.text("template")?);
    let files = r.json("files")?;
    let environments = r.json("environments")?;
    let parameters = r.json("parameters")?;
    let previous = r.opt_text()?.map(|t| definition(&t)).transpose()?;
    let disable_rollback = r.boolean()?;
    let timeout = r.int("timeout_mins")?;
    let timeout_mins =
        u32::try_from(timeout).map_err(|_| corrupt("stacks.timeout_mins", timeout))?;
    let tags = r.json("tags")?;
    let operation = r.uint("operation")?;
    let created_at = r.time("created_at")?;
    let updated_at = r.time("updated_at")?;
    let deleted = r.boolean()?;
    let deleted_at = r.opt_time("deleted_at")?;
    Ok(StackRecord {
        id,
        name,
        project,
        user,
        parent,
        description,
        template,
        files,
        environments,
        parameters,
        state,
        status_reason,
        disable_rollback,
        timeout_mins,
        tags,
        created_at,
        updated_at,
        deleted,
        deleted_at,
        previous,
        operation,
    })
}

// -- resources ------------------------------------------------------------------------------

/// The columns of `resources`, in order (a literal, for `concat!`).
macro_rules! resource_columns {
    () => {
        "id, stack_id, name, resource_type, physical_id, action, \
     status, status_reason, properties, data, metadata, idempotency_token, replaces, \
     deletion_policy, requires, target_properties, hook, operation, updated_at"
    };
}
pub(crate) use resource_columns;

/// Appends a resource as a JSON array of its column values, in `resource_columns!()` order
/// (JSON columns as strings holding their JSON text).
pub fn push_resource_json(r: &ResourceRecord, out: &mut JsonRows) -> Result<(), StoreError> {
    out.begin_row();
    out.int(signed(r.id, "resource id")?);
    out.text(&r.stack_id)?;
    out.text(&r.name)?;
    out.text(&r.resource_type)?;
    out.opt_text(r.physical_id.as_deref())?;
    out.text(r.state.action.as_str())?;
    out.text(r.state.status.as_str())?;
    out.text(&r.status_reason)?;
    out.text(&to_json(&r.properties, "properties")?)?;
    out.text(&to_json(&r.data, "resource data")?)?;
    let metadata = r
        .metadata
        .as_deref()
        .map(|m| to_json(m, "metadata"))
        .transpose()?;
    out.opt_text(metadata.as_deref())?;
    out.text(&r.idempotency_token)?;
    match r.replaces {
        Some(id) => out.int(signed(id, "replaced resource id")?),
        None => out.null(),
    }
    out.text(codec::policy_name(r.deletion_policy))?;
    out.text(&to_json(&r.requires, "requires")?)?;
    let target = r
        .target_properties
        .as_deref()
        .map(|p| to_json(p, "target properties"))
        .transpose()?;
    out.opt_text(target.as_deref())?;
    out.opt_text(r.hook.as_deref())?;
    out.int(signed(r.operation, "resource operation")?);
    out.int(nanos(r.updated_at)?);
    out.end_row();
    Ok(())
}

/// A resource from a row of `resource_columns!()`.
pub fn resource_from_row<R: Row>(row: &R) -> Result<ResourceRecord, StoreError> {
    let mut r = Reader::new(row, "resources");
    let id = r.uint("id")?;
    let stack_id = r.text("stack_id")?;
    let name = r.text("name")?;
    let resource_type = r.text("resource_type")?;
    let physical_id = r.opt_text()?;
    let action = r.text("action")?;
    let status = r.text("status")?;
    let state = codec::state(&action, &status)?;
    let status_reason = r.text("status_reason")?;
    let properties = r.json("properties")?;
    let data = r.json("data")?;
    let metadata = r.opt_json::<serde_json::Value>("metadata")?.map(Box::new);
    let idempotency_token = r.text("idempotency_token")?;
    let replaces = r.opt_int()?.map(|n| unsigned(n, "replaces")).transpose()?;
    let deletion_policy = codec::policy(&r.text("deletion_policy")?)?;
    let requires = r.json("requires")?;
    let target_properties = r.opt_json("target_properties")?.map(Box::new);
    let hook = r.opt_text()?;
    let operation = r.uint("operation")?;
    let updated_at = r.time("updated_at")?;
    Ok(ResourceRecord {
        id,
        stack_id: stack_id.into(),
        name,
        resource_type: resource_type.into(),
        physical_id,
        state,
        status_reason: status_reason.into(),
        properties,
        data,
        metadata,
        idempotency_token,
        replaces,
        deletion_policy,
        requires,
        target_properties,
        hook,
        operation,
        updated_at,
    })
}

// -- events ---------------------------------------------------------------------------------

/// The columns of `events`, in order (a literal, for `concat!`).
macro_rules! event_columns {
    () => {
        "id, stack_id, resource_name, resource_type, physical_id, action, status, reason, at"
    };
}
pub(crate) use event_columns;

/// Appends an event with its assigned id as a JSON array of its column values, in
/// `event_columns!()` order.
pub fn push_event_json(id: i64, e: &EventRecord, out: &mut JsonRows) -> Result<(), StoreError> {
    out.begin_row();
    out.int(id);
    out.text(&e.stack_id)?;
    out.text(&e.resource_name)?;
    out.text(&e.resource_type)?;
    out.opt_text(e.physical_id.as_deref())?;
    out.text(e.state.action.as_str())?;
    out.text(e.state.status.as_str())?;
    out.text(&e.reason)?;
    out.int(nanos(e.at)?);
    out.end_row();
    Ok(())
}

/// An event from a row of `event_columns!()`.
pub fn event_from_row<R: Row>(row: &R) -> Result<EventRecord, StoreError> {
    let mut r = Reader::new(row, "events");
    let id = r.uint("id")?;
    let stack_id = r.text("stack_id")?;
    let resource_name = r.text("resource_name")?;
    let resource_type = r.text("resource_type")?;
    let physical_id = r.opt_text()?;
    let action = r.text("action")?;
    let status = r.text("status")?;
    let reason = r.text("reason")?;
    let at = r.time("at")?;
    Ok(EventRecord {
        id,
        stack_id,
        resource_name,
        resource_type,
        physical_id,
        state: codec::state(&action, &status)?,
        reason,
        at,
    })
}

// -- snapshots ------------------------------------------------------------------------------

/// The column list as a literal, for `concat!`.
macro_rules! snapshot_columns {
    () => {
        "id, stack_id, name, status, status_reason, definition, resources, created_at"
    };
}
pub(crate) use snapshot_columns;

/// A snapshot's values, in `snapshot_columns!()` order.
pub fn snapshot_args(s: &SnapshotRecord) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        s.id.as_str().into(),
        s.stack_id.as_str().into(),
        s.name.as_str().into(),
        s.status.as_str().into(),
        s.status_reason.as_str().into(),
        definition_json(&s.definition)?.into(),
        snapshot_resources_json(&s.resources)?.into(),
        nanos(s.created_at)?.into(),
    ])
}

/// A snapshot from a row of `snapshot_columns!()`.
pub fn snapshot_from_row<R: Row>(row: &R) -> Result<SnapshotRecord, StoreError> {
    let mut r = Reader::new(row, "snapshots");
    let id = r.text("id")?;
    let stack_id = r.text("stack_id")?;
    let name = r.text("name")?;
    let status = codec::status_of(&r.text("status")?)?;
    let status_reason = r.text("status_reason")?;
    let definition = definition(&r.text("definition")?)?;
    let resources = snapshot_resources(&r.text("resources")?)?;
    let created_at = r.time("created_at")?;
    Ok(SnapshotRecord {
        id,
        stack_id,
        name,
        status,
        status_reason,
        definition,
        resources,
        created_at,
    })
}

// -- software configs, deployments, services ------------------------------------------------

/// The column list as a literal, for `concat!`.
macro_rules! config_columns {
    () => {
        "id, project, name, config_group, config, inputs, outputs, options, created_at"
    };
}
pub(crate) use config_columns;

/// A software config's values, in `config_columns!()` order.
pub fn config_args(c: &SoftwareConfig) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        c.id.as_str().into(),
        c.project.as_str().into(),
        c.name.as_str().into(),
        c.group.as_str().into(),
        c.config.as_str().into(),
        to_json(&c.inputs, "inputs")?.into(),
        to_json(&c.outputs, "outputs")?.into(),
        to_json(&c.options, "options")?.into(),
        nanos(c.created_at)?.into(),
    ])
}

/// A software config from a row of `config_columns!()`.
pub fn config_from_row<R: Row>(row: &R) -> Result<SoftwareConfig, StoreError> {
    let mut r = Reader::new(row, "software_configs");
    Ok(SoftwareConfig {
        id: r.text("id")?,
        project: r.text("project")?,
        name: r.text("name")?,
        group: r.text("config_group")?,
        config: r.text("config")?,
        inputs: r.json("inputs")?,
        outputs: r.json("outputs")?,
        options: r.json("options")?,
        created_at: r.time("created_at")?,
    })
}

/// The column list as a literal, for `concat!`.
macro_rules! deployment_columns {
    () => {
        "id, project, config_id, server_id, input_values, \
     output_values, action, status, status_reason, stack_user_project_id, created_at, updated_at"
    };
}
pub(crate) use deployment_columns;

/// A software deployment's values, in `deployment_columns!()` order.
pub fn deployment_args(d: &SoftwareDeployment) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        d.id.as_str().into(),
        d.project.as_str().into(),
        d.config_id.as_str().into(),
        d.server_id.as_str().into(),
        to_json(&d.input_values, "input values")?.into(),
        to_json(&d.output_values, "output values")?.into(),
        d.action.as_str().into(),
        d.status.as_str().into(),
        d.status_reason.as_str().into(),
        d.stack_user_project_id.as_deref().into(),
        nanos(d.created_at)?.into(),
        d.updated_at.map(nanos).transpose()?.into(),
    ])
}

/// A software deployment from a row of `deployment_columns!()`.
pub fn deployment_from_row<R: Row>(row: &R) -> Result<SoftwareDeployment, StoreError> {
    let mut r = Reader::new(row, "software_deployments");
    Ok(SoftwareDeployment {
        id: r.text("id")?,
        project: r.text("project")?,
        config_id: r.text("config_id")?,
        server_id: r.text("server_id")?,
        input_values: r.json("input_values")?,
        output_values: r.json("output_values")?,
        action: r.text("action")?,
        status: r.text("status")?,
        status_reason: r.text("status_reason")?,
        stack_user_project_id: r.opt_text()?,
        created_at: r.time("created_at")?,
        updated_at: r.opt_time("updated_at")?,
    })
}

/// The column list as a literal, for `concat!`.
macro_rules! service_columns {
    () => {
        "id, host, binary_name, topic, report_interval, created_at, updated_at"
    };
}
pub(crate) use service_columns;

/// A service record's values, in `service_columns!()` order.
pub fn service_args(s: &ServiceRecord) -> Result<Vec<Arg>, StoreError> {
    Ok(vec![
        s.id.as_str().into(),
        s.host.as_str().into(),
        s.binary.as_str().into(),
        s.topic.as_str().into(),
        signed(s.report_interval, "report interval")?.into(),
        nanos(s.created_at)?.into(),
        nanos(s.updated_at)?.into(),
    ])
}

/// A service record from a row of `service_columns!()`.
pub fn service_from_row<R: Row>(row: &R) -> Result<ServiceRecord, StoreError> {
    let mut r = Reader::new(row, "services");
    Ok(ServiceRecord {
        id: r.text("id")?,
        host: r.text("host")?,
        binary: r.text("binary_name")?,
        topic: r.text("topic")?,
        report_interval: r.uint("report_interval")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(columns: &str) -> usize {
        columns.split(',').count()
    }

    #[test]
    fn json_rows_have_one_value_per_column() {
        let record = ResourceRecord {
            id: 1,
            stack_id: "s".into(),
            name: "n\"q".into(),
            resource_type: "T".into(),
            physical_id: None,
            state: heat_core::engine::State::INIT,
            status_reason: "".into(),
            properties: serde_json::Map::new(),
            data: Default::default(),
            metadata: None,
            idempotency_token: String::new(),
            replaces: Some(3),
            deletion_policy: heat_core::template::model::DeletionPolicy::Delete,
            requires: vec![1, 2],
            target_properties: None,
            hook: None,
            operation: 2,
            updated_at: std::time::Duration::from_nanos(5),
        };
        let mut rows = JsonRows::new();
        push_resource_json(&record, &mut rows).unwrap();
        push_resource_json(&record, &mut rows).unwrap();
        let parsed: Vec<Vec<serde_json::Value>> =
            serde_json::from_str(&rows.finish().unwrap()).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].len(), count(resource_columns!()));
        assert_eq!(parsed[0][2], serde_json::json!("n\"q"));
        assert_eq!(parsed[0][14], serde_json::json!("[1,2]"));

        let event = EventRecord {
            id: 0,
            stack_id: "s".into(),
            resource_name: "n".into(),
            resource_type: "T".into(),
            physical_id: Some("p".into()),
            state: heat_core::engine::State::INIT,
            reason: "r".into(),
            at: std::time::Duration::ZERO,
        };
        let mut rows = JsonRows::new();
        push_event_json(9, &event, &mut rows).unwrap();
        let parsed: Vec<Vec<serde_json::Value>> =
            serde_json::from_str(&rows.finish().unwrap()).unwrap();
        assert_eq!(parsed[0].len(), count(event_columns!()));

        let mut flat = JsonRows::new();
        flat.push_int(4);
        flat.push_text("a").unwrap();
        assert_eq!(flat.finish().unwrap(), r#"[4,"a"]"#);
    }

    #[test]
    fn stack_columns_qualified_match() {
        let qualified: Vec<String> = stack_columns!()
            .split(',')
            .map(|c| format!("s.{}", c.trim()))
            .collect();
        let given: Vec<&str> = STACK_COLUMNS_S.split(',').map(str::trim).collect();
        assert_eq!(qualified, given);
    }
}
