//! Pauses of a long run: capped, jittered backoff while a transient fault lasts, and a
//! sleep that a stop flag (Ctrl-C) cuts short.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Backoff for faults that outlast the client's own retries: doubles from `base` up to
/// `cap`, with "equal jitter" (half fixed, half random) so that many workers backing
/// off together spread out (AWS Architecture Blog, "Exponential Backoff And Jitter").
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    next: Duration,
    rng: u64,
}

impl Backoff {
    /// Starts at `base`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        // Seeded from the clock: jitter only spreads pauses, it need not be reproducible.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Backoff {
            base,
            cap: cap.max(base),
            next: base,
            rng: seed | 1,
        }
    }

    /// The next pause (then the one after is doubled, up to the cap).
    pub fn next_pause(&mut self) -> Duration {
        let full = self.next;
        self.next = (self.next * 2).min(self.cap);
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = full / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 {
            0
        } else {
            self.rng % (nanos + 1)
        };
        half + Duration::from_nanos(jitter)
    }

    /// The fault cleared: the next one starts from `base` again.
    pub fn reset(&mut self) {
        self.next = self.base;
    }
}

/// Sleeps `d` in short steps; `false` (at once) if `stop` is or becomes set.
pub fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
}

/// How [`persist`] keeps a step going.
#[derive(Debug, Clone, Copy)]
pub struct Persist<'a> {
    /// The first and the longest pause after a transient fault.
    pub backoff: (Duration, Duration),
    /// Set by Ctrl-C: the pause ends at once with [`Error::Interrupted`].
    pub stop: &'a AtomicBool,
    /// Bytes that did not verify against Glacier's tree hash are fetched again: a body
    /// flipped in transit verifies on a later try. Only for a step whose expected hash
    /// is Glacier's own, never an inventory's (which no retry can change).
    pub retry_mismatch: bool,
    /// Attempts at most (`None`: until the step succeeds or `stop` is set). A short
    /// command gives up after a few; a long run never does.
    pub tries: Option<u32>,
}

/// Bytes that do not verify are fetched again this many times at most: a body flipped
/// in transit verifies on a later try, one wrong at its source never does.
const MISMATCH_TRIES: u32 = 4;

/// Does time cure `e`? A transient fault, unless it is the local disk's (full, read-only,
/// refused), which only the user can fix.
fn worth_retrying(e: &Error, retry_mismatch: bool) -> bool {
    match e.root() {
        Error::Mismatch { .. } => retry_mismatch,
        Error::Transport { source, .. } => {
            !source.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull
                        | std::io::ErrorKind::ReadOnlyFilesystem
                        | std::io::ErrorKind::PermissionDenied
                        | std::io::ErrorKind::QuotaExceeded
                )
            })
        }
        _ => e.is_transient(),
    }
}

/// Runs `step` until it succeeds or fails for a reason time does not cure: a transient
/// fault that outlasted the client's own retries (throttling, 5xx, a dropped connection,
/// a timeout, a body cut short) gets a note naming `what` and a pause that grows while
/// the fault lasts. The step must be safe to run again (a download resumes; a lookup
/// is read-only).
pub fn persist<T>(
    p: &Persist<'_>,
    what: &str,
    note: &mut dyn FnMut(&str),
    mut step: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut backoff = Backoff::new(p.backoff.0, p.backoff.1);
    let (mut tries, mut mismatches) = (0u32, 0u32);
    loop {
        tries += 1;
        match step() {
            Err(e) if p.tries.is_some_and(|n| tries >= n) => return Err(e),
            Err(e)
                if matches!(e.root(), Error::Mismatch { .. })
                    && mismatches + 1 >= MISMATCH_TRIES =>
            {
                return Err(e);
            }
            Err(e) if worth_retrying(&e, p.retry_mismatch) => {
                mismatches += u32::from(matches!(e.root(), Error::Mismatch { .. }));
                let d = backoff.next_pause();
                note(&format!(
                    "{what}: {}; trying again in {} ms",
                    crate::error::chain(&e),
                    d.as_millis()
                ));
                if !pause(d, p.stop) {
                    return Err(Error::Interrupted(format!(
                        "{what} interrupted; run the same command again to continue"
                    )));
                }
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        for full in [100, 200, 400, 400] {
            let p = b.next_pause();
            assert!(p >= Duration::from_millis(full / 2) && p <= Duration::from_millis(full));
        }
        b.reset();
        assert!(b.next_pause() <= Duration::from_millis(100));
    }

    #[test]
    fn persist_rides_out_transient_faults_only() {
        let stop = AtomicBool::new(false);
        let p = Persist {
            backoff: (Duration::ZERO, Duration::ZERO),
            stop: &stop,
            retry_mismatch: false,
            tries: None,
        };
        let mut n = 0;
        let transient = || Error::Transport {
            what: "w".into(),
            source: "dropped".into(),
        };
        let got = persist(&p, "step", &mut |_| {}, || {
            n += 1;
            if n < 3 { Err(transient()) } else { Ok(n) }
        });
        assert_eq!(got.ok(), Some(3));
        let got: Result<()> = persist(&p, "step", &mut |_| {}, || Err(Error::Input("bad".into())));
        assert!(matches!(got, Err(Error::Input(_))));
        let full = || Error::Transport {
            what: "w".into(),
            source: Box::new(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        };
        let got: Result<()> = persist(&p, "step", &mut |_| {}, || Err(full()));
        assert!(
            matches!(got, Err(Error::Transport { .. })),
            "a full disk is the user's"
        );
        stop.store(true, Ordering::Relaxed);
        let got: Result<()> = persist(&p, "step", &mut |_| {}, || Err(transient()));
        assert!(matches!(got, Err(Error::Interrupted(_))));
    }

    #[test]
    fn a_set_stop_flag_ends_a_pause_at_once() {
        let stop = AtomicBool::new(true);
        assert!(!pause(Duration::from_secs(3600), &stop));
        assert!(pause(Duration::ZERO, &AtomicBool::new(false)));
    }
}
