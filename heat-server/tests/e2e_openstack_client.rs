//! End to end: the real python-openstackclient + python-heatclient (installed by
//! `harness/clients/setup.sh` into a venv) drive a real `heat-server` process on a free
//! loopback port, with its embedded SQLite database in a temporary data directory.
//!
//! Every command asks for `-f json` (or reads the table the client prints) and the test
//! checks the fields the client shows, not only its exit status.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The venv's bin directory (installed once per test binary).
fn clients() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../harness/clients/setup.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .expect("run harness/clients/setup.sh");
        assert!(
            out.status.success(),
            "harness/clients/setup.sh failed: it installs python-openstackclient from PyPI"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("setup.sh prints the bin dir")
                .trim(),
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A heat-server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_heat-server"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--enable-stack-abandon", "--enable-stack-adopt"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start heat-server");
        let server = Server {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "heat-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/admin", self.port)
    }

    /// Runs `openstack ARGS` against this server (no auth, endpoint given).
    fn os(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(clients().join("openstack"));
        for (k, _) in std::env::vars() {
            if k.starts_with("OS_") {
                cmd.env_remove(k);
            }
        }
        cmd.args(["--os-auth-type", "none", "--os-endpoint", &self.endpoint()])
            .args(args)
            .output()
            .expect("run openstack")
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.os(args);
        assert!(
            out.status.success(),
            "openstack {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command with `-f json` and parses the JSON it prints (after any event lines
    /// `--wait` prints first).
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-f", "json"]);
        let out = self.ok(&all);
        parse_json(&out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON document in a command's output (`--wait` prints event lines before it).
fn parse_json(out: &str) -> Value {
    let start = out
        .lines()
        .position(|l| l.starts_with('{') || l.starts_with('['))
        .unwrap_or_else(|| panic!("no JSON in:\n{out}"));
    let text: Vec<&str> = out.lines().skip(start).collect();
    serde_json::from_str(&text.join("\n")).unwrap_or_else(|e| panic!("{e}: bad JSON in:\n{out}"))
}

fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("no field {key} in {v:#}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write template");
    path.to_string_lossy().into_owned()
}

/// `stack show` until the status is no longer IN_PROGRESS (for commands without `--wait`).
fn settle(server: &Server, stack: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = server.json(&["stack", "show", stack]);
        let status = field(&shown, "stack_status")
            .as_str()
            .unwrap_or("")
            .to_string();
        if !status.ends_with("IN_PROGRESS") {
            return shown;
        }
        assert!(Instant::now() < deadline, "{stack} stayed {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const APP: &str = r#"heat_template_version: 2018-08-31
description: e2e application
parameters:
  length:
    type: number
    default: 8
    constraints:
      - range: {min: 4, max: 64}
  word:
    type: string
    default: hello
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: {get_param: length}
  greeting:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: word}
      action_wait_secs: {create: 1}
  after:
    type: OS::Heat::None
    depends_on: [greeting]
outputs:
  greeting:
    description: what the test resource holds
    value: {get_attr: [greeting, output]}
  secret_length:
    value: {get_param: length}
"#;

#[test]
fn the_stack_lifecycle_through_the_openstack_client() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = write(dir.path(), "app.yaml", APP);

    // Create, waiting for it.
    let created = server.json(&[
        "stack",
        "create",
        "--wait",
        "-t",
        &app,
        "--parameter",
        "length=12",
        "--parameter",
        "word=bonjour",
        "--tag",
        "e2e",
        "web",
    ]);
    assert_eq!(field(&created, "stack_name"), "web");
    assert_eq!(
        field(&created, "stack_status"),
        "CREATE_COMPLETE",
        "{created:#}"
    );
    let id = field(&created, "id").as_str().expect("id").to_string();

    // List and show.
    let list = server.json(&["stack", "list"]);
    let rows = list.as_array().expect("a list");
    assert_eq!(rows.len(), 1);
    assert_eq!(field(&rows[0], "Stack Name"), "web");
    assert_eq!(field(&rows[0], "Stack Status"), "CREATE_COMPLETE");
    assert_eq!(field(&rows[0], "ID"), id.as_str());
    let shown = server.json(&["stack", "show", "web"]);
    assert_eq!(field(&shown, "description"), "e2e application");
    assert_eq!(field(&shown, "parameters")["length"], "12");
    assert_eq!(field(&shown, "parameters")["OS::stack_name"], "web");
    let outputs = field(&shown, "outputs").as_array().expect("outputs");
    let greeting = outputs
        .iter()
        .find(|o| o["output_key"] == "greeting")
        .expect("greeting output");
    assert_eq!(greeting["output_value"], "bonjour");

    // Outputs.
    let outs = server.json(&["stack", "output", "list", "web"]);
    let keys: Vec<&str> = outs
        .as_array()
        .expect("outputs")
        .iter()
        .filter_map(|o| o["output_key"].as_str())
        .collect();
    assert!(
        keys.contains(&"greeting") && keys.contains(&"secret_length"),
        "{outs:#}"
    );
    let out = server.json(&["stack", "output", "show", "web", "greeting"]);
    assert_eq!(field(&out, "output_value"), "bonjour");

    // Resources.
    let resources = server.json(&["stack", "resource", "list", "web"]);
    let names: Vec<&str> = resources
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["resource_name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{resources:#}");
    for r in resources.as_array().expect("resources") {
        assert_eq!(r["resource_status"], "CREATE_COMPLETE", "{r:#}");
    }
    let secret = server.json(&["stack", "resource", "show", "web", "secret"]);
    assert_eq!(field(&secret, "resource_type"), "OS::Heat::RandomString");
    assert!(
        !field(&secret, "physical_resource_id")
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
    assert_eq!(
        field(&secret, "attributes")["value"].as_str().map(str::len),
        Some(12),
        "{secret:#}"
    );

    // Events.
    let events = server.json(&["stack", "event", "list", "web"]);
    let events = events.as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["resource_name"] == "greeting" && e["resource_status"] == "CREATE_COMPLETE"),
        "{events:#?}"
    );
    assert!(events.iter().any(|e| e["resource_name"] == "web"
        && e["resource_status"] == "CREATE_COMPLETE"
        && e["resource_status_reason"] == "Stack CREATE completed successfully"));

    // Template.
    let template = server.json(&["stack", "template", "show", "web"]);
    assert_eq!(field(&template, "description"), "e2e application");
    assert!(field(&template, "resources").get("greeting").is_some());

    // Update preview (--dry-run), then update.
    let preview = server.ok(&[
        "stack",
        "update",
        "--dry-run",
        "-t",
        &app,
        "--parameter",
        "word=salut",
        "web",
    ]);
    assert!(preview.contains("greeting"), "{preview}");
    let shown = server.json(&["stack", "show", "web"]);
    assert_eq!(
        field(&shown, "stack_status"),
        "CREATE_COMPLETE",
        "a dry run changes nothing"
    );
    let updated = server.json(&[
        "stack",
        "update",
        "--wait",
        "-t",
        &app,
        "--parameter",
        "length=12",
        "--parameter",
        "word=salut",
        "web",
    ]);
    assert_eq!(
        field(&updated, "stack_status"),
        "UPDATE_COMPLETE",
        "{updated:#}"
    );
    let out = server.json(&["stack", "output", "show", "web", "greeting"]);
    assert_eq!(field(&out, "output_value"), "salut");

    // Suspend, resume, check.
    server.ok(&["stack", "suspend", "web"]);
    assert_eq!(settle(&server, "web")["stack_status"], "SUSPEND_COMPLETE");
    server.ok(&["stack", "resume", "web"]);
    assert_eq!(settle(&server, "web")["stack_status"], "RESUME_COMPLETE");
    server.ok(&["stack", "check", "web"]);
    assert_eq!(settle(&server, "web")["stack_status"], "CHECK_COMPLETE");

    // Delete, waiting for it.
    server.ok(&["stack", "delete", "--yes", "--wait", "web"]);
    let list = server.json(&["stack", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list:#}");
    let gone = server.os(&["stack", "show", "web"]);
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("Stack not found: web"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}

const WAIT: &str = r#"heat_template_version: 2018-08-31
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  waiter:
    type: OS::Heat::WaitCondition
    properties:
      handle: {get_resource: handle}
      timeout: 600
outputs:
  data:
    value: {get_attr: [waiter, data]}
"#;

#[test]
fn a_wait_condition_completes_when_its_handle_is_signalled() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let t = write(dir.path(), "wait.yaml", WAIT);
    server.ok(&["stack", "create", "-t", &t, "waits"]);
    // The handle exists before the wait condition completes.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = server.json(&["stack", "resource", "show", "waits", "handle"]);
        if r["resource_status"] == "CREATE_COMPLETE" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the handle was not created: {r:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server.json(&["stack", "show", "waits"])["stack_status"],
        "CREATE_IN_PROGRESS"
    );
    server.ok(&[
        "stack",
        "resource",
        "signal",
        "waits",
        "handle",
        "--data",
        r#"{"status": "SUCCESS", "reason": "booted", "data": "ready", "id": "1"}"#,
    ]);
    let shown = settle(&server, "waits");
    assert_eq!(
        field(&shown, "stack_status"),
        "CREATE_COMPLETE",
        "{shown:#}"
    );
    let out = server.json(&["stack", "output", "show", "waits", "data"]);
    assert_eq!(field(&out, "output_value"), r#"{"1": "ready"}"#);
}

#[test]
fn snapshots_abandon_and_adopt_through_the_openstack_client() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = write(
        dir.path(),
        "app.yaml",
        &APP.replace("create: 1", "create: 0"),
    );
    server.json(&["stack", "create", "--wait", "-t", &app, "snap"]);
    let secret = server.json(&["stack", "resource", "show", "snap", "secret"]);
    let value = secret["attributes"]["value"].clone();

    // Snapshot create / list / restore.
    let snapshot = server.json(&["stack", "snapshot", "create", "snap", "--name", "first"]);
    // The client shows the snapshot's id as "ID".
    let snapshot_id = field(&snapshot, "ID").as_str().expect("id").to_string();
    assert_eq!(field(&snapshot, "name"), "first");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = server.json(&["stack", "snapshot", "list", "snap"]);
        let rows = list.as_array().expect("snapshots");
        assert_eq!(rows.len(), 1, "{list:#}");
        if rows[0]["status"] == "COMPLETE" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the snapshot did not complete: {list:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.ok(&["stack", "snapshot", "restore", "snap", &snapshot_id]);
    let shown = settle(&server, "snap");
    assert_eq!(
        field(&shown, "stack_status"),
        "RESTORE_COMPLETE",
        "{shown:#}"
    );
    let again = server.json(&["stack", "resource", "show", "snap", "secret"]);
    assert_eq!(
        again["attributes"]["value"], value,
        "the same random string"
    );

    // Abandon: the stack is forgotten, its data printed; adopt it back under a new name.
    let data = server.json(&["stack", "abandon", "snap"]);
    assert_eq!(field(&data, "name"), "snap");
    assert!(
        field(&data, "resources").get("secret").is_some(),
        "{data:#}"
    );
    let list = server.json(&["stack", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    let adopt_file = write(dir.path(), "adopt.json", &data.to_string());
    let adopted = server.json(&[
        "stack",
        "adopt",
        "--wait",
        "--adopt-file",
        &adopt_file,
        "back",
    ]);
    assert_eq!(
        field(&adopted, "stack_status"),
        "ADOPT_COMPLETE",
        "{adopted:#}"
    );
    let secret = server.json(&["stack", "resource", "show", "back", "secret"]);
    assert_eq!(
        secret["physical_resource_id"],
        data["resources"]["secret"]["resource_id"]
    );
}

#[test]
fn validate_and_resource_types_through_the_openstack_client() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = write(dir.path(), "app.yaml", APP);
    let valid = server.json(&["orchestration", "template", "validate", "-t", &app]);
    assert_eq!(field(&valid, "Description"), "e2e application");
    assert_eq!(field(&valid, "Parameters")["length"]["Default"], 8);
    let bad = write(
        dir.path(),
        "bad.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Heat::None\n    depends_on: [nope]\n",
    );
    let out = server.os(&["orchestration", "template", "validate", "-t", &bad]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope") && err.contains("E3003"), "{err}");
    // The client sends the template as a JSON object, so the line:column are those of the
    // server's rendering of it; the resource is named too.
    assert!(
        err.contains("template:") && err.contains("(in resource x)"),
        "the message carries line:column and the resource: {err}"
    );

    let types = server.json(&["orchestration", "resource", "type", "list"]);
    let names: Vec<&str> = types
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["Resource Type"].as_str())
        .collect();
    assert!(names.contains(&"OS::Heat::TestResource"), "{names:?}");
    assert!(
        names.contains(&"AWS::CloudFormation::WaitCondition"),
        "{names:?}"
    );
    let shown = server.json(&[
        "orchestration",
        "resource",
        "type",
        "show",
        "OS::Heat::RandomString",
    ]);
    assert_eq!(field(&shown, "resource_type"), "OS::Heat::RandomString");
    assert!(
        field(&shown, "properties").get("length").is_some(),
        "{shown:#}"
    );
    assert!(
        field(&shown, "attributes").get("value").is_some(),
        "{shown:#}"
    );
}

#[test]
fn a_create_in_progress_is_cancelled_through_the_openstack_client() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let t = write(dir.path(), "wait.yaml", WAIT);
    server.ok(&["stack", "create", "-t", &t, "slow"]);
    std::thread::sleep(Duration::from_millis(300));
    server.ok(&["stack", "cancel", "--no-rollback", "slow"]);
    let shown = settle(&server, "slow");
    assert_eq!(field(&shown, "stack_status"), "CREATE_FAILED", "{shown:#}");
}
