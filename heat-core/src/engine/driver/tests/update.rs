//! Update, preview, rollback of updates, and the other stack actions.

use super::*;

fn state(outcome: &StackOutcome) -> String {
    outcome.state.to_string()
}

fn events(w: &World, stack_id: &str) -> Vec<EventRecord> {
    block_on(w.store.events(stack_id, None)).unwrap()
}

const AB: &str = "resources:\n  a:\n    type: Test::Counter\n    properties: {value: one, fixed: x}\n  b:\n    type: Test::Counter\n    properties: {value: {get_resource: a}}\n";

#[test]
fn an_update_in_place_keeps_the_physical_resource() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let before = current(&w, &created.id);
    let t = format!("{HEAD}{}", AB.replace("value: one", "value: two"));
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_eq!(after["a"].physical_id, before["a"].physical_id);
    assert_eq!(after["a"].state.to_string(), "UPDATE_COMPLETE");
    assert_eq!(
        after["b"].state.to_string(),
        "CREATE_COMPLETE",
        "b is unchanged"
    );
    let a_id = after["a"].physical_id.clone().unwrap();
    assert_eq!(live_value(&w, &a_id).as_deref(), Some("two"));
    assert_eq!(w.counter.live().updates, 1);
    assert_eq!(w.records(&created.id).len(), 2);
    assert_no_leak(&w, &created.id);
}

#[test]
fn a_replacement_is_created_before_the_old_one_is_deleted_and_dependents_follow() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let old_a = current(&w, &created.id)["a"].physical_id.clone().unwrap();
    let old_b = current(&w, &created.id)["b"].physical_id.clone().unwrap();
    let t = format!("{HEAD}{}", AB.replace("fixed: x", "fixed: y"));
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    let new_a = after["a"].physical_id.clone().unwrap();
    assert_ne!(new_a, old_a);
    // b's value is a's id: it was updated in place to the new id.
    assert_eq!(after["b"].physical_id.as_deref(), Some(old_b.as_str()));
    assert_eq!(live_value(&w, &old_b).as_deref(), Some(new_a.as_str()));
    assert_eq!(after["b"].requires, vec![after["a"].id]);
    let log = w.counter.live().log.clone();
    let pos = |op: &str, id: &str| log.iter().position(|e| e.0 == op && e.2 == id).unwrap();
    assert!(pos("create", &new_a) < pos("update", &old_b));
    assert!(pos("update", &old_b) < pos("delete", &old_a));
    assert_eq!(
        w.records(&created.id).len(),
        2,
        "the old record is cleaned up"
    );
    assert_no_leak(&w, &created.id);
}

#[test]
fn added_removed_and_type_changed_resources() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!(
        "{HEAD}resources:\n  keep:\n    type: Test::Counter\n  gone:\n    type: Test::Counter\n    depends_on: keep\n  morph:\n    type: Test::Counter\n"
    ))))
    .unwrap();
    let gone = current(&w, &created.id)["gone"]
        .physical_id
        .clone()
        .unwrap();
    let t = format!(
        "{HEAD}resources:\n  keep:\n    type: Test::Counter\n  new:\n    type: Test::Counter\n    properties: {{value: fresh}}\n  morph:\n    type: OS::Heat::None\n"
    );
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_eq!(
        after.keys().cloned().collect::<Vec<_>>(),
        vec!["keep", "morph", "new"]
    );
    assert_eq!(&*after["morph"].resource_type, "OS::Heat::None");
    assert!(w.counter.live().deleted.contains(&gone));
    assert_eq!(w.counter.live_ids().len(), 2, "keep and new");
    // The stack's stored template is the new one, and no previous definition is left.
    let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
    assert_eq!(&*stack.template, t.as_str());
    assert!(stack.previous.is_none());
}

