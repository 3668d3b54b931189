//! Finding the scheduler's jobs at a cost that follows what is outstanding, not what the
//! vault ever held: ListJobs pages (1,000 jobs each, the most Glacier gives) from a
//! remembered frontier, stopping once every job asked about is found; DescribeJob, one
//! call per job, when fewer jobs are asked about than a listing would take pages.
//!
//! Glacier lists jobs "sorted by job initiation time" and a `marker` an earlier page
//! returned starts a listing at that job (API Reference, "List Jobs"). Jobs started later
//! come after it, so once every job on the pages before a marker is downloaded, later
//! polls start there. Nothing here relies on that order for correctness: a job not found
//! from the frontier is looked for again from the start before it counts as gone, and a
//! marker Glacier no longer takes (its job expired) sends the listing back to the start.
//! A marker the listing already met is an error the caller rides out like a transient
//! fault, never the end of the listing: jobs after it would go unfound, and a job not
//! found counts as gone and is bought again.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription, JobId};

/// Jobs a ListJobs page holds at most (API Reference, "List Jobs": `limit`, 1 to 1,000).
pub(super) const PAGE: u32 = 1000;

/// DescribeJob is used when at most this many jobs are asked about (or fewer than the
/// pages the last listing took): one request each, never more than a small listing.
const DESCRIBE_AT_MOST: usize = 2;

/// Where the next listing starts, and what the last one cost.
#[derive(Debug, Default)]
pub(super) struct Finder {
    /// The marker of the first page that may hold a job not yet found ready; `None`: the
    /// start of the listing.
    frontier: Option<String>,
    /// Pages the last full or partial listing took.
    pages_last: usize,
}

/// What a look found: each job asked about that Glacier still knows, by ID. A job asked
/// about and absent is gone (expired): the listing reached the end from the start, or
/// DescribeJob answered 404.
pub(super) type Found = HashMap<String, JobDescription>;

impl Finder {
    /// Sets the frontier (after a listing of the whole vault found nothing of ours
    /// before it).
    pub(super) fn start_at(&mut self, marker: Option<String>, pages: usize) {
        self.frontier = marker;
        self.pages_last = pages;
    }

    /// Looks up `wanted` (job IDs). The frontier moves to the first page holding one of
    /// them still running, or else to the page the listing ended on.
    pub(super) fn find(
        &mut self,
        client: &Client,
        vault: &str,
        wanted: &HashSet<String>,
    ) -> Result<Found> {
        if wanted.is_empty() {
            return Ok(Found::new());
        }
        if wanted.len() <= DESCRIBE_AT_MOST || wanted.len() < self.pages_last {
            return describe_each(client, vault, wanted);
        }
        self.list(client, vault, wanted)
    }

