//! `glacier vault purge [OPTIONS] VAULT`: parses the flags, asks for confirmation, and
//! prints; the work is in `crate::purge`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::scope::source_and_selection;
use super::{Args, Global, Output, data_dir, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::glacier::Client;
use crate::progress::human_bytes;
use crate::purge::{self, Counts, ExportedTo, Report, Scope};
use crate::sync::LockExt;
use crate::vault::inventory::{Acquire, Acquired, acquire};
use crate::vault::journal::{Journal, State};
use crate::vault::{self, InventoryFile, InventorySource, Selection};
use crate::vault_delete::{self, Outcome};

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
    fn journal_path(&self) -> Result<PathBuf> {
        if let Some(p) = &self.journal {
            return Ok(p.clone());
        }
        let dir = data_dir(&ProcessEnv).ok_or_else(|| {
            Error::Config(
                "no data directory for the purge journal (set XDG_DATA_HOME or HOME, or give --journal FILE)".into(),
            )
        })?;
        Ok(dir.join("purge").join(format!("{}.jsonl", self.vault)))
    }

    fn poll() -> Duration {
        super::retrieval::poll_override().unwrap_or_else(|| Duration::from_secs(15 * 60))
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
        let journal_path = self.journal_path()?;
        if let Some(dir) = journal_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let saved = journal_path.with_extension("inventory.json");
        let (mut journal, mut state) = Journal::open_file(&journal_path)?;
        journal.lock()?;
        // The journal decides: a new inventory job is started unless it has one.
        if self.dry_run
            && matches!(self.source, InventorySource::New)
            && !(state.inventory_saved && saved.exists())
            && state.inventory_job.is_none()
        {
            return Err(Error::Usage(
                "--dry-run needs an inventory: give --inventory FILE or --inventory-job JOB_ID (a dry run starts no job)".into(),
            ));
        }
        // Read before any request: a missing export is a usage error (exit 2).
        let verified = match &self.only_exported {
            Some(place) => {
                let record = place.record(|| {
                    super::s3_client::s3_client(global, self.s3_endpoint_url.as_deref())
                })?;
                let v = record.verified()?;
                note(
                    global,
                    &format!(
                        "{} archives exported and verified in {}",
                        v.len(),
                        record.describe()
                    ),
                );
                Some(v)
            }
            None => None,
        };
        let inv = self.inventory(global, &client, &saved, &mut journal, &mut state)?;
        let (names, unusable) = vault::count_names_and_unusable(&inv)?;
        if let Some(n) = unusable.note() {
            note(global, &format!("{n}; they are not deleted"));
        }
        let sc = purge::scope(&inv, &names, &self.selection, &state, verified.as_ref())?;
        if self.dry_run {
            return self.print_dry_run(global, out, &sc, &inv);
        }
        if !self.yes {
            self.confirm(&sc)?;
        }
        // A vault that is not there would make every archive "already gone" (404).
        client.describe_vault(&self.vault)?;
        let stop = Arc::new(AtomicBool::new(false));
        crate::signals::install(&stop)?;
        let (backoff, max_backoff) = super::retrieval::backoff();
        let pauses = AtomicU64::new(0);
        let opts = purge::Options {
            threads: self.threads,
            stop: &stop,
            backoff,
            max_backoff,
            pauses: &pauses,
        };
        let counts = Counts::default();
        let shown = Mutex::new(Instant::now());
        let progress_on = global.progress_enabled();
        let progress = |c: &Counts| {
            if !progress_on {
                return;
            }
            let mut last = shown.lock_unpoisoned();
            if last.elapsed() < Duration::from_secs(1) {
                return;
            }
            *last = Instant::now();
            eprintln!(
                "glacier: deleted {} of {} archives ({}); {} already gone, {} failed",
                c.deleted.load(Ordering::Relaxed),
                c.total.load(Ordering::Relaxed),
                human_bytes(c.deleted_bytes.load(Ordering::Relaxed)),
                c.already_gone.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed)
            );
        };
        let plan = purge::Plan {
            client: &client,
            vault: &self.vault,
            inv: &inv,
            names: &names,
            selection: &self.selection,
            scope: &sc,
            state: &state,
            exported: verified.as_ref(),
        };
        let report = purge::run(&plan, &mut journal, &opts, &counts, &progress)?;
        // Every DeleteArchive of this run was sent by now: an inventory older than this
        // cannot show the vault empty. (A run that deleted nothing leaves the judgement
        // to the inventory's count and Glacier's answer.)
        let deleted_before =
            (report.deleted + report.already_gone > 0).then(time::OffsetDateTime::now_utc);
        if report.stopped {
            return Err(Error::Interrupted(format!(
                "purge of vault '{}' stopped after {} deletions; run the same command again to continue (the journal {} keeps what is done)",
                self.vault,
                report.deleted,
                journal_path.display()
            )));
        }
        for (id, name, why) in &report.failed {
            eprintln!("glacier: archive {id} ({name}) not deleted: {why}");
        }
        let complete = report.failed.is_empty();
        let vault_deleted = if self.delete_vault && complete {
            // Archives the selection or --only-exported left stay in the vault (the
            // report's archives are those in scope and not left alone).
            let left = sc.inventory_archives.saturating_sub(report.archives);
            Some(if self.wait && left == 0 {
                self.wait_and_delete_vault(global, &client, deleted_before, &stop)?
            } else {
                self.delete_vault(global, &client, left)?
            })
        } else {
            None
        };
        self.print(global, out, &report, &sc, vault_deleted)?;
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

    fn inventory(
        &self,
        global: &Global,
        client: &Client,
        saved: &Path,
        journal: &mut Journal,
        state: &mut State,
    ) -> Result<InventoryFile> {
        let stop = AtomicBool::new(false);
        let how = Acquire {
            vault: &self.vault,
            source: &self.source,
            saved,
            purpose: "glacier vault purge",
            wait: !self.dry_run,
            poll: Self::poll(),
            backoff: super::retrieval::backoff(),
            // No signal handler is installed yet here, so Ctrl-C ends the wait at once.
            stop: &stop,
        };
        match acquire(client, &how, journal, state, &mut |m| note(global, m))? {
            Acquired::Ready(inv) | Acquired::Reused(inv) => Ok(inv),
            Acquired::NotYet => Err(Error::JobInProgress(format!(
                "vault '{}' has no inventory yet: Glacier takes one about a day after the first upload; run the same command again tomorrow",
                self.vault
            ))),
            Acquired::Waiting(j) => Err(Error::JobInProgress(format!(
                "inventory job {j} of vault '{}' is not finished; a dry run needs its output",
                self.vault
            ))),
        }
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

    /// DeleteVault, where Glacier's refusal of a vault its last inventory does not show
    /// empty is the expected answer, not a failure (API Reference, "Delete Vault": a
    /// vault can be deleted only if there were no writes since the last inventory and it
    /// holds no archives as of that inventory).
    fn delete_vault(&self, global: &Global, client: &Client, left: u64) -> Result<bool> {
        match client.delete_vault(&self.vault) {
            Ok(()) => {
                note(global, &format!("deleted vault '{}'", self.vault));
                Ok(true)
            }
            Err(e)
                if purge::service_error(&e).is_some_and(|s| {
                    s.status == 400 && s.message.to_ascii_lowercase().contains("not empty")
                }) =>
            {
                if left > 0 {
                    note(
                        global,
                        &format!(
                            "vault '{}' is not deleted: {left} archives of the inventory were outside this purge (selection or --only-exported) and are still in it",
                            self.vault
                        ),
                    );
                    return Ok(false);
                }
                note(
                    global,
                    &format!(
                        "vault '{v}' is not deleted yet: Glacier refuses until its next inventory shows the vault empty, about a day after the last deletion; run tomorrow: glacier vault delete {v}",
                        v = self.vault
                    ),
                );
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// `--delete-vault --wait`: checks (every hour, or the test hook's pace) until
    /// Glacier's inventory shows the vault empty, then deletes it; Ctrl-C ends the wait.
    fn wait_and_delete_vault(
        &self,
        global: &Global,
        client: &Client,
        deleted_before: Option<time::OffsetDateTime>,
        stop: &AtomicBool,
    ) -> Result<bool> {
        let opts = vault_delete::Options {
            wait: true,
            poll: super::retrieval::poll_override().unwrap_or(DELETE_POLL),
            deleted_before,
            stop,
            now: &time::OffsetDateTime::now_utc,
        };
        match vault_delete::run(client, &self.vault, &opts, &mut |m| note(global, m))? {
            Outcome::Deleted => {
                note(global, &format!("deleted vault '{}'", self.vault));
                Ok(true)
            }
            // A wait ends only when the vault is gone or by an error; kept for safety.
            Outcome::NotYet { why, .. } => Err(Error::JobInProgress(format!(
                "not yet: {why}; run 'glacier vault delete --when-empty {}' later",
                self.vault
            ))),
        }
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
        r: &Report,
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
