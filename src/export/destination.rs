//! Where exported archives go, behind one small trait: a directory (here) or an S3
//! bucket ([`super::s3`]). A destination gets a finished retrieval job and an [`Item`], and
//! either puts the archive in place verified against both the job's and the inventory's
//! tree hash and size, or fails leaving nothing under the final name. The directory
//! destination walks to each final name with `openat(O_NOFOLLOW)`: a symbolic link
//! already inside DIR refuses that archive instead of leading it out of DIR.

use std::fs::{self, File};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use crate::download;
use crate::error::{Error, Result};
use crate::filehash;
use crate::glacier::{Client, JobDescription};
use crate::progress::{Counts, Reporter};
use crate::vault::Item;

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
    /// Whether an archive an earlier run exported is still there, as far as a cheap
    /// look can tell (a rerun asks this of every exported archive).
    fn still_there(&self, item: &Item) -> Result<bool> {
        let _ = item;
        Ok(true)
    }
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
    /// Told of the bytes downloaded and verified, for progress.
    pub reporter: Arc<dyn Reporter>,
    /// Free bytes to assume instead of asking the file system: a full disk cannot be
    /// made on demand in a test, so the CLI sets this from `GLACIER_TEST_FREE_BYTES`.
    pub free_bytes: Option<u64>,
}

/// Files up to this size are read back on a rerun to check they still hold their
/// archive; bigger ones are checked by size.
pub const CHEAP_VERIFY: u64 = 1 << 20;

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
            reporter: Arc::new(Counts::new()),
            free_bytes: None,
        })
    }

    fn target(&self, item: &Item) -> PathBuf {
        self.root.join(&item.name)
    }

    /// Opens the directory that holds `name` (a `/`-separated relative path), walking
    /// from DIR one component at a time with `O_NOFOLLOW`, creating what is missing when
    /// `create`: a symbolic link already inside DIR (`DIR/a -> /elsewhere`) is never
    /// followed, so nothing is written outside the directory the user named, even if
    /// the link appears between a check and the write. Returns the directory and the
    /// last component, or None (without `create`) when a component is missing or is not
    /// a plain directory.
    fn parent_dir<'n>(&self, name: &'n str, create: bool) -> Result<Option<(File, &'n str)>> {
        use rustix::fs::{Mode, OFlags};
        let (dirs, last) = match name.rsplit_once('/') {
            Some((d, l)) => (Some(d), l),
            None => (None, name),
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut dir: OwnedFd = rustix::fs::open(
            &self.root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(&self.root, e.into()))?;
        let mut at = self.root.clone();
        for comp in dirs.into_iter().flat_map(|d| d.split('/')) {
            if comp.is_empty() || comp == "." || comp == ".." {
                return Err(Error::Input(format!(
                    "archive name {name} is not a plain relative path"
                )));
            }
            at.push(comp);
            let opened = match rustix::fs::openat(&dir, comp, flags, Mode::empty()) {
                Err(rustix::io::Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&dir, comp, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(e) => return Err(Error::io(&at, e.into())),
                    }
                    rustix::fs::openat(&dir, comp, flags, Mode::empty())
                }
                r => r,
            };
            dir = match opened {
                Ok(fd) => fd,
                Err(_) if !create => return Ok(None),
                Err(e) => {
                    let link =
                        rustix::fs::statat(&dir, comp, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                            .is_ok_and(|st| {
                                rustix::fs::FileType::from_raw_mode(st.st_mode)
                                    == rustix::fs::FileType::Symlink
                            });
                    return Err(if link {
                        refused_link(&at)
                    } else {
                        Error::io(&at, e.into())
                    });
                }
            };
        }
        Ok(Some((File::from(dir), last)))
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
        crate::vault::state_dir(&self.root).join("tmp")
    }
}

/// The error for a symbolic link found on an archive's way: that archive is refused.
fn refused_link(at: &Path) -> Error {
    Error::Input(format!(
        "{} is a symbolic link; the export never follows one (it could lead outside the directory); move it away and run again",
        at.display()
    ))
}