#[test]
fn the_preview_says_what_the_update_will_do_and_why() {
    let mut w = World::new();
    let engine = w.engine();
    let t1 = format!(
        "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: one, fixed: x}}\n  b:\n    type: Test::Counter\n    properties: {{value: {{get_resource: a}}}}\n  c:\n    type: Test::Counter\n    properties: {{value: same}}\n  d:\n    type: Test::Counter\n    properties: {{value: old}}\n  gone:\n    type: Test::Counter\n"
    );
    let created = block_on(engine.create_stack(request(&t1))).unwrap();
    let events_before = events(&w, &created.id).len();
    let t2 = format!(
        "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: one, fixed: y}}\n  b:\n    type: Test::Counter\n    properties: {{value: {{get_resource: a}}}}\n  c:\n    type: Test::Counter\n    properties: {{value: same}}\n  d:\n    type: Test::Counter\n    properties: {{value: new}}\n  e:\n    type: Test::Counter\n"
    );
    let plan = block_on(engine.preview_update(&created.id, update(&t2))).unwrap();
    let action = |n: &str| plan.change(n).unwrap().action;
    assert_eq!(action("a"), ChangeAction::Replace);
    assert!(
        plan.change("a")
            .unwrap()
            .cause
            .as_deref()
            .unwrap()
            .contains("fixed"),
        "{plan:?}"
    );
    assert_eq!(plan.change("a").unwrap().properties, vec!["fixed"]);
    assert_eq!(action("b"), ChangeAction::Update);
    assert!(
        plan.change("b")
            .unwrap()
            .cause
            .as_deref()
            .unwrap()
            .contains("uses a"),
        "{plan:?}"
    );
    assert_eq!(action("c"), ChangeAction::Unchanged);
    assert_eq!(action("d"), ChangeAction::Update);
    assert_eq!(plan.change("d").unwrap().properties, vec!["value"]);
    assert_eq!(action("e"), ChangeAction::Add);
    assert_eq!(action("gone"), ChangeAction::Delete);
    assert_eq!(ChangeAction::Replace.heat_key(), "replaced");
    // Nothing happened.
    assert_eq!(events(&w, &created.id).len(), events_before);
    assert_eq!(w.counter.live().updates, 0);
    // The update does what the preview said.
    let outcome = block_on(engine.update_stack(&created.id, update(&t2))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_eq!(after["c"].state.to_string(), "CREATE_COMPLETE");
    assert_eq!(after["d"].state.to_string(), "UPDATE_COMPLETE");
    assert!(!after.contains_key("gone"));
}

#[test]
fn a_failed_update_rolls_back_to_the_previous_template_restoring_replaced_resources() {
    let mut w = World::new();
    let store = w.store.clone();
    let engine = w.engine_on(store, true);
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let before = current(&w, &created.id);
    let old_a = before["a"].physical_id.clone().unwrap();
    let old_b = before["b"].physical_id.clone().unwrap();
    // a is replaced (fixed changes); b, updated to a's new id, fails its update.
    let t = format!(
        "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: one, fixed: y}}\n  b:\n    type: Test::Counter\n    properties: {{value: {{get_resource: a}}, fail_update: true}}\n  extra:\n    type: Test::Counter\n"
    );
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "ROLLBACK_COMPLETE", "{outcome:?}");
    let after = current(&w, &created.id);
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(
        after["a"].physical_id.as_deref(),
        Some(old_a.as_str()),
        "a restored"
    );
    // b failed its update: like any failed resource it is replaced (by one pointing at the
    // restored a).
    let new_b = after["b"].physical_id.clone().unwrap();
    assert_ne!(new_b, old_b);
    assert_eq!(live_value(&w, &new_b).as_deref(), Some(old_a.as_str()));
    assert_eq!(
        w.records(&created.id).len(),
        2,
        "replacement and extra cleaned up"
    );
    assert_no_leak(&w, &created.id);
    let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
    assert!(
        stack.template.contains("fixed: x"),
        "the previous template is back"
    );
    assert!(stack.previous.is_none());
    let names: Vec<String> = events(&w, &created.id)
        .iter()
        .filter(|e| e.resource_name == "s")
        .map(|e| e.state.to_string())
        .collect();
    assert_eq!(
        names,
        vec![
            "CREATE_IN_PROGRESS",
            "CREATE_COMPLETE",
            "UPDATE_IN_PROGRESS",
            "UPDATE_FAILED",
            "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_COMPLETE"
        ]
    );
}

