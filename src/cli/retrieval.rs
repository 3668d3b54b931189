//! What archive and inventory retrievals share on the command line: starting a job and
//! printing its ID (the work is [`crate::retrieval`]'s), the flag a job still running
//! asks for, and the pace of long runs (with its test hooks).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::Global;
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobId, JobRequest};
use crate::progress::Reporter;
use crate::retrieval::{self, JobCheck, Pace};
use crate::workflow::Ctx;

/// The first poll of a job when the user gave none: Glacier jobs take minutes to hours.
const DEFAULT_POLL: Duration = Duration::from_secs(15);

/// Test hook: the integration tests poll every few milliseconds.
pub(super) fn poll_override() -> Option<Duration> {
    super::knobs::poll_override()
}

/// The pauses of a long run when a fault outlasts the client's retries: the first and
/// the longest. The test hook that shortens the client's retries shortens these too.
pub(super) fn backoff() -> (Duration, Duration) {
    match super::knobs::retry_base(&ProcessEnv) {
        Some(base) => (base, base * 8),
        None => (Duration::from_secs(1), Duration::from_secs(60)),
    }
}

/// How the retrieval workflows pace themselves: a first poll of 15 s (or the test
/// hook's), and [`backoff`].
pub(super) fn pace() -> Pace {
    Pace {
        poll: poll_override().unwrap_or(DEFAULT_POLL),
        backoff: backoff(),
    }
}

/// A run without `--wait` found its job still running: say how to wait for it.
pub(super) fn or_add_wait<T>(r: Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        Error::JobInProgress(m) => Error::JobInProgress(format!("{m}, or add --wait")),
        e => e,
    })
}

/// A job for [`start_job`] to start.
pub struct JobStart<'a> {
    /// The request.
    pub request: &'a JobRequest,
    /// `ArchiveRetrieval` or `InventoryRetrieval`, checked after waiting.
    pub action: &'a str,
    /// What the job is, for the user ("inventory of vault 'v'").
    pub what: &'a str,
    /// Wait for the job to succeed.
    pub wait: bool,
}

/// Starts a job (the library's [`retrieval::start`]), says so on stderr, optionally
/// waits for it to succeed ([`retrieval::finished_job`]), and prints its ID (with
/// `--json`, and after waiting, the job's description too).
pub fn start_job(
    client: &Client,
    global: &Global,
    out: &mut super::Output,
    vault: &str,
    job: &JobStart<'_>,
) -> Result<()> {
    let JobStart {
        request,
        action,
        what,
        wait,
    } = *job;
    // No signal handler is installed: Ctrl-C ends the process (the job ID is printed
    // before any wait).
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop: &stop,
    };
    let display = global.display();
    let start = retrieval::Start {
        vault,
        request,
        what,
        // A `--wait` run is a long one; without it the command should answer soon.
        long: wait,
        pace: pace(),
    };
    let job_id = retrieval::start(&ctx, &start, &display)?;
    let started = format!("started {what}: job {job_id}");
    if wait && global.json {
        // stdout gets the ID only after waiting: an interrupted wait must not hide a
        // billed job, so it goes to stderr now, even with --quiet (it is no mere note).
        eprintln!("glacier: {started}");
    } else {
        display.note(&started);
    }
    if !wait {
        return print_job(out, global, vault, &job_id, None);
    }
    // The job ID matters even if waiting is interrupted: print it first.
    if !global.json {
        out.line(job_id.as_str())?;
        out.flush()?;
    }
    let check = JobCheck {
        vault,
        job_id: &job_id,
        action,
        wait: true,
        pace: pace(),
    };
    let job = retrieval::finished_job(&ctx, &check, &display)?;
    if global.json {
        return print_job(out, global, vault, &job_id, Some(&job));
    }
    Ok(())
}

/// The job ID as a result: one line, or `{"job_id", "vault", ...}` with `--json`.
pub fn print_job(
    out: &mut super::Output,
    global: &Global,
    vault: &str,
    job_id: &JobId,
    job: Option<&JobDescription>,
) -> Result<()> {
    if global.json {
        let mut v = serde_json::json!({"job_id": job_id.as_str(), "vault": vault});
        if let Some(j) = job {
            v["job"] = serde_json::to_value(j).unwrap_or_default();
        }
        out.json(&v)
    } else {
        out.line(job_id.as_str())
    }
}
