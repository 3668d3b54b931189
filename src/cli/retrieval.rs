//! What archive and inventory retrievals share: starting a job, waiting for it, and
//! checking that a job can give what is asked of it.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Global, note};
use crate::config::{Env, ProcessEnv};
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobId, JobRequest};

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

/// Starts a job. If the answer is lost after the request went out, the job may exist
/// (and be billed): look for it with ListJobs before sending the request again, so a lost
/// answer never starts a second retrieval.
fn initiate_job(
    client: &Client,
    global: &Global,
    vault: &str,
    request: &JobRequest,
) -> Result<JobId> {
    let sent = OffsetDateTime::now_utc();
    let err = match client.initiate_job(vault, request) {
        Ok(id) => return Ok(id),
        Err(e) if crate::glacier::outcome_unknown(&e) => e,
        Err(e) => return Err(e),
    };
    let chain = crate::error::chain(&err);
    // Not knowing is not "nothing started": the first request may have started a billed
    // retrieval, and the natural re-run would start a second one.
    let jobs = client
        .list_jobs(vault, None, None)
        .map_err(|e| Error::WithHint {
            error: Box::new(e),
            hint: format!(
                "the answer to InitiateJob was lost ({chain}), so a retrieval may have started: check 'glacier jobs list {vault}' before starting it again"
            ),
        })?;
    match find_started_job(&jobs, request, sent - RECENT) {
        Some(id) => {
            note(
                global,
                &format!(
                    "the answer to InitiateJob was lost ({chain}), but Glacier lists the job it started: {id}"
                ),
            );
            Ok(id)
        }
        None => {
            note(
                global,
                &format!(
                    "the answer to InitiateJob was lost ({chain}) and Glacier lists no job it started: sending it again"
                ),
            );
            client.initiate_job(vault, request)
        }
    }
}

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
    request: &JobRequest,
    action: &str,
    what: &str,
    wait: bool,
) -> Result<()> {
    let job_id = initiate_job(client, global, vault, request)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
