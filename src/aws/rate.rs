//! `--limit-rate`: one token bucket shared by every thread and every client of a run
//! (the Glacier and the S3 client hold the same [`RateLimit`] behind an `Arc`), charged
//! where bytes cross the wire: request bodies as the HTTP stack reads them from
//! [`Payload`](super::Payload), response bodies as the caller reads them from
//! [`Response`](super::Response).
//!
//! The bucket lets a debt build up: a reader takes a chunk, charges it, and waits until the
//! shared balance is back to zero. Concurrent readers so queue behind each other and the
//! run as a whole keeps to the rate, however many threads share it. The clock and the
//! sleep are injectable, so the unit tests below never wait or time anything.
//!
//! It never reads argv or the environment (the CLI parses the flag) and never prints.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A monotonic time since some fixed start (injectable: tests advance it by hand).
pub type Ticks = Arc<dyn Fn() -> Duration + Send + Sync>;

/// How a paced reader waits (injectable: tests advance their clock instead).
pub type Sleep = Arc<dyn Fn(Duration) + Send + Sync>;

/// Nanoseconds per second: balances are kept in byte-nanoseconds so that no rate, however
/// small or large, loses precision to rounding.
const NANOS: i128 = 1_000_000_000;

/// The largest read a paced reader makes at once, so that pauses stay short (about a
/// tenth of a second at rates under 640 KiB/s) and a fast run does not pause per byte.
const MAX_CHUNK: u64 = 64 * 1024;

/// A limit in bytes per second, shared by everything that holds the same `Arc`.
pub struct RateLimit {
    rate: u64,
    burst: u64,
    clock: Ticks,
    sleep: Sleep,
    state: Mutex<State>,
    active: AtomicUsize,
    peak: AtomicUsize,
}

struct State {
    /// Bytes × 10⁹ that may go now; negative: owed.
    balance: i128,
    /// When `balance` was last brought up to date.
    last: Duration,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RateLimit({} bytes/s)", self.rate)
    }
}

impl RateLimit {
    /// A limit of `rate` bytes per second (at least 1) on the real clock.
    pub fn new(rate: u64) -> Arc<RateLimit> {
        let start = Instant::now();
        Arc::new(RateLimit::with_clock(
            rate,
            Arc::new(move || start.elapsed()),
            Arc::new(std::thread::sleep),
        ))
    }

