//! Measures the engine at scale: creates and deletes a generated stack of test resources with
//! a fixed provider latency, on a tokio runtime, and prints one JSON line.
//!
//! ```text
//! cargo run --release -p heat-core --example scale -- \
//!     --shape independent|chain|random --resources N --latency-ms L \
//!     [--concurrency C] [--seed S]
//! ```
//!
//! The stack is `N` resources of type `Scale::Test::Resource`, whose provider answers every
//! create and delete at once with `CheckAfter(latency)` (`Done` for 0) and never sleeps: the
//! engine sleeps on its clock, here tokio's timer. Shapes:
//! - `independent`: no dependencies;
//! - `chain`: `r0 <- r1 <- ... <- r{N-1}`;
//! - `random`: a DAG seeded by `--seed`; each resource depends on up to 3 earlier ones
//!   chosen at random and takes `L * (1 + k)`, `k` random in `0..4`.
//!
//! The template is generated as HOT text and goes the whole way (parse, validate, graph,
//! create, delete) through `Engine` with a `MemoryStore`. Output fields, in this order:
//! - `shape`, `resources`;
//! - `create_s`, `delete_s`: wall time of `create_stack` and `delete_stack`, seconds;
//! - `critical_path_s`: the longest path of create latencies in the DAG, each resource
//!   counted with its own latency — the least any scheduler could take;
//! - `makespan_ratio`: `create_s / critical_path_s`; `null` when the critical path is 0
//!   (`--latency-ms 0`), where there is no lower bound to compare with;
//! - `peak_rss_kib`: the process's peak resident set (`VmHWM` in `/proc/self/status`),
//!   `null` where that file does not exist;
//! - then `concurrency` (the limit used; `null`: unlimited), `latency_ms`, `seed`, `edges`, `depth` (most
//!   resources on one path), `template_bytes`, `start_rss_kib` (`VmRSS` before anything
//!   was built), `type_name`;
//! - and where the create's time went, as the provider saw it: `create_first_call_s` (from
//!   `create_stack` to the first provider `create`: parsing, validation, setup),
//!   `create_last_ready_s` (to the last resource reported ready), `traversal_s` (first
//!   `create` to last ready: the scheduler's makespan) and `traversal_ratio`
//!   (`traversal_s / critical_path_s`, `null` like `makespan_ratio`),
//!   `delete_first_call_s`, `provider_creates` and `provider_deletes` (calls made: `N` each
//!   when nothing was repeated).
//!
//! Exit status: 0 on success, 1 when the stack did not reach `CREATE_COMPLETE` /
//! `DELETE_COMPLETE` (the reason goes to stderr), 2 for bad arguments.

use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use heat_core::engine::EngineConfig;
use serde_json::{Value, json};

#[path = "support.rs"]
mod support;

use support::{Dag, Shape};

/// The stack shape, as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ShapeArg {
    /// No dependencies.
    Independent,
    /// Each resource depends on the one before it.
    Chain,
    /// A seeded random DAG with varied latencies.
    Random,
}

impl From<ShapeArg> for Shape {
    fn from(arg: ShapeArg) -> Shape {
        match arg {
            ShapeArg::Independent => Shape::Independent,
            ShapeArg::Chain => Shape::Chain,
            ShapeArg::Random => Shape::Random,
        }
    }
}

/// Creates and deletes a generated stack through the engine and prints timings as JSON.
#[derive(Debug, Parser)]
#[command(name = "scale")]
struct Args {
    /// The dependency structure of the stack.
    #[arg(long, value_enum)]
    shape: ShapeArg,
    /// How many resources (1 to 1,000,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    resources: u64,
    /// The provider latency of each create and delete, in milliseconds (0 to 3,600,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    latency_ms: u64,
    /// At most this many resource steps at once (default: the engine's default, 64; 0: no
    /// limit).
    #[arg(long)]
    concurrency: Option<usize>,
    /// The seed of the random shape.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The type name the test provider is registered under. A name the offline check does
    /// not know (the default) costs a W3001 warning with a did-you-mean search per
    /// resource; `OS::Heat::TestResource` (replaced by the test provider) avoids it.
    #[arg(long, default_value = support::TYPE_NAME)]
    type_name: String,
    /// Sleep on tokio's timer alone (1 ms resolution, every sleep rounded up) instead of the
    /// precise clock that finishes each wait by yielding until its deadline.
    #[arg(long)]
    coarse_timer: bool,
}

