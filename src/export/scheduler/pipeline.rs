//! The scheduler's pipeline. The calling thread is the worker pool's producer: each item
//! it hands the pool is a job found ready (the pool's queue holds as many as there may be
//! jobs, so a hand-off never blocks), and between items it takes the results the workers
//! sent back, starts new jobs as capacity frees, and polls when a poll is due and the
//! workers are about to run out of downloads.
//! So InitiateJob requests go out while earlier jobs download, within `--max-jobs`,
//! `--max-pending` and the byte pacing, instead of rounds of start, poll, download.
//!
//! A worker journals an archive (one written, unsynced line) as soon as it is in place,
//! then reports it; the producer syncs the journal before each poll. The pool stops on a
//! fatal error of a worker (a full disk, the journal) or Ctrl-C; work in flight finishes
//! and its results are applied after the pool returns.
//!
//! `start.rs` holds the half that starts (and adopts) jobs, `landed.rs` what a worker's
//! result does to the run.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::super::destination::is_disk_full;
use super::super::pacing::{self, Pace};
use super::poll::{self, Finder};
use super::{
    DOWNLOAD_PATIENCE_SECS, DOWNLOAD_TRIES, Options, POLICY_PATIENCE, Report, Status, Work,
    interrupted, is_policy_refusal, is_throttled, job, never_verifies, not_now, ride_out,
};
use crate::error::{Error, NetworkFault, Result};
use crate::glacier::{JobDescription, JobRequest};
use crate::retrieval::{self, Backoff, Persist, pause};
use crate::vault::journal::{self, Journal, Record, State};
use crate::vault::{Item, items};
use crate::workers::Pool;

mod landed;
mod start;

/// The journal and what it says, shared by the producer and the workers.
struct Books<'j> {
    journal: &'j mut Journal,
    state: &'j mut State,
}

/// Where an archive is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No valid job: one is to be started (a new archive, or a restart).
    Unstarted,
    /// A job is running, or its state is not known yet.
    Waiting,
    /// Found ready: queued, downloading, or waiting to be downloaded again.
    Ready,
}

struct Pending {
    item: Item,
    job: Option<String>,
    restart: bool,
    phase: Phase,
}

/// A job found ready, handed to a worker.
struct Ready {
    seq: u64,
    item: Item,
    job: JobDescription,
    /// The threads this archive's chunks may use.
    threads: usize,
}

/// How one archive's download ended, when it did not stop the run.
enum Landed {
    /// In place and journaled.
    Exported(u64),
    /// The job's output is gone (404): the job is started again.
    Lost(u64, String),
    /// This archive failed (listed in the report); the others go on.
    Failed(u64, String),
    /// A transient fault: the download is tried again after a pause, with the same job.
    /// (Bytes that do not verify were already fetched again by the download, chunk by
    /// chunk; a mismatch left after that is the inventory's or the job's, not the
    /// link's.)
    Retry(u64, String, Box<JobDescription>),
    /// The worker stopped the run (a full disk, Ctrl-C, the journal, a panic): the
    /// producer hands out nothing more.
    Halted,
}

/// A worker's answer for one item: sent once, and sent as [`Landed::Halted`] if the
/// worker returns an error or unwinds without one, so the producer, which may be
/// waiting for the result, is never left waiting for it.
struct Reply<'t> {
    tx: &'t Sender<Landed>,
    sent: bool,
}

impl Reply<'_> {
    fn send(mut self, l: Landed) {
        self.sent = true;
        // The receiver lives as long as the pool: a send cannot fail.
        let _ = self.tx.send(l);
    }
}

impl Drop for Reply<'_> {
    fn drop(&mut self) {
        if !self.sent {
            let _ = self.tx.send(Landed::Halted);
        }
    }
}

/// Archive retrievals Glacier lists that the journal does not know, by archive: (job
/// ID, byte range). Not failed ones, nor those the journal recorded as lost (Glacier
/// may still list a job as Succeeded after its output is gone).
type Adoptable = HashMap<journal::Key, Vec<(String, Option<String>)>>;

