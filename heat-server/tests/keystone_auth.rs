//! `KeystoneAuth` against a real Keystone 30 (harness/keystone), one instance for this test
//! binary, with hour-long tokens. Each test makes its own `KeystoneAuth`, so that the counts
//! of requests it sent to Keystone are its own.
// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod keystone_harness;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use heat_server::auth::keystone::{
    KeystoneAuth, KeystoneConfig, KeystoneStats, ServiceCredentials,
};
use heat_server::auth::{AuthError, Authenticator};
use keystone_harness::{Keystone, closed_port, unique_suffix, with_token};

fn keystone() -> &'static Keystone {
    static KEYSTONE: OnceLock<Keystone> = OnceLock::new();
    KEYSTONE.get_or_init(|| keystone_harness::start(Duration::from_secs(3600)))
}

fn auth_with(config: KeystoneConfig) -> KeystoneAuth {
    KeystoneAuth::new(config).unwrap()
}

fn auth() -> KeystoneAuth {
    auth_with(keystone().config())
}

#[tokio::test]
async fn a_valid_token_of_the_url_project_gives_its_user_project_and_roles() {
    let ks = keystone();
    let auth = auth();
    let alice = ks.account("alice");
    let alpha = ks.project_id("alpha");
    let token = ks.token("alice").await;

    let ctx = auth
        .authenticate(&with_token(&token), &alpha)
        .await
        .unwrap();

    assert_eq!(ctx.project_id, alpha);
    assert_eq!(ctx.project_name.as_deref(), Some("alpha"));
    assert_eq!(ctx.user_id, alice.id);
    assert_eq!(ctx.user_name, "alice");
    // member, and reader which Keystone's implied roles add to it.
    let mut roles = ctx.roles.clone();
    roles.sort();
    assert_eq!(roles, ["member", "reader"]);
    assert!(!ctx.is_admin());
    assert_eq!(ctx.auth_token.as_deref(), Some(token.as_str()));
}

#[tokio::test]
async fn an_admin_token_in_its_own_project_has_the_admin_role() {
    let ks = keystone();
    let auth = auth();
    let token = ks.token("admin").await;
    let ctx = auth
        .authenticate(&with_token(&token), &ks.project_id("admin"))
        .await
        .unwrap();
    assert_eq!(ctx.user_name, "admin");
    assert!(ctx.is_admin(), "{:?}", ctx.roles);
}

#[tokio::test]
async fn a_token_of_another_project_is_wrong_project() {
    let ks = keystone();
    let auth = auth();
    let alpha = ks.project_id("alpha");
    let beta = ks.project_id("beta");
    let bob = ks.token("bob").await;

    assert_eq!(
        auth.authenticate(&with_token(&bob), &alpha).await,
        Err(AuthError::WrongProject {
            token_project: beta.clone(),
            url_project: alpha.clone(),
        })
    );
    // The URL carries the project's id: its name does not match.
    assert_eq!(
        auth.authenticate(&with_token(&bob), "beta").await,
        Err(AuthError::WrongProject {
            token_project: beta.clone(),
            url_project: "beta".to_string(),
        })
    );
    // Being admin elsewhere does not open another project either.
    let admin = ks.token("admin").await;
    assert!(matches!(
        auth.authenticate(&with_token(&admin), &alpha).await,
        Err(AuthError::WrongProject { .. })
    ));
    // The same token in its own project is fine: the validation was cached, the project is
    // checked on every request.
    assert!(auth.authenticate(&with_token(&bob), &beta).await.is_ok());
    assert_eq!(auth.stats().validation_requests, 2);
}

#[tokio::test]
async fn no_token_is_missing() {
    let ks = keystone();
    let auth = auth();
    let alpha = ks.project_id("alpha");
    assert_eq!(
        auth.authenticate(&axum::http::HeaderMap::new(), &alpha)
            .await,
        Err(AuthError::Missing)
    );
    assert_eq!(
        auth.authenticate(&with_token(""), &alpha).await,
        Err(AuthError::Missing)
    );
    assert_eq!(auth.stats(), KeystoneStats::default());
}

