//! Tests of the drive loop, on virtual time, with a counting provider.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use futures::executor::block_on;
use proptest::prelude::*;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::*;
use crate::engine::MemoryStore;
use crate::engine::provider::{
    Created, Progress, Properties, ProviderError, ResourceContext, ResourceData, ResourceProvider,
    Updated,
};
use crate::engine::schema::{AttributeSchema, PropertySchema, PropertyType, ResourceSchema};
use crate::engine::services::{Clock, SeededRandom};
#[allow(unused_imports)]
use crate::engine::state::{Action, Status};
use crate::engine::store::{Change, EventRecord, ResourceRecord, StackRecord, Store};

/// A virtual clock: `sleep` advances `now` by the duration and returns a future that is
/// ready after yielding once (so a test can run another future, e.g. a signaller, beside
/// the engine on one thread with `futures::join!`).
///
/// Sound for the driver because the driver is one future on one thread: a sleep is only
/// ever awaited right before the provider call it delays, so advancing time at that moment
/// gives the same order of events as really waiting; concurrent sleeps add up instead of
/// overlapping, which only makes time pass faster (timeouts are noticed earlier, never
/// missed).
#[derive(Debug, Default)]
struct VirtualClock {
    now: Mutex<Duration>,
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        *self.now.lock().unwrap() += duration;
        yield_now().boxed()
    }
}

