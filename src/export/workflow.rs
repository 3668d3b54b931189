//! The export workflow, below the CLI: [`run`] takes the context ([`Ctx`]: the Glacier
//! client, the stop flag), the [`Options`] the CLI built from its flags, and a
//! [`Reporter`], and returns a [`Report`]. It builds the destination, opens and locks the
//! journal, acquires the inventory (a file, a job's output, or the one an earlier run
//! saved), counts the names, drives the [`scheduler`], writes the manifest, and sends the
//! bucket its copy. The scheduler's notes and status become the reporter's notes, counts
//! (archives and bytes done against this run's totals) and detail (jobs waiting, next
//! poll). [`dry_run`](super::dry_run()) is the same preparation with nothing sent or
//! created.
//!
//! Nothing here prints, reads argv or the environment, or names a flag: what the user
//! must be told in the CLI's words (which flag to give) comes in the options as text, or
//! goes back as data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::scheduler::{self, Status};
use super::{Destination, DirDestination, S3Destination, S3Target};
use crate::error::{Error, Result};
use crate::progress::{Reporter, Totals, human_duration};
use crate::s3::{self, StorageClass};
use crate::vault::inventory::{Acquire, Acquired, InventorySource, acquire};
use crate::vault::journal::{Journal, State};
use crate::vault::names_file::NamesFile;
use crate::vault::{self, Collisions, InventoryFile, Selection, manifest};
use crate::workflow::Ctx;

/// Where an export goes.
#[derive(Debug, Clone)]
pub enum To {
    /// A local directory; its journal lives inside it ([`vault::state_dir`]).
    Dir {
        /// The directory (created if missing).
        dir: PathBuf,
        /// Free bytes to assume instead of asking the file system (tests cannot fill a
        /// disk); `None` asks.
        free_bytes: Option<u64>,
    },
    /// An S3 bucket and prefix; the journal lives in a local directory.
    S3 {
        /// The bucket and prefix.
        target: S3Target,
        /// The objects' storage class.
        storage_class: StorageClass,
        /// The size of an object's parts.
        part_size: u64,
        /// Cap on the buffers of the parts in flight.
        max_memory: u64,
        /// The journal, saved inventory and local manifest.
        journal: PathBuf,
        /// The S3 client; [`run`] needs it, a dry run reaches no bucket and takes `None`.
        client: Option<Arc<s3::Client>>,
    },
}

/// How to export.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault.
    pub vault: String,
    /// Where to.
    pub to: To,
    /// Where the inventory comes from.
    pub source: InventorySource,
    /// Which archives are in scope.
    pub selection: Selection,
    /// A file of `archive_id,name` lines whose names override the descriptions.
    pub names: Option<PathBuf>,
    /// The retrieval tier: `Bulk`, `Standard` or `Expedited`.
    pub tier: String,
    /// Jobs outstanding at most.
    pub max_jobs: usize,
    /// Bytes outstanding at most (one archive is always allowed).
    pub max_pending: u64,
    /// Bytes of retrievals requested in any 24 hours at most.
    pub max_bytes_per_day: Option<u64>,
    /// Download threads.
    pub threads: usize,
    /// The pause between polls of jobs; `None`: the tier's
    /// ([`scheduler::default_poll`]).
    pub poll: Option<Duration>,
    /// Wait for jobs (else: do what can be done now and return).
    pub wait: bool,
    /// Pauses while a transient fault outlasts the client's retries: first and longest.
    pub backoff: (Duration, Duration),
    /// Now (injected: tests move it).
    pub clock: fn() -> time::OffsetDateTime,
    /// What to tell a user whose rerun uses the inventory an earlier run saved, to include
    /// archives uploaded since (the CLI's words: which flag, which command); empty: no
    /// advice.
    pub refresh_hint: String,
}

impl Options {
    /// Where the journal, the saved inventory and (for S3) the local manifest live.
    pub fn state_dir(&self) -> PathBuf {
        match &self.to {
            To::Dir { dir, .. } => vault::state_dir(dir),
            To::S3 { journal, .. } => journal.clone(),
        }
    }

