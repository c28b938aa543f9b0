//! What the engine gives providers besides the resource itself: time and randomness.
//! heat-core reads no clock and no entropy of its own; the host (heat-server, a test, an
//! example) supplies them, so tests run on virtual time with seeded randomness.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

/// A clock and a timer.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary fixed start.
    fn now(&self) -> Duration;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// A source of random bytes.
pub trait Random: Send + Sync {
    /// Fills `bytes` with random data.
    fn fill(&self, bytes: &mut [u8]);

    /// A uniformly distributed number below `bound` (`bound > 0`; 0 gives 0).
    fn below(&self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        // Rejection sampling: no modulo bias.
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let mut buf = [0u8; 8];
            self.fill(&mut buf);
            let n = u64::from_le_bytes(buf);
            if n < zone {
                return n % bound;
            }
        }
    }
}

/// The services handed to every provider call.
#[derive(Clone)]
pub struct Services {
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// The base URL where signals reach this engine (heat-api's, e.g.
    /// `http://127.0.0.1:8004/v1/<tenant>`), for attributes that hand out signal URLs
    /// (wait condition handles); `None` when the host serves no API.
    pub signal_endpoint: Option<String>,
}

impl Services {
    /// Services with this clock and randomness, and no signal endpoint.
    pub fn new(clock: Arc<dyn Clock>, random: Arc<dyn Random>) -> Services {
        Services {
            clock,
            random,
            signal_endpoint: None,
        }
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// A deterministic pseudo-random source (SplitMix64) for tests and examples; not for secrets.
#[derive(Debug)]
pub struct SeededRandom {
    state: std::sync::Mutex<u64>,
}

impl SeededRandom {
    /// A source starting from `seed`.
    pub fn new(seed: u64) -> SeededRandom {
        SeededRandom {
            state: std::sync::Mutex::new(seed),
        }
    }

    fn next(&self) -> u64 {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Random for SeededRandom {
    fn fill(&self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            let n = self.next().to_le_bytes();
            chunk.copy_from_slice(&n[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_is_deterministic_and_bounded() {
        let a = SeededRandom::new(7);
        let b = SeededRandom::new(7);
        let mut x = [0u8; 13];
        let mut y = [0u8; 13];
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
        let mut seen = [false; 6];
        for _ in 0..200 {
            let n = a.below(6);
            assert!(n < 6);
            seen[n as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
        assert_eq!(a.below(0), 0);
        assert_eq!(a.below(1), 0);
    }
}
