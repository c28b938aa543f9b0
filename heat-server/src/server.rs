//! The heat-server process: opens the store, starts the engine (resuming what an earlier
//! process left in progress), serves the native API, and on SIGTERM or SIGINT stops
//! accepting requests, lets the provider calls in flight settle and be recorded, and exits.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use heat_core::engine::{EngineConfig, ProviderRegistry, Services};
use heat_core::template::load::Limits as TemplateLimits;

use crate::api::{self, ApiSettings, ApiState};
use crate::auth::keystone::KeystoneAuth;
use crate::auth::{Authenticator, NoAuth};
use crate::clock::WallClock;
use crate::config::{AuthMode, Config};
use crate::engine_api::{EngineOptions, LocalEngine};
use crate::error::ServerError;
use crate::random::OsRandom;
use crate::store::{self, OpenOptions};

/// The authenticator the configuration asks for. Keystone is not asked anything here: the
/// service user authenticates at the first request that needs it.
pub fn authenticator(config: &Config) -> Result<Arc<dyn Authenticator>, ServerError> {
    match config.auth {
        AuthMode::NoAuth => Ok(Arc::new(NoAuth)),
        AuthMode::Keystone => {
            let Some(keystone) = &config.keystone else {
                return Err(ServerError::Auth(
                    "--auth keystone: the Keystone settings are missing (--keystone-url, \
                     HEAT_KEYSTONE_PASSWORD)"
                        .to_string(),
                ));
            };
            let auth = KeystoneAuth::new(keystone.clone())
                .map_err(|e| ServerError::Auth(format!("--auth keystone: {e}")))?;
            tracing::info!(
                url = %keystone.auth_url,
                user = %keystone.service.username,
                user_domain = %keystone.service.user_domain_name,
                project = %keystone.service.project_name,
                project_domain = %keystone.service.project_domain_name,
                cache_ttl_secs = keystone.cache_ttl.as_secs(),
                timeout_secs = keystone.request_timeout.as_secs(),
                "requests are authenticated by Keystone"
            );
            Ok(Arc::new(auth))
        }
    }
}

/// The engine's settings from the server's configuration.
pub fn engine_config(config: &Config) -> EngineConfig {
    EngineConfig {
        limits: TemplateLimits {
            max_template_size: config.limits.max_template_size,
            max_resources_per_stack: config.limits.max_resources_per_stack.unwrap_or(usize::MAX),
            ..TemplateLimits::default()
        },
        concurrency: config.engine_concurrency,
        ..EngineConfig::default()
    }
}

/// The host name the service record shows (`/etc/hostname`, `HOSTNAME`, or `localhost`).
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// Resolves when the process is asked to stop (SIGTERM or SIGINT).
async fn stop_requested() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), ServerError> {
    let random = OsRandom::check().map_err(ServerError::Random)?;
    if config.uses_data_dir() {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
    }
    let store = store::open(
        &config.database_url,
        &OpenOptions {
            max_events_per_stack: config.limits.max_events_per_stack,
            ..OpenOptions::default()
        },
    )
    .await?;
    let auth = authenticator(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr: SocketAddr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.listen,
        source,
    })?;

    let services = Services::new(Arc::new(WallClock), Arc::new(random));
    let options = EngineOptions {
        enable_stack_abandon: config.enable_stack_abandon,
        enable_stack_adopt: config.enable_stack_adopt,
        max_stacks_per_tenant: config.limits.max_stacks_per_tenant,
        max_template_size: config.limits.max_template_size,
        heat_revision: config.heat_revision.clone(),
        host: host_name(),
        report_interval: Duration::from_secs(60),
    };
    let engine = Arc::new(LocalEngine::new(
        store,
        &ProviderRegistry::with_builtins(),
        services,
        engine_config(&config),
        options,
    ));
    engine.report().await?;
    let resumed = engine
        .resume_interrupted()
        .await
        .map_err(|e| ServerError::Resume(e.to_string()))?;
    if resumed > 0 {
        tracing::info!(resumed, "resumed interrupted stack operations");
    }
    let heartbeat = {
        let engine = Arc::clone(&engine);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(engine.report_interval()).await;
                if let Err(error) = engine.report().await {
                    tracing::warn!(%error, "cannot refresh the engine's service record");
                }
            }
        })
    };

    let state = ApiState {
        engine: engine.clone(),
        auth,
        settings: Arc::new(ApiSettings {
            max_json_body_size: config.limits.max_json_body_size,
            fallback_host: addr.to_string(),
        }),
        random: Arc::new(random),
    };
    let app = api::router(state);
    tracing::info!(
        %addr,
        auth = config.auth.name(),
        database = %store::redacted(&config.database_url),
        "heat-server listening"
    );
    println!("heat-server listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_requested())
        .await
        .map_err(ServerError::Serve)?;

    tracing::info!(
        running = engine.running(),
        "no longer accepting requests; letting provider calls in flight settle"
    );
    let shutdown = engine.shutdown(config.shutdown_timeout).await;
    heartbeat.abort();
    if shutdown.settled {
        tracing::info!(
            stopped = shutdown.stopped,
            "stopped; operations in progress resume at the next start"
        );
    } else {
        tracing::warn!(
            stopped = shutdown.stopped,
            "provider calls still in flight after the shutdown timeout were abandoned; \
             their steps are repeated (with the same idempotency tokens) at the next start"
        );
    }
    Ok(())
}
