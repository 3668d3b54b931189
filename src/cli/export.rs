//! `glacier vault export [OPTIONS] VAULT DIR|s3://BUCKET/PREFIX`: parses the flags and
//! prints; the work is in `crate::export` (a directory or an S3 bucket as destination).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::args::one_of;
use super::scope::{
    DEFAULT_S3_PART_SIZE, parse_duration, parse_positive_size, parse_size, source_and_selection,
};
use super::{Args, Global, Output, flags, note};
use crate::config::ProcessEnv;
use crate::error::{Error, Result};
use crate::export::scheduler::{self, Report, Status};
use crate::export::{self, Destination, DirDestination, S3Destination, S3Target};
use crate::progress::human_bytes;
use crate::progress::human_duration;
use crate::s3::{self, StorageClass};
use crate::vault::inventory::{Acquire, Acquired, acquire};
use crate::vault::journal::{Journal, State};
use crate::vault::select::Selection;
use crate::vault::{self, InventorySource, manifest};

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

    /// The `--names FILE`, read and checked whole (a bad line is exit 2).
    fn names_file(&self) -> Result<Option<vault::names_file::NamesFile>> {
        self.names
            .as_deref()
            .map(vault::names_file::NamesFile::read)
            .transpose()
    }

    /// Where the journal, the saved inventory and the local manifest live.
    fn state_dir(&self) -> Result<PathBuf> {
        match &self.s3 {
            None => Ok(vault::state_dir(&self.dir)),
            Some(o) => match &o.journal {
                Some(j) => Ok(j.clone()),
                None => export::s3::default_journal_dir(&ProcessEnv, &self.vault, &o.target),
            },
        }
    }

    /// Where the manifest is written locally.
    fn manifest_dir(&self, state_dir: &std::path::Path) -> PathBuf {
        match self.s3 {
            None => self.dir.clone(),
            Some(_) => state_dir.to_path_buf(),
        }
    }

    /// The S3 destination, reached by the shared client ([`super::s3_client`]).
    fn s3_destination(&self, global: &Global, o: &S3Options) -> Result<S3Destination> {
        let client = super::s3_client::s3_client(global, o.endpoint_url.as_deref())?;
        Ok(S3Destination::new(
            client,
            o.target.clone(),
            o.storage_class,
            o.part_size,
        ))
    }

    fn poll(&self) -> Duration {
        // Test hook, as for `archive get --wait`: the integration tests poll every few ms.
        super::retrieval::poll_override()
            .or(self.poll)
            .unwrap_or_else(|| scheduler::default_poll(&self.tier))
    }

    /// A rerun uses the inventory an earlier run saved: say how old it is, and that
    /// archives uploaded since are not in it.
    fn note_saved_inventory(&self, global: &Global, inv: &vault::InventoryFile) {
        let date = crate::purge::inventory_date(inv)
            .ok()
            .flatten()
            .unwrap_or_else(|| "an unknown date".into());
        note(
            global,
            &format!(
                "using the inventory of vault '{}' saved by an earlier run (Glacier's inventory of {date}); archives uploaded after it are not included: to include them, export into a new DIR or give --inventory-job with a new job from 'glacier inventory init-retrieval {}'",
                self.vault, self.vault
            ),
        );
    }

    pub(super) fn run(self, global: &Global, out: &mut Output) -> Result<()> {
        // Checked before anything is sent: a bad line costs nothing.
        self.selection.check()?;
        let names_file = self.names_file()?;
        let client = global.client()?;
        let state_dir = self.state_dir()?;
        let mut notes = |m: &str| note(global, m);
        if self.dry_run {
            return self.dry_run(global, out, &client, &state_dir, names_file);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (dir_dest, s3_dest) = match &self.s3 {
            None => {
                let mut d = DirDestination::new(&self.dir)?;
                d.stop = stop.clone();
                // Test hook: the tests cannot fill a disk, so they say how full it is.
                d.free_bytes = super::knobs::free_bytes();
                (Some(d), None)
            }
            Some(o) => {
                let mut d = self.s3_destination(global, o)?;
                d.stop = stop.clone();
                d.max_memory = o.max_memory;
                (None, Some(d))
            }
        };
        let dest: &dyn Destination = match (&dir_dest, &s3_dest) {
            (Some(d), _) => d,
            (_, Some(d)) => d,
            (None, None) => return Err(Error::Failed("no destination".into())),
        };
        let (mut journal, mut state) = Journal::open(&state_dir)?;
        // Two runs on one journal would both start jobs for the same archives and write
        // the same files: the second is refused (exit 2) before it sends anything.
        journal.lock()?;
        // SIGINT/SIGTERM/SIGHUP: the first stops between archives (the journal stays
        // consistent), a second exits at once.
        crate::signals::install(&stop)?;
        let saved = state_dir.join("inventory.json");
        let how = Acquire {
            vault: &self.vault,
            source: &self.source,
            saved: &saved,
            purpose: "glacier vault export",
            wait: !self.no_wait,
            poll: self.poll(),
            backoff: super::retrieval::backoff(),
            stop: &stop,
        };
        let inv = match acquire(&client, &how, &mut journal, &mut state, &mut notes)? {
            Acquired::Ready(inv) => inv,
            Acquired::Reused(inv) => {
                self.note_saved_inventory(global, &inv);
                inv
            }
            Acquired::Waiting(j) => {
                return Err(Error::JobInProgress(format!(
                    "inventory job {j} of vault '{}' is not finished; run the same command again later",
                    self.vault
                )));
            }
            Acquired::NotYet => return Err(not_inventoried(&self.vault)),
        };
        let (names, unusable) = vault::count_names_from(&inv, names_file)?;
        if let Some(n) = unusable.note() {
            note(global, &n);
        }
        let opts = scheduler::Options {
            tier: self.tier.clone(),
            max_jobs: self.max_jobs,
            max_pending: self.max_pending,
            threads: self.threads,
            poll: self.poll(),
            wait: !self.no_wait,
            stop,
            backoff: super::retrieval::backoff(),
            max_bytes_per_day: self.max_bytes_per_day,
            clock,
        };
        let progress = global.progress_enabled();
        let started = std::time::Instant::now();
        let mut first_done: Option<u64> = None;
        let mut show = |s: &Status| {
            if !progress {
                return;
            }
            let base = *first_done.get_or_insert(s.done);
            let next = s
                .next_poll
                .map(|d| format!(", next poll in {}", human_duration(d)))
                .unwrap_or_default();
            // ETA from this run's pace; none until something has been exported.
            let eta = match s.done.saturating_sub(base) {
                0 => String::new(),
                n => {
                    let left = s.total.saturating_sub(s.done);
                    let secs = started.elapsed().as_secs_f64() / n as f64 * left as f64;
                    format!(
                        ", about {} left",
                        human_duration(Duration::from_secs_f64(secs))
                    )
                }
            };
            eprintln!(
                "glacier: exported {} of {} archives ({} of {}); jobs waiting {}, ready {}{eta}{next}",
                s.done,
                s.total,
                human_bytes(s.done_bytes),
                human_bytes(s.total_bytes),
                s.waiting,
                s.ready
            );
        };
        let work = scheduler::Work {
            client: &client,
            vault: &self.vault,
            inv: &inv,
            names: &names,
            selection: &self.selection,
            dest,
        };
        let result = scheduler::run(
            &work,
            &mut journal,
            &mut state,
            &opts,
            &mut notes,
            &mut show,
        );
        // The manifest says where things stand even when the run stopped early.
        let failed: HashMap<String, String> = match &result {
            Ok(r) => r
                .failed
                .iter()
                .map(|(id, _, why)| (id.clone(), why.clone()))
                .collect(),
            Err(_) => HashMap::new(),
        };
        let manifest_dir = self.manifest_dir(&state_dir);
        let written = manifest::write(
            &manifest_dir,
            &inv,
            &names,
            &self.selection,
            &state,
            &failed,
        );
        // The run's own error comes first; a manifest that could not be written as well
        // is said after it, never in its place.
        let (report, written) = match (result, written) {
            (Ok(r), Ok(w)) => (r, w),
            (Ok(_), Err(m)) => return Err(m),
            (Err(e), Ok(_)) => return Err(e),
            (Err(e), Err(m)) => {
                return Err(Error::WithHint {
                    error: Box::new(e),
                    hint: format!(
                        "the manifest could not be written either: {}",
                        crate::error::chain(&m)
                    ),
                });
            }
        };
        if report.failed.is_empty() {
            manifest::remove_failed(&manifest_dir, self.selection.shard.as_ref())?;
        }
        if let Some(d) = &s3_dest {
            // At the end of a run that got through, the bucket gets the manifest too, so
            // whoever reads the bucket (or `vault purge --only-exported`) sees it.
            d.upload_manifest(&manifest_dir, self.selection.shard.as_ref())?;
        }
        self.print(global, out, &report, &dest.describe())?;
        for (id, name, why) in &report.failed {
            eprintln!("glacier: archive {id} ({name}) failed: {why}");
        }
        if let Some(p) = &written.failed_file {
            eprintln!(
                "glacier: {} failed archives are listed in {}",
                written.failed,
                p.display()
            );
        }
        if !report.failed.is_empty() {
            return Err(Error::Reported);
        }
        if report.remaining > 0 {
            return Err(Error::JobInProgress(format!(
                "{} archives of vault '{}' still to export; run the same command again later",
                report.remaining, self.vault
            )));
        }
        Ok(())
    }

    fn print(&self, global: &Global, out: &mut Output, r: &Report, to: &str) -> Result<()> {
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

    fn dry_run(
        &self,
        global: &Global,
        out: &mut Output,
        client: &crate::glacier::Client,
        state_dir: &std::path::Path,
        names_file: Option<vault::names_file::NamesFile>,
    ) -> Result<()> {
        // Read the journal if there is one, but create nothing.
        let (mut journal, mut state) = if state_dir.exists() {
            let (j, s) = Journal::open(state_dir)?;
            (Some(j), s)
        } else {
            (None, State::default())
        };
        let inv = match (&self.source, journal.as_mut()) {
            (InventorySource::File(p), _) => vault::InventoryFile::open_given(p)?,
            (InventorySource::New, _)
                if !state.inventory_saved && state.inventory_job.is_none() =>
            {
                return Err(Error::Usage(
                    "--dry-run needs an inventory: give --inventory FILE or --inventory-job JOB_ID (a dry run starts no job)".into(),
                ));
            }
            (_, Some(j)) => match acquire(
                client,
                &Acquire {
                    vault: &self.vault,
                    source: &self.source,
                    saved: &state_dir.join("inventory.json"),
                    purpose: "glacier vault export",
                    wait: false,
                    poll: self.poll(),
                    backoff: super::retrieval::backoff(),
                    // A dry run never waits, so there is no pause to cut short.
                    stop: &AtomicBool::new(false),
                },
                j,
                &mut state,
                &mut |m| note(global, m),
            )? {
                Acquired::Ready(inv) | Acquired::Reused(inv) => inv,
                Acquired::NotYet => return Err(not_inventoried(&self.vault)),
                Acquired::Waiting(id) => {
                    return Err(Error::JobInProgress(format!(
                        "inventory job {id} is not finished; a dry run needs its output"
                    )));
                }
            },
            (_, None) => {
                return Err(Error::Usage(
                    "--dry-run with --inventory-job needs DIR to exist (the inventory is saved there); or give --inventory FILE".into(),
                ));
            }
        };
        let (names, unusable) = vault::count_names_from(&inv, names_file)?;
        if let Some(n) = unusable.note() {
            note(global, &n);
        }
        let p = export::plan(
            &inv,
            &names,
            &self.selection,
            &state,
            crate::download::DEFAULT_CHUNK_SIZE,
            &self.tier,
        )?;
        let summary = self.plan_summary(&inv)?;
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

    /// The cost and risk summary `vault plan` prints for the same vault, selection and
    /// destination (shipped prices): a dry run shows what the export would cost.
    fn plan_summary(&self, inv: &vault::InventoryFile) -> Result<crate::plan::Report> {
        let target = match &self.s3 {
            None => crate::plan::Target::Dir,
            Some(o) => crate::plan::Target::S3 {
                part_size: o.part_size,
            },
        };
        let opts = crate::plan::Options {
            selection: self.selection.clone(),
            // Read again: the count above consumed the parsed file.
            names: self.names_file()?,
            target,
            max_bytes_per_day: self.max_bytes_per_day,
            prices: crate::plan::Prices::shipped(),
            now: super::knobs::now()?,
        };
        crate::plan::run(inv, &opts)
    }
}

/// Now, for the scheduler: the real clock, or `GLACIER_TEST_NOW` (checked at parse).
fn clock() -> time::OffsetDateTime {
    super::knobs::now().unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}

/// Exit 3 ("not yet") for a vault Glacier has not inventoried: cron loops try again.
fn not_inventoried(vault: &str) -> Error {
    Error::JobInProgress(format!(
        "vault '{vault}' has no inventory yet: Glacier takes one about a day after the first upload; run the same command again tomorrow"
    ))
}