    /// Where the manifest is written locally.
    pub fn manifest_dir(&self) -> PathBuf {
        match &self.to {
            To::Dir { dir, .. } => dir.clone(),
            To::S3 { journal, .. } => journal.clone(),
        }
    }

    /// The pause between polls.
    pub fn poll(&self) -> Duration {
        self.poll
            .unwrap_or_else(|| scheduler::default_poll(&self.tier))
    }

    /// The scheduler's share of the options.
    fn scheduler(&self, ctx: &Ctx<'_>) -> scheduler::Options {
        scheduler::Options {
            tier: self.tier.clone(),
            max_jobs: self.max_jobs,
            max_pending: self.max_pending,
            threads: self.threads,
            poll: self.poll(),
            wait: self.wait,
            stop: Arc::clone(ctx.stop),
            backoff: self.backoff,
            max_bytes_per_day: self.max_bytes_per_day,
            clock: self.clock,
        }
    }

    /// The names file, read and checked whole.
    pub(super) fn names_file(&self) -> Result<Option<NamesFile>> {
        self.names.as_deref().map(NamesFile::read).transpose()
    }

    /// How to find the inventory, saved in `saved`, waiting for a job if `wait`.
    pub(super) fn acquire<'a>(&'a self, ctx: &Ctx<'a>, saved: &'a Path, wait: bool) -> Acquire<'a> {
        Acquire {
            vault: &self.vault,
            source: &self.source,
            saved,
            purpose: "glacier vault export",
            wait,
            poll: self.poll(),
            backoff: self.backoff,
            stop: ctx.stop,
        }
    }
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the archives went, for messages.
    pub destination: String,
    /// The archives: in scope, exported, remaining, failed; jobs started.
    pub summary: scheduler::Report,
    /// The failed-archives file the manifest step left, if any archive failed.
    pub manifest: manifest::Written,
}

/// The destination, kept concrete: an S3 export sends the bucket its manifest at the end.
enum Dest {
    Dir(DirDestination),
    S3(S3Destination),
}

impl Dest {
    fn new(ctx: &Ctx<'_>, to: &To, reporter: &Arc<dyn Reporter>) -> Result<Dest> {
        Ok(match to {
            To::Dir { dir, free_bytes } => {
                let mut d = DirDestination::new(dir)?;
                d.stop = Arc::clone(ctx.stop);
                d.free_bytes = *free_bytes;
                d.reporter = Arc::clone(reporter);
                Dest::Dir(d)
            }
            To::S3 {
                target,
                storage_class,
                part_size,
                max_memory,
                client,
                ..
            } => {
                let client = client
                    .clone()
                    .ok_or_else(|| Error::Failed("an export to S3 needs an S3 client".into()))?;
                let mut d = S3Destination::new(client, target.clone(), *storage_class, *part_size);
                d.stop = Arc::clone(ctx.stop);
                d.max_memory = *max_memory;
                d.reporter = Arc::clone(reporter);
                Dest::S3(d)
            }
        })
    }

    fn get(&self) -> &dyn Destination {
        match self {
            Dest::Dir(d) => d,
            Dest::S3(d) => d,
        }
    }
}

