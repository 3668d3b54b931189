//! `archive get` below the CLI: find the retrieval job finished (waiting for it when
//! asked), then download its output, every chunk checked against Glacier's tree hash,
//! into a file (resumable, and with `wait` tried again whole after a fault that
//! outlasted the client's retries) or a stream (which cannot take bytes back, so it is
//! tried once). Bytes go to the reporter's "download" phase; notes say what was ridden
//! out or kept. The report is the download's [`Outcome`]; the CLI prints it. And the
//! archive an export name stands for ([`by_name`]), for `archive init-retrieval --name`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::jobs::{JobCheck, Pace, finished_job};
use super::{Persist, persist};
use crate::download::{self, Outcome};
use crate::error::Result;
use crate::glacier::{ArchiveId, JobId};
use crate::progress::{Reporter, Totals};
use crate::vault::{InventoryFile, Selection, count_names, items};
use crate::workflow::Ctx;

/// What to download.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault.
    pub vault: String,
    /// The archive retrieval job.
    pub job_id: JobId,
    /// Wait for the job, and ride out faults of a file download for as long as they last.
    pub wait: bool,
    /// How to wait.
    pub pace: Pace,
    /// Chunks in flight.
    pub threads: usize,
    /// Chunk size: 1 MiB × 2^n.
    pub chunk_size: u64,
    /// Replace an existing file.
    pub force: bool,
}

/// Where the archive goes.
pub enum Destination<'w> {
    /// A file: written beside, verified, renamed into place; resumable.
    File(PathBuf),
    /// A stream (standard output): verified chunks in order.
    Stream(&'w mut dyn Write),
}

/// The archive in `inventory` (a file the user gave, read through first: one that
/// cannot be read or parsed is bad input) that `vault export` would name `path`, naming
/// exactly as the export does (every name counted over the whole inventory, shared ones
/// suffixed); `None` if no archive has that name.
pub fn by_name(path: &str, inventory: &Path) -> Result<Option<ArchiveId>> {
    let inv = InventoryFile::open_given(inventory)?;
    let names = count_names(&inv)?;
    let all = Selection::default();
    for item in items(&inv, &names, &all)? {
        let item = item?;
        if item.name == path {
            return ArchiveId::new(item.archive_id).map(Some);
        }
    }
    Ok(None)
}

/// Finds the job finished and downloads its output (see the module comment). The
/// reporter is shared with the download's workers, hence the `Arc`.
pub fn get(
    ctx: &Ctx<'_>,
    opts: &Options,
    to: Destination<'_>,
    reporter: &Arc<dyn Reporter>,
) -> Result<Outcome> {
    let vault = opts.vault.as_str();
    let check = JobCheck {
        vault,
        job_id: &opts.job_id,
        action: "ArchiveRetrieval",
        wait: opts.wait,
        pace: opts.pace,
    };
    let job = finished_job(ctx, &check, reporter.as_ref())?;
    let (size, _) = download::expected_output(&job)?;
    // Each attempt counts from 0: a retried download counts its kept chunks again.
    let begin = || reporter.begin("download", Totals::bytes(size));
    let dl = download::Options {
        threads: opts.threads,
        chunk_size: opts.chunk_size,
        force: opts.force,
        reporter: Arc::clone(reporter),
        stop: Arc::clone(ctx.stop),
    };
    let o = match to {
        Destination::Stream(out) => {
            begin();
            download::download_to_writer(ctx.glacier, vault, &job, out, &dl)?
        }
        Destination::File(target) => {
            // A file download resumes from its verified chunks, so with `wait` (a long
            // run) a transient fault that outlasted the client's retries is ridden out
            // by trying the whole download again. Without it, the run ends and the error
            // says how to resume.
            let p = Persist {
                backoff: opts.pace.backoff,
                stop: ctx.stop,
                // The download checks each chunk against Glacier's tree hash.
                retry_mismatch: true,
                tries: if opts.wait { None } else { Some(1) },
            };
            let what = format!("downloading job {}", opts.job_id);
            persist(&p, &what, &mut |m| reporter.note(m), || {
                begin();
                download::download_to_file(ctx.glacier, vault, &job, &target, &dl)
            })?
        }
    };
    if o.chunks_resumed > 0 {
        reporter.note(&format!(
            "resumed: kept {} verified chunks",
            o.chunks_resumed
        ));
    }
    Ok(o)
}
