//! `vault export`: every archive of a vault out, named, verified, resumable over days.
//!
//! Built on the vault-scale pieces export, purge and plan share ([`crate::vault`]: the
//! inventory source, names, selection, journal and manifest), this module holds
//! - the workflow ([`run()`], [`dry_run()`]): options in, a report out, progress and
//!   notes through a [`Reporter`](crate::progress::Reporter), as every workflow does,
//! - the scheduler ([`scheduler`]) that keeps jobs outstanding within limits, finds
//!   finished ones with ListJobs, and hands them to a destination,
//! - destinations ([`destination`]): a directory, or an S3 bucket ([`s3`]),
//! - pacing by bytes per day and re-requests of output about to expire (`pacing`),
//! - the dry run's plan ([`plan`]).
//!
//! Nothing here prints: notes and progress go to the reporter the CLI gives.

pub mod destination;
mod dry_run;
mod pacing;
pub mod s3;
pub mod scheduler;
mod workflow;

use crate::error::Result;
use crate::vault::{Collisions, InventoryFile, Selection, items, journal, naming};

pub use destination::{Destination, DirDestination};
pub use dry_run::{Planned, Preview, dry_run};
pub use s3::{S3Destination, S3Target};
pub use workflow::{Options, Report, To, run};

/// What a dry run reports: the plan, with nothing sent.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Plan {
    /// Archives in the inventory.
    pub inventory_archives: u64,
    /// Archives in scope.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
    /// In scope and already exported (journal).
    pub already_exported: u64,
    /// In scope with a journaled job that may still be valid.
    pub jobs_journaled: u64,
    /// InitiateJob requests the run will make (at least; expired jobs add one each).
    pub initiate_job_requests: u64,
    /// GetJobOutput requests at the given chunk size.
    pub get_job_output_requests: u64,
    /// Bytes to retrieve.
    pub bytes_to_retrieve: u64,
    /// In-scope archives whose name was shared and got a suffix.
    pub renamed: u64,
    /// In-scope archives named by their archive ID (no usable name).
    pub named_by_id: u64,
    /// The retrieval tier.
    pub tier: String,
    /// Up to 20 examples: (archive ID, name) of renamed archives.
    pub renamed_examples: Vec<(String, String)>,
}

/// Plans without sending anything.
pub fn plan(
    inv: &InventoryFile,
    names: &Collisions,
    selection: &Selection,
    state: &journal::State,
    chunk_size: u64,
    tier: &str,
) -> Result<Plan> {
    let mut p = Plan {
        tier: tier.to_string(),
        ..Plan::default()
    };
    for e in inv.entries()? {
        let _ = e?;
        p.inventory_archives += 1;
    }
    for it in items(inv, names, selection)? {
        let it = it?;
        p.archives += 1;
        p.bytes = p.bytes.saturating_add(it.size);
        let raw = names.named(&it.description, &it.archive_id);
        if raw.source == naming::NameSource::ArchiveId {
            p.named_by_id += 1;
        }
        if names.is_shared(&raw.path) {
            p.renamed += 1;
            if p.renamed_examples.len() < 20 {
                p.renamed_examples
                    .push((it.archive_id.clone(), it.name.clone()));
            }
        }
        let k = journal::key(&it.archive_id);
        if state.exported.contains(&k) {
            p.already_exported += 1;
            continue;
        }
        if state.jobs.contains_key(&k) {
            p.jobs_journaled += 1;
        } else {
            p.initiate_job_requests += 1;
        }
        p.bytes_to_retrieve = p.bytes_to_retrieve.saturating_add(it.size);
        p.get_job_output_requests += it.size.div_ceil(chunk_size).max(1);
    }
    Ok(p)
}