/// The producer's state.
struct Sched<'a, 'w, 'j> {
    work: &'a Work<'w>,
    opts: &'a Options,
    books: &'a Mutex<Books<'j>>,
    note: &'a mut dyn FnMut(&str),
    status: &'a mut dyn FnMut(&Status),
    results: Receiver<Landed>,
    report: Report,
    /// Archives done (this run and before) and their bytes before this run.
    done: u64,
    done_bytes: u64,
    outstanding: BTreeMap<u64, Pending>,
    next_seq: u64,
    /// Archives without a job, oldest first (restarts, then new ones).
    unstarted: VecDeque<u64>,
    /// Jobs started, not exported: their count and bytes.
    running: usize,
    pending_bytes: u64,
    /// Jobs waiting to be found ready.
    waiting: usize,
    ready: VecDeque<(u64, JobDescription)>,
    retry: Vec<(Instant, u64, JobDescription)>,
    /// Handed to the pool, no result yet.
    in_flight: usize,
    cursor: Box<dyn Iterator<Item = Result<Item>> + 'a>,
    cursor_done: bool,
    adoptable: Option<Adoptable>,
    pace: Option<Pace>,
    paced_said: bool,
    /// Glacier refused a job (a limit or a fault): no more until after a poll or pause.
    refused: bool,
    finder: Finder,
    last_poll: Option<Instant>,
    /// A poll found nothing since the last job started (a run without waiting ends).
    idle_polled: bool,
    /// The destination has answered once in this run (see [`long_run`]).
    dest_answered: bool,
    poll_backoff: Backoff,
    download_backoff: Backoff,
    /// Downloads that landed in this run, so far.
    landed: u64,
    /// Per archive: failed tries counted against it (see [`DOWNLOAD_TRIES`]), `landed`
    /// at its last failure, and when (the run's clock, Unix seconds) it first failed.
    retries: HashMap<journal::Key, (u32, u64, i64)>,
    /// Since when the data retrieval policy has refused every InitiateJob while no job of
    /// this run was outstanding (by the run's clock).
    policy_since: Option<time::OffsetDateTime>,
    /// The policy's refusals were told of: `Some(bounded)` says which way they are
    /// waited out (one line each way, not one a refusal).
    policy_told: Option<bool>,
    /// A record that licenses an InitiateJob (a job found lost) is not synced yet.
    license_unsynced: bool,
    last_status: Option<Instant>,
    /// The producer's own error: it ends the pool's source.
    error: Option<Error>,
    /// A worker stopped the run: nothing more is handed out.
    halted: bool,
}

/// Runs the export (see the module's documentation).
pub(super) fn run(
    work: &Work<'_>,
    journal: &mut Journal,
    state: &mut State,
    opts: &Options,
    note: &mut dyn FnMut(&str),
    status: &mut dyn FnMut(&Status),
) -> Result<Report> {
    let books = Mutex::new(Books { journal, state });
    let (tx, rx) = unbounded::<Landed>();
    let mut sched = Sched::new(work, opts, &books, note, status, rx)?;
    // A queue as deep as the jobs outstanding: handing a ready job to the pool never
    // blocks the producer, which goes on starting jobs while the workers download. Its
    // slots are allocated up front, so they hold boxes (16 bytes a slot).
    let threads = opts.threads.max(1);
    let pool = Pool::new(threads)
        .queue(opts.max_jobs.clamp(threads, 65_536))
        .stop(&opts.stop);
    let Work {
        client,
        vault,
        dest,
        ..
    } = *work;
    let tx: &Sender<Landed> = &tx;
    let books_ref = &books;
    let out = pool.run(
        &mut sched,
        || Ok::<(), Error>(()),
        |_, _, r: Box<Ready>| {
            let reply = Reply { tx, sent: false };
            let landed = match dest.store(client, vault, &r.job, &r.item, r.threads) {
                Ok(()) => {
                    let mut b = lock(books_ref);
                    let Books { journal, state } = &mut *b;
                    journal_exported(journal, state, &r.item)?;
                    Landed::Exported(r.seq)
                }
                Err(e) if is_disk_full(&e) || matches!(e, Error::Interrupted(_)) => {
                    return Err(e);
                }
                // Found by its ID, so the ID is there: Glacier says the output is gone.
                // Only Glacier's own 404: a missing bucket or upload on the S3 side is a
                // failure to report, not a reason to buy the retrieval again.
                Err(e) if e.is_glacier_not_found() => {
                    Landed::Lost(r.seq, r.job.job_id.clone().unwrap_or_default())
                }
                Err(e) if e.is_transient() && !never_verifies(&e) => {
                    Landed::Retry(r.seq, crate::error::chain(&e), Box::new(r.job))
                }
                Err(e) => Landed::Failed(r.seq, crate::error::chain(&e)),
            };
            reply.send(landed);
            Ok(())
        },
    );
    // Results of downloads that finished after the producer stopped.
    while let Ok(l) = sched.results.try_recv() {
        if let Err(e) = sched.apply(l) {
            sched.error.get_or_insert(e);
        }
    }
    if let Some(e) = out.error {
        return Err(e);
    }
    if let Some(e) = sched.error.take() {
        return Err(e);
    }
    if opts.stop.load(Ordering::Relaxed) {
        return Err(interrupted());
    }
    let mut report = std::mem::take(&mut sched.report);
    report.remaining = report
        .archives
        .saturating_sub(report.already_exported + report.exported + report.failed.len() as u64);
    Ok(report)
}

