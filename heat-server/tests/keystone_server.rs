//! The real `heat-server` binary with `--auth keystone`, against the real Keystone 30 of
//! harness/keystone, over plain HTTP on free loopback ports, with the memory store: tenancy
//! by token, 401 faults for missing, bad, revoked and expired tokens, the validation cache
//! (counted in the server's own debug log), and a generic 503 when Keystone cannot be used.
//!
//! Each test starts its own server (its own store and cache, its own log); the Keystone
//! instances are shared by the whole binary: one with hour-long tokens, one whose tokens
//! live [`SHORT_LIFETIME`].
// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keystone_harness;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keystone_harness::{Keystone, closed_port, unique_suffix};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The token lifetime of the second Keystone, for the expiry test.
const SHORT_LIFETIME: Duration = Duration::from_secs(10);

fn keystone() -> &'static Keystone {
    static KEYSTONE: OnceLock<Keystone> = OnceLock::new();
    KEYSTONE.get_or_init(|| keystone_harness::start(Duration::from_secs(3600)))
}

fn short_lived_keystone() -> &'static Keystone {
    static KEYSTONE: OnceLock<Keystone> = OnceLock::new();
    KEYSTONE.get_or_init(|| keystone_harness::start(SHORT_LIFETIME))
}

/// A running `heat-server`; killed if the test fails before [`Server::stop`].
struct Server {
    child: Child,
    base: String,
    /// The service password it was given, which its log must never show.
    password: String,
    log: Option<JoinHandle<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `heat-server --auth keystone` against `keystone_url` as the service user `heat`
/// with `password` (given as `HEAT_KEYSTONE_PASSWORD`, the recommended way), logging
/// heat_server's debug lines, with the memory store on a free loopback port.
fn start_with(keystone_url: &str, password: &str, extra: &[&str]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_heat-server"));
    // Nothing from the environment of the test run leaks into the server's configuration.
    for (name, _) in std::env::vars() {
        if name.starts_with("HEAT_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--database-url", "memory://"])
        .args(["--auth", "keystone", "--keystone-url", keystone_url])
        .args(["--keystone-user", "heat", "--keystone-project", "service"])
        .args(extra)
        .env("HEAT_KEYSTONE_PASSWORD", password)
        .env("HEAT_LOG", "info,heat_server=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(addr) = line.trim().strip_prefix("heat-server listening on http://") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "heat-server did not start: {line:?}\n{}",
            log.join().unwrap()
        );
    };
    Server {
        base: format!("http://{addr}"),
        child,
        password: password.to_string(),
        log: Some(log),
    }
}

/// Starts `heat-server` against `ks` with the real password of `heat`.
fn start(ks: &Keystone, extra: &[&str]) -> Server {
    start_with(&ks.auth_url, &ks.account("heat").password, extra)
}

