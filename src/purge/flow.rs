//! The purge workflow, below the CLI, in two steps so a person can be asked in between:
//! [`prepare`] opens and locks the journal, reads what an export verified
//! (`--only-exported`), gets the inventory (a file, a finished job, or a new job waited
//! for) and computes the [`Scope`], sending nothing that changes the vault; [`run`] then
//! deletes what is in scope (journaled, throttling ridden out) and, when asked, the vault
//! itself once Glacier allows it.
//!
//! Both take the [`Ctx`] (client, data directory, stop flag), the [`Options`] and a
//! [`Reporter`]: the deletions are counted as items (and their bytes), and every message
//! for the person running it is a note. Nothing here prints, reads the environment or
//! names a flag: what the CLI says about the outcome it builds from the [`Report`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::{DeleteOptions, Deleted, ExportedTo, Plan, Scope, Verified, delete_planned, scope};
use crate::error::{Action, Error, Result};
use crate::progress::Reporter;
use crate::s3;
use crate::vault::inventory::{Acquire, Acquired, acquire};
use crate::vault::journal::{Journal, State};
use crate::vault::{self, Collisions, InventoryFile, InventorySource, Selection};
use crate::vault_delete::{self, Outcome};
use crate::workflow::Ctx;

/// What a purge is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault.
    pub vault: String,
    /// Where the inventory comes from.
    pub source: InventorySource,
    /// Which archives of it are in scope.
    pub selection: Selection,
    /// Delete only what an export there verified.
    pub only_exported: Option<ExportedTo>,
    /// The S3 client for an `only_exported` bucket (unused for a directory).
    pub s3: Option<Arc<s3::Client>>,
    /// The journal file (see [`default_journal`]); the inventory job's output is saved
    /// beside it, as `<journal>.inventory.json`.
    pub journal: PathBuf,
    /// Deletions in flight.
    pub threads: usize,
    /// Only look: no inventory job is started, nothing is deleted.
    pub dry_run: bool,
    /// Delete the vault too once its archives are gone.
    pub delete_vault: bool,
    /// With `delete_vault`: wait for Glacier's inventory to show the vault empty.
    pub wait: bool,
    /// The pause between DescribeJob calls while waiting for the inventory job.
    pub inventory_poll: Duration,
    /// The pause between looks at the vault while waiting to delete it.
    pub delete_poll: Duration,
    /// Pauses after faults that outlast the client's retries: first and longest.
    pub backoff: (Duration, Duration),
}

/// The journal of a purge of `vault` when none is given: `DATA_DIR/purge/VAULT.jsonl`,
/// if there is a data directory.
pub fn default_journal(data_dir: Option<&Path>, vault: &str) -> Option<PathBuf> {
    data_dir.map(|d| d.join("purge").join(format!("{vault}.jsonl")))
}

/// What [`prepare`] found.
pub enum Prepare {
    /// Ready to show, confirm and [`run`].
    Ready(Box<Prepared>),
    /// A dry run was asked for and no inventory is at hand: it would need a job, and a
    /// dry run starts none.
    NoInventory,
}

/// A purge ready to run: the journal locked, the inventory here, the scope known.
pub struct Prepared {
    journal: Journal,
    state: State,
    names: Collisions,
    verified: Option<Verified>,
    /// The inventory.
    pub inventory: InventoryFile,
    /// What the purge covers.
    pub scope: Scope,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("inventory", &self.inventory)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// How the vault itself ended, when its deletion was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultEnd {
    /// Deleted.
    Deleted,
    /// Not deleted: this many archives of the inventory were outside the purge.
    Outside(u64),
    /// Not deleted yet: Glacier refuses until its next inventory shows the vault empty.
    NotYet,
}

/// A finished (or stopped) purge.
#[derive(Debug, Clone)]
pub struct Report {
    /// What the deletions did.
    pub deleted: Deleted,
    /// The vault's end, when its deletion was asked for and every archive went.
    pub vault: Option<VaultEnd>,
}

/// Step one: journal, export record, inventory and scope (see the module comment).
/// Transient faults while getting the inventory are ridden out; notes say what happens.
pub fn prepare(ctx: &Ctx<'_>, opts: &Options, reporter: &dyn Reporter) -> Result<Prepare> {
    let path = &opts.journal;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let saved = path.with_extension("inventory.json");
    let (mut journal, mut state) = Journal::open_file(path)?;
    journal.lock()?;
    // The journal decides: a new inventory job is started unless it has one.
    if opts.dry_run
        && matches!(opts.source, InventorySource::New)
        && !(state.inventory_saved && saved.exists())
        && state.inventory_job.is_none()
    {
        return Ok(Prepare::NoInventory);
    }
    // Read before any request: a missing export is a usage error (exit 2).
    let verified = match &opts.only_exported {
        Some(place) => {
            let record = place.record(|| {
                opts.s3
                    .clone()
                    .ok_or_else(|| Error::Config("no S3 client for the export's bucket".into()))
            })?;
            let v = record.verified()?;
            reporter.note(&format!(
                "{} archives exported and verified in {}",
                v.len(),
                record.describe()
            ));
            Some(v)
        }
        None => None,
    };
    let inventory = inventory(ctx, opts, &saved, &mut journal, &mut state, reporter)?;
    let (names, unusable) = vault::count_names_and_unusable(&inventory)?;
    if let Some(n) = unusable.note() {
        reporter.note(&format!("{n}; they are not deleted"));
    }
    let scope = scope(
        &inventory,
        &names,
        &opts.selection,
        &state,
        verified.as_ref(),
    )?;
    Ok(Prepare::Ready(Box::new(Prepared {
        journal,
        state,
        names,
        verified,
        inventory,
        scope,
    })))
}

