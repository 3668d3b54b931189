//! Pauses of a long run: capped, jittered backoff while a transient fault lasts, and a
//! sleep that a stop flag (Ctrl-C) cuts short.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    fn a_set_stop_flag_ends_a_pause_at_once() {
        let stop = AtomicBool::new(true);
        assert!(!pause(Duration::from_secs(3600), &stop));
        assert!(pause(Duration::ZERO, &AtomicBool::new(false)));
    }
}