#[test]
fn a_failed_update_without_rollback_stays_failed_and_the_next_update_replaces_the_failed_resource()
{
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let t = format!(
        "{HEAD}{}",
        AB.replace(
            "value: one, fixed: x",
            "value: two, fixed: x, fail_update: true"
        )
    );
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_FAILED", "{outcome:?}");
    assert!(outcome.reason.contains("update boom"), "{outcome:?}");
    let failed = current(&w, &created.id)["a"].clone();
    assert_eq!(failed.state.to_string(), "UPDATE_FAILED");
    // The next update replaces the failed resource.
    let t = format!("{HEAD}{}", AB.replace("value: one", "value: three"));
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let a = current(&w, &created.id)["a"].clone();
    assert_ne!(a.physical_id, failed.physical_id);
    assert_no_leak(&w, &created.id);
}

#[test]
fn a_provider_can_ask_for_replacement() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let old = current(&w, &created.id)["a"].physical_id.clone();
    let t = format!(
        "{HEAD}{}",
        AB.replace(
            "value: one, fixed: x",
            "value: one, fixed: x, replace_on_update: true"
        )
    );
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    assert_ne!(current(&w, &created.id)["a"].physical_id, old);
    assert_no_leak(&w, &created.id);
}

#[test]
fn restricted_actions_immutable_properties_and_immutable_parameters_are_refused() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}parameters:\n  p:\n    type: string\n    default: x\n    immutable: true\nresources:\n  a:\n    type: Test::Counter\n    properties: {{value: one, fixed: x, locked: l1}}\n"
    );
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    // An immutable parameter.
    let mut req = update(&t);
    req.parameters.insert("p".to_string(), "y".to_string());
    match block_on(engine.update_stack(&created.id, req)) {
        Err(EngineError::NotAllowed(m)) => {
            assert!(m.contains("immutable") && m.contains('p'), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // An immutable property.
    let outcome =
        block_on(engine.update_stack(&created.id, update(&t.replace("locked: l1", "locked: l2"))))
            .unwrap();
    assert_eq!(state(&outcome), "UPDATE_FAILED");
    assert!(outcome.reason.contains("locked"), "{outcome:?}");
    // restricted_actions: replace.
    let mut req = update(&t.replace("fixed: x", "fixed: y"));
    req.environments = vec![
        "resource_registry:\n  resources:\n    a:\n      restricted_actions: replace\n".to_string(),
    ];
    let before = w.counter.live_ids();
    let outcome = block_on(engine.update_stack(&created.id, req)).unwrap();
    assert_eq!(state(&outcome), "UPDATE_FAILED");
    assert!(
        outcome.reason.contains("replace is restricted"),
        "{outcome:?}"
    );
    assert_eq!(w.counter.live_ids(), before, "nothing was replaced");
    // restricted_actions: update (on a fresh stack: a failed resource is replaced, not
    // updated).
    let mut req = request(&t);
    req.name = "fresh".to_string();
    let created = block_on(engine.create_stack(req)).unwrap();
    let mut req = update(&t.replace("value: one", "value: two"));
    req.environments = vec![
        "resource_registry:\n  resources:\n    \"*\":\n      restricted_actions: [update]\n"
            .to_string(),
    ];
    let outcome = block_on(engine.update_stack(&created.id, req)).unwrap();
    assert!(
        outcome.reason.contains("update is restricted"),
        "{outcome:?}"
    );
    assert_eq!(w.counter.live().updates, 0);
}

#[test]
fn a_patch_update_reuses_the_stored_template_and_parameters() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}parameters:\n  v: {{type: string}}\n  w: {{type: string, default: dw}}\nresources:\n  a:\n    type: Test::Counter\n    properties:\n      value: {{list_join: ['-', [{{get_param: v}}, {{get_param: w}}]]}}\n"
    );
    let mut req = request(&t);
    req.parameters.insert("v".to_string(), "one".to_string());
    req.parameters.insert("w".to_string(), "ww".to_string());
    let created = block_on(engine.create_stack(req)).unwrap();
    let id = current(&w, &created.id)["a"].physical_id.clone().unwrap();
    assert_eq!(live_value(&w, &id).as_deref(), Some("one-ww"));
    let patch = UpdateRequest {
        existing: true,
        parameters: BTreeMap::from([("v".to_string(), "two".to_string())]),
        clear_parameters: vec!["w".to_string()],
        ..UpdateRequest::default()
    };
    let outcome = block_on(engine.update_stack(&created.id, patch)).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    assert_eq!(live_value(&w, &id).as_deref(), Some("two-dw"));
    // Without `existing`, a template is required.
    match block_on(engine.update_stack(&created.id, UpdateRequest::default())) {
        Err(EngineError::NotAllowed(m)) => assert!(m.contains("template"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_invalid_update_changes_nothing() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let before = events(&w, &created.id).len();
    let bad = format!(
        "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: {{get_resource: nope}}}}\n"
    );
    assert!(matches!(
        block_on(engine.update_stack(&created.id, update(&bad))),
        Err(EngineError::Invalid(_))
    ));
    assert_eq!(events(&w, &created.id).len(), before);
    let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
    assert_eq!(stack.state.to_string(), "CREATE_COMPLETE");
}

#[test]
fn concurrent_operations_on_one_stack_are_refused() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let op = block_on(engine.start_update(&created.id, update(&format!("{HEAD}{AB}")))).unwrap();
    for result in [
        block_on(engine.start_delete(&created.id)).map(|_| ()),
        block_on(engine.start_update(&created.id, update(&format!("{HEAD}{AB}")))).map(|_| ()),
        block_on(engine.start_suspend(&created.id)).map(|_| ()),
    ] {
        match result {
            Err(EngineError::Conflict(m)) => assert!(m.contains("in progress"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    let outcome = block_on(op.run()).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE");
    // Free again.
    assert_eq!(
        state(&block_on(engine.delete_stack(&created.id)).unwrap()),
        "DELETE_COMPLETE"
    );
}

#[test]
fn cancel_update_rolls_back_and_cancel_without_rollback_stops() {
    for rollback in [true, false] {
        let mut w = World::new();
        let engine = w.engine();
        let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
        let t = format!(
            "{HEAD}{}  slow:\n    type: Test::Counter\n    properties: {{checks: 50}}\n  after:\n    type: Test::Counter\n    depends_on: slow\n",
            AB.replace("value: one", "value: two")
        );
        let op = block_on(engine.start_update(&created.id, update(&t))).unwrap();
        let stack_id = created.id.clone();
        let canceller = async {
            // Let the update start, then cancel it.
            for _ in 0..5 {
                yield_now().await;
            }
            engine.cancel(&stack_id, rollback).await
        };
        let (outcome, cancelled) = block_on(futures::future::join(op.run(), canceller));
        cancelled.unwrap();
        let outcome = outcome.unwrap();
        let names: Vec<String> = events(&w, &created.id)
            .iter()
            .filter(|e| e.resource_name == "s")
            .map(|e| format!("{}: {}", e.state, e.reason))
            .collect();
        if rollback {
            assert_eq!(state(&outcome), "ROLLBACK_COMPLETE", "{names:?}");
            let after = current(&w, &created.id);
            assert_eq!(after.len(), 2, "slow was removed again");
            let a = after["a"].physical_id.clone().unwrap();
            assert_eq!(live_value(&w, &a).as_deref(), Some("one"));
        } else {
            assert_eq!(state(&outcome), "UPDATE_FAILED", "{names:?}");
            assert!(outcome.reason.contains("cancelled"), "{outcome:?}");
            assert!(!current(&w, &created.id).contains_key("after"));
        }
        assert_no_leak(&w, &created.id);
    }
    // Nothing to cancel.
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    assert!(matches!(
        block_on(engine.cancel(&created.id, true)),
        Err(EngineError::NotAllowed(_))
    ));
}

#[test]
fn suspend_goes_dependents_first_and_resume_dependencies_first() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let recs = current(&w, &created.id);
    let (a, b) = (
        recs["a"].physical_id.clone().unwrap(),
        recs["b"].physical_id.clone().unwrap(),
    );
    let outcome = block_on(engine.suspend_stack(&created.id)).unwrap();
    assert_eq!(state(&outcome), "SUSPEND_COMPLETE");
    assert_eq!(w.counter.live().suspended, vec![b.clone(), a.clone()]);
    assert!(matches!(
        block_on(engine.suspend_stack(&created.id)),
        Err(EngineError::NotAllowed(_))
    ));
    assert!(matches!(
        block_on(engine.update_stack(&created.id, update(&format!("{HEAD}{AB}")))),
        Err(EngineError::NotAllowed(m)) if m.contains("suspended")
    ));
    let outcome = block_on(engine.resume_stack(&created.id)).unwrap();
    assert_eq!(state(&outcome), "RESUME_COMPLETE");
    assert_eq!(w.counter.live().resumed, vec![a, b]);
    for r in current(&w, &created.id).values() {
        assert_eq!(r.state.to_string(), "RESUME_COMPLETE");
    }
    assert!(matches!(
        block_on(engine.resume_stack(&created.id)),
        Err(EngineError::NotAllowed(_))
    ));
}

#[test]
fn a_failed_check_marks_the_resource_for_replacement() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!(
        "{HEAD}{AB}  n:\n    type: OS::Heat::None\n"
    ))))
    .unwrap();
    let outcome = block_on(engine.check_stack(&created.id)).unwrap();
    assert_eq!(state(&outcome), "CHECK_COMPLETE", "{outcome:?}");
    let recs = current(&w, &created.id);
    assert_eq!(recs["n"].state.to_string(), "CHECK_COMPLETE");
    // Someone deletes a behind our back: the check finds out, and checks everything.
    let a = recs["a"].physical_id.clone().unwrap();
    w.counter.live().by_token.retain(|_, v| v.1 != a);
    let outcome = block_on(engine.check_stack(&created.id)).unwrap();
    assert_eq!(state(&outcome), "CHECK_FAILED", "{outcome:?}");
    let recs = current(&w, &created.id);
    assert_eq!(recs["a"].state.to_string(), "CHECK_FAILED");
    assert_eq!(recs["b"].state.to_string(), "CHECK_COMPLETE");
    // The next update (same template) replaces it.
    let outcome = block_on(engine.update_stack(
        &created.id,
        update(&format!("{HEAD}{AB}  n:\n    type: OS::Heat::None\n")),
    ))
    .unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let recs = current(&w, &created.id);
    assert_ne!(recs["a"].physical_id.as_deref(), Some(a.as_str()));
    let counters: BTreeSet<String> = current(&w, &created.id)
        .values()
        .filter(|r| &*r.resource_type == "Test::Counter")
        .filter_map(|r| r.physical_id.clone())
        .collect();
    assert_eq!(w.counter.live_ids(), counters);
}

