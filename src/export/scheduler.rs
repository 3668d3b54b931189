//! The job scheduler: keeps retrieval jobs outstanding within `--max-jobs` and
//! `--max-pending`, finds finished ones with one paged ListJobs per poll (not one
//! DescribeJob per job), hands them to the destination, and restarts a job that expired
//! or failed, journaling each step before going on. With `--max-bytes-per-day` it
//! requests archives oldest first within a 24-hour byte budget, and it requests again
//! staged output about to expire (both in the `pacing` module).
//!
//! Memory is bounded by the outstanding jobs plus the journal's 16-byte keys: the
//! archives in scope are streamed from the inventory with a cursor (with pacing they
//! are sorted by creation date first, so held in memory).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::destination::{Destination, is_disk_full};
use super::pacing::{self, Pace};
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobRequest};
use crate::retrieval::{self, Backoff, Persist, pause};
use crate::vault::journal::{self, Journal, Record, State};
use crate::vault::{Collisions, InventoryFile, Item, Selection, items};
use crate::workers::Pool;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// `Bulk`, `Standard` or `Expedited`.
    pub tier: String,
    /// Jobs outstanding (started, not yet exported) at most.
    pub max_jobs: usize,
    /// Bytes outstanding at most (one archive is always allowed).
    pub max_pending: u64,
    /// Download threads.
    pub threads: usize,
    /// Pause between ListJobs polls.
    pub poll: Duration,
    /// Wait for jobs (else: do what can be done now and return).
    pub wait: bool,
    /// Set by Ctrl-C: stop between archives (the journal is always consistent).
    pub stop: Arc<AtomicBool>,
    /// Pauses while a transient fault outlasts the client's retries: first and longest.
    pub backoff: (Duration, Duration),
    /// `--max-bytes-per-day`: bytes of retrievals requested in any 24 hours at most;
    /// archives are then requested oldest first.
    pub max_bytes_per_day: Option<u64>,
    /// Now (injected: tests move it), for job records, pacing and output expiry.
    pub clock: fn() -> time::OffsetDateTime,
}

/// The default poll interval for a tier: about a tenth of its typical completion time
/// (Glacier Developer Guide, "Archive Retrieval Options": Expedited 1-5 min, Standard
/// 3-5 h, Bulk 5-12 h).
pub fn default_poll(tier: &str) -> Duration {
    match tier {
        "Expedited" => Duration::from_secs(30),
        "Standard" => Duration::from_secs(15 * 60),
        _ => Duration::from_secs(30 * 60),
    }
}

/// What happened, for the summary.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    /// Archives in scope.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Exported by an earlier run.
    pub already_exported: u64,
    /// Exported (and verified) by this run.
    pub exported: u64,
    /// Bytes exported by this run.
    pub exported_bytes: u64,
    /// Retrieval jobs this run started.
    pub jobs_started: u64,
    /// Of those, restarts of expired or failed jobs.
    pub jobs_restarted: u64,
    /// Archives not done yet (jobs waiting, or not started).
    pub remaining: u64,
    /// Archives that failed: (archive ID, name, reason).
    pub failed: Vec<(String, String, String)>,
}

/// Progress for the CLI to show.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// Exported, this run and before.
    pub done: u64,
    /// In scope.
    pub total: u64,
    /// Bytes exported, this run and before.
    pub done_bytes: u64,
    /// Bytes in scope.
    pub total_bytes: u64,
    /// Jobs running.
    pub waiting: u64,
    /// Jobs finished, being downloaded.
    pub ready: u64,
    /// Time to the next poll, if waiting for one.
    pub next_poll: Option<Duration>,
}

/// How one ready archive's download ended, when it did not stop the run.
enum Landed {
    /// In place and journaled.
    Exported(usize),
    /// The job's output is gone (404): the job is started again.
    Lost(usize, String),
    /// This archive failed (listed in the report); the others go on.
    Failed(usize, String),
    /// A transient fault: the download is tried again after a pause, with the same job.
    /// (Bytes that do not verify were already fetched again by the download, chunk by
    /// chunk; a mismatch left after that is the inventory's or the job's, not the
    /// link's.)
    Retry(usize, String),
}

