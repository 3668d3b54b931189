//! Retrieval jobs, below the CLI: the one policy for starting a job (InitiateJob for an
//! archive or an inventory) when its answer may be lost, and the one loop that waits
//! for a job. `archive`/`inventory init-retrieval`, `--wait` retrievals, export (its
//! retrieval and inventory jobs) and purge (its inventory job) all go through here, so a
//! lost answer never starts a second billed job and a transient fault never ends a wait.
//!
//! The retrieval workflows are here too, each taking the [`Ctx`](crate::workflow::Ctx),
//! its options and a [`Reporter`](crate::progress::Reporter) and returning what it did:
//! [`jobs::start`] and [`jobs::finished_job`] (`archive`/`inventory init-retrieval`, with
//! `--wait`), [`archive::get`] (`archive get`) and [`inventory::get`] (`inventory get`).
//!
//! Nothing here prints: messages for the user go to a `note` callback or the reporter.

pub mod archive;
pub mod create;
pub mod inventory;
pub mod jobs;
pub mod pause;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Action, Error, Result};
use crate::glacier::{Client, JobDescription, JobId, JobRequest};

pub use create::{Create, create};
pub use jobs::{JobCheck, Pace, Start, finished_job, start};
pub use pause::{Backoff, Persist, pause, persist};

/// How far back a job may have been created to count as "the one our lost InitiateJob
/// started": the request's time limit with retries is well within it.
const RECENT: time::Duration = time::Duration::minutes(15);

/// The job a lost InitiateJob started, if ListJobs shows one: same action, archive,
/// description, tier and byte range (a whole-archive request matches a job whose range
/// is the whole archive), created since `since`. The newest wins. An inventory job
/// matches on its description and its `InventoryRetrievalParameters` (API Reference,
/// "GlacierJobDescription": Format, StartDate, EndDate, Limit). A continuation request
/// (with a `Marker`) never matches: the job reports the marker to continue FROM it, not
/// the one it started at, so which page a job holds cannot be told.
pub fn find_started_job(
    jobs: &[JobDescription],
    request: &JobRequest,
    since: OffsetDateTime,
) -> Option<JobId> {
    let action = match request.kind.as_str() {
        "archive-retrieval" => "ArchiveRetrieval",
        "inventory-retrieval" => "InventoryRetrieval",
        _ => return None,
    };
    let range_matches =
        |j: &JobDescription| match (&request.retrieval_byte_range, &j.retrieval_byte_range) {
            (Some(want), Some(got)) => want == got,
            (Some(_), None) => false,
            (None, None) => true,
            (None, Some(got)) => j
                .archive_size_in_bytes
                .is_some_and(|size| size > 0 && *got == format!("0-{}", size - 1)),
        };
    jobs.iter()
        .filter(|j| j.action.as_deref() == Some(action))
        .filter(|j| j.archive_id == request.archive_id)
        .filter(|j| j.job_description == request.description)
        .filter(|j| {
            let want = request.tier.as_deref().unwrap_or("Standard");
            j.tier.as_deref().is_none_or(|t| t == want)
        })
        .filter(|j| {
            if action == "InventoryRetrieval" {
                same_inventory(request, j)
            } else {
                range_matches(j)
            }
        })
        .filter_map(|j| {
            let created = OffsetDateTime::parse(j.creation_date.as_deref()?, &Rfc3339).ok()?;
            let id = JobId::from_server_checked(j.job_id.as_deref()?).ok()?;
            (created >= since).then_some((created, id))
        })
        .max_by_key(|(created, _)| *created)
        .map(|(_, id)| id)
}

