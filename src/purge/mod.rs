//! Emptying a vault: the archives of an inventory deleted in parallel, each deletion
//! journaled as it is done (written at once, synced [`SYNC_EVERY`] records at a time and
//! at the end) so a rerun after `kill -9` sends no DeleteArchive for what is done, and
//! throttling slows the run down instead of failing it. A machine crash can lose the
//! unsynced tail: its archives are already gone, which the rerun's 404 says.
//!
//! Reuses the vault-scale pieces ([`crate::vault`]): the inventory source, names and
//! selection, and the journal (with its `deleted` record); [`exported`] says which
//! archives an export verified, for `--only-exported`. Deletions run on the one worker
//! pool. The workflow ([`prepare`], then [`run`]: inventory, scope, deletions, the vault
//! itself) is in [`flow`]; this file holds the deletion engine it and `archive delete`
//! use. Nothing here prints: progress and notes go to a
//! [`Reporter`](crate::progress::Reporter).

pub mod exported;
pub mod flow;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::glacier::{ArchiveId, Client};
use crate::progress::{Reporter, Totals};
use crate::sync::LockExt;
use crate::vault::journal::{self, Journal, Record, State};
use crate::vault::{Collisions, InventoryFile, Item, Selection, items};
use crate::workers::Pool;
use crate::workflow::Ctx;

pub use exported::{ExportedTo, Verified};
pub use flow::{Options, Prepare, Prepared, Report, VaultEnd, default_journal, prepare, run};

/// How many names a dry run shows.
pub const FIRST_NAMES: usize = 10;

/// What a purge would cover, from the inventory and the journal, with nothing sent.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Scope {
    /// Archives in the inventory.
    pub inventory_archives: u64,
    /// `InventoryDate` of the inventory, when it has one (CSV has none).
    pub inventory_date: Option<String>,
    /// Archives in scope still to delete.
    pub archives: u64,
    /// Their bytes.
    pub bytes: u64,
    /// In scope and deleted by an earlier run (journal).
    pub skipped: u64,
    /// In scope but not exported and verified (`--only-exported`): left alone.
    pub not_exported: u64,
    /// Inventory entries without an archive ID, size or tree hash: skipped, not deleted.
    pub unusable: u64,
    /// The first few archives to delete: (archive ID, name, size).
    pub first: Vec<(String, String, u64)>,
}

/// Why an archive is or is not to be deleted now.
fn verdict(it: &Item, state: &State, exported: Option<&Verified>) -> Verdict {
    if state.deleted.contains(&journal::key(&it.archive_id)) {
        Verdict::Done
    } else if exported.is_some_and(|v| !v.admits(&it.archive_id, it.size, &it.tree_hash)) {
        Verdict::NotExported
    } else {
        Verdict::Delete
    }
}

enum Verdict {
    Done,
    NotExported,
    Delete,
}

/// The inventory's `InventoryDate` (read from the header; the whole document is streamed
/// if the date comes after the archive list).
pub fn inventory_date(inv: &InventoryFile) -> Result<Option<String>> {
    let mut entries = inv.entries()?;
    loop {
        if let Some(d) = &entries.header().inventory_date {
            return Ok(Some(d.clone()));
        }
        match entries.next() {
            Some(e) => {
                e?;
            }
            None => return Ok(entries.header().inventory_date.clone()),
        }
    }
}

/// Computes the scope without sending anything.
pub fn scope(
    inv: &InventoryFile,
    names: &Collisions,
    selection: &Selection,
    state: &State,
    exported: Option<&Verified>,
) -> Result<Scope> {
    let mut s = Scope {
        inventory_date: inventory_date(inv)?,
        ..Scope::default()
    };
    let mut entries = inv.entries()?;
    for e in entries.by_ref() {
        e?;
        s.inventory_archives += 1;
    }
    s.unusable = entries.unusable().count;
    for it in items(inv, names, selection)? {
        let it = it?;
        match verdict(&it, state, exported) {
            Verdict::Done => s.skipped += 1,
            Verdict::NotExported => s.not_exported += 1,
            Verdict::Delete => {
                s.archives += 1;
                s.bytes = s.bytes.saturating_add(it.size);
                if s.first.len() < FIRST_NAMES {
                    s.first.push((it.archive_id, it.name, it.size));
                }
            }
        }
    }
    Ok(s)
}

