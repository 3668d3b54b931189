//! `glacier vault export [OPTIONS] VAULT DIR|s3://BUCKET/PREFIX`: parses the flags into
//! [`export::Options`], calls [`export::run`] (or [`export::dry_run`]) with the stderr
//! display as the reporter, prints the report and chooses the exit code. The work, files
//! and journal included, is in `crate::export`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::args::one_of;
use super::scope::{
    DEFAULT_S3_PART_SIZE, parse_duration, parse_positive_size, parse_size, source_and_selection,
};
use super::{Args, Global, Output, flags};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::export::{self, Planned, Preview, S3Target, To};
use crate::progress::{Reporter, human_bytes};
use crate::s3::{self, StorageClass};
use crate::vault::InventorySource;
use crate::vault::select::Selection;
use crate::workflow::Ctx;

/// `--max-jobs` without the flag (shown by its help, checked in `flags`).
pub(super) const DEFAULT_MAX_JOBS: usize = 1000;
/// `--threads` without the flag.
pub(super) const DEFAULT_THREADS: usize = 4;

/// A parsed `vault export`.
#[derive(Debug)]
pub struct ExportCmd {
    vault: String,
    dir: PathBuf,
    tier: String,
    source: InventorySource,
    selection: Selection,
    max_jobs: usize,
    max_pending: u64,
    /// `--max-bytes-per-day`.
    max_bytes_per_day: Option<u64>,
    threads: usize,
    poll: Option<Duration>,
    dry_run: bool,
    no_wait: bool,
    /// Set when the destination is `s3://BUCKET/PREFIX` (then `dir` is unused).
    s3: Option<S3Options>,
    /// `--names FILE`.
    names: Option<PathBuf>,
}

/// The S3 half of an export to `s3://BUCKET/PREFIX`.
#[derive(Debug)]
struct S3Options {
    target: S3Target,
    storage_class: StorageClass,
    endpoint_url: Option<String>,
    part_size: u64,
    /// `--max-memory`, bytes: caps the buffers of the parts in flight.
    max_memory: u64,
    /// `--journal DIR`, else [`export::s3::default_journal_dir`].
    journal: Option<PathBuf>,
}

