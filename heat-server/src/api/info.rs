//! Version discovery (`GET /`), build information and the engine services.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::fault::Fault;
use super::views::{self, Base};
use super::{ApiState, Caller};

/// `GET /` and `GET /versions`: 300 with the one version, v1.
pub(super) async fn versions(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    let b = Base::of(&headers, &state.settings.fallback_host);
    let body = json!({
        "versions": [{
            "id": "v1.0",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": format!("{}/v1/", b.0)}],
        }]
    });
    (StatusCode::MULTIPLE_CHOICES, axum::Json(body)).into_response()
}

/// `GET /build_info`.
pub(super) async fn build_info(State(state): State<ApiState>, _caller: Caller) -> Response {
    let revision = state.engine.revision();
    let body = json!({"api": {"revision": revision}, "engine": {"revision": revision}});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /services`.
pub(super) async fn services(
    State(state): State<ApiState>,
    _caller: Caller,
) -> Result<Response, Fault> {
    let services = state.engine.services().await?;
    let list: Vec<Value> = services.iter().map(views::service).collect();
    Ok((StatusCode::OK, axum::Json(json!({"services": list}))).into_response())
}
