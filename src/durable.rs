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

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

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
}
