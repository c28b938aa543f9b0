//! `--auth keystone`: the `X-Auth-Token` of every request is validated against Keystone v3,
//! as Heat's keystonemiddleware does, and must be scoped to the project in the URL.
//!
//! - heat authenticates as its service user (password auth, `POST /v3/auth/tokens`) and keeps
//!   that token until shortly before it expires, or until Keystone rejects it (then it is
//!   renewed once and the validation repeated).
//! - A caller's token is validated with `GET /v3/auth/tokens` (`X-Auth-Token`: the service
//!   token, `X-Subject-Token`: the caller's). Keystone answers 404 for an unknown, expired or
//!   revoked token.
//! - A validation is cached until `cache_ttl` has passed or the token expires, whichever is
//!   first, keyed by a hash of the token. **A token revoked in Keystone is still accepted
//!   until its cached validation lapses** (at most `cache_ttl`), as with keystonemiddleware's
//!   `token_cache_time`; lower `cache_ttl` (zero: no cache) to narrow that window.
//!
//! Tokens are never logged: logs and spans name a token by the first 8 hex digits of its
//! SHA-256 hash.

mod cache;
mod client;
mod config;
mod service_token;
mod timestamp;
mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use async_trait::async_trait;
use axum::http::HeaderMap;
use tracing::Instrument;

use super::{AuthError, Authenticator, RequestContext};
use cache::{TokenCache, TokenKey};
use client::{KeystoneClient, KeystoneError};
pub use config::{
    DEFAULT_CACHE_TTL, DEFAULT_REQUEST_TIMEOUT, KeystoneConfig, KeystoneConfigError, Secret,
    ServiceCredentials, check_auth_url,
};
use service_token::ServiceToken;
pub use token::{TokenInfo, TokenProject};

/// The longest token accepted; Keystone's fernet tokens are about 200 characters. A longer
/// one is refused without asking Keystone.
pub const MAX_TOKEN_LENGTH: usize = 8192;

/// What a [`KeystoneAuth`] has done since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeystoneStats {
    /// Validation requests sent to Keystone (`GET /v3/auth/tokens`).
    pub validation_requests: u64,
    /// Service tokens asked of Keystone (`POST /v3/auth/tokens`).
    pub service_token_requests: u64,
    /// Validations answered from the cache.
    pub cache_hits: u64,
}

#[derive(Default)]
struct Counters {
    validation_requests: AtomicU64,
    service_token_requests: AtomicU64,
    cache_hits: AtomicU64,
}

/// Authenticates requests by their `X-Auth-Token` against Keystone v3.
pub struct KeystoneAuth {
    client: KeystoneClient,
    credentials: ServiceCredentials,
    service_token: ServiceToken,
    cache: TokenCache,
    counters: Counters,
}

