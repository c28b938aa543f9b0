//! Provider-level tests: the provider's calls made directly, as the engine would make them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::executor::block_on;
use futures::future::BoxFuture;
use heat_core::engine::schema::{UpdateKind, update_kind};
use heat_core::engine::{Clock, SeededRandom, Services};

use super::*;

/// A clock that never moves: this provider never asks to wait.
struct StillClock;

impl Clock for StillClock {
    fn now(&self) -> Duration {
        Duration::ZERO
    }

    fn sleep(&self, _duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(futures::future::ready(()))
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    provider: LocalFiles,
    services: Services,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let provider = LocalFiles::new(dir.path()).unwrap();
        let services = Services::new(Arc::new(StillClock), Arc::new(SeededRandom::new(1)));
        Fixture {
            dir,
            provider,
            services,
        }
    }

    fn ctx<'a>(&'a self, token: &'a str, data: &'a ResourceData) -> ResourceContext<'a> {
        ResourceContext {
            stack_id: "stack-id",
            stack_name: "files",
            resource_name: "f",
            resource_type: TYPE_NAME,
            idempotency_token: token,
            data,
            services: &self.services,
            peers: &[],
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.provider.root().join(rel)
    }

    fn create(&self, token: &str, props: Value) -> Result<Created, ProviderError> {
        let data = ResourceData::new();
        block_on(self.provider.create(&self.ctx(token, &data), &obj(props)))
    }

    fn delete(&self, data: &ResourceData, physical_id: &str) -> Result<Progress, ProviderError> {
        block_on(
            self.provider
                .delete(&self.ctx("delete-token", data), physical_id),
        )
    }

    fn check(&self, data: &ResourceData, physical_id: &str) -> Result<(), ProviderError> {
        block_on(
            self.provider
                .check(&self.ctx("check-token", data), physical_id),
        )
    }

    fn update(
        &self,
        data: &ResourceData,
        physical_id: &str,
        old: Value,
        new: Value,
    ) -> Result<Updated, ProviderError> {
        block_on(self.provider.update(
            &self.ctx("update-token", data),
            physical_id,
            &obj(old),
            &obj(new),
        ))
    }

    fn attr(&self, physical_id: &str, name: &str) -> Result<Value, ProviderError> {
        let data = ResourceData::new();
        block_on(
            self.provider
                .attribute(&self.ctx("t", &data), physical_id, name),
        )
    }
}

