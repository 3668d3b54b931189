//! Careful file operations for everything that leaves results or state on disk: create a
//! file only if nothing (not even a symbolic link) is at its path, open an existing one
//! only if it is the regular file at that path and not the target of a link planted
//! there, and sync a directory after a rename or a create so the new name survives a
//! crash (a file's own `fsync` does not make its directory entry durable; see fsync(2),
//! "Calling fsync() does not necessarily ensure that the entry in the directory
//! containing the file has also reached disk").
//!
//! std has no `O_NOFOLLOW`; instead an existing file is opened (never truncated) and then
//! checked to be the same inode as a `symlink_metadata` of its path, which refuses a link
//! without a race that could make us write through it. This module knows files only:
//! no network, no printing.
//!
//! Every state or result file that is rewritten whole (resume state, saved inventories,
//! manifests) goes through [`Replacement`] (or [`write_atomic`]): written under a
//! temporary name created exclusively beside it, synced, renamed over the final name,
//! and the directory synced, so a reader or a crash sees the old file or the new one,
//! never half of one, and a link planted at the temporary name is never written through.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes the directory entries of `dir` durable: call it after renaming a file into
/// `dir`, or after creating a file there whose existence matters after a crash.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Creates `path` for reading and writing, failing if anything is there already: with
/// `O_CREAT | O_EXCL` a symbolic link, even a dangling one, is never followed (open(2)).
pub fn create_new(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Opens the existing regular file at `path` for reading and writing (`append`: for
/// appending), refusing a symbolic link there. Nothing is truncated before the check.
pub fn open_existing(path: &Path, append: bool) -> Result<File> {
    let mut o = OpenOptions::new();
    if append {
        o.append(true);
    } else {
        o.read(true).write(true);
    }
    let f = o.open(path).map_err(|e| Error::io(path, e))?;
    check_opened(&f, path)?;
    Ok(f)
}

/// Whether `file`, opened from `path`, is the file at `path` itself (not a link's target,
/// not something swapped in since).
fn check_opened(file: &File, path: &Path) -> Result<()> {
    let at_path = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if at_path.file_type().is_symlink() {
        return Err(Error::Input(format!(
            "{} is a symbolic link; not following it",
            path.display()
        )));
    }
    let opened = file.metadata().map_err(|e| Error::io(path, e))?;
    if (opened.dev(), opened.ino()) != (at_path.dev(), at_path.ino()) || !opened.is_file() {
        return Err(Error::Input(format!(
            "{} changed while it was being opened, or is not a regular file",
            path.display()
        )));
    }
    Ok(())
}

/// Removes `path` if it exists (a link itself, never its target); true if it did.
pub fn remove_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A file written under a temporary name beside its final `path`, which it replaces only
/// on [`commit`](Replacement::commit): flushed, synced, renamed over `path`, then the
/// directory synced. Dropped without a commit, the temporary file is removed and `path`
/// is untouched.
pub struct Replacement {
    tmp: PathBuf,
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl Replacement {
    /// Starts replacing `path`, writing to `.NAME.tmp` beside it.
    pub fn new(path: &Path) -> Result<Replacement> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = parent_dir(path).join(format!(".{name}.tmp"));
        Replacement::with_tmp(path, &tmp)
    }

    /// Starts replacing `path`, writing to `tmp` (in the same directory, so the rename
    /// is atomic). Whatever a crashed run left at `tmp` is removed first (a link
    /// itself, never its target); the new file is created exclusively.
    pub fn with_tmp(path: &Path, tmp: &Path) -> Result<Replacement> {
        remove_if_exists(tmp)?;
        let f = create_new(tmp)?;
        Ok(Replacement {
            tmp: tmp.to_path_buf(),
            path: path.to_path_buf(),
            file: Some(BufWriter::with_capacity(64 << 10, f)),
        })
    }

    /// The temporary path being written (for messages).
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Makes the new contents the file at `path`, durably.
    pub fn commit(mut self) -> Result<()> {
        let w = self.file.take().expect("a replacement is committed once");
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        drop(f);
        fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        fsync_dir(parent_dir(&self.path))
    }
}

impl Write for Replacement {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .as_mut()
            .expect("written only before commit")
            .write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file
            .as_mut()
            .expect("flushed only before commit")
            .flush()
    }
}

impl Drop for Replacement {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Replaces the file at `path` with `bytes`, atomically and durably ([`Replacement`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut r = Replacement::new(path)?;
    r.write_all(bytes).map_err(|e| Error::io(r.tmp_path(), e))?;
    r.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_never_followed_and_fresh_files_are_exclusive() {
        let dir = std::env::temp_dir().join(format!("glacier-durable-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let victim = dir.join("victim");
        fs::write(&victim, b"keep me").expect("write");
        let link = dir.join("link");
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        assert!(create_new(&link).is_err(), "a link is something");
        let e = open_existing(&link, false).expect_err("a link is refused");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(open_existing(&link, true).is_err());
        assert_eq!(fs::read(&victim).expect("read"), b"keep me");
        let dangling = dir.join("dangling");
        let _ = fs::remove_file(&dangling);
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).expect("symlink");
        assert!(create_new(&dangling).is_err());
        assert!(
            !dir.join("nowhere").exists(),
            "nothing created through the link"
        );
        assert!(create_new(&victim).is_err(), "exclusive");
        assert!(open_existing(&victim, false).is_ok());
        assert!(remove_if_exists(&link).expect("rm"));
        assert!(!remove_if_exists(&link).expect("rm again"));
        assert!(victim.exists());
        fsync_dir(&dir).expect("sync dir");
        assert_eq!(parent_dir(Path::new("f")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/f")), Path::new("a"));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn replacements_are_all_or_nothing_and_never_follow_links() {
        let dir = std::env::temp_dir().join(format!("glacier-replace-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("state.json");
        write_atomic(&path, b"one").expect("first");
        assert_eq!(fs::read(&path).expect("read"), b"one");
        {
            let mut r = Replacement::new(&path).expect("start");
            r.write_all(b"half").expect("write");
            // Dropped without a commit: the old file stays, the temporary one goes.
        }
        assert_eq!(fs::read(&path).expect("read"), b"one");
        assert!(!dir.join(".state.json.tmp").exists());
        // A link planted at the temporary name is replaced, never written through.
        let victim = dir.join("victim");
        fs::write(&victim, b"keep me").expect("victim");
        std::os::unix::fs::symlink(&victim, dir.join(".state.json.tmp")).expect("link");
        write_atomic(&path, b"two").expect("second");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        assert_eq!(fs::read(&victim).expect("victim"), b"keep me");
        let names: Vec<_> = fs::read_dir(&dir)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}
