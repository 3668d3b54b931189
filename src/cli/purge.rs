//! `glacier vault purge [OPTIONS] VAULT`: parses the flags, asks for confirmation, and
//! prints; the work (inventory, scope, deletions, the vault) is `crate::purge`'s
//! workflow, called in two steps so the question can come between them.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::scope::source_and_selection;
use super::{Args, Global, Output, data_dir, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::progress::human_bytes;
use crate::purge::{self, Deleted, ExportedTo, Prepare, Scope, VaultEnd};
use crate::vault::{self, InventorySource, Selection};
use crate::workflow::Ctx;

/// `--threads` without the flag (shown by its help, checked in `flags`).
pub(super) const DEFAULT_THREADS: usize = 8;

/// A parsed `vault purge`.
#[derive(Debug)]
pub struct PurgeCmd {
    vault: String,
    source: InventorySource,
    selection: Selection,
    only_exported: Option<ExportedTo>,
    /// `--s3-endpoint-url`, for `--only-exported s3://...` (as for `vault export`).
    s3_endpoint_url: Option<String>,
    journal: Option<PathBuf>,
    threads: usize,
    dry_run: bool,
    yes: bool,
    delete_vault: bool,
    /// `--wait`: after `--delete-vault`'s refusal, wait for Glacier's inventory to show
    /// the vault empty and delete it then.
    wait: bool,
}

/// How often `--delete-vault --wait` looks: Glacier inventories about daily, so more
/// often than hourly only spends requests (as `vault delete --when-empty --wait`).
const DELETE_POLL: Duration = Duration::from_secs(3600);

/// How often the wait for the inventory job looks: such jobs take hours.
const INVENTORY_POLL: Duration = Duration::from_secs(15 * 60);

impl PurgeCmd {
    pub(super) fn parse(mut args: Args) -> Result<PurgeCmd> {
        let (source, selection) = source_and_selection(&mut args)?;
        let only_exported = args
            .text(&flags::ONLY_EXPORTED)?
            .map(|v| ExportedTo::parse(&v))
            .transpose()?;
        let s3_endpoint_url: Option<String> = args.text(&flags::S3_ENDPOINT_URL)?;
        if s3_endpoint_url.is_some() && !only_exported.as_ref().is_some_and(ExportedTo::is_s3) {
            return Err(Error::Usage(
                "--s3-endpoint-url is for --only-exported s3://BUCKET/PREFIX".into(),
            ));
        }
        let journal: Option<PathBuf> = args.path(&flags::PURGE_JOURNAL)?;
        let threads: usize = args
            .whole(&flags::PURGE_THREADS)?
            .unwrap_or(DEFAULT_THREADS);
        if threads == 0 || threads > 64 {
            return Err(Error::Usage(format!("--threads {threads}: use 1 to 64")));
        }
        let dry_run = args.switch(&flags::PURGE_DRY_RUN);
        let yes = args.switch(&flags::YES);
        let delete_vault = args.switch(&flags::DELETE_VAULT);
        let wait = args.switch(&flags::PURGE_WAIT);
        if wait && !delete_vault {
            return Err(Error::Usage(
                "--wait is for 'vault purge --delete-vault'".into(),
            ));
        }
        let [vault] = args.exact("vault purge", ["VAULT"])?;
        crate::glacier::check_vault_name(&vault)?;
        Ok(PurgeCmd {
            vault,
            source,
            selection,
            only_exported,
            s3_endpoint_url,
            journal,
            threads,
            dry_run,
            yes,
            delete_vault,
            wait,
        })
    }

    /// The journal file: `--journal FILE`, else
    /// `$XDG_DATA_HOME/glacier-upload/purge/VAULT.jsonl`.
    fn journal_path(&self, data_dir: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = &self.journal {
            return Ok(p.clone());
        }
        purge::default_journal(data_dir, &self.vault).ok_or_else(|| {
            Error::Config(
                "no data directory for the purge journal (set XDG_DATA_HOME or HOME, or give --journal FILE)".into(),
            )
        })
    }

    /// The workflow's options from the flags (and the test hooks' pace).
    fn options(&self, global: &Global, journal: PathBuf) -> Result<purge::Options> {
        let s3 = match &self.only_exported {
            Some(place) if place.is_s3() => Some(super::s3_client::s3_client(
                global,
                self.s3_endpoint_url.as_deref(),
            )?),
            _ => None,
        };
        let poll = super::retrieval::poll_override();
        Ok(purge::Options {
            vault: self.vault.clone(),
            source: self.source.clone(),
            selection: self.selection.clone(),
            only_exported: self.only_exported.clone(),
            s3,
            journal,
            threads: self.threads,
            dry_run: self.dry_run,
            delete_vault: self.delete_vault,
            wait: self.wait,
            inventory_poll: poll.unwrap_or(INVENTORY_POLL),
            delete_poll: poll.unwrap_or(DELETE_POLL),
            backoff: super::retrieval::backoff(),
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        // `--shard auto/N` without an index: exit 2 before anything is sent.
        self.selection.check()?;
        // Refuse before anything is sent (an inventory job included): nobody could answer.
        if !self.dry_run && !self.yes && !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "vault purge '{}': not on a terminal, so give --yes to delete without a question (or --dry-run to see what would go); nothing was sent",
                self.vault
            )));
        }
        let client = global.client()?;
        let data_dir = data_dir(&ProcessEnv);
        let journal_path = self.journal_path(data_dir.as_deref())?;
        let opts = self.options(global, journal_path.clone())?;
        // No signal handler yet: until the question is answered, Ctrl-C ends the process
        // (a wait for the inventory job included).
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = Ctx {
            glacier: &client,
            data_dir: data_dir.as_deref(),
            stop: &stop,
        };
        // Its line is cleared (dropped) before the dry run's output or the question.
        let prepared = match purge::prepare(&ctx, &opts, &global.display())? {
            Prepare::Ready(p) => *p,
            Prepare::NoInventory => {
                return Err(Error::Usage(
                    "--dry-run needs an inventory: give --inventory FILE or --inventory-job JOB_ID (a dry run starts no job)".into(),
                ));
            }
        };
        let sc = prepared.scope.clone();
        if self.dry_run {
            return self.print_dry_run(global, out, &sc, &prepared.inventory);
        }
        if !self.yes {
            self.confirm(&sc)?;
        }
        let display = Arc::new(global.display());
        // Deletions already sent finish and are journaled; a pause (before a retry, or
        // with --delete-vault --wait between looks at the vault) ends at once.
        let vault_wait = if self.delete_vault && self.wait {
            ", a wait for the vault to empty ends at once,"
        } else {
            ""
        };
        super::stop_on_signal(
            &stop,
            &display,
            format!(
                "no new deletion starts; requests in flight finish and are journaled{vault_wait} and the same command continues (interrupt again to quit at once)"
            ),
        )?;
        let result = purge::run(&ctx, &opts, prepared, display.as_ref());
        display.finish();
        let report = result?;
        let r = &report.deleted;
        if r.stopped {
            return Err(Error::Interrupted(format!(
                "purge of vault '{}' stopped after {} deletions; run the same command again to continue (the journal {} keeps what is done)",
                self.vault,
                r.deleted,
                journal_path.display()
            )));
        }
        for (id, name, why) in &r.failed {
            eprintln!("glacier: archive {id} ({name}) not deleted: {why}");
        }
        if let Some(end) = report.vault {
            self.note_vault_end(global, end);
        }
        let complete = r.failed.is_empty();
        let vault_deleted = report.vault.map(|v| v == VaultEnd::Deleted);
        self.print(global, out, r, &sc, vault_deleted)?;
        self.note_inventory_date(global, &sc, &journal_path);
        if self.delete_vault && !complete {
            note(
                global,
                &format!(
                    "vault '{}' not deleted: some archives failed; run the same command again",
                    self.vault
                ),
            );
        }
        if !complete {
            return Err(Error::Reported);
        }
        Ok(())
    }

    /// Shows the count and bytes on the terminal and wants the vault name typed back.
    fn confirm(&self, sc: &Scope) -> Result<()> {
        if sc.archives == 0 {
            return Ok(());
        }
        eprint!(
            "glacier: this deletes {} archives ({}) from vault '{}' for good.\nType the vault name to go on: ",
            sc.archives,
            human_bytes(sc.bytes),
            self.vault
        );
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Error::io("-", e))?;
        if line.trim() != self.vault {
            return Err(Error::Failed(format!(
                "'{}' is not the vault name '{}'; nothing was deleted",
                line.trim(),
                self.vault
            )));
        }
        Ok(())
    }

    /// What became of the vault with `--delete-vault`.
    fn note_vault_end(&self, global: &Global, end: VaultEnd) {
        let v = &self.vault;
        let line = match end {
            VaultEnd::Deleted => format!("deleted vault '{v}'"),
            VaultEnd::Outside(left) => format!(
                "vault '{v}' is not deleted: {left} archives of the inventory were outside this purge (selection or --only-exported) and are still in it"
            ),
            VaultEnd::NotYet => format!(
                "vault '{v}' is not deleted yet: Glacier refuses until its next inventory shows the vault empty, about a day after the last deletion; run tomorrow: glacier vault delete {v}"
            ),
        };
        note(global, &line);
    }

    fn note_inventory_date(&self, global: &Global, sc: &Scope, journal: &Path) {
        let when = match &sc.inventory_date {
            Some(d) => format!("the inventory of {d}"),
            None => "this inventory (the file gives no date)".into(),
        };
        let how = match self.source {
            InventorySource::File(_) => "run again with a newer inventory file".to_string(),
            _ => format!(
                "move {} and its .inventory.json away, then run the same command again (it starts a new inventory job)",
                journal.display()
            ),
        };
        note(
            global,
            &format!(
                "archives uploaded after {when} are not in it and were not deleted; to catch them, wait for Glacier's next inventory (about a day after the last change) and {how}"
            ),
        );
    }

    fn print(
        &self,
        global: &Global,
        out: &mut Output,
        r: &Deleted,
        sc: &Scope,
        vault_deleted: Option<bool>,
    ) -> Result<()> {
        if global.json {
            let failed: Vec<serde_json::Value> = r
                .failed
                .iter()
                .map(|(id, name, why)| serde_json::json!({"archive_id": id, "name": name, "error": why}))
                .collect();
            return out.json(&serde_json::json!({
                "vault": self.vault,
                "archives": r.archives,
                "deleted": r.deleted,
                "deleted_bytes": r.deleted_bytes,
                "already_gone": r.already_gone,
                "skipped": r.skipped,
                "not_exported": r.not_exported,
                "unusable_entries": sc.unusable,
                "failed": failed,
                "throttle_pauses": r.throttle_pauses,
                "inventory_date": sc.inventory_date,
                "vault_deleted": vault_deleted,
            }));
        }
        out.line(&format!(
            "deleted {} archives ({}) from vault '{}'; {} already gone, {} skipped (deleted by an earlier run), {} failed{}",
            r.deleted,
            human_bytes(r.deleted_bytes),
            self.vault,
            r.already_gone,
            r.skipped,
            r.failed.len(),
            if self.only_exported.is_some() {
                format!(", {} left alone (not exported and verified)", r.not_exported)
            } else {
                String::new()
            }
        ))
    }

    fn print_dry_run(
        &self,
        global: &Global,
        out: &mut Output,
        sc: &Scope,
        inv: &vault::InventoryFile,
    ) -> Result<()> {
        // The cost and risk summary `vault plan` prints for the same selection: for a
        // purge, the early-deletion charge of archives younger than 90 days.
        let summary = crate::plan::run(
            inv,
            &crate::plan::Options {
                selection: self.selection.clone(),
                names: None,
                target: crate::plan::Target::Dir,
                max_bytes_per_day: None,
                prices: crate::plan::Prices::shipped(),
                now: super::knobs::now()?,
            },
        )?;
        if global.json {
            let first: Vec<serde_json::Value> = sc
                .first
                .iter()
                .map(|(id, name, size)| serde_json::json!({"archive_id": id, "name": name, "size": size}))
                .collect();
            return out.json(&serde_json::json!({
                "vault": self.vault,
                "dry_run": true,
                "inventory_archives": sc.inventory_archives,
                "inventory_date": sc.inventory_date,
                "archives": sc.archives,
                "bytes": sc.bytes,
                "skipped": sc.skipped,
                "not_exported": sc.not_exported,
                "unusable_entries": sc.unusable,
                "first": first,
                "plan": summary,
            }));
        }
        out.line(&format!(
            "dry run: would delete {} of {} archives ({}) from vault '{}'; {} skipped (deleted by an earlier run){}",
            sc.archives,
            sc.inventory_archives,
            human_bytes(sc.bytes),
            self.vault,
            sc.skipped,
            if self.only_exported.is_some() {
                format!(", {} left alone (not exported and verified)", sc.not_exported)
            } else {
                String::new()
            }
        ))?;
        for (id, name, size) in &sc.first {
            out.line(&format!("  {name}  ({})  {id}", human_bytes(*size)))?;
        }
        if sc.archives > sc.first.len() as u64 {
            out.line(&format!(
                "  ... and {} more",
                sc.archives - sc.first.len() as u64
            ))?;
        }
        out.line("the selection as 'vault plan' sees it (before --only-exported):")?;
        let prices = super::plan_report::prices_from(None);
        super::plan_report::print_report(out, &self.vault, None, &summary, &prices)
    }
}