/// How deletions run (a purge's, and `archive delete`'s).
#[derive(Debug, Clone)]
pub struct DeleteOptions<'a> {
    /// Deletions in flight.
    pub threads: usize,
    /// Set by a signal: no new deletion starts; those in flight finish and are journaled.
    pub stop: &'a AtomicBool,
    /// The first pause when the client's retries ran out on throttling; doubles each
    /// time the same archive is throttled again, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
    /// Counts those pauses (for the summary).
    pub pauses: &'a AtomicU64,
}

/// What became of one archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    /// DeleteArchive succeeded.
    Deleted,
    /// Glacier answered 404: already deleted.
    Gone,
    /// Another error; the message says which.
    Failed(String),
    /// The run was stopped while this archive was being retried; nothing is known.
    Stopped,
}

/// What the deletions of a purge did (the workflow's [`Report`] adds the vault's end).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Deleted {
    /// Archives in scope (deleted earlier included).
    pub archives: u64,
    /// Deleted by this run.
    pub deleted: u64,
    /// Bytes deleted by this run.
    pub deleted_bytes: u64,
    /// Found already deleted (404).
    pub already_gone: u64,
    /// Deleted by an earlier run (journal): not sent again.
    pub skipped: u64,
    /// Not exported and verified (`--only-exported`): left alone.
    pub not_exported: u64,
    /// Pauses for throttling beyond the client's retries.
    pub throttle_pauses: u64,
    /// Archives not deleted: (archive ID, name, why).
    pub failed: Vec<(String, String, String)>,
    /// Stopped by a signal before the end.
    pub stopped: bool,
}

/// A fault that outlasted the client's retries but that time cures: throttling, 5xx,
/// request timeouts, dropped connections. A purge runs for days; these never end it.
fn is_transient(e: &Error) -> bool {
    e.is_transient()
}

/// Deletes one archive. A 404 means someone (an earlier run whose journal line was lost
/// to a crash, or another tool) deleted it already. A transient fault that outlasts the
/// client's retries pauses this worker (capped, jittered, growing while it lasts) and
/// tries again, until `stop`.
pub fn delete_one(
    client: &Client,
    vault: &str,
    archive_id: &str,
    opts: &DeleteOptions<'_>,
) -> Deletion {
    delete_with(opts, &|| match ArchiveId::new(archive_id) {
        Ok(id) => client.delete_archive(vault, &id),
        Err(e) => Err(e),
    })
}

fn delete_with(opts: &DeleteOptions<'_>, send: &dyn Fn() -> Result<()>) -> Deletion {
    let mut backoff = crate::retrieval::Backoff::new(opts.backoff, opts.max_backoff);
    loop {
        match send() {
            Ok(()) => return Deletion::Deleted,
            Err(e) if e.is_not_found() => {
                return Deletion::Gone;
            }
            // DeleteArchive may have been done before the answer was lost: the next try
            // then gets 404, which counts as gone.
            Err(e) if is_transient(&e) => {
                if opts.stop.load(Ordering::Relaxed) {
                    return Deletion::Stopped;
                }
                // Glacier's request rate is per account: a pause here, multiplied by
                // every worker hitting it, is what slows the run to what Glacier takes.
                opts.pauses.fetch_add(1, Ordering::Relaxed);
                if !crate::retrieval::pause(backoff.next_pause(), opts.stop) {
                    return Deletion::Stopped;
                }
            }
            Err(e) => return Deletion::Failed(crate::error::chain(&e)),
        }
    }
}

/// What a purge deletes: the archives of the inventory in scope, less what the journal
/// says is done and (with `--only-exported`) what was not exported.
#[derive(Clone, Copy)]
pub struct Plan<'a> {
    /// The Glacier client.
    pub client: &'a Client,
    /// The vault.
    pub vault: &'a str,
    /// The inventory.
    pub inv: &'a InventoryFile,
    /// Names shared by several archives.
    pub names: &'a Collisions,
    /// Which archives are in scope.
    pub selection: &'a Selection,
    /// [`scope`] of the same inventory, selection, state and export.
    pub scope: &'a Scope,
    /// The journal as the run began.
    pub state: &'a State,
    /// Archives an export verified, with `--only-exported`.
    pub exported: Option<&'a Verified>,
}

