//! The export manifest: `DIR/glacier-export-manifest.csv` and `.jsonl`, one row per
//! archive in scope (archive ID, path, size, tree hash, creation date, description,
//! status), rewritten at the end of every run from the inventory and the journal.
//! Written to temporary names and renamed, so a reader never sees half a manifest.
//!
//! A sharded run (`--shard K/N`) writes its own manifest,
//! `glacier-export-manifest.shard-K-of-N.csv` and `.jsonl`, then rebuilds the merged
//! `glacier-export-manifest.csv`/`.jsonl` from every shard manifest of N present, so the
//! merged one is whole once every shard has run. Into a directory, shards share DIR's
//! journal and its lock, so they run one after another and the rebuild never races; in a
//! bucket each shard has its own journal and the rebuild is repeated until no shard
//! manifest changed under it (`S3Destination::upload_manifest`).
//!
//! Archives that failed are listed in `glacier-export-failed.csv` (with `.shard-K-of-N`
//! for a shard): archive ID, description, size, reason. A run with none failed removes
//! the file, so its presence always means "something to look at".

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::journal::{self, State};
use super::select::Shard;
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
/// The failed-archives file.
pub const FAILED_NAME: &str = "glacier-export-failed.csv";
/// Temporary name of the failed-archives file while it is written.
pub const FAILED_TMP_NAME: &str = "glacier-export-failed.csv.part";

/// The name a shard gives one of the files above: `.shard-K-of-N` before the extension
/// (`glacier-export-manifest.shard-2-of-3.csv`); unsharded runs keep `base`.
pub fn shard_name(base: &str, shard: Option<&Shard>) -> String {
    match (shard, base.split_once('.')) {
        (Some(s), Some((stem, ext))) => format!("{stem}.shard-{}-of-{}.{ext}", s.k, s.n),
        _ => base.to_string(),
    }
}

/// The temporary name of `name` while it is written.
pub fn tmp_name(name: &str) -> String {
    format!("{name}.part")
}

/// What [`write()`] left in its directory.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The failed-archives file, if any archive failed.
    pub failed_file: Option<std::path::PathBuf>,
    /// How many archives it lists.
    pub failed: u64,
}

/// One CSV field, quoted when it needs to be (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes this run's manifests (and failed-archives file) into `root`, then, for a shard,
/// the merged manifests. `failed` maps archive IDs to their failure.
pub fn write(
    root: &Path,
    inv: &InventoryFile,
    names: &Collisions,
    selection: &Selection,
    state: &State,
    failed: &HashMap<String, String>,
) -> Result<Written> {
    let shard = selection.shard.as_ref();
    // Every name here is reserved: no archive is ever exported under it
    // (`naming::is_reserved_file`).
    let csv_path = root.join(shard_name(CSV_NAME, shard));
    let jsonl_path = root.join(shard_name(JSONL_NAME, shard));
    let failed_path = root.join(shard_name(FAILED_NAME, shard));
    let csv_tmp = root.join(tmp_name(&shard_name(CSV_NAME, shard)));
    let jsonl_tmp = root.join(tmp_name(&shard_name(JSONL_NAME, shard)));
    let failed_tmp = root.join(tmp_name(&shard_name(FAILED_NAME, shard)));
    let mut csv = open(&csv_tmp)?;
    let mut jsonl = open(&jsonl_tmp)?;
    let mut bad = open(&failed_tmp)?;
    writeln!(csv, "{CSV_HEADER}").map_err(|e| Error::io(&csv_tmp, e))?;
    writeln!(bad, "archive_id,description,size,reason").map_err(|e| Error::io(&failed_tmp, e))?;
    let mut written = Written::default();
    for it in items(inv, names, selection)? {
        let it = it?;
        let reason = failed.get(&it.archive_id);
        let status = if state.exported.contains(&journal::key(&it.archive_id)) {
            "exported"
        } else if reason.is_some() {
            "failed"
        } else {
            "pending"
        };
        if let (Some(why), "failed") = (reason, status) {
            written.failed += 1;
            writeln!(
                bad,
                "{},{},{},{}",
                csv_field(&it.archive_id),
                csv_field(&it.description),
                it.size,
                csv_field(why)
            )
            .map_err(|e| Error::io(&failed_tmp, e))?;
        }
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
    finish(csv, &csv_tmp, &csv_path)?;
    finish(jsonl, &jsonl_tmp, &jsonl_path)?;
    if written.failed > 0 {
        finish(bad, &failed_tmp, &failed_path)?;
        written.failed_file = Some(failed_path);
    } else {
        // An earlier run's list stays until a run gets through (`remove_failed`): a run
        // that stopped early knows nothing new about those archives.
        drop(bad);
        remove_if_there(&failed_tmp)?;
    }
    if let Some(s) = shard {
        merge_dir(root, s)?;
    }
    Ok(written)
}

/// Removes the failed-archives file of `shard` from `root`: called after a run that got
/// through with no archive failed, so the file exists exactly when there is something
/// to look at.
pub fn remove_failed(root: &Path, shard: Option<&Shard>) -> Result<()> {
    remove_if_there(&root.join(shard_name(FAILED_NAME, shard)))
}

/// The CSV manifest's header line.
pub const CSV_HEADER: &str = "archive_id,path,size,tree_hash,creation_date,description,status";

fn open(p: &Path) -> Result<BufWriter<File>> {
    File::create(p)
        .map(BufWriter::new)
        .map_err(|e| Error::io(p, e))
}

/// Flushes, syncs and renames a temporary file to its name.
fn finish(w: BufWriter<File>, tmp: &Path, path: &Path) -> Result<()> {
    let f = w.into_inner().map_err(|e| Error::io(tmp, e.into_error()))?;
    f.sync_all().map_err(|e| Error::io(tmp, e))?;
    std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))
}

