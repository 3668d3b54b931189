//! The one worker pool: everything parallel in the crate runs its items through [`Pool`].
//!
//! The calling thread is the producer: it pulls items from an iterator (which may read a
//! stream, take a buffer from a bounded pool, or just count) and hands them to `threads`
//! scoped workers over a bounded crossbeam channel, so at most `threads + queue` items are
//! alive at once whatever the input size. Each worker builds its own state (a file
//! handle, a reusable buffer) on its first item with the per-worker `init` closure.
//!
//! Semantics every user relies on:
//! - every result carries the index of its item in the source; [`Outcome::done`] is
//!   sorted by index, so nothing depends on scheduling;
//! - the first error wins; it stops scheduling (the source is not pulled again and queued
//!   items are dropped unprocessed) while work in flight finishes;
//! - the shared stop flag (Ctrl-C) ends scheduling the same way, without an error;
//! - a panic in `init` or `work` stops scheduling like an error, the other workers finish
//!   their item, and the panic is then re-raised on the calling thread with its original
//!   payload: a panic is a bug, so it is never turned into an ordinary error, and the pool
//!   never hangs on it.
//!
//! This module knows threads and channels only: no files, no network, no printing.

use std::panic;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sync::LockExt;
use crossbeam_channel::bounded;

/// A worker pool's shape: how many workers, how deep the queue, which stop flag.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    threads: usize,
    queue: usize,
    stop: Option<&'a AtomicBool>,
}

/// The result of one item, with the item's position in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done<R> {
    /// Position of the item in the source iterator, from 0.
    pub index: u64,
    /// What `work` returned for it.
    pub value: R,
}

/// What a pool run ended with.
#[derive(Debug)]
pub struct Outcome<R, E> {
    /// Results of the items that succeeded, sorted by index.
    pub done: Vec<Done<R>>,
    /// The first error returned by `init` or `work`, if any.
    pub error: Option<E>,
    /// The stop flag cut the run short: the source was not read to its end, or a
    /// scheduled item was dropped unprocessed.
    pub stopped: bool,
    /// Items taken from the source.
    pub scheduled: u64,
}

/// Why [`Outcome::into_values`] has no complete result.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended<E> {
    /// An item failed; this is the first error.
    Failed(E),
    /// The stop flag ended the run after `done` items had succeeded.
    Stopped {
        /// Items that succeeded before the pool stopped.
        done: u64,
    },
}

impl<R, E> Outcome<R, E> {
    /// Every item's value in source order, or why the run is incomplete. An error takes
    /// precedence over the stop flag: it explains why the run ended.
    pub fn into_values(self) -> Result<Vec<R>, Ended<E>> {
        if let Some(e) = self.error {
            return Err(Ended::Failed(e));
        }
        if self.stopped {
            return Err(Ended::Stopped {
                done: self.done.len() as u64,
            });
        }
        Ok(self.done.into_iter().map(|d| d.value).collect())
    }
}

