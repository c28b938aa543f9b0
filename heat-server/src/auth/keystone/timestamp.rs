//! Keystone's timestamps (`expires_at`, `issued_at`): ISO 8601 in UTC, as
//! `2026-11-25T15:05:37.000000Z`.

use std::time::{Duration, SystemTime};

/// Why a timestamp could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an ISO 8601 date and time ({reason})")]
pub struct TimestampError {
    text: String,
    reason: &'static str,
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]` (a missing zone means UTC, as in
/// Keystone's older `isotime`s) into a point in time. Times before 1970 are refused.
pub fn parse(text: &str) -> Result<SystemTime, TimestampError> {
    let fail = |reason| TimestampError {
        text: text.to_string(),
        reason,
    };
    let bytes = text.as_bytes();
    let digits = |from: usize, len: usize| -> Result<u64, TimestampError> {
        let part = bytes
            .get(from..from + len)
            .ok_or_else(|| fail("too short"))?;
        part.iter().try_fold(0u64, |n, b| {
            b.is_ascii_digit()
                .then(|| n * 10 + u64::from(b - b'0'))
                .ok_or_else(|| fail("a digit was expected"))
        })
    };
    let expect = |at: usize, allowed: &[u8]| -> Result<(), TimestampError> {
        match bytes.get(at) {
            Some(b) if allowed.contains(b) => Ok(()),
            _ => Err(fail("a separator is missing")),
        }
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    expect(4, b"-")?;
    expect(7, b"-")?;
    expect(10, b"Tt ")?;
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    expect(13, b":")?;
    expect(16, b":")?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(fail("the date does not exist"));
    }
    // 60 is a leap second.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(fail("the time of day does not exist"));
    }

    let mut at = 19;
    let mut nanos = 0u32;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(bytes[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err(fail("the fraction of a second has no digits"));
        }
        for _ in (at - start)..9 {
            nanos *= 10;
        }
    }
    let offset_seconds: i64 = match bytes.get(at) {
        None => 0,
        Some(b'Z' | b'z') if at + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits(at + 1, 2)?;
            let minutes = match bytes.len() - at {
                3 => 0,
                5 => digits(at + 3, 2)?,
                6 if bytes[at + 3] == b':' => digits(at + 4, 2)?,
                _ => return Err(fail("the zone offset is malformed")),
            };
            if hours > 23 || minutes > 59 {
                return Err(fail("the zone offset is out of range"));
            }
            let offset = i64::try_from(hours * 3600 + minutes * 60).unwrap_or(0);
            if *sign == b'+' { offset } else { -offset }
        }
        Some(_) => return Err(fail("unexpected text after the time")),
    };

    let days = days_since_epoch(year, month, day);
    let local = days * 86_400 + i64::try_from(hour * 3600 + minute * 60 + second).unwrap_or(0);
    let utc = u64::try_from(local - offset_seconds).map_err(|_| fail("it is before 1970"))?;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(utc, nanos))
        .ok_or_else(|| fail("it is too far in the future"))
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given civil date (negative before it).
fn days_since_epoch(year: u64, month: u64, day: u64) -> i64 {
    // Both are at most 9999, 12 and 31 here: the conversions cannot fail.
    let (year, month, day) = (
        i64::try_from(year).unwrap_or(0),
        i64::try_from(month).unwrap_or(0),
        i64::try_from(day).unwrap_or(0),
    );
    // Count from March so that the leap day is the last day of the (shifted) year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> u64 {
        parse(text)
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn keystone_timestamps_are_read_as_utc() {
        assert_eq!(secs("1970-01-01T00:00:00Z"), 0);
        assert_eq!(secs("2026-11-25T15:05:37.000000Z"), 1_795_619_137);
        assert_eq!(secs("2000-02-29T00:00:00Z"), 951_782_400);
        assert_eq!(secs("2024-12-31T23:59:59Z"), 1_735_689_599);
        // No zone: UTC.
        assert_eq!(secs("2026-11-25T15:05:37"), 1_795_619_137);
        assert_eq!(secs("2026-11-25 15:05:37.5"), 1_795_619_137);
    }

    #[test]
    fn fractions_and_offsets_are_honoured() {
        let t = parse("2026-11-25T15:05:37.123456Z").unwrap();
        let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(d.subsec_micros(), 123_456);
        assert_eq!(
            parse("2026-11-25T15:05:37.1234567891Z")
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
            123_456_789
        );
        assert_eq!(secs("2026-11-25T16:05:37+01:00"), 1_795_619_137);
        assert_eq!(secs("2026-11-25T14:35:37-0030"), 1_795_619_137);
        assert_eq!(secs("2026-11-25T17:05:37+02"), 1_795_619_137);
    }

    #[test]
    fn malformed_timestamps_are_errors_not_panics() {
        for text in [
            "",
            "2026",
            "2026-11-25",
            "2026-11-25T15:05",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-31T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T15:05:37.Z",
            "2026-11-25T15:05:37Zjunk",
            "2026-11-25T15:05:37+1",
            "2026-11-25T15:05:37+25:00",
            "2026/11/25T15:05:37Z",
            "1969-12-31T23:59:59Z",
            "２０２６-11-25T15:05:37Z",
            "2026-11-25T15:05:37 Z",
        ] {
            assert!(parse(text).is_err(), "{text:?} was accepted");
        }
        let err = parse("2026-13-01T00:00:00Z").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