fn lock<'m, 'j>(m: &'m Mutex<Books<'j>>) -> MutexGuard<'m, Books<'j>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Iterator for Sched<'_, '_, '_> {
    type Item = Box<Ready>;

    fn next(&mut self) -> Option<Box<Ready>> {
        if self.error.is_some() {
            return None;
        }
        match self.step() {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

impl<'a, 'w, 'j> Sched<'a, 'w, 'j> {
    /// Counts the scope, picks up jobs earlier runs journaled, and opens the cursor.
    fn new(
        work: &'a Work<'w>,
        opts: &'a Options,
        books: &'a Mutex<Books<'j>>,
        note: &'a mut dyn FnMut(&str),
        status: &'a mut dyn FnMut(&Status),
        results: Receiver<Landed>,
    ) -> Result<Sched<'a, 'w, 'j>> {
        let Work {
            inv,
            names,
            selection,
            dest,
            ..
        } = *work;
        let mut s = Sched {
            work,
            opts,
            books,
            note,
            status,
            results,
            report: Report::default(),
            done: 0,
            done_bytes: 0,
            outstanding: BTreeMap::new(),
            next_seq: 0,
            unstarted: VecDeque::new(),
            running: 0,
            pending_bytes: 0,
            waiting: 0,
            ready: VecDeque::new(),
            retry: Vec::new(),
            in_flight: 0,
            cursor: Box::new(std::iter::empty()),
            cursor_done: false,
            adoptable: None,
            pace: opts.max_bytes_per_day.map(Pace::new),
            paced_said: false,
            refused: false,
            finder: Finder::default(),
            last_poll: None,
            idle_polled: false,
            dest_answered: false,
            poll_backoff: Backoff::new(opts.backoff.0, opts.backoff.1),
            download_backoff: Backoff::new(opts.backoff.0, opts.backoff.1),
            landed: 0,
            retries: HashMap::new(),
            policy_since: None,
            policy_told: None,
            license_unsynced: false,
            last_status: None,
            error: None,
            halted: false,
        };
        for it in items(inv, names, selection)? {
            let it = it?;
            s.report.archives += 1;
            s.report.bytes = s.report.bytes.saturating_add(it.size);
            let k = journal::key(&it.archive_id);
            if let Some(p) = s.pace.as_mut() {
                p.size(k, it.size);
            }
            let exported = lock(books).state.exported.contains(&k);
            // A look at the destination rides out faults like the rest of the run (the
            // directory's is local: a file's type and size, small ones read back; the
            // S3 destination keeps the trait's default and sends nothing).
            let gone = exported
                && !long_run(
                    opts,
                    &format!("looking for {} in {}", it.name, dest.describe()),
                    &mut s.dest_answered,
                    s.note,
                    || dest.still_there(&it),
                )?;
            let mut b = lock(books);
            if gone {
                // Deleted or changed since: exported again below, like any other archive.
                (s.note)(&format!(
                    "archive {} ({}) was exported by an earlier run but is missing or changed in {}; exporting it again",
                    it.archive_id,
                    it.name,
                    dest.describe()
                ));
                let r = Record::Vanished {
                    archive_id: it.archive_id.clone(),
                    path: it.name.clone(),
                };
                b.journal.record(&r)?;
                b.state.apply(&r);
            }
            if b.state.exported.contains(&k) {
                s.report.already_exported += 1;
                s.done_bytes += it.size;
            } else if let Some(j) = b.state.jobs.get(&k) {
                let j = j.clone();
                drop(b);
                s.add(it, Some(j), false);
            }
        }
        s.done = s.report.already_exported;
        s.cursor = match s.pace {
            Some(_) => Box::new(pacing::oldest_first(move || items(inv, names, selection))?),
            None => Box::new(items(inv, names, selection)?),
        };
        Ok(s)
    }

    /// Adds an archive to the outstanding ones, with its job if it has one.
    fn add(&mut self, item: Item, job: Option<String>, restart: bool) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let phase = match job {
            Some(_) => {
                self.running += 1;
                self.pending_bytes = self.pending_bytes.saturating_add(item.size);
                self.waiting += 1;
                Phase::Waiting
            }
            None => {
                self.unstarted.push_back(seq);
                Phase::Unstarted
            }
        };
        self.outstanding.insert(
            seq,
            Pending {
                item,
                job,
                restart,
                phase,
            },
        );
        seq
    }

    /// Takes an archive out (exported, failed, or left for a rerun).
    fn remove(&mut self, seq: u64) -> Option<Pending> {
        let p = self.outstanding.remove(&seq)?;
        self.retries.remove(&journal::key(&p.item.archive_id));
        if p.job.is_some() {
            self.running -= 1;
            self.pending_bytes = self.pending_bytes.saturating_sub(p.item.size);
        }
        Some(p)
    }

    /// One step of the producer: the next ready job for the pool, or `None` when the
    /// run is over (or, without waiting, has done what it can now).
    fn step(&mut self) -> Result<Option<Box<Ready>>> {
        loop {
            if self.opts.stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            while let Ok(l) = self.results.try_recv() {
                self.apply(l)?;
            }
            if self.halted {
                return Ok(None);
            }
            self.start_jobs()?;
            if let Some(r) = self.next_ready() {
                return Ok(Some(r));
            }
            if self.outstanding.is_empty() && self.cursor_done {
                return Ok(None);
            }
            let now = Instant::now();
            let due = self.last_poll.map_or(now, |t| t + self.opts.poll).max(now);
            // A poll is worth its requests when the workers are about to run out of
            // downloads: while a backlog is queued, jobs found ready would only wait,
            // and one poll later finds more of them at once.
            let poll_now = self.waiting > 0
                && self.in_flight <= self.opts.threads
                && if self.opts.wait {
                    due <= now
                } else {
                    !self.idle_polled
                };
            if poll_now {
                self.poll()?;
                continue;
            }
            let next_retry = self.retry.iter().map(|(t, _, _)| *t).min();
            if self.in_flight > 0 {
                // Downloads run: wait for one to end, a retry to come due, or the poll.
                let mut until = now + Duration::from_secs(1);
                if self.waiting > 0 && self.opts.wait {
                    until = until.min(due);
                }
                if let Some(r) = next_retry {
                    until = until.min(r);
                }
                if let Ok(l) = self
                    .results
                    .recv_timeout(until.saturating_duration_since(now))
                {
                    self.apply(l)?;
                }
                if self.halted {
                    return Ok(None);
                }
                continue;
            }
            if let Some(r) = next_retry {
                if !pause(r.saturating_duration_since(now), &self.opts.stop) {
                    return Err(interrupted());
                }
                continue;
            }
            if !self.opts.wait {
                return Ok(None);
            }
            // Nothing to do before the next poll (or, paced or refused, the next try).
            let left = due.saturating_duration_since(now);
            let wait_for = if left.is_zero() { self.opts.poll } else { left };
            self.tell(Some(wait_for), 0, true);
            // A pause between polls of remote jobs that take hours, in short steps so
            // that Ctrl-C stops the run at once rather than after the poll interval.
            if !pause(wait_for, &self.opts.stop) {
                return Err(interrupted());
            }
            self.refused = false;
        }
    }

    /// The next job to download: one found ready, or one due to be tried again.
    fn next_ready(&mut self) -> Option<Box<Ready>> {
        let now = Instant::now();
        let (seq, job) = match self.ready.pop_front() {
            Some(r) => r,
            None => {
                let i = self.retry.iter().position(|(t, _, _)| *t <= now)?;
                let (_, seq, job) = self.retry.swap_remove(i);
                (seq, job)
            }
        };
        let item = self.outstanding.get(&seq)?.item.clone();
        self.in_flight += 1;
        // Small archives take one thread each; the budget is shared by those in flight.
        let threads = (self.opts.threads / self.in_flight).max(1);
        Some(Box::new(Ready {
            seq,
            item,
            job,
            threads,
        }))
    }

    /// One poll of the jobs waiting: which finished, failed or expired. The journal is
    /// synced first: a job the poll finds ready is downloaded and exported on the
    /// strength of its record.
    fn poll(&mut self) -> Result<()> {
        lock(self.books).journal.sync()?;
        self.license_unsynced = false;
        self.last_poll = Some(Instant::now());
        self.refused = false;
        let wanted: HashSet<String> = self
            .outstanding
            .values()
            .filter(|p| p.phase == Phase::Waiting)
            .filter_map(|p| p.job.clone())
            .collect();
        let Work { client, vault, .. } = *self.work;
        let mut found = match self.finder.find(client, vault, &wanted) {
            Ok(f) => f,
            Err(e) => return ride_out(e, self.opts, &mut self.poll_backoff, self.note),
        };
        self.poll_backoff.reset();
        let now = (self.opts.clock)().unix_timestamp();
        let mut news = 0;
        let seqs: Vec<u64> = self
            .outstanding
            .iter()
            .filter(|(_, p)| p.phase == Phase::Waiting)
            .map(|(s, _)| *s)
            .collect();
        for seq in seqs {
            let p = &self.outstanding[&seq];
            let Some(job_id) = p.job.clone() else {
                continue;
            };
            let reason = match found.remove(&job_id) {
                None => "expired (no longer listed by Glacier)".to_string(),
                Some(j) if job::status(&j) == "Failed" => {
                    format!("failed: {}", job::message(&j))
                }
                Some(j) if job::status(&j) == "Succeeded" => {
                    // Staged output about to expire is requested again, not wasted on
                    // a download that cannot finish in time.
                    let asked = lock(self.books)
                        .state
                        .requested_at
                        .get(&journal::key(&p.item.archive_id))
                        .copied();
                    match pacing::expiring(&j, asked, now) {
                        Some(why) => why,
                        None => {
                            self.waiting -= 1;
                            if let Some(p) = self.outstanding.get_mut(&seq) {
                                p.phase = Phase::Ready;
                            }
                            self.ready.push_back((seq, j));
                            news += 1;
                            continue;
                        }
                    }
                }
                Some(_) => continue,
            };
            news += 1;
            self.waiting -= 1;
            self.lose_job(seq, &job_id, &reason)?;
        }
        self.idle_polled = news == 0;
        self.tell(None, self.ready.len() as u64, true);
        Ok(())
    }

    /// Tells the caller where things stand: after a poll, before a pause, and at most a
    /// few times a second as archives land.
    fn tell(&mut self, next_poll: Option<Duration>, ready: u64, always: bool) {
        let now = Instant::now();
        if !always
            && self
                .last_status
                .is_some_and(|t| now.duration_since(t) < Duration::from_millis(200))
        {
            return;
        }
        self.last_status = Some(now);
        (self.status)(&Status {
            done: self.done,
            total: self.report.archives,
            done_bytes: self.done_bytes + self.report.exported_bytes,
            total_bytes: self.report.bytes,
            waiting: self.waiting as u64,
            ready: ready + self.in_flight as u64,
            next_poll,
        });
    }
}

