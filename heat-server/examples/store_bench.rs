//! Measures the SQL stores: `apply` of one large batch (a 10,000-resource stack's first
//! batch), many small batches (the engine's loop turns), and a whole engine create + delete
//! of a stack of `OS::Heat::None` resources, on SQLite, PostgreSQL and (for comparison) the
//! in-memory store. Prints one line per measurement.
//!
//! ```text
//! cargo run --release -p heat-server --example store_bench -- \
//!     [--database sqlite|postgres|memory]... [--resources 10000] [--small-batches 1000] \
//!     [--sync normal|full] [--postgres-url postgres://postgres@127.0.0.1:5432/test]
//! ```
//!
//! PostgreSQL runs in a database made for the run (`heat_bench_<random>`, dropped after);
//! `--postgres-url` names the server and a database to connect to for creating it.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use futures::future::BoxFuture;
use heat_core::engine::store::{
    Change, EventRecord, MemoryStore, ResourceRecord, SnapshotRecord, StackRecord, Store,
    StoreError,
};
use heat_core::engine::{
    Action, Clock, CreateRequest, Engine, EngineConfig, ProviderRegistry, SeededRandom, Services,
    State, Status,
};
use heat_core::template::Limits;
use heat_core::template::model::DeletionPolicy;
use heat_server::store::{OpenOptions, SqliteStore, SqliteSync, open};
use serde_json::json;

type BoxError = Box<dyn Error + Send + Sync>;

/// Which store to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Database {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A PostgreSQL database made for the run.
    Postgres,
    /// heat-core's in-memory store (the baseline).
    Memory,
}

/// Measures store batches and an engine create + delete.
#[derive(Debug, Parser)]
#[command(name = "store_bench")]
struct Args {
    /// The stores to measure (repeatable; default: all three).
    #[arg(long, value_enum)]
    database: Vec<Database>,
    /// Resources in the large batch and in the engine's stack.
    #[arg(long, default_value_t = 10_000)]
    resources: u64,
    /// How many small batches.
    #[arg(long, default_value_t = 1_000)]
    small_batches: u64,
    /// Resource transitions (each with its event) per small batch.
    #[arg(long, default_value_t = 5)]
    batch_size: u64,
    /// SQLite's synchronous setting: normal or full.
    #[arg(long, default_value = "normal")]
    sync: SqliteSync,
    /// Where PostgreSQL is (a database to connect to for creating the run's own).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
}

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

fn stack_record(id: &str) -> StackRecord {
    StackRecord {
        id: id.into(),
        name: id.into(),
        project: "bench".into(),
        user: "bench".into(),
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
        operation: 1,
    }
}

/// A resource record shaped like the engine's (a few properties, some data).
fn resource(id: u64, stack_id: &str, state: State) -> ResourceRecord {
    let properties = json!({"value": format!("value-{id}"), "size": id % 7, "tags": ["a", "b"]});
    ResourceRecord {
        id,
        stack_id: stack_id.into(),
        name: format!("r{id}"),
        resource_type: "OS::Heat::TestResource".into(),
        physical_id: Some(format!("phys-{id}")),
        state,
        status_reason: "state changed".into(),
        properties: properties.as_object().cloned().unwrap_or_default(),
        data: BTreeMap::from([("value".to_string(), format!("value-{id}"))]),
        metadata: None,
        idempotency_token: format!("{id:032x}"),
        replaces: None,
        deletion_policy: DeletionPolicy::Delete,
        requires: Vec::new(),
        target_properties: None,
        hook: None,
        operation: 1,
        updated_at: Duration::from_millis(id),
    }
}

