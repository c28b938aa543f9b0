//! No input makes the loader panic: a property test that mutates the corpus templates
//! (bytes and YAML structure) and loads the result.
//!
//! The corpus is `$HEAT_CORPUS`, else `../shared/corpus` beside the workspace
//! (`CARGO_MANIFEST_DIR/../../shared/corpus`). Each case takes one file listed in its
//! `MANIFEST.tsv`, applies a few random mutations (bit flips, deletions, insertions of
//! YAML-significant characters and snippets, duplicated or re-indented lines, truncation) and
//! checks that loading returns, and that a document that could not be loaded carries an error.

use heat_core::check::{CheckOptions, SourceFile, check};
use heat_core::diagnostic::has_errors;
use heat_core::environment::Environment;
use heat_core::eval::{
    EvalContext, ParameterValues, TemplateConditions, evaluate, evaluate_conditions,
    evaluate_nullable,
};
use heat_core::parameters::bind;
use heat_core::template::{Limits, load, parse};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The corpus directory.
fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HEAT_CORPUS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// Every corpus file's text, read once.
fn corpus() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = corpus_dir();
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_else(|e| {
            panic!(
                "\n\n*** THE TEMPLATE CORPUS IS MISSING ***\n\
                 could not read {}: {e}\n\
                 load_never_panics needs the corpus: HEAT_CORPUS=DIR, or ../shared/corpus \
                 beside the repository.\n\n",
                dir.join("MANIFEST.tsv").display()
            )
        });
        let files: Vec<(String, String)> = manifest
            .lines()
            .skip(1)
            .filter_map(|line| line.split('\t').nth(3))
            .map(|local| {
                let bytes = std::fs::read(dir.join(local))
                    .unwrap_or_else(|e| panic!("corpus file {local} is unreadable: {e}"));
                (
                    local.to_owned(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            })
            .collect();
        assert!(
            files.len() > 100,
            "the corpus at {} lists only {} files",
            dir.display(),
            files.len()
        );
        files
    })
}

/// Runs every stage after the loader on the same text: parse, the whole offline check
/// (validation, graph, parameter defaults and groups), parameter binding as a stack create
/// would, the text read as an environment file, and evaluation of every condition, resource
/// property set and output with no resources available. Errors are expected; panics are not.
fn exercise_pipeline(name: &str, text: &str) {
    let limits = Limits::default();
    let parsed = parse(text, &limits);
    if parsed.template.is_none() {
        assert!(
            has_errors(&parsed.diagnostics),
            "{name}: parse gave no template and no error"
        );
    }
    let report = check(
        &SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        },
        &CheckOptions::default(),
    );
    assert!(report.diagnostics.iter().all(|d| d.file.is_some()));

    let (env, _) = Environment::parse(name, text, &limits);
    let Some(template) = &report.template else {
        return;
    };
    let (bound, _) = bind(template, &env, &[("x".to_owned(), "1".to_owned())]);
    let mut values = ParameterValues::new();
    for parameter in &template.parameters {
        if let Some(value) = bound.get(&parameter.name.value) {
            values = values.with(
                parameter.name.value.clone(),
                value.to_json_for(template.format()),
            );
        }
    }
    let ctx = EvalContext::for_template(template).with_parameters(&values);
    let conditions = TemplateConditions::new(&template.conditions);
    let ctx = ctx.with_conditions(&conditions);
    let _ = evaluate_conditions(&template.conditions, &ctx);
    for resource in &template.resources {
        if let Some(properties) = &resource.properties {
            let _ = evaluate_nullable(properties, &ctx);
        }
    }
    for output in &template.outputs {
        let _ = evaluate(&output.value, &ctx);
    }
}

/// Loads a text and checks the loader's invariants.
fn check_load(name: &str, text: &str) {
    let loaded = load(text, &Limits::default());
    if loaded.root.is_none() {
        assert!(
            has_errors(&loaded.diagnostics),
            "{name}: no document and no error"
        );
    }
    // YAML counts `\r` as a line break too.
    let breaks = text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
    let lines = u32::try_from(breaks + 1).unwrap_or(u32::MAX);
    for d in &loaded.diagnostics {
        assert!(
            (d.span.start.line <= lines.saturating_add(1) && d.span.start <= d.span.end)
                || !d.span.is_known(),
            "{name}: diagnostic outside the text: {d:?}"
        );
    }
    exercise_pipeline(name, text);
}