impl ExportCmd {
    pub(super) fn parse(mut args: Args) -> Result<ExportCmd> {
        let tier = args
            .choice(&flags::EXPORT_TIER)?
            .unwrap_or("Bulk")
            .to_string();
        let (source, selection) = source_and_selection(&mut args)?;
        let max_jobs: usize = args.whole(&flags::MAX_JOBS)?.unwrap_or(DEFAULT_MAX_JOBS);
        if max_jobs == 0 {
            return Err(Error::Usage("--max-jobs must be at least 1".into()));
        }
        let max_pending = args
            .parsed(&flags::MAX_PENDING, parse_size)?
            .unwrap_or(u64::MAX);
        let max_bytes_per_day =
            args.parsed(&flags::EXPORT_MAX_BYTES_PER_DAY, parse_positive_size)?;
        // A bad test clock is a usage error now, not a fallback later.
        super::knobs::now()?;
        let threads: usize = args
            .whole(&flags::EXPORT_THREADS)?
            .unwrap_or(DEFAULT_THREADS);
        if threads == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        let poll = args.parsed(&flags::POLL, parse_duration)?;
        let dry_run = args.switch(&flags::DRY_RUN);
        let no_wait = args.switch(&flags::NO_WAIT);
        // Not `choice`: S3 takes the class in any case, as `StorageClass` parses it.
        let storage_class = args.parsed(&flags::STORAGE_CLASS, |v| {
            v.parse::<StorageClass>()
                .map_err(|_| format!("use {}", one_of(flags::STORAGE_CLASS.choices)))
        })?;
        let endpoint_url: Option<String> = args.text(&flags::S3_ENDPOINT_URL)?;
        let part_size = args.parsed(&flags::S3_PART_SIZE, parse_size)?;
        let max_memory: Option<u64> = args.whole(&flags::EXPORT_MAX_MEMORY)?;
        if max_memory == Some(0) {
            return Err(Error::Usage("--max-memory must be at least 1 (MiB)".into()));
        }
        let journal: Option<PathBuf> = args.path(&flags::EXPORT_JOURNAL)?;
        let names: Option<PathBuf> = args.path(&flags::NAMES)?;
        let [vault, dir] = args.exact("vault export", ["VAULT", "DIR"])?;
        crate::glacier::check_vault_name(&vault)?;
        let s3 = match S3Target::parse(&dir) {
            Some(target) => {
                let part_size = part_size.unwrap_or(DEFAULT_S3_PART_SIZE);
                if !(s3::MIN_PART_SIZE..=s3::MAX_PART_SIZE).contains(&part_size) {
                    return Err(Error::Usage(format!(
                        "--s3-part-size must be between {} and {} (S3's part limits)",
                        human_bytes(s3::MIN_PART_SIZE),
                        human_bytes(s3::MAX_PART_SIZE)
                    )));
                }
                Some(S3Options {
                    target: target?,
                    storage_class: storage_class.unwrap_or(StorageClass::DeepArchive),
                    endpoint_url,
                    part_size,
                    max_memory: max_memory.map_or(export::s3::DEFAULT_MAX_MEMORY, |m| {
                        m.saturating_mul(1 << 20)
                    }),
                    journal,
                })
            }
            None => {
                let given = [
                    ("--storage-class", storage_class.is_some()),
                    ("--s3-endpoint-url", endpoint_url.is_some()),
                    ("--s3-part-size", part_size.is_some()),
                    ("--max-memory", max_memory.is_some()),
                    ("--journal", journal.is_some()),
                ];
                if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
                    return Err(Error::Usage(format!(
                        "{flag} is for an export to s3://BUCKET/PREFIX, not to a directory (the journal of a directory export is DIR/.glacier-export)"
                    )));
                }
                None
            }
        };
        Ok(ExportCmd {
            vault,
            dir: PathBuf::from(dir),
            tier,
            source,
            selection,
            max_jobs,
            max_pending,
            max_bytes_per_day,
            threads,
            poll,
            dry_run,
            no_wait,
            s3,
            names,
        })
    }

    /// The workflow's options: the flags, the test hooks, and where the journal lives.
    /// A dry run reaches no bucket, so it gets no S3 client.
    fn options(&self, global: &Global) -> Result<export::Options> {
        let to = match &self.s3 {
            None => To::Dir {
                dir: self.dir.clone(),
                // Test hook: the tests cannot fill a disk, so they say how full it is.
                free_bytes: super::knobs::free_bytes(),
            },
            Some(o) => To::S3 {
                target: o.target.clone(),
                storage_class: o.storage_class,
                part_size: o.part_size,
                max_memory: o.max_memory,
                journal: match &o.journal {
                    Some(j) => j.clone(),
                    None => export::s3::default_journal_dir(&ProcessEnv, &self.vault, &o.target)?,
                },
                client: match self.dry_run {
                    true => None,
                    false => Some(super::s3_client::s3_client(
                        global,
                        o.endpoint_url.as_deref(),
                    )?),
                },
            },
        };
        Ok(export::Options {
            vault: self.vault.clone(),
            to,
            source: self.source.clone(),
            selection: self.selection.clone(),
            names: self.names.clone(),
            tier: self.tier.clone(),
            max_jobs: self.max_jobs,
            max_pending: self.max_pending,
            max_bytes_per_day: self.max_bytes_per_day,
            threads: self.threads,
            // Test hook, as for `archive get --wait`: the integration tests poll every few ms.
            poll: super::knobs::poll_override().or(self.poll),
            wait: !self.no_wait,
            backoff: super::retrieval::backoff(),
            clock,
            refresh_hint: format!(
                "to include them, export into a new DIR or give --inventory-job with a new job from 'glacier inventory init-retrieval {}'",
                self.vault
            ),
        })
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        // Checked before anything is sent: a bad line costs nothing.
        self.selection.check()?;
        let client = global.client()?;
        let opts = self.options(global)?;
        let stop = Arc::new(AtomicBool::new(false));
        let data_dir = super::data_dir(&ProcessEnv);
        let ctx = Ctx {
            glacier: &client,
            data_dir: data_dir.as_deref(),
            stop: &stop,
        };
        let display = Arc::new(global.display());
        if self.dry_run {
            let preview = export::dry_run(&ctx, &opts, display.as_ref());
            display.finish();
            return self.print_preview(global, out, preview?);
        }
        // SIGINT/SIGTERM/SIGHUP: the first stops between archives (the journal stays
        // consistent) and says so at once, as downloads in flight may take a while; a
        // second exits at once.
        super::stop_on_signal(
            &stop,
            &display,
            "no new retrieval or download starts; those in flight finish first (interrupt again to quit at once)",
        )?;
        let reporter: Arc<dyn Reporter> = display.clone();
        let result = export::run(&ctx, &opts, &reporter);
        // Results and errors start on a clean line.
        display.finish();
        let report = result?;
        self.print(global, out, &report)?;
        for (id, name, why) in &report.summary.failed {
            eprintln!("glacier: archive {id} ({name}) failed: {why}");
        }
        if let Some(p) = &report.manifest.failed_file {
            eprintln!(
                "glacier: {} failed archives are listed in {}",
                report.manifest.failed,
                p.display()
            );
        }
        if !report.summary.failed.is_empty() {
            return Err(Error::Reported);
        }
        if report.summary.remaining > 0 {
            return Err(Error::JobInProgress(format!(
                "{} archives of vault '{}' still to export; run the same command again later",
                report.summary.remaining, self.vault
            )));
        }
        Ok(())
    }

    fn print(&self, global: &Global, out: &mut Output, report: &export::Report) -> Result<()> {
        let (r, to) = (&report.summary, &report.destination);
        if global.json {
            let failed: Vec<serde_json::Value> = r
                .failed
                .iter()
                .map(|(id, name, why)| serde_json::json!({"archive_id": id, "path": name, "error": why}))
                .collect();
            return out.json(&serde_json::json!({
                "vault": self.vault,
                "dir": self.s3.is_none().then(|| self.dir.display().to_string()),
                "destination": to,
                "archives": r.archives,
                "bytes": r.bytes,
                "already_exported": r.already_exported,
                "exported": r.exported,
                "exported_bytes": r.exported_bytes,
                "jobs_started": r.jobs_started,
                "jobs_restarted": r.jobs_restarted,
                "remaining": r.remaining,
                "failed": failed,
            }));
        }
        out.line(&format!(
            "exported {} of {} archives ({} this run, {}) from vault '{}' to {}; {} remaining, {} failed; {} jobs started ({} restarts)",
            r.already_exported + r.exported,
            r.archives,
            r.exported,
            human_bytes(r.exported_bytes),
            self.vault,
            to,
            r.remaining,
            r.failed.len(),
            r.jobs_started,
            r.jobs_restarted
        ))
    }

    /// A dry run's plan, or why there is none in the flags' words.
    fn print_preview(&self, global: &Global, out: &mut Output, preview: Preview) -> Result<()> {
        let Planned { plan: p, summary } = match preview {
            Preview::Ready(planned) => *planned,
            Preview::NoInventory => {
                return Err(Error::Usage(
                    "--dry-run needs an inventory: give --inventory FILE or --inventory-job JOB_ID (a dry run starts no job)".into(),
                ));
            }
            Preview::NoStateDir => {
                return Err(Error::Usage(
                    "--dry-run with --inventory-job needs DIR to exist (the inventory is saved there); or give --inventory FILE".into(),
                ));
            }
        };
        if global.json {
            let mut v = serde_json::to_value(&p).map_err(|e| Error::Failed(e.to_string()))?;
            let plan = serde_json::to_value(&summary).map_err(|e| Error::Failed(e.to_string()))?;
            if let Some(o) = v.as_object_mut() {
                o.insert("plan".into(), plan);
            }
            return out.json(&v);
        }
        out.line(&format!(
            "dry run: {} of {} archives in scope ({}), tier {}",
            p.archives,
            p.inventory_archives,
            human_bytes(p.bytes),
            p.tier
        ))?;
        out.line(&format!(
            "already exported {}, jobs journaled {}; would send {} InitiateJob and about {} GetJobOutput requests for {}",
            p.already_exported,
            p.jobs_journaled,
            p.initiate_job_requests,
            p.get_job_output_requests,
            human_bytes(p.bytes_to_retrieve)
        ))?;
        out.line(&format!(
            "names: {} renamed for collisions, {} named 00undefined/ARCHIVE_ID or 00error/ARCHIVE_ID",
            p.renamed, p.named_by_id
        ))?;
        for (id, name) in &p.renamed_examples {
            out.line(&format!("  {name}  <-  {id}"))?;
        }
        let s3 = self.s3.as_ref().map(|o| &o.target);
        let prices = super::plan_report::prices_from(None);
        super::plan_report::print_report(out, &self.vault, s3, &summary, &prices)
    }
}

/// Now, for the workflow: the real clock, or `GLACIER_TEST_NOW` (checked at parse).
fn clock() -> time::OffsetDateTime {
    super::knobs::now().unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}