/// Does inventory job `j` answer `request`: same format and filters, and no marker
/// asked for (see [`find_started_job`])?
fn same_inventory(request: &JobRequest, j: &JobDescription) -> bool {
    let want = request
        .inventory_retrieval_parameters
        .clone()
        .unwrap_or_default();
    if want.marker.is_some() {
        return false;
    }
    let got = j.inventory_retrieval_parameters.clone().unwrap_or_default();
    // Dates may come back in another spelling of the same instant.
    let same_date = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => {
            a == b
                || matches!(
                    (OffsetDateTime::parse(a, &Rfc3339), OffsetDateTime::parse(b, &Rfc3339)),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (a, b) => a == b,
    };
    // JSON is Glacier's default format ("Initiate Job": Format).
    let format = |f: Option<&str>| f.unwrap_or("JSON").to_ascii_uppercase();
    format(request.format.as_deref()) == format(got.format.as_deref())
        && same_date(&want.start_date, &got.start_date)
        && same_date(&want.end_date, &got.end_date)
        && want.limit == got.limit
}

/// What to do when looking for the job a lost InitiateJob started failed: the job may
/// exist (and be billed), so look before starting it again.
fn look_advice(vault: &str) -> String {
    format!(
        "check '{}' before starting it again",
        Action::ListJobs { vault }
    )
}

/// Starts a job: the one policy for a call that creates something. When the outcome of
/// a request is unknown (sent, then no answer or a 5xx), the job may exist and be billed:
/// ListJobs is asked for one the request started ([`find_started_job`]) and that job is
/// adopted; only when none is listed is the request sent again. The lookup is read-only,
/// so it rides out transient faults itself (through `p`): a job is never sent again
/// before the vault was looked at. Every error returned leaves it safe to send the
/// request again later (it was refused, or looked for and not found).
pub fn initiate_job(
    client: &Client,
    vault: &str,
    request: &JobRequest,
    p: &Persist<'_>,
    note: &mut dyn FnMut(&str),
) -> Result<JobId> {
    let first_sent = OffsetDateTime::now_utc();
    let advice = look_advice(vault);
    // Both the policy and the lookup's pauses speak, never at the same time.
    let note = std::cell::RefCell::new(note);
    create(
        Create {
            operation: "InitiateJob",
            thing: "a retrieval",
            send: &mut || client.initiate_job(vault, request),
            // The lookup is read-only: it rides out transient faults itself.
            look: &mut || {
                let what = "looking for the job a lost InitiateJob started";
                let jobs = persist(p, what, &mut |m| (note.borrow_mut())(m), || {
                    client.list_all_jobs(vault)
                })?;
                Ok(find_started_job(&jobs, request, first_sent - RECENT))
            },
            advice: &advice,
        },
        &mut |m| (note.borrow_mut())(m),
    )
}

/// How [`wait_for_job`] polls.
#[derive(Debug, Clone, Copy)]
pub struct Wait<'a> {
    /// The first pause between DescribeJob calls; it grows by half each time.
    pub poll: Duration,
    /// The longest pause between polls.
    pub max_poll: Duration,
    /// Pauses after a transient fault (throttling, 5xx, a dropped connection).
    pub backoff: (Duration, Duration),
    /// Set by Ctrl-C: the wait ends at once with [`Error::Interrupted`].
    pub stop: &'a AtomicBool,
}

impl Wait<'_> {
    /// Polls growing from `poll` by half each time, at most 60 × `poll` or 15 min.
    pub fn growing(poll: Duration, backoff: (Duration, Duration), stop: &AtomicBool) -> Wait<'_> {
        Wait {
            poll,
            max_poll: (poll * 60).min(Duration::from_secs(900)),
            backoff,
            stop,
        }
    }
}

