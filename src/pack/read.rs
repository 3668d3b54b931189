//! Reading one regular file into the archive: exactly the size the scan saw, with the
//! file checked against the scan before and after, so a change fails the stream.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::plan::{Entry, Stamp};
use super::to_io;
use crate::error::{Error, Result};

/// A change seen while packing `path`.
pub(super) fn changed(path: &Path, what: String) -> Error {
    Error::io(
        path,
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("changed while being packed ({what}); the archive would not match it"),
        ),
    )
}

/// Reads a regular file for exactly the size the scan saw, failing if it gives fewer or
/// more bytes, and counting bytes for progress.
pub(super) struct FileReader<'a> {
    file: File,
    entry: &'a Entry,
    read: u64,
    progress: Option<&'a AtomicU64>,
}

impl<'a> FileReader<'a> {
    /// Opens the entry's file and checks it is still the one the scan saw.
    pub(super) fn open(
        entry: &'a Entry,
        progress: Option<&'a AtomicU64>,
    ) -> Result<FileReader<'a>> {
        let file = File::open(&entry.source).map_err(|e| Error::io(&entry.source, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&entry.source, e))?;
        check_stamp(entry, &meta)?;
        Ok(FileReader {
            file,
            entry,
            read: 0,
            progress,
        })
    }

    fn fail(&self, what: String) -> io::Error {
        to_io(changed(&self.entry.source, what))
    }
}

fn check_stamp(entry: &Entry, meta: &Metadata) -> Result<()> {
    let now = Stamp::of(meta);
    let was = entry.stamp;
    if !meta.is_file() || now.dev != was.dev || now.ino != was.ino {
        return Err(changed(&entry.source, "replaced by another file".into()));
    }
    if now.size != was.size {
        return Err(changed(
            &entry.source,
            format!("size was {} bytes when scanned, now {}", was.size, now.size),
        ));
    }
    if (now.mtime, now.mtime_nsec) != (was.mtime, was.mtime_nsec) {
        return Err(changed(
            &entry.source,
            "modification time differs from the scan".into(),
        ));
    }
    Ok(())
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.entry.size;
        let left = size - self.read;
        if left == 0 {
            // The promised bytes are all read: the file must end here, and still be
            // what the scan saw.
            let mut probe = [0u8; 1];
            let extra = loop {
                match self.file.read(&mut probe) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(to_io(Error::io(&self.entry.source, e))),
                }
            };
            if extra > 0 {
                return Err(self.fail(format!("grew beyond the {size} bytes scanned")));
            }
            let meta = self
                .file
                .metadata()
                .map_err(|e| to_io(Error::io(&self.entry.source, e)))?;
            check_stamp(self.entry, &meta).map_err(to_io)?;
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match self.file.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(to_io(Error::io(&self.entry.source, e))),
        };
        if n == 0 {
            return Err(self.fail(format!(
                "ended after {} of the {size} bytes scanned",
                self.read
            )));
        }
        self.read += n as u64;
        if let Some(p) = self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}
