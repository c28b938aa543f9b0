//! Template-language throughput: parse + validate the whole shared corpus, and a synthetic
//! 5,000-resource template.
//!
//! Run with `cargo bench --bench template`. CI only compiles it (`cargo bench --no-run`).
//! The corpus is read from `$HEAT_CORPUS` or `../shared/corpus`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use heat_core::check::{CheckOptions, SourceFile, check};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    std::env::var_os("HEAT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// Every template (not environment) of the corpus, with its format column.
fn corpus_templates() -> Vec<(String, SourceFile)> {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_else(|e| {
        panic!(
            "*** THE TEMPLATE CORPUS IS MISSING *** ({}: {e}); set HEAT_CORPUS",
            dir.display()
        )
    });
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 6 || cols[4] == "env" {
                return None;
            }
            let bytes = std::fs::read(dir.join(cols[3])).ok()?;
            Some((
                cols[4].to_string(),
                SourceFile {
                    name: cols[3].to_string(),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                },
            ))
        })
        .collect()
}

/// A HOT template with `n` resources in chains of 10, each referring to its predecessor,
/// with parameters and outputs, like a large real stack.
pub fn synthetic_hot(n: usize) -> String {
    let mut s = String::with_capacity(n * 200);
    s.push_str("heat_template_version: 2018-08-31\ndescription: synthetic\n");
    s.push_str("parameters:\n  prefix:\n    type: string\n    default: res\n    constraints:\n      - length: {min: 1, max: 20}\n");
    s.push_str("resources:\n");
    for i in 0..n {
        s.push_str(&format!("  r{i}:\n    type: OS::Heat::RandomString\n    properties:\n      length: 16\n      salt: {{list_join: ['-', [{{get_param: prefix}}, '{i}'"));
        if i % 10 != 0 {
            s.push_str(&format!(", {{get_attr: [r{}, value]}}", i - 1));
        }
        s.push_str("]]}\n");
        if i % 10 == 9 {
            s.push_str(&format!("    depends_on: [r{}]\n", i - 9));
        }
    }
    s.push_str("outputs:\n  last:\n    value: {get_attr: [r0, value]}\n");
    s
}

/// The CloudFormation equivalent of [`synthetic_hot`].
pub fn synthetic_cfn(n: usize) -> String {
    let mut s = String::with_capacity(n * 200);
    s.push_str("AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Prefix:\n    Type: String\n    Default: res\nResources:\n");
    for i in 0..n {
        s.push_str(&format!("  R{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${{Prefix}}-{i}'\n"));
        if i % 10 != 0 {
            s.push_str(&format!(
                "      Tags:\n        - Key: prev\n          Value: !GetAtt R{}.Arn\n",
                i - 1
            ));
        }
    }
    s.push_str("Outputs:\n  First:\n    Value: !Ref R0\n");
    s
}

fn bench(c: &mut Criterion) {
    let options = CheckOptions {
        limits: heat_core::template::Limits {
            max_template_size: usize::MAX,
            // The synthetic templates have 5,000 resources, more than Heat's default 1000.
            max_resources_per_stack: usize::MAX,
            ..Default::default()
        },
        ..Default::default()
    };
    let corpus = corpus_templates();
    let total_bytes: usize = corpus.iter().map(|(_, f)| f.text.len()).sum();
    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(total_bytes as u64));
    group.bench_function("parse_validate_all", |b| {
        b.iter(|| {
            for (_, file) in &corpus {
                black_box(check(file, &options));
            }
        })
    });
    let cfn: Vec<&SourceFile> = corpus
        .iter()
        .filter(|(format, _)| format.starts_with("cfn"))
        .map(|(_, f)| f)
        .collect();
    let cfn_bytes: usize = cfn.iter().map(|f| f.text.len()).sum();
    group.throughput(Throughput::Bytes(cfn_bytes as u64));
    group.bench_function("parse_validate_cfn_only", |b| {
        b.iter(|| {
            for file in &cfn {
                black_box(check(file, &options));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("synthetic_5000");
    group.sample_size(20);
    for (name, text) in [("hot", synthetic_hot(5000)), ("cfn", synthetic_cfn(5000))] {
        let file = SourceFile {
            name: format!("synthetic.{name}.yaml"),
            text,
        };
        group.throughput(Throughput::Elements(5000));
        group.bench_function(name, |b| b.iter(|| black_box(check(&file, &options))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
