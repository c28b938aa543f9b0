//! heat's own token, which validations are made with: issued on first use, reused while it
//! has time left, renewed shortly before it expires or when Keystone rejects it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;

use super::client::{KeystoneClient, KeystoneError};
use super::config::{Secret, ServiceCredentials};

struct Current {
    token: Secret,
    obtained_at: SystemTime,
    expires_at: SystemTime,
}

/// The service token, shared by all validations. Renewing holds a lock, so that concurrent
/// requests wait for one renewal instead of each asking Keystone for a token.
pub(crate) struct ServiceToken {
    current: Mutex<Option<Current>>,
    margin: Duration,
}

impl ServiceToken {
    /// No token yet; one is renewed once less than `margin` (at most half its lifetime) is
    /// left.
    pub fn new(margin: Duration) -> Self {
        ServiceToken {
            current: Mutex::new(None),
            margin,
        }
    }

    /// A service token with time left, issued now if needed (`issued` counts the requests).
    pub async fn get(
        &self,
        client: &KeystoneClient,
        credentials: &ServiceCredentials,
        issued: &AtomicU64,
    ) -> Result<Secret, KeystoneError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && !needs_renewal(
                token.obtained_at,
                token.expires_at,
                SystemTime::now(),
                self.margin,
            )
        {
            return Ok(token.token.clone());
        }
        let obtained_at = SystemTime::now();
        issued.fetch_add(1, Ordering::Relaxed);
        let fresh = client.issue(credentials).await?;
        tracing::info!(
            user = %credentials.username,
            project = %credentials.project_name,
            lifetime_secs = fresh
                .info
                .expires_at
                .duration_since(obtained_at)
                .unwrap_or_default()
                .as_secs(),
            "obtained a service token from Keystone"
        );
        let token = fresh.token.clone();
        *current = Some(Current {
            token: fresh.token,
            obtained_at,
            expires_at: fresh.info.expires_at,
        });
        Ok(token)
    }

    /// Forgets `rejected` (a token Keystone answered 401 to) and returns a new one. When
    /// another request already replaced it, that replacement is returned instead.
    pub async fn renew_rejected(
        &self,
        rejected: &Secret,
        client: &KeystoneClient,
        credentials: &ServiceCredentials,
        issued: &AtomicU64,
    ) -> Result<Secret, KeystoneError> {
        {
            let mut current = self.current.lock().await;
            if current.as_ref().is_some_and(|c| c.token == *rejected) {
                tracing::warn!("Keystone rejected the service token; renewing it");
                *current = None;
            }
        }
        self.get(client, credentials, issued).await
    }
}

/// Whether a token obtained at `obtained_at` and expiring at `expires_at` is to be renewed
/// at `now`: when less than `margin` is left, the margin capped at half the lifetime.
fn needs_renewal(
    obtained_at: SystemTime,
    expires_at: SystemTime,
    now: SystemTime,
    margin: Duration,
) -> bool {
    let lifetime = expires_at
        .duration_since(obtained_at)
        .unwrap_or(Duration::ZERO);
    let margin = margin.min(lifetime / 2);
    match expires_at.duration_since(now) {
        Ok(left) => left <= margin,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_token_is_renewed_once_the_margin_is_reached() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * S;
        let expires = t0 + 3600 * S;
        assert!(!needs_renewal(t0, expires, t0, 60 * S));
        assert!(!needs_renewal(t0, expires, t0 + 3539 * S, 60 * S));
        assert!(needs_renewal(t0, expires, t0 + 3540 * S, 60 * S));
        assert!(needs_renewal(t0, expires, t0 + 4000 * S, 60 * S));
    }

    #[test]
    fn the_margin_is_at_most_half_a_short_lifetime() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * S;
        let expires = t0 + 10 * S;
        assert!(!needs_renewal(t0, expires, t0 + 4 * S, 60 * S));
        assert!(needs_renewal(t0, expires, t0 + 5 * S, 60 * S));
    }

    #[test]
    fn an_expired_or_lifeless_token_is_renewed() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * S;
        assert!(needs_renewal(t0, t0, t0, Duration::ZERO));
        assert!(needs_renewal(t0, t0 - S, t0, 60 * S));
    }
}
