//! How failed requests are retried: the backoff policy and its jitter source, and the
//! minimum upload rate that turns a body's length into a deadline.

use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sync::LockExt;

/// The environment variable that sets a client's minimum upload rate in KiB/s: the upload
/// speed below which a request with a body times out. The CLI reads it (for every service)
/// and parses it with `parse_min_upload_rate`.
pub const MIN_UPLOAD_RATE_VAR: &str = "GLACIER_MIN_UPLOAD_RATE";

/// Parses a [`MIN_UPLOAD_RATE_VAR`] value (whole KiB/s, at least 1) into bytes per second.
pub fn parse_min_upload_rate(value: &str) -> Result<u64> {
    match value.trim().parse::<u64>() {
        Ok(kib) if kib > 0 => Ok(kib.saturating_mul(1024)),
        _ => Err(Error::Usage(format!(
            "{MIN_UPLOAD_RATE_VAR} must be a whole number of KiB/s, at least 1 (got '{value}')"
        ))),
    }
}

/// How failed requests are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the first retry; doubles each time.
    pub base_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based), with "equal jitter": half fixed,
    /// half random, so many clients backing off together spread out (AWS Architecture
    /// Blog, "Exponential Backoff And Jitter").
    pub fn delay(&self, retry: u32, random: u64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 { 0 } else { random % (nanos + 1) };
        half + Duration::from_nanos(jitter)
    }
}

/// A xorshift generator for backoff jitter: seeded by the configuration, so tests fix it.
pub(super) struct Jitter(Mutex<u64>);

impl Jitter {
    /// A generator from `seed` (made odd: xorshift never leaves zero).
    pub(super) fn new(seed: u64) -> Jitter {
        Jitter(Mutex::new(seed | 1))
    }

    /// The next number.
    pub(super) fn next(&self) -> u64 {
        let mut x = self.0.lock_unpoisoned();
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_bounds() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        };
        for (retry, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (5, 1600),
            (6, 2000),
            (30, 2000),
        ] {
            let full = Duration::from_millis(full);
            for r in [0u64, 1, 12345, u64::MAX] {
                let d = p.delay(retry, r);
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
            }
        }
        assert_ne!(p.delay(3, 1), p.delay(3, 99_999_999));
    }

    #[test]
    fn jitter_is_reproducible_from_its_seed() {
        let (a, b) = (Jitter::new(7), Jitter::new(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert!(xs.windows(2).all(|w| w[0] != w[1]), "{xs:?}");
        assert_ne!(Jitter::new(0).next(), 0);
    }

    #[test]
    fn min_upload_rate_is_whole_kib_per_second() {
        assert_eq!(parse_min_upload_rate(" 16 ").expect("16"), 16 * 1024);
        for bad in ["0", "-1", "1.5", "fast", ""] {
            let e = parse_min_upload_rate(bad).expect_err(bad);
            assert!(e.to_string().contains(MIN_UPLOAD_RATE_VAR), "{e}");
        }
    }
}
