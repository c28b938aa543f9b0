//! The engine-facing cases: batches, names, soft delete, resources, events, ids,
//! snapshots, round trips and durability. Each takes the database it runs on.

use std::collections::BTreeSet;
use std::time::Duration;

use heat_core::engine::store::{Change, EventRecord, MemoryStore, Store, StoreError};
use heat_core::engine::{Action, State, Status};

use super::harness::Database;
use super::records::*;

/// A failing batch changes nothing, whichever change fails; the first problem of a batch
/// is the one reported.
pub async fn batches_are_all_or_nothing(db: &dyn Database) {
    let store = db.open().await;
    store
        .apply(vec![put_stack(stack("s1", "web"))])
        .await
        .unwrap();
    let running = State::new(Action::Create, Status::InProgress);

    // A duplicate live name after other changes: none of them lands.
    let err = store
        .apply(vec![
            put_resource(resource(5, "s1", "x")),
            add_event(event("s1", "x", running, "started")),
            put_stack(stack("s2", "web")),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::DuplicateStackName("web".into()));
    assert!(store.resources("s1").await.unwrap().is_empty());
    assert!(store.events("s1", None).await.unwrap().is_empty());
    assert!(store.stack("s2").await.unwrap().is_none());

    // A resource of an unknown stack, after a new stack: neither lands.
    let err = store
        .apply(vec![
            put_stack(stack("s3", "api")),
            put_resource(resource(6, "nope", "x")),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Missing(ref m) if m.contains("nope")),
        "{err:?}"
    );
    assert!(store.stack("s3").await.unwrap().is_none());
    assert!(store.stack_by_name("p1", "api").await.unwrap().is_none());

    // Both problems: the earlier one is reported (as MemoryStore does).
    let err = store
        .apply(vec![
            put_resource(resource(7, "nope", "x")),
            put_stack(stack("s4", "web")),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing(_)), "{err:?}");
    let err = store
        .apply(vec![
            put_stack(stack("s4", "web")),
            put_resource(resource(7, "nope", "x")),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::DuplicateStackName("web".into()));

    // A snapshot of an unknown stack.
    let err = store
        .apply(vec![Change::PutSnapshot(Box::new(snapshot(
            "sn", "nope", 1,
        )))])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing(_)), "{err:?}");

    // A resource whose stack comes later in the same batch is fine; an empty batch too.
    store
        .apply(vec![
            put_resource(resource(10, "s6", "a")),
            put_stack(stack("s6", "db")),
        ])
        .await
        .unwrap();
    assert_eq!(store.resources("s6").await.unwrap().len(), 1);
    store.apply(Vec::new()).await.unwrap();

    // The state after all this is exactly the successful batches'.
    let names: Vec<String> = store
        .stacks(true)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["web", "db"]);
}

/// Names are unique among a project's live stacks only.
pub async fn names_are_unique_per_project(db: &dyn Database) {
    let store = db.open().await;
    let mut other = stack("s2", "web");
    other.project = "p2".into();
    store
        .apply(vec![put_stack(stack("s1", "web")), put_stack(other)])
        .await
        .unwrap();
    assert_eq!(
        store.stack_by_name("p1", "web").await.unwrap().unwrap().id,
        "s1"
    );
    assert_eq!(
        store.stack_by_name("p2", "web").await.unwrap().unwrap().id,
        "s2"
    );
    assert!(store.stack_by_name("p3", "web").await.unwrap().is_none());
    assert_eq!(
        store.apply(vec![put_stack(stack("s3", "web"))]).await,
        Err(StoreError::DuplicateStackName("web".into()))
    );
    // Two new stacks with one name in one batch.
    assert_eq!(
        store
            .apply(vec![
                put_stack(stack("s4", "x")),
                put_stack(stack("s5", "x"))
            ])
            .await,
        Err(StoreError::DuplicateStackName("x".into()))
    );
    // A stack may be put again under its own name (an update of its record).
    let mut again = stack("s1", "web");
    again.state = State::new(Action::Create, Status::Complete);
    store.apply(vec![put_stack(again)]).await.unwrap();
    assert_eq!(
        store.stack("s1").await.unwrap().unwrap().state,
        State::new(Action::Create, Status::Complete)
    );
    // Names are case-sensitive.
    store
        .apply(vec![put_stack(stack("s6", "WEB"))])
        .await
        .unwrap();
}