impl<'a> Pool<'a> {
    /// A pool of `threads` workers (at least 1) with a queue as deep as the pool.
    pub fn new(threads: usize) -> Pool<'a> {
        let threads = threads.max(1);
        Pool {
            threads,
            queue: threads,
            stop: None,
        }
    }

    /// Items waiting in the channel besides the ones workers hold; 0 makes every hand-off
    /// a rendezvous (the producer then holds at most one item it could not yet give).
    pub fn queue(mut self, queue: usize) -> Pool<'a> {
        self.queue = queue;
        self
    }

    /// A flag set from outside (a signal handler): once set, no new item is scheduled.
    pub fn stop(mut self, stop: &'a AtomicBool) -> Pool<'a> {
        self.stop = Some(stop);
        self
    }

    /// Runs `work(state, index, item)` on every item of `items`, where `state` is the
    /// worker's own, built by `init`, and `index` the item's position in `items`.
    ///
    /// `items` is pulled on the calling thread, only while the pool is running. Workers
    /// are capped by the source's `size_hint` upper bound, so a pool with more threads
    /// than items starts no idle worker; `init` runs on a worker's first item, so a worker
    /// that gets nothing builds nothing.
    pub fn run<I, S, R, E>(
        &self,
        items: I,
        init: impl Fn() -> Result<S, E> + Sync,
        work: impl Fn(&mut S, u64, I::Item) -> Result<R, E> + Sync,
    ) -> Outcome<R, E>
    where
        I: IntoIterator,
        I::Item: Send,
        R: Send,
        E: Send,
    {
        let mut items = items.into_iter();
        let workers = match items.size_hint().1 {
            Some(upper) => self.threads.min(upper),
            None => self.threads,
        };
        let failed = AtomicBool::new(false);
        let stop_seen = AtomicBool::new(false);
        let first_error: Mutex<Option<E>> = Mutex::new(None);
        let stop = self.stop;
        let halted = || {
            if failed.load(Ordering::Relaxed) {
                return true;
            }
            let s = stop.is_some_and(|s| s.load(Ordering::Relaxed));
            if s {
                stop_seen.store(true, Ordering::Relaxed);
            }
            s
        };
        let fail = |e: E| {
            failed.store(true, Ordering::Relaxed);
            first_error.lock_unpoisoned().get_or_insert(e);
        };
        let (init, work) = (&init, &work);
        let mut scheduled = 0u64;
        let mut exhausted = false;
        let mut done: Vec<Done<R>> = Vec::new();
        let mut panic_payload = None;
        std::thread::scope(|s| {
            let (tx, rx) = bounded::<(u64, I::Item)>(self.queue);
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let rx = rx.clone();
                    let (halted, fail, failed) = (&halted, &fail, &failed);
                    s.spawn(move || {
                        // A panic below unwinds through this guard: it stops scheduling
                        // so the producer and the other workers wind down, and the
                        // payload is re-raised once every worker has been joined.
                        let _guard = PanicStops(failed);
                        let mut state: Option<S> = None;
                        let mut mine = Vec::new();
                        // Keep receiving after a halt so a producer blocked on a full
                        // queue is released; the items are dropped unprocessed.
                        for (index, item) in rx.iter() {
                            if halted() {
                                continue;
                            }
                            let st = match &mut state {
                                Some(st) => st,
                                None => match init() {
                                    Ok(st) => state.insert(st),
                                    Err(e) => {
                                        fail(e);
                                        continue;
                                    }
                                },
                            };
                            match work(st, index, item) {
                                Ok(value) => mine.push(Done { index, value }),
                                Err(e) => fail(e),
                            }
                        }
                        mine
                    })
                })
                .collect();
            drop(rx);
            loop {
                if halted() {
                    break;
                }
                let Some(item) = items.next() else {
                    exhausted = true;
                    break;
                };
                if tx.send((scheduled, item)).is_err() {
                    break; // every worker is gone (they panicked)
                }
                scheduled += 1;
            }
            drop(tx);
            for h in handles {
                match h.join() {
                    Ok(mine) => done.extend(mine),
                    Err(p) => {
                        panic_payload.get_or_insert(p);
                    }
                }
            }
        });
        if let Some(p) = panic_payload {
            panic::resume_unwind(p);
        }
        done.sort_unstable_by_key(|d| d.index);
        let error = first_error.into_inner_unpoisoned();
        // Stopped means the stop flag, not an error, left work undone. The source is never
        // pulled again to find out (it may be a stream); an empty size hint will do.
        let exhausted = exhausted || items.size_hint().1 == Some(0);
        let stopped = error.is_none()
            && stop_seen.load(Ordering::Relaxed)
            && (!exhausted || (done.len() as u64) < scheduled);
        Outcome {
            done,
            error,
            stopped,
            scheduled,
        }
    }
}

/// Sets the pool's failure flag when a worker unwinds.
struct PanicStops<'a>(&'a AtomicBool);