/// A transient fault of a step that is not one archive's (ListJobs): with `wait`, a note
/// and a growing pause, then `Ok` to go round again; without, "not now" (exit 3).
fn ride_out(
    e: Error,
    opts: &Options,
    backoff: &mut Backoff,
    note: &mut dyn FnMut(&str),
) -> Result<()> {
    if !e.is_transient() {
        return Err(e);
    }
    if !opts.wait {
        return Err(Error::JobInProgress(format!(
            "Glacier is failing now ({}); run the same command again later",
            crate::error::chain(&e)
        )));
    }
    let p = backoff.next_pause();
    note(&format!(
        "{}; trying again in {}",
        crate::error::chain(&e),
        crate::progress::human_duration(p)
    ));
    if pause(p, &opts.stop) {
        Ok(())
    } else {
        Err(interrupted())
    }
}

/// Downloads of one archive that a run tries again after transient faults before it
/// lists the archive as failed (a rerun tries again): with the backoff's growing pauses
/// this rides out an outage of many minutes, while one archive that never comes through
/// cannot hold the run for ever.
const DOWNLOAD_TRIES: u32 = 12;

/// Bytes that did not verify, anywhere in the chain (an S3 upload carries the download's
/// error inside an I/O error): the download already fetched them again, chunk by chunk,
/// so another try will not help.
fn never_verifies(e: &Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        let inner = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<Error>());
        if let Some(Error::Mismatch { .. }) = c.downcast_ref::<Error>().or(inner) {
            return true;
        }
        if let Some(i) = inner {
            cur = Some(i);
            continue;
        }
        cur = c.source();
    }
    false
}

fn interrupted() -> Error {
    Error::Interrupted("export interrupted; run the same command again to continue".into())
}

struct Pending {
    item: Item,
    job: Option<String>,
    restart: bool,
}

/// Reads of [`JobDescription`] fields in one place, so a change of their types (Glacier
/// leaves some null) touches these lines only.
pub(crate) mod job {
    use crate::glacier::JobDescription;

    /// `StatusCode`: `InProgress`, `Succeeded` or `Failed`.
    pub fn status(j: &JobDescription) -> &str {
        j.status()
    }
    /// `Action`: `ArchiveRetrieval`, `InventoryRetrieval`...
    pub fn action(j: &JobDescription) -> &str {
        j.action_name()
    }
    /// `ArchiveId`, for archive retrievals.
    pub fn archive_id(j: &JobDescription) -> Option<&str> {
        j.archive_id.as_deref()
    }
    /// `RetrievalByteRange`, if any.
    pub fn range(j: &JobDescription) -> Option<&str> {
        j.retrieval_byte_range.as_deref()
    }
    /// `StatusMessage`, or a stand-in.
    pub fn message(j: &JobDescription) -> &str {
        j.status_message.as_deref().unwrap_or("no reason given")
    }
}

fn is_not_found(e: &Error) -> bool {
    e.is_not_found()
}

/// Throttling, or for InitiateJob a job or retrieval-policy limit: both lift with time.
fn is_throttled(e: &Error) -> bool {
    e.is_throttled()
        || e.service().is_some_and(|s| {
            s.code == "LimitExceededException" || s.code == "PolicyEnforcedException"
        })
}

/// What an export works on: the vault, the archives in scope, and where they go.
#[derive(Clone, Copy)]
pub struct Work<'a> {
    /// The Glacier client.
    pub client: &'a Client,
    /// The vault.
    pub vault: &'a str,
    /// The inventory.
    pub inv: &'a InventoryFile,
    /// Names shared by several archives.
    pub names: &'a Collisions,
    /// Which archives are in scope.
    pub selection: &'a Selection,
    /// Where they go.
    pub dest: &'a dyn Destination,
}

