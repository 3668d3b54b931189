//! Progress lines on stderr for long work.
//!
//! Workers bump a shared byte counter; a display thread redraws one line on stderr a few
//! times a second with bytes done, rate and time left. It draws only when asked to
//! (the CLI enables it when stderr is a terminal and `--quiet` is not given), and clears
//! its line when dropped so results and errors start on a clean line. It never writes
//! to stdout.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress display. Dropping it stops the display and clears the line.
pub struct Progress {
    counter: Arc<AtomicU64>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts a display labelled `label` for `total` bytes (unknown when `None`). When
    /// `enabled` is false nothing is drawn and no thread is started, but the counter
    /// still works.
    pub fn start(label: impl Into<String>, total: Option<u64>, enabled: bool) -> Progress {
        let counter = Arc::new(AtomicU64::new(0));
        if !enabled {
            return Progress {
                counter,
                stop: None,
                thread: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let label = label.into();
        let c = Arc::clone(&counter);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            // Redraw on a fixed tick until told to stop (the channel closes or sends).
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_millis(250))
            {
                let line = render(&label, c.load(Ordering::Relaxed), total, started.elapsed());
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
            }
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        });
        Progress {
            counter,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// The byte counter workers add to.
    pub fn counter(&self) -> &AtomicU64 {
        &self.counter
    }

    /// A shareable handle to the counter.
    pub fn shared_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.counter)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One progress line: `label  1.2 GiB / 4.0 GiB  30%  512.0 MiB/s  ETA 6s`.
pub fn render(label: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let mut s = format!("{label}  {}", human_bytes(done));
    if let Some(total) = total {
        let pct = if total > 0 {
            (done as f64 * 100.0 / total as f64).min(100.0)
        } else {
            100.0
        };
        s.push_str(&format!(" / {}  {pct:.0}%", human_bytes(total)));
        if rate > 0.0 && total > done {
            let eta = ((total - done) as f64 / rate).round() as u64;
            s.push_str(&format!(
                "  {}/s  ETA {}",
                human_bytes(rate as u64),
                human_secs(eta)
            ));
            return s;
        }
    }
    s.push_str(&format!("  {}/s", human_bytes(rate as u64)));
    s
}

/// Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `3.0 GiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

fn human_secs(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sizes_rates_and_eta() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        let line = render("hash", 1 << 30, Some(4 << 30), Duration::from_secs(2));
        assert_eq!(line, "hash  1.0 GiB / 4.0 GiB  25%  512.0 MiB/s  ETA 6s");
        let line = render("pack", 1 << 20, None, Duration::from_secs(1));
        assert_eq!(line, "pack  1.0 MiB  1.0 MiB/s");
    }

    #[test]
    fn disabled_display_still_counts() {
        let p = Progress::start("x", Some(10), false);
        p.counter().fetch_add(5, Ordering::Relaxed);
        assert_eq!(p.counter().load(Ordering::Relaxed), 5);
    }
}