/// A read-only step of the producer (a look at the destination: an S3 HEAD, a file read
/// back) under the long run's policy ([`retrieval::persist`]): with `--wait`, transient
/// faults are ridden out for as long as they last, as InitiateJob's are, except a
/// connection that has never worked in this run (`answered` is set by the first answer,
/// an error answer included): an endpoint nobody listens on is a setting to fix, not an
/// outage, and would otherwise hold the run for ever.
fn long_run<T>(
    opts: &Options,
    what: &str,
    answered: &mut bool,
    note: &mut dyn FnMut(&str),
    mut step: impl FnMut() -> Result<T>,
) -> Result<T> {
    let step = || {
        let r = step();
        match &r {
            Err(e) if e.network_fault().is_some() => {
                if !*answered && e.network_fault() == Some(NetworkFault::Connect) {
                    return Err(Error::Failed(format!(
                        "{what}: {}; no connection to it has worked in this run, so this is not waited out: check its endpoint and the network",
                        crate::error::chain(e)
                    )));
                }
            }
            _ => *answered = true,
        }
        r
    };
    if opts.wait {
        return retrieval::persist(&long_run_policy(opts), what, note, step);
    }
    // Without waiting: a few tries, then "not now" (exit 3), as ride_out does.
    let p = Persist {
        tries: Some(3),
        ..long_run_policy(opts)
    };
    retrieval::persist(&p, what, note, step).map_err(|e| {
        if e.is_transient() {
            not_now(what, &e)
        } else {
            e
        }
    })
}

/// The long run's policy for a step that is safe to repeat: never give up on a
/// transient fault (Ctrl-C ends the pauses).
fn long_run_policy(opts: &Options) -> Persist<'_> {
    Persist {
        backoff: opts.backoff,
        stop: &opts.stop,
        retry_mismatch: false,
        tries: None,
    }
}

fn journal_exported(journal: &mut Journal, state: &mut State, it: &Item) -> Result<()> {
    let r = Record::Exported {
        archive_id: it.archive_id.clone(),
        path: it.name.clone(),
        size: it.size,
        tree_hash: it.tree_hash.clone(),
        time: crate::vault::now_rfc3339(),
    };
    journal.record(&r)?;
    state.apply(&r);
    Ok(())
}

/// `t` as RFC 3339, as the journal records times.
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