/// A future that is pending once (waking itself), then ready.
fn yield_now() -> impl std::future::Future<Output = ()> + Send {
    let mut yielded = false;
    futures::future::poll_fn(move |cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}

#[derive(Debug, Default)]
struct Live {
    /// Create attempts per resource name (for `flaky`).
    flaky: BTreeMap<String, u64>,
    /// Live resources by idempotency token: (resource name, physical id, value).
    by_token: BTreeMap<String, (String, String, String)>,
    /// Checks still to answer "not yet" per physical id.
    pending_checks: BTreeMap<String, u32>,
    max_in_creation: usize,
    created: Vec<String>,
    deleted: Vec<String>,
    creates: u64,
    updates: u64,
    suspended: Vec<String>,
    resumed: Vec<String>,
    /// Every provider call that changed something, in order: (operation, resource name,
    /// physical id), operation one of `create`, `update`, `delete`.
    log: Vec<(&'static str, String, String)>,
    next: u64,
}

/// A test provider that records live physical resources by idempotency token.
struct Counter {
    schema: ResourceSchema,
    live: Mutex<Live>,
}

impl Counter {
    fn new() -> Arc<Counter> {
        Arc::new(Counter {
            schema: ResourceSchema {
                open: true,
                type_name: "Test::Counter",
                description: "counts",
                properties: vec![
                    PropertySchema::new("value", PropertyType::String, "a value").update_allowed(),
                    PropertySchema::new("fail", PropertyType::Boolean, "fail the create"),
                    PropertySchema::new("checks", PropertyType::Integer, "checks before ready"),
                    PropertySchema::new("fixed", PropertyType::String, "changing it replaces"),
                    PropertySchema::new(
                        "flaky",
                        PropertyType::Integer,
                        "fail the first N create calls with a retryable error",
                    ),
                    PropertySchema::new("locked", PropertyType::String, "immutable").immutable(),
                    PropertySchema::new(
                        "fail_update",
                        PropertyType::Boolean,
                        "fail an update to these properties",
                    )
                    .update_allowed(),
                    PropertySchema::new(
                        "replace_on_update",
                        PropertyType::Boolean,
                        "answer NeedsReplacement to an update to these properties",
                    )
                    .update_allowed(),
                ],
                attributes: vec![AttributeSchema {
                    name: "output",
                    description: "the value",
                }],
            },
            live: Mutex::new(Live::default()),
        })
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap()
    }

    fn live_ids(&self) -> BTreeSet<String> {
        self.live().by_token.values().map(|v| v.1.clone()).collect()
    }
}

#[async_trait]
impl ResourceProvider for Counter {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        if let Some(n) = properties.get("flaky").and_then(Value::as_u64) {
            let mut live = self.live();
            let seen = live.flaky.entry(ctx.resource_name.to_string()).or_default();
            *seen += 1;
            if *seen <= n {
                return Err(ProviderError::Retryable(format!("busy ({seen})")));
            }
        }
        if properties.get("fail") == Some(&Value::Bool(true)) {
            return Err(ProviderError::Failed("boom".to_string()));
        }
        let mut live = self.live();
        live.creates += 1;
        if let Some((_, id, _)) = live.by_token.get(ctx.idempotency_token) {
            return Ok(Created::done(id.clone()));
        }
        live.next += 1;
        let id = format!("{}-{}", ctx.resource_name, live.next);
        let value = properties
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        live.by_token.insert(
            ctx.idempotency_token.to_string(),
            (ctx.resource_name.to_string(), id.clone(), value),
        );
        live.created.push(ctx.resource_name.to_string());
        live.log
            .push(("create", ctx.resource_name.to_string(), id.clone()));
        let checks = properties
            .get("checks")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let progress = if checks > 0 {
            live.pending_checks.insert(id.clone(), checks as u32);
            let n = live.pending_checks.len();
            live.max_in_creation = live.max_in_creation.max(n);
            Progress::CheckAfter(Duration::from_secs(10))
        } else {
            Progress::Done
        };
        Ok(Created {
            physical_id: id,
            data: ResourceData::new(),
            progress,
        })
    }

    async fn check_create(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let mut live = self.live();
        match live.pending_checks.get_mut(physical_id) {
            Some(n) if *n > 1 => {
                *n -= 1;
                Ok(Progress::CheckAfter(Duration::from_secs(10)))
            }
            Some(_) => {
                live.pending_checks.remove(physical_id);
                Ok(Progress::Done)
            }
            None => Ok(Progress::Done),
        }
    }

    async fn update(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
        _old: &Properties,
        new: &Properties,
    ) -> Result<Updated, ProviderError> {
        if new.get("fail_update") == Some(&Value::Bool(true)) {
            return Err(ProviderError::Failed("update boom".to_string()));
        }
        if new.get("replace_on_update") == Some(&Value::Bool(true)) {
            return Ok(Updated::NeedsReplacement {
                reason: "the provider asked for a replacement".to_string(),
            });
        }
        let mut live = self.live();
        live.updates += 1;
        let value = new
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(entry) = live.by_token.values_mut().find(|v| v.1 == physical_id) else {
            return Err(ProviderError::NotFound(physical_id.to_string()));
        };
        entry.2 = value;
        let name = entry.0.clone();
        live.log.push(("update", name, physical_id.to_string()));
        Ok(Updated::InPlace {
            data: ResourceData::new(),
            progress: Progress::Done,
        })
    }

    async fn suspend(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.live().suspended.push(physical_id.to_string());
        Ok(Progress::Done)
    }

    async fn resume(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.live().resumed.push(physical_id.to_string());
        Ok(Progress::Done)
    }

    async fn snapshot(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<ResourceData, ProviderError> {
        let live = self.live();
        let value = live
            .by_token
            .values()
            .find(|v| v.1 == physical_id)
            .map(|v| v.2.clone())
            .ok_or_else(|| ProviderError::NotFound(physical_id.to_string()))?;
        Ok(ResourceData::from([("value".to_string(), value)]))
    }

    async fn restore(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
        snapshot: &ResourceData,
    ) -> Result<Option<Properties>, ProviderError> {
        let mut live = self.live();
        let value = snapshot.get("value").cloned().unwrap_or_default();
        let entry = live
            .by_token
            .values_mut()
            .find(|v| v.1 == physical_id)
            .ok_or_else(|| ProviderError::NotFound(physical_id.to_string()))?;
        entry.2 = value.clone();
        let name = entry.0.clone();
        live.log.push(("restore", name, physical_id.to_string()));
        Ok(None)
    }

    async fn check(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<(), ProviderError> {
        let live = self.live();
        if live.by_token.values().any(|v| v.1 == physical_id) {
            Ok(())
        } else {
            Err(ProviderError::NotFound(physical_id.to_string()))
        }
    }

    async fn delete(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        let mut live = self.live();
        let before = live.by_token.len();
        live.by_token.retain(|_, v| v.1 != physical_id);
        if live.by_token.len() < before {
            live.deleted.push(physical_id.to_string());
            let name = physical_id
                .rsplit_once('-')
                .map_or(physical_id, |(n, _)| n)
                .to_string();
            live.log.push(("delete", name, physical_id.to_string()));
        }
        Ok(Progress::Done)
    }

    async fn attribute(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        if name != "output" {
            return Err(ProviderError::UnknownAttribute(name.to_string()));
        }
        let live = self.live();
        live.by_token
            .values()
            .find(|v| v.1 == physical_id)
            .map(|v| Value::String(v.2.clone()))
            .ok_or_else(|| ProviderError::NotFound(physical_id.to_string()))
    }
}

/// A store that fails every apply after the first `allowed` ones: a crash.
struct CrashStore {
    inner: Arc<MemoryStore>,
    allowed: AtomicU64,
}

#[async_trait]
impl Store for CrashStore {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        let left = self.allowed.load(Ordering::SeqCst);
        if left == 0 {
            return Err(StoreError::Backend("crash".to_string()));
        }
        self.allowed.store(left - 1, Ordering::SeqCst);
        self.inner.apply(changes).await
    }
    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        self.inner.stack(id).await
    }
    async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRecord>, StoreError> {
        self.inner.stack_by_name(project, name).await
    }

    async fn snapshots(
        &self,
        stack_id: &str,
    ) -> Result<Vec<crate::engine::store::SnapshotRecord>, StoreError> {
        self.inner.snapshots(stack_id).await
    }
    async fn stacks(&self, include_deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        self.inner.stacks(include_deleted).await
    }
    async fn resources(&self, stack_id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        self.inner.resources(stack_id).await
    }
    async fn events(
        &self,
        stack_id: &str,
        after: Option<u64>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.events(stack_id, after).await
    }
    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.inner.reserve_resource_ids(count).await
    }
}

