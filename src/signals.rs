//! How the process answers Ctrl-C (SIGINT), SIGTERM and SIGHUP, for every command that
//! works in steps it can stop between (`upload`, `archive get`, `archive delete` with
//! several IDs, `vault export`, `vault purge`).
//!
//! The first of these signals sets the command's stop flag: no new part or chunk starts,
//! those in flight finish, and the command reports how to resume, exiting 128 + the
//! signal number (130, 143, 129, as a shell reports them). `timeout`, systemd and a
//! closed terminal send SIGTERM and SIGHUP, so they are treated like Ctrl-C. A second
//! signal exits at once, except once [`hold_until_exit`] was called: from the moment the request
//! that creates an archive is sent until its ID is recorded and printed, nothing ends the
//! process, because Glacier may already have made an archive nobody else will ever learn
//! the ID of. Signals that arrive then are only counted.
//!
//! A watcher thread reads the signals (signal-hook's safe iterator), so no code runs in
//! a signal handler. This module never prints; each command says the signal was taken
//! with what [`install_with`] runs then (`cli::stop_on_signal`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::error::{EXIT_INTERRUPTED, Error, Result};

/// The first signal received (0: none). One process runs one command, so this is global.
static FIRST: AtomicI32 = AtomicI32::new(0);
/// Holds taken by [`hold_until_exit`], and whether a signal is ending the process.
static HOLDS: Holds = Holds::new();
/// Signals that arrived while held.
static HELD: AtomicU32 = AtomicU32::new(0);

/// What the watcher does with one signal, given what came before. Pure, so it is tested
/// without sending signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The first signal: ask the command to stop between steps.
    Stop,
    /// A later signal while an archive is being created: note it, do nothing.
    Hold,
    /// A later signal otherwise: exit now with this code.
    Exit(i32),
}

/// The hold count and the "exiting" mark in one atomic word, so "is anything held?" and
/// "then exit" are one step: a hold taken between a separate check and the exit would
/// let the process die after the request that creates an archive was sent.
pub struct Holds(AtomicU32);

/// The bit of [`Holds`] that says a signal is ending the process.
const EXITING: u32 = 1 << 31;

impl Holds {
    /// No hold, not exiting.
    pub const fn new() -> Holds {
        Holds(AtomicU32::new(0))
    }

    /// Takes a hold, unless the process is already exiting (`false`: it is).
    pub fn try_hold(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n & EXITING == 0).then_some(n + 1)
            })
            .is_ok()
    }

    /// Ends one hold.
    pub fn release(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n & !EXITING > 0).then(|| n - 1)
            });
    }

    /// Marks the process as exiting if nothing is held (`true`); from then on no hold
    /// can be taken. `false`: something is held, the signal must only be counted.
    pub fn begin_exit(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n & !EXITING == 0).then_some(n | EXITING)
            })
            .is_ok()
    }
}

impl Default for Holds {
    fn default() -> Holds {
        Holds::new()
    }
}

/// Decides what a signal does: `first` is the first signal seen before this one (0 if
/// none), `holding` whether an archive is being created.
pub fn action(signal: i32, first: i32, holding: bool) -> Action {
    if first == 0 {
        Action::Stop
    } else if holding {
        Action::Hold
    } else {
        Action::Exit(128 + signal)
    }
}

/// Starts watching SIGINT, SIGTERM and SIGHUP; the first sets `stop`, then runs `taken`
/// (to say so on stderr): whatever `taken` shows is a sign that nothing new starts from
/// then on. It runs on a thread of its own, so a stderr that blocks never keeps the
/// watcher from answering a second signal. Call once per process (each command does it
/// at most once).
pub fn install_with(stop: &Arc<AtomicBool>, taken: impl FnOnce() + Send + 'static) -> Result<()> {
    let mut taken: Option<Box<dyn FnOnce() + Send>> = Some(Box::new(taken));
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Error::Input(format!("cannot handle signals: {e}")))?;
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let first = FIRST
                    .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
                    .err()
                    .unwrap_or(0);
                // A later signal exits only if it can mark the exit while nothing is
                // held; the check and the mark are one atomic step (see `Holds`).
                let holding = first != 0 && !HOLDS.begin_exit();
                match action(signal, first, holding) {
                    Action::Stop => {
                        stop.store(true, Ordering::SeqCst);
                        // After the store: what `taken` shows means the flag is set.
                        if let Some(f) = taken.take() {
                            let _ = std::thread::Builder::new()
                                .name("signal taken".into())
                                .spawn(f);
                        }
                    }
                    Action::Hold => {
                        HELD.fetch_add(1, Ordering::SeqCst);
                    }
                    Action::Exit(code) => std::process::exit(code),
                }
            }
        })
        .map_err(|e| Error::Input(format!("cannot handle signals: {e}")))?;
    Ok(())
}

/// From now until the process exits (or [`release`]), no signal ends it (see the module
/// comment). Called just before the request that creates an archive is sent. Held to
/// the very end rather than released by the command: the archive ID may be printed last
/// by `main`, in the error line that says the archive was created but something after
/// it failed.
pub fn hold_until_exit() {
    if !HOLDS.try_hold() {
        // A signal is ending the process right now: never go on to send the request.
        loop {
            std::thread::park();
        }
    }
}

/// Ends one [`hold_until_exit`]: for a request that Glacier refused, so it created
/// nothing and the command goes on to other work (a new upload) that a second signal
/// may cut short again.
pub fn release() {
    HOLDS.release();
}

/// How many signals arrived while an archive was being created (and were held).
pub fn held() -> u32 {
    HELD.load(Ordering::SeqCst)
}

/// The exit code of a command interrupted by a signal: 128 + the first signal's number
/// (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP); 130 if none was seen.
pub fn interrupted_exit_code() -> i32 {
    match FIRST.load(Ordering::SeqCst) {
        0 => EXIT_INTERRUPTED,
        s => 128 + s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_stops_later_exit_unless_held() {
        assert_eq!(action(SIGTERM, 0, false), Action::Stop);
        assert_eq!(action(SIGINT, 0, true), Action::Stop);
        assert_eq!(action(SIGINT, SIGINT, false), Action::Exit(130));
        assert_eq!(action(SIGHUP, SIGINT, false), Action::Exit(129));
        assert_eq!(action(SIGTERM, SIGINT, true), Action::Hold);
    }

    #[test]
    fn a_hold_and_an_exit_exclude_each_other() {
        let h = Holds::new();
        assert!(h.try_hold());
        assert!(h.try_hold());
        assert!(!h.begin_exit(), "held: a signal only counts");
        h.release();
        assert!(!h.begin_exit(), "one hold left");
        h.release();
        h.release(); // more releases than holds change nothing
        assert!(h.begin_exit());
        assert!(!h.try_hold(), "exiting: no request may start");
        assert!(h.begin_exit(), "a later signal while exiting exits too");
    }
}