#[test]
fn a_pre_create_hook_pauses_until_signalled() {
    let mut w = World::new();
    let engine = w.engine();
    let mut req = request(&format!("{HEAD}{AB}"));
    req.environments = vec![
        "resource_registry:\n  resources:\n    b:\n      hooks: [pre-create, post-create]\n"
            .to_string(),
    ];
    let op = block_on(engine.start_create(req)).unwrap();
    let stack_id = op.stack_id().to_string();
    let store = w.store.clone();
    let signaller = async {
        let mut cleared = Vec::new();
        while cleared.len() < 2 {
            yield_now().await;
            let records = store.resources(&stack_id).await.unwrap();
            let Some(b) = records.iter().find(|r| r.name == "b") else {
                continue;
            };
            if let Some(hook) = b.hook.clone() {
                // a is complete before b pauses at pre-create; nothing is created for b yet.
                if hook == "pre-create" {
                    assert!(b.physical_id.is_none());
                }
                // A wrong hook is refused.
                let wrong = engine
                    .signal(
                        &stack_id,
                        "b",
                        &serde_json::json!({"unset_hook": "pre-delete"}),
                    )
                    .await;
                assert!(
                    matches!(wrong, Err(EngineError::NotAllowed(_))),
                    "{wrong:?}"
                );
                engine
                    .signal(&stack_id, "b", &serde_json::json!({"unset_hook": hook}))
                    .await
                    .unwrap();
                cleared.push(hook);
            }
        }
        cleared
    };
    let (outcome, cleared) = block_on(futures::future::join(op.run(), signaller));
    assert_eq!(state(&outcome.unwrap()), "CREATE_COMPLETE");
    assert_eq!(cleared, vec!["pre-create", "post-create"]);
    let reasons: Vec<String> = events(&w, &stack_id)
        .iter()
        .filter(|e| e.resource_name == "b")
        .map(|e| format!("{} {}", e.state, e.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            "CREATE_IN_PROGRESS paused until Hook pre-create is cleared",
            "CREATE_IN_PROGRESS Hook pre-create is cleared",
            "CREATE_IN_PROGRESS state changed",
            "CREATE_IN_PROGRESS paused until Hook post-create is cleared",
            "CREATE_IN_PROGRESS Hook post-create is cleared",
            "CREATE_COMPLETE state changed",
        ]
    );
}

