//! How long work tells the person running it how far it is: the [`Reporter`] every
//! workflow (upload, archive get, inventory get, export, purge) takes, and the stderr
//! display behind it.
//!
//! A workflow reports bytes and items (archives) done against the totals it knows, and
//! notes: one line each, a diagnostic, never a result. Workers report from their own
//! threads, so every method takes `&self`. [`Display`] draws one line on stderr a few times
//! a second (only when asked to: the CLI enables it when stderr is a terminal and `--quiet`
//! is not given), prints notes above it unless they are silenced, and clears its line when
//! dropped so results and errors start on a clean line. Nothing here writes to stdout.
//! [`Counts`] is a reporter that only counts (library callers and tests).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::sync::LockExt;

/// The totals of a piece of work, as far as they are known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bytes to move or hash, if known.
    pub bytes: Option<u64>,
    /// Items (archives, deletions) to do, if counted.
    pub items: Option<u64>,
}

impl Totals {
    /// Totals of `n` bytes and no item count.
    pub fn bytes(n: u64) -> Totals {
        Totals {
            bytes: Some(n),
            items: None,
        }
    }
}

/// What a long workflow tells the person running it. Implementations must be cheap to
/// call from many threads at once.
pub trait Reporter: Send + Sync {
    /// A phase of work begins (`label`: "upload", "export", "delete"...) with its totals;
    /// the counts start again from 0.
    fn begin(&self, label: &str, totals: Totals);
    /// `n` more bytes are done.
    fn add_bytes(&self, n: u64);
    /// `n` more items are done.
    fn add_items(&self, n: u64);
    /// One line for the person running the command: a diagnostic, never a result.
    fn note(&self, line: &str);
    /// What the phase is doing beside its counts (`jobs waiting 3, next poll in 30 min`),
    /// drawn after them until replaced; `begin` clears it. Not a note: where no line is
    /// drawn, nothing is printed.
    fn detail(&self, text: &str) {
        let _ = text;
    }
}

impl std::fmt::Debug for dyn Reporter + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reporter")
    }
}

/// Where a phase stands: what [`Counts`] holds and [`Display`] draws.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The phase's label.
    pub label: String,
    /// Its totals.
    pub totals: Totals,
    /// Bytes done.
    pub bytes: u64,
    /// Items done.
    pub items: u64,
    /// The phase's latest [`Reporter::detail`], if any.
    pub detail: String,
}

/// A reporter that counts and keeps notes, and draws nothing.
#[derive(Default)]
pub struct Counts {
    label: Mutex<(String, Totals)>,
    detail: Mutex<String>,
    bytes: AtomicU64,
    items: AtomicU64,
    notes: Mutex<Vec<String>>,
}

impl Counts {
    /// A fresh counter with no phase begun.
    pub fn new() -> Counts {
        Counts::default()
    }

    /// Where the current phase stands.
    pub fn snapshot(&self) -> Snapshot {
        let (label, totals) = self.label.lock_unpoisoned().clone();
        Snapshot {
            label,
            totals,
            bytes: self.bytes.load(Ordering::Relaxed),
            items: self.items.load(Ordering::Relaxed),
            detail: self.detail.lock_unpoisoned().clone(),
        }
    }

    /// The notes so far.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock_unpoisoned().clone()
    }
}

impl Reporter for Counts {
    fn begin(&self, label: &str, totals: Totals) {
        *self.label.lock_unpoisoned() = (label.to_string(), totals);
        self.detail.lock_unpoisoned().clear();
        self.bytes.store(0, Ordering::Relaxed);
        self.items.store(0, Ordering::Relaxed);
    }
    fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    fn add_items(&self, n: u64) {
        self.items.fetch_add(n, Ordering::Relaxed);
    }
    fn note(&self, line: &str) {
        self.notes.lock_unpoisoned().push(line.to_string());
    }
    fn detail(&self, text: &str) {
        *self.detail.lock_unpoisoned() = text.to_string();
    }
}

/// Shared by [`Display`] and its drawing thread.
struct Shared {
    counts: Counts,
    started: Mutex<Instant>,
    /// Serializes writes to stderr so a note never lands inside a progress line.
    line: Mutex<bool>,
}

/// The stderr reporter: a progress line when `draw` is on, notes unless `notes` is off.
/// Dropping it stops the display and clears the line.
pub struct Display {
    shared: Arc<Shared>,
    notes: bool,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Display {
    /// A display that draws a progress line when `draw` is true (a terminal, no
    /// `--quiet`) and prints notes as `glacier: LINE` when `notes` is true (no `--quiet`).
    /// When `draw` is false no thread is started, but the counts still work.
    pub fn new(draw: bool, notes: bool) -> Display {
        let shared = Arc::new(Shared {
            counts: Counts::new(),
            started: Mutex::new(Instant::now()),
            line: Mutex::new(false),
        });
        let d = Display {
            shared,
            notes,
            stop: Mutex::new(None),
            thread: Mutex::new(None),
        };
        if draw {
            let (tx, rx) = mpsc::channel::<()>();
            let s = Arc::clone(&d.shared);
            *d.thread.lock_unpoisoned() =
                Some(std::thread::spawn(move || draw_until_stopped(&s, &rx)));
            *d.stop.lock_unpoisoned() = Some(tx);
        }
        d
    }

    /// Stops drawing and clears the line, so what is printed next starts on a clean line
    /// (also done on drop). Counts and notes keep working.
    pub fn finish(&self) {
        drop(self.stop.lock_unpoisoned().take());
        if let Some(t) = self.thread.lock_unpoisoned().take() {
            let _ = t.join();
        }
    }

    /// Where the current phase stands.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.counts.snapshot()
    }
}