/// Runs the export to completion (or, without `wait`, as far as it can go now).
pub fn run(
    work: &Work<'_>,
    journal: &mut Journal,
    state: &mut State,
    opts: &Options,
    note: &mut dyn FnMut(&str),
    status: &mut dyn FnMut(&Status),
) -> Result<Report> {
    let Work {
        client,
        vault,
        inv,
        names,
        selection,
        dest,
    } = *work;
    let mut report = Report::default();
    let mut done_bytes = 0u64;
    let mut outstanding: Vec<Pending> = Vec::new();
    let mut pace = opts.max_bytes_per_day.map(Pace::new);
    // Count the scope, and pick up jobs earlier runs started.
    for it in items(inv, names, selection)? {
        let it = it?;
        report.archives += 1;
        report.bytes = report.bytes.saturating_add(it.size);
        let k = journal::key(&it.archive_id);
        if let Some(p) = pace.as_mut() {
            p.size(k, it.size);
        }
        if state.exported.contains(&k) && !dest.still_there(&it)? {
            // Deleted or changed since: exported again below, like any other archive.
            note(&format!(
                "archive {} ({}) was exported by an earlier run but is missing or changed in {}; exporting it again",
                it.archive_id,
                it.name,
                dest.describe()
            ));
            let r = Record::Vanished {
                archive_id: it.archive_id.clone(),
                path: it.name.clone(),
            };
            journal.append(&r)?;
            state.apply(&r);
        }
        if state.exported.contains(&k) {
            report.already_exported += 1;
            done_bytes += it.size;
        } else if let Some(j) = state.jobs.get(&k) {
            outstanding.push(Pending {
                item: it,
                job: Some(j.clone()),
                restart: false,
            });
        }
    }
    // Jobs Glacier has that the journal may not: a run killed between InitiateJob's
    // answer and its journal line started one. A valid whole-archive retrieval is
    // adopted instead of paying for another. Every job of an archive is kept, not the
    // last listed: the same archive may also have a ranged retrieval (a user's own
    // `retrieval --range`), which must not hide the whole-archive one. A job the journal
    // recorded as lost is never adopted: Glacier may still list it as Succeeded after
    // its output is gone.
    let mut backoff = Backoff::new(opts.backoff.0, opts.backoff.1);
    let mut retries: HashMap<journal::Key, u32> = HashMap::new();
    let mut adoptable = adoptable_jobs(client, vault, state, opts, &mut backoff, note)?;
    let mut cursor: Box<dyn Iterator<Item = Result<Item>>> = match pace {
        Some(_) => Box::new(pacing::oldest_first(items(inv, names, selection)?)?),
        None => Box::new(items(inv, names, selection)?),
    };
    let mut cursor_done = false;
    let mut done = report.already_exported;
    let mut paced_said = false;
    let mut lost_now;
    loop {
        // 1. Start jobs while the limits allow: restarts first, then new archives.
        let mut started_now = 0;
        loop {
            let running = outstanding.iter().filter(|p| p.job.is_some()).count();
            let pending_bytes: u64 = outstanding
                .iter()
                .filter(|p| p.job.is_some())
                .map(|p| p.item.size)
                .sum();
            if running >= opts.max_jobs {
                break;
            }
            let idx = match outstanding.iter().position(|p| p.job.is_none()) {
                Some(i) => i,
                None => {
                    if cursor_done {
                        break;
                    }
                    match cursor.next() {
                        None => {
                            cursor_done = true;
                            break;
                        }
                        Some(it) => {
                            let it = it?;
                            let k = journal::key(&it.archive_id);
                            if state.exported.contains(&k) || state.jobs.contains_key(&k) {
                                continue;
                            }
                            if dest.contains(&it)? {
                                // In place from a run that crashed before its journal line.
                                journal_exported(journal, state, &it)?;
                                done += 1;
                                report.exported += 1;
                                continue;
                            }
                            let whole = format!("0-{}", it.size.saturating_sub(1));
                            let found = adoptable.remove(&k).and_then(|jobs| {
                                jobs.into_iter()
                                    .find(|(_, r)| r.as_deref().is_none_or(|r| r == whole))
                            });
                            if let Some((job_id, _)) = found {
                                note(&format!(
                                    "archive {} ({}): using job {job_id} found in the vault, not in the journal",
                                    it.archive_id, it.name
                                ));
                                let r = Record::Job {
                                    archive_id: it.archive_id.clone(),
                                    job_id: job_id.clone(),
                                    time: rfc3339((opts.clock)()),
                                };
                                journal.append(&r)?;
                                state.apply(&r);
                                outstanding.push(Pending {
                                    item: it,
                                    job: Some(job_id),
                                    restart: false,
                                });
                                continue;
                            }
                            outstanding.push(Pending {
                                item: it,
                                job: None,
                                restart: false,
                            });
                            outstanding.len() - 1
                        }
                    }
                }
            };
            let size = outstanding[idx].item.size;
            if running > 0 && pending_bytes.saturating_add(size) > opts.max_pending {
                break;
            }
            if let Some(pace) = &pace {
                if let Err(why) = pace.check(state, (opts.clock)().unix_timestamp(), size) {
                    if !paced_said {
                        note(&why);
                        paced_said = true;
                    }
                    break;
                }
            }
            let p = &mut outstanding[idx];
            let req = JobRequest {
                kind: "archive-retrieval".into(),
                archive_id: Some(p.item.archive_id.clone()),
                tier: Some(opts.tier.clone()),
                description: Some("glacier vault export".into()),
                ..Default::default()
            };
            let persist = Persist {
                backoff: opts.backoff,
                stop: &opts.stop,
                retry_mismatch: false,
                tries: None,
            };
            match retrieval::initiate_job(client, vault, &req, &persist, note) {
                Ok(j) => {
                    let r = Record::Job {
                        archive_id: p.item.archive_id.clone(),
                        job_id: j.to_string(),
                        time: rfc3339((opts.clock)()),
                    };
                    journal.append(&r)?;
                    state.apply(&r);
                    p.job = Some(j.to_string());
                    report.jobs_started += 1;
                    if p.restart {
                        report.jobs_restarted += 1;
                    }
                    started_now += 1;
                }
                Err(e) if is_not_found(&e) => {
                    // The archive is gone since the inventory was taken.
                    let p = outstanding.remove(idx);
                    report.failed.push((
                        p.item.archive_id,
                        p.item.name,
                        format!("InitiateJob: {}", crate::error::chain(&e)),
                    ));
                }
                // Glacier limits retrievals, or is failing; the client already retried
                // (and a lost answer was looked for). Wait for a poll.
                Err(e) if is_throttled(&e) || e.is_transient() => {
                    note(&format!(
                        "Glacier refuses more jobs for now ({}); trying again after the next poll",
                        crate::error::chain(&e)
                    ));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let _ = started_now;

        if outstanding.is_empty() && cursor_done {
            break;
        }

        // 2. One ListJobs (all pages) tells which jobs finished, failed or expired.
        let mut downloaded = 0;
        lost_now = 0;
        if outstanding.iter().any(|p| p.job.is_some()) {
            let mine: HashMap<&str, usize> = outstanding
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.job.as_deref().map(|j| (j, i)))
                .collect();
            let mut found: HashMap<usize, JobDescription> = HashMap::new();
            let listed = match client.list_jobs(vault, None, None) {
                Ok(l) => l,
                Err(e) => {
                    ride_out(e, opts, &mut backoff, note)?;
                    continue;
                }
            };
            backoff.reset();
            for j in listed {
                if let Some(&i) = j.job_id.as_deref().and_then(|id| mine.get(id)) {
                    found.insert(i, j);
                }
            }
            let mut ready: Vec<(usize, JobDescription)> = Vec::new();
            for (i, p) in outstanding.iter_mut().enumerate() {
                let Some(job_id) = p.job.clone() else {
                    continue;
                };
                let reason = match found.remove(&i) {
                    None => "expired (no longer listed by Glacier)".to_string(),
                    Some(j) if job::status(&j) == "Failed" => {
                        format!("failed: {}", job::message(&j))
                    }
                    Some(j) if job::status(&j) == "Succeeded" => {
                        // Staged output about to expire is requested again, not wasted
                        // on a download that cannot finish in time.
                        let asked = state.requested_at.get(&journal::key(&p.item.archive_id));
                        let now = (opts.clock)().unix_timestamp();
                        match pacing::expiring(&j, asked.copied(), now) {
                            Some(why) => why,
                            None => {
                                ready.push((i, j));
                                continue;
                            }
                        }
                    }
                    Some(_) => continue,
                };
                lost_now += 1;
                lose_job(journal, state, p, &job_id, &reason, note)?;
            }
            status(&Status {
                done,
                total: report.archives,
                done_bytes: done_bytes + report.exported_bytes,
                total_bytes: report.bytes,
                waiting: (outstanding.iter().filter(|p| p.job.is_some()).count() as u64)
                    .saturating_sub(ready.len() as u64),
                ready: ready.len() as u64,
                next_poll: None,
            });
            // 3. Download what is ready: several archives at once on the crate's one
            // pool (many vaults hold thousands of small ones, where per-request latency
            // dominates), the thread budget split between archives and each archive's
            // chunks. Each archive is journaled by its worker as soon as it is in place,
            // so a crash loses no finished download. A full disk, Ctrl-C or a journal
            // that cannot be written stops scheduling; downloads in flight finish.
            let workers = opts.threads.min(ready.len()).max(1);
            let per_archive = (opts.threads / workers).max(1);
            let books = Mutex::new((&mut *journal, &mut *state));
            let outstanding_ref = &outstanding;
            let out = Pool::new(workers).stop(&opts.stop).run(
                ready,
                || Ok::<(), Error>(()),
                |_, _, (i, job): (usize, JobDescription)| {
                    let item = &outstanding_ref[i].item;
                    match dest.store(client, vault, &job, item, per_archive) {
                        Ok(()) => {
                            let mut b = books.lock().unwrap_or_else(|p| p.into_inner());
                            let (j, st) = &mut *b;
                            journal_exported(j, st, item)?;
                            Ok(Landed::Exported(i))
                        }
                        Err(e) if is_disk_full(&e) || matches!(e, Error::Interrupted(_)) => Err(e),
                        // Found by its ID in ListJobs, so the ID is there.
                        Err(e) if is_not_found(&e) => {
                            Ok(Landed::Lost(i, job.job_id.clone().unwrap_or_default()))
                        }
                        Err(e) if e.is_transient() && !never_verifies(&e) => {
                            Ok(Landed::Retry(i, crate::error::chain(&e)))
                        }
                        Err(e) => Ok(Landed::Failed(i, crate::error::chain(&e))),
                    }
                },
            );
            let mut lost: Vec<(usize, String)> = Vec::new();
            let mut finished: Vec<usize> = Vec::new();
            let mut retry = false;
            for d in out.done {
                match d.value {
                    Landed::Exported(i) => {
                        let item = &outstanding[i].item;
                        report.exported += 1;
                        report.exported_bytes += item.size;
                        done += 1;
                        downloaded += 1;
                        finished.push(i);
                    }
                    Landed::Lost(i, job_id) => lost.push((i, job_id)),
                    Landed::Retry(i, why) => {
                        let item = &outstanding[i].item;
                        let tries = retries.entry(journal::key(&item.archive_id)).or_default();
                        *tries += 1;
                        if *tries >= DOWNLOAD_TRIES {
                            note(&format!(
                                "archive {} ({}): {why}",
                                item.archive_id, item.name
                            ));
                            report
                                .failed
                                .push((item.archive_id.clone(), item.name.clone(), why));
                            finished.push(i);
                            continue;
                        }
                        note(&format!(
                            "archive {} ({}): {why}; downloading it again",
                            item.archive_id, item.name
                        ));
                        retry = true;
                    }
                    Landed::Failed(i, why) => {
                        let item = &outstanding[i].item;
                        note(&format!(
                            "archive {} ({}): {why}",
                            item.archive_id, item.name
                        ));
                        report
                            .failed
                            .push((item.archive_id.clone(), item.name.clone(), why));
                        finished.push(i);
                    }
                }
            }
            let fatal = out.error;
            for (i, job_id) in lost {
                lose_job(
                    journal,
                    state,
                    &mut outstanding[i],
                    &job_id,
                    "expired (output gone)",
                    note,
                )?;
            }
            if let Some(e) = fatal {
                return Err(e);
            }
            if opts.stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted(
                    "export interrupted; run the same command again to continue".into(),
                ));
            }
            finished.sort_unstable();
            for i in finished.into_iter().rev() {
                outstanding.remove(i);
            }
            if retry {
                if !opts.wait {
                    break;
                }
                // The same jobs are downloaded again after a pause that grows while
                // the fault lasts.
                if !pause(backoff.next_pause(), &opts.stop) {
                    return Err(interrupted());
                }
                continue;
            }
        }

        if outstanding.is_empty() && cursor_done {
            break;
        }
        if downloaded > 0
            || lost_now > 0
            || outstanding.iter().any(|p| p.job.is_none()) && started_now > 0
        {
            // Capacity freed or more to start: go round again without waiting.
            continue;
        }
        if !opts.wait {
            break;
        }
        status(&Status {
            done,
            total: report.archives,
            done_bytes: done_bytes + report.exported_bytes,
            total_bytes: report.bytes,
            waiting: outstanding.iter().filter(|p| p.job.is_some()).count() as u64,
            ready: 0,
            next_poll: Some(opts.poll),
        });
        // A pause between polls of remote jobs that take hours, in short steps so that
        // Ctrl-C stops the run at once rather than after the poll interval.
        if !pause(opts.poll, &opts.stop) {
            return Err(interrupted());
        }
    }
    report.remaining = report
        .archives
        .saturating_sub(report.already_exported + report.exported + report.failed.len() as u64);
    Ok(report)
}

