//! What the `scale` example and the `engine` bench share: a clock on tokio time, a test
//! provider with a configurable latency, the generated stack shapes and their critical path,
//! and one create + delete run through [`Engine`].
//!
//! Both include this file with `#[path]`, so each uses only part of it.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::BoxFuture;
use heat_core::engine::schema::{PropertySchema, PropertyType, ResourceSchema};
use heat_core::engine::{
    Action, Clock, CreateRequest, Created, Engine, EngineConfig, EngineError, MemoryStore,
    Progress, Properties, ProviderError, ProviderRegistry, Random, ResourceContext, ResourceData,
    ResourceProvider, SeededRandom, Services, State, Status,
};
use heat_core::template::Limits;
use heat_core::template::model::ConstraintKind;
use serde_json::Value;

/// The type name of [`LatencyResource`].
pub const TYPE_NAME: &str = "Scale::Test::Resource";

/// The resource-data key a created resource keeps its latency under (only when non-zero),
/// so that its delete takes as long as its create did.
const LATENCY_KEY: &str = "latency_ms";

/// A [`Clock`] on tokio time: `now` is the time since the clock was made, `sleep` is
/// [`tokio::time::sleep`]. Must be used inside a tokio runtime with time enabled.
///
/// tokio's timer has a 1 ms resolution and rounds every sleep up (a 10 ms sleep takes about
/// 11.1 ms on a typical machine), which adds up along a chain of dependent resources. A
/// *precise* clock sleeps on the timer until 1.5 ms before the deadline and then yields to
/// the runtime until the deadline has passed; the scale example uses it to measure the
/// engine rather than the timer. (It must not be used with tokio's paused time.)
#[derive(Debug)]
pub struct TokioClock {
    start: tokio::time::Instant,
    precise: bool,
}

impl TokioClock {
    /// A clock starting now, sleeping on tokio's timer.
    pub fn new() -> TokioClock {
        TokioClock {
            start: tokio::time::Instant::now(),
            precise: false,
        }
    }

    /// A clock starting now whose sleeps end within microseconds of their deadline.
    #[allow(dead_code)]
    pub fn precise() -> TokioClock {
        TokioClock {
            start: tokio::time::Instant::now(),
            precise: true,
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        if duration.is_zero() {
            Box::pin(futures::future::ready(()))
        } else if self.precise {
            let deadline = Instant::now() + duration;
            Box::pin(async move {
                let coarse = duration.saturating_sub(Duration::from_micros(1500));
                if !coarse.is_zero() {
                    tokio::time::sleep(coarse).await;
                }
                while Instant::now() < deadline {
                    tokio::task::yield_now().await;
                }
            })
        } else {
            Box::pin(tokio::time::sleep(duration))
        }
    }
}

/// A provider that stands for a cloud API with a fixed latency and no cost: `create`
/// answers at once with a physical id (the idempotency token, so a repeated create is
/// harmless) and [`Progress::CheckAfter`] its `latency_ms` property (`0`: done at once);
/// `delete` likewise. It never sleeps: the engine waits on its clock and then asks
/// `check_create` / `check_delete`, which say "done" — the latency has passed.
#[derive(Debug)]
pub struct LatencyResource {
    schema: ResourceSchema,
    stats: Mutex<CallStats>,
}

/// When the provider was called, for telling the engine's own time from the providers'.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// The first `create` call.
    pub first_create: Option<Instant>,
    /// The last time a create was reported ready (`create` answering `Done`, or a
    /// `check_create`).
    pub last_ready: Option<Instant>,
    /// The first `delete` call.
    pub first_delete: Option<Instant>,
    /// How many `create` calls.
    pub creates: u64,
    /// How many `delete` calls.
    pub deletes: u64,
}

impl LatencyResource {
    /// The provider.
    pub fn new() -> LatencyResource {
        LatencyResource {
            schema: ResourceSchema {
                type_name: TYPE_NAME,
                description: "A resource whose create and delete take latency_ms milliseconds",
                properties: vec![
                    PropertySchema::new(
                        "latency_ms",
                        PropertyType::Integer,
                        "How long create (and delete) take, in milliseconds",
                    )
                    .default(Value::from(0))
                    .constraint(ConstraintKind::Range {
                        min: Some(0.0),
                        max: None,
                    }),
                ],
                attributes: Vec::new(),
                open: false,
            },
            stats: Mutex::new(CallStats::default()),
        }
    }

