//! The export manifest: `DIR/glacier-export-manifest.csv` and `.jsonl`, one row per
//! archive in scope (archive ID, path, size, tree hash, creation date, description,
//! status), rewritten at the end of every run from the inventory and the journal.
//! Written to temporary names and renamed, so a reader never sees half a manifest.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::journal::{self, State};
use super::{Collisions, InventoryFile, Selection, items};
use crate::error::{Error, Result};

/// CSV file name.
pub const CSV_NAME: &str = "glacier-export-manifest.csv";
/// JSON lines file name.
pub const JSONL_NAME: &str = "glacier-export-manifest.jsonl";
/// Temporary name of the CSV manifest while it is written.
pub const CSV_TMP_NAME: &str = "glacier-export-manifest.csv.part";
/// Temporary name of the JSON lines manifest while it is written.
pub const JSONL_TMP_NAME: &str = "glacier-export-manifest.jsonl.part";

/// One CSV field, quoted when it needs to be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes both manifests into `root`. `failed` maps archive IDs to their failure.
pub fn write(
    root: &Path,
    inv: &InventoryFile,
    names: &Collisions,
    selection: &Selection,
    state: &State,
    failed: &HashMap<String, String>,
) -> Result<()> {
    let csv_path = root.join(CSV_NAME);
    let jsonl_path = root.join(JSONL_NAME);
    // Both names are reserved: no archive is ever exported under them
    // (`naming::RESERVED_FILES`).
    let csv_tmp = root.join(CSV_TMP_NAME);
    let jsonl_tmp = root.join(JSONL_TMP_NAME);
    let open = |p: &Path| -> Result<BufWriter<File>> {
        File::create(p)
            .map(BufWriter::new)
            .map_err(|e| Error::io(p, e))
    };
    let mut csv = open(&csv_tmp)?;
    let mut jsonl = open(&jsonl_tmp)?;
    let io_csv = |e| Error::io(&csv_tmp, e);
    writeln!(
        csv,
        "archive_id,path,size,tree_hash,creation_date,description,status"
    )
    .map_err(io_csv)?;
    for it in items(inv, names, selection)? {
        let it = it?;
        let status = if state.exported.contains(&journal::key(&it.archive_id)) {
            "exported"
        } else if failed.contains_key(&it.archive_id) {
            "failed"
        } else {
            "pending"
        };
        writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            csv_field(&it.archive_id),
            csv_field(&it.name),
            it.size,
            it.tree_hash,
            csv_field(&it.creation_date),
            csv_field(&it.description),
            status
        )
        .map_err(|e| Error::io(&csv_tmp, e))?;
        let v = serde_json::json!({
            "archive_id": it.archive_id,
            "path": it.name,
            "size": it.size,
            "tree_hash": it.tree_hash,
            "creation_date": it.creation_date,
            "description": it.description,
            "status": status,
        });
        writeln!(jsonl, "{v}").map_err(|e| Error::io(&jsonl_tmp, e))?;
    }
    for (w, tmp, path) in [(csv, &csv_tmp, &csv_path), (jsonl, &jsonl_tmp, &jsonl_path)] {
        let f = w.into_inner().map_err(|e| Error::io(tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(tmp, e))?;
        std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}
