//! Crash safety of the real server: `kill -9` during the create of a few hundred
//! `OS::Heat::TestResource`s that take a second each, then a restart on the same data
//! directory (SQLite). The restarted server resumes the create, the stack completes, and no
//! resource is made twice: every resource that had a physical id before the kill keeps it,
//! and every resource completed its create exactly once (one `CREATE_COMPLETE` event each).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RESOURCES: usize = 300;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn start(port: u16, data: &std::path::Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_heat-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "heat-server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

async fn call(method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Each resource's physical id (those that have one).
async fn physical_ids(stack_url: &str) -> BTreeMap<String, String> {
    let (status, body) = call(
        reqwest::Method::GET,
        &format!("{stack_url}/resources"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let id = r["physical_resource_id"].as_str()?;
            let name = r["resource_name"].as_str()?;
            (!id.is_empty()).then(|| (name.to_string(), id.to_string()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_resumes_the_create_without_duplicating_resources() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/v1/p1");
    let mut resources = serde_json::Map::new();
    for i in 0..RESOURCES {
        resources.insert(
            format!("r{i}"),
            json!({"type": "OS::Heat::TestResource",
                   "properties": {"value": format!("v{i}"), "action_wait_secs": {"create": 1}}}),
        );
    }
    let template = json!({"heat_template_version": "2018-08-31", "resources": resources});

    let mut server = start(port, data.path());
    let (status, body) = call(
        reqwest::Method::POST,
        &format!("{base}/stacks"),
        Some(&json!({"stack_name": "crash", "template": template, "timeout_mins": 30})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let stack_url = format!(
        "{base}/stacks/crash/{}",
        body["stack"]["id"].as_str().unwrap()
    );

    // Wait until some resources have physical ids, then kill -9 while the rest are in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        let ids = physical_ids(&stack_url).await;
        if ids.len() >= 20 {
            break ids;
        }
        assert!(Instant::now() < deadline, "no resource got a physical id");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // SIGKILL: no shutdown, no flush beyond what each committed batch already made durable.
    server.kill().unwrap();
    server.wait().unwrap();

    // Restart on the same data directory: the create resumes and completes.
    let mut server = start(port, data.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    let stack = loop {
        let (status, body) = call(reqwest::Method::GET, &stack_url, None).await;
        assert_eq!(status, 200, "{body}");
        let state = body["stack"]["stack_status"].as_str().unwrap().to_string();
        if !state.ends_with("IN_PROGRESS") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the create did not finish: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(stack["stack"]["stack_status"], "CREATE_COMPLETE", "{stack}");

    let after = physical_ids(&stack_url).await;
    assert_eq!(after.len(), RESOURCES, "every resource has a physical id");
    for (name, id) in &before {
        assert_eq!(after.get(name), Some(id), "{name} kept its physical id");
    }
    let distinct: std::collections::BTreeSet<&String> = after.values().collect();
    assert_eq!(
        distinct.len(),
        RESOURCES,
        "no two resources share a physical id"
    );

    // One CREATE_COMPLETE per resource: nothing was created twice.
    let (status, events) = call(
        reqwest::Method::GET,
        &format!("{stack_url}/events?resource_status=COMPLETE&resource_action=CREATE&limit=10000"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{events}");
    let mut per_resource: BTreeMap<String, usize> = BTreeMap::new();
    for e in events["events"].as_array().unwrap() {
        let name = e["resource_name"].as_str().unwrap();
        if name != "crash" {
            *per_resource.entry(name.to_string()).or_default() += 1;
        }
    }
    assert_eq!(per_resource.len(), RESOURCES, "{per_resource:?}");
    assert!(per_resource.values().all(|n| *n == 1), "{per_resource:?}");
    server.kill().unwrap();
    server.wait().unwrap();
}
