//! Vault-scale work: every archive of a vault out, named, verified, resumable over days.
//!
//! The pieces, each reusable by purge and by the S3 migration:
//! - the inventory source ([`inventory`]: a local file, an inventory job's output, or a
//!   new inventory job journaled so a rerun does not start another),
//! - names ([`naming`]) and what a run covers ([`select`]), computed while streaming the
//!   inventory so a million archives never sit in memory,
//! - the journal ([`journal`]) that makes reruns continue instead of paying twice,
//! - the scheduler ([`scheduler`]) that keeps jobs outstanding within limits, finds
//!   finished ones with ListJobs, and hands them to a destination,
//! - destinations ([`destination`]): a directory, or an S3 bucket ([`s3`]),
//! - the manifest ([`manifest`]).
//!
//! Nothing here prints: notes go through a callback the CLI gives.

pub mod destination;
pub mod inventory;
pub mod journal;
pub mod manifest;
pub mod names_file;
pub mod naming;
mod pacing;
pub mod s3;
pub mod scheduler;
pub mod select;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::inventory::{Entry, Unusable};

pub use destination::{Destination, DirDestination};
pub use inventory::{InventoryFile, InventorySource};
pub use naming::Collisions;
pub use s3::{S3Destination, S3Target};
pub use select::Selection;

/// The directory inside DIR where the export keeps its journal and temporary files.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(naming::RESERVED)
}

/// One archive in scope, with its final name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `ArchiveId`.
    pub archive_id: String,
    /// Final relative path (after collision resolution).
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// Inventory tree hash (lowercase hex).
    pub tree_hash: String,
    /// `CreationDate`.
    pub creation_date: String,
    /// `ArchiveDescription`.
    pub description: String,
    /// Modification time from the description, Unix seconds.
    pub mtime: Option<i64>,
}

/// First pass over the inventory: every archive's name counted, whatever the selection,
/// so names do not depend on sharding or filters.
pub fn count_names(inv: &InventoryFile) -> Result<Collisions> {
    count_names_and_unusable(inv).map(|(c, _)| c)
}

/// [`count_names`], also returning the entries skipped for lacking an archive ID, size or
/// tree hash (every later pass skips the same ones), for the caller to report.
pub fn count_names_and_unusable(inv: &InventoryFile) -> Result<(Collisions, Unusable)> {
    count_names_from(inv, None)
}

/// [`count_names_and_unusable`] with the names of a `--names FILE` overriding the
/// descriptions': the count keeps the file, so every later pass ([`items`], [`plan`], the
/// manifest) names archives the same way.
pub fn count_names_from(
    inv: &InventoryFile,
    names_file: Option<names_file::NamesFile>,
) -> Result<(Collisions, Unusable)> {
    let mut c = Collisions::with_names_file(names_file);
    let mut entries = inv.entries()?;
    for e in entries.by_ref() {
        let e = e?;
        let n = c.named(&e.description, &e.archive_id);
        c.add(&n.path, &e.creation_date);
    }
    Ok((c, entries.unusable().clone()))
}

/// Second pass: the archives in scope, in inventory order, streamed.
pub fn items<'a>(
    inv: &InventoryFile,
    names: &'a Collisions,
    selection: &'a Selection,
) -> Result<impl Iterator<Item = Result<Item>> + 'a> {
    let entries = inv.entries()?;
    Ok(entries.filter_map(move |e| {
        let e: Entry = match e {
            Ok(e) => e,
            Err(err) => return Some(Err(err)),
        };
        let n = names.named(&e.description, &e.archive_id);
        let name = names.resolve(&n.path, &e.creation_date, &e.archive_id);
        match selection.admits(&e.archive_id, &name, &e.creation_date) {
            Ok(false) => None,
            Err(err) => Some(Err(err)),
            Ok(true) => Some(Ok(Item {
                archive_id: e.archive_id,
                name,
                size: e.size,
                tree_hash: e.tree_hash.to_ascii_lowercase(),
                creation_date: e.creation_date,
                description: e.description,
                mtime: n.mtime,
            })),
        }
    }))
}

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

/// Seconds since the Unix epoch as RFC 3339, for journal times.
pub fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