fn remove_if_there(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(p, e)),
        _ => Ok(()),
    }
}

/// Rebuilds the merged manifests in `root` from every shard manifest of `shard.n` there.
/// Written under this shard's temporary names, so two writers never share one.
fn merge_dir(root: &Path, shard: &Shard) -> Result<()> {
    for base in [CSV_NAME, JSONL_NAME] {
        let tmp = root.join(merged_tmp_name(base, shard));
        let mut out = Merger::new(open(&tmp)?, base == CSV_NAME);
        for k in 1..=shard.n {
            let part = root.join(shard_name(base, Some(&Shard { k, n: shard.n })));
            let mut f = match File::open(&part) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&part, e)),
            };
            out.next_file();
            std::io::copy(&mut f, &mut out).map_err(|e| Error::io(&part, e))?;
        }
        out.header_if_empty().map_err(|e| Error::io(&tmp, e))?;
        finish(out.into_inner(), &tmp, &root.join(base))?;
    }
    Ok(())
}

/// The temporary name under which `shard` writes the merged `base`
/// (`glacier-export-manifest.csv.shard-2-of-3.part`): each shard its own.
pub fn merged_tmp_name(base: &str, shard: &Shard) -> String {
    format!("{base}.shard-{}-of-{}.part", shard.k, shard.n)
}

/// Concatenates manifests, keeping only the first CSV header: each file's first line is
/// dropped after the first file's.
#[derive(Debug)]
pub struct Merger<W: Write> {
    out: W,
    csv: bool,
    files: u64,
    skipping: bool,
}

impl<W: Write> Merger<W> {
    /// A merger into `out`; `csv` says whether the files have a header line.
    pub fn new(out: W, csv: bool) -> Self {
        Merger {
            out,
            csv,
            files: 0,
            skipping: false,
        }
    }

    /// Starts the next file.
    pub fn next_file(&mut self) {
        self.files += 1;
        self.skipping = self.csv && self.files > 1;
    }

    /// The writer, after the last file.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes the header alone when no file was merged (an empty CSV manifest).
    pub fn header_if_empty(&mut self) -> std::io::Result<()> {
        if self.csv && self.files == 0 {
            writeln!(self.out, "{CSV_HEADER}")?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Merger<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.skipping {
            if let Some(i) = buf.iter().position(|&b| b == b'\n') {
                self.skipping = false;
                self.out.write_all(&buf[i + 1..])?;
            }
            return Ok(buf.len());
        }
        self.out.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_and_merging_keep_one_header_whatever_the_chunks() {
        let s = Shard { k: 2, n: 3 };
        assert_eq!(
            shard_name(CSV_NAME, Some(&s)),
            "glacier-export-manifest.shard-2-of-3.csv"
        );
        assert_eq!(shard_name(JSONL_NAME, None), JSONL_NAME);
        assert_eq!(
            shard_name(FAILED_NAME, Some(&s)),
            "glacier-export-failed.shard-2-of-3.csv"
        );
        let mut m = Merger::new(Vec::new(), true);
        m.next_file();
        m.write_all(b"h\na\n").expect("write");
        m.next_file();
        // The second file's header arrives in pieces.
        for piece in [&b"h"[..], b"", b"\nb", b"\n"] {
            m.write_all(piece).expect("write");
        }
        assert_eq!(m.into_inner(), b"h\na\nb\n");
        let mut m = Merger::new(Vec::new(), true);
        m.header_if_empty().expect("write");
        assert_eq!(m.into_inner(), format!("{CSV_HEADER}\n").as_bytes());
        let mut m = Merger::new(Vec::new(), false);
        for f in [&b"{\"a\":1}\n"[..], b"{\"b\":2}\n"] {
            m.next_file();
            m.write_all(f).expect("write");
        }
        assert_eq!(m.into_inner(), b"{\"a\":1}\n{\"b\":2}\n");
    }
}
