//! A real Keystone for the `keystone_*` tests, started through `harness/keystone` (once per
//! test binary, stopped by the harness's owner watch when the binary exits), and the few
//! Keystone calls the tests make themselves: issue, revoke, create and disable users.
#![allow(dead_code)] // each test binary uses a part of it

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use heat_server::auth::keystone::{KeystoneConfig, ServiceCredentials};
use serde_json::{Value, json};

/// One running Keystone instance, as `harness/keystone/start.sh` describes it.
pub struct Keystone {
    /// Its identity endpoint, `http://127.0.0.1:PORT/v3`.
    pub auth_url: String,
    /// Where its state and logs are.
    pub dir: PathBuf,
    /// The lifetime of the tokens it issues.
    pub token_expiration: Duration,
    description: Value,
    /// The admin's token, once issued (tokens belong to no runtime: tests share it).
    admin_token: Mutex<Option<String>>,
}

/// Starts a Keystone whose tokens live `token_expiration`: `setup.sh` (a no-op once done),
/// then `start.sh --owner-pid <this process>`.
pub fn start(token_expiration: Duration) -> Keystone {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("../harness/keystone");
    let setup = Command::new("bash")
        .arg(harness.join("setup.sh"))
        .status()
        .expect("run harness/keystone/setup.sh");
    assert!(
        setup.success(),
        "harness/keystone/setup.sh failed ({setup}); it needs python3 >= 3.10 and PyPI"
    );
    let started = Command::new("bash")
        .arg(harness.join("start.sh"))
        .args(["--owner-pid", &std::process::id().to_string()])
        .args([
            "--token-expiration",
            &token_expiration.as_secs().to_string(),
        ])
        .output()
        .expect("run harness/keystone/start.sh");
    assert!(
        started.status.success(),
        "harness/keystone/start.sh failed ({}):\n{}",
        started.status,
        String::from_utf8_lossy(&started.stderr)
    );
    let description: Value =
        serde_json::from_slice(&started.stdout).expect("start.sh prints the instance's JSON");
    Keystone {
        auth_url: description["auth_url"].as_str().unwrap().to_string(),
        dir: PathBuf::from(description["dir"].as_str().unwrap()),
        token_expiration,
        description,
        admin_token: Mutex::new(None),
    }
}

/// A user the harness created: name, id, password and project.
#[derive(Clone, Debug)]
pub struct Account {
    pub name: String,
    pub id: String,
    pub password: String,
    pub project: String,
}

impl Keystone {
    /// The id of project `name` (`service`, `alpha`, `beta`, `admin`).
    pub fn project_id(&self, name: &str) -> String {
        self.description["projects"][name]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no project {name} in keystone.json"))
            .to_string()
    }

    /// The account `name` (`heat`, `alice`, `bob`, `admin`).
    pub fn account(&self, name: &str) -> Account {
        let user = &self.description["users"][name];
        Account {
            name: name.to_string(),
            id: user["id"].as_str().unwrap().to_string(),
            password: user["password"].as_str().unwrap().to_string(),
            project: user["project"].as_str().unwrap().to_string(),
        }
    }

    /// heat's configuration for this Keystone, as the service user `heat`.
    pub fn config(&self) -> KeystoneConfig {
        let heat = self.account("heat");
        KeystoneConfig::new(
            self.auth_url.clone(),
            ServiceCredentials::new(heat.name, heat.password, heat.project),
        )
    }

    /// A new token of `account`, scoped to its project.
    pub async fn token_of(&self, account: &Account) -> String {
        self.issue(json!({
            "identity": {"methods": ["password"], "password": {"user": {
                "name": account.name, "domain": {"id": "default"}, "password": account.password}}},
            "scope": {"project": {"name": account.project, "domain": {"id": "default"}}},
        }))
        .await
        .unwrap_or_else(|status| panic!("{} could not get a token: {status}", account.name))
    }

