//! How failed requests are retried: the backoff policy and its jitter source, the one
//! loop ([`Backoff::run`]) for calls that are retried outside the transport's own (a
//! streamed S3 part whose body cannot be sent twice, STS, which the transport does not
//! speak), and the minimum upload rate that turns a body's length into a deadline.
//!
//! What is worth another attempt is the caller's to say ([`Next`]), from the
//! classification on [`Error`] (`is_transient`, `is_throttled`); this module only counts
//! attempts and pauses. It never prints: a caller that logs retries does so in the hook
//! [`Backoff::run_with`] calls before each pause.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// A jitter seed for a retry loop without a configured one: the time and the process ID,
/// so that processes started together do not back off in step.
pub(crate) fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id())
}

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Give up: trying again changes nothing (or must not be done).
    Stop,
    /// Try again after the policy's backoff: the service or the network needs time.
    Later,
    /// Try again at once: the fault was on our side of the call (a source range that
    /// failed its check), and the service is not to blame.
    Now,
}

/// How a [`Backoff::run`] loop ended without success.
#[derive(Debug)]
pub(crate) struct GaveUp<E> {
    /// The last attempt's error.
    pub error: E,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// The last error was worth another attempt, but the policy's attempts were used
    /// up; otherwise the caller's [`Next::Stop`] ended the loop.
    pub exhausted: bool,
}

/// Pauses between attempts: `std::thread::sleep` unless a test records them instead.
type Pause = Box<dyn Fn(Duration) + Send + Sync>;

/// A retry loop's policy, jitter and pause: the transport's backoff ([`RetryPolicy`],
/// equal jitter) for calls retried outside the transport. Shared by threads.
pub(crate) struct Backoff {
    policy: RetryPolicy,
    jitter: Jitter,
    pause: Pause,
}

impl Backoff {
    /// A loop under `policy`, its jitter seeded by `seed`, pausing with
    /// `std::thread::sleep`.
    pub(crate) fn new(policy: RetryPolicy, seed: u64) -> Backoff {
        Backoff {
            policy,
            jitter: Jitter::new(seed),
            pause: Box::new(std::thread::sleep),
        }
    }

    /// The same loop with `pause` instead of sleeping (tests record the pauses).
    #[cfg(test)]
    pub(crate) fn with_pause(self, pause: impl Fn(Duration) + Send + Sync + 'static) -> Backoff {
        Backoff {
            pause: Box::new(pause),
            ..self
        }
    }

    /// Calls `attempt` (with the 1-based attempt number) until it succeeds, `decide`
    /// says [`Next::Stop`], or the policy's attempts are used up; see
    /// [`Backoff::run_with`].
    pub(crate) fn run<T, E>(
        &self,
        attempt: impl FnMut(u32) -> std::result::Result<T, E>,
        decide: impl Fn(&E) -> Next,
    ) -> std::result::Result<T, GaveUp<E>> {
        self.run_with(attempt, decide, |_, _, _| {})
    }

    /// [`Backoff::run`], calling `before_pause(error, next_attempt, delay)` before each
    /// backoff pause (for a log line or a note).
    pub(crate) fn run_with<T, E>(
        &self,
        mut attempt: impl FnMut(u32) -> std::result::Result<T, E>,
        decide: impl Fn(&E) -> Next,
        mut before_pause: impl FnMut(&E, u32, Duration),
    ) -> std::result::Result<T, GaveUp<E>> {
        let mut n = 1;
        // The backoff grows with the retries that waited, not with the immediate ones.
        let mut waited = 0;
        loop {
            let error = match attempt(n) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let next = decide(&error);
            if next == Next::Stop || n >= self.policy.max_attempts {
                return Err(GaveUp {
                    error,
                    attempts: n,
                    exhausted: next != Next::Stop,
                });
            }
            if next == Next::Later {
                waited += 1;
                let delay = self.policy.delay(waited, self.jitter.next());
                before_pause(&error, n + 1, delay);
                (self.pause)(delay);
            }
            n += 1;
        }
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

    /// A loop of `attempts` that records its pauses instead of sleeping.
    fn recorded(attempts: u32) -> (Backoff, std::sync::Arc<Mutex<Vec<Duration>>>) {
        let pauses = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&pauses);
        let policy = RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let b = Backoff::new(policy, 7).with_pause(move |d| log.lock_unpoisoned().push(d));
        (b, pauses)
    }

    #[test]
    fn the_loop_retries_what_it_is_told_as_often_as_the_policy_allows() {
        let (b, pauses) = recorded(4);
        // Always worth another try: four attempts, three backoff pauses within the
        // policy's doubling, capped, equal-jitter bounds.
        let mut seen = Vec::new();
        let r: std::result::Result<(), GaveUp<&str>> = b.run(
            |n| {
                seen.push(n);
                Err("503")
            },
            |_| Next::Later,
        );
        let gave_up = r.expect_err("never succeeds");
        assert_eq!((gave_up.attempts, gave_up.exhausted), (4, true));
        assert_eq!(seen, [1, 2, 3, 4]);
        let pauses = std::mem::take(&mut *pauses.lock_unpoisoned());
        assert_eq!(pauses.len(), 3);
        for (p, full) in pauses.iter().zip([100, 200, 300]) {
            let full = Duration::from_millis(full);
            assert!(*p >= full / 2 && *p <= full, "{pauses:?}");
        }
    }

    #[test]
    fn stop_ends_at_once_and_now_retries_without_a_pause() {
        let (b, pauses) = recorded(3);
        let mut calls = 0;
        let r: std::result::Result<(), GaveUp<u32>> = b.run(
            |_| {
                calls += 1;
                Err(403)
            },
            |_| Next::Stop,
        );
        let gave_up = r.expect_err("refused");
        assert_eq!((calls, gave_up.attempts, gave_up.exhausted), (1, 1, false));
        assert!(pauses.lock_unpoisoned().is_empty());

        // Immediate retries, then success on the third attempt.
        let got = b.run(|n| if n < 3 { Err(n) } else { Ok("done") }, |_| Next::Now);
        assert_eq!(got.expect("third attempt"), "done");
        assert!(pauses.lock_unpoisoned().is_empty(), "no pause for Now");

        // An immediate retry does not grow the next backoff; the hook sees each pause.
        let mut hooked = Vec::new();
        let r: std::result::Result<(), GaveUp<u32>> = b.run_with(
            Err,
            |n| if *n == 1 { Next::Now } else { Next::Later },
            |e, next, d| hooked.push((*e, next, d)),
        );
        assert_eq!(r.expect_err("fails").attempts, 3);
        let pauses = pauses.lock_unpoisoned().clone();
        assert_eq!(pauses.len(), 1);
        assert!(pauses[0] <= Duration::from_millis(100), "{pauses:?}");
        assert_eq!(hooked, [(2, 3, pauses[0])]);
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
