//! What archive and inventory retrievals share on the command line: starting a job,
//! waiting for it (through [`crate::retrieval`]), checking that a job can give what is
//! asked of it, and the pauses of long runs (with their test hooks).

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::{Global, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobId, JobRequest};
use crate::retrieval::{self, Persist, Wait, age};

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

/// How `--wait` polls a job: 15 s growing by half to 15 min (or the test hook's pace).
fn wait_settings(stop: &AtomicBool) -> Wait<'_> {
    Wait::growing(poll_override().unwrap_or(DEFAULT_POLL), backoff(), stop)
}

/// Describes the job (waiting for it with `wait`) and checks it is a succeeded job of
/// the `action` (`ArchiveRetrieval` or `InventoryRetrieval`).
pub fn finished_job(
    client: &Client,
    global: &Global,
    vault: &str,
    job_id: &JobId,
    action: &str,
    wait: bool,
) -> Result<JobDescription> {
    let job = if wait {
        // No signal handler is installed while waiting: Ctrl-C ends the process, and the
        // job ID was printed already.
        let stop = AtomicBool::new(false);
        retrieval::wait_for_job(client, vault, job_id, &wait_settings(&stop), &mut |m| {
            note(global, m)
        })?
    } else {
        client.describe_job(vault, job_id)?
    };
    if job.action.as_deref() != Some(action) {
        let (is, use_cmd) = match job.action_name() {
            "InventoryRetrieval" => ("an inventory retrieval", "glacier inventory get"),
            "ArchiveRetrieval" => ("an archive retrieval", "glacier archive get"),
            other => (other, "glacier jobs describe"),
        };
        return Err(Error::Job(format!(
            "job {job_id} in vault '{vault}' is {is}; use '{use_cmd}'"
        )));
    }
    match job.status() {
        "Succeeded" => Ok(job),
        "Failed" => Err(Error::Job(format!(
            "job {job_id} in vault '{vault}' failed: {}",
            job.status_message.as_deref().unwrap_or("no reason given")
        ))),
        status => Err(Error::JobInProgress(format!(
            "job {job_id} in vault '{vault}' is not finished: {status}, {}; run again later, or add --wait",
            age(job.creation_date.as_deref())
        ))),
    }
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

/// Starts a job, says so on stderr, optionally waits for it to succeed, and prints its
/// ID (with `--json`, and after waiting, the job's description too).
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
    // No signal handler is installed yet: Ctrl-C ends the process.
    let stop = AtomicBool::new(false);
    let persist = Persist {
        backoff: backoff(),
        stop: &stop,
        retry_mismatch: false,
        // A `--wait` run is a long one; without it the command should answer soon.
        tries: if wait { None } else { Some(3) },
    };
    // Every error `initiate_job` returns leaves it safe to send again (refused, or looked
    // for and not found), so throttling and server faults are ridden out here too.
    let job_id = retrieval::persist(
        &persist,
        &format!("starting the {what}"),
        &mut |m| note(global, m),
        || retrieval::initiate_job(client, vault, request, &persist, &mut |m| note(global, m)),
    )?;
    let started = format!("started {what}: job {job_id}");
    if wait && global.json {
        // stdout gets the ID only after waiting: an interrupted wait must not hide a
        // billed job, so it goes to stderr now, even with --quiet (it is no mere note).
        eprintln!("glacier: {started}");
    } else {
        note(global, &started);
    }
    if wait {
        // The job ID matters even if waiting is interrupted: print it first.
        if !global.json {
            out.line(job_id.as_str())?;
            out.flush()?;
            finished_job(client, global, vault, &job_id, action, true)?;
            return Ok(());
        }
        let job = finished_job(client, global, vault, &job_id, action, true)?;
        return print_job(out, global, vault, &job_id, Some(&job));
    }
    print_job(out, global, vault, &job_id, None)
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
