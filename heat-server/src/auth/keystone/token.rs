//! What Keystone says about a token: the `token` object of its `/v3/auth/tokens` responses,
//! read into [`TokenInfo`].

use std::time::SystemTime;

use serde::Deserialize;

use super::timestamp;

/// A token as Keystone validated it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The id of the user's domain, when Keystone gave it.
    pub user_domain_id: Option<String>,
    /// The project the token is scoped to; `None` for an unscoped, domain- or system-scoped
    /// token.
    pub project: Option<TokenProject>,
    /// The names of the user's roles in that scope (implied roles included, as Keystone
    /// expands them).
    pub roles: Vec<String>,
    /// When the token stops being valid.
    pub expires_at: SystemTime,
}

/// The project a token is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenProject {
    /// The project's id.
    pub id: String,
    /// The project's name.
    pub name: String,
    /// The id of the project's domain, when Keystone gave it.
    pub domain_id: Option<String>,
}

/// Why a token body could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Keystone's token response could not be read: {0}")]
pub struct TokenBodyError(String);

#[derive(Deserialize)]
struct Envelope {
    token: WireToken,
}

#[derive(Deserialize)]
struct WireToken {
    user: WireUser,
    project: Option<WireProject>,
    #[serde(default)]
    roles: Vec<WireRole>,
    expires_at: String,
}

#[derive(Deserialize)]
struct WireUser {
    id: String,
    name: String,
    domain: Option<WireDomain>,
}

#[derive(Deserialize)]
struct WireProject {
    id: String,
    name: String,
    domain: Option<WireDomain>,
}

#[derive(Deserialize)]
struct WireDomain {
    id: Option<String>,
}

#[derive(Deserialize)]
struct WireRole {
    name: String,
}

/// Reads the body of a token response (`{"token": {...}}`).
pub fn parse_body(body: &[u8]) -> Result<TokenInfo, TokenBodyError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| TokenBodyError(e.to_string()))?;
    let token = envelope.token;
    let expires_at = timestamp::parse(&token.expires_at)
        .map_err(|e| TokenBodyError(format!("expires_at: {e}")))?;
    if token.user.id.is_empty() {
        return Err(TokenBodyError("the token's user has no id".to_string()));
    }
    if token.project.as_ref().is_some_and(|p| p.id.is_empty()) {
        return Err(TokenBodyError("the token's project has no id".to_string()));
    }
    Ok(TokenInfo {
        user_id: token.user.id,
        user_name: token.user.name,
        user_domain_id: token.user.domain.and_then(|d| d.id),
        project: token.project.map(|p| TokenProject {
            id: p.id,
            name: p.name,
            domain_id: p.domain.and_then(|d| d.id),
        }),
        roles: token.roles.into_iter().map(|r| r.name).collect(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A validation response of Keystone 30 (`GET /v3/auth/tokens?nocatalog`), as the harness's
    /// Keystone answered it.
    const ALICE: &str = r#"{"token": {"methods": ["password"], "user": {"domain": {"id": "default", "name": "Default"}, "id": "6c6408206e8d4091be8563f08cb46451", "name": "alice", "password_expires_at": null}, "audit_ids": ["ZxithE9DQVSQcvxSnOuqRA"], "expires_at": "2026-11-25T15:05:37.000000Z", "issued_at": "2026-11-25T15:05:07.000000Z", "project": {"domain": {"id": "default", "name": "Default"}, "id": "dc37908273714917998037852ca3dcff", "name": "alpha"}, "is_domain": false, "roles": [{"id": "3b7a5d93d74e4448a3f9cd8e6f1367da", "name": "member"}, {"id": "86f70db272684b908f8803648635b218", "name": "reader"}]}}"#;

    #[test]
    fn a_project_token_gives_user_project_roles_and_expiry() {
        let info = parse_body(ALICE.as_bytes()).unwrap();
        assert_eq!(
            info,
            TokenInfo {
                user_id: "6c6408206e8d4091be8563f08cb46451".to_string(),
                user_name: "alice".to_string(),
                user_domain_id: Some("default".to_string()),
                project: Some(TokenProject {
                    id: "dc37908273714917998037852ca3dcff".to_string(),
                    name: "alpha".to_string(),
                    domain_id: Some("default".to_string()),
                }),
                roles: vec!["member".to_string(), "reader".to_string()],
                expires_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_619_137),
            }
        );
    }

    #[test]
    fn an_unscoped_token_has_no_project() {
        let body = r#"{"token": {"user": {"id": "u1", "name": "alice"}, "expires_at": "2026-11-25T15:05:37Z", "methods": ["password"]}}"#;
        let info = parse_body(body.as_bytes()).unwrap();
        assert_eq!(info.project, None);
        assert!(info.roles.is_empty());
        assert_eq!(info.user_domain_id, None);
    }

    #[test]
    fn bodies_that_are_not_tokens_are_errors() {
        for body in [
            "",
            "null",
            "<html>502 Bad Gateway</html>",
            r#"{"error": {"code": 404}}"#,
            r#"{"token": {"user": {"id": "u1", "name": "a"}}}"#,
            r#"{"token": {"user": {"id": "u1", "name": "a"}, "expires_at": "soon"}}"#,
            r#"{"token": {"user": {"id": "", "name": "a"}, "expires_at": "2026-11-25T15:05:37Z"}}"#,
            r#"{"token": {"user": {"id": "u1", "name": "a"}, "expires_at": "2026-11-25T15:05:37Z", "project": {"id": "", "name": "p"}}}"#,
            r#"{"token": {"user": {"id": "u1", "name": "a"}, "expires_at": "2026-11-25T15:05:37Z", "roles": [{"id": "r"}]}}"#,
        ] {
            assert!(parse_body(body.as_bytes()).is_err(), "{body}");
        }
        let err = parse_body(b"{}").unwrap_err();
        assert!(err.to_string().contains("token"), "{err}");
    }
}
