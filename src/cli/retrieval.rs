//! What archive and inventory retrievals share: starting a job, waiting for it, and
//! checking that a job can give what is asked of it.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Global, note};
use crate::config::{Env, ProcessEnv};
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobId};

/// Polls a job until it completes, with growing intervals (15 s, ×1.5, at most 15 min),
/// telling the user its status on stderr.
pub fn wait_for_job(
    client: &Client,
    global: &Global,
    vault: &str,
    job_id: &JobId,
) -> Result<JobDescription> {
    // Test hook: the integration tests poll every few milliseconds.
    let base = ProcessEnv
        .var("GLACIER_POLL_MS")
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(15), Duration::from_millis);
    let cap = (base * 60).min(Duration::from_secs(900));
    let mut interval = base;
    loop {
        let job = client.describe_job(vault, job_id)?;
        if job.is_completed() {
            return Ok(job);
        }
        note(
            global,
            &format!(
                "job {job_id}: {} ({}), checking again in {} s",
                job.status(),
                age(job.creation_date.as_deref()),
                interval.as_secs()
            ),
        );
        // A deliberate pause between polls of a remote job (Glacier jobs take minutes to
        // hours); nothing local is being waited for.
        std::thread::sleep(interval);
        interval = (interval * 3 / 2).min(cap);
    }
}

/// "created 2h05m ago" from an ISO 8601 creation date (which Glacier may leave out).
pub fn age(created: Option<&str>) -> String {
    let Some(created) = created else {
        return "creation date unknown".into();
    };
    match OffsetDateTime::parse(created, &Rfc3339) {
        Ok(t) => {
            let s = (OffsetDateTime::now_utc() - t).whole_seconds().max(0);
            format!("created {}h{:02}m ago", s / 3600, (s % 3600) / 60)
        }
        Err(_) => format!("created {created}"),
    }
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
        wait_for_job(client, global, vault, job_id)?
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

/// Starts a job, says so on stderr, optionally waits for it to succeed, and prints its
/// ID (with `--json`, and after waiting, the job's description too).
#[allow(clippy::too_many_arguments)]
pub fn start_job(
    client: &Client,
    global: &Global,
    out: &mut super::Output,
    vault: &str,
    request: &crate::glacier::JobRequest,
    action: &str,
    what: &str,
    wait: bool,
) -> Result<()> {
    let job_id = client.initiate_job(vault, request)?;
    note(global, &format!("started {what}: job {job_id}"));
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
