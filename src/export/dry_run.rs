//! `vault export --dry-run` below the CLI: the same inventory, names and scope as
//! [`run`](super::run()), planned with nothing started and nothing created. It reads the
//! journal if an earlier run left one, uses an inventory file, an earlier run's saved
//! inventory or a finished job's output (saved where the journal is), and returns the
//! [`Plan`] with the cost and risk summary `vault plan` gives for the same scope. When it
//! cannot plan without starting or creating something it says why as data
//! ([`Preview`]), for the CLI to say in its words.

use super::workflow::{Options, To, not_inventoried};
use super::{Plan, plan};
use crate::error::{Error, Result};
use crate::progress::Reporter;
use crate::vault::inventory::{Acquired, InventorySource, acquire};
use crate::vault::journal::{Journal, State};
use crate::vault::{self, InventoryFile};
use crate::workflow::Ctx;

/// What a dry run found.
#[derive(Debug)]
pub enum Preview {
    /// The plan.
    Ready(Box<Planned>),
    /// No inventory to plan from: none was given, no earlier run saved one or started a
    /// job for one, and a dry run starts no job.
    NoInventory,
    /// The inventory is a job's output, and there is no state directory to save it in
    /// (a dry run creates none).
    NoStateDir,
}

/// A dry run's plan.
#[derive(Debug)]
pub struct Planned {
    /// What the export would do: archives, requests, names.
    pub plan: Plan,
    /// What it would cost and risk, as `vault plan` says it (shipped prices).
    pub summary: crate::plan::Report,
}

/// Plans the export `opts` describes without sending a job or creating a file; notes
/// (unusable names, a job found) go to `reporter`.
pub fn dry_run(ctx: &Ctx<'_>, opts: &Options, reporter: &dyn Reporter) -> Result<Preview> {
    opts.selection.check()?;
    let names_file = opts.names_file()?;
    let state_dir = opts.state_dir();
    // Read the journal if there is one, but create nothing.
    let (mut journal, mut state) = if state_dir.exists() {
        let (j, s) = Journal::open(&state_dir)?;
        (Some(j), s)
    } else {
        (None, State::default())
    };
    let saved = state_dir.join("inventory.json");
    let inv = match (&opts.source, journal.as_mut()) {
        (InventorySource::File(p), _) => InventoryFile::open_given(p)?,
        (InventorySource::New, _) if !state.inventory_saved && state.inventory_job.is_none() => {
            return Ok(Preview::NoInventory);
        }
        (_, Some(j)) => {
            // A dry run never waits, so there is no pause to cut short.
            let how = opts.acquire(ctx, &saved, false);
            let mut note = |m: &str| reporter.note(m);
            match acquire(ctx.glacier, &how, j, &mut state, &mut note)? {
                Acquired::Ready(inv) | Acquired::Reused(inv) => inv,
                Acquired::NotYet => return Err(not_inventoried(&opts.vault)),
                Acquired::Waiting(id) => {
                    return Err(Error::JobInProgress(format!(
                        "inventory job {id} is not finished; a dry run needs its output"
                    )));
                }
            }
        }
        (_, None) => return Ok(Preview::NoStateDir),
    };
    let (names, unusable) = vault::count_names_from(&inv, names_file)?;
    if let Some(n) = unusable.note() {
        reporter.note(&n);
    }
    let plan = plan(
        &inv,
        &names,
        &opts.selection,
        &state,
        crate::download::DEFAULT_CHUNK_SIZE,
        &opts.tier,
    )?;
    let summary = summary(opts, &inv)?;
    Ok(Preview::Ready(Box::new(Planned { plan, summary })))
}

/// The cost and risk summary `vault plan` prints for the same vault, selection and
/// destination (shipped prices).
fn summary(opts: &Options, inv: &InventoryFile) -> Result<crate::plan::Report> {
    let target = match &opts.to {
        To::Dir { .. } => crate::plan::Target::Dir,
        To::S3 { part_size, .. } => crate::plan::Target::S3 {
            part_size: *part_size,
        },
    };
    let p = crate::plan::Options {
        selection: opts.selection.clone(),
        // Read again: counting the names consumed the parsed file.
        names: opts.names_file()?,
        target,
        max_bytes_per_day: opts.max_bytes_per_day,
        prices: crate::plan::Prices::shipped(),
        now: (opts.clock)(),
    };
    crate::plan::run(inv, &p)
}
