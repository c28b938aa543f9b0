//! Shared by the API tests: a router over an in-memory engine, driven with `oneshot` (no
//! sockets), and replies parsed as JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use futures::future::BoxFuture;
use heat_core::engine::{Clock, EngineConfig, ProviderRegistry, SeededRandom, Services};
use heat_server::api::{ApiSettings, ApiState, router};
use heat_server::auth::{Authenticator, NoAuth};
use heat_server::engine_api::{EngineOptions, LocalEngine};
use heat_server::store::memory::MemoryServerStore;
use serde_json::Value;
use tower::ServiceExt;

/// The host the samples were captured against (links are built from it).
pub const HOST: &str = "127.0.0.1:8004";

/// Time on tokio's clock (paused in tests, so waits take no real time), starting at a
/// real date.
pub struct TokioClock {
    epoch: Duration,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting now.
    pub fn new() -> TokioClock {
        TokioClock {
            epoch: Duration::from_secs(1_795_596_184),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.epoch + self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A router over an engine with the built-in providers and an in-memory store.
pub struct Harness {
    /// The router.
    pub router: Router,
    /// The engine behind it.
    pub engine: Arc<LocalEngine>,
}

/// A reply: status, headers, and the body as JSON (`Null` when empty, a string when not
/// JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The fault's `error.type` and `error.message`.
    pub fn fault(&self) -> (&str, &str) {
        (
            self.body["error"]["type"].as_str().unwrap_or_default(),
            self.body["error"]["message"].as_str().unwrap_or_default(),
        )
    }
}

impl Harness {
    /// Heat's defaults.
    pub fn new() -> Harness {
        Harness::with(
            EngineOptions::default(),
            Arc::new(NoAuth),
            ApiSettings::default(),
        )
    }

    /// With these engine options.
    pub fn with_options(options: EngineOptions) -> Harness {
        Harness::with(options, Arc::new(NoAuth), ApiSettings::default())
    }

    /// With everything chosen.
    pub fn with(
        options: EngineOptions,
        auth: Arc<dyn Authenticator>,
        settings: ApiSettings,
    ) -> Harness {
        Harness::on_store(
            Arc::new(MemoryServerStore::new(Some(1000))),
            options,
            auth,
            settings,
        )
    }

    /// Over an existing store (a second engine, as after a restart).
    pub fn on_store(
        store: Arc<MemoryServerStore>,
        options: EngineOptions,
        auth: Arc<dyn Authenticator>,
        settings: ApiSettings,
    ) -> Harness {
        // Every engine its own seed: two engines on one store must not make the same ids.
        static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(42);
        let seed = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let random = Arc::new(SeededRandom::new(seed));
        let services = Services::new(Arc::new(TokioClock::new()), random.clone());
        let engine = Arc::new(LocalEngine::new(
            store,
            &ProviderRegistry::with_builtins(),
            services,
            EngineConfig::default(),
            options,
        ));
        let state = ApiState {
            engine: engine.clone(),
            auth,
            settings: Arc::new(settings),
            random,
        };
        Harness {
            router: router(state),
            engine,
        }
    }

    /// Sends a request (`body`: raw text) with the sample client's headers plus `extra`.
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<String>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", HOST)
            .header("accept", "application/json")
            .header("x-auth-token", "noauth");
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        let request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A GET.
    pub async fn get(&self, uri: &str) -> Reply {
        self.send("GET", uri, None, &[]).await
    }

    /// A request with a JSON body.
    pub async fn json(&self, method: &str, uri: &str, body: &Value) -> Reply {
        self.send(method, uri, Some(body.to_string()), &[]).await
    }

    /// Waits until every stack operation has ended.
    pub async fn settle(&self) {
        self.engine.wait_idle().await;
    }

    /// Creates a stack and waits for the create to end; its canonical path
    /// (`/v1/{project}/stacks/{name}/{id}`).
    pub async fn create(&self, project: &str, name: &str, template: &Value) -> String {
        let reply = self
            .json(
                "POST",
                &format!("/v1/{project}/stacks"),
                &serde_json::json!({"stack_name": name, "template": template}),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        self.settle().await;
        let id = reply.body["stack"]["id"].as_str().unwrap();
        format!("/v1/{project}/stacks/{name}/{id}")
    }
}