#[test]
fn abandon_keeps_the_resources_and_adopt_takes_them_back() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!("{HEAD}{AB}");
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let live_before = w.counter.live_ids();
    let data = block_on(engine.abandon_stack(&created.id)).unwrap();
    assert_eq!(data["name"], "s");
    assert_eq!(data["resources"]["a"]["type"], "Test::Counter");
    assert!(
        block_on(w.store.stack(&created.id))
            .unwrap()
            .unwrap()
            .deleted
    );
    assert_eq!(w.counter.live_ids(), live_before, "nothing deleted");
    let creates = w.counter.live().creates;
    let mut req = request(&t);
    req.name = "adopted".to_string();
    let outcome = block_on(engine.adopt_stack(req, &data)).unwrap();
    assert_eq!(state(&outcome), "ADOPT_COMPLETE", "{outcome:?}");
    assert_eq!(w.counter.live().creates, creates, "nothing created");
    assert_eq!(w.recorded_ids(&outcome.id), live_before);
    for r in current(&w, &outcome.id).values() {
        assert_eq!(r.state.to_string(), "ADOPT_COMPLETE");
    }
    // Adopted resources are managed: deleting the stack deletes them.
    block_on(engine.delete_stack(&outcome.id)).unwrap();
    assert!(w.counter.live_ids().is_empty());
    // Adopt data without a resource fails that resource.
    let mut req = request(&t);
    req.name = "partial".to_string();
    let partial = serde_json::json!({"resources": {"a": {"resource_id": "a-1"}}});
    let outcome = block_on(engine.adopt_stack(req, &partial)).unwrap();
    assert_eq!(state(&outcome), "ADOPT_FAILED");
    assert!(
        outcome.reason.contains("Resource ID was not provided"),
        "{outcome:?}"
    );
    assert!(matches!(
        block_on(engine.adopt_stack(request(&t), &serde_json::json!([]))),
        Err(EngineError::NotAllowed(_))
    ));
}

