//! Snapshots, restores, marking resources unhealthy, and resource metadata.

use super::*;

const TWO: &str = "resources:\n  a:\n    type: Test::Counter\n    properties: {value: one}\n  b:\n    type: Test::Counter\n    properties: {value: {get_resource: a}}\n";

#[test]
fn a_snapshot_keeps_each_resources_data_and_the_definition() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!("{HEAD}{TWO}");
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let snapshot = block_on(engine.snapshot_stack(&created.id, "first")).unwrap();
    assert_eq!(snapshot.status, Status::Complete, "{snapshot:?}");
    assert_eq!(snapshot.name, "first");
    assert_eq!(
        snapshot.status_reason,
        "Stack SNAPSHOT completed successfully"
    );
    assert_eq!(&*snapshot.definition.template, t.as_str());
    let records = current(&w, &created.id);
    assert_eq!(
        snapshot.resources.keys().cloned().collect::<Vec<_>>(),
        vec!["a", "b"]
    );
    let a = &snapshot.resources["a"];
    assert_eq!(a.physical_id, records["a"].physical_id);
    assert_eq!(a.data.get("value").map(String::as_str), Some("one"));
    assert_eq!(a.resource_type, "Test::Counter");
    assert_eq!(
        a.properties.get("value"),
        Some(&Value::String("one".into()))
    );
    // The stack and its resources went through SNAPSHOT.
    let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
    assert_eq!(stack.state.to_string(), "SNAPSHOT_COMPLETE");
    assert_eq!(records["b"].state.to_string(), "SNAPSHOT_COMPLETE");
    let stored = block_on(w.store.snapshots(&created.id)).unwrap();
    assert_eq!(stored, vec![snapshot.clone()]);
    assert_eq!(
        block_on(engine.snapshot(&created.id, &snapshot.id)).unwrap(),
        snapshot
    );
    // A stack that has been snapshotted updates as usual.
    let t2 = format!("{HEAD}{}", TWO.replace("value: one", "value: two"));
    let outcome = block_on(engine.update_stack(&created.id, update(&t2))).unwrap();
    assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE", "{outcome:?}");
}

#[test]
fn a_restore_returns_the_stack_to_the_snapshot() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{TWO}")))).unwrap();
    let before = current(&w, &created.id);
    let snapshot = block_on(engine.snapshot_stack(&created.id, "")).unwrap();
    // Change a in place, remove b, add c.
    let t2 = format!(
        "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: two}}\n  c:\n    type: Test::Counter\n"
    );
    let outcome = block_on(engine.update_stack(&created.id, update(&t2))).unwrap();
    assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE", "{outcome:?}");
    let a_id = before["a"].physical_id.clone().unwrap();
    assert_eq!(live_value(&w, &a_id).as_deref(), Some("two"));

    let outcome = block_on(engine.restore_stack(&created.id, &snapshot.id)).unwrap();
    assert_eq!(outcome.state.to_string(), "RESTORE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_eq!(after.keys().cloned().collect::<Vec<_>>(), vec!["a", "b"]);
    // a kept its physical id and was handed its snapshot data; b came back (a new one);
    // c is gone.
    assert_eq!(after["a"].physical_id.as_deref(), Some(a_id.as_str()));
    assert_eq!(live_value(&w, &a_id).as_deref(), Some("one"));
    assert!(
        w.counter
            .live()
            .log
            .iter()
            .any(|e| e.0 == "restore" && e.2 == a_id)
    );
    let b_id = after["b"].physical_id.clone().unwrap();
    assert_ne!(Some(&b_id), before["b"].physical_id.as_ref());
    assert_eq!(live_value(&w, &b_id).as_deref(), Some(a_id.as_str()));
    assert_eq!(w.counter.live_ids().len(), 2, "a and the new b, c deleted");
    let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
    assert_eq!(&*stack.template, format!("{HEAD}{TWO}").as_str());
    assert_eq!(stack.status_reason, "Stack RESTORE completed successfully");
}