/// A soft delete frees the name, keeps the record, and hides it unless asked.
pub async fn soft_delete_frees_the_name(db: &dyn Database) {
    let store = db.open().await;
    let mut old = stack("s1", "web");
    old.created_at = Duration::from_secs(1);
    store.apply(vec![put_stack(old.clone())]).await.unwrap();
    old.deleted = true;
    old.deleted_at = Some(Duration::from_secs(9));
    old.state = State::new(Action::Delete, Status::Complete);
    let mut new = stack("s2", "web");
    new.created_at = Duration::from_secs(2);
    // Delete first, then the new stack: fine in one batch.
    store
        .apply(vec![put_stack(old.clone()), put_stack(new.clone())])
        .await
        .unwrap();
    let live: Vec<String> = store
        .stacks(false)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let all: Vec<String> = store
        .stacks(true)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, ["s2"]);
    assert_eq!(all, ["s1", "s2"]);
    assert_eq!(
        store.stack_by_name("p1", "web").await.unwrap().unwrap().id,
        "s2"
    );
    assert_eq!(store.stack("s1").await.unwrap().unwrap(), old);

    // The other order in one batch is refused (names are checked in batch order).
    let mut gone = new.clone();
    gone.deleted = true;
    assert_eq!(
        store
            .apply(vec![put_stack(stack("s3", "web")), put_stack(gone)])
            .await,
        Err(StoreError::DuplicateStackName("web".into()))
    );
    // Undeleting a stack whose name was taken meanwhile is refused too.
    let mut undelete = old.clone();
    undelete.deleted = false;
    assert_eq!(
        store.apply(vec![put_stack(undelete)]).await,
        Err(StoreError::DuplicateStackName("web".into()))
    );
    // Deleted stacks may share a name.
    let mut second = new.clone();
    second.deleted = true;
    store.apply(vec![put_stack(second)]).await.unwrap();
    assert!(store.stack_by_name("p1", "web").await.unwrap().is_none());
    assert_eq!(store.stacks(true).await.unwrap().len(), 2);
}

/// Puts and removes of resources: the last change of an id in a batch wins; reads are by id
/// order; a large batch lands whole.
pub async fn resources_follow_the_last_change(db: &dyn Database) {
    let store = db.open().await;
    store
        .apply(vec![put_stack(stack("s1", "web"))])
        .await
        .unwrap();
    let mut r3b = resource(3, "s1", "c");
    r3b.physical_id = Some("second".into());
    store
        .apply(vec![
            put_resource(resource(1, "s1", "a")),
            Change::RemoveResource { id: 1 },
            Change::RemoveResource { id: 2 },
            put_resource(resource(2, "s1", "b")),
            put_resource(resource(3, "s1", "c")),
            put_resource(r3b.clone()),
            Change::RemoveResource { id: 999 },
        ])
        .await
        .unwrap();
    let got = store.resources("s1").await.unwrap();
    assert_eq!(
        got.iter().map(|r| r.id).collect::<Vec<_>>(),
        [2, 3],
        "{got:?}"
    );
    assert_eq!(*got[1], r3b);

    // 600 resources in one batch (several multi-row statements), then half removed.
    let many: Vec<Change> = (100..700)
        .rev()
        .map(|i| put_resource(resource(i, "s1", &format!("r{i}"))))
        .collect();
    store.apply(many).await.unwrap();
    let got = store.resources("s1").await.unwrap();
    assert_eq!(got.len(), 602);
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));
    let removes: Vec<Change> = (100..700)
        .filter(|i| i % 2 == 0)
        .map(|id| Change::RemoveResource { id })
        .collect();
    store.apply(removes).await.unwrap();
    let got = store.resources("s1").await.unwrap();
    assert_eq!(got.len(), 302);
    assert!(got.iter().all(|r| r.id < 100 || r.id % 2 == 1));
    // Another stack's resources are not listed.
    store
        .apply(vec![
            put_stack(stack("s2", "db")),
            put_resource(resource(5000, "s2", "x")),
        ])
        .await
        .unwrap();
    assert_eq!(store.resources("s2").await.unwrap().len(), 1);
    assert_eq!(store.resources("s1").await.unwrap().len(), 302);
    assert!(store.resources("nope").await.unwrap().is_empty());
}