#[test]
fn an_external_id_is_adopted_and_retained() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}resources:\n  ext:\n    type: Test::Counter\n    external_id: outside-1\n  user:\n    type: Test::Counter\n    properties: {{value: {{get_resource: ext}}}}\n"
    );
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(state(&created), "CREATE_COMPLETE", "{created:?}");
    let recs = current(&w, &created.id);
    assert_eq!(recs["ext"].physical_id.as_deref(), Some("outside-1"));
    assert_eq!(recs["ext"].state.to_string(), "ADOPT_COMPLETE");
    let user = recs["user"].physical_id.clone().unwrap();
    assert_eq!(live_value(&w, &user).as_deref(), Some("outside-1"));
    assert_eq!(w.counter.live().created, vec!["user"]);
    // Changing the external id is refused.
    let outcome =
        block_on(engine.update_stack(&created.id, update(&t.replace("outside-1", "outside-2"))))
            .unwrap();
    assert_eq!(state(&outcome), "UPDATE_FAILED");
    assert!(outcome.reason.contains("external_id"), "{outcome:?}");
    // Delete keeps it (it was never ours).
    let deleted = block_on(engine.delete_stack(&created.id)).unwrap();
    assert_eq!(state(&deleted), "DELETE_COMPLETE");
    assert!(w.counter.live().deleted.iter().all(|d| d != "outside-1"));
}

#[test]
fn signals_reach_providers_or_are_refused_clearly() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    match block_on(engine.signal(&created.id, "a", &serde_json::json!({"x": 1}))) {
        Err(EngineError::NotAllowed(m)) => assert!(m.contains("does not support signals"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        block_on(engine.signal(&created.id, "nope", &serde_json::json!({}))),
        Err(EngineError::NotFound(_))
    ));
}