/// The inventory, from the file, the journal's saved output or a job (waited for
/// unless this is a dry run).
fn inventory(
    ctx: &Ctx<'_>,
    opts: &Options,
    saved: &Path,
    journal: &mut Journal,
    state: &mut State,
    reporter: &dyn Reporter,
) -> Result<InventoryFile> {
    let how = Acquire {
        vault: &opts.vault,
        source: &opts.source,
        saved,
        purpose: "glacier vault purge",
        wait: !opts.dry_run,
        poll: opts.inventory_poll,
        backoff: opts.backoff,
        stop: ctx.stop,
    };
    match acquire(ctx.glacier, &how, journal, state, &mut |m| reporter.note(m))? {
        Acquired::Ready(inv) | Acquired::Reused(inv) => Ok(inv),
        Acquired::NotYet => Err(Error::JobInProgress(format!(
            "vault '{}' has no inventory yet: Glacier takes one about a day after the first upload; run the same command again tomorrow",
            opts.vault
        ))),
        Acquired::Waiting(j) => Err(Error::JobInProgress(format!(
            "inventory job {j} of vault '{}' is not finished; a dry run needs its output",
            opts.vault
        ))),
    }
}

/// Step two: deletes what [`prepare`] found in scope, then (with `delete_vault`, when
/// every archive went) the vault. A stop (the context's flag) ends the deletions with
/// those in flight journaled: the report says `stopped`, and nothing more is done.
pub fn run(
    ctx: &Ctx<'_>,
    opts: &Options,
    prepared: Prepared,
    reporter: &dyn Reporter,
) -> Result<Report> {
    let Prepared {
        mut journal,
        state,
        names,
        verified,
        inventory,
        scope: sc,
    } = prepared;
    let client = ctx.glacier;
    // A vault that is not there would make every archive "already gone" (404).
    client.describe_vault(&opts.vault)?;
    let pauses = AtomicU64::new(0);
    let deletes = DeleteOptions {
        threads: opts.threads,
        stop: ctx.stop,
        backoff: opts.backoff.0,
        max_backoff: opts.backoff.1,
        pauses: &pauses,
    };
    let plan = Plan {
        client,
        vault: &opts.vault,
        inv: &inventory,
        names: &names,
        selection: &opts.selection,
        scope: &sc,
        state: &state,
        exported: verified.as_ref(),
    };
    let deleted = delete_planned(&plan, &mut journal, &deletes, reporter)?;
    // Every DeleteArchive of this run was sent by now: an inventory older than this
    // cannot show the vault empty. (A run that deleted nothing leaves the judgement to
    // the inventory's count and Glacier's answer.)
    let deleted_before =
        (deleted.deleted + deleted.already_gone > 0).then(time::OffsetDateTime::now_utc);
    let vault = if opts.delete_vault && !deleted.stopped && deleted.failed.is_empty() {
        // Archives the selection or `only_exported` left stay in the vault (the
        // deletions' archives are those in scope and not left alone).
        let left = sc.inventory_archives.saturating_sub(deleted.archives);
        Some(if opts.wait && left == 0 {
            wait_and_delete_vault(ctx, opts, deleted_before, reporter)?
        } else {
            delete_vault(ctx, &opts.vault, left)?
        })
    } else {
        None
    };
    Ok(Report { deleted, vault })
}

/// DeleteVault, where Glacier's refusal of a vault its last inventory does not show
/// empty is the expected answer, not a failure (API Reference, "Delete Vault": a vault
/// can be deleted only if there were no writes since the last inventory and it holds no
/// archives as of that inventory).
fn delete_vault(ctx: &Ctx<'_>, vault: &str, left: u64) -> Result<VaultEnd> {
    match ctx.glacier.delete_vault(vault) {
        Ok(()) => Ok(VaultEnd::Deleted),
        Err(e)
            if e.service().is_some_and(|s| {
                s.status == 400 && s.message.to_ascii_lowercase().contains("not empty")
            }) =>
        {
            Ok(if left > 0 {
                VaultEnd::Outside(left)
            } else {
                VaultEnd::NotYet
            })
        }
        Err(e) => Err(e),
    }
}

/// A vault still not deletable after the wait, and how to delete it later.
fn not_yet(why: &str, vault: &str) -> Error {
    Error::JobInProgress(format!(
        "not yet: {why}; run '{}' later",
        Action::DeleteVault { vault }
    ))
}

/// Checks (every `delete_poll`) until Glacier's inventory shows the vault empty, then
/// deletes it; the stop flag ends the wait.
fn wait_and_delete_vault(
    ctx: &Ctx<'_>,
    opts: &Options,
    deleted_before: Option<time::OffsetDateTime>,
    reporter: &dyn Reporter,
) -> Result<VaultEnd> {
    let how = vault_delete::Options {
        vault: &opts.vault,
        wait: true,
        poll: opts.delete_poll,
        deleted_before,
        now: &time::OffsetDateTime::now_utc,
    };
    match vault_delete::run(ctx, &how, reporter)? {
        Outcome::Deleted => Ok(VaultEnd::Deleted),
        // A wait ends only when the vault is gone or by an error; kept for safety.
        Outcome::NotYet { why, .. } => Err(not_yet(&why, &opts.vault)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vault still there after the wait: how to delete it later, in the library's words
    /// (the CLI installs its command instead).
    #[test]
    fn a_vault_not_deleted_yet_says_how_to_delete_it_later() {
        let err = not_yet("its inventory still lists 3 archives", "v");
        assert_eq!(
            err.to_string(),
            "not yet: its inventory still lists 3 archives; run 'DeleteVault for vault v with when_empty' later"
        );
        assert_eq!(err.exit_code(), crate::error::EXIT_IN_PROGRESS);
    }
}
