//! Where the list of archives comes from: a local inventory file (JSON or CSV, told
//! apart by its first byte), a finished inventory job, or a new inventory job whose ID is
//! journaled before anything else so a rerun waits for it instead of starting another
//! (an inventory job costs money and takes hours).
//!
//! A job's output is saved once into the journal directory and read from there on every
//! pass: the passes over a million-archive inventory stream a file, never memory.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::journal::{Journal, Record, State};
use crate::download::VerifyingReader;
use crate::error::{Error, Result};
use crate::glacier::{Client, JobId, JobRequest};
use crate::inventory::{Entries, Format};
use crate::retrieval::{self, Backoff, Persist, Wait, pause};

/// A local inventory document.
#[derive(Debug, Clone)]
pub struct InventoryFile {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
}

impl InventoryFile {
    /// Opens `path`, telling JSON (first non-space byte `{`) from CSV.
    pub fn open(path: &Path) -> Result<InventoryFile> {
        let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut head = [0u8; 512];
        let n = f.read(&mut head).map_err(|e| Error::io(path, e))?;
        let first = head[..n]
            .iter()
            .copied()
            // A UTF-8 byte order mark and whitespace may precede either format.
            .find(|b| !b.is_ascii_whitespace() && ![0xEF, 0xBB, 0xBF].contains(b));
        let format = match first {
            Some(b'{') => Format::Json,
            Some(_) => Format::Csv,
            None => {
                return Err(Error::Input(format!(
                    "{}: empty inventory file",
                    path.display()
                )));
            }
        };
        Ok(InventoryFile {
            path: path.to_path_buf(),
            format,
        })
    }

    /// [`open`](Self::open) for a file the user gave (`--inventory FILE`), read through
    /// once: one that cannot be read or parsed is bad input (exit 2), found before
    /// anything is sent.
    pub fn open_given(path: &Path) -> Result<InventoryFile> {
        let bad = |e: Error| match e {
            Error::Io { source, .. } => Error::Input(format!("{}: {source}", path.display())),
            e => Error::Input(format!("{}: {}", path.display(), crate::error::chain(&e))),
        };
        let inv = InventoryFile::open(path).map_err(bad)?;
        for e in inv.entries().map_err(bad)? {
            e.map_err(bad)?;
        }
        Ok(inv)
    }

    /// A fresh pass over its archives.
    pub fn entries(&self) -> Result<Entries<BufReader<File>>> {
        let f = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(Entries::new(BufReader::new(f), self.format))
    }
}

/// Where the inventory comes from (`--inventory`, `--inventory-job`, or neither).
#[derive(Debug, Clone)]
pub enum InventorySource {
    /// A file the user has.
    File(PathBuf),
    /// A finished (or running) inventory job.
    Job(JobId),
    /// A new inventory job, unless the journal has one.
    New,
}

/// What [`acquire`] got.
#[derive(Debug)]
pub enum Acquired {
    /// The inventory is here: a file the user gave, or a job's output this run saved.
    Ready(InventoryFile),
    /// The output an earlier run saved: archives uploaded since are not in it.
    Reused(InventoryFile),
    /// The inventory job is still running (only when not waiting), or Glacier could not
    /// be reached for it now: a later run goes on.
    Waiting(JobId),
    /// Glacier has not inventoried the vault yet (it does about a day after the first
    /// upload): no inventory job can be started before then.
    NotYet,
}

impl Acquired {
    /// The inventory, if there is one now.
    pub fn file(self) -> Option<InventoryFile> {
        match self {
            Acquired::Ready(f) | Acquired::Reused(f) => Some(f),
            Acquired::Waiting(_) | Acquired::NotYet => None,
        }
    }
}

/// How [`acquire`] gets the inventory.
#[derive(Debug, Clone, Copy)]
pub struct Acquire<'a> {
    /// The vault.
    pub vault: &'a str,
    /// `--inventory`, `--inventory-job`, or a new job.
    pub source: &'a InventorySource,
    /// Where a job's output is saved (export: its state directory; purge: next to its
    /// journal file).
    pub saved: &'a Path,
    /// A new job's description (what the user sees in `glacier jobs list`); a job with
    /// this description a killed run started is adopted.
    pub purpose: &'a str,
    /// Wait for the job (else: [`Acquired::Waiting`] while it runs).
    pub wait: bool,
    /// The pause between DescribeJob calls when waiting.
    pub poll: Duration,
    /// Pauses after faults that outlast the client's retries: first and longest.
    pub backoff: (Duration, Duration),
    /// Set by Ctrl-C: waits and pauses end at once.
    pub stop: &'a AtomicBool,
}

impl Acquire<'_> {
    /// Its pauses, for steps that ride out transient faults.
    fn persist(&self) -> Persist<'_> {
        Persist {
            backoff: self.backoff,
            stop: self.stop,
            retry_mismatch: false,
            tries: None,
        }
    }
}

/// How long a job found in ListJobs may have been started before now and still be
/// adopted: a job's output is kept 24 h after it completes ("Get Job Output"), so one
/// started a day ago may already be gone.
const ADOPT_WITHIN: time::Duration = time::Duration::hours(20);

