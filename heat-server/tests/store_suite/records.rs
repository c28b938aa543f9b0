//! Records for the cases: plain ones, and ones with every field set.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::store::{
    Change, EventRecord, ResourceRecord, SnapshotRecord, SnapshotResource, StackDefinition,
    StackRecord,
};
use heat_core::engine::{Action, ResourceData, State, Status};
use heat_core::template::model::DeletionPolicy;
use serde_json::json;

/// A live stack of project `p1`.
pub fn stack(id: &str, name: &str) -> StackRecord {
    StackRecord {
        id: id.into(),
        name: name.into(),
        project: "p1".into(),
        user: "u1".into(),
        parent: None,
        description: String::new(),
        template: "heat_template_version: 2018-08-31\n".into(),
        files: BTreeMap::new(),
        environments: Vec::new(),
        parameters: BTreeMap::new(),
        state: State::new(Action::Create, Status::InProgress),
        status_reason: "Stack CREATE started".into(),
        disable_rollback: true,
        timeout_mins: 60,
        tags: Vec::new(),
        created_at: Duration::ZERO,
        updated_at: Duration::ZERO,
        deleted: false,
        deleted_at: None,
        previous: None,
        operation: 0,
    }
}

/// A stack with every field set (and text that needs care: quotes, newlines, non-ASCII).
pub fn full_stack(id: &str, name: &str) -> StackRecord {
    let mut s = stack(id, name);
    s.project = "tenant-ü".into();
    s.user = "O'Brien".into();
    s.parent = Some("parent-stack".into());
    s.description = "line 1\nline 2 — \"quoted\"".into();
    s.template = "heat_template_version: 2018-08-31\nresources: {}\n# ✓\n".into();
    s.files = BTreeMap::from([
        ("a.yaml".to_string(), "x: 1\n".to_string()),
        ("b/c.sh".to_string(), "#!/bin/sh\necho '$1'\n".to_string()),
    ]);
    s.environments = vec![
        "parameters: {a: 1}\n".into(),
        "resource_registry: {}\n".into(),
    ];
    s.parameters = BTreeMap::from([("a".to_string(), "1".to_string())]);
    s.state = State::new(Action::Update, Status::Failed);
    s.status_reason = "Resource UPDATE failed: boom".into();
    s.disable_rollback = false;
    s.timeout_mins = 17;
    s.tags = vec!["z".into(), "a".into(), "z".into()];
    s.created_at = Duration::new(12, 345_678_901);
    s.updated_at = Duration::new(99, 1);
    s.deleted = true;
    s.deleted_at = Some(Duration::new(100, 999_999_999));
    s.previous = Some(StackDefinition {
        template: "heat_template_version: 2015-04-30\n".into(),
        files: BTreeMap::from([("f".to_string(), "g".to_string())]),
        environments: vec!["{}".into()],
        parameters: BTreeMap::from([("p".to_string(), "q".to_string())]),
    });
    s.operation = 7;
    s
}

/// A resource in `INIT_COMPLETE` with nothing special.
pub fn resource(id: u64, stack_id: &str, name: &str) -> ResourceRecord {
    ResourceRecord {
        id,
        stack_id: stack_id.into(),
        name: name.into(),
        resource_type: "OS::Heat::None".into(),
        physical_id: None,
        state: State::INIT,
        status_reason: "".into(),
        properties: serde_json::Map::new(),
        data: ResourceData::new(),
        metadata: None,
        idempotency_token: format!("{stack_id}-{name}-1"),
        replaces: None,
        deletion_policy: DeletionPolicy::Delete,
        requires: Vec::new(),
        target_properties: None,
        hook: None,
        operation: 0,
        updated_at: Duration::ZERO,
    }
}

/// A resource with every field set, properties with nested JSON in a deliberate key order.
pub fn full_resource(id: u64, stack_id: &str, name: &str) -> ResourceRecord {
    let mut r = resource(id, stack_id, name);
    r.resource_type = "OS::Nova::Server".into();
    r.physical_id = Some("7f0c1b4e-phys".into());
    r.state = State::new(Action::Update, Status::InProgress);
    r.status_reason = "state changed".into();
    let properties = json!({
        "zeta": 1,
        "alpha": {"nested": [1, 2.5, -3, null, true, "x"], "deep": {"k": {"v": []}}},
        "name": "O'Brien \"quoted\" ü ✓\n",
        "big": 9_007_199_254_740_993_u64,
        "neg": -42,
        "float": 0.1,
        "floats": [1.947_700_395_895_161_8e-169, -1.490_143_767_845_386_2e129, 0.300_000_000_000_000_04],
        "empty": {},
    });
    r.properties = properties.as_object().cloned().unwrap_or_default();
    r.data = BTreeMap::from([
        ("value".to_string(), "secret\nmulti".to_string()),
        ("b".to_string(), String::new()),
    ]);
    r.metadata = Some(Box::new(
        json!({"AWS::CloudFormation::Init": {"config": {}}, "n": 1}),
    ));
    r.idempotency_token = "s1-web-3".into();
    r.replaces = Some(id.saturating_sub(1).max(1));
    r.deletion_policy = DeletionPolicy::Retain;
    r.requires = vec![3, 1, 2];
    let target = json!({"flavor": "m1.large", "zeta": [1, {"a": null}]});
    r.target_properties = Some(Box::new(target.as_object().cloned().unwrap_or_default()));
    r.hook = Some("pre-update".into());
    r.operation = u64::from(u32::MAX) + 5;
    r.updated_at = Duration::new(1_700_000_000, 123_456_789);
    r
}

/// An event (its id is assigned by the store).
pub fn event(stack_id: &str, name: &str, state: State, reason: &str) -> EventRecord {
    EventRecord {
        id: 0,
        stack_id: stack_id.into(),
        resource_name: name.into(),
        resource_type: "OS::Heat::None".into(),
        physical_id: Some(format!("{name}-phys")),
        state,
        reason: reason.into(),
        at: Duration::from_millis(1500),
    }
}

/// A snapshot of a stack with one resource.
pub fn snapshot(id: &str, stack_id: &str, at_secs: u64) -> SnapshotRecord {
    let properties = json!({"b": 1, "a": {"x": [true]}});
    SnapshotRecord {
        id: id.into(),
        stack_id: stack_id.into(),
        name: format!("snap {id}"),
        status: Status::Complete,
        status_reason: "Stack SNAPSHOT completed successfully".into(),
        definition: StackDefinition {
            template: "heat_template_version: 2018-08-31\n".into(),
            files: BTreeMap::from([("f".to_string(), "g".to_string())]),
            environments: vec!["{}".into()],
            parameters: BTreeMap::from([("p".to_string(), "q".to_string())]),
        },
        resources: BTreeMap::from([(
            "server".to_string(),
            SnapshotResource {
                resource_type: "OS::Nova::Server".into(),
                physical_id: Some("phys-1".into()),
                properties: properties.as_object().cloned().unwrap_or_default(),
                data: BTreeMap::from([("image".to_string(), "img-1".to_string())]),
            },
        )]),
        created_at: Duration::new(at_secs, 5),
    }
}

/// `Change::PutStack`.
pub fn put_stack(s: StackRecord) -> Change {
    Change::PutStack(Box::new(s))
}

/// `Change::PutResource`.
pub fn put_resource(r: ResourceRecord) -> Change {
    Change::PutResource(Arc::new(r))
}

/// `Change::AddEvent`.
pub fn add_event(e: EventRecord) -> Change {
    Change::AddEvent(Box::new(e))
}