#[test]
fn an_update_resumes_after_a_crash_without_duplicates() {
    for crash_at in 0..8 {
        let mut w = World::new();
        let engine = w.engine();
        let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
        let t = format!(
            "{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{value: one, fixed: y, checks: 2}}\n  b:\n    type: Test::Counter\n    properties: {{value: {{get_resource: a}}}}\n  c:\n    type: Test::Counter\n    properties: {{value: new, checks: 1}}\n"
        );
        let crashing: Arc<dyn Store> = Arc::new(CrashStore {
            inner: w.store.clone(),
            allowed: AtomicU64::new(crash_at),
        });
        let first = w.engine_on(crashing, false);
        let _ = block_on(first.update_stack(&created.id, update(&t)));
        drop(first);
        let second = w.engine();
        block_on(second.resume_all()).unwrap();
        let stack = block_on(w.store.stack(&created.id)).unwrap().unwrap();
        if stack.state.to_string() == "CREATE_COMPLETE" {
            // The crash came before the update's first batch.
            let outcome = block_on(second.update_stack(&created.id, update(&t))).unwrap();
            assert_eq!(state(&outcome), "UPDATE_COMPLETE");
        } else {
            assert_eq!(
                stack.state.to_string(),
                "UPDATE_COMPLETE",
                "crash at {crash_at}"
            );
        }
        let recs = current(&w, &created.id);
        assert_eq!(recs.len(), 3);
        assert_eq!(w.records(&created.id).len(), 3, "crash at {crash_at}");
        assert_no_leak(&w, &created.id);
        let a = recs["a"].physical_id.clone().unwrap();
        let b = recs["b"].physical_id.clone().unwrap();
        assert_eq!(live_value(&w, &b).as_deref(), Some(a.as_str()));
    }
}

#[test]
fn outputs_follow_the_update() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!("{HEAD}{AB}outputs:\n  v: {{value: {{get_attr: [a, output]}}}}\n");
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let out = block_on(engine.outputs(&created.id)).unwrap();
    assert_eq!(out[0].value, Some(Value::String("one".to_string())));
    block_on(engine.update_stack(&created.id, update(&t.replace("value: one", "value: two"))))
        .unwrap();
    let out = block_on(engine.outputs(&created.id)).unwrap();
    assert_eq!(out[0].value, Some(Value::String("two".to_string())));
    let _ = (Action::Update, Status::Complete);
}

fn wait_template(count: u32, timeout: u32) -> String {
    format!(
        "{HEAD}resources:\n  handle:\n    type: OS::Heat::WaitConditionHandle\n  wait:\n    type: OS::Heat::WaitCondition\n    properties:\n      handle: {{get_resource: handle}}\n      count: {count}\n      timeout: {timeout}\n  after:\n    type: Test::Counter\n    depends_on: wait\noutputs:\n  data: {{value: {{get_attr: [wait, data]}}}}\n"
    )
}