/// A `kB` field of `/proc/self/status` (`VmHWM`, `VmRSS`), `None` where there is none.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let start_rss = proc_status_kib("VmRSS");
    // Both ranges are enforced by clap; usize is at least 32 bits on every target tokio has.
    let n = usize::try_from(args.resources).unwrap_or(usize::MAX);
    let shape = Shape::from(args.shape);
    let dag = Dag::generate(shape, n, args.latency_ms, args.seed);
    let template = dag.to_hot(&args.type_name);
    let template_bytes = template.len();
    let provider = Arc::new(support::LatencyResource::new());
    // The engine's default limit unless told (0: no limit).
    let concurrency = match args.concurrency {
        None => EngineConfig::default().concurrency,
        Some(c) => NonZeroUsize::new(c),
    };
    let engine = support::engine(
        provider.clone(),
        &args.type_name,
        n,
        template_bytes,
        concurrency,
        !args.coarse_timer,
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scale: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timings = match runtime.block_on(support::create_and_delete(&engine, template)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("scale: {e}");
            if let support::RunError::Engine {
                source: heat_core::engine::EngineError::Invalid(diagnostics),
                ..
            } = &e
            {
                for d in diagnostics.iter().take(10) {
                    eprintln!("  {} {}", d.code, d.message);
                }
            }
            return ExitCode::FAILURE;
        }
    };
    let critical = dag.critical_path();
    let ratio = |d: Duration| {
        if critical.is_zero() {
            Value::Null
        } else {
            json!(d.as_secs_f64() / critical.as_secs_f64())
        }
    };
    let stats = provider.stats();
    let since = |start: Instant, at: Option<Instant>| {
        at.map(|t| t.saturating_duration_since(start).as_secs_f64())
    };
    let traversal = match (stats.first_create, stats.last_ready) {
        (Some(first), Some(last)) => Some(last.saturating_duration_since(first)),
        _ => None,
    };
    let line = json!({
        "shape": shape.name(),
        "resources": n,
        "create_s": timings.create.as_secs_f64(),
        "delete_s": timings.delete.as_secs_f64(),
        "critical_path_s": critical.as_secs_f64(),
        "makespan_ratio": ratio(timings.create),
        "peak_rss_kib": proc_status_kib("VmHWM"),
        "concurrency": concurrency.map(NonZeroUsize::get),
        "latency_ms": args.latency_ms,
        "seed": args.seed,
        "edges": dag.edges(),
        "depth": dag.depth(),
        "template_bytes": template_bytes,
        "start_rss_kib": start_rss,
        "type_name": args.type_name,
        "create_first_call_s": since(timings.create_started, stats.first_create),
        "create_last_ready_s": since(timings.create_started, stats.last_ready),
        "traversal_s": traversal.map(|d| d.as_secs_f64()),
        "traversal_ratio": traversal.map_or(Value::Null, ratio),
        "delete_first_call_s": since(timings.delete_started, stats.first_delete),
        "provider_creates": stats.creates,
        "provider_deletes": stats.deletes,
    });
    println!("{line}");
    ExitCode::SUCCESS
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! Tests of the support module shared with the bench (here, so the bench does not
    //! compile them).
    use std::num::NonZeroUsize;
    use std::sync::Arc;
    use std::time::Duration;

    use heat_core::engine::{Action, CreateRequest, State, Status};
    use heat_core::template::Limits;

    use super::support::*;

    #[test]
    fn the_critical_path_counts_each_resource_on_the_longest_path_once() {
        // r0 (10) <- r1 (20) <- r3 (1); r0 <- r2 (5) <- r3
        let dag = Dag {
            latency_ms: vec![10, 20, 5, 1],
            depends_on: vec![vec![], vec![0], vec![0], vec![1, 2]],
        };
        assert_eq!(dag.critical_path(), Duration::from_millis(31));
        assert_eq!(dag.depth(), 3);
        assert_eq!(dag.edges(), 4);
        let empty = Dag {
            latency_ms: Vec::new(),
            depends_on: Vec::new(),
        };
        assert_eq!(empty.critical_path(), Duration::ZERO);
    }

    #[test]
    fn shapes_have_the_structure_they_promise() {
        let chain = Dag::generate(Shape::Chain, 5, 10, 1);
        assert_eq!(
            chain.depends_on,
            [vec![], vec![0], vec![1], vec![2], vec![3]]
        );
        assert_eq!(chain.critical_path(), Duration::from_millis(50));
        let independent = Dag::generate(Shape::Independent, 5, 10, 1);
        assert_eq!(independent.edges(), 0);
        assert_eq!(independent.critical_path(), Duration::from_millis(10));
        let random = Dag::generate(Shape::Random, 500, 10, 7);
        for (i, deps) in random.depends_on.iter().enumerate() {
            assert!(deps.len() <= 3, "r{i}: {deps:?}");
            assert!(deps.windows(2).all(|w| w[0] < w[1]), "r{i}: {deps:?}");
            assert!(deps.iter().all(|d| *d < i), "r{i}: {deps:?}");
        }
        assert!(
            random
                .latency_ms
                .iter()
                .all(|l| [10, 20, 30, 40].contains(l))
        );
        assert!(random.depth() > 5, "depth {}", random.depth());
        assert_eq!(random, Dag::generate(Shape::Random, 500, 10, 7));
        assert_ne!(random, Dag::generate(Shape::Random, 500, 10, 8));
        // A zero latency is a zero critical path.
        assert_eq!(
            Dag::generate(Shape::Random, 50, 0, 1).critical_path(),
            Duration::ZERO
        );
    }

    #[test]
    fn generated_templates_are_valid_hot_with_the_same_edges() {
        let dag = Dag::generate(Shape::Random, 60, 10, 3);
        let text = dag.to_hot(TYPE_NAME);
        let parsed = heat_core::template::parse(&text, &Limits::default());
        let template = parsed.template.expect("a template");
        assert!(
            !heat_core::diagnostic::has_errors(&parsed.diagnostics),
            "{:?}",
            parsed.diagnostics
        );
        assert_eq!(template.resources.len(), 60);
        let (graph, diagnostics) = heat_core::graph::build(&template);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(graph.graph().edge_count(), dag.edges());
    }

    /// On tokio's paused clock every sleep ends exactly at its deadline, so a scheduler that
    /// starts every resource the moment its dependencies are done creates the stack in
    /// exactly the critical path.
    #[tokio::test(start_paused = true)]
    async fn with_an_exact_timer_the_create_takes_the_critical_path() {
        let dag = Dag::generate(Shape::Random, 300, 10, 5);
        let provider = Arc::new(LatencyResource::new());
        let text = dag.to_hot(TYPE_NAME);
        let engine = engine(
            provider.clone(),
            TYPE_NAME,
            dag.len(),
            text.len(),
            None,
            false,
        );
        let start = tokio::time::Instant::now();
        let created = engine
            .create_stack(CreateRequest {
                name: "paused".to_string(),
                template: text,
                ..CreateRequest::default()
            })
            .await
            .unwrap();
        assert_eq!(
            created.state,
            State::new(Action::Create, Status::Complete),
            "{}",
            created.reason
        );
        assert_eq!(start.elapsed(), dag.critical_path());
        let start = tokio::time::Instant::now();
        let deleted = engine.delete_stack(&created.id).await.unwrap();
        assert_eq!(deleted.state, State::new(Action::Delete, Status::Complete));
        // Deletes run in reverse order with the same latencies: the same longest path.
        assert_eq!(start.elapsed(), dag.critical_path());
        let stats = provider.stats();
        assert_eq!((stats.creates, stats.deletes), (300, 300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_concurrency_limit_stretches_independent_resources_into_waves() {
        let dag = Dag::generate(Shape::Independent, 10, 10, 1);
        let text = dag.to_hot(TYPE_NAME);
        let provider = Arc::new(LatencyResource::new());
        let limit = NonZeroUsize::new(3);
        let engine = engine(provider, TYPE_NAME, dag.len(), text.len(), limit, false);
        let start = tokio::time::Instant::now();
        let timings = create_and_delete(&engine, text).await.unwrap();
        assert!(timings.create > Duration::ZERO);
        // 10 resources, 3 at a time: 4 waves of 10 ms each way.
        assert_eq!(start.elapsed(), Duration::from_millis(80));
    }
}