/// Gets the inventory: from the file, or the saved output of the journaled job, or by
/// starting/awaiting/downloading a job. A job started by a run killed before its journal
/// line is adopted; a journaled job that failed or expired is replaced by a new one
/// (with a note). Transient faults are waited out (with `wait`) or end in
/// [`Acquired::Waiting`]; `note` receives messages for the user.
pub fn acquire(
    client: &Client,
    a: &Acquire<'_>,
    journal: &mut Journal,
    state: &mut State,
    note: &mut dyn FnMut(&str),
) -> Result<Acquired> {
    let mut backoff = Backoff::new(a.backoff.0, a.backoff.1);
    let mut mismatches = 0;
    loop {
        let job_id = match a.source {
            InventorySource::File(p) => return InventoryFile::open_given(p).map(Acquired::Ready),
            // The output of this very job, saved by an earlier run: nothing to fetch.
            InventorySource::Job(j)
                if state.inventory_saved
                    && state.inventory_job.as_deref() == Some(j.as_str())
                    && a.saved.is_file() =>
            {
                return InventoryFile::open(a.saved).map(Acquired::Ready);
            }
            InventorySource::Job(j) => j.clone(),
            InventorySource::New => {
                if state.inventory_saved && a.saved.exists() {
                    return InventoryFile::open(a.saved).map(Acquired::Reused);
                }
                match state.inventory_job.clone() {
                    Some(j) => JobId::from_server(j),
                    None => match start(client, a, journal, state, note) {
                        Ok(Some(j)) => j,
                        Ok(None) => return Ok(Acquired::NotYet),
                        Err(e) if e.is_transient() => {
                            transient(a, &mut backoff, "InitiateJob", &e, note)?;
                            if !a.wait {
                                return Err(not_now(a.vault, &e));
                            }
                            continue;
                        }
                        Err(e) => return Err(e),
                    },
                }
            }
        };
        match fetch(client, a, &job_id, note) {
            Ok(Fetched::Saved) => {}
            Ok(Fetched::Running) => return Ok(Acquired::Waiting(job_id)),
            Ok(Fetched::Lost(why)) if matches!(a.source, InventorySource::New) => {
                // The journal's job can never give its output: a rerun would meet it
                // again for ever, so it is recorded as lost and a new one started.
                let r = Record::InventoryLost {
                    job_id: job_id.to_string(),
                    reason: why.clone(),
                };
                journal.append(&r)?;
                state.apply(&r);
                note(&format!(
                    "inventory job {job_id} {why}; starting a new inventory job"
                ));
                continue;
            }
            Ok(Fetched::Lost(why)) => {
                return Err(Error::Job(format!(
                    "inventory job {job_id} in vault '{}' {why}",
                    a.vault
                )));
            }
            Err(e) if e.is_transient() || mismatch(&e, &mut mismatches) => {
                transient(a, &mut backoff, "the inventory job", &e, note)?;
                if !a.wait {
                    return Ok(Acquired::Waiting(job_id));
                }
                continue;
            }
            Err(e) => return Err(e),
        }
        let r = Record::Inventory {
            job_id: Some(job_id.to_string()),
            saved: true,
            time: super::now_rfc3339(),
        };
        journal.append(&r)?;
        state.apply(&r);
        return InventoryFile::open(a.saved).map(Acquired::Ready);
    }
}

/// Output that did not verify is fetched again a few times (a body damaged in transit),
/// not for ever (one wrong at its source).
fn mismatch(e: &Error, seen: &mut u32) -> bool {
    if !matches!(e.root(), Error::Mismatch { .. }) {
        return false;
    }
    *seen += 1;
    *seen < 4
}

/// "Not now" for a `--no-wait` run: exit 3, the fault named.
fn not_now(vault: &str, e: &Error) -> Error {
    Error::JobInProgress(format!(
        "vault '{vault}': Glacier did not answer for the inventory job now ({}); run the same command again later",
        crate::error::chain(e)
    ))
}

/// A note and a pause for a transient fault; `Err` when Ctrl-C ended the pause.
fn transient(
    a: &Acquire<'_>,
    backoff: &mut Backoff,
    what: &str,
    e: &Error,
    note: &mut dyn FnMut(&str),
) -> Result<()> {
    if !a.wait {
        return Ok(());
    }
    let p = backoff.next_pause();
    note(&format!(
        "{what} in vault '{}': {}; trying again in {}",
        a.vault,
        crate::error::chain(e),
        crate::progress::human_duration(p)
    ));
    if pause(p, a.stop) {
        Ok(())
    } else {
        Err(Error::Interrupted(
            "interrupted while Glacier was failing; run the same command again to continue".into(),
        ))
    }
}