impl Server {
    /// One request; its status and JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .header("accept", "application/json");
        if let Some(token) = token {
            request = request.header("x-auth-token", token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("heat-server answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    /// Stops the server (SIGTERM), checks it exited 0, and returns its whole log, which
    /// must not show the service password.
    fn stop(&mut self) -> String {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let exit = self.child.wait().unwrap();
        let log = self.log.take().unwrap().join().unwrap();
        assert!(exit.success(), "exit status {exit:?}\n{log}");
        assert!(
            !log.contains(&self.password),
            "the log shows the service password:\n{log}"
        );
        log
    }
}

/// The name logs give a token: the first 8 hex digits of its SHA-256.
fn short_name(token: &str) -> String {
    Sha256::digest(token.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The log lines about `token` that contain `what`.
fn lines_about(log: &str, token: &str, what: &str) -> usize {
    let span = format!("token={}", short_name(token));
    log.lines()
        .filter(|l| l.contains(&span) && l.contains(what))
        .count()
}

/// Asserts `body` is Heat's fault for `status` with exception type `kind`.
fn assert_fault(status: u16, body: &Value, expected: u16, kind: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], expected, "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["title"].is_string() && body["explanation"].is_string());
    assert!(body["error"]["message"].is_string(), "{body}");
}

fn template() -> Value {
    json!({
        "heat_template_version": "2018-08-31",
        "resources": {
            "rs": {"type": "OS::Heat::RandomString", "properties": {"length": 8}}
        },
        "outputs": {"value": {"value": {"get_attr": ["rs", "value"]}}}
    })
}

#[tokio::test]
async fn a_project_token_works_in_its_project_and_finds_nothing_in_another() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let beta = ks.project_id("beta");
    let alice = ks.token("alice").await;
    let mut server = start(ks, &[]);

    let (status, body) = server
        .get(&format!("/v1/{alpha}/stacks"), Some(&alice))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stacks"], json!([]));

    let name = format!("ks-{}", unique_suffix()).replace('-', "_");
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            &format!("/v1/{alpha}/stacks"),
            Some(&alice),
            Some(&json!({"stack_name": name, "template": template()})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["stack"]["id"].as_str().unwrap().to_string();

    let (status, body) = server
        .get(&format!("/v1/{alpha}/stacks"), Some(&alice))
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = body["stacks"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{body}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["stack_name"], name.as_str());
    assert_eq!(listed[0]["stack_owner"], "alice");

    // The stack belongs to alice in project alpha, as Keystone named them.
    let (status, body) = server
        .get(&format!("/v1/{alpha}/stacks/{name}/{id}"), Some(&alice))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stack"]["stack_owner"], "alice");
    assert_eq!(
        body["stack"]["parameters"]["OS::project_id"],
        alpha.as_str()
    );
    let (_, body) = server
        .get(&format!("/v1/{alpha}/stacks?username=alice"), Some(&alice))
        .await;
    assert_eq!(body["stacks"].as_array().unwrap().len(), 1, "{body}");
    let (_, body) = server
        .get(&format!("/v1/{alpha}/stacks?username=bob"), Some(&alice))
        .await;
    assert_eq!(body["stacks"], json!([]));

    // The same token in project beta's URLs: nothing there exists for alice.
    for path in [
        format!("/v1/{beta}/stacks"),
        format!("/v1/{beta}/stacks/{name}/{id}"),
        format!("/v1/{beta}/stacks/{name}"),
    ] {
        let (status, body) = server.get(&path, Some(&alice)).await;
        assert_fault(status, &body, 404, "HTTPNotFound");
    }
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            &format!("/v1/{beta}/stacks"),
            Some(&alice),
            Some(&json!({"stack_name": "intruder", "template": template()})),
        )
        .await;
    assert_fault(status, &body, 404, "HTTPNotFound");

    // bob, in beta, sees none of alpha's stacks, nor alice's stack by its URL.
    let bob = ks.token("bob").await;
    let (status, body) = server.get(&format!("/v1/{beta}/stacks"), Some(&bob)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stacks"], json!([]));
    let (status, body) = server
        .get(&format!("/v1/{alpha}/stacks/{name}/{id}"), Some(&bob))
        .await;
    assert_fault(status, &body, 404, "HTTPNotFound");

    let log = server.stop();
    assert!(
        !log.contains(&alice) && !log.contains(&bob),
        "tokens logged"
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401_faults() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let mut server = start(ks, &[]);
    let path = format!("/v1/{alpha}/stacks");

    let (status, body) = server.get(&path, None).await;
    assert_fault(status, &body, 401, "HTTPUnauthorized");
    for garbage in [
        "not-a-token",
        "gAAAAABnot-a-real-fernet-token-at-all_0123456789",
    ] {
        let (status, body) = server.get(&path, Some(garbage)).await;
        assert_fault(status, &body, 401, "HTTPUnauthorized");
    }
    // A malformed token is refused without asking Keystone.
    let (status, body) = server.get(&path, Some("two words")).await;
    assert_fault(status, &body, 401, "HTTPUnauthorized");
    // Nothing was created by the refused requests.
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            &path,
            Some("not-a-token"),
            Some(&json!({"stack_name": "nope", "template": template()})),
        )
        .await;
    assert_fault(status, &body, 401, "HTTPUnauthorized");
    let alice = ks.token("alice").await;
    let (status, body) = server.get(&path, Some(&alice)).await;
    assert_eq!((status, &body["stacks"]), (200, &json!([])), "{body}");
    server.stop();
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once_without_the_cache() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let mut server = start(ks, &["--keystone-cache-ttl", "0"]);
    let path = format!("/v1/{alpha}/stacks");
    let token = ks.token("alice").await;

    let (status, body) = server.get(&path, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    ks.revoke(&token).await;
    let (status, body) = server.get(&path, Some(&token)).await;
    assert_fault(status, &body, 401, "HTTPUnauthorized");

    let log = server.stop();
    assert_eq!(
        lines_about(&log, &token, "token validated by Keystone"),
        1,
        "{log}"
    );
    assert_eq!(
        lines_about(&log, &token, "Keystone does not know the token"),
        1,
        "{log}"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_though_its_validation_is_cached() {
    let ks = short_lived_keystone();
    let alpha = ks.project_id("alpha");
    // The default cache TTL (300 s) outlives the token: its expiry alone must end it.
    let mut server = start(ks, &[]);
    let path = format!("/v1/{alpha}/stacks");
    // Issued once the server runs, and used at once: well within its lifetime.
    let token = ks.token("alice").await;
    let issued_by = Instant::now();
    let (status, body) = server.get(&path, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    // Keystone set the expiry before `issued_by`: a second past the lifetime, it has passed.
    tokio::time::sleep_until((issued_by + SHORT_LIFETIME + Duration::from_secs(1)).into()).await;
    let (status, body) = server.get(&path, Some(&token)).await;
    assert_fault(status, &body, 401, "HTTPUnauthorized");

    // A fresh token of the same user still works.
    let fresh = ks.token("alice").await;
    let (status, body) = server.get(&path, Some(&fresh)).await;
    assert_eq!(status, 200, "{body}");
    let log = server.stop();
    // The expired token's cached validation was not used: Keystone was asked again.
    assert_eq!(
        lines_about(&log, &token, "answered from the cache"),
        0,
        "{log}"
    );
    assert_eq!(
        lines_about(&log, &token, "Keystone does not know the token"),
        1,
        "{log}"
    );
}

#[tokio::test]
async fn the_same_token_twice_is_validated_by_keystone_once() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let path = format!("/v1/{alpha}/stacks");
    let token = ks.token("alice").await;

    let mut server = start(ks, &[]);
    for _ in 0..2 {
        let (status, body) = server.get(&path, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
    }
    let log = server.stop();
    assert_eq!(
        lines_about(&log, &token, "token validated by Keystone"),
        1,
        "{log}"
    );
    assert_eq!(
        lines_about(&log, &token, "answered from the cache"),
        1,
        "{log}"
    );

    // Without the cache, the same two requests are two validations: the count above is
    // the cache's doing.
    let mut uncached = start(ks, &["--keystone-cache-ttl", "0"]);
    for _ in 0..2 {
        let (status, body) = uncached.get(&path, Some(&token)).await;
        assert_eq!(status, 200, "{body}");
    }
    let log = uncached.stop();
    assert_eq!(
        lines_about(&log, &token, "token validated by Keystone"),
        2,
        "{log}"
    );
    assert_eq!(
        lines_about(&log, &token, "answered from the cache"),
        0,
        "{log}"
    );
}

#[tokio::test]
async fn keystone_trouble_is_a_generic_503_with_the_detail_in_the_log() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let path = format!("/v1/{alpha}/stacks");
    let token = ks.token("alice").await;

    // heat's own credentials are wrong: Keystone refuses the service user.
    let wrong = format!("wrong-{}", unique_suffix());
    let mut server = start_with(&ks.auth_url, &wrong, &[]);
    let (status, body) = server.get(&path, Some(&token)).await;
    assert_fault(status, &body, 503, "HTTPServiceUnavailable");
    let shown = body.to_string();
    for detail in ["credentials", "service user", "heat", &wrong, &ks.auth_url] {
        assert!(!shown.contains(detail), "the 503 shows {detail:?}: {shown}");
    }
    let log = server.stop();
    assert!(
        log.contains("rejected the credentials of the service user \"heat\""),
        "{log}"
    );
    assert!(!log.contains(&token), "token logged:\n{log}");

    // Keystone does not answer at all.
    let down = format!("http://127.0.0.1:{}/v3", closed_port());
    let mut server = start_with(&down, &ks.account("heat").password, &[]);
    let (status, body) = server.get(&path, Some(&token)).await;
    assert_fault(status, &body, 503, "HTTPServiceUnavailable");
    assert!(!body.to_string().contains("127.0.0.1"), "{body}");
    let log = server.stop();
    assert!(log.contains("cannot authenticate the request"), "{log}");
    assert!(
        log.contains(&down),
        "the log names the unreachable Keystone:\n{log}"
    );
}

#[test]
fn keystone_without_a_url_or_a_password_does_not_start() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_heat-server"));
        for (name, _) in std::env::vars() {
            if name.starts_with("HEAT_") {
                command.env_remove(name);
            }
        }
        command
            .args(["--listen", "127.0.0.1:0", "--database-url", "memory://"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = run(&["--auth", "keystone"], &[("HEAT_KEYSTONE_PASSWORD", "pw")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--keystone-url"), "{stderr}");

    let out = run(
        &["--keystone-url", "http://127.0.0.1:5000/v3"],
        &[("HEAT_AUTH", "keystone")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("HEAT_AUTH: keystone authentication needs the password"),
        "{stderr}"
    );

    let out = run(
        &[
            "--auth",
            "keystone",
            "--keystone-url",
            "https://keystone/v3",
        ],
        &[("HEAT_KEYSTONE_PASSWORD", "pw")],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--keystone-url") && stderr.contains("only plain http"),
        "{stderr}"
    );
}