    /// A new token of the harness user `name`, scoped to its project.
    pub async fn token(&self, name: &str) -> String {
        self.token_of(&self.account(name)).await
    }

    /// A system-scoped token of `admin`: valid, but for no project.
    pub async fn system_token(&self) -> String {
        let admin = self.account("admin");
        self.issue(json!({
            "identity": {"methods": ["password"], "password": {"user": {
                "name": admin.name, "domain": {"id": "default"}, "password": admin.password}}},
            "scope": {"system": {"all": true}},
        }))
        .await
        .expect("a system-scoped admin token")
    }

    async fn issue(&self, auth: Value) -> Result<String, reqwest::StatusCode> {
        let response = reqwest::Client::new()
            .post(format!("{}/auth/tokens?nocatalog", self.auth_url))
            .header("content-type", "application/json")
            .body(json!({ "auth": auth }).to_string())
            .send()
            .await
            .expect("Keystone answers");
        if !response.status().is_success() {
            return Err(response.status());
        }
        Ok(response.headers()["x-subject-token"]
            .to_str()
            .unwrap()
            .to_string())
    }

    /// Revokes `token` (`DELETE /v3/auth/tokens`, as the admin).
    pub async fn revoke(&self, token: &str) {
        let status = self
            .admin_call(reqwest::Method::DELETE, "auth/tokens", None, Some(token))
            .await
            .0;
        assert_eq!(status, 204, "revoking a token");
    }

    /// Whether Keystone, asked by the admin, says `token` is valid.
    pub async fn is_valid(&self, token: &str) -> bool {
        let status = self
            .admin_call(reqwest::Method::GET, "auth/tokens", None, Some(token))
            .await
            .0;
        status == 200
    }

    /// A new user `name` with role `role` in project `project` (and that project as its
    /// default), with a random password.
    pub async fn create_user(&self, name: &str, project: &str, role: &str) -> Account {
        let password = format!("pw-{}", unique_suffix());
        let project_id = self.project_id(project);
        let (status, body) = self
            .admin_call(
                reqwest::Method::POST,
                "users",
                Some(json!({"user": {"name": name, "domain_id": "default",
                    "password": password, "default_project_id": project_id}})),
                None,
            )
            .await;
        assert_eq!(status, 201, "creating user {name}: {body}");
        let id = body["user"]["id"].as_str().unwrap().to_string();
        let (status, roles) = self
            .admin_call(
                reqwest::Method::GET,
                &format!("roles?name={role}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "finding role {role}");
        let role_id = roles["roles"][0]["id"].as_str().unwrap();
        let (status, _) = self
            .admin_call(
                reqwest::Method::PUT,
                &format!("projects/{project_id}/users/{id}/roles/{role_id}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 204, "granting {role} to {name}");
        Account {
            name: name.to_string(),
            id,
            password,
            project: project.to_string(),
        }
    }

    /// Disables or enables a user. Disabling revokes every token the user had.
    pub async fn set_enabled(&self, account: &Account, enabled: bool) {
        let (status, body) = self
            .admin_call(
                reqwest::Method::PATCH,
                &format!("users/{}", account.id),
                Some(json!({"user": {"enabled": enabled}})),
                None,
            )
            .await;
        assert_eq!(status, 200, "updating user {}: {body}", account.name);
    }

    async fn admin_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        subject: Option<&str>,
    ) -> (u16, Value) {
        let cached = self.admin_token.lock().unwrap().clone();
        let admin = match cached {
            Some(token) => token,
            None => {
                let token = self.token("admin").await;
                *self.admin_token.lock().unwrap() = Some(token.clone());
                token
            }
        };
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/{path}", self.auth_url))
            .header("x-auth-token", admin);
        if let Some(subject) = subject {
            request = request.header("x-subject-token", subject);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("Keystone answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A suffix that makes names unique between tests and runs.
pub fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The headers of a request carrying `token`.
pub fn with_token(token: &str) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-auth-token", token.parse().unwrap());
    headers
}
