//! What the vault-scale commands (export, purge, plan) share, in one place:
//! - the inventory source ([`inventory`]: a local file, an inventory job's output, or a
//!   new inventory job journaled so a rerun does not start another),
//! - names from descriptions ([`naming`]) or from a file ([`names_file`]), and what a run
//!   covers ([`select`]: filters and shards), computed while streaming the inventory so a
//!   million archives never sit in memory,
//! - the journal ([`journal`]: one writer, one reader) that makes reruns continue instead
//!   of paying twice, and that purge's `deleted` records share,
//! - the manifest ([`manifest`]) an export leaves and `purge --only-exported` reads.
//!
//! Nothing here prints: notes go through a callback the caller gives.

pub mod inventory;
pub mod journal;
pub mod manifest;
pub mod names_file;
pub mod naming;
pub mod select;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::inventory::{Entry, Unusable};

pub use inventory::{InventoryFile, InventorySource};
pub use naming::Collisions;
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
/// descriptions': the count keeps the file, so every later pass ([`items`],
/// [`plan`](crate::export::plan), the manifest) names archives the same way.
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

/// Seconds since the Unix epoch as RFC 3339, for journal times.
pub fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
