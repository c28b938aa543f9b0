//! Wall-clock time for the engine, and the timestamp formats of Heat's API.
//!
//! The engine reads time only through [`heat_core::engine::Clock`]; the server's clock is
//! the system clock (time since the Unix epoch, so stored times are dates) and sleeps on
//! tokio's timer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use heat_core::engine::Clock;

/// The system clock: `now` is the time since the Unix epoch, `sleep` a tokio timer.
#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Duration {
        // A clock set before 1970 reads as the epoch rather than failing.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The civil date and time of a time since the Unix epoch (UTC):
/// `(year, month, day, hour, minute, second)`.
fn civil(since_epoch: Duration) -> (i64, u32, u32, u32, u32, u32) {
    let secs = since_epoch.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // The casts are in range: day 1..=31, month 1..=12, the time parts below 60 or 24.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (
        year,
        month as u32,
        day as u32,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Heat's API timestamp: `2026-11-25T08:43:04Z` (whole seconds, UTC).
pub fn iso8601(since_epoch: Duration) -> String {
    let (y, mo, d, h, mi, s) = civil(since_epoch);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Python's `datetime.isoformat()` with microseconds and no zone, which Heat's services
/// list uses: `2026-11-25T08:43:00.162500`.
pub fn iso8601_micros(since_epoch: Duration) -> String {
    let (y, mo, d, h, mi, s) = civil(since_epoch);
    let micros = since_epoch.subsec_micros();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_formatted_as_heat_formats_them() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_795_596_184, "2026-11-25T08:43:04Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            assert_eq!(iso8601(Duration::from_secs(secs)), want, "{secs}");
        }
        let t = Duration::from_secs(1_795_596_180) + Duration::from_micros(162_500);
        assert_eq!(iso8601_micros(t), "2026-11-25T08:43:00.162500");
    }

    #[tokio::test(start_paused = true)]
    async fn the_wall_clock_reads_the_epoch_and_sleeps_on_tokio() {
        let clock = WallClock;
        // After 2020-01-01.
        assert!(clock.now() > Duration::from_secs(1_577_836_800));
        let start = tokio::time::Instant::now();
        clock.sleep(Duration::from_secs(5)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