#[test]
fn a_wait_condition_completes_when_its_handle_is_signalled_enough() {
    let mut w = World::new();
    let engine = w.engine();
    let op = block_on(engine.start_create(request(&wait_template(2, 600)))).unwrap();
    let stack_id = op.stack_id().to_string();
    let store = w.store.clone();
    let signaller = async {
        let mut sent = 0;
        while sent < 2 {
            yield_now().await;
            let records = store.resources(&stack_id).await.unwrap();
            let ready = records
                .iter()
                .any(|r| r.name == "handle" && r.state.to_string() == "CREATE_COMPLETE");
            if ready {
                sent += 1;
                engine
                    .signal(
                        &stack_id,
                        "handle",
                        &serde_json::json!({"status": "SUCCESS", "id": format!("n{sent}"), "data": format!("d{sent}")}),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    let (outcome, ()) = block_on(futures::future::join(op.run(), signaller));
    let outcome = outcome.unwrap();
    assert_eq!(state(&outcome), "CREATE_COMPLETE", "{outcome:?}");
    let out = block_on(engine.outputs(&stack_id)).unwrap();
    let data: Value =
        serde_json::from_str(out[0].value.as_ref().unwrap().as_str().unwrap()).unwrap();
    assert_eq!(data, serde_json::json!({"n1": "d1", "n2": "d2"}));
    let signals: Vec<String> = events(&w, &stack_id)
        .iter()
        .filter(|e| e.resource_name == "handle" && e.state.action == Action::Signal)
        .map(|e| e.reason.clone())
        .collect();
    assert_eq!(signals.len(), 2, "{signals:?}");
    // `after` waited for the wait condition.
    assert_eq!(w.counter.live().created, vec!["after"]);
}

#[test]
fn a_wait_condition_fails_on_a_failure_signal_or_its_timeout() {
    // Timeout (virtual time): nothing signals.
    let mut w = World::new();
    let engine = w.engine();
    let outcome = block_on(engine.create_stack(request(&wait_template(1, 30)))).unwrap();
    assert_eq!(state(&outcome), "CREATE_FAILED", "{outcome:?}");
    assert!(
        outcome.reason.contains("WaitConditionTimeout"),
        "{outcome:?}"
    );
    assert!(w.counter.live().created.is_empty());
    // FAILURE.
    let mut w = World::new();
    let engine = w.engine();
    let op = block_on(engine.start_create(request(&wait_template(1, 600)))).unwrap();
    let stack_id = op.stack_id().to_string();
    let store = w.store.clone();
    let signaller = async {
        loop {
            yield_now().await;
            let records = store.resources(&stack_id).await.unwrap();
            if records
                .iter()
                .any(|r| r.name == "handle" && r.physical_id.is_some())
            {
                engine
                    .signal(
                        &stack_id,
                        "handle",
                        &serde_json::json!({"status": "FAILURE", "reason": "disk full"}),
                    )
                    .await
                    .unwrap();
                break;
            }
        }
    };
    let (outcome, ()) = block_on(futures::future::join(op.run(), signaller));
    let outcome = outcome.unwrap();
    assert_eq!(state(&outcome), "CREATE_FAILED", "{outcome:?}");
    assert!(outcome.reason.contains("disk full"), "{outcome:?}");
    // A malformed signal is refused with the provider's message.
    let bad = block_on(engine.signal(&stack_id, "handle", &serde_json::json!({"status": "MAYBE"})));
    assert!(matches!(bad, Err(EngineError::NotAllowed(_))), "{bad:?}");
}

#[test]
fn retryable_errors_are_retried_with_backoff_up_to_the_limit() {
    // Two retryable failures: the default limit (2) absorbs them, with 1 s then 2 s waits.
    let mut w = World::new();
    let engine = w.engine();
    let start = w.clock.now();
    let t =
        format!("{HEAD}resources:\n  a:\n    type: Test::Counter\n    properties: {{flaky: 2}}\n");
    let outcome = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(state(&outcome), "CREATE_COMPLETE", "{outcome:?}");
    assert_eq!(w.counter.live().flaky["a"], 3);
    assert!(w.clock.now() >= start + Duration::from_secs(3));
    // Three: the third failure is final, and says it was retryable.
    let mut w = World::new();
    let engine = w.engine();
    let outcome =
        block_on(engine.create_stack(request(&t.replace("flaky: 2", "flaky: 3")))).unwrap();
    assert_eq!(state(&outcome), "CREATE_FAILED", "{outcome:?}");
    assert!(outcome.reason.contains("busy (3)"), "{outcome:?}");
    assert_eq!(w.counter.live().flaky["a"], 3);
}

#[test]
fn an_undeclared_property_of_an_open_schema_is_updated_in_place() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}{AB}  c:\n    type: Test::Counter\n    properties: {{extra: {{get_resource: a}}}}\n"
    );
    let created = block_on(engine.create_stack(request(&t))).unwrap();
    let c_before = current(&w, &created.id)["c"].clone();
    // a is replaced: c's undeclared `extra` now names the new a, an in-place update.
    let outcome =
        block_on(engine.update_stack(&created.id, update(&t.replace("fixed: x", "fixed: y"))))
            .unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let recs = current(&w, &created.id);
    assert_eq!(recs["c"].physical_id, c_before.physical_id);
    assert_eq!(recs["c"].state.to_string(), "UPDATE_COMPLETE");
    assert_eq!(
        recs["c"].properties.get("extra").and_then(Value::as_str),
        recs["a"].physical_id.as_deref()
    );
}

#[test]
fn after_the_clean_up_no_record_replaces_a_deleted_one() {
    let mut w = World::new();
    let engine = w.engine();
    let created = block_on(engine.create_stack(request(&format!("{HEAD}{AB}")))).unwrap();
    let t = format!("{HEAD}{}", AB.replace("fixed: x", "fixed: y"));
    let outcome = block_on(engine.update_stack(&created.id, update(&t))).unwrap();
    assert_eq!(state(&outcome), "UPDATE_COMPLETE", "{outcome:?}");
    let records = w.records(&created.id);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.replaces.is_none()), "{records:?}");
}