    /// The calls seen so far.
    pub fn stats(&self) -> CallStats {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallStats> {
        match self.stats.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The progress of an operation that takes `ms` milliseconds.
fn progress_after(ms: u64) -> Progress {
    if ms == 0 {
        Progress::Done
    } else {
        Progress::CheckAfter(Duration::from_millis(ms))
    }
}

#[async_trait]
impl ResourceProvider for LatencyResource {
    fn schema(&self) -> &ResourceSchema {
        &self.schema
    }

    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        properties: &Properties,
    ) -> Result<Created, ProviderError> {
        let ms = properties
            .get("latency_ms")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        {
            let now = Instant::now();
            let mut stats = self.lock();
            stats.creates += 1;
            stats.first_create.get_or_insert(now);
            if ms == 0 {
                stats.last_ready = Some(now);
            }
        }
        let mut data = ResourceData::new();
        if ms > 0 {
            data.insert(LATENCY_KEY.to_string(), ms.to_string());
        }
        Ok(Created {
            physical_id: ctx.idempotency_token.to_string(),
            data,
            progress: progress_after(ms),
        })
    }

    async fn check_create(
        &self,
        _ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        self.lock().last_ready = Some(Instant::now());
        Ok(Progress::Done)
    }

    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        _physical_id: &str,
    ) -> Result<Progress, ProviderError> {
        {
            let mut stats = self.lock();
            stats.deletes += 1;
            stats.first_delete.get_or_insert_with(Instant::now);
        }
        let ms = ctx
            .data
            .get(LATENCY_KEY)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(progress_after(ms))
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

/// The dependency structure of a generated stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No edges: every resource can start at once.
    Independent,
    /// `r0 <- r1 <- ...`: each resource depends on the one before it.
    Chain,
    /// A seeded random DAG: each resource depends on up to 3 distinct earlier ones chosen at
    /// random, and takes `L * (1 + k)` with `k` random in `0..4`.
    Random,
}

impl Shape {
    /// The name the command line and the JSON output use.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Independent => "independent",
            Shape::Chain => "chain",
            Shape::Random => "random",
        }
    }
}

/// A generated stack: per resource, its latency and the earlier resources it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dag {
    /// Create (and delete) latency of `r{i}`, in milliseconds.
    pub latency_ms: Vec<u64>,
    /// The indices `r{i}` depends on (all smaller than `i`).
    pub depends_on: Vec<Vec<usize>>,
}

impl Dag {
    /// `n` resources of `shape`, base latency `latency_ms`; `seed` drives the random shape.
    pub fn generate(shape: Shape, n: usize, latency_ms: u64, seed: u64) -> Dag {
        let random = SeededRandom::new(seed);
        let mut latencies = Vec::with_capacity(n);
        let mut depends_on = Vec::with_capacity(n);
        for i in 0..n {
            let (latency, deps) = match shape {
                Shape::Independent => (latency_ms, Vec::new()),
                Shape::Chain => (latency_ms, i.checked_sub(1).into_iter().collect()),
                Shape::Random => {
                    let factor = 1 + random.below(4);
                    let wanted = random.below(4) as usize;
                    let mut deps: Vec<usize> = Vec::new();
                    while deps.len() < wanted.min(i) {
                        let d = random.below(i as u64) as usize;
                        if !deps.contains(&d) {
                            deps.push(d);
                        }
                    }
                    deps.sort_unstable();
                    (latency_ms.saturating_mul(factor), deps)
                }
            };
            latencies.push(latency);
            depends_on.push(deps);
        }
        Dag {
            latency_ms: latencies,
            depends_on,
        }
    }

    /// How many resources.
    pub fn len(&self) -> usize {
        self.latency_ms.len()
    }

    /// How many dependency edges.
    pub fn edges(&self) -> usize {
        self.depends_on.iter().map(Vec::len).sum()
    }

    /// The longest path of create latencies, each resource on it counted with its own
    /// latency: the least time any scheduler needs to create the stack.
    pub fn critical_path(&self) -> Duration {
        Duration::from_millis(self.longest(|i| self.latency_ms[i]))
    }

    /// The most resources on one dependency path (1 for independent resources).
    pub fn depth(&self) -> u64 {
        self.longest(|_| 1)
    }

    /// The largest sum of `cost` along a path (dependencies always have smaller indices,
    /// so one pass in index order suffices).
    fn longest(&self, cost: impl Fn(usize) -> u64) -> u64 {
        let mut finish: Vec<u64> = Vec::with_capacity(self.len());
        for (i, deps) in self.depends_on.iter().enumerate() {
            let start = deps.iter().map(|d| finish[*d]).max().unwrap_or(0);
            finish.push(start.saturating_add(cost(i)));
        }
        finish.into_iter().max().unwrap_or(0)
    }