/// Events come back in order with increasing ids, and beyond 1000 per stack the oldest are
/// purged exactly as `MemoryStore` purges them.
pub async fn events_are_ordered_and_purged_like_memory(db: &dyn Database) {
    let store = db.open().await;
    let memory = MemoryStore::new();
    let setup = vec![put_stack(stack("s1", "web")), put_stack(stack("s2", "db"))];
    store.apply(setup.clone()).await.unwrap();
    memory.apply(setup).await.unwrap();
    let running = State::new(Action::Create, Status::InProgress);
    let batch = |stack_id: &str, from: usize, count: usize| -> Vec<Change> {
        (from..from + count)
            .map(|i| add_event(event(stack_id, &format!("r{i}"), running, &format!("e{i}"))))
            .collect()
    };
    let mut last_id = 0u64;
    // Below the limit; at it; just over it; a single batch far over it; small ones after.
    let batches = vec![
        [batch("s1", 0, 600), batch("s2", 0, 3)].concat(),
        batch("s1", 600, 400),
        batch("s1", 1000, 1),
        [batch("s2", 3, 2), batch("s1", 1001, 1500)].concat(),
        batch("s1", 2501, 150),
        batch("s1", 2651, 100),
    ];
    for (n, b) in batches.into_iter().enumerate() {
        store.apply(b.clone()).await.unwrap();
        memory.apply(b).await.unwrap();
        for stack_id in ["s1", "s2"] {
            let got = store.events(stack_id, None).await.unwrap();
            let want = memory.events(stack_id, None).await.unwrap();
            let strip = |events: &[EventRecord]| -> Vec<(String, String)> {
                events
                    .iter()
                    .map(|e| (e.resource_name.clone(), e.reason.clone()))
                    .collect()
            };
            assert_eq!(strip(&got), strip(&want), "batch {n}, stack {stack_id}");
            assert!(got.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
        }
        // Every new event's id is beyond every earlier one's.
        let all: Vec<u64> = [
            store.events("s1", None).await.unwrap(),
            store.events("s2", None).await.unwrap(),
        ]
        .concat()
        .iter()
        .map(|e| e.id)
        .collect();
        let newest = all.iter().copied().max().unwrap_or(0);
        assert!(newest > last_id, "batch {n}: {newest} > {last_id}");
        last_id = newest;
    }
    // Paging with `after`.
    let s1 = store.events("s1", None).await.unwrap();
    assert_eq!(s1.len(), 800);
    let middle = s1[400].id;
    let after = store.events("s1", Some(middle)).await.unwrap();
    assert_eq!(after.len(), 399);
    assert_eq!(after[0], s1[401]);
    assert!(store.events("s1", Some(u64::MAX)).await.unwrap().is_empty());
    // Fields round-trip.
    let e = &s1[0];
    assert_eq!(e.stack_id, "s1");
    assert_eq!(e.resource_type, "OS::Heat::None");
    assert_eq!(
        e.physical_id.as_deref(),
        Some(format!("{}-phys", e.resource_name).as_str())
    );
    assert_eq!(e.state, running);
    assert_eq!(e.at, Duration::from_millis(1500));
}

/// Several writers adding events to one stack while a reader follows them with `after`:
/// the reader misses none (ids increase in commit order within a stack).
pub async fn event_readers_miss_nothing_under_concurrent_writers(db: &dyn Database) {
    let a = db.open().await;
    let b = db.open().await;
    a.apply(vec![put_stack(stack("s1", "web"))]).await.unwrap();
    let running = State::new(Action::Create, Status::InProgress);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for n in 0..30 {
                    let batch = (0..3)
                        .map(|k| {
                            let name = format!("w{w}-b{n}-e{k}");
                            add_event(event("s1", &name, running, &name))
                        })
                        .collect();
                    store.apply(batch).await.unwrap();
                }
            })
        })
        .collect();
    let reader = db.open().await;
    let mut seen: Vec<EventRecord> = Vec::new();
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        let after = seen.last().map(|e| e.id);
        let new = reader.events("s1", after).await.unwrap();
        seen.extend(new);
        tokio::task::yield_now().await;
    }
    for w in writers {
        w.await.unwrap();
    }
    let after = seen.last().map(|e| e.id);
    seen.extend(reader.events("s1", after).await.unwrap());
    assert!(seen.windows(2).all(|w| w[0].id < w[1].id));
    let all = reader.events("s1", None).await.unwrap();
    assert_eq!(all.len(), 8 * 30 * 3);
    assert_eq!(
        seen, all,
        "the reader following with `after` saw every event"
    );
}