/// The one job-wait loop: polls DescribeJob until the job completes (succeeded or
/// failed; the caller judges which), telling `note` its status. Transient faults
/// (throttling, 5xx, dropped connections, timeouts) are waited out with a note and
/// growing pauses; anything else (a job Glacier no longer knows, bad credentials) is
/// returned. `stop` ends the wait at once.
pub fn wait_for_job(
    client: &Client,
    vault: &str,
    job_id: &JobId,
    w: &Wait<'_>,
    note: &mut dyn FnMut(&str),
) -> Result<JobDescription> {
    let interrupted = || {
        Error::Interrupted(format!(
            "waiting for job {job_id} interrupted; run the same command again to continue"
        ))
    };
    let mut interval = w.poll;
    let mut backoff = Backoff::new(w.backoff.0, w.backoff.1);
    loop {
        let pause_for = match client.describe_job(vault, job_id) {
            Ok(job) if job.is_completed() => return Ok(job),
            Ok(job) => {
                backoff.reset();
                note(&format!(
                    "job {job_id}: {} ({}), checking again in {}",
                    job.status(),
                    age(job.creation_date.as_deref()),
                    crate::progress::human_duration(interval)
                ));
                let p = interval;
                interval = (interval * 3 / 2).min(w.max_poll);
                p
            }
            Err(e) if e.is_transient() => {
                let p = backoff.next_pause();
                note(&format!(
                    "job {job_id}: DescribeJob failed ({}); trying again in {}",
                    crate::error::chain(&e),
                    crate::progress::human_duration(p)
                ));
                p
            }
            Err(e) => return Err(e),
        };
        // A deliberate pause between polls of a remote job (minutes to hours), in short
        // steps so that Ctrl-C ends it at once.
        if !pause(pause_for, w.stop) {
            return Err(interrupted());
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed look for a lost job's start says how to look, in the library's words (the
    /// CLI installs its command instead).
    #[test]
    fn the_advice_after_a_failed_look_names_listjobs() {
        assert_eq!(
            look_advice("v"),
            "check 'ListJobs for vault v' before starting it again"
        );
    }

    fn job(id: &str, archive: &str, range: &str, tier: &str, created: &str) -> JobDescription {
        serde_json::from_value(serde_json::json!({
            "JobId": id, "Action": "ArchiveRetrieval", "ArchiveId": archive,
            "CreationDate": created, "Completed": false, "StatusCode": "InProgress",
            "ArchiveSizeInBytes": 3_145_728u64, "RetrievalByteRange": range, "Tier": tier,
        }))
        .expect("job json")
    }

    fn inventory_job(id: &str, params: serde_json::Value) -> JobDescription {
        serde_json::from_value(serde_json::json!({
            "JobId": id, "Action": "InventoryRetrieval", "CreationDate": "2026-01-01T12:01:00.000Z",
            "Completed": false, "StatusCode": "InProgress", "InventoryRetrievalParameters": params,
        }))
        .expect("job json")
    }

    #[test]
    fn a_lost_inventory_request_finds_a_job_with_the_same_parameters_only() {
        let since = OffsetDateTime::parse("2026-01-01T12:00:00Z", &Rfc3339).expect("date");
        let jobs = vec![
            inventory_job("csv", serde_json::json!({"Format": "CSV"})),
            inventory_job(
                "limited",
                serde_json::json!({"Format": "JSON", "Limit": "10"}),
            ),
            inventory_job(
                "dated",
                serde_json::json!({"Format": "JSON", "StartDate": "2025-01-01T00:00:00Z"}),
            ),
            inventory_job("plain", serde_json::json!({"Format": "JSON"})),
        ];
        let mut request = JobRequest {
            kind: "inventory-retrieval".into(),
            ..JobRequest::default()
        };
        let found = |r: &JobRequest| find_started_job(&jobs, r, since).map(|j| j.to_string());
        assert_eq!(found(&request).as_deref(), Some("plain"));
        request.format = Some("CSV".into());
        assert_eq!(found(&request).as_deref(), Some("csv"));
        request.format = None;
        request.inventory_retrieval_parameters = Some(crate::glacier::InventoryParameters {
            limit: Some("10".into()),
            ..Default::default()
        });
        assert_eq!(found(&request).as_deref(), Some("limited"));
        request.inventory_retrieval_parameters = Some(crate::glacier::InventoryParameters {
            start_date: Some("2025-01-01T00:00:00.000Z".into()),
            ..Default::default()
        });
        assert_eq!(found(&request).as_deref(), Some("dated"), "same instant");
        request.inventory_retrieval_parameters = Some(crate::glacier::InventoryParameters {
            marker: Some("M".into()),
            ..Default::default()
        });
        assert_eq!(
            found(&request),
            None,
            "a continuation's page cannot be told"
        );
    }

    #[test]
    fn a_lost_initiate_job_finds_the_same_retrieval_only() {
        let since = OffsetDateTime::parse("2026-01-01T12:00:00Z", &Rfc3339).expect("date");
        let jobs = vec![
            job(
                "old",
                "A",
                "0-3145727",
                "Standard",
                "2026-01-01T11:00:00.000Z",
            ),
            job(
                "other-archive",
                "B",
                "0-3145727",
                "Standard",
                "2026-01-01T12:01:00.000Z",
            ),
            job(
                "other-tier",
                "A",
                "0-3145727",
                "Bulk",
                "2026-01-01T12:01:00.000Z",
            ),
            job(
                "part",
                "A",
                "0-1048575",
                "Standard",
                "2026-01-01T12:01:00.000Z",
            ),
            job(
                "whole",
                "A",
                "0-3145727",
                "Standard",
                "2026-01-01T12:01:00.000Z",
            ),
        ];
        let mut req = JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some("A".into()),
            ..JobRequest::default()
        };
        let found = find_started_job(&jobs, &req, since);
        assert_eq!(found.as_ref().map(|j| j.as_str()), Some("whole"));
        req.retrieval_byte_range = Some("0-1048575".into());
        let found = find_started_job(&jobs, &req, since);
        assert_eq!(found.as_ref().map(|j| j.as_str()), Some("part"));
        req.tier = Some("Expedited".into());
        assert_eq!(find_started_job(&jobs, &req, since), None);
    }
}
