//! Demo: registers `Example::Local::File` next to heat's built-in types, creates a stack of
//! two files from an embedded HOT template (the second records the first's checksum through
//! `get_attr`), prints the outputs and the files, then deletes the stack.
//!
//! ```text
//! cargo run -p heat-example-local-files [DIRECTORY]
//! ```
//!
//! DIRECTORY (created if missing) is where the files go; by default a fresh directory under
//! the system's temporary directory, removed at the end.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use heat_core::engine::{
    Action, Clock, CreateRequest, Engine, EngineConfig, EngineError, MemoryStore, ProviderRegistry,
    SeededRandom, Services, State, Status,
};
use heat_example_local_files::{LocalFiles, TYPE_NAME};

/// The stack the demo creates.
const TEMPLATE: &str = r#"heat_template_version: 2018-08-31
description: Two files; the manifest records the greeting's size and checksum.
parameters:
  message:
    type: string
    default: Hello from heat!
resources:
  greeting:
    type: Example::Local::File
    properties:
      path: greetings/hello.txt
      content: {get_param: message}
      mode: 420
  manifest:
    type: Example::Local::File
    properties:
      path: MANIFEST
      content:
        str_replace:
          template: "greetings/hello.txt size=SIZE sha256=SHA\n"
          params:
            SIZE: {get_attr: [greeting, size]}
            SHA: {get_attr: [greeting, sha256]}
outputs:
  greeting_path:
    description: Where the greeting is.
    value: {get_attr: [greeting, path]}
  manifest_sha256:
    description: The manifest's checksum.
    value: {get_attr: [manifest, sha256]}
"#;

/// The engine's clock, on tokio's timer (heat-core reads no clock of its own).
struct TokioClock {
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A seed from the standard library's per-process random hash keys, so that ids and
/// idempotency tokens differ from run to run. (A server would use the OS's random source.)
fn random_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Where the files go, and whether the demo made (and so removes) the directory.
fn directory() -> Result<(PathBuf, bool), String> {
    let (dir, ours) = match std::env::args_os().nth(1) {
        Some(arg) => (PathBuf::from(arg), false),
        None => (
            std::env::temp_dir().join(format!("heat-local-files-demo-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok((dir, ours))
}

fn list_files(root: &Path) {
    for rel in ["greetings/hello.txt", "MANIFEST"] {
        match std::fs::read_to_string(root.join(rel)) {
            Ok(text) => println!("  {rel}: {:?}", text),
            Err(e) => println!("  {rel}: ({e})"),
        }
    }
}

async fn demo(root: &Path) -> Result<(), String> {
    let provider = LocalFiles::new(root).map_err(|e| e.to_string())?;
    let mut registry = ProviderRegistry::with_builtins();
    registry.register(TYPE_NAME, Arc::new(provider));
    let services = Services::new(
        Arc::new(TokioClock {
            start: tokio::time::Instant::now(),
        }),
        Arc::new(SeededRandom::new(random_seed())),
    );
    let engine = Engine::new(
        Arc::new(MemoryStore::new()),
        Arc::new(registry),
        services,
        EngineConfig::default(),
    );

    let created = engine
        .create_stack(CreateRequest {
            name: "local-files-demo".to_string(),
            template: TEMPLATE.to_string(),
            ..CreateRequest::default()
        })
        .await
        .map_err(describe)?;
    println!("create: {} ({})", created.state, created.reason);
    for output in engine.outputs(&created.id).await.map_err(describe)? {
        match (output.value, output.error) {
            (Some(value), _) => println!("output {} = {value}", output.name),
            (None, error) => println!(
                "output {} failed: {}",
                output.name,
                error.unwrap_or_default()
            ),
        }
    }
    println!("files in {}:", root.display());
    list_files(root);

    let deleted = engine.delete_stack(&created.id).await.map_err(describe)?;
    println!("delete: {} ({})", deleted.state, deleted.reason);
    println!("files after the delete:");
    list_files(root);
    if created.state != State::new(Action::Create, Status::Complete)
        || deleted.state != State::new(Action::Delete, Status::Complete)
    {
        return Err("the stack did not complete".to_string());
    }
    Ok(())
}

fn describe(e: EngineError) -> String {
    match e {
        EngineError::Invalid(diagnostics) => diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

fn main() -> ExitCode {
    let (root, ours) = match directory() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("local-files demo: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("local-files demo: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(demo(&root));
    if ours {
        let _ = std::fs::remove_dir_all(&root);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-files demo: {e}");
            ExitCode::FAILURE
        }
    }
}