    /// A limit on the given clock and sleep (tests).
    pub fn with_clock(rate: u64, clock: Ticks, sleep: Sleep) -> RateLimit {
        let rate = rate.max(1);
        // A quarter of a second's worth may go at once after an idle spell: enough for a
        // chunk, too little to overshoot a short transfer by much.
        let burst = (rate / 4).max(chunk_for(rate));
        let last = clock();
        RateLimit {
            rate,
            burst,
            clock,
            sleep,
            state: Mutex::new(State {
                balance: i128::from(burst) * NANOS,
                last,
            }),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The limit, bytes per second.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// The most that may go at once after an idle spell.
    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// The largest read a paced reader makes at once.
    pub fn chunk(&self) -> usize {
        chunk_for(self.rate) as usize
    }

    /// Charges `n` bytes now; returns how long their sender must wait before they go
    /// (zero while the balance covers them). Never waits itself.
    pub fn reserve(&self, n: u64) -> Duration {
        let now = (self.clock)();
        // A poisoned lock only means another thread panicked mid-update of two numbers
        // that are valid at every step; pacing goes on.
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = now.saturating_sub(s.last).as_nanos();
        s.last = s.last.max(now);
        let earned = i128::try_from(elapsed)
            .unwrap_or(i128::MAX)
            .saturating_mul(i128::from(self.rate));
        let cap = i128::from(self.burst) * NANOS;
        s.balance = s.balance.saturating_add(earned).min(cap);
        s.balance = s.balance.saturating_sub(i128::from(n) * NANOS);
        if s.balance >= 0 {
            return Duration::ZERO;
        }
        let owed = -s.balance;
        let rate = i128::from(self.rate);
        // Round up: waking a nanosecond early would find the balance still short.
        let nanos = (owed + rate - 1) / rate;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Counts one transfer in flight until the guard is dropped (see
    /// [`RateLimit::sharers`]).
    pub fn enter(self: &Arc<RateLimit>) -> Stream {
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Stream {
            limit: Arc::clone(self),
        }
    }

    /// How many transfers a new one shares the rate with, itself included, at most: the
    /// ones in flight now and itself, or the most ever in flight at once if more.
    pub fn sharers(&self) -> u64 {
        let active = self.active.load(Ordering::SeqCst);
        let peak = self.peak.load(Ordering::SeqCst);
        (active + 1).max(peak) as u64
    }

    /// The longest a body of `n` bytes may be made to wait by the limit: its share of
    /// the rate, with every transfer ever seen at once sharing it. The transport adds
    /// this to a request's deadline, and a paced body never waits longer (see
    /// [`Paced::with_budget`]), so pacing alone never trips the deadline.
    pub fn wait_budget(&self, n: u64) -> Duration {
        let nanos = i128::from(n) * i128::from(self.sharers()) * NANOS / i128::from(self.rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// The chunk for a rate: a tenth of a second's worth, between 1 byte and [`MAX_CHUNK`].
fn chunk_for(rate: u64) -> u64 {
    (rate / 10).clamp(1, MAX_CHUNK)
}

/// One transfer in flight on a [`RateLimit`]; dropping it ends the transfer.
pub struct Stream {
    limit: Arc<RateLimit>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.limit.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A reader paced by a [`RateLimit`]: each read takes at most a chunk, charges what it
/// got, and waits what the limit says before handing it on.
pub struct Paced<R> {
    inner: R,
    limit: Arc<RateLimit>,
    /// The most this reader may still wait in all; `None`: no bound.
    budget: Option<Duration>,
    _stream: Stream,
}

impl<R> Paced<R> {
    /// Paces `inner` by `limit`, waiting as long as the limit says.
    pub fn new(inner: R, limit: &Arc<RateLimit>) -> Paced<R> {
        Paced {
            inner,
            _stream: limit.enter(),
            limit: Arc::clone(limit),
            budget: None,
        }
    }

    /// Paces `inner` but waits `budget` at most in all: a request body runs under a
    /// deadline that allows for this much waiting, and when more transfers join than the
    /// deadline was computed for, the body goes faster rather than fail.
    pub fn with_budget(inner: R, limit: &Arc<RateLimit>, budget: Duration) -> Paced<R> {
        Paced {
            budget: Some(budget),
            ..Paced::new(inner, limit)
        }
    }

    /// The reader inside.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(self.limit.chunk());
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Ok(0);
        }
        let mut wait = self.limit.reserve(n as u64);
        if let Some(left) = &mut self.budget {
            wait = wait.min(*left);
            *left -= wait;
        }
        if !wait.is_zero() {
            (self.limit.sleep)(wait);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that moves only when told, and a sleep that moves it.
    fn fake(rate: u64) -> (Arc<RateLimit>, Arc<Mutex<Duration>>) {
        let now = Arc::new(Mutex::new(Duration::ZERO));
        let (c, s) = (Arc::clone(&now), Arc::clone(&now));
        let limit = RateLimit::with_clock(
            rate,
            Arc::new(move || *c.lock().expect("clock")),
            Arc::new(move |d| *s.lock().expect("clock") += d),
        );
        (Arc::new(limit), now)
    }

    fn advance(now: &Mutex<Duration>, d: Duration) {
        *now.lock().expect("clock") += d;
    }

    #[test]
    fn the_burst_goes_at_once_then_the_rate_holds() {
        let (l, now) = fake(1000);
        assert_eq!(l.burst(), 250);
        assert_eq!(l.reserve(250), Duration::ZERO, "the burst is free");
        assert_eq!(l.reserve(100), Duration::from_millis(100));
        // 100 ms later the debt is paid; the next 100 bytes cost 100 ms more.
        advance(&now, Duration::from_millis(100));
        assert_eq!(l.reserve(100), Duration::from_millis(100));
    }

    #[test]
    fn an_idle_spell_earns_no_more_than_the_burst() {
        let (l, now) = fake(1000);
        advance(&now, Duration::from_secs(3600));
        assert_eq!(l.reserve(250), Duration::ZERO);
        assert_eq!(l.reserve(1), Duration::from_millis(1));
    }

    #[test]
    fn a_sustained_stream_runs_at_the_rate() {
        // 10 s of reads through a paced reader on the fake clock: the sleeps it asks
        // for are what moves the clock, so the time taken is the pacing alone.
        let (l, now) = fake(100 * 1024);
        let data = vec![7u8; 10 * 100 * 1024 + l.burst() as usize];
        let mut r = Paced::new(&data[..], &l);
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("read");
        assert_eq!(out, data);
        let took = *now.lock().expect("clock");
        assert_eq!(took, Duration::from_secs(10));
    }

    #[test]
    fn threads_share_one_rate() {
        // Eight threads charge 1,000 bytes each at the same instant, the burst spent:
        // whatever the order, their waits are 1 s, 2 s ... 8 s, as for one sender.
        let (l, _now) = fake(1000);
        l.reserve(l.burst());
        let waits: Vec<Duration> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8).map(|_| s.spawn(|| l.reserve(1000))).collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let mut secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
        secs.sort_unstable();
        assert_eq!(secs, (1..=8).collect::<Vec<u64>>());
        assert!(waits.iter().all(|w| w.subsec_nanos() == 0), "{waits:?}");
    }

    #[test]
    fn a_tiny_rate_reads_a_byte_at_a_time() {
        let (l, now) = fake(1);
        assert_eq!((l.chunk(), l.burst()), (1, 1));
        let mut r = Paced::new(&b"abcd"[..], &l);
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"abcd");
        // The first byte is the burst; the other three wait a second each.
        assert_eq!(*now.lock().expect("clock"), Duration::from_secs(3));
    }

    #[test]
    fn a_huge_rate_never_overflows_or_waits() {
        let (l, now) = fake(u64::MAX);
        assert_eq!(l.chunk() as u64, MAX_CHUNK);
        for _ in 0..1000 {
            assert_eq!(l.reserve(1 << 30), Duration::ZERO);
        }
        advance(&now, Duration::from_secs(u64::MAX / 2));
        assert_eq!(l.reserve(1), Duration::ZERO);
        assert!(l.wait_budget(u64::MAX) <= Duration::from_secs(1));
    }

    #[test]
    fn a_clock_that_goes_back_earns_nothing() {
        let (l, now) = fake(1000);
        advance(&now, Duration::from_secs(10));
        l.reserve(250);
        *now.lock().expect("clock") = Duration::from_secs(5);
        assert_eq!(l.reserve(100), Duration::from_millis(100));
    }

    #[test]
    fn a_budget_bounds_the_waiting_of_one_body() {
        let (l, now) = fake(1000);
        l.reserve(l.burst());
        let mut r = Paced::with_budget(&[0u8; 500][..], &l, Duration::from_millis(200));
        std::io::copy(&mut r, &mut std::io::sink()).expect("read");
        assert_eq!(*now.lock().expect("clock"), Duration::from_millis(200));
    }

    #[test]
    fn the_wait_budget_counts_the_transfers_sharing_the_rate() {
        let (l, _now) = fake(1000);
        assert_eq!(l.wait_budget(1000), Duration::from_secs(1));
        let a = l.enter();
        let b = l.enter();
        assert_eq!(l.sharers(), 3, "two in flight and the one asking");
        assert_eq!(l.wait_budget(1000), Duration::from_secs(3));
        drop((a, b));
        // The peak stays: two transfers at once happened, and may again.
        assert_eq!(l.sharers(), 2);
        assert_eq!(l.wait_budget(1000), Duration::from_secs(2));
    }
}