struct World {
    store: Arc<MemoryStore>,
    counter: Arc<Counter>,
    clock: Arc<VirtualClock>,
    registry: Arc<ProviderRegistry>,
    seed: u64,
}

impl World {
    fn new() -> World {
        let counter = Counter::new();
        let mut registry = ProviderRegistry::with_builtins();
        registry.register("Test::Counter", counter.clone());
        World {
            store: Arc::new(MemoryStore::new()),
            counter,
            clock: Arc::new(VirtualClock::default()),
            registry: Arc::new(registry),
            seed: 1,
        }
    }

    fn engine_on(&mut self, store: Arc<dyn Store>, rollback: bool) -> Engine {
        self.seed += 1;
        Engine::new(
            store,
            self.registry.clone(),
            Services::new(self.clock.clone(), Arc::new(SeededRandom::new(self.seed))),
            EngineConfig {
                rollback_default: rollback,
                ..EngineConfig::default()
            },
        )
    }

    fn engine(&mut self) -> Engine {
        let store = self.store.clone();
        self.engine_on(store, false)
    }

    fn records(&self, stack_id: &str) -> Vec<ResourceRecord> {
        block_on(self.store.resources(stack_id))
            .unwrap()
            .into_iter()
            .map(|r| (*r).clone())
            .collect()
    }

    fn recorded_ids(&self, stack_id: &str) -> BTreeSet<String> {
        self.records(stack_id)
            .into_iter()
            .filter_map(|r| r.physical_id)
            .collect()
    }
}

fn request(template: &str) -> CreateRequest {
    CreateRequest {
        name: "s".to_string(),
        template: template.to_string(),
        ..CreateRequest::default()
    }
}

const HEAD: &str = "heat_template_version: 2018-08-31\n";

/// An update to `template` (full PUT semantics).
fn update(template: &str) -> UpdateRequest {
    UpdateRequest {
        template: Some(template.to_string()),
        ..UpdateRequest::default()
    }
}

/// The current record of each name (by the `replaces` rule).
fn current(w: &World, stack_id: &str) -> BTreeMap<String, ResourceRecord> {
    let records = w.records(stack_id);
    let replaced: BTreeSet<u64> = records.iter().filter_map(|r| r.replaces).collect();
    records
        .into_iter()
        .filter(|r| !replaced.contains(&r.id))
        .map(|r| (r.name.clone(), r))
        .collect()
}

/// The value the test provider holds for a physical resource.
fn live_value(w: &World, physical_id: &str) -> Option<String> {
    w.counter
        .live()
        .by_token
        .values()
        .find(|v| v.1 == physical_id)
        .map(|v| v.2.clone())
}

mod props;
mod snapshot;
mod update;

