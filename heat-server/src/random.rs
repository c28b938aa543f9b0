//! Randomness for the engine from the operating system: `RandomString` values, passwords
//! and signal tokens are secrets, so they come from the OS's cryptographic source.

use heat_core::engine::Random;

/// The operating system's random source (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl OsRandom {
    /// Checks that the OS source works (done once at start-up, so that a broken source is
    /// a start-up error rather than a failure in the middle of a stack operation).
    pub fn check() -> Result<OsRandom, getrandom::Error> {
        let mut probe = [0u8; 8];
        getrandom::fill(&mut probe)?;
        Ok(OsRandom)
    }
}

impl Random for OsRandom {
    fn fill(&self, bytes: &mut [u8]) {
        // The trait cannot fail. `getrandom` only fails when the OS source is unavailable,
        // which `check` has ruled out at start-up; should it fail later anyway, the bytes
        // are never left predictable: we retry, and as a last resort abort the process
        // rather than hand out a guessable secret.
        for _ in 0..3 {
            if getrandom::fill(bytes).is_ok() {
                return;
            }
        }
        tracing::error!("the operating system's random source failed; stopping");
        std::process::abort();
    }
}

/// A random version-4 UUID from a random source.
pub fn uuid4(random: &dyn Random) -> String {
    let mut b = [0u8; 16];
    random.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_source_gives_different_bytes_and_well_formed_uuids() {
        let random = OsRandom::check().unwrap();
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        random.fill(&mut a);
        random.fill(&mut b);
        assert_ne!(a, b);
        let id = uuid4(&random);
        assert_eq!(id.len(), 36);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{id}"
        );
    }
}
