//! `inventory get` below the CLI: find the inventory job finished (waiting for it when
//! asked), then fetch its output and either save it (verified, well-formed, renamed into
//! place) or render it to a stream: Glacier's own JSON streamed as it arrives, any other
//! rendering with each archive's export name (resolved over the whole inventory, so the
//! output is spooled to a temporary file and read twice). A fetch whose bytes can be
//! taken back (a file, the spool) is tried again after a fault that outlasted the
//! client's retries; with `wait`, for as long as the fault lasts. Notes go to the
//! [`Reporter`]; the CLI prints the [`Report`].

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use super::jobs::{JobCheck, Pace, finished_job};
use super::{Persist, persist};
use crate::download::{Spool, VerifyingReader, save_stream};
use crate::error::{Error, Result};
use crate::glacier::JobId;
use crate::inventory::{self, Format, Render, Summary};
use crate::progress::Reporter;
use crate::vault::naming::name_from_description;
use crate::vault::{InventoryFile, count_names};
use crate::workflow::Ctx;

/// Which inventory to get.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault.
    pub vault: String,
    /// The inventory retrieval job.
    pub job_id: JobId,
    /// Wait for the job, and ride out faults of the fetch for as long as they last.
    pub wait: bool,
    /// How to wait.
    pub pace: Pace,
}

/// Where the inventory goes.
pub enum Destination<'w> {
    /// Saved as Glacier sent it.
    File {
        /// The file.
        path: PathBuf,
        /// Replace it if it exists.
        force: bool,
    },
    /// Rendered to a stream (standard output).
    Print {
        /// How.
        render: Render,
        /// Where.
        out: &'w mut dyn Write,
    },
}

/// What [`get`] did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The job's `Marker` when a `Limit` cut the list short: where the next job goes on.
    pub marker: Option<String>,
    /// Bytes saved, for [`Destination::File`].
    pub saved: Option<u64>,
    /// What was rendered and from which format, for [`Destination::Print`].
    pub printed: Option<(Summary, Format)>,
}

/// Finds the job finished and saves or renders its output (see the module comment).
pub fn get(
    ctx: &Ctx<'_>,
    opts: &Options,
    to: Destination<'_>,
    reporter: &dyn Reporter,
) -> Result<Report> {
    let (vault, job_id) = (opts.vault.as_str(), &opts.job_id);
    let check = JobCheck {
        vault,
        job_id,
        action: "InventoryRetrieval",
        wait: opts.wait,
        pace: opts.pace,
    };
    let job = finished_job(ctx, &check, reporter)?;
    let mut report = Report {
        marker: job.inventory_marker().map(str::to_string),
        ..Report::default()
    };
    let p = Persist {
        backoff: opts.pace.backoff,
        stop: ctx.stop,
        retry_mismatch: true,
        tries: if opts.wait { None } else { Some(1) },
    };
    let what = format!("downloading inventory job {job_id}");
    let note = &mut |m: &str| reporter.note(m);
    let fetch = || {
        let body = ctx.glacier.job_output(vault, job_id, None)?;
        let expected = body.tree_hash;
        let what = format!("inventory of job {job_id}");
        Ok(VerifyingReader::new(body, expected, what))
    };
    match to {
        Destination::File { path, force } => {
            // A saved file can be fetched again whole after a fault that outlasted the
            // client's retries; a stream cannot take bytes back.
            let size = persist(&p, &what, note, || {
                let size = save_stream(fetch()?, &path, force)?;
                // No tree hash comes with an inventory: a body damaged in transit shows
                // as one that does not parse.
                if let Err(e) = crate::vault::inventory::well_formed(&path) {
                    crate::durable::remove_if_exists(&path)?;
                    return Err(e);
                }
                Ok(size)
            })?;
            report.saved = Some(size);
        }
        // Glacier's own document shape: streamed as it arrives, no names.
        Destination::Print {
            render: Render::Json,
            out,
        } => {
            let mut reader = persist(&p, &what, note, fetch)?;
            let mut buffered = BufReader::with_capacity(1 << 16, &mut reader);
            let format = sniff(&mut buffered).map_err(|e| Error::io("inventory", e))?;
            let summary = inventory::render(&mut buffered, format, Render::Json, out)?;
            drop(buffered);
            reader.finish()?;
            report.printed = Some((summary, format));
        }
        Destination::Print { render, out } => {
            // Names are resolved over the whole inventory (a shared name gets a date
            // suffix), so it is read twice: saved first (verified, as for a file), then
            // counted, then rendered.
            let spool = Spool::new(job_id.as_str());
            persist(&p, &what, note, || save_stream(fetch()?, &spool.0, false))?;
            let inv = InventoryFile::open(&spool.0)?;
            let names = count_names(&inv)?;
            let namer = |e: &inventory::Entry| {
                let n = name_from_description(&e.description, &e.archive_id);
                names.resolve(&n.path, &e.creation_date, &e.archive_id)
            };
            let summary = inventory::render_named(inv.entries()?, render, &namer, out)?;
            report.printed = Some((summary, inv.format));
        }
    }
    Ok(report)
}

/// JSON inventories start with `{`; anything else is Glacier's CSV.
fn sniff(r: &mut impl BufRead) -> std::io::Result<Format> {
    loop {
        let buf = r.fill_buf()?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                return Ok(if buf[i] == b'{' {
                    Format::Json
                } else {
                    Format::Csv
                });
            }
            None if buf.is_empty() => return Ok(Format::Json),
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&mut &b"  \n{\"a\":1}"[..]).expect("ok"), Format::Json);
        assert_eq!(
            sniff(&mut &b"ArchiveId,ArchiveDescription"[..]).expect("ok"),
            Format::Csv
        );
    }
}