/// Exports the archives in scope (with `wait`, to the end; without, as far as it can go
/// now). The reporter's byte counts come from the destination as bytes are verified, its
/// archive counts from the scheduler. A report with failed or remaining archives is still
/// `Ok`: what to make of it is the caller's.
pub fn run(ctx: &Ctx<'_>, opts: &Options, reporter: &Arc<dyn Reporter>) -> Result<Report> {
    // Checked before anything is sent or created: a bad line costs nothing.
    opts.selection.check()?;
    let names_file = opts.names_file()?;
    let dest = Dest::new(ctx, &opts.to, reporter)?;
    let state_dir = opts.state_dir();
    let (mut journal, mut state) = Journal::open(&state_dir)?;
    // Two runs on one journal would both start jobs for the same archives and write the
    // same files: the second is refused before it sends anything.
    journal.lock()?;
    let saved = state_dir.join("inventory.json");
    let inv = inventory(
        ctx,
        opts,
        &saved,
        (&mut journal, &mut state),
        reporter.as_ref(),
    )?;
    let (names, unusable) = vault::count_names_from(&inv, names_file)?;
    if let Some(n) = unusable.note() {
        reporter.note(&n);
    }
    let sched = opts.scheduler(ctx);
    let work = scheduler::Work {
        client: ctx.glacier,
        vault: &opts.vault,
        inv: &inv,
        names: &names,
        selection: &opts.selection,
        dest: dest.get(),
    };
    let mut progress = Progress::new(reporter.as_ref());
    let result = scheduler::run(
        &work,
        &mut journal,
        &mut state,
        &sched,
        &mut |m| reporter.note(m),
        &mut |s| progress.status(s),
    );
    if let Ok(r) = &result {
        progress.finish(r);
    }
    let written = Written {
        inv: &inv,
        names: &names,
        state: &state,
    };
    let (summary, manifest) = written.finish(opts, result)?;
    if let Dest::S3(d) = &dest {
        // At the end of a run that got through, the bucket gets the manifest too, so
        // whoever reads the bucket (or `vault purge --only-exported`) sees it.
        d.upload_manifest(&opts.manifest_dir(), opts.selection.shard.as_ref())?;
    }
    Ok(Report {
        destination: dest.get().describe(),
        summary,
        manifest,
    })
}

/// The inventory to export from, saved in `saved` when it is a job's output; "not yet"
/// (exit 3) while Glacier has none or its job runs and the run does not wait.
fn inventory(
    ctx: &Ctx<'_>,
    opts: &Options,
    saved: &Path,
    (journal, state): (&mut Journal, &mut State),
    reporter: &dyn Reporter,
) -> Result<InventoryFile> {
    let how = opts.acquire(ctx, saved, opts.wait);
    match acquire(ctx.glacier, &how, journal, state, &mut |m| reporter.note(m))? {
        Acquired::Ready(inv) => Ok(inv),
        Acquired::Reused(inv) => {
            reporter.note(&saved_inventory_note(opts, &inv));
            Ok(inv)
        }
        Acquired::Waiting(j) => Err(Error::JobInProgress(format!(
            "inventory job {j} of vault '{}' is not finished; run the same command again later",
            opts.vault
        ))),
        Acquired::NotYet => Err(not_inventoried(&opts.vault)),
    }
}

/// What the manifest is written from.
struct Written<'a> {
    inv: &'a InventoryFile,
    names: &'a Collisions,
    state: &'a State,
}

impl Written<'_> {
    /// Writes the manifest, which says where things stand even when the run stopped
    /// early, and removes the failed-archives file when nothing failed. The run's own
    /// error comes first; a manifest that could not be written as well is said after
    /// it, never in its place.
    fn finish(
        &self,
        opts: &Options,
        result: Result<scheduler::Report>,
    ) -> Result<(scheduler::Report, manifest::Written)> {
        let failed: HashMap<String, String> = match &result {
            Ok(r) => r
                .failed
                .iter()
                .map(|(id, _, why)| (id.clone(), why.clone()))
                .collect(),
            Err(_) => HashMap::new(),
        };
        let dir = opts.manifest_dir();
        let written = manifest::write(
            &dir,
            self.inv,
            self.names,
            &opts.selection,
            self.state,
            &failed,
        );
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
            manifest::remove_failed(&dir, opts.selection.shard.as_ref())?;
        }
        Ok((report, written))
    }
}

/// A rerun uses the inventory an earlier run saved: say how old it is, and that archives
/// uploaded since are not in it.
fn saved_inventory_note(opts: &Options, inv: &InventoryFile) -> String {
    let date = crate::purge::inventory_date(inv)
        .ok()
        .flatten()
        .unwrap_or_else(|| "an unknown date".into());
    let hint = match opts.refresh_hint.as_str() {
        "" => String::new(),
        h => format!(": {h}"),
    };
    format!(
        "using the inventory of vault '{}' saved by an earlier run (Glacier's inventory of {date}); archives uploaded after it are not included{hint}",
        opts.vault
    )
}

/// "Not yet" for a vault Glacier has not inventoried: cron loops try again.
pub(super) fn not_inventoried(vault: &str) -> Error {
    Error::JobInProgress(format!(
        "vault '{vault}' has no inventory yet: Glacier takes one about a day after the first upload; run the same command again tomorrow"
    ))
}

