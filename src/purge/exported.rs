//! `--only-exported`: where a vault's archives were exported to, and which of them that
//! export records as exported and verified.
//!
//! Purge deletes an archive under `--only-exported` only when the export's record of it
//! matches the purge inventory's size and tree hash, so a copy of another version (or a
//! record from a different inventory) never licenses a deletion. The place is an enum
//! with one reader per kind: a directory written by `glacier vault export`
//! ([`DirExport`]) or a bucket it migrated to (`s3://BUCKET/PREFIX`, [`S3Export`]: the
//! bucket's manifest, each object checked with HeadObject). This module reads; it never
//! writes into the export.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Action, Error, Result, Setting};
use crate::export::{S3Destination, S3Target};
use crate::s3::{self, StorageClass};
use crate::sync::LockExt;
use crate::vault::journal::{self, Record};

/// Archives an export records as exported and verified: (key, size, tree hash) rows.
///
/// Memory: 56 bytes an archive in one sorted table (a hash map of the same took about
/// 107), sorted once at the first question after an insert.
#[derive(Debug, Default)]
pub struct Verified(Mutex<Rows>);

/// One row: the archive's key (big-endian), its size and tree hash.
type Row = ([u8; 16], u64, [u8; 32]);

#[derive(Debug, Default)]
struct Rows {
    rows: Vec<Row>,
    sorted: bool,
}

impl Verified {
    /// Records an archive as exported with this size and tree hash (hex).
    pub fn insert(&mut self, archive_id: &str, size: u64, tree_hash: &str) -> Result<()> {
        let mut h = [0u8; 32];
        hex::decode_to_slice(tree_hash.trim(), &mut h).map_err(|_| {
            Error::Input(format!(
                "archive {archive_id}: export record has a bad tree hash '{tree_hash}'"
            ))
        })?;
        let r = self.0.get_mut().unwrap_or_else(PoisonError::into_inner);
        r.rows
            .push((journal::key(archive_id).to_be_bytes(), size, h));
        r.sorted = false;
        Ok(())
    }

    /// The rows, sorted and without repeats.
    fn rows(&self) -> MutexGuard<'_, Rows> {
        let mut r = self.0.lock_unpoisoned();
        if !r.sorted {
            r.rows.sort_unstable();
            r.rows.dedup();
            r.rows.shrink_to_fit();
            r.sorted = true;
        }
        r
    }

    /// Whether the archive was exported with exactly this size and tree hash (by a
    /// record still verified: a copy of exactly those bytes exists).
    pub fn admits(&self, archive_id: &str, size: u64, tree_hash: &str) -> bool {
        let mut h = [0u8; 32];
        if hex::decode_to_slice(tree_hash.trim(), &mut h).is_err() {
            return false;
        }
        let row = (journal::key(archive_id).to_be_bytes(), size, h);
        self.rows().rows.binary_search(&row).is_ok()
    }

    /// How many archives are recorded.
    pub fn len(&self) -> usize {
        let r = self.rows();
        let mut n = 0;
        let mut last = None;
        for row in &r.rows {
            if last != Some(&row.0) {
                n += 1;
                last = Some(&row.0);
            }
        }
        n
    }

    /// Whether no archive is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.lock_unpoisoned().rows.is_empty()
    }
}

/// Something that can say which archives were exported and verified.
pub trait ExportRecord {
    /// The place, for messages (`/mnt/backup`, `s3://bucket/prefix`).
    fn describe(&self) -> String;
    /// Reads the record.
    fn verified(&self) -> Result<Verified>;
}

/// Where a vault was exported (`--only-exported PLACE`).
#[derive(Debug, Clone)]
pub enum ExportedTo {
    /// A directory `glacier vault export` wrote.
    Dir(PathBuf),
    /// A bucket and prefix `glacier vault export VAULT s3://BUCKET/PREFIX` migrated to.
    S3(S3Target),
}

impl ExportedTo {
    /// Parses the value of `--only-exported`.
    pub fn parse(s: &str) -> Result<ExportedTo> {
        match S3Target::parse(s) {
            Some(target) => Ok(ExportedTo::S3(target?)),
            None => Ok(ExportedTo::Dir(PathBuf::from(s))),
        }
    }

    /// Whether the place is a bucket (and so needs an S3 client).
    pub fn is_s3(&self) -> bool {
        matches!(self, ExportedTo::S3(_))
    }

    /// The reader for this place; `connect` builds the S3 client, called only for a
    /// bucket.
    pub fn record(
        &self,
        connect: impl FnOnce() -> Result<Arc<s3::Client>>,
    ) -> Result<Box<dyn ExportRecord>> {
        Ok(match self {
            ExportedTo::Dir(d) => Box::new(DirExport { root: d.clone() }),
            ExportedTo::S3(t) => Box::new(S3Export {
                // Purge only reads: the class and part size are never used to write.
                dest: S3Destination::new(
                    connect()?,
                    t.clone(),
                    StorageClass::Standard,
                    s3::MIN_PART_SIZE,
                ),
                target: t.clone(),
            }),
        })
    }
}

/// A bucket an export migrated to: its manifest's `exported` records whose object is
/// still there with the same archive ID, tree hash and size (see
/// [`S3Destination::exported_in_bucket`]).
#[derive(Debug, Clone)]
pub struct S3Export {
    dest: S3Destination,
    target: S3Target,
}

impl ExportRecord for S3Export {
    fn describe(&self) -> String {
        self.target.to_string()
    }

    fn verified(&self) -> Result<Verified> {
        let mut v = Verified::default();
        self.dest
            .exported_in_bucket(&mut |o| v.insert(&o.archive_id, o.size, &o.tree_hash))?;
        Ok(v)
    }
}

