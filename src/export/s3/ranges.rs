//! The Glacier side of a streamed S3 part: the ranges of one job's output, each read as
//! it arrives and checked against the tree hash Glacier sends for it. A range's reader
//! ends only when its bytes matched, so the S3 part it feeds (see `crate::s3::chunked`)
//! is never stored unchecked. Nothing here knows S3.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::glacier::{Client, JobId, JobOutput};
use crate::progress::Reporter;
use crate::s3::{PartSource, RangeSource};
use crate::sync::LockExt;
use crate::treehash::{LinearTreeHasher, TreeHash};

/// The ranges of one job's output, each checked against the tree hash Glacier sends for
/// it (every part is a power of two MiB, so each range is tree-hash aligned); the hashes
/// of the ranges that matched, by offset, make the whole output's tree hash.
pub(super) struct GlacierRanges<'a> {
    pub(super) client: &'a Client,
    pub(super) vault: &'a str,
    pub(super) job_id: JobId,
    pub(super) size: u64,
    pub(super) checked: Arc<Mutex<BTreeMap<u64, TreeHash>>>,
    pub(super) reporter: Arc<dyn Reporter>,
    pub(super) stop: Arc<AtomicBool>,
}

impl RangeSource for GlacierRanges<'_> {
    fn open(&self, start: u64, end: u64) -> Result<Box<dyn PartSource>> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted("export interrupted".into()));
        }
        let whole = start == 0 && end + 1 == self.size;
        let output =
            self.client
                .job_output(self.vault, &self.job_id, (!whole).then_some((start, end)))?;
        let expected = output.tree_hash.ok_or_else(|| {
            Error::Job(format!(
                "job {}: Glacier sent no tree hash for bytes {start}-{end} of its output",
                self.job_id
            ))
        })?;
        Ok(Box::new(CheckedRange {
            output,
            start,
            len: end - start + 1,
            got: 0,
            hasher: Some(LinearTreeHasher::new()),
            sha256: None,
            expected,
            checked: self.checked.clone(),
            reporter: Arc::clone(&self.reporter),
            stop: self.stop.clone(),
        }))
    }
}

/// One range of a job's output as it arrives, hashed on the way; it ends (end-of-file)
/// only when the range matched the tree hash Glacier sent for it, and fails otherwise,
/// so the S3 part it feeds is never stored unchecked. The same pass takes the range's
/// SHA-256, the S3 part's checksum ([`PartSource`]).
struct CheckedRange {
    output: JobOutput,
    start: u64,
    len: u64,
    got: u64,
    /// Taken when the range ends.
    hasher: Option<LinearTreeHasher>,
    /// The range's SHA-256, once it matched.
    sha256: Option<[u8; 32]>,
    expected: TreeHash,
    checked: Arc<Mutex<BTreeMap<u64, TreeHash>>>,
    reporter: Arc<dyn Reporter>,
    stop: Arc<AtomicBool>,
}

impl PartSource for CheckedRange {
    fn sha256(&self) -> Option<[u8; 32]> {
        self.sha256
    }
}

impl Read for CheckedRange {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::{Error as IoError, ErrorKind};
        if self.stop.load(Ordering::Relaxed) {
            return Err(IoError::other("export interrupted"));
        }
        let end = self.start + self.len - 1;
        if self.got == self.len {
            let Some(hasher) = self.hasher.take() else {
                // Checked already: end-of-file again only if the check passed.
                return match self.sha256 {
                    Some(_) => Ok(0),
                    None => Err(IoError::new(
                        ErrorKind::InvalidData,
                        format!(
                            "bytes {}-{end} of the job output failed their check",
                            self.start
                        ),
                    )),
                };
            };
            let mut extra = [0u8; 1];
            if self.output.read(&mut extra)? > 0 {
                return Err(IoError::new(
                    ErrorKind::InvalidData,
                    "Glacier sent more bytes than the range",
                ));
            }
            let (sha256, actual) = hasher.finish();
            if actual != self.expected {
                return Err(IoError::new(
                    ErrorKind::InvalidData,
                    format!(
                        "bytes {}-{end} of the job output do not match the tree hash Glacier sent for them (expected {}, got {actual})",
                        self.start, self.expected
                    ),
                ));
            }
            self.checked.lock_unpoisoned().insert(self.start, actual);
            self.sha256 = Some(sha256);
            self.reporter.add_bytes(self.len);
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.len - self.got) as usize;
        let n = self.output.read(&mut buf[..want])?;
        if n == 0 {
            return Err(IoError::new(
                ErrorKind::UnexpectedEof,
                format!(
                    "Glacier's answer for bytes {}-{end} ended after {} bytes",
                    self.start, self.got
                ),
            ));
        }
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.got += n as u64;
        Ok(n)
    }
}
