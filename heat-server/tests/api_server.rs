//! The real `heat-server` binary: started on a free loopback port with a temporary data
//! directory, it creates a stack over plain HTTP, and exits 0 on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// Kills the server if the test fails half-way.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(data_dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_heat-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "memory://",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env("HEAT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("heat-server listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    Server { child, addr }
}

/// One HTTP/1.1 exchange; the status and the JSON body.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string()))
    };
    (status, body)
}

#[test]
fn the_server_creates_a_stack_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), &[]);
    let (status, body) = http(&server.addr, "GET", "/", None);
    assert_eq!(status, 300);
    assert_eq!(body["versions"][0]["id"], "v1.0");

    let template = json!({
        "heat_template_version": "2018-08-31",
        "resources": {
            "rs": {"type": "OS::Heat::RandomString", "properties": {"length": 12}},
            "tr": {"type": "OS::Heat::TestResource", "properties": {
                "value": {"get_attr": ["rs", "value"]}, "action_wait_secs": {"create": 1}
            }}
        },
        "outputs": {"out": {"value": {"get_attr": ["tr", "output"]}}}
    });
    let (status, body) = http(
        &server.addr,
        "POST",
        "/v1/demo/stacks",
        Some(&json!({"stack_name": "smoke", "template": template})),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["stack"]["id"].as_str().unwrap().to_string();
    let path = format!("/v1/demo/stacks/smoke/{id}");

    // Poll until the create ends (bounded, so a broken server fails the test).
    let mut state = String::new();
    for _ in 0..600 {
        let (status, body) = http(&server.addr, "GET", &path, None);
        assert_eq!(status, 200, "{body}");
        state = body["stack"]["stack_status"].as_str().unwrap().to_string();
        if state != "CREATE_IN_PROGRESS" {
            let output = &body["stack"]["outputs"][0]["output_value"];
            assert_eq!(output.as_str().map(str::len), Some(12), "{body}");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state, "CREATE_COMPLETE");

    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut exit = None;
    for _ in 0..600 {
        if let Some(status) = server.child.try_wait().unwrap() {
            exit = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let exit = exit.expect("the server stopped after SIGTERM");
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn a_bad_configuration_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_heat-server"))
        .args(["--listen", "0.0.0.0:8004", "--database-url", "memory://"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");

    // A data directory that cannot be made (a file is in the way): a clear error, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_heat-server"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&blocker)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not-a-dir"), "{stderr}");
}