/// What is at `name` in `dir`, not following a symbolic link.
fn kind_at(dir: &File, name: &str, path: &Path) -> Result<Option<rustix::fs::FileType>> {
    match rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(rustix::fs::FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(Error::io(path, e.into())),
    }
}

/// Whether the regular file `name` in `dir` is the archive (opened without following a
/// symbolic link).
fn verify_at(dir: &File, name: &str, path: &Path, item: &Item) -> Result<bool> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io(path, e.into()))?;
    verify_open(File::from(fd), path, item)
}

fn verify_open(f: File, path: &Path, item: &Item) -> Result<bool> {
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

    /// A regular file of the archive's size; a small one (up to [`CHEAP_VERIFY`]) is
    /// also read back against the tree hash. A big one is not: a rerun over terabytes
    /// must not read them all.
    fn still_there(&self, item: &Item) -> Result<bool> {
        if item.size <= CHEAP_VERIFY {
            return self.contains(item);
        }
        let t = self.target(item);
        let Some((dir, last)) = self.parent_dir(&item.name, false)? else {
            return Ok(false);
        };
        if kind_at(&dir, last, &t)? != Some(rustix::fs::FileType::RegularFile) {
            return Ok(false);
        }
        let st = rustix::fs::statat(&dir, last, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Error::io(&t, e.into()))?;
        Ok(st.st_size as u64 == item.size)
    }

    fn contains(&self, item: &Item) -> Result<bool> {
        let t = self.target(item);
        let Some((dir, last)) = self.parent_dir(&item.name, false)? else {
            return Ok(false);
        };
        match kind_at(&dir, last, &t)? {
            Some(rustix::fs::FileType::RegularFile) => verify_at(&dir, last, &t, item),
            _ => Ok(false),
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
        // The way to the final name first: a symbolic link on it refuses the archive
        // before its bytes are fetched.
        let target = self.target(item);
        let Some((dir, last)) = self.parent_dir(&item.name, true)? else {
            // Only a walk that creates nothing gives up on a missing directory.
            return Err(Error::io(&target, io::ErrorKind::NotFound.into()));
        };
        if kind_at(&dir, last, &target)? == Some(rustix::fs::FileType::Symlink) {
            return Err(refused_link(&target));
        }
        let tmp_dir = self.tmp_dir();
        fs::create_dir_all(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
        // One temporary name per archive: a rerun resumes the chunks it kept.
        let tmp = tmp_dir.join(format!(
            "{:032x}",
            crate::vault::journal::key(&item.archive_id)
        ));
        if fs::symlink_metadata(&tmp).is_ok() {
            // Finished earlier but not moved into place: fetch again rather than trust it.
            fs::remove_file(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        let opts = download::Options {
            threads: threads.max(1),
            chunk_size: download::DEFAULT_CHUNK_SIZE,
            force: false,
            reporter: Arc::clone(&self.reporter),
            stop: self.stop.clone(),
        };
        // An archive that fits one chunk takes the one-step path: per-archive cost decides at vault scale.
        let outcome = if download::fits_one_chunk(job, opts.chunk_size)? {
            download::download_small(client, vault, job, &tmp, &opts)?
        } else {
            download::download_to_file(client, vault, job, &tmp, &opts)?
        };
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
        match kind_at(&dir, last, &target)? {
            None => {}
            Some(rustix::fs::FileType::RegularFile) if verify_at(&dir, last, &target, item)? => {
                let _ = fs::remove_file(&tmp);
                return Ok(());
            }
            Some(k) => {
                let _ = fs::remove_file(&tmp);
                if k == rustix::fs::FileType::Symlink {
                    return Err(refused_link(&target));
                }
                return Err(Error::Input(format!(
                    "{} exists and is not archive {}; move it away and run again",
                    target.display(),
                    item.archive_id
                )));
            }
        }
        // renameat into the directory opened above: the final entry is replaced, never
        // followed, and no component can be swapped for a link in between.
        rustix::fs::renameat(rustix::fs::CWD, &tmp, &dir, last)
            .map_err(|e| Error::io(&target, e.into()))?;
        // The rename is durable only once the directory entry is.
        dir.sync_all().map_err(|e| Error::io(&target, e))?;
        Ok(())
    }
}