/// A directory written by `glacier vault export`: its journal
/// (`DIR/.glacier-export/journal.jsonl`) lists each archive exported after its tree
/// hash and size were checked, and the file must still be in DIR with that size.
#[derive(Debug, Clone)]
pub struct DirExport {
    /// The export's DIR.
    pub root: PathBuf,
}

impl ExportRecord for DirExport {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn verified(&self) -> Result<Verified> {
        let path = crate::vault::state_dir(&self.root).join("journal.jsonl");
        let f = File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Input(format!(
                    "{} {}: no export journal there ({} is missing); export the vault into it with `{}` first",
                    Setting::OnlyExported,
                    self.root.display(),
                    path.display(),
                    Action::ExportVault
                ))
            } else {
                Error::io(&path, e)
            }
        })?;
        read_journal(&self.root, &path, BufReader::new(f))
    }
}

/// Reads an export journal without changing it (a torn last line is skipped, not cut).
fn read_journal(root: &Path, path: &Path, mut r: impl BufRead) -> Result<Verified> {
    let mut v = Verified::default();
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        number += 1;
        let body = &line[..n - 1];
        if body.is_empty() {
            continue;
        }
        let rec: Record = serde_json::from_slice(body).map_err(|e| {
            Error::Input(format!(
                "{} line {number}: damaged journal entry ({e})",
                path.display()
            ))
        })?;
        if let Record::Exported {
            archive_id,
            path: rel,
            size,
            tree_hash,
            ..
        } = rec
        {
            // The file must still be there, whole and the same bytes: a record of a file
            // since removed, cut short or replaced (a size check alone passes a file
            // rewritten in place) is no copy. Reading the export back costs local disk
            // time only; a deletion cannot be undone.
            if file_matches(&root.join(&rel), size, &tree_hash) {
                v.insert(&archive_id, size, &tree_hash)?;
            }
        }
    }
    Ok(v)
}

/// Whether `path` is a regular file of `size` bytes whose tree hash is `tree_hash`; any
/// failure to read it counts as no.
fn file_matches(path: &Path, size: u64, tree_hash: &str) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    if !f.metadata().is_ok_and(|m| m.is_file() && m.len() == size) {
        return false;
    }
    let opts = crate::filehash::Options {
        threads: 2,
        sha256: false,
        progress: None,
    };
    crate::filehash::hash_file(&f, size, opts)
        .is_ok_and(|d| d.tree_hash.to_hex().eq_ignore_ascii_case(tree_hash.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No export in DIR: the error says to export first, naming the library's way to
    /// (the CLI installs its command instead).
    #[test]
    fn a_dir_without_a_journal_says_to_export_it_first() {
        let root = std::env::temp_dir().join(format!("no-export-{}", std::process::id()));
        let err = DirExport { root: root.clone() }
            .verified()
            .expect_err("no journal there");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "only_exported {}: no export journal there (",
                root.display()
            )) && text.ends_with(" is missing); export the vault into it with `an export` first"),
            "{text}"
        );
        assert!(!text.contains("glacier "), "{text}");
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
    }

    #[test]
    fn only_records_whose_file_is_whole_count() {
        let root = std::env::temp_dir().join(format!("glacier-exported-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("dir");
        std::fs::write(root.join("a"), b"abc").expect("a");
        std::fs::write(root.join("b"), b"ab").expect("b");
        // Replaced since the export: the same size, other bytes.
        std::fs::write(root.join("d"), b"xyz").expect("d");
        // The tree hash of "abc" (one chunk: its SHA-256).
        let h = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string();
        let rec = |id: &str, p: &str| {
            serde_json::json!({"event":"exported","archive_id":id,"path":p,"size":3,"tree_hash":h,"time":"t"})
                .to_string()
        };
        let text = format!(
            "{}\n{}\n{}\n{}\n{{\"event\":\"exp",
            rec("A", "a"),
            rec("B", "b"),
            rec("C", "c"),
            rec("D", "d")
        );
        let v = read_journal(&root, Path::new("j"), text.as_bytes()).expect("read");
        assert_eq!(v.len(), 1);
        assert!(v.admits("A", 3, &h));
        assert!(!v.admits("A", 4, &h), "size differs");
        assert!(!v.admits("A", 3, &"1".repeat(64)), "hash differs");
        assert!(!v.admits("B", 3, &h), "file cut short");
        assert!(!v.admits("C", 3, &h), "file gone");
        assert!(!v.admits("D", 3, &h), "file replaced by other bytes");
        // Records repeated (a rerun's) count once; inserts after a question count on.
        let mut w = Verified::default();
        for _ in 0..3 {
            w.insert("A", 3, &h).expect("insert");
        }
        assert_eq!(w.len(), 1);
        assert!(w.admits("A", 3, &h) && !w.admits("B", 3, &h));
        w.insert("B", 3, &h.to_uppercase()).expect("insert");
        assert!(w.admits("B", 3, &h), "hex case does not matter");
        assert_eq!(w.len(), 2);
        assert!(w.insert("C", 3, "zz").is_err(), "bad tree hash");
        let e = read_journal(&root, Path::new("j"), "x\n".as_bytes()).expect_err("damaged");
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(matches!(
            ExportedTo::parse("s3://bucket/p"),
            Ok(ExportedTo::S3(_))
        ));
        assert!(ExportedTo::parse("s3://").is_err(), "no bucket");
        assert!(matches!(
            ExportedTo::parse("/mnt/x"),
            Ok(ExportedTo::Dir(_))
        ));
        let _ = std::fs::remove_dir_all(&root);
    }
}