#[test]
fn the_driver_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let mut w = World::new();
    let engine = w.engine();
    let create = engine.create_stack(request(HEAD));
    assert_send(&create);
    let resume = engine.resume_all();
    assert_send(&resume);
}

#[test]
fn create_resolves_references_and_attributes_and_respects_order() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}resources:\n  b:\n    type: Test::Counter\n    properties:\n      value: {{get_attr: [a, output]}}\n      ref: {{get_resource: a}}\n  a:\n    type: Test::Counter\n    properties: {{value: hello, checks: 3}}\n  rand:\n    type: OS::Heat::RandomString\n    properties: {{length: 8}}\n  c:\n    type: Test::Counter\n    properties: {{value: {{get_resource: rand}}}}\noutputs:\n  out: {{value: {{get_attr: [b, output]}}}}\n  bad: {{value: {{get_attr: [a, nope]}}}}\n"
    );
    let before = w.clock.now();
    let outcome = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_COMPLETE", "{outcome:?}");
    // CheckAfter polling: a took 3 checks of 10 s each.
    assert!(w.clock.now() >= before + Duration::from_secs(30));
    let live = w.counter.live();
    let pos = |n: &str| live.created.iter().position(|c| c == n).unwrap();
    assert!(pos("a") < pos("b"));
    let b = live.by_token.values().find(|v| v.0 == "b").unwrap();
    assert_eq!(b.2, "hello");
    drop(live);
    let records = w.records(&outcome.id);
    let a_id = records
        .iter()
        .find(|r| r.name == "a")
        .unwrap()
        .physical_id
        .clone();
    let b_props = &records.iter().find(|r| r.name == "b").unwrap().properties;
    assert_eq!(b_props.get("ref"), Some(&Value::String(a_id.unwrap())));
    // get_resource of a RandomString gives its value, as in Heat.
    let rand = records.iter().find(|r| r.name == "rand").unwrap();
    let c = records.iter().find(|r| r.name == "c").unwrap();
    assert_eq!(
        c.properties.get("value").and_then(Value::as_str),
        rand.data.get("value").map(String::as_str)
    );
    assert!(
        records
            .iter()
            .all(|r| r.state.to_string() == "CREATE_COMPLETE")
    );
    // Outputs: a failing output does not fail the others.
    let outputs = block_on(engine.outputs(&outcome.id)).unwrap();
    assert_eq!(outputs[0].value, Some(Value::String("hello".into())));
    assert!(
        outputs[1].error.is_some() && outputs[1].value.is_none(),
        "{outputs:?}"
    );
    // Events: the stack's start and end, each resource's in-progress and complete.
    let events = block_on(w.store.events(&outcome.id, None)).unwrap();
    assert_eq!(events.first().unwrap().reason, "Stack CREATE started");
    assert_eq!(events.last().unwrap().state.to_string(), "CREATE_COMPLETE");
    assert_eq!(events.len(), 2 + 2 * 4);
}

#[test]
fn independent_resources_start_together_and_batches_are_grouped() {
    let mut w = World::new();
    let engine = w.engine();
    let mut t = format!("{HEAD}resources:\n");
    for i in 0..50 {
        t.push_str(&format!(
            "  r{i}:\n    type: Test::Counter\n    properties: {{checks: 1}}\n"
        ));
    }
    let outcome = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_COMPLETE");
    assert_eq!(w.counter.live().max_in_creation, 50);
    // 100 resource transitions + 2 stack ones in a handful of batches.
    let events = block_on(w.store.events(&outcome.id, None)).unwrap();
    assert_eq!(events.len(), 102);
    assert!(w.store.batches() <= 6, "{} batches", w.store.batches());
}

#[test]
fn a_chain_runs_one_at_a_time() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}resources:\n  a: {{type: Test::Counter, properties: {{checks: 1}}}}\n  b: {{type: Test::Counter, depends_on: a, properties: {{checks: 1}}}}\n  c: {{type: Test::Counter, depends_on: b, properties: {{checks: 1}}}}\n"
    );
    let outcome = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_COMPLETE");
    assert_eq!(w.counter.live().max_in_creation, 1);
    assert_eq!(w.counter.live().created, vec!["a", "b", "c"]);
}