/// The inventory job for a run whose journal has none: one a killed run started (listed
/// by Glacier with our description, not failed, not recorded as lost), else a new one,
/// through the create policy ([`retrieval::initiate_job`]). Journaled before anything
/// else. `None`: the vault has not been inventoried yet.
fn start(
    client: &Client,
    a: &Acquire<'_>,
    journal: &mut Journal,
    state: &mut State,
    note: &mut dyn FnMut(&str),
) -> Result<Option<JobId>> {
    let req = JobRequest {
        kind: "inventory-retrieval".into(),
        format: Some("JSON".into()),
        description: Some(a.purpose.into()),
        ..Default::default()
    };
    let jobs = client.list_all_jobs(a.vault)?;
    let since = time::OffsetDateTime::now_utc() - ADOPT_WITHIN;
    let usable: Vec<_> = jobs
        .into_iter()
        .filter(|j| j.status() != "Failed")
        .filter(|j| j.job_id.as_ref().is_none_or(|id| !state.lost.contains(id)))
        .collect();
    let j = match retrieval::find_started_job(&usable, &req, since) {
        Some(j) => {
            note(&format!(
                "using inventory job {j} found in vault '{}' (started by an earlier run stopped before it was journaled)",
                a.vault
            ));
            j
        }
        None => match retrieval::initiate_job(client, a.vault, &req, &a.persist(), note) {
            Ok(j) => {
                note(&format!(
                    "started inventory job {j} (Glacier takes hours; rerunning this command waits for it, not a new one)"
                ));
                j
            }
            Err(e) if e.is_not_found() && never_inventoried(client, a.vault)? => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        },
    };
    let r = Record::Inventory {
        job_id: Some(j.to_string()),
        saved: false,
        time: super::now_rfc3339(),
    };
    journal.append(&r)?;
    state.apply(&r);
    Ok(Some(j))
}

/// Glacier has no inventory of the vault yet: DescribeVault's `LastInventoryDate` is
/// null "if an inventory has not yet run on the vault" (API Reference, "Describe
/// Vault"), and inventory jobs cannot be initiated until it has.
fn never_inventoried(client: &Client, vault: &str) -> Result<bool> {
    Ok(client.describe_vault(vault)?.last_inventory_date.is_none())
}

/// Reads the whole inventory at `path`: a malformed one is an [`Error::Mismatch`] (the
/// bytes are not what Glacier sent).
pub fn well_formed(path: &Path) -> Result<()> {
    let inv = InventoryFile::open(path)?;
    for e in inv.entries()? {
        if let Err(e) = e {
            return Err(Error::Mismatch {
                what: format!("inventory {}", path.display()),
                expected: "a well-formed inventory".into(),
                actual: crate::error::chain(&e),
            });
        }
    }
    Ok(())
}

/// How [`fetch`] ended.
enum Fetched {
    /// The output is saved at `a.saved`.
    Saved,
    /// The job is still running (not waiting).
    Running,
    /// The job can never give its output: failed, or expired (404).
    Lost(String),
}

/// Waits for (or, without `wait`, looks at) the job and saves its output, verified
/// against Glacier's tree hash, at `a.saved` (write, sync, rename).
fn fetch(
    client: &Client,
    a: &Acquire<'_>,
    job_id: &JobId,
    note: &mut dyn FnMut(&str),
) -> Result<Fetched> {
    let described = if a.wait {
        retrieval::wait_for_job(
            client,
            a.vault,
            job_id,
            &Wait {
                poll: a.poll,
                max_poll: a.poll,
                backoff: a.backoff,
                stop: a.stop,
            },
            note,
        )
    } else {
        client.describe_job(a.vault, job_id)
    };
    let job = match described {
        Ok(j) => j,
        Err(e) if e.is_not_found() => {
            return Ok(Fetched::Lost(
                "is no longer known to Glacier (expired)".into(),
            ));
        }
        Err(e) => return Err(e),
    };
    if job.action_name() != "InventoryRetrieval" {
        return Err(Error::Job(format!(
            "job {job_id} in vault '{}' is not an inventory retrieval",
            a.vault
        )));
    }
    match job.status() {
        "Succeeded" => {}
        "Failed" => {
            return Ok(Fetched::Lost(format!(
                "failed: {}",
                job.status_message.as_deref().unwrap_or("no reason given")
            )));
        }
        _ => return Ok(Fetched::Running),
    }
    let body = match client.job_output(a.vault, job_id, None) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => {
            return Ok(Fetched::Lost("has no output any more (expired)".into()));
        }
        Err(e) => return Err(e),
    };
    let expected = body.tree_hash;
    let what = format!("inventory job {job_id}");
    let mut reader = VerifyingReader::new(body, expected, what.clone());
    let saved = a.saved;
    let mut tmp = saved.to_path_buf().into_os_string();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let mut out = crate::durable::Replacement::with_tmp(saved, &tmp)?;
    std::io::copy(&mut reader, &mut out).map_err(|e| Error::Transport {
        what: format!("{what}: reading the output"),
        source: Box::new(e),
    })?;
    reader.finish()?;
    out.flush().map_err(|e| Error::io(&tmp, e))?;
    // Glacier gives no tree hash for an inventory: a body damaged in transit shows as a
    // document that does not parse, and is fetched again (the replacement, dropped,
    // removes its temporary file).
    well_formed(&tmp)?;
    out.commit()?;
    Ok(Fetched::Saved)
}