/// Redraws on a fixed tick until told to stop (the channel closes or sends), then clears.
fn draw_until_stopped(s: &Shared, rx: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_millis(250)) {
        let snap = s.counts.snapshot();
        if snap.label.is_empty() {
            continue;
        }
        let elapsed = s.started.lock_unpoisoned().elapsed();
        let text = render_snapshot(&snap, elapsed);
        let mut drawn = s.line.lock_unpoisoned();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        *drawn = true;
    }
    let mut drawn = s.line.lock_unpoisoned();
    if *drawn {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
        *drawn = false;
    }
}

impl Reporter for Display {
    fn begin(&self, label: &str, totals: Totals) {
        self.shared.counts.begin(label, totals);
        *self.shared.started.lock_unpoisoned() = Instant::now();
    }
    fn add_bytes(&self, n: u64) {
        self.shared.counts.add_bytes(n);
    }
    fn add_items(&self, n: u64) {
        self.shared.counts.add_items(n);
    }
    fn note(&self, line: &str) {
        if !self.notes {
            return;
        }
        // Clear the progress line first; the next tick draws it again below the note.
        let mut drawn = self.shared.line.lock_unpoisoned();
        let mut err = std::io::stderr().lock();
        if *drawn {
            let _ = write!(err, "\r\x1b[2K");
            *drawn = false;
        }
        let _ = writeln!(err, "glacier: {line}");
        let _ = err.flush();
    }
    fn detail(&self, text: &str) {
        self.shared.counts.detail(text);
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One line for a phase: bytes (with rate and ETA when the byte total is known) after the
/// item count when items are counted, then the detail if any:
/// `export  120 / 500  1.2 GiB  30.0 MiB/s  ETA 2m05s  (jobs waiting 3)`.
pub fn render_snapshot(s: &Snapshot, elapsed: Duration) -> String {
    let mut line = counts_line(s, elapsed);
    if !s.detail.is_empty() {
        line.push_str("  (");
        line.push_str(&s.detail);
        line.push(')');
    }
    line
}

/// [`render_snapshot`] without the detail.
fn counts_line(s: &Snapshot, elapsed: Duration) -> String {
    if s.totals.items.is_none() && s.items == 0 {
        return render(&s.label, s.bytes, s.totals.bytes, elapsed);
    }
    let mut line = match s.totals.items {
        Some(t) => format!("{}  {} / {t}", s.label, s.items),
        None => format!("{}  {}", s.label, s.items),
    };
    let bytes = render("", s.bytes, s.totals.bytes, elapsed);
    if s.bytes > 0 || s.totals.bytes.is_some() {
        line.push_str(&bytes);
    } else if let (Some(t), true) = (s.totals.items, s.items > 0) {
        // No bytes to go by: time left from the item rate.
        let secs = elapsed.as_secs_f64();
        if t > s.items && secs > 0.0 {
            let eta = ((t - s.items) as f64 * secs / s.items as f64).round() as u64;
            line.push_str(&format!("  ETA {}", human_secs(eta)));
        }
    }
    line
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

/// `90 s`, `15 min`, `2 h`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 1 {
        format!("{} ms", d.as_millis())
    } else if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else {
        format!("{} h", s / 3600)
    }
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
    fn counts_and_notes_without_drawing() {
        let d = Display::new(false, false);
        d.begin("x", Totals::bytes(10));
        d.add_bytes(5);
        d.add_items(2);
        d.note("not printed: notes are off");
        let s = d.snapshot();
        assert_eq!((s.label.as_str(), s.bytes, s.items), ("x", 5, 2));
        d.detail("jobs waiting 3");
        assert_eq!(d.snapshot().detail, "jobs waiting 3");
        d.begin("y", Totals::default());
        assert_eq!(d.snapshot().bytes, 0, "a new phase counts from 0");
        assert_eq!(d.snapshot().detail, "", "a new phase has no detail yet");
        let c = Counts::new();
        c.note("kept");
        assert_eq!(c.notes(), vec!["kept".to_string()]);
    }

    #[test]
    fn renders_items_with_bytes_or_an_item_eta() {
        let mut s = Snapshot {
            label: "export".into(),
            totals: Totals {
                bytes: None,
                items: Some(500),
            },
            bytes: 0,
            items: 100,
            detail: String::new(),
        };
        let e = Duration::from_secs(10);
        assert_eq!(render_snapshot(&s, e), "export  100 / 500  ETA 40s");
        s.bytes = 1 << 20;
        assert_eq!(
            render_snapshot(&s, e),
            "export  100 / 500  1.0 MiB  102.4 KiB/s"
        );
        s.totals.items = None;
        s.items = 0;
        assert_eq!(render_snapshot(&s, e), "export  1.0 MiB  102.4 KiB/s");
        s.detail = "next poll in 30 s".into();
        assert_eq!(
            render_snapshot(&s, e),
            "export  1.0 MiB  102.4 KiB/s  (next poll in 30 s)"
        );
    }
}
