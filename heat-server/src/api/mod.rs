//! Heat's native REST API (v1): the router, built without a socket so that tests drive it
//! with `oneshot`.
//!
//! Every route of Heat's v1 route table that this server implements is registered here
//! (snapshots, resource mark-unhealthy and resource metadata are added separately). Around
//! the routes: the authenticator turns each `/v1/{project}/...` request into a
//! [`RequestContext`]; a 405 becomes Heat's fault with an `Allow` header, and `OPTIONS` on a
//! URL answers 204 with the methods it allows; every response carries an
//! `x-openstack-request-id`.

mod body;
pub mod fault;
mod info;
mod middleware;
pub mod query;
mod resources;
mod snapshots;
mod software;
mod stacks;
mod templates;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post, put};
use heat_core::engine::Random;

use crate::auth::{Authenticator, RequestContext};
use crate::engine_api::EngineApi;

/// What the API needs besides the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiSettings {
    /// The largest request body accepted (`max_json_body_size`).
    pub max_json_body_size: usize,
    /// The host links use when a request has no `Host` header.
    pub fallback_host: String,
}

impl Default for ApiSettings {
    fn default() -> ApiSettings {
        ApiSettings {
            max_json_body_size: crate::config::DEFAULT_MAX_JSON_BODY_SIZE,
            fallback_host: crate::config::DEFAULT_LISTEN.to_string(),
        }
    }
}

/// The state every handler shares.
#[derive(Clone)]
pub struct ApiState {
    /// The engine (the RPC boundary).
    pub engine: Arc<dyn EngineApi>,
    /// Who is calling.
    pub auth: Arc<dyn Authenticator>,
    /// Limits and defaults.
    pub settings: Arc<ApiSettings>,
    /// Randomness for request ids.
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The native API's router.
pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/v1/{tenant}/validate", post(templates::validate))
        .route("/v1/{tenant}/resource_types", get(templates::list_types))
        .route(
            "/v1/{tenant}/resource_types/{type_name}",
            get(templates::type_schema),
        )
        .route(
            "/v1/{tenant}/resource_types/{type_name}/template",
            get(templates::type_template),
        )
        .route("/v1/{tenant}/template_versions", get(templates::versions))
        .route(
            "/v1/{tenant}/template_versions/{version}/functions",
            get(templates::functions),
        )
        .route(
            "/v1/{tenant}/stacks",
            get(stacks::index).post(stacks::create),
        )
        .route("/v1/{tenant}/stacks/preview", post(stacks::preview))
        .route("/v1/{tenant}/stacks/detail", get(stacks::detail))
        .route(
            "/v1/{tenant}/stacks/{stack_name}",
            get(stacks::lookup)
                .post(stacks::lookup)
                .put(stacks::lookup)
                .patch(stacks::lookup)
                .delete(stacks::lookup),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}",
            get(stacks::show)
                .post(stacks::post_lookup)
                .put(stacks::update)
                .patch(stacks::update_patch)
                .delete(stacks::delete),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/template",
            get(stacks::template),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/environment",
            get(stacks::environment),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/files",
            get(stacks::files),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/preview",
            put(stacks::preview_update).patch(stacks::preview_update_patch),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/abandon",
            delete(stacks::abandon),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/export",
            get(stacks::export),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/outputs",
            get(stacks::outputs),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/outputs/{output_key}",
            get(stacks::output),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/actions",
            post(stacks::action),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources",
            get(resources::list),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources/{resource_name}",
            get(resources::show).patch(snapshots::mark_unhealthy),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources/{resource_name}/metadata",
            get(snapshots::metadata),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/snapshots",
            get(snapshots::list).post(snapshots::create),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/snapshots/{snapshot_id}",
            get(snapshots::show).delete(snapshots::delete),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/snapshots/{snapshot_id}/restore",
            post(snapshots::restore),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources/{resource_name}/signal",
            post(resources::signal),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/events",
            get(resources::stack_events),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources/{resource_name}/events",
            get(resources::resource_events),
        )
        .route(
            "/v1/{tenant}/stacks/{stack_name}/{stack_id}/resources/{resource_name}/events/{event_id}",
            get(resources::event),
        )
        .route("/v1/{tenant}/build_info", get(info::build_info))
        .route("/v1/{tenant}/services", get(info::services))
        .route(
            "/v1/{tenant}/software_configs",
            get(software::list_configs).post(software::create_config),
        )
        .route(
            "/v1/{tenant}/software_configs/{config_id}",
            get(software::show_config).delete(software::delete_config),
        )
        .route(
            "/v1/{tenant}/software_deployments",
            get(software::list_deployments).post(software::create_deployment),
        )
        .route(
            "/v1/{tenant}/software_deployments/metadata/{server_id}",
            get(software::metadata),
        )
        .route(
            "/v1/{tenant}/software_deployments/{deployment_id}",
            get(software::show_deployment)
                .put(software::update_deployment)
                .delete(software::delete_deployment),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ));
    Router::new()
        .route("/", get(info::versions))
        .route("/versions", get(info::versions))
        .merge(v1)
        .fallback(stacks::fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::finish,
        ))
        .with_state(state)
}

/// The caller of a request, as the authenticator found it.
pub type Caller = axum::Extension<RequestContext>;
