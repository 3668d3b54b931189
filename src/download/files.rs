//! The files a download keeps beside its target, and the one write-verify-rename path
//! that archive and inventory downloads share: an exclusive lock for the whole run, a
//! part file created fresh (never through a symbolic link) or reopened to resume, the
//! bytes read back from disk and their tree hash compared before the part file is
//! renamed onto the target, and the directory synced after the rename.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::durable;
use crate::error::{Error, Result};
use crate::filehash;
use crate::treehash::{TreeHash, TreeHasher};

/// The part file, its chunk log and the lock file beside `target`.
pub(super) struct Paths {
    pub part: PathBuf,
    pub log: PathBuf,
    pub lock: PathBuf,
}

/// The names of the files kept beside `target` while it downloads.
pub(super) fn paths(target: &Path) -> Paths {
    let with = |suffix: &str| {
        let mut p = target.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    Paths {
        part: with(".glacier-part"),
        log: with(".glacier-part.log"),
        lock: with(".glacier-part.lock"),
    }
}

/// An exclusive lock on one target's download state, held for the whole download; the
/// lock file is removed (while still locked) when it is dropped.
pub struct DownloadLock {
    _file: File,
    path: PathBuf,
}

impl DownloadLock {
    /// Takes the lock for `target`, or fails with one line if another download to the
    /// same target holds it.
    pub(super) fn acquire(target: &Path, path: &Path) -> Result<DownloadLock> {
        // A holder removes the file just before unlocking, so a lock taken on a file no
        // longer at `path` protects nothing: take it again on the file now there.
        for _ in 0..5 {
            let file = match durable::create_new(path) {
                Ok(f) => f,
                Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                    match durable::open_existing(path, false) {
                        Ok(f) => f,
                        Err(Error::Io { source, .. })
                            if source.kind() == io::ErrorKind::NotFound =>
                        {
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Input(format!(
                        "another download to {} is running (it holds {}); wait for it to finish",
                        target.display(),
                        path.display()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
            }
            if durable::open_existing(path, false)
                .and_then(|f| {
                    use std::os::unix::fs::MetadataExt;
                    let (a, b) = (
                        f.metadata().map_err(|e| Error::io(path, e))?,
                        file.metadata().map_err(|e| Error::io(path, e))?,
                    );
                    Ok((a.dev(), a.ino()) == (b.dev(), b.ino()))
                })
                .unwrap_or(false)
            {
                return Ok(DownloadLock {
                    _file: file,
                    path: path.to_path_buf(),
                });
            }
        }
        Err(Error::Input(format!(
            "could not lock {}: it keeps being replaced",
            path.display()
        )))
    }
}

impl Drop for DownloadLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts a download afresh: the old chunk log goes first (and its removal is made
/// durable), so a crash can never leave a log vouching for chunks of a part file that
/// was already emptied; then the old part file, then a new one created exclusively.
pub(super) fn start_fresh(p: &Paths) -> Result<File> {
    if durable::remove_if_exists(&p.log)? {
        durable::fsync_dir(durable::parent_dir(&p.log))?;
    }
    durable::remove_if_exists(&p.part)?;
    durable::create_new(&p.part)
}

/// Reads the first `size` bytes of `file` back from disk and checks that their tree hash
/// is `want`, the hash of what was written (already compared with Glacier's).
pub(super) fn read_back(file: &File, part: &Path, size: u64, want: &TreeHash) -> Result<()> {
    let opts = filehash::Options {
        threads: 2,
        sha256: false,
        progress: None,
    };
    let got = filehash::hash_file(file, size, opts)
        .map_err(|e| Error::io(part, e))?
        .tree_hash;
    if &got != want {
        return Err(Error::Mismatch {
            what: format!("{}: the bytes read back from disk", part.display()),
            expected: want.to_hex(),
            actual: got.to_hex(),
        });
    }
    Ok(())
}

/// Moves the verified part file onto `target` and makes the rename durable.
pub(super) fn publish(part: &Path, target: &Path, force: bool) -> Result<()> {
    super::check_target(target, force)?;
    std::fs::rename(part, target).map_err(|e| Error::io(target, e))?;
    durable::fsync_dir(durable::parent_dir(target))
}

/// A reader that tree-hashes what passes through, so the whole can be checked against
/// the hash Glacier sent once it has been read (inventories, printed or saved).
pub struct VerifyingReader<R> {
    inner: R,
    hasher: TreeHasher,
    expected: Option<TreeHash>,
    what: String,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`, whose bytes should have tree hash `expected` (if Glacier sent one);
    /// `what` names them in an error.
    pub fn new(inner: R, expected: Option<TreeHash>, what: String) -> Self {
        VerifyingReader {
            inner,
            hasher: TreeHasher::new(),
            expected,
            what,
        }
    }

    /// The tree hash of everything read, checked against Glacier's. Call it after
    /// reading to the end. Returns the hash and whether Glacier gave one to compare.
    pub fn finish(self) -> Result<(TreeHash, bool)> {
        let ours = self.hasher.finish();
        match self.expected {
            Some(want) if want != ours => Err(Error::Mismatch {
                what: format!("{}: tree hash", self.what),
                expected: want.to_hex(),
                actual: ours.to_hex(),
            }),
            want => Ok((ours, want.is_some())),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Streams `reader` to its end into `target` through a fresh part file: checked against
/// Glacier's tree hash, read back from disk, renamed into place, directory synced.
/// Returns the size written. The target is replaced only with `force`.
pub fn save_stream<R: Read>(
    mut reader: VerifyingReader<R>,
    target: &Path,
    force: bool,
) -> Result<u64> {
    super::check_target(target, force)?;
    let p = paths(target);
    let _lock = DownloadLock::acquire(target, &p.lock)?;
    super::check_own_file(&p.part, force)?;
    let file = start_fresh(&p)?;
    let failed = |e: Error| {
        let _ = std::fs::remove_file(&p.part);
        e
    };
    let mut w = io::BufWriter::with_capacity(4 << 20, &file);
    let size = io::copy(&mut reader, &mut w)
        .and_then(|n| w.flush().map(|()| n))
        .map_err(|e| Error::Transport {
            what: format!("downloading {} into {}", reader.what, target.display()),
            source: Box::new(e),
        })
        .map_err(failed)?;
    drop(w);
    let (hash, _) = reader.finish().map_err(failed)?;
    file.sync_all()
        .map_err(|e| Error::io(&p.part, e))
        .map_err(failed)?;
    read_back(&file, &p.part, size, &hash).map_err(failed)?;
    drop(file);
    publish(&p.part, target, force).map_err(failed)?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("glacier-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn a_fresh_start_removes_the_old_log_before_touching_the_part_file() {
        let d = dir("fresh");
        let p = paths(&d.join("out"));
        fs::write(&p.log, "glacier-download v1 other 1 1\n0 ab\n").expect("log");
        // A part file that cannot be replaced: the start fails there, and by then the
        // log that vouched for its chunks must be gone already.
        fs::create_dir(&p.part).expect("part as dir");
        assert!(start_fresh(&p).is_err());
        assert!(!p.log.exists(), "old chunk log removed first");
        fs::remove_dir(&p.part).expect("rmdir");
        fs::write(&p.part, b"old bytes").expect("part");
        let f = start_fresh(&p).expect("fresh");
        assert_eq!(f.metadata().expect("meta").len(), 0);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn bytes_that_differ_on_disk_fail_the_read_back() {
        let d = dir("readback");
        let part = d.join("part");
        fs::write(&part, b"what the disk holds").expect("write");
        let f = File::open(&part).expect("open");
        let right = crate::treehash::tree_hash(b"what the disk holds");
        let wrong = crate::treehash::tree_hash(b"what was streamed in");
        assert!(read_back(&f, &part, 19, &right).is_ok());
        let e = read_back(&f, &part, 19, &wrong).expect_err("differs");
        assert!(e.to_string().contains("read back from disk"), "{e}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_second_lock_on_the_same_target_is_refused() {
        let d = dir("lock");
        let target = d.join("out");
        let p = paths(&target);
        let held = DownloadLock::acquire(&target, &p.lock).expect("first");
        let e = DownloadLock::acquire(&target, &p.lock)
            .err()
            .expect("second refused");
        assert!(e.to_string().contains("another download"), "{e}");
        drop(held);
        assert!(!p.lock.exists(), "removed on release");
        let _again = DownloadLock::acquire(&target, &p.lock).expect("free again");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn save_stream_checks_the_hash_and_never_leaves_a_bad_file() {
        let d = dir("save");
        let target = d.join("inv.json");
        let data = b"{\"ArchiveList\":[]}".to_vec();
        let good = crate::treehash::tree_hash(&data);
        let r = VerifyingReader::new(&data[..], Some(good), "inventory".into());
        assert_eq!(
            save_stream(r, &target, false).expect("saved"),
            data.len() as u64
        );
        assert_eq!(fs::read(&target).expect("read"), data);
        let other = d.join("bad.json");
        let r = VerifyingReader::new(
            &data[..],
            Some(crate::treehash::tree_hash(b"x")),
            "inv".into(),
        );
        assert!(save_stream(r, &other, false).is_err());
        assert!(!other.exists());
        assert!(!paths(&other).part.exists(), "no part file left");
        let _ = fs::remove_dir_all(&d);
    }
}

/// Where `inventory get` keeps a job's output while it reads it twice (names are resolved
/// over the whole inventory): a file in the temporary directory, removed when dropped.
/// [`save_stream`] creates it exclusively and never through a symlink.
#[derive(Debug)]
pub struct Spool(pub PathBuf);

impl Spool {
    /// A name of this process for the job `job_id` (its letters and digits, 16 at most).
    pub fn new(job_id: &str) -> Spool {
        let id: String = job_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect();
        Spool(std::env::temp_dir().join(format!("glacier-inventory-{}-{id}", std::process::id())))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Best effort: a leftover file in the temporary directory is harmless.
        let _ = std::fs::remove_file(&self.0);
    }
}