/// Archive retrievals Glacier lists, by archive: (job ID, byte range). Not failed ones,
/// nor those the journal recorded as lost (Glacier may still list a job as Succeeded
/// after its output is gone).
type Adoptable = HashMap<journal::Key, Vec<(String, Option<String>)>>;

/// [`Adoptable`] from one ListJobs (all pages), riding out transient faults.
fn adoptable_jobs(
    client: &Client,
    vault: &str,
    state: &State,
    opts: &Options,
    backoff: &mut Backoff,
    note: &mut dyn FnMut(&str),
) -> Result<Adoptable> {
    let listed = loop {
        match client.list_jobs(vault, None, None) {
            Ok(l) => break l,
            Err(e) => ride_out(e, opts, backoff, note)?,
        }
    };
    let mut adoptable = Adoptable::new();
    for j in listed {
        if job::action(&j) != "ArchiveRetrieval" || job::status(&j) == "Failed" {
            continue;
        }
        if let (Some(a), Some(id)) = (job::archive_id(&j), j.job_id.clone()) {
            if !state.lost.contains(&id) {
                adoptable
                    .entry(journal::key(a))
                    .or_default()
                    .push((id, job::range(&j).map(str::to_string)));
            }
        }
    }
    Ok(adoptable)
}

fn journal_exported(journal: &mut Journal, state: &mut State, it: &Item) -> Result<()> {
    let r = Record::Exported {
        archive_id: it.archive_id.clone(),
        path: it.name.clone(),
        size: it.size,
        tree_hash: it.tree_hash.clone(),
        time: crate::vault::now_rfc3339(),
    };
    journal.append(&r)?;
    state.apply(&r);
    Ok(())
}

/// `t` as RFC 3339, as the journal records times.
fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn lose_job(
    journal: &mut Journal,
    state: &mut State,
    p: &mut Pending,
    job_id: &str,
    reason: &str,
    note: &mut dyn FnMut(&str),
) -> Result<()> {
    let r = Record::JobLost {
        archive_id: p.item.archive_id.clone(),
        job_id: job_id.to_string(),
        reason: reason.to_string(),
    };
    journal.append(&r)?;
    state.apply(&r);
    note(&format!(
        "job {job_id} for archive {} ({}) {reason}; starting a new retrieval",
        p.item.archive_id, p.item.name
    ));
    p.job = None;
    p.restart = true;
    Ok(())
}