#[tokio::test]
async fn garbage_tokens_are_invalid() {
    let ks = keystone();
    let auth = auth();
    let alpha = ks.project_id("alpha");
    // Not a fernet token at all, and one that looks like one but was never issued.
    let forged = format!("gAAAAAB{}", "x".repeat(180));
    for token in ["garbage", forged.as_str()] {
        match auth.authenticate(&with_token(token), &alpha).await {
            Err(AuthError::Invalid(reason)) => {
                assert!(!reason.contains(token), "the reason repeats the token")
            }
            other => panic!("{token}: {other:?}"),
        }
    }
    let stats = auth.stats();
    assert_eq!(stats.validation_requests, 2);
    // An invalid token is not cached as valid.
    assert_eq!(auth.cached_tokens(), 0);
}

#[tokio::test]
async fn a_token_for_no_project_is_invalid() {
    let ks = keystone();
    let auth = auth();
    let system = ks.system_token().await;
    assert_eq!(
        auth.authenticate(&with_token(&system), &ks.project_id("admin"))
            .await,
        Err(AuthError::Invalid(
            "the token is not scoped to a project".to_string()
        ))
    );
}

#[tokio::test]
async fn the_same_token_validated_twice_is_one_request_to_keystone() {
    let ks = keystone();
    let auth = auth();
    let alpha = ks.project_id("alpha");
    let token = ks.token("alice").await;

    let first = auth
        .authenticate(&with_token(&token), &alpha)
        .await
        .unwrap();
    let second = auth
        .authenticate(&with_token(&token), &alpha)
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(
        auth.stats(),
        KeystoneStats {
            validation_requests: 1,
            service_token_requests: 1,
            cache_hits: 1,
        }
    );

    // Another token is another validation, with the same service token.
    let bob = ks.token("bob").await;
    auth.authenticate(&with_token(&bob), &ks.project_id("beta"))
        .await
        .unwrap();
    assert_eq!(
        auth.stats(),
        KeystoneStats {
            validation_requests: 2,
            service_token_requests: 1,
            cache_hits: 1,
        }
    );
}