fn event(r: &ResourceRecord) -> EventRecord {
    EventRecord {
        id: 0,
        stack_id: r.stack_id.to_string(),
        resource_name: r.name.clone(),
        resource_type: r.resource_type.to_string(),
        physical_id: r.physical_id.clone(),
        state: r.state,
        reason: r.status_reason.to_string(),
        at: r.updated_at,
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// One large batch, then many small ones.
async fn batches(store: &dyn Store, args: &Args, label: &str) -> Result<(), BoxError> {
    let n = args.resources;
    let in_progress = State::new(Action::Create, Status::InProgress);
    let first = store.reserve_resource_ids(n).await?;
    let mut big = vec![Change::PutStack(Box::new(stack_record("big")))];
    for id in first..first + n {
        let r = resource(id, "big", in_progress);
        big.push(Change::AddEvent(Box::new(event(&r))));
        big.push(Change::PutResource(Arc::new(r)));
    }
    let started = Instant::now();
    store.apply(big).await?;
    let big_time = started.elapsed();
    println!(
        "{label}: apply of 1 batch with {n} PutResource + {n} AddEvent: {}",
        secs(big_time)
    );

    store
        .apply(vec![Change::PutStack(Box::new(stack_record("small")))])
        .await?;
    let count = args.small_batches;
    let size = args.batch_size;
    let first = store.reserve_resource_ids(count * size).await?;
    let started = Instant::now();
    for b in 0..count {
        let mut batch = Vec::with_capacity(usize::try_from(size * 2)?);
        for k in 0..size {
            let r = resource(first + b * size + k, "small", in_progress);
            batch.push(Change::AddEvent(Box::new(event(&r))));
            batch.push(Change::PutResource(Arc::new(r)));
        }
        store.apply(batch).await?;
    }
    let small_time = started.elapsed();
    println!(
        "{label}: {count} batches of {size} PutResource + {size} AddEvent: {} ({:.0} µs per batch)",
        secs(small_time),
        small_time.as_secs_f64() * 1e6 / count.max(1) as f64
    );
    let started = Instant::now();
    let read = store.resources("big").await?;
    println!(
        "{label}: reading back {} resource records: {}",
        read.len(),
        secs(started.elapsed())
    );
    Ok(())
}

/// An engine create + delete of a stack of `OS::Heat::None` resources.
async fn engine_run(store: Arc<dyn Store>, args: &Args, label: &str) -> Result<(), BoxError> {
    let timed = Arc::new(Timed::new(store));
    let n = usize::try_from(args.resources)?;
    let mut template = String::from("heat_template_version: 2018-08-31\nresources:\n");
    for i in 0..n {
        template.push_str(&format!("  r{i}:\n    type: OS::Heat::None\n"));
    }
    let defaults = Limits::default();
    let config = EngineConfig {
        limits: Limits {
            max_resources_per_stack: n.max(defaults.max_resources_per_stack),
            max_template_size: template.len().max(defaults.max_template_size),
            ..defaults
        },
        ..EngineConfig::default()
    };
    let engine = Engine::new(
        timed.clone(),
        Arc::new(ProviderRegistry::with_builtins()),
        Services::new(
            Arc::new(TokioClock(tokio::time::Instant::now())),
            Arc::new(SeededRandom::new(11)),
        ),
        config,
    );
    let started = Instant::now();
    let created = engine
        .create_stack(CreateRequest {
            name: "engine-run".into(),
            project: "bench".into(),
            template,
            ..CreateRequest::default()
        })
        .await?;
    let create_time = started.elapsed();
    let create_store = timed.take();
    let started = Instant::now();
    let deleted = engine.delete_stack(&created.id).await?;
    let delete_time = started.elapsed();
    let delete_store = timed.take();
    for (what, time, state, (applies, changes, apply_s, reads, read_s)) in [
        ("create", create_time, created.state, create_store),
        ("delete", delete_time, deleted.state, delete_store),
    ] {
        println!(
            "{label}: engine {what} of {n} OS::Heat::None: {} ({state}); {applies} batches \
             ({changes} changes) took {apply_s:.3} s in apply, {reads} reads {read_s:.3} s",
            secs(time)
        );
    }
    Ok(())
}

/// A store that counts and times the calls the engine makes.
struct Timed {
    inner: Arc<dyn Store>,
    applies: std::sync::atomic::AtomicU64,
    changes: std::sync::atomic::AtomicU64,
    apply_nanos: std::sync::atomic::AtomicU64,
    reads: std::sync::atomic::AtomicU64,
    read_nanos: std::sync::atomic::AtomicU64,
}

impl Timed {
    fn new(inner: Arc<dyn Store>) -> Timed {
        Timed {
            inner,
            applies: Default::default(),
            changes: Default::default(),
            apply_nanos: Default::default(),
            reads: Default::default(),
            read_nanos: Default::default(),
        }
    }

    fn read_done(&self, started: Instant) {
        use std::sync::atomic::Ordering::Relaxed;
        self.reads.fetch_add(1, Relaxed);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.read_nanos.fetch_add(nanos, Relaxed);
    }

    /// `applies, changes, seconds in apply, reads, seconds in reads`, and resets.
    fn take(&self) -> (u64, u64, f64, u64, f64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.applies.swap(0, Relaxed),
            self.changes.swap(0, Relaxed),
            self.apply_nanos.swap(0, Relaxed) as f64 / 1e9,
            self.reads.swap(0, Relaxed),
            self.read_nanos.swap(0, Relaxed) as f64 / 1e9,
        )
    }
}

#[async_trait::async_trait]
impl Store for Timed {
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering::Relaxed;
        let started = Instant::now();
        self.changes.fetch_add(changes.len() as u64, Relaxed);
        let result = self.inner.apply(changes).await;
        self.applies.fetch_add(1, Relaxed);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.apply_nanos.fetch_add(nanos, Relaxed);
        result
    }
    async fn stack(&self, id: &str) -> Result<Option<StackRecord>, StoreError> {
        let started = Instant::now();
        let r = self.inner.stack(id).await;
        self.read_done(started);
        r
    }
    async fn stack_by_name(&self, p: &str, n: &str) -> Result<Option<StackRecord>, StoreError> {
        let started = Instant::now();
        let r = self.inner.stack_by_name(p, n).await;
        self.read_done(started);
        r
    }
    async fn stacks(&self, deleted: bool) -> Result<Vec<StackRecord>, StoreError> {
        let started = Instant::now();
        let r = self.inner.stacks(deleted).await;
        self.read_done(started);
        r
    }
    async fn resources(&self, id: &str) -> Result<Vec<Arc<ResourceRecord>>, StoreError> {
        let started = Instant::now();
        let r = self.inner.resources(id).await;
        self.read_done(started);
        r
    }
    async fn events(&self, id: &str, after: Option<u64>) -> Result<Vec<EventRecord>, StoreError> {
        let started = Instant::now();
        let r = self.inner.events(id, after).await;
        self.read_done(started);
        r
    }
    async fn snapshots(&self, id: &str) -> Result<Vec<SnapshotRecord>, StoreError> {
        let started = Instant::now();
        let r = self.inner.snapshots(id).await;
        self.read_done(started);
        r
    }
    async fn reserve_resource_ids(&self, count: u64) -> Result<u64, StoreError> {
        let started = Instant::now();
        let r = self.inner.reserve_resource_ids(count).await;
        self.read_done(started);
        r
    }
}

