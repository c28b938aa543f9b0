//! Heat's error body (its "fault"): every error the native API answers with is
//!
//! ```json
//! {"code": 404, "title": "Not Found", "explanation": "The resource could not be found.",
//!  "error": {"type": "EntityNotFound", "traceback": null, "message": "..."}}
//! ```
//!
//! with the status in `code`, the HTTP reason in `title`, webob's generic explanation of the
//! status, and Heat's exception type and message in `error`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::AuthError;
use crate::engine_api::EngineApiError;

/// One error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The status.
    pub status: StatusCode,
    /// Heat's exception type.
    pub kind: String,
    /// What went wrong.
    pub message: String,
    /// The `Allow` header of a 405.
    pub allow: Option<String>,
}

impl Fault {
    /// A fault.
    pub fn new(status: StatusCode, kind: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault {
            status,
            kind: kind.into(),
            message: message.into(),
            allow: None,
        }
    }

    /// A 400 `HTTPBadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Fault {
        Fault::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }

    /// A 404 for a URL that names nothing.
    pub fn not_found() -> Fault {
        Fault::new(
            StatusCode::NOT_FOUND,
            "HTTPNotFound",
            "The resource could not be found.",
        )
    }

    /// A 405 with the methods the URL allows.
    pub fn method_not_allowed(allow: Option<String>) -> Fault {
        Fault {
            allow,
            ..Fault::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "HTTPMethodNotAllowed",
                explanation(StatusCode::METHOD_NOT_ALLOWED),
            )
        }
    }

    /// A 413 for a request body over the limit.
    pub fn too_large(message: impl Into<String>) -> Fault {
        Fault::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestLimitExceeded",
            message,
        )
    }

    /// The body.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".to_string(), json!(self.kind));
        error.insert("traceback".to_string(), Value::Null);
        error.insert("message".to_string(), json!(self.message));
        let mut out = Map::new();
        out.insert("code".to_string(), json!(self.status.as_u16()));
        out.insert(
            "title".to_string(),
            json!(self.status.canonical_reason().unwrap_or("Error")),
        );
        out.insert("explanation".to_string(), json!(explanation(self.status)));
        out.insert("error".to_string(), Value::Object(error));
        Value::Object(out)
    }
}

/// webob's explanation of each status, as Heat's faults carry it.
pub fn explanation(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => {
            "This server could not verify that you are authorized to access the document \
                you requested. Either you supplied the wrong credentials (e.g., bad \
                password), or your browser does not understand how to supply the credentials \
                required."
        }
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        409 => "There was a conflict when trying to complete your request.",
        413 => "The request is larger than the server is willing or able to process.",
        500 => {
            "The server has either erred or is incapable of performing the requested \
                operation."
        }
        503 => "The server is currently unavailable. Please try again at a later time.",
        _ => {
            "The server could not comply with the request since it is either malformed or \
             otherwise incorrect."
        }
    }
}

impl IntoResponse for Fault {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(kind = %self.kind, message = %self.message, "request failed");
        }
        let allow = self.allow.clone();
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

impl From<EngineApiError> for Fault {
    fn from(error: EngineApiError) -> Fault {
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &error {
            // The store's or an invariant's details stay in the log.
            EngineApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "The server has either erred or is incapable of performing the requested \
                 operation."
                    .to_string()
            }
            other => other.to_string(),
        };
        Fault::new(status, error.kind(), message)
    }
}

/// The message of the 503 a request gets when the identity service cannot be asked.
pub const AUTH_UNAVAILABLE: &str = "The identity service is unavailable, so the request cannot be authenticated. Please try \
     again later.";

impl From<AuthError> for Fault {
    fn from(error: AuthError) -> Fault {
        match &error {
            AuthError::Missing | AuthError::Invalid(_) => Fault::new(
                StatusCode::UNAUTHORIZED,
                "HTTPUnauthorized",
                error.to_string(),
            ),
            // The stacks of another project do not exist for this caller.
            AuthError::WrongProject { .. } => Fault::not_found(),
            // The detail names heat's service user and what Keystone said about it: it stays
            // in the log.
            AuthError::Unavailable(detail) => {
                tracing::error!(%detail, "cannot authenticate the request");
                Fault::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "HTTPServiceUnavailable",
                    AUTH_UNAVAILABLE,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_heats_fault() {
        let fault = Fault::new(
            StatusCode::CONFLICT,
            "StackExists",
            "The Stack (sample) already exists.",
        );
        assert_eq!(
            fault.body(),
            json!({
                "code": 409,
                "title": "Conflict",
                "explanation": "There was a conflict when trying to complete your request.",
                "error": {
                    "type": "StackExists",
                    "traceback": null,
                    "message": "The Stack (sample) already exists."
                }
            })
        );
        let keys: Vec<String> = fault.body().as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["code", "title", "explanation", "error"]);
    }

    #[test]
    fn auth_errors_map_to_401_404_and_503() {
        let cases = [
            (AuthError::Missing, 401),
            (AuthError::Invalid("expired".into()), 401),
            (
                AuthError::WrongProject {
                    token_project: "a".into(),
                    url_project: "b".into(),
                },
                404,
            ),
            (AuthError::Unavailable("keystone down".into()), 503),
        ];
        for (error, status) in cases {
            assert_eq!(Fault::from(error).status.as_u16(), status);
        }
    }

    #[test]
    fn the_identity_services_trouble_is_not_shown() {
        let fault = Fault::from(AuthError::Unavailable(
            "Keystone rejected the credentials of the service user \"heat\" in project \
             \"service\" (401)"
                .into(),
        ));
        assert_eq!(fault.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(fault.message, AUTH_UNAVAILABLE);
        let body = fault.body().to_string();
        assert!(
            !body.contains("heat") && !body.contains("credentials"),
            "{body}"
        );
    }

    #[test]
    fn internal_details_are_not_shown() {
        let fault = Fault::from(EngineApiError::Internal("disk /dev/sda1 failed".into()));
        assert_eq!(fault.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!fault.message.contains("sda1"));
        let fault = Fault::from(EngineApiError::TooLarge("too big".into()));
        assert_eq!(
            (fault.status.as_u16(), fault.kind.as_str()),
            (413, "RequestLimitExceeded")
        );
    }

    #[test]
    fn a_405_carries_allow() {
        let response = Fault::method_not_allowed(Some("GET,POST".into())).into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET,POST");
    }
}
