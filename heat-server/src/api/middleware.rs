//! What happens around every handler: authentication of `/v1/{project}/...` requests,
//! Heat's 405 fault and `OPTIONS` answers, and the request id.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::fault::Fault;
use super::query::decode;
use crate::random::uuid4;

/// The project a `/v1/{project}/...` path names.
pub(super) fn url_project(path: &str) -> Option<String> {
    let mut parts = path.split('/').skip(1);
    match (parts.next(), parts.next()) {
        (Some("v1"), Some(project)) if !project.is_empty() => Some(decode(project)),
        _ => None,
    }
}

/// Authenticates a request into a [`crate::auth::RequestContext`] (in its extensions).
pub(super) async fn authenticate(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(project) = url_project(request.uri().path()) else {
        return Fault::not_found().into_response();
    };
    match state.auth.authenticate(request.headers(), &project).await {
        Ok(ctx) => {
            request.extensions_mut().insert(ctx);
            next.run(request).await
        }
        Err(error) => Fault::from(error).into_response(),
    }
}

/// Turns the router's bare 405 into Heat's fault (or, for `OPTIONS`, a 204), and adds the
/// request id to every response. The router itself sets the `Allow` header of a URL on
/// both when it leaves (after this layer).
pub(super) async fn finish(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let allow = response
            .headers()
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        response = if method == Method::OPTIONS {
            // The router adds the `Allow` header of the URL to this answer on its way out.
            let mut ok = Response::new(Body::empty());
            *ok.status_mut() = StatusCode::NO_CONTENT;
            if let Some(v) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                ok.headers_mut().insert(header::ALLOW, v);
            }
            ok
        } else {
            Fault::method_not_allowed(allow).into_response()
        };
    }
    let id = format!("req-{}", uuid4(&*state.random));
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-openstack-request-id", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_comes_from_the_path() {
        assert_eq!(url_project("/v1/admin/stacks").as_deref(), Some("admin"));
        assert_eq!(url_project("/v1/a%20b/stacks").as_deref(), Some("a b"));
        assert_eq!(url_project("/v1//stacks"), None);
        assert_eq!(url_project("/v2/admin"), None);
        assert_eq!(url_project("/"), None);
    }
}