fn obj(value: Value) -> Properties {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn failed_message(result: Result<Created, ProviderError>) -> String {
    match result {
        Err(ProviderError::Failed(message)) => message,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_schema_is_sound_and_says_what_updates_in_place() {
    let s = schema();
    assert!(s.schema_errors().is_empty(), "{:?}", s.schema_errors());
    assert_eq!(s.type_name, TYPE_NAME);
    let old = obj(json!({"path": "a", "content": "x", "mode": 420}));
    assert_eq!(
        update_kind(
            &s,
            &old,
            &obj(json!({"path": "a", "content": "y", "mode": 384}))
        ),
        UpdateKind::InPlace {
            changed: vec!["content".to_string(), "mode".to_string()]
        }
    );
    assert_eq!(
        update_kind(
            &s,
            &old,
            &obj(json!({"path": "b", "content": "y", "mode": 420}))
        ),
        UpdateKind::Replace {
            property: "path".to_string()
        }
    );
    let names: Vec<&str> = s.attributes.iter().map(|a| a.name).collect();
    assert_eq!(names, ["size", "sha256", "path"]);
}

#[test]
fn setup_needs_an_existing_directory() {
    let f = Fixture::new();
    let missing = f.dir.path().join("nope");
    assert!(matches!(
        LocalFiles::new(&missing),
        Err(SetupError::Directory { .. })
    ));
    let file = f.dir.path().join("plain");
    fs::write(&file, "x").unwrap();
    assert!(matches!(
        LocalFiles::new(&file),
        Err(SetupError::NotADirectory(_))
    ));
}

#[test]
fn create_writes_the_file_and_records_owner_and_hash() {
    let f = Fixture::new();
    let created = f
        .create(
            "tok-1",
            json!({"path": "sub/dir/a.txt", "content": "hello"}),
        )
        .unwrap();
    let path = f.path("sub/dir/a.txt");
    assert_eq!(created.physical_id, path.display().to_string());
    assert_eq!(created.progress, Progress::Done);
    assert_eq!(fs::read_to_string(&path).unwrap(), "hello");
    assert_eq!(created.data[DATA_OWNER], "tok-1");
    assert_eq!(created.data[DATA_SHA256], sha256_hex(b"hello"));
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(f.path("sub/dir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.txt"]);
}

#[test]
fn content_defaults_to_empty() {
    let f = Fixture::new();
    let created = f.create("t", json!({"path": "empty"})).unwrap();
    assert_eq!(fs::read(f.path("empty")).unwrap(), b"");
    assert_eq!(created.data[DATA_SHA256], sha256_hex(b""));
}

#[cfg(unix)]
#[test]
fn create_applies_the_mode() {
    let f = Fixture::new();
    let _ = f
        .create("t", json!({"path": "m", "content": "x", "mode": 0o600}))
        .unwrap();
    assert_eq!(mode(&f.path("m")), 0o600);
}

#[test]
fn a_repeated_create_with_the_same_token_is_harmless() {
    let f = Fixture::new();
    let props = json!({"path": "a.txt", "content": "one"});
    let first = f.create("tok-1", props.clone()).unwrap();
    let again = f.create("tok-1", props).unwrap();
    assert_eq!(first, again);
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "one");
}

#[test]
fn a_create_interrupted_after_claiming_the_path_can_be_repeated() {
    let f = Fixture::new();
    let first = f
        .create("tok-1", json!({"path": "a.txt", "content": "one"}))
        .unwrap();
    // The engine stopped after the marker was written, before the file was: the file is
    // missing, the claim is there.
    fs::remove_file(&first.physical_id).unwrap();
    let again = f
        .create("tok-1", json!({"path": "a.txt", "content": "one"}))
        .unwrap();
    assert_eq!(again.physical_id, first.physical_id);
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "one");
}

#[test]
fn another_token_cannot_take_a_managed_path() {
    let f = Fixture::new();
    let _ = f
        .create("tok-1", json!({"path": "a.txt", "content": "one"}))
        .unwrap();
    let message = failed_message(f.create("tok-2", json!({"path": "./a.txt", "content": "two"})));
    assert!(
        message.contains("a.txt is already managed by another resource"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "one");
}

#[test]
fn a_file_heat_did_not_create_is_never_overwritten() {
    let f = Fixture::new();
    fs::write(f.path("mine.txt"), "user data").unwrap();
    let message = failed_message(f.create("t", json!({"path": "mine.txt", "content": "x"})));
    assert!(
        message.contains("mine.txt already exists and was not created by heat"),
        "{message}"
    );
    assert_eq!(fs::read_to_string(f.path("mine.txt")).unwrap(), "user data");
}

#[test]
fn paths_that_leave_the_directory_are_refused_with_a_clear_error() {
    let f = Fixture::new();
    let cases = [
        (
            "../escape",
            "\"../escape\" leaves the directory: \"..\" is not allowed",
        ),
        ("a/../../escape", "leaves the directory"),
        ("a/..", "leaves the directory"),
        (
            "/etc/passwd",
            "\"/etc/passwd\" is an absolute path: give a path relative",
        ),
        ("", "the path is empty"),
        (".", "the path is empty"),
        (".heat-local-files/x", "which holds heat's own records"),
    ];
    for (path, want) in cases {
        let message = failed_message(f.create("t", json!({"path": path, "content": "x"})));
        assert!(
            message.starts_with("Property error: resources.f.properties.path: "),
            "{path}: {message}"
        );
        assert!(message.contains(want), "{path}: {message}");
    }
    // Nothing was written next to the directory.
    let parent = f.dir.path().parent().unwrap();
    assert!(!parent.join("escape").exists());
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_on_the_way_is_refused() {
    let f = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path("link")).unwrap();
    let message = failed_message(f.create("t", json!({"path": "link/x.txt", "content": "x"})));
    assert!(
        message.contains("\"link/x.txt\" cannot be used: \"link\" is a symbolic link"),
        "{message}"
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn a_file_on_the_way_is_refused() {
    let f = Fixture::new();
    fs::write(f.path("plain"), "x").unwrap();
    let message = failed_message(f.create("t", json!({"path": "plain/x.txt"})));
    assert!(
        message.contains("\"plain\" is not a directory"),
        "{message}"
    );
}

#[test]
fn delete_removes_the_file_and_its_claim() {
    let f = Fixture::new();
    let created = f
        .create("t", json!({"path": "a.txt", "content": "x"}))
        .unwrap();
    assert_eq!(
        f.delete(&created.data, &created.physical_id),
        Ok(Progress::Done)
    );
    assert!(!f.path("a.txt").exists());
    assert_eq!(fs::read_dir(f.path(STATE_DIR)).unwrap().count(), 0);
    // The path is free again, for any token.
    let _ = f.create("other", json!({"path": "a.txt"})).unwrap();
}

#[test]
fn delete_succeeds_when_the_file_is_already_gone() {
    let f = Fixture::new();
    let created = f
        .create("t", json!({"path": "a.txt", "content": "x"}))
        .unwrap();
    fs::remove_file(&created.physical_id).unwrap();
    assert_eq!(
        f.delete(&created.data, &created.physical_id),
        Ok(Progress::Done)
    );
    // And again (the engine may repeat a delete).
    assert_eq!(
        f.delete(&created.data, &created.physical_id),
        Ok(Progress::Done)
    );
}

#[test]
fn delete_leaves_a_file_another_resource_took_over() {
    let f = Fixture::new();
    let created = f
        .create("t1", json!({"path": "a.txt", "content": "one"}))
        .unwrap();
    // Gone by hand, then created by another resource.
    let _ = f.delete(&created.data, &created.physical_id).unwrap();
    let _ = f
        .create("t2", json!({"path": "a.txt", "content": "two"}))
        .unwrap();
    assert_eq!(
        f.delete(&created.data, &created.physical_id),
        Ok(Progress::Done)
    );
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "two");
}

#[test]
fn delete_refuses_physical_ids_outside_the_directory() {
    let f = Fixture::new();
    let outside = f.dir.path().parent().unwrap().join("victim");
    let result = f.delete(&ResourceData::new(), &outside.display().to_string());
    assert!(
        matches!(&result, Err(ProviderError::Failed(m)) if m.contains("it lies outside the directory")),
        "{result:?}"
    );
    let sneaky = f.path("../victim").display().to_string();
    let result = f.delete(&ResourceData::new(), &sneaky);
    assert!(
        matches!(&result, Err(ProviderError::Failed(m)) if m.contains("leaves the directory")),
        "{result:?}"
    );
}

#[test]
fn update_rewrites_the_content_in_place() {
    let f = Fixture::new();
    let old = json!({"path": "a.txt", "content": "one"});
    let created = f.create("t", old.clone()).unwrap();
    let updated = f
        .update(
            &created.data,
            &created.physical_id,
            old,
            json!({"path": "a.txt", "content": "two"}),
        )
        .unwrap();
    let Updated::InPlace { data, progress } = updated else {
        panic!("expected an in-place update, got {updated:?}");
    };
    assert_eq!(progress, Progress::Done);
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "two");
    assert_eq!(data[DATA_SHA256], sha256_hex(b"two"));
    assert_eq!(data[DATA_OWNER], "t");
    // The check now expects the new content.
    assert_eq!(f.check(&data, &created.physical_id), Ok(()));
    assert!(f.check(&created.data, &created.physical_id).is_err());
}

#[cfg(unix)]
#[test]
fn update_changes_the_mode_and_keeps_it_when_not_given() {
    let f = Fixture::new();
    let v1 = json!({"path": "a.txt", "content": "one", "mode": 0o640});
    let created = f.create("t", v1.clone()).unwrap();
    assert_eq!(mode(&f.path("a.txt")), 0o640);
    let v2 = json!({"path": "a.txt", "content": "one", "mode": 0o600});
    let _ = f
        .update(&created.data, &created.physical_id, v1, v2.clone())
        .unwrap();
    assert_eq!(mode(&f.path("a.txt")), 0o600);
    let v3 = json!({"path": "a.txt", "content": "two"});
    let _ = f
        .update(&created.data, &created.physical_id, v2, v3)
        .unwrap();
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "two");
    assert_eq!(mode(&f.path("a.txt")), 0o600);
}

#[test]
fn update_of_the_path_asks_for_replacement() {
    let f = Fixture::new();
    let old = json!({"path": "a.txt", "content": "one"});
    let created = f.create("t", old.clone()).unwrap();
    let updated = f
        .update(
            &created.data,
            &created.physical_id,
            old,
            json!({"path": "b.txt", "content": "one"}),
        )
        .unwrap();
    assert!(
        matches!(&updated, Updated::NeedsReplacement { reason } if reason.contains("\"a.txt\" to \"b.txt\"")),
        "{updated:?}"
    );
    // Nothing was touched.
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "one");
    assert!(!f.path("b.txt").exists());
}