fn failing_template() -> String {
    format!(
        "{HEAD}resources:\n  a: {{type: Test::Counter}}\n  b: {{type: Test::Counter, depends_on: a}}\n  bad: {{type: Test::Counter, depends_on: b, properties: {{fail: true}}}}\n  after: {{type: Test::Counter, depends_on: bad}}\n"
    )
}

#[test]
fn a_failure_with_rollback_deletes_everything() {
    let mut w = World::new();
    let store = w.store.clone();
    let engine = w.engine_on(store, true);
    let outcome = block_on(engine.create_stack(request(&failing_template()))).unwrap();
    assert_eq!(
        outcome.state.to_string(),
        "ROLLBACK_COMPLETE",
        "{outcome:?}"
    );
    assert!(w.counter.live_ids().is_empty());
    assert!(w.recorded_ids(&outcome.id).is_empty());
    // Reverse order: b before a.
    let deleted = w.counter.live().deleted.clone();
    assert_eq!(deleted.len(), 2);
    assert!(deleted[0].starts_with("b-") && deleted[1].starts_with("a-"));
    let events = block_on(w.store.events(&outcome.id, None)).unwrap();
    assert!(events.iter().any(|e| e.state.to_string() == "CREATE_FAILED"
        && e.reason.contains("Resource CREATE failed: bad: boom")));
}

#[test]
fn a_failure_without_rollback_leaves_the_resources() {
    let mut w = World::new();
    let engine = w.engine();
    let outcome = block_on(engine.create_stack(request(&failing_template()))).unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_FAILED");
    assert_eq!(outcome.reason, "Resource CREATE failed: bad: boom");
    assert_eq!(w.counter.live_ids().len(), 2);
    assert_eq!(w.counter.live_ids(), w.recorded_ids(&outcome.id));
    let records = w.records(&outcome.id);
    let state = |n: &str| {
        records
            .iter()
            .find(|r| r.name == n)
            .unwrap()
            .state
            .to_string()
    };
    assert_eq!(state("bad"), "CREATE_FAILED");
    assert_eq!(state("after"), "INIT_COMPLETE");
    // Deleting it cleans up.
    let deleted = block_on(engine.delete_stack(&outcome.id)).unwrap();
    assert_eq!(deleted.state.to_string(), "DELETE_COMPLETE");
    assert!(w.counter.live_ids().is_empty());
    assert!(w.records(&outcome.id).is_empty());
    assert!(
        block_on(w.store.stack(&outcome.id))
            .unwrap()
            .unwrap()
            .deleted
    );
    assert!(matches!(
        block_on(engine.delete_stack(&outcome.id)),
        Err(EngineError::NotFound(_))
    ));
}

#[test]
fn delete_goes_in_reverse_order_and_retains() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}resources:\n  a: {{type: Test::Counter}}\n  b: {{type: Test::Counter, depends_on: a}}\n  c: {{type: Test::Counter, depends_on: b}}\n  kept: {{type: Test::Counter, deletion_policy: Retain}}\n  snap: {{type: Test::Counter, deletion_policy: Snapshot}}\n"
    );
    let outcome = block_on(engine.create_stack(request(&t))).unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_COMPLETE");
    let deleted = block_on(engine.delete_stack(&outcome.id)).unwrap();
    assert_eq!(deleted.state.to_string(), "DELETE_COMPLETE", "{deleted:?}");
    let order: Vec<String> = w
        .counter
        .live()
        .deleted
        .iter()
        .filter(|d| !d.starts_with("snap"))
        .map(|d| d.split('-').next().unwrap().to_string())
        .collect();
    assert_eq!(order, vec!["c", "b", "a"]);
    // The retained resource lives on; the snapshot one (snapshot unsupported) is deleted.
    let live = w.counter.live_ids();
    assert_eq!(live.len(), 1);
    assert!(live.iter().all(|id| id.starts_with("kept-")));
    assert!(w.records(&outcome.id).is_empty());
}