#[tokio::test]
async fn concurrent_first_requests_share_one_service_token() {
    let ks = keystone();
    let auth = Arc::new(auth());
    let alpha = ks.project_id("alpha");
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(ks.token("alice").await);
    }
    let mut tasks = Vec::new();
    for token in tokens {
        let (auth, alpha) = (Arc::clone(&auth), alpha.clone());
        tasks.push(tokio::spawn(async move {
            auth.authenticate(&with_token(&token), &alpha).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().user_name, "alice");
    }
    let stats = auth.stats();
    assert_eq!(stats.service_token_requests, 1);
    assert_eq!(stats.validation_requests, 4);
}

#[tokio::test]
async fn a_revoked_token_is_invalid_at_once_without_the_cache() {
    let ks = keystone();
    let mut config = ks.config();
    config.cache_ttl = Duration::ZERO;
    let auth = auth_with(config);
    let alpha = ks.project_id("alpha");
    let token = ks.token("alice").await;

    assert!(auth.authenticate(&with_token(&token), &alpha).await.is_ok());
    ks.revoke(&token).await;
    assert!(matches!(
        auth.authenticate(&with_token(&token), &alpha).await,
        Err(AuthError::Invalid(_))
    ));
    assert_eq!(auth.stats().validation_requests, 2);
    assert_eq!(auth.stats().cache_hits, 0);
}

/// The documented window: a revoked token is still accepted while its validation is cached,
/// and refused once that lapses.
#[tokio::test]
async fn a_revoked_token_is_accepted_from_the_cache_until_its_entry_lapses() {
    let ks = keystone();
    let alpha = ks.project_id("alpha");
    let token = ks.token("alice").await;
    // One authenticator that keeps validations for an hour, one for two seconds.
    let long = auth();
    let ttl = Duration::from_secs(2);
    let mut config = ks.config();
    config.cache_ttl = ttl;
    let short = auth_with(config);
    assert!(long.authenticate(&with_token(&token), &alpha).await.is_ok());
    assert!(
        short
            .authenticate(&with_token(&token), &alpha)
            .await
            .is_ok()
    );

    ks.revoke(&token).await;
    assert!(!ks.is_valid(&token).await, "Keystone knows it is revoked");
    assert!(
        long.authenticate(&with_token(&token), &alpha).await.is_ok(),
        "within the TTL the cached validation answers"
    );
    assert_eq!(long.stats().validation_requests, 1);

    tokio::time::sleep(ttl).await;
    assert!(matches!(
        short.authenticate(&with_token(&token), &alpha).await,
        Err(AuthError::Invalid(_))
    ));
    assert_eq!(short.stats().validation_requests, 2);
}

#[tokio::test]
async fn keystone_down_is_unavailable() {
    let ks = keystone();
    let token = ks.token("alice").await;
    let mut config = ks.config();
    config.auth_url = format!("http://127.0.0.1:{}/v3", closed_port());
    let auth = auth_with(config);
    match auth
        .authenticate(&with_token(&token), &ks.project_id("alpha"))
        .await
    {
        Err(AuthError::Unavailable(reason)) => {
            assert!(reason.contains("127.0.0.1"), "{reason}");
            assert!(!reason.contains(&token), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(auth.stats().service_token_requests, 1);
    assert_eq!(auth.stats().validation_requests, 0);
}

#[tokio::test]
async fn wrong_service_credentials_are_unavailable() {
    let ks = keystone();
    let token = ks.token("alice").await;
    let heat = ks.account("heat");
    let auth = auth_with(KeystoneConfig::new(
        ks.auth_url.clone(),
        ServiceCredentials::new(heat.name, "not-the-password", heat.project),
    ));
    match auth
        .authenticate(&with_token(&token), &ks.project_id("alpha"))
        .await
    {
        Err(AuthError::Unavailable(reason)) => {
            assert!(reason.contains("rejected the credentials"), "{reason}");
            assert!(!reason.contains("not-the-password"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_service_user_without_the_service_role_is_unavailable() {
    let ks = keystone();
    let token = ks.token("bob").await;
    let alice = ks.account("alice");
    let auth = auth_with(KeystoneConfig::new(
        ks.auth_url.clone(),
        ServiceCredentials::new(alice.name, alice.password, alice.project),
    ));
    match auth
        .authenticate(&with_token(&token), &ks.project_id("beta"))
        .await
    {
        Err(AuthError::Unavailable(reason)) => {
            assert!(reason.contains("403"), "{reason}");
            assert!(reason.contains("service or admin role"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_rejected_service_token_is_renewed_once_and_the_validation_repeated() {
    let ks = keystone();
    let service = ks
        .create_user(&format!("svc-{}", unique_suffix()), "service", "service")
        .await;
    let auth = auth_with(KeystoneConfig::new(
        ks.auth_url.clone(),
        ServiceCredentials::new(
            service.name.clone(),
            service.password.clone(),
            service.project.clone(),
        ),
    ));
    let alpha = ks.project_id("alpha");
    let first = ks.token("alice").await;
    assert!(auth.authenticate(&with_token(&first), &alpha).await.is_ok());
    assert_eq!(auth.stats().service_token_requests, 1);

    // Disabling a user revokes all its tokens: heat's service token with them.
    ks.set_enabled(&service, false).await;
    ks.set_enabled(&service, true).await;
    // Keystone's revocation covers every token issued up to the second it happened in: wait
    // until a token of the service user issued now is valid again.
    let mut usable = false;
    for _ in 0..100 {
        let probe = ks.token_of(&service).await;
        if ks.is_valid(&probe).await {
            usable = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(usable, "the service user never got a valid token again");

    let second = ks.token("alice").await;
    let ctx = auth
        .authenticate(&with_token(&second), &alpha)
        .await
        .unwrap();
    assert_eq!(ctx.user_name, "alice");
    assert_eq!(
        auth.stats(),
        KeystoneStats {
            // first; second with the revoked service token (401); second again.
            validation_requests: 3,
            service_token_requests: 2,
            cache_hits: 0,
        }
    );
}