#[test]
fn update_recreates_a_file_removed_by_hand() {
    let f = Fixture::new();
    let old = json!({"path": "a.txt", "content": "one"});
    let created = f.create("t", old.clone()).unwrap();
    fs::remove_file(&created.physical_id).unwrap();
    let _ = f
        .update(
            &created.data,
            &created.physical_id,
            old,
            json!({"path": "a.txt", "content": "two"}),
        )
        .unwrap();
    assert_eq!(fs::read_to_string(f.path("a.txt")).unwrap(), "two");
}

#[test]
fn update_refuses_bad_property_values() {
    let f = Fixture::new();
    let old = json!({"path": "a.txt", "content": "one"});
    let created = f.create("t", old.clone()).unwrap();
    let result = f.update(
        &created.data,
        &created.physical_id,
        old,
        json!({"path": "a.txt", "mode": 70000}),
    );
    assert!(
        matches!(&result, Err(ProviderError::Failed(m)) if m.contains("properties.mode: 70000 is not a mode")),
        "{result:?}"
    );
}

#[test]
fn check_verifies_existence_and_content() {
    let f = Fixture::new();
    let created = f
        .create("t", json!({"path": "a.txt", "content": "x"}))
        .unwrap();
    assert_eq!(f.check(&created.data, &created.physical_id), Ok(()));
    fs::write(f.path("a.txt"), "tampered").unwrap();
    let result = f.check(&created.data, &created.physical_id);
    assert!(
        matches!(&result, Err(ProviderError::Failed(m)) if m.contains("was changed outside heat")),
        "{result:?}"
    );
    fs::remove_file(f.path("a.txt")).unwrap();
    assert!(matches!(
        f.check(&created.data, &created.physical_id),
        Err(ProviderError::NotFound(_))
    ));
}

#[test]
fn attributes_describe_the_live_file() {
    let f = Fixture::new();
    let created = f
        .create("t", json!({"path": "a.txt", "content": "hello"}))
        .unwrap();
    let id = &created.physical_id;
    assert_eq!(f.attr(id, "size"), Ok(json!(5)));
    assert_eq!(f.attr(id, "sha256"), Ok(json!(sha256_hex(b"hello"))));
    assert_eq!(f.attr(id, "path"), Ok(json!(id)));
    assert_eq!(
        f.attr(id, "show"),
        Ok(json!({"path": id, "size": 5, "sha256": sha256_hex(b"hello")}))
    );
    assert_eq!(
        f.attr(id, "colour"),
        Err(ProviderError::UnknownAttribute("colour".to_string()))
    );
    fs::remove_file(id).unwrap();
    assert!(matches!(
        f.attr(id, "size"),
        Err(ProviderError::NotFound(_))
    ));
}
