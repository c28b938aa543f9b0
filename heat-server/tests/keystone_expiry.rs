//! `KeystoneAuth` against a real Keystone 30 (harness/keystone) whose tokens live 12 seconds:
//! expiry of the callers' tokens and of heat's own service token.
// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keystone_harness;

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use heat_server::auth::keystone::KeystoneAuth;
use heat_server::auth::{AuthError, Authenticator};
use keystone_harness::{Keystone, with_token};

const LIFETIME: Duration = Duration::from_secs(12);

fn keystone() -> &'static Keystone {
    static KEYSTONE: OnceLock<Keystone> = OnceLock::new();
    KEYSTONE.get_or_init(|| keystone_harness::start(LIFETIME))
}

#[tokio::test]
async fn an_expired_token_is_invalid_even_within_the_cache_ttl() {
    let ks = keystone();
    let config = ks.config();
    assert!(config.cache_ttl > LIFETIME, "the TTL alone would keep it");
    let auth = KeystoneAuth::new(config).unwrap();
    let alpha = ks.project_id("alpha");
    let token = ks.token("alice").await;

    let info = auth.validate(&token).await.unwrap();
    assert!(auth.authenticate(&with_token(&token), &alpha).await.is_ok());
    assert_eq!(auth.stats().validation_requests, 1);

    // Wait until Keystone's own expiry of the token has passed.
    let left = info
        .expires_at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_secs(1)).await;

    assert!(matches!(
        auth.authenticate(&with_token(&token), &alpha).await,
        Err(AuthError::Invalid(_))
    ));
    // The cache did not answer for the expired token: Keystone was asked, and said no.
    assert_eq!(auth.stats().validation_requests, 2);
    assert!(!ks.is_valid(&token).await);
}

#[tokio::test]
async fn the_service_token_is_renewed_before_it_expires() {
    let ks = keystone();
    let margin = Duration::from_secs(3);
    let mut config = ks.config();
    config.service_token_renewal_margin = margin;
    let auth = KeystoneAuth::new(config).unwrap();
    let alpha = ks.project_id("alpha");

    let first = ks.token("alice").await;
    assert!(auth.authenticate(&with_token(&first), &alpha).await.is_ok());
    let second = ks.token("alice").await;
    assert!(
        auth.authenticate(&with_token(&second), &alpha)
            .await
            .is_ok()
    );
    assert_eq!(auth.stats().service_token_requests, 1, "reused while fresh");

    // After lifetime - margin, the service token is within its renewal margin (though not
    // expired): the next validation gets a new one first.
    tokio::time::sleep(LIFETIME - margin).await;
    let third = ks.token("alice").await;
    assert!(auth.authenticate(&with_token(&third), &alpha).await.is_ok());
    let stats = auth.stats();
    assert_eq!(stats.service_token_requests, 2);
    assert_eq!(stats.validation_requests, 3);
}