#[test]
fn snapshots_that_cannot_be_restored_or_deleted_are_refused() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{TWO}")))).unwrap();
    let err = block_on(engine.restore_stack(&created.id, "nope")).unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
    // A snapshot still being taken (its operation never ran).
    let op = block_on(engine.start_snapshot(&created.id, "half")).unwrap();
    let id = op.snapshot_id().unwrap();
    drop(op);
    let err = block_on(engine.delete_snapshot(&created.id, &id)).unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err:?}");
    let err = block_on(engine.restore_stack(&created.id, &id)).unwrap_err();
    assert!(matches!(err, EngineError::NotAllowed(_)), "{err:?}");
    // The interrupted snapshot is resumed and completes.
    let outcomes = block_on(w.engine().resume_all()).unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].state.to_string(), "SNAPSHOT_COMPLETE");
    let engine = w.engine();
    let snap = block_on(engine.snapshot(&created.id, &id)).unwrap();
    assert_eq!(snap.status, Status::Complete);
    assert_eq!(snap.resources.len(), 2);
    block_on(engine.delete_snapshot(&created.id, &id)).unwrap();
    assert!(block_on(w.store.snapshots(&created.id)).unwrap().is_empty());
    let err = block_on(engine.delete_snapshot(&created.id, &id)).unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}

#[test]
fn a_resource_marked_unhealthy_is_replaced_at_the_next_update() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!("{HEAD}{TWO}");
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let old_a = current(&w, &created.id)["a"].physical_id.clone().unwrap();
    let err = block_on(engine.mark_unhealthy(&created.id, "zz", true, "")).unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
    block_on(engine.mark_unhealthy(&created.id, "a", true, "disk gone")).unwrap();
    let a = &current(&w, &created.id)["a"];
    assert_eq!(a.state.to_string(), "CHECK_FAILED");
    assert_eq!(a.status_reason, "disk gone");
    // Healthy again, then unhealthy again.
    block_on(engine.mark_unhealthy(&created.id, "a", false, "")).unwrap();
    assert_eq!(
        current(&w, &created.id)["a"].state.to_string(),
        "CHECK_COMPLETE"
    );
    // Marking a healthy resource healthy changes nothing.
    block_on(engine.mark_unhealthy(&created.id, "b", false, "")).unwrap();
    assert_eq!(
        current(&w, &created.id)["b"].state.to_string(),
        "CREATE_COMPLETE"
    );
    block_on(engine.mark_unhealthy(&created.id, "a", true, "")).unwrap();
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_ne!(after["a"].physical_id.as_deref(), Some(old_a.as_str()));
    assert!(w.counter.live().deleted.contains(&old_a));
}

#[test]
fn resource_metadata_is_resolved_and_follows_updates() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}parameters:\n  role: {{type: string, default: web}}\nresources:\n  a:\n    type: Test::Counter\n    properties: {{value: one}}\n  b:\n    type: Test::Counter\n    metadata:\n      role: {{get_param: role}}\n      peer: {{get_attr: [a, output]}}\n"
    );
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let records = current(&w, &created.id);
    assert_eq!(records["a"].metadata, None);
    assert_eq!(
        records["b"].metadata.as_deref(),
        Some(&serde_json::json!({"role": "web", "peer": "one"}))
    );
    // A change of metadata alone: recorded, the provider is not asked.
    let updates = w.counter.live().updates;
    let t2 = t.replace("default: web", "default: db");
    let outcome = block_on(engine.update_stack(&created.id, update(&t2))).unwrap();
    assert_eq!(outcome.state.to_string(), "UPDATE_COMPLETE", "{outcome:?}");
    assert_eq!(w.counter.live().updates, updates);
    assert_eq!(
        current(&w, &created.id)["b"].metadata.as_deref(),
        Some(&serde_json::json!({"role": "db", "peer": "one"}))
    );
}

#[test]
fn a_cancelled_create_stops_waiting_for_resources_that_are_not_ready() {
    let mut w = World::new();
    let engine = w.engine();
    // `slow` answers "not yet" 100,000 times (10 s each): only a cancel ends the create.
    let t = format!(
        "{HEAD}resources:\n  slow:\n    type: Test::Counter\n    properties: {{checks: 100000}}\n  after:\n    type: Test::Counter\n    depends_on: slow\n"
    );
    let op = block_on(engine.start_create(request(&t))).unwrap();
    let stack_id = op.stack_id().to_string();
    let canceller = async {
        for _ in 0..5 {
            yield_now().await;
        }
        engine.cancel(&stack_id, false).await
    };
    let (outcome, cancelled) = block_on(futures::future::join(op.run(), canceller));
    cancelled.unwrap();
    let outcome = outcome.unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_FAILED", "{outcome:?}");
    let records = current(&w, &stack_id);
    assert_eq!(records["slow"].state.to_string(), "CREATE_FAILED");
    assert_eq!(records["slow"].status_reason, "CREATE cancelled");
    assert_eq!(records["after"].state.to_string(), "INIT_COMPLETE");
    // Without rollback, what was made stays (and is recorded).
    assert_eq!(w.counter.live_ids().len(), 1);
}