impl Drop for PanicStops<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    /// Long enough never to fire on a working pool; it only turns a hang into a failure.
    const DEADLINE: Duration = Duration::from_secs(20);

    /// A source of `n` numbers that counts how many were pulled.
    fn counted(n: u64, pulled: &AtomicU64) -> impl Iterator<Item = u64> + '_ {
        (0..n).inspect(move |_| {
            pulled.fetch_add(1, Ordering::Relaxed);
        })
    }

    fn no_state() -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn results_are_in_source_order_whatever_order_they_finish_in() {
        let (tx, rx) = crossbeam_channel::unbounded::<()>();
        let finished = Mutex::new(Vec::new());
        let out = Pool::new(2)
            .queue(0)
            .run([10u32, 11], no_state, |_, index, item| {
                if index == 0 {
                    // Finish only after item 1 has finished.
                    rx.recv_timeout(DEADLINE).map_err(|e| e.to_string())?;
                }
                finished.lock_unpoisoned().push(index);
                if index == 1 {
                    tx.send(()).map_err(|e| e.to_string())?;
                }
                Ok(item * 2)
            });
        assert_eq!(*finished.lock_unpoisoned(), [1, 0]);
        assert_eq!(out.scheduled, 2);
        assert_eq!(
            out.done,
            [
                Done {
                    index: 0,
                    value: 20
                },
                Done {
                    index: 1,
                    value: 22
                }
            ]
        );
        assert_eq!(out.into_values(), Ok(vec![20, 22]));
    }

    #[test]
    fn many_items_all_come_back_once_each_in_order() {
        let out = Pool::new(3)
            .queue(1)
            .run(0..1000u64, no_state, |_, index, item| {
                assert_eq!(index, item);
                Ok(item * item)
            });
        let want: Vec<u64> = (0..1000).map(|i| i * i).collect();
        assert_eq!(out.into_values(), Ok(want));
    }

    #[test]
    fn zero_items_build_no_state_and_succeed() {
        let inits = AtomicU64::new(0);
        let out = Pool::new(4).run(
            std::iter::empty::<u8>(),
            || {
                inits.fetch_add(1, Ordering::Relaxed);
                Ok::<_, String>(())
            },
            |_, _, _| -> Result<u8, String> { panic!("no item to work on") },
        );
        assert_eq!(inits.load(Ordering::Relaxed), 0);
        assert_eq!(out.scheduled, 0);
        assert!(!out.stopped);
        assert_eq!(out.into_values(), Ok(vec![]));
    }

    #[test]
    fn more_workers_than_items_start_only_what_is_needed() {
        let inits = AtomicU64::new(0);
        let out = Pool::new(8).run(
            0..3u64,
            || {
                inits.fetch_add(1, Ordering::Relaxed);
                Ok::<_, String>(Vec::<u8>::with_capacity(16))
            },
            |buf, _, item| {
                buf.clear();
                buf.push(item as u8);
                Ok(buf[0])
            },
        );
        assert!((1..=3).contains(&inits.load(Ordering::Relaxed)));
        assert_eq!(out.into_values(), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn per_worker_state_is_reused_across_items() {
        // One worker: one state, which sees every item.
        let out = Pool::new(1).run(
            0..5u64,
            || Ok::<_, String>(0u64),
            |seen, _, _| {
                *seen += 1;
                Ok(*seen)
            },
        );
        assert_eq!(out.into_values(), Ok(vec![1, 2, 3, 4, 5]));
    }

    /// The shape of a stream upload: the source reads parts and may fail itself; the
    /// caller lends it to the pool and asks it afterwards how it ended.
    #[test]
    fn a_lent_source_keeps_its_own_state_for_the_caller() {
        struct Parts {
            next: u64,
            error: Option<String>,
        }
        impl Iterator for Parts {
            type Item = u64;
            fn next(&mut self) -> Option<u64> {
                if self.next == 4 {
                    self.error = Some("read failed at part 4".into());
                    return None;
                }
                self.next += 1;
                Some(self.next - 1)
            }
        }
        let mut parts = Parts {
            next: 0,
            error: None,
        };
        let out = Pool::new(2)
            .queue(0)
            .run(&mut parts, no_state, |_, _, p| Ok::<_, String>(p));
        assert_eq!(out.into_values(), Ok(vec![0, 1, 2, 3]));
        assert_eq!(parts.error.as_deref(), Some("read failed at part 4"));
    }

    #[test]
    fn the_first_error_wins_and_stops_scheduling() {
        let pulled = AtomicU64::new(0);
        let calls = AtomicU64::new(0);
        let out = Pool::new(1)
            .queue(0)
            .run(counted(1000, &pulled), no_state, |_, index, _| {
                calls.fetch_add(1, Ordering::Relaxed);
                Err::<(), _>(format!("item {index} failed"))
            });
        // The one worker records its failure before it takes the next item, so every
        // later item is dropped unprocessed; the producer may have pulled one or two.
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert!(pulled.load(Ordering::Relaxed) <= 3, "{pulled:?}");
        assert!(!out.stopped);
        assert_eq!(out.error.as_deref(), Some("item 0 failed"));
        assert_eq!(
            out.into_values(),
            Err(Ended::Failed("item 0 failed".to_string()))
        );
    }

    #[test]
    fn work_in_flight_finishes_after_another_item_fails() {
        // Item 0 must really be in flight (inside `work`) when item 1 fails: a worker
        // that has taken an item from the channel but not yet started it drops it once
        // the pool has failed, which is the documented "queued items are dropped". So
        // item 1 fails only after item 0 has said it started, and item 0 finishes only
        // after item 1 has failed. Two workers and a rendezvous queue put the two items
        // on different workers: the one holding item 0 cannot take item 1.
        let (started_tx, started_rx) = crossbeam_channel::unbounded::<()>();
        let (failed_tx, failed_rx) = crossbeam_channel::unbounded::<()>();
        let pulled = AtomicU64::new(0);
        let out =
            Pool::new(2).queue(0).run(
                counted(1000, &pulled),
                no_state,
                |_, index, _| match index {
                    0 => {
                        started_tx.send(()).map_err(|e| e.to_string())?;
                        failed_rx
                            .recv_timeout(DEADLINE)
                            .map_err(|e| e.to_string())?;
                        Ok(index)
                    }
                    1 => {
                        started_rx
                            .recv_timeout(DEADLINE)
                            .map_err(|e| e.to_string())?;
                        let e = Err("item 1 failed".to_string());
                        failed_tx.send(()).map_err(|e| e.to_string())?;
                        e
                    }
                    _ => Ok(index),
                },
            );
        assert_eq!(out.error.as_deref(), Some("item 1 failed"));
        assert_eq!(out.done.first(), Some(&Done { index: 0, value: 0 }));
        assert!(out.scheduled < 1000);
        assert!(pulled.load(Ordering::Relaxed) < 1000);
    }

    #[test]
    fn an_init_error_is_the_pools_error() {
        let out = Pool::new(2).run(
            0..10u64,
            || Err::<(), _>("cannot open".to_string()),
            |_, _, _| -> Result<(), String> { panic!("no state, no work") },
        );
        assert_eq!(
            out.into_values(),
            Err(Ended::Failed("cannot open".to_string()))
        );
    }

    #[test]
    fn the_stop_flag_ends_scheduling_without_an_error() {
        let stop = AtomicBool::new(false);
        let pulled = AtomicU64::new(0);
        let out = Pool::new(2).queue(0).stop(&stop).run(
            counted(1000, &pulled),
            no_state,
            |_, index, _| {
                if index == 3 {
                    stop.store(true, Ordering::Relaxed); // as a Ctrl-C handler would
                }
                Ok::<_, String>(index)
            },
        );
        assert!(out.stopped);
        assert!(out.error.is_none());
        assert!(pulled.load(Ordering::Relaxed) < 1000);
        let done = out.done.len() as u64;
        assert!((1..1000).contains(&done), "{done}");
        assert_eq!(out.into_values(), Err(Ended::Stopped { done }));
    }

    #[test]
    fn a_stop_before_the_start_does_no_work() {
        let stop = AtomicBool::new(true);
        let out =
            Pool::new(2)
                .stop(&stop)
                .run(0..10u64, no_state, |_, _, _| -> Result<(), String> {
                    panic!("stopped before any work")
                });
        assert_eq!(out.scheduled, 0);
        assert_eq!(out.into_values(), Err(Ended::Stopped { done: 0 }));
    }

    #[test]
    fn a_stop_after_the_last_item_is_not_an_interruption() {
        let stop = AtomicBool::new(false);
        let out = Pool::new(1)
            .stop(&stop)
            .run(0..3u64, no_state, |_, index, _| {
                if index == 2 {
                    stop.store(true, Ordering::Relaxed);
                }
                Ok(index)
            });
        assert_eq!(out.into_values(), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn an_error_outranks_the_stop_flag() {
        let stop = AtomicBool::new(false);
        let out =
            Pool::new(1)
                .stop(&stop)
                .run(0..10u64, no_state, |_, _, _| -> Result<(), String> {
                    stop.store(true, Ordering::Relaxed);
                    Err("broken".into())
                });
        assert!(!out.stopped);
        assert_eq!(out.into_values(), Err(Ended::Failed("broken".to_string())));
    }

    #[test]
    fn a_panic_in_work_stops_the_pool_and_is_raised_on_the_caller() {
        // One worker, so when it dies the producer's next hand-off fails at once: with
        // more workers the others keep going while the panic hook runs (it may print a
        // backtrace), so how far they get is timing.
        let pulled = AtomicU64::new(0);
        let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
            Pool::new(1)
                .queue(0)
                .run(counted(100_000, &pulled), no_state, |_, index, _| {
                    if index == 5 {
                        panic!("job 5 is a bug");
                    }
                    Ok(index)
                })
        }));
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"job 5 is a bug"));
        assert!(pulled.load(Ordering::Relaxed) <= 7, "{pulled:?}");
    }

    #[test]
    fn a_panic_among_several_workers_does_not_hang_and_is_raised() {
        let caught = panic::catch_unwind(|| {
            Pool::new(3)
                .queue(0)
                .run(0..10_000u64, no_state, |_, index, _| {
                    if index == 5 {
                        panic!("job 5 is a bug");
                    }
                    Ok(index)
                })
        });
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"job 5 is a bug"));
    }

    #[test]
    fn a_panic_in_init_of_every_worker_does_not_hang_the_producer() {
        let caught = panic::catch_unwind(|| {
            Pool::new(3).queue(0).run(
                0..100_000u64,
                || -> Result<(), String> { panic!("init is a bug") },
                |_, _, _| Ok::<_, String>(()),
            )
        });
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"init is a bug"));
    }
}