/// One change to a text.
#[derive(Clone, Debug)]
enum Mutation {
    /// Flip one bit of one byte.
    FlipBit(Index, u8),
    /// Delete up to `len` bytes.
    Delete(Index, usize),
    /// Insert a YAML-significant snippet.
    Insert(Index, &'static str),
    /// Repeat the line the index falls in.
    DuplicateLine(Index),
    /// Indent the line the index falls in by `n` spaces (or remove that many).
    Reindent(Index, i8),
    /// Cut the text here.
    Truncate(Index),
}

const SNIPPETS: &[&str] = &[
    ":",
    "-",
    "{",
    "}",
    "[",
    "]",
    "!",
    "&",
    "*",
    "\"",
    "'",
    "\t",
    "\n",
    "#",
    "|",
    ">",
    "?",
    ",",
    "%",
    "@",
    "`",
    "\\",
    ": ",
    "- ",
    "\n- ",
    "\n  ",
    "!Ref ",
    "!GetAtt ",
    "!Sub ",
    "!Foo ",
    "!!int ",
    "!!map ",
    "&a ",
    "*a",
    "*a ",
    "<<: *a\n",
    "<<: ",
    "---\n",
    "...\n",
    "~",
    "\u{feff}",
    "é",
    "\u{0}",
    "\r",
    "{\"a\": [1, ",
    "[[[[",
    "]]]]",
    "0x",
    "1e5",
    ".inf",
    "\\u",
    "\\/",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), 1usize..32).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<Index>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), -8i8..8).prop_map(|(i, n)| Mutation::Reindent(i, n)),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn line_bounds(bytes: &[u8], at: usize) -> (usize, usize) {
    let start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p + 1);
    (start, end)
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
        match m {
            Mutation::FlipBit(i, bit) => {
                if len > 0 {
                    let p = at(i);
                    bytes[p] ^= 1 << bit;
                }
            }
            Mutation::Delete(i, n) => {
                let p = at(i);
                let end = (p + n).min(len);
                bytes.drain(p..end);
            }
            Mutation::Insert(i, s) => {
                let p = at(i);
                bytes.splice(p..p, s.bytes());
            }
            Mutation::DuplicateLine(i) => {
                if len > 0 {
                    let (s, e) = line_bounds(&bytes, at(i));
                    let line = bytes[s..e].to_vec();
                    bytes.splice(e..e, line);
                }
            }
            Mutation::Reindent(i, n) => {
                if len > 0 {
                    let (s, _) = line_bounds(&bytes, at(i));
                    if *n >= 0 {
                        bytes.splice(s..s, std::iter::repeat_n(b' ', n.unsigned_abs().into()));
                    } else {
                        let spaces = bytes[s..]
                            .iter()
                            .take(n.unsigned_abs().into())
                            .take_while(|&&b| b == b' ')
                            .count();
                        bytes.drain(s..s + spaces);
                    }
                }
            }
            Mutation::Truncate(i) => {
                let p = at(i);
                bytes.truncate(p);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every corpus file as it is: loads without panicking, and a failure carries an error.
#[test]
fn corpus_files_load_cleanly() {
    for (name, text) in corpus() {
        check_load(name, text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    /// Mutated corpus files load without panicking.
    #[test]
    fn mutated_corpus_files_never_panic(
        file in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let files = corpus();
        let (name, text) = &files[file.index(files.len())];
        let mutated = apply(text, &mutations);
        check_load(name, &mutated);
    }

    /// Arbitrary short texts made of YAML-significant pieces never panic either.
    #[test]
    fn snippet_soup_never_panics(
        pieces in prop::collection::vec(
            prop_oneof![prop::sample::select(SNIPPETS).prop_map(str::to_owned), "[a-z0-9 ]{0,6}"],
            0..64,
        ),
    ) {
        let text: String = pieces.concat();
        check_load("soup", &text);
    }
}
