//! Who is calling: every API request is authenticated into a [`RequestContext`] by the
//! configured [`Authenticator`] before any handler runs.
//!
//! - `noauth` ([`NoAuth`]): the project is the one in the URL; meant for loopback only.
//! - `keystone` (`keystone::KeystoneAuth`): `X-Auth-Token` validated against Keystone v3.

pub mod keystone;

use async_trait::async_trait;
use axum::http::HeaderMap;

/// The caller of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The project (tenant) the request acts in: every stack it sees belongs to it.
    pub project_id: String,
    /// The project's name, when known.
    pub project_name: Option<String>,
    /// The user's id.
    pub user_id: String,
    /// The user's name (Heat's `stack_owner`, `username`).
    pub user_name: String,
    /// The user's roles in the project.
    pub roles: Vec<String>,
    /// The token the request came with (to act for the user elsewhere), if any.
    pub auth_token: Option<String>,
}

impl RequestContext {
    /// Whether the caller has the `admin` role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }
}

/// Why a request was not authenticated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials (no `X-Auth-Token`): 401.
    #[error("authentication required: the request has no X-Auth-Token header")]
    Missing,
    /// The credentials are not valid (unknown, expired or revoked token): 401.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The token is valid but scoped to another project than the URL's: the stack the URL
    /// names does not exist for this caller (404, as Heat answers).
    #[error("the token is scoped to project {token_project}, not {url_project}")]
    WrongProject {
        /// The token's project.
        token_project: String,
        /// The project in the URL.
        url_project: String,
    },
    /// The identity service could not be asked (down, timing out, misconfigured): 503.
    #[error("the identity service is unavailable: {0}")]
    Unavailable(String),
}

/// Authenticates a request from its headers and the project named in its URL.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// The caller of a request to `/v1/{url_project}/...`.
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        url_project: &str,
    ) -> Result<RequestContext, AuthError>;
}

/// `noauth`: trusts the URL's project, with the `X-User-Id` / `X-User-Name` / `X-Roles`
/// headers when present (user `admin` with role `admin` otherwise, as Heat's noauth does).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

#[async_trait]
impl Authenticator for NoAuth {
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        url_project: &str,
    ) -> Result<RequestContext, AuthError> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let user_name = header("x-user-name").unwrap_or_else(|| "admin".to_string());
        let roles = header("x-roles").map_or_else(
            || vec!["admin".to_string()],
            |r| r.split(',').map(|s| s.trim().to_string()).collect(),
        );
        Ok(RequestContext {
            project_id: url_project.to_string(),
            project_name: None,
            user_id: header("x-user-id").unwrap_or_else(|| user_name.clone()),
            user_name,
            roles,
            auth_token: header("x-auth-token"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn noauth_takes_the_project_from_the_url_and_the_user_from_headers() {
        let mut headers = HeaderMap::new();
        let ctx = NoAuth.authenticate(&headers, "p1").await.unwrap();
        assert_eq!(ctx.project_id, "p1");
        assert_eq!(ctx.user_name, "admin");
        assert!(ctx.is_admin());
        headers.insert("x-user-name", "alice".parse().unwrap());
        headers.insert("x-roles", "member, reader".parse().unwrap());
        let ctx = NoAuth.authenticate(&headers, "p2").await.unwrap();
        assert_eq!(
            (ctx.user_name.as_str(), ctx.user_id.as_str()),
            ("alice", "alice")
        );
        assert_eq!(ctx.roles, vec!["member", "reader"]);
        assert!(!ctx.is_admin());
    }
}
