//! Where the list of archives comes from: a local inventory file (JSON or CSV, told
//! apart by its first byte), a finished inventory job, or a new inventory job whose ID is
//! journaled before anything else so a rerun waits for it instead of starting another
//! (an inventory job costs money and takes hours).
//!
//! A job's output is saved once into the journal directory and read from there on every
//! pass: the passes over a million-archive inventory stream a file, never memory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::journal::{Journal, Record, State};
use crate::error::{Error, Result};
use crate::glacier::{Client, JobId, JobRequest};
use crate::inventory::{Entries, Format};

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
    /// The inventory is here.
    Ready(InventoryFile),
    /// The inventory job is still running (only when not waiting).
    Waiting(JobId),
}

/// Gets the inventory: from the file, or the saved output of the journaled job, or by
/// starting/awaiting/downloading a job. `poll` is the pause between DescribeJob calls
/// when `wait`, cut short when `stop` is set (Ctrl-C); `note` receives messages for the
/// user.
#[allow(clippy::too_many_arguments)]
pub fn acquire(
    client: &Client,
    vault: &str,
    source: &InventorySource,
    state_dir: &Path,
    journal: &mut Journal,
    state: &mut State,
    wait: bool,
    poll: Duration,
    stop: &AtomicBool,
    note: &mut dyn FnMut(&str),
) -> Result<Acquired> {
    acquire_at(
        client,
        vault,
        source,
        &state_dir.join("inventory.json"),
        "glacier vault export",
        journal,
        state,
        wait,
        poll,
        stop,
        note,
    )
}

/// [`acquire`], with the job's output saved at `saved` (purge keeps it next to its
/// journal file rather than in a directory of its own) and a new job described as
/// `purpose` (what the user sees in `glacier jobs list`).
#[allow(clippy::too_many_arguments)]
pub fn acquire_at(
    client: &Client,
    vault: &str,
    source: &InventorySource,
    saved: &Path,
    purpose: &str,
    journal: &mut Journal,
    state: &mut State,
    wait: bool,
    poll: Duration,
    stop: &AtomicBool,
    note: &mut dyn FnMut(&str),
) -> Result<Acquired> {
    let saved = saved.to_path_buf();
    let job_id = match source {
        InventorySource::File(p) => return InventoryFile::open_given(p).map(Acquired::Ready),
        InventorySource::Job(j) => j.clone(),
        InventorySource::New => {
            if state.inventory_saved && saved.exists() {
                return InventoryFile::open(&saved).map(Acquired::Ready);
            }
            match &state.inventory_job {
                Some(j) => JobId::from_server(j.clone()),
                None => {
                    let req = JobRequest {
                        kind: "inventory-retrieval".into(),
                        format: Some("JSON".into()),
                        description: Some(purpose.into()),
                        ..Default::default()
                    };
                    let j = client.initiate_job(vault, &req)?;
                    let r = Record::Inventory {
                        job_id: Some(j.to_string()),
                        saved: false,
                        time: super::now_rfc3339(),
                    };
                    journal.append(&r)?;
                    state.apply(&r);
                    note(&format!(
                        "started inventory job {j} (Glacier takes hours; rerunning this command waits for it, not a new one)"
                    ));
                    j
                }
            }
        }
    };
    // A job given by the user is checked each run; its saved output is only reused for
    // the job the journal started.
    let job = loop {
        let job = client.describe_job(vault, &job_id)?;
        if super::scheduler::job::action(&job) != "InventoryRetrieval" {
            return Err(Error::Job(format!(
                "job {job_id} in vault '{vault}' is not an inventory retrieval"
            )));
        }
        match super::scheduler::job::status(&job) {
            "Succeeded" => break job,
            "Failed" => {
                return Err(Error::Job(format!(
                    "inventory job {job_id} in vault '{vault}' failed: {}",
                    super::scheduler::job::message(&job)
                )));
            }
            _ if !wait => return Ok(Acquired::Waiting(job_id)),
            status => {
                note(&format!(
                    "inventory job {job_id}: {status}; checking again in {}",
                    human_duration(poll)
                ));
                // A pause between polls of a remote job that takes hours, in short steps
                // so that Ctrl-C stops the wait at once rather than after the interval
                // (the job is journaled: a rerun waits for the same job).
                let until = Instant::now() + poll;
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return Err(Error::Interrupted(format!(
                            "waiting for inventory job {job_id} interrupted; run the same command again to continue"
                        )));
                    }
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(Duration::from_millis(200)));
                }
            }
        }
    };
    let _ = job;
    let mut tmp = saved.clone().into_os_string();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let mut out = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut body = client.job_output(vault, &job_id, None)?;
    std::io::copy(&mut body, &mut out).map_err(|e| Error::Transport {
        what: format!("inventory job {job_id}: reading the output"),
        source: Box::new(e),
    })?;
    out.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &saved).map_err(|e| Error::io(&saved, e))?;
    let r = Record::Inventory {
        job_id: Some(job_id.to_string()),
        saved: true,
        time: super::now_rfc3339(),
    };
    journal.append(&r)?;
    state.apply(&r);
    InventoryFile::open(&saved).map(Acquired::Ready)
}

/// `90 s`, `15 min`, `2 h`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 1 {
        format!("{} ms", d.as_millis())
    } else if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else {
        format!("{} h", s / 3600)
    }
}
