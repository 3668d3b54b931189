//! Where exported archives go, behind one small trait: a directory (here) or an S3
//! bucket ([`super::s3`], issue 14). A destination gets a finished retrieval job and an [`Item`], and
//! either puts the archive in place verified against both the job's and the inventory's
//! tree hash and size, or fails leaving nothing under the final name.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, SystemTime};

use super::Item;
use crate::download;
use crate::error::{Error, Result};
use crate::filehash;
use crate::glacier::{Client, JobDescription};

/// Bytes kept free on the destination beyond the archive itself, so a full disk is
/// found before a download and not half-way into one.
pub const FREE_SPACE_MARGIN: u64 = 64 << 20;

/// A place to export archives to.
pub trait Destination: Sync {
    /// Where, for messages.
    fn describe(&self) -> String;
    /// Whether the archive is already there and verified (a crash can come between the
    /// final rename and the journal line).
    fn contains(&self, item: &Item) -> Result<bool>;
    /// Fetches the output of `job` (a succeeded retrieval of `item`) and puts it in place.
    fn store(
        &self,
        client: &Client,
        vault: &str,
        job: &JobDescription,
        item: &Item,
        threads: usize,
    ) -> Result<()>;
}

/// A local directory.
#[derive(Debug, Clone)]
pub struct DirDestination {
    root: PathBuf,
    /// Set by Ctrl-C.
    pub stop: Arc<AtomicBool>,
    /// Bytes downloaded and verified so far, for progress.
    pub progress: Arc<AtomicU64>,
    /// Free bytes to assume instead of asking the file system: a full disk cannot be
    /// made on demand in a test, so the CLI sets this from `GLACIER_TEST_FREE_BYTES`.
    pub free_bytes: Option<u64>,
}

/// Whether an error is "no space left on the device".
pub fn is_disk_full(e: &Error) -> bool {
    match e {
        Error::Io { source, .. } => {
            source.kind() == io::ErrorKind::StorageFull || source.raw_os_error() == Some(28)
        }
        Error::WithHint { error, .. } => is_disk_full(error),
        _ => false,
    }
}

impl DirDestination {
    /// Exports into `root` (created if missing).
    pub fn new(root: &Path) -> Result<DirDestination> {
        fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        Ok(DirDestination {
            root: root.to_path_buf(),
            stop: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(AtomicU64::new(0)),
            free_bytes: None,
        })
    }

    fn target(&self, item: &Item) -> PathBuf {
        self.root.join(&item.name)
    }

    /// Available bytes on the file system holding DIR (statvfs through rustix, which is
    /// safe code; already in the dependency tree through tar).
    pub fn free_space(&self) -> Option<u64> {
        if let Some(b) = self.free_bytes {
            return Some(b);
        }
        let s = rustix::fs::statvfs(&self.root).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }

    fn tmp_dir(&self) -> PathBuf {
        super::state_dir(&self.root).join("tmp")
    }
}

fn verify_file(path: &Path, item: &Item) -> Result<bool> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len != item.size {
        return Ok(false);
    }
    let opts = filehash::Options {
        threads: 1,
        sha256: false,
        progress: None,
    };
    let d = filehash::hash_file(&f, len, opts).map_err(|e| Error::io(path, e))?;
    Ok(d.tree_hash.to_hex() == item.tree_hash)
}

impl Destination for DirDestination {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn contains(&self, item: &Item) -> Result<bool> {
        let t = self.target(item);
        match fs::symlink_metadata(&t) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&t, e)),
            Ok(m) if !m.is_file() => Ok(false),
            Ok(_) => verify_file(&t, item),
        }
    }

    fn store(
        &self,
        client: &Client,
        vault: &str,
        job: &JobDescription,
        item: &Item,
        threads: usize,
    ) -> Result<()> {
        if let Some(free) = self.free_space() {
            let need = item.size.saturating_add(FREE_SPACE_MARGIN);
            if free < need {
                return Err(Error::io(
                    &self.root,
                    io::Error::new(
                        io::ErrorKind::StorageFull,
                        format!(
                            "{} free, {} needed for archive {} ({}); free some space and run the same command again",
                            crate::progress::human_bytes(free),
                            crate::progress::human_bytes(need),
                            item.archive_id,
                            item.name
                        ),
                    ),
                ));
            }
        }
        let tmp_dir = self.tmp_dir();
        fs::create_dir_all(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
        // One temporary name per archive: a rerun resumes the chunks it kept.
        let tmp = tmp_dir.join(format!("{:032x}", super::journal::key(&item.archive_id)));
        if fs::symlink_metadata(&tmp).is_ok() {
            // Finished earlier but not moved into place: fetch again rather than trust it.
            fs::remove_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let opts = download::Options {
            threads: threads.max(1),
            chunk_size: download::DEFAULT_CHUNK_SIZE,
            force: false,
            progress: self.progress.clone(),
            stop: self.stop.clone(),
        };
        let outcome = download::download_to_file(client, vault, job, &tmp, &opts)?;
        let actual = outcome.tree_hash.to_hex();
        if outcome.size != item.size || actual != item.tree_hash {
            let _ = fs::remove_file(&tmp);
            return Err(Error::Mismatch {
                what: format!(
                    "archive {} ({}) against the inventory",
                    item.archive_id, item.name
                ),
                expected: format!("{} bytes, tree hash {}", item.size, item.tree_hash),
                actual: format!("{} bytes, tree hash {actual}", outcome.size),
            });
        }
        if let Some(m) = item.mtime {
            let t = if m >= 0 {
                SystemTime::UNIX_EPOCH + Duration::from_secs(m.unsigned_abs())
            } else {
                SystemTime::UNIX_EPOCH - Duration::from_secs(m.unsigned_abs())
            };
            File::options()
                .write(true)
                .open(&tmp)
                .and_then(|f| f.set_modified(t))
                .map_err(|e| Error::io(&tmp, e))?;
        }
        let target = self.target(item);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        match fs::symlink_metadata(&target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&target, e)),
            Ok(m) if m.is_file() && verify_file(&target, item)? => {
                let _ = fs::remove_file(&tmp);
                return Ok(());
            }
            Ok(_) => {
                let _ = fs::remove_file(&tmp);
                return Err(Error::Input(format!(
                    "{} exists and is not archive {}; move it away and run again",
                    target.display(),
                    item.archive_id
                )));
            }
        }
        fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        if let Some(parent) = target.parent() {
            // The rename is durable only once the directory entry is.
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io(parent, e))?;
        }
        Ok(())
    }
}
