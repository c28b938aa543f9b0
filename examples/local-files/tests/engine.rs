//! `Example::Local::File` driven through the engine, with a `MemoryStore`.
//!
//! Engine-level update tests belong here once `Engine::update_stack` exists (the provider's
//! `update` is covered by the unit tests in `src/tests.rs` until then):
//! - `update_of_content_rewrites_the_file_in_place`: create, update `content` → the same
//!   physical id, the file rewritten, `UPDATE_COMPLETE`;
//! - `update_of_path_replaces_the_file`: create, update `path` → the new file is created
//!   first, the dependents see the new path, the old file is deleted at the end;
//! - `failed_update_rolls_back`: an update to an escaping path fails and leaves the old
//!   file as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::executor::block_on;
use futures::future::BoxFuture;
use heat_core::engine::{
    Action, Clock, CreateRequest, Engine, EngineConfig, MemoryStore, ProviderRegistry,
    SeededRandom, Services, State, Status,
};
use heat_example_local_files::{LocalFiles, STATE_DIR, TYPE_NAME, sha256_hex};
use serde_json::json;

/// A clock that never moves: the provider never asks the engine to wait.
struct StillClock;

impl Clock for StillClock {
    fn now(&self) -> Duration {
        Duration::ZERO
    }

    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(futures::future::ready(()))
    }
}

fn engine(root: &Path) -> Engine {
    let mut registry = ProviderRegistry::with_builtins();
    registry.register(TYPE_NAME, Arc::new(LocalFiles::new(root).unwrap()));
    Engine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(registry),
        Services::new(Arc::new(StillClock), Arc::new(SeededRandom::new(42))),
        EngineConfig::default(),
    )
}

fn request(template: &str, rollback: bool) -> CreateRequest {
    CreateRequest {
        name: "files".to_string(),
        template: template.to_string(),
        disable_rollback: Some(!rollback),
        ..CreateRequest::default()
    }
}

const TWO_FILES: &str = r#"heat_template_version: 2018-08-31
resources:
  first:
    type: Example::Local::File
    properties:
      path: data/first.txt
      content: one
  second:
    type: Example::Local::File
    properties:
      path: second.txt
      content:
        str_replace:
          template: "first=SHA"
          params:
            SHA: {get_attr: [first, sha256]}
outputs:
  first_path:
    value: {get_attr: [first, path]}
  second_size:
    value: {get_attr: [second, size]}
"#;

/// No file and no ownership record is left in the directory.
fn assert_empty(root: &Path) {
    let leftovers: Vec<String> = walk(root);
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// Every file under `root` (directories left by deletes are fine).
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_stack_of_two_files_is_created_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let created = block_on(engine.create_stack(request(TWO_FILES, false))).unwrap();
    assert_eq!(
        created.state,
        State::new(Action::Create, Status::Complete),
        "{}",
        created.reason
    );
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let first = root.join("data/first.txt");
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "one");
    let second = std::fs::read_to_string(root.join("second.txt")).unwrap();
    assert_eq!(second, format!("first={}", sha256_hex(b"one")));

    let outputs = block_on(engine.outputs(&created.id)).unwrap();
    let values: Vec<_> = outputs.iter().map(|o| (&o.name[..], &o.value)).collect();
    assert_eq!(
        values,
        [
            ("first_path", &Some(json!(first.display().to_string()))),
            ("second_size", &Some(json!(second.len()))),
        ]
    );
    let records = block_on(engine.store().resources(&created.id)).unwrap();
    let first_record = records.iter().find(|r| r.name == "first").unwrap();
    assert_eq!(
        first_record.physical_id.as_deref(),
        Some(first.to_str().unwrap())
    );

    let deleted = block_on(engine.delete_stack(&created.id)).unwrap();
    assert_eq!(
        deleted.state,
        State::new(Action::Delete, Status::Complete),
        "{}",
        deleted.reason
    );
    assert_empty(dir.path());
}

#[test]
fn deleting_a_stack_whose_file_was_removed_by_hand_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let created = block_on(engine.create_stack(request(TWO_FILES, false))).unwrap();
    std::fs::remove_file(dir.path().join("second.txt")).unwrap();
    let deleted = block_on(engine.delete_stack(&created.id)).unwrap();
    assert_eq!(
        deleted.state,
        State::new(Action::Delete, Status::Complete),
        "{}",
        deleted.reason
    );
    assert_empty(dir.path());
}

#[test]
fn a_second_stack_cannot_take_over_the_files_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let one = block_on(engine.create_stack(request(TWO_FILES, false))).unwrap();
    assert_eq!(one.state, State::new(Action::Create, Status::Complete));
    let mut again = request(TWO_FILES, false);
    again.name = "files-2".to_string();
    let two = block_on(engine.create_stack(again)).unwrap();
    assert_eq!(two.state, State::new(Action::Create, Status::Failed));
    assert!(
        two.reason
            .contains("data/first.txt is already managed by another resource"),
        "{}",
        two.reason
    );
    // The first stack's file is intact, and the failed stack's delete leaves it alone.
    block_on(engine.delete_stack(&two.id)).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/first.txt")).unwrap(),
        "one"
    );
    block_on(engine.delete_stack(&one.id)).unwrap();
    assert_empty(dir.path());
}

#[test]
fn a_path_outside_the_directory_fails_the_create_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("files");
    std::fs::create_dir(&inner).unwrap();
    let engine = engine(&inner);
    let template = r#"heat_template_version: 2018-08-31
parameters:
  where:
    type: string
    default: ../escaped.txt
resources:
  safe:
    type: Example::Local::File
    properties: {path: safe.txt, content: ok}
  bad:
    type: Example::Local::File
    depends_on: safe
    properties:
      path: {get_param: where}
      content: should never be written
"#;
    let outcome = block_on(engine.create_stack(request(template, true))).unwrap();
    assert_eq!(
        outcome.state,
        State::new(Action::Rollback, Status::Complete),
        "{}",
        outcome.reason
    );
    let events = block_on(engine.store().events(&outcome.id, None)).unwrap();
    let failure = events
        .iter()
        .find(|e| e.resource_name == "bad" && e.state == State::new(Action::Create, Status::Failed))
        .expect("the bad resource failed");
    assert_eq!(
        failure.reason,
        "Property error: resources.bad.properties.path: \"../escaped.txt\" leaves the \
         directory: \"..\" is not allowed in a path"
    );
    assert!(!dir.path().join("escaped.txt").exists());
    // The rollback removed the file that had been created.
    assert!(!inner.join("safe.txt").exists());
    assert!(walk(&inner.join(STATE_DIR)).is_empty());
}

#[test]
fn a_property_of_the_wrong_type_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let template = r#"heat_template_version: 2018-08-31
resources:
  a:
    type: Example::Local::File
    properties: {path: a.txt, mode: rw-r--r--}
  b:
    type: Example::Local::File
    properties: {content: no path}
"#;
    let err = block_on(engine.create_stack(request(template, false))).unwrap_err();
    let heat_core::engine::EngineError::Invalid(diagnostics) = err else {
        panic!("expected an invalid stack, got {err:?}");
    };
    let codes: Vec<String> = diagnostics.iter().map(|d| d.code.to_string()).collect();
    assert!(codes.contains(&"E6003".to_string()), "{codes:?}");
    assert!(codes.contains(&"E6002".to_string()), "{codes:?}");
    assert_empty(dir.path());
}
