//! heat-core's engine over the store: a create and delete with builtin types, and a crash
//! in the middle of a create resumed by a new engine on a new handle.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use heat_core::engine::schema::{PropertySchema, PropertyType, ResourceSchema};
use heat_core::engine::{
    Action, Clock, CreateRequest, Created, Engine, EngineConfig, Progress, Properties,
    ProviderError, ProviderRegistry, ResourceContext, ResourceProvider, SeededRandom, Services,
    State, Status,
};
use heat_server::store::{ServerStore, engine_store};
use serde_json::Value;

use super::harness::Database;

/// The engine's clock on tokio's time.
struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// An engine on the store. Each engine gets its own random seed, as each process has its own
/// entropy: idempotency tokens are random, and two engines drawing the same sequence would
/// hand a provider the same token for different resources.
fn engine(
    store: &Arc<dyn ServerStore>,
    registry: Arc<ProviderRegistry>,
    config: EngineConfig,
    seed: u64,
) -> Engine {
    Engine::new(
        engine_store(store.clone()),
        registry,
        Services::new(
            Arc::new(TokioClock(tokio::time::Instant::now())),
            Arc::new(SeededRandom::new(seed)),
        ),
        config,
    )
}

const COMPLETE: Status = Status::Complete;

/// A small stack of builtin types is created and deleted; records and events are in the
/// store as the engine left them.
pub async fn engine_creates_and_deletes_a_stack(db: &dyn Database) {
    let store = db.open().await;
    let engine = engine(
        &store,
        Arc::new(ProviderRegistry::with_builtins()),
        EngineConfig::default(),
        1,
    );
    let template = "heat_template_version: 2018-08-31\n\
        resources:\n\
        \x20 first:\n\
        \x20   type: OS::Heat::TestResource\n\
        \x20   properties: {value: hello}\n\
        \x20 second:\n\
        \x20   type: OS::Heat::TestResource\n\
        \x20   properties: {value: {get_attr: [first, output]}}\n\
        \x20 nothing:\n\
        \x20   type: OS::Heat::None\n\
        \x20   depends_on: second\n\
        outputs:\n\
        \x20 out: {value: {get_attr: [second, output]}}\n";
    let outcome = engine
        .create_stack(CreateRequest {
            name: "small".into(),
            project: "p1".into(),
            user: "u1".into(),
            template: template.into(),
            tags: vec!["t1".into()],
            ..CreateRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        outcome.state,
        State::new(Action::Create, COMPLETE),
        "{outcome:?}"
    );
    let stack = store.stack(&outcome.id).await.unwrap().unwrap();
    assert_eq!(stack.name, "small");
    assert_eq!(stack.tags, ["t1"]);
    assert_eq!(
        store
            .stack_by_name("p1", "small")
            .await
            .unwrap()
            .unwrap()
            .id,
        outcome.id
    );
    let records = store.resources(&outcome.id).await.unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r.state == State::new(Action::Create, COMPLETE))
    );
    assert!(records.iter().all(|r| r.physical_id.is_some()));
    let second = records.iter().find(|r| r.name == "second").unwrap();
    assert_eq!(
        second.properties.get("value"),
        Some(&Value::String("hello".into()))
    );
    let outputs = engine.outputs(&outcome.id).await.unwrap();
    assert_eq!(outputs[0].value, Some(Value::String("hello".into())));
    let events = store.events(&outcome.id, None).await.unwrap();
    assert_eq!(events.first().unwrap().reason, "Stack CREATE started");
    assert_eq!(
        events.last().unwrap().state,
        State::new(Action::Create, COMPLETE)
    );
    assert_eq!(events.len(), 2 + 2 * 3);

    let deleted = engine.delete_stack(&outcome.id).await.unwrap();
    assert_eq!(
        deleted.state,
        State::new(Action::Delete, COMPLETE),
        "{deleted:?}"
    );
    assert!(store.stack_by_name("p1", "small").await.unwrap().is_none());
    let stack = store.stack(&outcome.id).await.unwrap().unwrap();
    assert!(stack.deleted);
    assert!(store.resources(&outcome.id).await.unwrap().is_empty());
    // The name is free again.
    let again = engine
        .create_stack(CreateRequest {
            name: "small".into(),
            project: "p1".into(),
            template: template.into(),
            ..CreateRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(again.state, State::new(Action::Create, COMPLETE));
    assert_ne!(again.id, outcome.id);
}

/// A provider standing for a cloud: creates are idempotent by token (a repeated create
/// hands back the same resource) and take a while to become ready.
struct Cloud {
    schema: ResourceSchema,
    state: Mutex<CloudState>,
}

#[derive(Default)]
struct CloudState {
    /// Live resources: physical id by idempotency token.
    by_token: BTreeMap<String, String>,
    /// Every create call (including repeats after the crash).
    create_calls: u64,
    /// Resources actually made.
    made: u64,
}

const CLOUD_TYPE: &str = "Test::Cloud::Thing";

impl Cloud {
    fn new() -> Arc<Cloud> {
        Arc::new(Cloud {
            schema: ResourceSchema {
                type_name: CLOUD_TYPE,
                description: "a thing in a pretend cloud",
                properties: vec![PropertySchema::new("index", PropertyType::Integer, "which")],
                attributes: Vec::new(),
                open: false,
            },
            state: Mutex::new(CloudState::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CloudState> {
        self.state.lock().unwrap()
    }
}

#[async_trait]
impl ResourceProvider for Cloud {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        _properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let mut state = self.state();
        state.create_calls += 1;
        let id = match state.by_token.get(ctx.idempotency_token) {
            Some(id) => id.clone(),
            None => {
                state.made += 1;
                let id = format!("thing-{}-{}", ctx.resource_name, state.made);
                state
                    .by_token
                    .insert(ctx.idempotency_token.to_string(), id.clone());
                id
            }
        };
        Ok(Created {
            physical_id: id,
            data: Default::default(),
            progress: Progress::CheckAfter(Duration::from_millis(20)),
        })
    }

    async fn delete(
        &self,
        _ctx: &ResourceContext<'_>,
        physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.state().by_token.retain(|_, id| id != physical_id);
        Ok(Progress::Done)
    }

    async fn attribute(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
        name: &str,
    ) -> Result<Value, ProviderError> {
        Err(ProviderError::UnknownAttribute(name.to_string()))
    }
}

/// The engine is dropped in the middle of creating 50 resources (some created, some not
/// started); a new engine on a new handle resumes and finishes the stack, and no resource
/// was made twice.
pub async fn engine_resumes_a_create_after_a_crash(db: &dyn Database) {
    let cloud = Cloud::new();
    let mut registry = ProviderRegistry::with_builtins();
    registry.register(CLOUD_TYPE, cloud.clone());
    let registry = Arc::new(registry);
    let config = EngineConfig {
        concurrency: NonZeroUsize::new(5),
        ..EngineConfig::default()
    };
    let mut template = String::from("heat_template_version: 2018-08-31\nresources:\n");
    for i in 0..50 {
        template.push_str(&format!(
            "  r{i}:\n    type: {CLOUD_TYPE}\n    properties: {{index: {i}}}\n"
        ));
    }
    let request = CreateRequest {
        name: "crashy".into(),
        project: "p1".into(),
        template,
        ..CreateRequest::default()
    };

    let stack_id = {
        let store = db.open().await;
        let first = engine(&store, registry.clone(), config.clone(), 2);
        let operation = first.start_create(request).await.unwrap();
        let stack_id = operation.stack_id().to_string();
        let watcher = db.open().await;
        let run = operation.run();
        tokio::pin!(run);
        // Drive the create until some resources have physical ids, then drop it: the
        // engine stops between two store writes, as if the process died.
        loop {
            tokio::select! {
                outcome = &mut run => panic!("the create finished before the crash: {outcome:?}"),
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
            let records = watcher.resources(&stack_id).await.unwrap();
            let created = records.iter().filter(|r| r.physical_id.is_some()).count();
            if created >= 10 {
                break;
            }
        }
        stack_id
    };
    let before = cloud.state().made;
    assert!((10..50).contains(&before), "made {before} before the crash");
    let stack = db.open().await;
    let interrupted = stack.stack(&stack_id).await.unwrap().unwrap();
    assert_eq!(
        interrupted.state,
        State::new(Action::Create, Status::InProgress)
    );

    // A new process: a new handle on the same database, a new engine.
    let store = db.open().await;
    let second = engine(&store, registry.clone(), config.clone(), 3);
    let outcomes = second.resume_all().await.unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(
        outcomes[0].state,
        State::new(Action::Create, COMPLETE),
        "{outcomes:?}"
    );

    let records = store.resources(&stack_id).await.unwrap();
    assert_eq!(records.len(), 50);
    assert!(
        records
            .iter()
            .all(|r| r.state == State::new(Action::Create, COMPLETE))
    );
    let recorded: BTreeSet<String> = records
        .iter()
        .filter_map(|r| r.physical_id.clone())
        .collect();
    let (made, calls, live) = {
        let state = cloud.state();
        let live: BTreeSet<String> = state.by_token.values().cloned().collect();
        (state.made, state.create_calls, live)
    };
    assert_eq!(
        made, 50,
        "every resource made exactly once ({before} before the crash, {calls} create calls)"
    );
    assert!(calls >= 50);
    assert_eq!(
        recorded, live,
        "the store records exactly the live resources"
    );

    let deleted = second.delete_stack(&stack_id).await.unwrap();
    assert_eq!(deleted.state, State::new(Action::Delete, COMPLETE));
    assert!(cloud.state().by_token.is_empty(), "nothing leaked");
}