/// Reserved ids are never handed out twice: consecutive, past every stored record, across
/// handles, concurrently, and after reopening.
pub async fn resource_ids_are_never_handed_out_twice(db: &dyn Database) {
    let a = db.open().await;
    let b = db.open().await;
    let first = a.reserve_resource_ids(10).await.unwrap();
    let second = b.reserve_resource_ids(5).await.unwrap();
    assert!(first >= 1);
    assert!(second >= first + 10, "{first} then {second}");
    // A record stored beyond the counter raises it.
    a.apply(vec![
        put_stack(stack("s1", "web")),
        put_resource(resource(second + 100, "s1", "far")),
    ])
    .await
    .unwrap();
    let third = b.reserve_resource_ids(1).await.unwrap();
    assert!(third > second + 100, "{third}");
    // A record below the counter does not lower it.
    a.apply(vec![put_resource(resource(first, "s1", "near"))])
        .await
        .unwrap();
    let fourth = a.reserve_resource_ids(3).await.unwrap();
    assert!(fourth > third);
    // Concurrent reservations on two handles get disjoint ranges.
    let tasks: Vec<_> = (0..24u64)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let count = 1 + i % 7;
                let start = store.reserve_resource_ids(count).await.unwrap();
                (start, count)
            })
        })
        .collect();
    let mut taken: BTreeSet<u64> = (fourth..fourth + 3).collect();
    let mut highest = fourth + 2;
    for task in tasks {
        let (start, count) = task.await.unwrap();
        for id in start..start + count {
            assert!(taken.insert(id), "id {id} handed out twice");
            highest = highest.max(id);
        }
    }
    drop((a, b));
    let reopened = db.open().await;
    let after = reopened.reserve_resource_ids(2).await.unwrap();
    assert!(after > highest, "{after} > {highest}");
}