    /// The stack as a HOT template: `r{i}` of type `type_name` with its `latency_ms`
    /// property and a `depends_on` list.
    pub fn to_hot(&self, type_name: &str) -> String {
        use std::fmt::Write as _;
        let mut s = String::with_capacity(self.len() * 80 + 64);
        s.push_str("heat_template_version: 2018-08-31\ndescription: generated scale test\n");
        s.push_str("resources:\n");
        for (i, (latency, deps)) in self.latency_ms.iter().zip(&self.depends_on).enumerate() {
            let _ = write!(
                s,
                "  r{i}:\n    type: {type_name}\n    properties: {{latency_ms: {latency}}}\n"
            );
            if !deps.is_empty() {
                s.push_str("    depends_on: [");
                for (k, d) in deps.iter().enumerate() {
                    if k > 0 {
                        s.push_str(", ");
                    }
                    let _ = write!(s, "r{d}");
                }
                s.push_str("]\n");
            }
        }
        s
    }
}

/// An engine with a fresh [`MemoryStore`], the builtins and `provider` registered as
/// `type_name`, a [`TokioClock`], limits raised for `resources` resources and a
/// `template_size`-byte template, and the given concurrency (`None`: unlimited); `precise`
/// picks [`TokioClock::precise`].
pub fn engine(
    provider: Arc<LatencyResource>,
    type_name: &str,
    resources: usize,
    template_size: usize,
    concurrency: Option<NonZeroUsize>,
    precise: bool,
) -> Engine {
    let mut registry = ProviderRegistry::with_builtins();
    registry.register(type_name, provider);
    let clock = if precise {
        TokioClock::precise()
    } else {
        TokioClock::new()
    };
    let services = Services::new(Arc::new(clock), Arc::new(SeededRandom::new(7)));
    let defaults = Limits::default();
    let config = EngineConfig {
        concurrency,
        limits: Limits {
            max_resources_per_stack: resources.max(defaults.max_resources_per_stack),
            max_template_size: template_size.max(defaults.max_template_size),
            ..defaults
        },
        ..EngineConfig::default()
    };
    Engine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(registry),
        services,
        config,
    )
}

/// What went wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The engine refused or failed the operation.
    #[error("{operation}: {source}")]
    Engine {
        /// `create` or `delete`.
        operation: &'static str,
        /// The engine's error (for an invalid template, the first diagnostics follow).
        source: EngineError,
    },
    /// The stack did not end in the expected state.
    #[error("{operation} ended in {state}: {reason}")]
    Outcome {
        /// `create` or `delete`.
        operation: &'static str,
        /// The state it ended in.
        state: State,
        /// The engine's reason.
        reason: String,
    },
}

/// How long a create + delete run took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timings {
    /// When [`Engine::create_stack`] was called.
    pub create_started: Instant,
    /// Wall time of [`Engine::create_stack`].
    pub create: Duration,
    /// When [`Engine::delete_stack`] was called.
    pub delete_started: Instant,
    /// Wall time of [`Engine::delete_stack`].
    pub delete: Duration,
}

/// Creates a stack from `template` and deletes it again, checking that both complete.
pub async fn create_and_delete(engine: &Engine, template: String) -> Result<Timings, RunError> {
    let create_started = Instant::now();
    let created = engine
        .create_stack(CreateRequest {
            name: "scale".to_string(),
            template,
            ..CreateRequest::default()
        })
        .await
        .map_err(|source| RunError::Engine {
            operation: "create",
            source,
        })?;
    let create = create_started.elapsed();
    expect_state(&created.state, Action::Create, "create", &created.reason)?;
    let delete_started = Instant::now();
    let deleted = engine
        .delete_stack(&created.id)
        .await
        .map_err(|source| RunError::Engine {
            operation: "delete",
            source,
        })?;
    let delete = delete_started.elapsed();
    expect_state(&deleted.state, Action::Delete, "delete", &deleted.reason)?;
    Ok(Timings {
        create_started,
        create,
        delete_started,
        delete,
    })
}

fn expect_state(
    state: &State,
    action: Action,
    operation: &'static str,
    reason: &str,
) -> Result<(), RunError> {
    if *state == State::new(action, Status::Complete) {
        Ok(())
    } else {
        Err(RunError::Outcome {
            operation,
            state: *state,
            reason: reason.to_string(),
        })
    }
}