    fn list(&mut self, client: &Client, vault: &str, wanted: &HashSet<String>) -> Result<Found> {
        let mut found = Found::new();
        let mut from_start = self.frontier.is_none();
        let mut restarted = false;
        let mut marker = self.frontier.clone();
        let mut pages = 0;
        let mut seen = HashSet::new();
        // The start of the first page holding one of ours still running, and of the
        // page the listing ended on.
        let mut first_running: Option<Option<String>> = None;
        let mut page_start = marker.clone();
        loop {
            let page = match client.list_jobs_page(vault, Some(PAGE), marker.as_deref()) {
                Ok(p) => p,
                // A marker Glacier no longer takes (the job it names expired): from the
                // start. Transient faults go to the caller, which rides them out.
                Err(e) if marker.is_some() && !from_start && !e.is_transient() => {
                    from_start = true;
                    restarted = true;
                    marker = None;
                    page_start = None;
                    // The pass from the start meets those markers again: not a loop.
                    seen.clear();
                    continue;
                }
                Err(e) => return Err(e),
            };
            pages += 1;
            for j in page.job_list.unwrap_or_default() {
                let Some(id) = j.job_id.as_deref() else {
                    continue;
                };
                if wanted.contains(id) {
                    if !j.is_completed() && first_running.is_none() {
                        first_running = Some(page_start.clone());
                    }
                    found.insert(id.to_string(), j);
                }
            }
            if found.len() == wanted.len() {
                break;
            }
            let next = match next_marker(&mut seen, vault, page.marker) {
                Ok(next) => next,
                // A repeat met from the frontier ends that pass like its last page (a
                // look from the start follows) rather than repeat it at every poll; from
                // the start it is an error (transient: the poll is tried again).
                Err(_) if !from_start => None,
                Err(e) => return Err(e),
            };
            match next {
                Some(m) => {
                    page_start = Some(m.clone());
                    marker = Some(m);
                }
                None if !from_start => {
                    // Not all found from the frontier: look from the start before
                    // calling any gone (only an order other than Glacier's documented
                    // one, or jobs of an earlier run, get here).
                    from_start = true;
                    restarted = true;
                    marker = None;
                    page_start = None;
                    seen.clear();
                }
                None => break,
            }
        }
        // After a second pass from the start the first pass's pages are not ordered
        // with it: the next listing starts at the start again.
        self.frontier = match restarted {
            true => None,
            false => first_running.unwrap_or(page_start),
        };
        self.pages_last = pages;
        Ok(found)
    }
}

/// DescribeJob for each of `wanted`; a 404 leaves the job out (gone).
fn describe_each(client: &Client, vault: &str, wanted: &HashSet<String>) -> Result<Found> {
    let mut found = Found::new();
    for id in wanted {
        match client.describe_job(vault, &JobId::from_server(id.clone())) {
            Ok(j) => {
                found.insert(id.clone(), j);
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Every job of the vault, a page of [`PAGE`] at a time, with the start marker of the
/// last page (where a later listing of newer jobs may begin) and the page count.
pub(super) fn list_all(
    client: &Client,
    vault: &str,
) -> Result<(Vec<JobDescription>, Option<String>, usize)> {
    let mut all = Vec::new();
    let mut marker: Option<String> = None;
    let mut last_start = None;
    let mut pages = 0;
    let mut seen = HashSet::new();
    loop {
        let page = client.list_jobs_page(vault, Some(PAGE), marker.as_deref())?;
        pages += 1;
        all.extend(page.job_list.unwrap_or_default());
        match next_marker(&mut seen, vault, page.marker)? {
            Some(m) => {
                last_start = Some(m.clone());
                marker = Some(m);
            }
            None => return Ok((all, last_start, pages)),
        }
    }
}

/// The marker to follow after a ListJobs page: `None` on the last page. One the listing
/// already met would page for ever: an error, transient (a later listing may page
/// right; the callers ride it out), as `Client::list_all_jobs` makes it.
fn next_marker(
    seen: &mut HashSet<String>,
    vault: &str,
    marker: Option<String>,
) -> Result<Option<String>> {
    match marker.filter(|m| !m.is_empty()) {
        Some(m) if !seen.insert(m.clone()) => {
            let shown: String = m.chars().take(80).collect();
            Err(Error::Transport {
                what: format!(
                    "ListJobs on vault '{vault}': Glacier sent marker {shown:?} a second time"
                ),
                source: "a listing that pages for ever".into(),
            })
        }
        m => Ok(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_marker_is_a_transient_error_not_the_end_of_the_listing() {
        let mut seen = HashSet::new();
        assert_eq!(next_marker(&mut seen, "v", None).ok(), Some(None));
        assert_eq!(
            next_marker(&mut seen, "v", Some(String::new())).ok(),
            Some(None)
        );
        let first = next_marker(&mut seen, "v", Some("M1".into()));
        assert_eq!(first.ok().flatten().as_deref(), Some("M1"));
        let again = next_marker(&mut seen, "v", Some("M1".into())).expect_err("repeated");
        assert!(again.is_transient(), "{again}");
        assert!(
            crate::error::chain(&again).contains("a second time"),
            "{again}"
        );
    }
}