/// The scheduler's status, told to a reporter: one phase, "export", whose totals are what
/// this run has left to do when it first reports (archives exported by earlier runs are
/// neither counted nor in the totals, so the rate and time left are this run's).
struct Progress<'r> {
    reporter: &'r dyn Reporter,
    /// Archives done (this run and before) when the phase began, and the latest count.
    base: Option<u64>,
    done: u64,
}

impl<'r> Progress<'r> {
    fn new(reporter: &'r dyn Reporter) -> Progress<'r> {
        Progress {
            reporter,
            base: None,
            done: 0,
        }
    }

    fn status(&mut self, s: &Status) {
        let base = match self.base {
            Some(b) => b,
            None => {
                let totals = Totals {
                    bytes: Some(s.total_bytes.saturating_sub(s.done_bytes)),
                    items: Some(s.total.saturating_sub(s.done)),
                };
                self.reporter.begin("export", totals);
                self.base = Some(s.done);
                self.done = s.done;
                s.done
            }
        };
        self.items_to(s.done);
        let mut detail = String::new();
        if base > 0 {
            detail.push_str(&format!("{base} exported before; "));
        }
        detail.push_str(&format!("jobs waiting {}, ready {}", s.waiting, s.ready));
        if let Some(p) = s.next_poll {
            detail.push_str(&format!(", next poll in {}", human_duration(p)));
        }
        self.reporter.detail(&detail);
    }

    /// The last count: archives found in place after the last status count too, and a
    /// run that had nothing to wait for (no status at all) still reports one phase.
    fn finish(&mut self, r: &scheduler::Report) {
        if self.base.is_none() {
            let left = r.archives.saturating_sub(r.already_exported);
            self.reporter.begin(
                "export",
                Totals {
                    bytes: None,
                    items: Some(left),
                },
            );
            self.base = Some(r.already_exported);
            self.done = r.already_exported;
        }
        self.items_to(r.already_exported + r.exported);
        self.reporter.detail("");
    }

    fn items_to(&mut self, done: u64) {
        if done > self.done {
            self.reporter.add_items(done - self.done);
            self.done = done;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Counts;

    fn status(done: u64, done_bytes: u64, next_poll: Option<Duration>) -> Status {
        Status {
            done,
            total: 10,
            done_bytes,
            total_bytes: 1000,
            waiting: 3,
            ready: 1,
            next_poll,
        }
    }

    #[test]
    fn this_run_s_work_is_the_phase_and_the_jobs_are_its_detail() {
        let c = Counts::new();
        let mut p = Progress::new(&c);
        p.status(&status(4, 400, None));
        let s = c.snapshot();
        assert_eq!(s.label, "export");
        assert_eq!(
            s.totals.items,
            Some(6),
            "earlier runs' archives are not this run's"
        );
        assert_eq!(s.totals.bytes, Some(600));
        assert_eq!(s.items, 0);
        assert_eq!(s.detail, "4 exported before; jobs waiting 3, ready 1");
        p.status(&status(6, 600, Some(Duration::from_secs(30))));
        let s = c.snapshot();
        assert_eq!(s.items, 2);
        assert_eq!(
            s.detail,
            "4 exported before; jobs waiting 3, ready 1, next poll in 30 s"
        );
        // Archives found in place after the last status are counted at the end.
        let r = scheduler::Report {
            archives: 10,
            already_exported: 4,
            exported: 5,
            remaining: 1,
            ..Default::default()
        };
        p.finish(&r);
        let s = c.snapshot();
        assert_eq!((s.items, s.detail.as_str()), (5, ""));
    }

    #[test]
    fn a_run_with_no_status_still_reports_one_phase() {
        let c = Counts::new();
        let mut p = Progress::new(&c);
        let r = scheduler::Report {
            archives: 3,
            already_exported: 1,
            exported: 2,
            ..Default::default()
        };
        p.finish(&r);
        let s = c.snapshot();
        assert_eq!(
            (s.label.as_str(), s.totals.items, s.items),
            ("export", Some(2), 2)
        );
    }
}
