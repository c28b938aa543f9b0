//! Validated tokens, kept for a while so that a client's every request does not cost a
//! round trip to Keystone. Keyed by a SHA-256 of the token: the cache holds no token.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use super::token::TokenInfo;

/// What a token is known by in the cache and in logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey([u8; 32]);

impl TokenKey {
    /// The key of `token`.
    pub fn of(token: &str) -> Self {
        TokenKey(Sha256::digest(token.as_bytes()).into())
    }

    /// A short, non-secret name of the token for logs: the first 8 hex digits of its hash.
    pub fn short(&self) -> String {
        self.0[..4].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

struct Entry {
    info: Arc<TokenInfo>,
    fresh_until: Instant,
}

/// Validated tokens, each until its TTL or its expiry, whichever comes first.
pub(crate) struct TokenCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<TokenKey, Entry>>,
}

impl TokenCache {
    /// A cache keeping at most `capacity` tokens for at most `ttl` each.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TokenCache {
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The validation of `key` if it is still fresh at `now`. A stale entry is dropped.
    pub fn get(&self, key: &TokenKey, now: Instant) -> Option<Arc<TokenInfo>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(entry) if now < entry.fresh_until => Some(Arc::clone(&entry.info)),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers a validation made at `now` (`wall_now` on the clock tokens expire by).
    /// Nothing is kept when the cache is off or the token is about to expire.
    pub fn insert(&self, key: TokenKey, info: Arc<TokenInfo>, now: Instant, wall_now: SystemTime) {
        let left = info
            .expires_at
            .duration_since(wall_now)
            .unwrap_or(Duration::ZERO);
        let keep = self.ttl.min(left);
        if keep.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| now < entry.fresh_until);
            if entries.len() >= self.capacity {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.fresh_until)
                    .map(|(key, _)| *key);
                if let Some(soonest) = soonest {
                    entries.remove(&soonest);
                }
            }
        }
        entries.insert(
            key,
            Entry {
                info,
                fresh_until: now + keep,
            },
        );
    }

    /// How many validations are kept (fresh or not yet dropped).
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(expires_in: Duration, wall_now: SystemTime) -> Arc<TokenInfo> {
        Arc::new(TokenInfo {
            user_id: "u".to_string(),
            user_name: "alice".to_string(),
            user_domain_id: None,
            project: None,
            roles: vec![],
            expires_at: wall_now + expires_in,
        })
    }

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn an_entry_is_fresh_until_its_ttl() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let cache = TokenCache::new(MIN, 10);
        let key = TokenKey::of("t1");
        cache.insert(key, info(10 * MIN, wall), now, wall);
        assert!(cache.get(&key, now).is_some());
        assert!(
            cache
                .get(&key, now + MIN - Duration::from_millis(1))
                .is_some()
        );
        assert!(cache.get(&key, now + MIN).is_none());
        assert_eq!(cache.len(), 0, "the stale entry is dropped");
    }

    #[test]
    fn an_entry_never_outlives_its_token() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let cache = TokenCache::new(10 * MIN, 10);
        let key = TokenKey::of("t1");
        cache.insert(key, info(MIN, wall), now, wall);
        assert!(
            cache
                .get(&key, now + MIN - Duration::from_millis(1))
                .is_some()
        );
        assert!(cache.get(&key, now + MIN).is_none());
        // An already expired token is not kept at all.
        cache.insert(key, info(Duration::ZERO, wall), now, wall);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_zero_ttl_or_capacity_keeps_nothing() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        for cache in [TokenCache::new(Duration::ZERO, 10), TokenCache::new(MIN, 0)] {
            cache.insert(TokenKey::of("t1"), info(MIN, wall), now, wall);
            assert!(cache.get(&TokenKey::of("t1"), now).is_none());
        }
    }

    #[test]
    fn a_full_cache_drops_stale_entries_then_the_soonest_to_lapse() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let cache = TokenCache::new(10 * MIN, 2);
        cache.insert(TokenKey::of("short"), info(MIN, wall), now, wall);
        cache.insert(TokenKey::of("long"), info(5 * MIN, wall), now, wall);
        cache.insert(TokenKey::of("new"), info(5 * MIN, wall), now, wall);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&TokenKey::of("short"), now).is_none());
        assert!(cache.get(&TokenKey::of("long"), now).is_some());
        assert!(cache.get(&TokenKey::of("new"), now).is_some());

        // Later, when both are stale, a new entry clears them.
        let later = now + 6 * MIN;
        cache.insert(TokenKey::of("later"), info(10 * MIN, wall), later, wall);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&TokenKey::of("later"), later).is_some());
    }

    #[test]
    fn keys_are_hashes_and_short_names_reveal_nothing_of_the_token() {
        let key = TokenKey::of("gAAAAABsecret");
        assert_eq!(key.short().len(), 8);
        assert!(key.short().chars().all(|c| c.is_ascii_hexdigit()));
        assert!(key != TokenKey::of("gAAAAABsecres"));
        assert!(key == TokenKey::of("gAAAAABsecret"));
    }
}
