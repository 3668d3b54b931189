//! The job scheduler: keeps retrieval jobs outstanding within `--max-jobs` and
//! `--max-pending`, finds finished ones at a cost that follows what is outstanding
//! (`poll`: ListJobs pages from a frontier, stopping once every job is found, or
//! DescribeJob when few are), hands them to the destination, and restarts a job that
//! expired or failed. With `--max-bytes-per-day` it requests archives oldest first
//! within a 24-hour byte budget, and it requests again staged output about to expire
//! (both in the `pacing` module).
//!
//! It is a pipeline, not rounds (`pipeline`): the calling thread starts jobs and
//! polls while the crate's one worker pool downloads what is ready, so new jobs are
//! requested while earlier ones download.
//!
//! Journal records are written at once and synced in groups ([`Journal::record`]):
//! before each poll (which could find the jobs they record, and licenses downloads),
//! before the InitiateJob of a restart (licensed by the record of the job found lost),
//! and before the run returns (the manifest then names what they record). A `kill -9`
//! loses nothing written; a machine crash can lose only the unsynced tail, whose jobs
//! the next run adopts from ListJobs and whose exported files it finds in place.
//!
//! Memory is bounded by the outstanding jobs plus the journal's 16-byte keys: the
//! archives in scope are streamed from the inventory with a cursor (with pacing, oldest
//! first: 16 bytes an archive to sort the order, 4 to keep it, archives read a window at
//! a time).

mod pipeline;
mod poll;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::destination::Destination;
use crate::error::{Error, Result};
use crate::glacier::Client;
use crate::retrieval::{Backoff, pause};
use crate::vault::journal::{Journal, State};
use crate::vault::{Collisions, InventoryFile, Selection};

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
    /// Syncs of the journal since it was opened (this run's inventory steps included):
    /// records are grouped, so this grows with polls, not with archives.
    #[serde(skip)]
    pub journal_syncs: u64,
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
        return Err(not_now("Glacier is failing now", &e));
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

/// A run without `--wait` met transient fault `e` while `what`: "not now" (exit 3), to be
/// run again later.
fn not_now(what: &str, e: &Error) -> Error {
    Error::JobInProgress(format!(
        "{what} ({}); run the same command again later",
        crate::error::chain(e)
    ))
}

/// Failed downloads of one archive, each after another archive landed, before a run
/// lists it as failed (a rerun tries again): one archive that never comes through while
/// the others do cannot hold the run for ever. A try that fails while nothing lands is
/// not counted: every download failing at once is an outage (Glacier's, or the link's),
/// which the run rides out for as long as it lasts, with the backoff's growing pauses.
const DOWNLOAD_TRIES: u32 = 12;

/// How long (by the run's clock) one archive's downloads may keep failing before it is
/// listed as failed even though nothing else lands, in seconds: the last archive of a run
/// has no others to tell its own fault from an outage, and riding on would end in its
/// job's output expiring (Glacier keeps it 24 hours) and the retrieval being bought
/// again, day after day. Six hours outlasts any outage a run should wait through and
/// leaves the job most of its day for a rerun.
const DOWNLOAD_PATIENCE_SECS: i64 = 6 * 3600;

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

/// Throttling, or for InitiateJob too many jobs in flight (`LimitExceededException`):
/// both lift as time passes and jobs finish. A retrieval policy's refusal is not here
/// (see [`is_policy_refusal`]): it may never lift.
fn is_throttled(e: &Error) -> bool {
    e.is_throttled()
        || e.service()
            .is_some_and(|s| s.code == "LimitExceededException")
}

/// InitiateJob refused by the account's data retrieval policy (API Reference, "Initiate
/// Job (POST jobs)", Errors: `PolicyEnforcedException`, returned if the job "would
/// exceed the current data policy's retrieval rate limit").
fn is_policy_refusal(e: &Error) -> bool {
    e.service()
        .is_some_and(|s| s.code == "PolicyEnforcedException")
}

/// How long refusals by the data retrieval policy are waited out while no job of the
/// export is in progress, before the run stops.
///
/// The Developer Guide ("Data Retrieval Policies") gives three policies: No Retrieval
/// Limit accepts every request; Free Tier Only refuses requests beyond the day's prorated
/// free allowance; Max Retrieval Rate refuses a request that "would cause the peak
/// retrieval rate of the in-progress jobs to exceed" its bytes-per-hour quota. So the
/// refusal lifts as in-progress jobs finish (our own: waited for without limit) or as
/// the day's allowance renews, but never for an archive larger than what the policy
/// allows at all, and the refusal does not say which case it is (its message is the same
/// for both policies). Hence a bounded wait: an hour of refusals with nothing of ours in
/// progress, then a clear stop the user can act on (the policy applies to Standard
/// retrievals only, so the other tiers, or a higher quota, get past it), with the
/// journal intact for a rerun.
const POLICY_PATIENCE: time::Duration = time::Duration::hours(1);

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

/// Runs the export to completion (or, without `wait`, as far as it can go now). Every
/// journal record this run wrote is synced before it returns, whatever it returns.
pub fn run(
    work: &Work<'_>,
    journal: &mut Journal,
    state: &mut State,
    opts: &Options,
    note: &mut dyn FnMut(&str),
    status: &mut dyn FnMut(&Status),
) -> Result<Report> {
    let result = pipeline::run(work, journal, state, opts, note, status);
    // Before the manifest names what the records say, and before exit.
    let synced = journal.sync();
    let mut report = result?;
    synced?;
    report.journal_syncs = journal.syncs();
    Ok(report)
}