impl std::fmt::Debug for KeystoneAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneAuth")
            .field("tokens_url", &self.client.tokens_url().as_str())
            .field("service_user", &self.credentials.username)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl KeystoneAuth {
    /// Checks `config` and prepares the client; Keystone is first asked on the first request.
    pub fn new(config: KeystoneConfig) -> Result<Self, KeystoneConfigError> {
        config::check(&config)?;
        let base = config::identity_base(&config.auth_url)?;
        Ok(KeystoneAuth {
            client: KeystoneClient::new(&base, config.request_timeout)?,
            credentials: config.service,
            service_token: ServiceToken::new(config.service_token_renewal_margin),
            cache: TokenCache::new(config.cache_ttl, config.cache_capacity),
            counters: Counters::default(),
        })
    }

    /// What this authenticator has asked Keystone and answered from its cache so far.
    pub fn stats(&self) -> KeystoneStats {
        KeystoneStats {
            validation_requests: self.counters.validation_requests.load(Ordering::Relaxed),
            service_token_requests: self.counters.service_token_requests.load(Ordering::Relaxed),
            cache_hits: self.counters.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// How many validations the cache holds now.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// What Keystone says about `token` (from the cache while its validation is fresh).
    /// `Invalid` for a token Keystone does not know (or no longer: expired, revoked) or that
    /// is malformed; `Unavailable` when Keystone cannot be asked or heat cannot authenticate
    /// to it.
    pub async fn validate(&self, token: &str) -> Result<Arc<TokenInfo>, AuthError> {
        let key = TokenKey::of(token);
        let span = tracing::debug_span!("keystone_validate", token = %key.short());
        self.validate_keyed(token, key).instrument(span).await
    }

    async fn validate_keyed(
        &self,
        token: &str,
        key: TokenKey,
    ) -> Result<Arc<TokenInfo>, AuthError> {
        check_token_syntax(token)?;
        // The entry lapses by the monotonic clock; the token expires by the wall clock, which
        // may have jumped ahead meanwhile: an entry whose token has expired is not used.
        if let Some(info) = self
            .cache
            .get(&key, Instant::now())
            .filter(|info| info.expires_at > SystemTime::now())
        {
            self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("token validation answered from the cache");
            return Ok(info);
        }
        let service_token = self.service_token().await?;
        let answer = match self.ask(&service_token, token).await {
            Err(KeystoneError::Unauthorized) => {
                let renewed = self
                    .service_token
                    .renew_rejected(
                        &service_token,
                        &self.client,
                        &self.credentials,
                        &self.counters.service_token_requests,
                    )
                    .await
                    .map_err(|e| self.service_token_error(e))?;
                self.ask(&renewed, token).await
            }
            other => other,
        };
        let info = match answer {
            Ok(info) => Arc::new(info),
            Err(KeystoneError::NotFound | KeystoneError::Unauthorized) => {
                tracing::debug!("Keystone does not know the token");
                return Err(AuthError::Invalid(
                    "the token is unknown, expired or revoked".to_string(),
                ));
            }
            Err(KeystoneError::UnsendableToken) => return Err(malformed()),
            Err(KeystoneError::Forbidden) => {
                let message = format!(
                    "Keystone does not let the service user {:?} validate tokens (403): give it the service or admin role in project {:?}",
                    self.credentials.username, self.credentials.project_name
                );
                tracing::error!("{message}");
                return Err(AuthError::Unavailable(message));
            }
            Err(e) => {
                tracing::warn!(error = %e, "token validation failed: Keystone is unavailable");
                return Err(AuthError::Unavailable(e.to_string()));
            }
        };
        let wall_now = SystemTime::now();
        if info.expires_at <= wall_now {
            return Err(AuthError::Invalid("the token has expired".to_string()));
        }
        self.cache
            .insert(key, Arc::clone(&info), Instant::now(), wall_now);
        tracing::debug!(user = %info.user_name, "token validated by Keystone");
        Ok(info)
    }

    async fn ask(&self, service_token: &Secret, token: &str) -> Result<TokenInfo, KeystoneError> {
        self.counters
            .validation_requests
            .fetch_add(1, Ordering::Relaxed);
        self.client.validate(service_token, token).await
    }

    async fn service_token(&self) -> Result<Secret, AuthError> {
        self.service_token
            .get(
                &self.client,
                &self.credentials,
                &self.counters.service_token_requests,
            )
            .await
            .map_err(|e| self.service_token_error(e))
    }

    fn service_token_error(&self, error: KeystoneError) -> AuthError {
        let message = match error {
            KeystoneError::Unauthorized => format!(
                "Keystone rejected the credentials of the service user {:?} in project {:?} (401)",
                self.credentials.username, self.credentials.project_name
            ),
            other => format!("no service token: {other}"),
        };
        tracing::error!("{message}");
        AuthError::Unavailable(message)
    }
}

fn malformed() -> AuthError {
    AuthError::Invalid("the token is malformed".to_string())
}

/// A token is one run of visible ASCII characters, as Keystone's are, and not too long.
fn check_token_syntax(token: &str) -> Result<(), AuthError> {
    if token.is_empty()
        || token.len() > MAX_TOKEN_LENGTH
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(malformed());
    }
    Ok(())
}

#[async_trait]
impl Authenticator for KeystoneAuth {
    /// The caller of `X-Auth-Token`, whose token must be scoped to the project whose id is in
    /// the URL (Heat's URLs carry the project id, not its name).
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        url_project: &str,
    ) -> Result<RequestContext, AuthError> {
        let Some(value) = headers.get("x-auth-token") else {
            return Err(AuthError::Missing);
        };
        let token = value.to_str().map_err(|_| malformed())?.trim();
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let info = self.validate(token).await?;
        let Some(project) = &info.project else {
            return Err(AuthError::Invalid(
                "the token is not scoped to a project".to_string(),
            ));
        };
        if project.id != url_project {
            return Err(AuthError::WrongProject {
                token_project: project.id.clone(),
                url_project: url_project.to_string(),
            });
        }
        Ok(RequestContext {
            project_id: project.id.clone(),
            project_name: Some(project.name.clone()),
            user_id: info.user_id.clone(),
            user_name: info.user_name.clone(),
            roles: info.roles.clone(),
            auth_token: Some(token.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(url: &str) -> KeystoneAuth {
        KeystoneAuth::new(KeystoneConfig::new(
            url,
            ServiceCredentials::new("heat", "s3cr3t-pass", "service"),
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn no_token_is_missing_without_asking_keystone() {
        let auth = auth("http://127.0.0.1:9/v3");
        let mut headers = HeaderMap::new();
        assert_eq!(
            auth.authenticate(&headers, "p").await,
            Err(AuthError::Missing)
        );
        headers.insert("x-auth-token", "  ".parse().unwrap());
        assert_eq!(
            auth.authenticate(&headers, "p").await,
            Err(AuthError::Missing)
        );
        assert_eq!(auth.stats(), KeystoneStats::default());
    }

    #[tokio::test]
    async fn malformed_tokens_are_invalid_without_asking_keystone() {
        let auth = auth("http://127.0.0.1:9/v3");
        let long = "a".repeat(MAX_TOKEN_LENGTH + 1);
        for token in ["two words", long.as_str(), "tab\there"] {
            let mut headers = HeaderMap::new();
            headers.insert("x-auth-token", token.parse().unwrap());
            assert_eq!(
                auth.authenticate(&headers, "p").await,
                Err(malformed()),
                "{token:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-auth-token",
            axum::http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        );
        assert_eq!(auth.authenticate(&headers, "p").await, Err(malformed()));
        assert_eq!(auth.stats(), KeystoneStats::default());
    }

    #[test]
    fn a_bad_config_is_refused_at_construction() {
        let err = KeystoneAuth::new(KeystoneConfig::new(
            "https://keystone:5000/v3",
            ServiceCredentials::new("heat", "pw", "service"),
        ))
        .unwrap_err();
        assert!(matches!(err, KeystoneConfigError::UnsupportedScheme { .. }));
    }

    #[test]
    fn debug_output_shows_no_password() {
        let shown = format!("{:?}", auth("http://127.0.0.1:9/v3"));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("heat"), "{shown}");
    }
}
