//! The job steps of the retrieval workflows (`archive`/`inventory init-retrieval`,
//! `archive get`, `inventory get`): starting a job under the create-call policy with
//! transient faults ridden out, and finding a job finished (waiting for it through the
//! one job-wait loop when asked) and fit for what is asked of it. Notes go to the
//! [`Reporter`]; nothing here prints or names a flag.

use std::time::Duration;

use super::{Persist, Wait, age, initiate_job, persist, wait_for_job};
use crate::error::{Action, Error, Result};
use crate::glacier::{JobDescription, JobId, JobRequest};
use crate::progress::Reporter;
use crate::workflow::Ctx;

/// How a retrieval workflow paces itself: the first poll of a job (growing by half up
/// to 15 min) and the pauses after faults that outlast the client's retries (first and
/// longest).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The first pause between DescribeJob calls.
    pub poll: Duration,
    /// Pauses after a transient fault: first and longest.
    pub backoff: (Duration, Duration),
}

/// A job to find finished.
#[derive(Debug, Clone, Copy)]
pub struct JobCheck<'a> {
    /// The vault.
    pub vault: &'a str,
    /// The job.
    pub job_id: &'a JobId,
    /// `ArchiveRetrieval` or `InventoryRetrieval`: what the job must be.
    pub action: &'a str,
    /// Wait for the job to complete (else one DescribeJob).
    pub wait: bool,
    /// How to wait.
    pub pace: Pace,
}

/// Describes the job (waiting for it with `wait`, the context's stop flag ending the
/// wait) and checks it is a succeeded job of the `action`. A job still running is
/// [`Error::JobInProgress`]; a failed one, or one of another action, [`Error::Job`].
pub fn finished_job(
    ctx: &Ctx<'_>,
    c: &JobCheck<'_>,
    reporter: &dyn Reporter,
) -> Result<JobDescription> {
    let JobCheck {
        vault,
        job_id,
        action,
        ..
    } = *c;
    let job = if c.wait {
        let w = Wait::growing(c.pace.poll, c.pace.backoff, ctx.stop);
        wait_for_job(ctx.glacier, vault, job_id, &w, &mut |m| reporter.note(m))?
    } else {
        ctx.glacier.describe_job(vault, job_id)?
    };
    if job.action.as_deref() != Some(action) {
        return Err(other_kind(vault, job_id, job.action_name()));
    }
    match job.status() {
        "Succeeded" => Ok(job),
        "Failed" => Err(Error::Job(format!(
            "job {job_id} in vault '{vault}' failed: {}",
            job.status_message.as_deref().unwrap_or("no reason given")
        ))),
        status => Err(Error::JobInProgress(format!(
            "job {job_id} in vault '{vault}' is not finished: {status}, {}; run again later",
            age(job.creation_date.as_deref())
        ))),
    }
}

/// A job of another kind (`is`: its Action) than the one asked for, with what fetches it.
fn other_kind(vault: &str, job_id: &JobId, is: &str) -> Error {
    let (is, fetch) = match is {
        "InventoryRetrieval" => ("an inventory retrieval", Action::GetInventoryOutput),
        "ArchiveRetrieval" => ("an archive retrieval", Action::GetArchiveOutput),
        other => (other, Action::DescribeJob),
    };
    Error::Job(format!(
        "job {job_id} in vault '{vault}' is {is}; use '{fetch}'"
    ))
}

/// A job to start.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    /// The vault.
    pub vault: &'a str,
    /// The InitiateJob body.
    pub request: &'a JobRequest,
    /// What the job is, for notes ("inventory of vault 'v'").
    pub what: &'a str,
    /// A long run (the caller waits for the job next): faults are ridden out for as
    /// long as they last; else the start gives up after a few tries.
    pub long: bool,
    /// Pauses after faults.
    pub pace: Pace,
}

/// Starts a job: InitiateJob under the create-call policy (a lost answer is looked for
/// in ListJobs and adopted, never sent twice blindly), throttling and server faults
/// ridden out with notes. Returns the job's ID.
pub fn start(ctx: &Ctx<'_>, s: &Start<'_>, reporter: &dyn Reporter) -> Result<JobId> {
    let p = Persist {
        backoff: s.pace.backoff,
        stop: ctx.stop,
        retry_mismatch: false,
        tries: if s.long { None } else { Some(3) },
    };
    // Every error `initiate_job` returns leaves it safe to send again (refused, or looked
    // for and not found), so throttling and server faults are ridden out here too.
    persist(
        &p,
        &format!("starting the {}", s.what),
        &mut |m| reporter.note(m),
        || {
            initiate_job(ctx.glacier, s.vault, s.request, &p, &mut |m| {
                reporter.note(m)
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job of another kind names what fetches it, in the library's words (the CLI
    /// installs its commands instead).
    #[test]
    fn a_job_of_another_kind_says_what_fetches_it() {
        let id = JobId::from_server("J");
        let text = |is| other_kind("v", &id, is).to_string();
        assert_eq!(
            text("InventoryRetrieval"),
            "job J in vault 'v' is an inventory retrieval; use 'GetJobOutput for an inventory retrieval'"
        );
        assert_eq!(
            text("ArchiveRetrieval"),
            "job J in vault 'v' is an archive retrieval; use 'GetJobOutput for an archive retrieval'"
        );
        assert_eq!(
            text("Select"),
            "job J in vault 'v' is Select; use 'DescribeJob'"
        );
    }
}
