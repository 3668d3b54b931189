//! The one-step path for a job output that fits one chunk: at vault scale
//! most archives are small, and what they cost is per archive, not per byte. Such an
//! output is fetched with one GET on the calling thread, written into one new temporary
//! file with every byte read back, the bytes read back verified against the tree hash
//! Glacier sends with it and the job's, and synced once. No chunk log (one chunk has nothing to
//! resume), no lock file (the caller owns the temporary name), no worker thread, and
//! buffers sized to the output, not to the general path's blocks.

use std::fs;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{BLOCK_SIZE, JobRange, Options, Outcome, expected_output, fetch_chunk, write_checked};
use crate::durable;
use crate::error::{Error, Result};
use crate::glacier::{Client, JobDescription};

/// Whether the output of `job` fits one chunk of `chunk_size` bytes, so that
/// [`download_small`] can take it.
pub fn fits_one_chunk(job: &JobDescription, chunk_size: u64) -> Result<bool> {
    Ok(expected_output(job)?.0 <= chunk_size)
}

/// Downloads the output of `job` (a succeeded archive retrieval whose output fits one
/// chunk of `opts.chunk_size`) into `part`, which must not exist: it is created with
/// `O_CREAT | O_EXCL`, so nothing at that name, not even a symbolic link, is followed or
/// overwritten. On success `part` holds exactly the verified output and has been synced
/// (data and metadata); the caller renames it into place and syncs that directory. On
/// any failure `part` is removed.
pub fn download_small(
    client: &Client,
    vault: &str,
    job: &JobDescription,
    part: &Path,
    opts: &Options,
) -> Result<Outcome> {
    let job_id = job.id()?;
    let (size, expected) = expected_output(job)?;
    if size > opts.chunk_size {
        return Err(Error::Job(format!(
            "job {job_id}: output of {size} bytes is larger than one chunk ({} bytes)",
            opts.chunk_size
        )));
    }
    if opts.stop.load(Ordering::Relaxed) {
        return Err(Error::Interrupted("download interrupted".into()));
    }
    let file = durable::create_new(part)?;
    let fetched = (|| {
        // The socket's bytes gather in `recv` and are read back into it: as large as the
        // output at most, never more than the general path's block (`back` grows only
        // for an output Glacier sends no hash for).
        let mut recv = vec![0u8; size.min(BLOCK_SIZE) as usize];
        let mut back = Vec::new();
        let tree_hash = fetch_chunk(
            &JobRange {
                client,
                vault,
                job_id: &job_id,
                range: (0, size - 1),
                output_size: size,
            },
            &mut recv,
            |block| write_checked(&file, part, block, &mut back),
            opts.reporter.as_ref(),
        )?;
        if let Some(want) = expected {
            if want != tree_hash {
                return Err(Error::Mismatch {
                    what: format!("job {job_id}: tree hash of the downloaded output"),
                    expected: want.to_hex(),
                    actual: tree_hash.to_hex(),
                });
            }
        }
        // What was read back is what the hash covers; the one sync makes it durable.
        file.sync_all().map_err(|e| Error::io(part, e))?;
        Ok(Outcome {
            size,
            tree_hash,
            verified_whole: expected.is_some(),
            chunks_resumed: 0,
        })
    })();
    drop(file);
    if fetched.is_err() {
        let _ = fs::remove_file(part);
    }
    fetched
}