/// Snapshots: stored whole, oldest first, replaced by id, removed, refused for an unknown
/// stack.
pub async fn snapshots_round_trip(db: &dyn Database) {
    let store = db.open().await;
    store
        .apply(vec![
            put_stack(stack("s1", "web")),
            put_stack(stack("s2", "db")),
        ])
        .await
        .unwrap();
    let one = snapshot("snap1", "s1", 3);
    let two = snapshot("snap2", "s1", 4);
    store
        .apply(vec![
            Change::PutSnapshot(Box::new(one.clone())),
            Change::PutSnapshot(Box::new(two.clone())),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.snapshots("s1").await.unwrap(),
        vec![one.clone(), two.clone()]
    );
    assert!(store.snapshots("s2").await.unwrap().is_empty());
    // Replaced by id, keeping its place.
    let mut failed = one.clone();
    failed.status = Status::Failed;
    failed.status_reason = "Error: boom".into();
    failed.resources.clear();
    store
        .apply(vec![Change::PutSnapshot(Box::new(failed.clone()))])
        .await
        .unwrap();
    assert_eq!(
        store.snapshots("s1").await.unwrap(),
        vec![failed, two.clone()]
    );
    store
        .apply(vec![Change::RemoveSnapshot { id: "snap1".into() }])
        .await
        .unwrap();
    assert_eq!(store.snapshots("s1").await.unwrap(), vec![two]);
    // Removing one that is not there is fine.
    store
        .apply(vec![Change::RemoveSnapshot { id: "nope".into() }])
        .await
        .unwrap();
}

/// Every field of every record reads back as written.
pub async fn records_round_trip_field_for_field(db: &dyn Database) {
    let store = db.open().await;
    let full = full_stack("s-full", "everything");
    let mut live = full.clone();
    live.id = "s-live".into();
    live.deleted = false;
    live.deleted_at = None;
    live.previous = None;
    live.parent = None;
    live.tags = Vec::new();
    let r = full_resource(42, "s-full", "server");
    let mut plain = resource(43, "s-live", "plain");
    plain.metadata = Some(Box::new(serde_json::Value::Null));
    store
        .apply(vec![
            put_stack(full.clone()),
            put_stack(live.clone()),
            put_resource(r.clone()),
            put_resource(plain.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(store.stack("s-full").await.unwrap().unwrap(), full);
    assert_eq!(store.stack("s-live").await.unwrap().unwrap(), live);
    assert_eq!(
        store
            .stack_by_name("tenant-ü", "everything")
            .await
            .unwrap()
            .unwrap(),
        live
    );
    let got = store.resources("s-full").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(*got[0], r);
    // Key order of the JSON objects is kept.
    let keys: Vec<&String> = got[0].properties.keys().collect();
    assert_eq!(
        keys,
        [
            "zeta", "alpha", "name", "big", "neg", "float", "floats", "empty"
        ]
    );
    let got = store.resources("s-live").await.unwrap();
    assert_eq!(*got[0], plain);
}

/// Everything written is there after the handles are dropped and the database opened
/// again.
pub async fn data_survives_reopening(db: &dyn Database) {
    let store = db.open().await;
    let full = full_stack("s1", "web");
    let r = full_resource(7, "s1", "server");
    let snap = snapshot("snap", "s1", 5);
    store
        .apply(vec![
            put_stack(full.clone()),
            put_resource(r.clone()),
            add_event(event("s1", "server", State::INIT, "defined")),
            Change::PutSnapshot(Box::new(snap.clone())),
        ])
        .await
        .unwrap();
    let config = super::server_cases::config("c1", "p1", 3);
    store.put_software_config(&config).await.unwrap();
    let deployment = super::server_cases::deployment("d1", "p1", "c1", "srv", 4);
    store.put_software_deployment(&deployment).await.unwrap();
    let service = super::server_cases::service("e1", 6);
    store.put_service(&service).await.unwrap();
    let reserved = store.reserve_resource_ids(50).await.unwrap();
    let events = store.events("s1", None).await.unwrap();
    drop(store);

    let store = db.open().await;
    assert_eq!(store.stack("s1").await.unwrap().unwrap(), full);
    assert_eq!(
        store
            .resources("s1")
            .await
            .unwrap()
            .iter()
            .map(|r| (**r).clone())
            .collect::<Vec<_>>(),
        vec![r]
    );
    assert_eq!(store.events("s1", None).await.unwrap(), events);
    assert_eq!(store.snapshots("s1").await.unwrap(), vec![snap]);
    assert_eq!(
        store.software_config("p1", "c1").await.unwrap(),
        Some(config)
    );
    assert_eq!(
        store.software_deployment("p1", "d1").await.unwrap(),
        Some(deployment)
    );
    assert_eq!(store.services().await.unwrap(), vec![service]);
    assert!(store.reserve_resource_ids(1).await.unwrap() >= reserved + 50);
    // Event ids keep increasing after reopening.
    store
        .apply(vec![add_event(event("s1", "server", State::INIT, "again"))])
        .await
        .unwrap();
    let now = store.events("s1", None).await.unwrap();
    assert!(now[1].id > now[0].id);
}