#[test]
fn invalid_requests_store_nothing() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}resources:\n  a: {{type: Test::Nope}}\n  b: {{type: Test::Counter, properties: {{checks: x}}}}\n"
    );
    match block_on(engine.create_stack(request(&t))) {
        Err(EngineError::Invalid(diags)) => assert!(diags.len() >= 2, "{diags:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.store.batches(), 0);
}

#[test]
fn conditions_disable_resources_and_the_timeout_fails_the_create() {
    let mut w = World::new();
    let engine = w.engine();
    let t = format!(
        "{HEAD}conditions:\n  never: false\nresources:\n  off: {{type: Test::Counter, condition: never}}\n  slow: {{type: Test::Counter, properties: {{checks: 100}}}}\n"
    );
    let outcome = block_on(engine.create_stack(CreateRequest {
        timeout_mins: Some(1),
        ..request(&t)
    }))
    .unwrap();
    assert_eq!(outcome.state.to_string(), "CREATE_FAILED");
    assert!(outcome.reason.contains("Timed out"), "{outcome:?}");
    let records = w.records(&outcome.id);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].name, "slow");
    assert!(records[0].physical_id.is_some());
}

/// A random DAG template: resource i may depend on any earlier one.
fn dag_template(edges: &[Vec<usize>], checks: &[u8]) -> String {
    let mut t = format!("{HEAD}resources:\n");
    for (i, deps) in edges.iter().enumerate() {
        t.push_str(&format!(
            "  r{i}:\n    type: Test::Counter\n    properties: {{value: v{i}, checks: {}}}\n",
            checks[i]
        ));
        if !deps.is_empty() {
            let names: Vec<String> = deps.iter().map(|d| format!("r{d}")).collect();
            t.push_str(&format!("    depends_on: [{}]\n", names.join(", ")));
        }
    }
    t
}

fn dags() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<u8>)> {
    (1usize..40).prop_flat_map(|n| {
        let edges = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::btree_set(0..i, 0..3.min(i + 1))
                        .prop_map(|s| s.into_iter().collect())
                        .boxed()
                }
            })
            .collect::<Vec<_>>();
        (edges, proptest::collection::vec(0u8..3, n))
    })
}

/// Checks that the provider's live resources are exactly the recorded ones, once each.
fn assert_no_leak(w: &World, stack_id: &str) {
    let live = w.counter.live();
    let mut per_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, _, _) in live.by_token.values() {
        *per_name.entry(name).or_default() += 1;
    }
    assert!(
        per_name.values().all(|n| *n == 1),
        "duplicated: {per_name:?}"
    );
    drop(live);
    assert_eq!(w.counter.live_ids(), w.recorded_ids(stack_id));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn crash_and_resume_leak_nothing((edges, checks) in dags(), crash_at in 0u64..40, delete_crash_at in 0u64..40) {
        let mut w = World::new();
        let template = dag_template(&edges, &checks);
        let crashing: Arc<dyn Store> = Arc::new(CrashStore {
            inner: w.store.clone(),
            allowed: AtomicU64::new(crash_at),
        });
        let first = w.engine_on(crashing, false);
        let result = block_on(first.create_stack(request(&template)));
        drop(first);
        let second = w.engine();
        let resumed = block_on(second.resume_all()).unwrap();
        let stacks = block_on(w.store.stacks(false)).unwrap();
        if stacks.is_empty() {
            // The crash came before the first batch: nothing recorded, nothing created.
            prop_assert!(w.counter.live_ids().is_empty());
            return Ok(());
        }
        let stack = &stacks[0];
        prop_assert_eq!(stack.state.to_string(), "CREATE_COMPLETE", "{:?} {:?}", result, resumed);
        prop_assert_eq!(w.records(&stack.id).len(), edges.len());
        assert_no_leak(&w, &stack.id);

        // Delete, crashing too, then resume (or delete again when the crash came first).
        let crashing: Arc<dyn Store> = Arc::new(CrashStore {
            inner: w.store.clone(),
            allowed: AtomicU64::new(delete_crash_at),
        });
        let third = w.engine_on(crashing, false);
        let _ = block_on(third.delete_stack(&stack.id));
        drop(third);
        let fourth = w.engine();
        block_on(fourth.resume_all()).unwrap();
        let now = block_on(w.store.stack(&stack.id)).unwrap().unwrap();
        if !now.deleted {
            prop_assert_eq!(now.state.to_string(), "CREATE_COMPLETE");
            let done = block_on(fourth.delete_stack(&stack.id)).unwrap();
            prop_assert_eq!(done.state.to_string(), "DELETE_COMPLETE");
        }
        prop_assert!(w.counter.live_ids().is_empty());
        prop_assert!(w.records(&stack.id).is_empty());
    }
}