/// How many deletion records one journal sync covers. A lost one costs a DeleteArchive
/// answered 404 on the rerun, never an archive, so the sync need not come first.
pub const SYNC_EVERY: u64 = 256;

/// Deletes every archive in scope not yet journaled, `opts.threads` at a time, and
/// journals each one as it is deleted or found gone (synced in groups and before it
/// returns). The reporter's "delete"
/// phase counts archives done (deleted, gone or failed) against those in scope, and the
/// bytes deleted. A journal write error stops the run and is returned; other failures
/// are listed in the result.
pub fn delete_planned(
    plan: &Plan<'_>,
    journal: &mut Journal,
    opts: &DeleteOptions<'_>,
    reporter: &dyn Reporter,
) -> Result<Deleted> {
    let Plan {
        client,
        vault,
        inv,
        names,
        selection,
        scope: sc,
        state,
        exported,
    } = *plan;
    reporter.begin(
        "delete",
        Totals {
            bytes: Some(sc.bytes),
            items: Some(sc.archives),
        },
    );
    let (deleted, deleted_bytes, already_gone) =
        (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let failed: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());
    let interrupted = AtomicBool::new(false);
    let todo = items(inv, names, selection)?.filter(move |it| match it {
        Ok(it) => matches!(verdict(it, state, exported), Verdict::Delete),
        Err(_) => true,
    });
    // The journal alone records this run's deletions; `state` stays what the run began
    // with (it decides what is in `todo`).
    let journal = Mutex::new(journal);
    let pool = Pool::new(opts.threads).stop(opts.stop);
    let outcome = pool.run(
        todo,
        || Ok::<(), Error>(()),
        |_, _, it| {
            let it = it?;
            let gone = match delete_one(client, vault, &it.archive_id, opts) {
                Deletion::Deleted => false,
                Deletion::Gone => true,
                Deletion::Failed(why) => {
                    failed
                        .lock_unpoisoned()
                        .push((it.archive_id.clone(), it.name.clone(), why));
                    reporter.add_items(1);
                    return Ok(());
                }
                Deletion::Stopped => {
                    interrupted.store(true, Ordering::Relaxed);
                    return Ok(());
                }
            };
            let r = Record::Deleted {
                archive_id: it.archive_id.clone(),
                gone,
                time: crate::vault::now_rfc3339(),
            };
            {
                let mut j = journal.lock_unpoisoned();
                j.record(&r)?;
                if j.unsynced() >= SYNC_EVERY {
                    j.sync()?;
                }
            }
            if gone {
                already_gone.fetch_add(1, Ordering::Relaxed);
            } else {
                deleted.fetch_add(1, Ordering::Relaxed);
                deleted_bytes.fetch_add(it.size, Ordering::Relaxed);
                reporter.add_bytes(it.size);
            }
            reporter.add_items(1);
            Ok(())
        },
    );
    let synced = journal
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .sync();
    if let Some(e) = outcome.error {
        return Err(e);
    }
    synced?;
    Ok(Deleted {
        archives: sc.archives + sc.skipped,
        deleted: deleted.into_inner(),
        deleted_bytes: deleted_bytes.into_inner(),
        already_gone: already_gone.into_inner(),
        skipped: sc.skipped,
        not_exported: sc.not_exported,
        throttle_pauses: opts.pauses.load(Ordering::Relaxed),
        failed: failed.into_inner().unwrap_or_else(|p| p.into_inner()),
        stopped: outcome.stopped || interrupted.into_inner(),
    })
}

/// What `archive delete` did with several IDs.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Tally {
    /// Deleted.
    pub deleted: u64,
    /// Already deleted (404).
    pub already_gone: u64,
    /// (archive ID, why) of those not deleted.
    pub failed: Vec<(String, String)>,
    /// Stopped by a signal before the end.
    pub stopped: bool,
}