/// A database made for the run on the PostgreSQL server `admin_url` names, dropped after.
struct TempPostgres {
    admin: String,
    name: String,
}

impl TempPostgres {
    async fn create(admin_url: &str) -> Result<(TempPostgres, String), BoxError> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(|e| format!("no random bytes: {e}"))?;
        let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("heat_bench_{suffix}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let (server, _) = admin_url
            .rsplit_once('/')
            .ok_or("the PostgreSQL URL names no database")?;
        let url = format!("{server}/{name}");
        Ok((
            TempPostgres {
                admin: admin_url.to_string(),
                name,
            },
            url,
        ))
    }

    async fn drop_database(self) -> Result<(), BoxError> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    let databases = if args.database.is_empty() {
        vec![Database::Memory, Database::Sqlite, Database::Postgres]
    } else {
        args.database.clone()
    };
    let options = OpenOptions {
        sqlite_sync: args.sync,
        ..OpenOptions::default()
    };
    for database in databases {
        match database {
            Database::Memory => {
                batches(&MemoryStore::new(), &args, "memory").await?;
                engine_run(Arc::new(MemoryStore::new()), &args, "memory").await?;
            }
            Database::Sqlite => {
                let label = format!("sqlite (synchronous={:?})", args.sync);
                let dir = tempfile::tempdir()?;
                let store = SqliteStore::open(dir.path().join("batches.db"), &options).await?;
                batches(&store, &args, &label).await?;
                store.close().await;
                let store = SqliteStore::open(dir.path().join("engine.db"), &options).await?;
                engine_run(Arc::new(store), &args, &label).await?;
            }
            Database::Postgres => {
                let (temp, url) = TempPostgres::create(&args.postgres_url).await?;
                let outcome = async {
                    let store = open(&url, &options).await?;
                    batches(&*store, &args, "postgres").await?;
                    let engine_store = heat_server::store::engine_store(store);
                    engine_run(engine_store, &args, "postgres").await
                }
                .await;
                temp.drop_database().await?;
                outcome?;
            }
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("store_bench: cannot start the tokio runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
