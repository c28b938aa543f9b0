//! Engine throughput: create + delete of generated stacks through `Engine` with a
//! `MemoryStore` and a zero-latency test provider, so what is measured is the engine's own
//! cost (parse, validate, schedule, record) per resource.
//!
//! Groups: `independent` (1k and 10k resources), `chain` (1k), `random` (1k, the seeded
//! random DAG of the `scale` example). Each iteration builds a fresh engine and store and
//! runs one create and one delete on a current-thread tokio runtime.
//!
//! Run with `cargo bench --bench engine` (add `-- --quick` for a fast pass). CI only
//! compiles it (`cargo bench --no-run`). The same workloads, with latencies, peak memory and
//! a breakdown of where the time goes, are in
//! `cargo run --release -p heat-core --example scale -- --help`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

// Shared with the `scale` example, which uses the parts this bench does not.
#[allow(dead_code)]
#[path = "../heat-core/examples/scale/support.rs"]
mod support;

use support::{Dag, Shape};

/// Creates and deletes the stack `template` once, on a fresh engine.
fn run_once(runtime: &tokio::runtime::Runtime, n: usize, template: &str) {
    let engine = support::engine(
        Arc::new(support::LatencyResource::new()),
        support::TYPE_NAME,
        n,
        template.len(),
        None,
        false,
    );
    runtime
        .block_on(support::create_and_delete(&engine, template.to_string()))
        .expect("the stack is created and deleted");
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let cases: [(&str, Shape, &[usize]); 3] = [
        ("independent", Shape::Independent, &[1_000, 10_000]),
        ("chain", Shape::Chain, &[1_000]),
        ("random", Shape::Random, &[1_000]),
    ];
    for (group_name, shape, sizes) in cases {
        let mut group = c.benchmark_group(format!("create_delete/{group_name}"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));
        for &n in sizes {
            let template = Dag::generate(shape, n, 0, 1).to_hot(support::TYPE_NAME);
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &template, |b, template| {
                b.iter(|| run_once(&runtime, n, template))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