/// How `archive delete` deletes several archives.
#[derive(Debug, Clone)]
pub struct DeleteIds {
    /// The vault.
    pub vault: String,
    /// Deletions in flight.
    pub threads: usize,
    /// Pauses after faults that outlast the client's retries: first and longest.
    pub backoff: (Duration, Duration),
}

/// Deletes the archives `ids` yields (read lazily, e.g. from stdin), `opts.threads` at a
/// time, with purge's rules: 404 is already gone, throttling pauses. The vault is looked
/// up first (a vault that is not there would make every archive "already gone"). The
/// reporter's "delete" phase counts the IDs done (against their number, when `ids`
/// knows it). An error reading `ids` stops the run and is returned; the context's stop
/// flag ends it with `stopped`.
pub fn delete_ids(
    ctx: &Ctx<'_>,
    opts: &DeleteIds,
    ids: impl Iterator<Item = Result<String>>,
    reporter: &dyn Reporter,
) -> Result<Tally> {
    let (client, vault) = (ctx.glacier, opts.vault.as_str());
    client.describe_vault(vault)?;
    let known = match ids.size_hint() {
        (lo, Some(hi)) if lo == hi => Some(lo as u64),
        _ => None,
    };
    reporter.begin(
        "delete",
        Totals {
            bytes: None,
            items: known,
        },
    );
    let pauses = AtomicU64::new(0);
    let deletes = DeleteOptions {
        threads: opts.threads,
        stop: ctx.stop,
        backoff: opts.backoff.0,
        max_backoff: opts.backoff.1,
        pauses: &pauses,
    };
    let failed: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let deleted = AtomicU64::new(0);
    let gone = AtomicU64::new(0);
    let interrupted = AtomicBool::new(false);
    let outcome = Pool::new(opts.threads).stop(ctx.stop).run(
        ids,
        || Ok::<(), Error>(()),
        |_, _, id| {
            let id = id?;
            match delete_one(client, vault, &id, &deletes) {
                Deletion::Deleted => {
                    deleted.fetch_add(1, Ordering::Relaxed);
                }
                Deletion::Gone => {
                    gone.fetch_add(1, Ordering::Relaxed);
                }
                Deletion::Failed(why) => failed.lock_unpoisoned().push((id, why)),
                Deletion::Stopped => {
                    interrupted.store(true, Ordering::Relaxed);
                    return Ok(());
                }
            }
            reporter.add_items(1);
            Ok(())
        },
    );
    if let Some(e) = outcome.error {
        return Err(e);
    }
    let mut failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    failed.sort();
    Ok(Tally {
        deleted: deleted.into_inner(),
        already_gone: gone.into_inner(),
        failed,
        stopped: outcome.stopped || interrupted.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceError;
    use std::sync::atomic::AtomicU32;

    fn svc(status: u16, code: &str) -> Error {
        Error::Service(Box::new(ServiceError {
            context: "c".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        }))
    }

    #[test]
    fn throttling_pauses_and_goes_on_404_is_gone_others_fail() {
        let stop = AtomicBool::new(false);
        let pauses = AtomicU64::new(0);
        let opts = DeleteOptions {
            threads: 1,
            stop: &stop,
            pauses: &pauses,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        };
        let n = AtomicU32::new(0);
        let d = delete_with(&opts, &|| {
            if n.fetch_add(1, Ordering::Relaxed) < 3 {
                Err(svc(400, "ThrottlingException"))
            } else {
                Ok(())
            }
        });
        assert_eq!(d, Deletion::Deleted);
        assert_eq!(n.load(Ordering::Relaxed), 4);
        assert_eq!(pauses.load(Ordering::Relaxed), 3);
        assert_eq!(
            delete_with(&opts, &|| Err(svc(404, "ResourceNotFoundException"))),
            Deletion::Gone
        );
        let hinted = || {
            Err(Error::WithHint {
                error: Box::new(svc(403, "AccessDeniedException")),
                hint: "h".into(),
            })
        };
        assert!(matches!(delete_with(&opts, &hinted), Deletion::Failed(_)));
        stop.store(true, Ordering::Relaxed);
        assert_eq!(delete_with(&opts, &|| Err(svc(429, ""))), Deletion::Stopped);
    }
}
