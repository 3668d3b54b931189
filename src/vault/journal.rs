//! The export journal: `DIR/.glacier-export/journal.jsonl`, append-only JSON lines, each
//! synced to disk before the action it enables goes on.
//!
//! Two ways to write: [`Journal::append`] writes a line and syncs it at once;
//! [`Journal::record`] writes the line at once (one `write`, so a `kill -9` after it
//! never loses it: the kernel has it) and leaves the sync to the next
//! [`Journal::sync`], which the writer calls before the step the record licenses (the
//! export scheduler: before each poll that could find a journaled job, and before the
//! manifest names an exported archive). One sync then covers many records; only a
//! machine crash can lose the unsynced tail, and the steps it licensed never ran.
//!
//! `vault purge` keeps the same format in its own file (see [`Journal::open_file`]),
//! adding a `deleted` record per archive deleted or found gone.
//!
//! It records the inventory used, each retrieval job started (so a rerun never pays for a
//! second retrieval of the same archive while the first is valid), each job found
//! expired or failed, and each archive exported and verified. Replaying it on start gives
//! [`State`]. A last line cut short by a crash is dropped (and cut off the file so the
//! next append starts clean); a damaged line anywhere else is an error, because guessing
//! could start paid retrievals twice. Memory: 16 bytes per archive key, not its ID.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A compact key for an archive ID (first 16 bytes of its SHA-256).
pub type Key = u128;

/// The key of an archive ID.
pub fn key(archive_id: &str) -> Key {
    let d = Sha256::digest(archive_id.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    u128::from_be_bytes(b)
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// The inventory of this export: the inventory job it came from, if any.
    Inventory {
        /// The inventory-retrieval job ID (absent for `--inventory FILE`).
        job_id: Option<String>,
        /// Set once the inventory is saved in the journal directory.
        saved: bool,
        /// When (RFC 3339).
        time: String,
    },
    /// A retrieval job was started for an archive.
    Job {
        /// The archive.
        archive_id: String,
        /// The job.
        job_id: String,
        /// When (RFC 3339).
        time: String,
    },
    /// A job can no longer give its output (expired or failed); a new one is needed.
    JobLost {
        /// The archive.
        archive_id: String,
        /// The lost job.
        job_id: String,
        /// Why: `expired` or `failed: ...`.
        reason: String,
    },
    /// The inventory job can no longer give its output (failed or expired): a new one
    /// is needed, and this one is never adopted again.
    InventoryLost {
        /// The lost job.
        job_id: String,
        /// Why: `failed: ...` or `expired`.
        reason: String,
    },
    /// A file recorded as exported is missing or no longer the archive's (a rerun found
    /// it deleted or changed): the archive is to be exported again.
    Vanished {
        /// The archive.
        archive_id: String,
        /// Its path relative to DIR.
        path: String,
    },
    /// An archive is in place under its name and verified.
    Exported {
        /// The archive.
        archive_id: String,
        /// Its path relative to DIR.
        path: String,
        /// Bytes.
        size: u64,
        /// Tree hash, hex.
        tree_hash: String,
        /// When (RFC 3339).
        time: String,
    },
    /// An archive was deleted (`vault purge`): by this run's DeleteArchive, or found
    /// already gone (404).
    Deleted {
        /// The archive.
        archive_id: String,
        /// True when Glacier answered 404: someone else deleted it first.
        gone: bool,
        /// When (RFC 3339).
        time: String,
    },
}

/// What the journal says so far.
#[derive(Debug, Default)]
pub struct State {
    /// The inventory job, if one was started.
    pub inventory_job: Option<String>,
    /// Whether the inventory is saved locally.
    pub inventory_saved: bool,
    /// The current job of each archive not yet exported.
    pub jobs: HashMap<Key, String>,
    /// Jobs whose output was found gone (GetJobOutput 404). Glacier may go on listing
    /// such a job as Succeeded, so adoption must skip it or every `--no-wait` run would
    /// adopt it, meet the 404 again and never start the retrieval it needs.
    pub lost: HashSet<String>,
    /// Archives exported and verified.
    pub exported: HashSet<Key>,
    /// Archives deleted (purge journals only).
    pub deleted: HashSet<Key>,
    /// Every retrieval requested: (Unix seconds, archive), for pacing by bytes per day
    /// (24 bytes a job).
    pub requested: Vec<(i64, Key)>,
    /// When the current job of each archive was requested (Unix seconds).
    pub requested_at: HashMap<Key, i64>,
}

impl State {
    /// Applies one record.
    pub fn apply(&mut self, r: &Record) {
        match r {
            Record::Inventory { job_id, saved, .. } => {
                if job_id.is_some() {
                    self.inventory_job.clone_from(job_id);
                }
                self.inventory_saved |= *saved;
            }
            Record::Job {
                archive_id,
                job_id,
                time,
            } => {
                let k = key(archive_id);
                self.jobs.insert(k, job_id.clone());
                // A time that does not parse (never written so) counts as no request.
                if let Some(t) = unix_seconds(time) {
                    self.requested.push((t, k));
                    self.requested_at.insert(k, t);
                }
            }
            Record::JobLost {
                archive_id, job_id, ..
            } => {
                let k = key(archive_id);
                if self.jobs.get(&k) == Some(job_id) {
                    self.jobs.remove(&k);
                }
                self.lost.insert(job_id.clone());
            }
            Record::InventoryLost { job_id, .. } => {
                if self.inventory_job.as_ref() == Some(job_id) {
                    self.inventory_job = None;
                    self.inventory_saved = false;
                }
                self.lost.insert(job_id.clone());
            }
            Record::Vanished { archive_id, .. } => {
                self.exported.remove(&key(archive_id));
            }
            Record::Exported { archive_id, .. } => {
                let k = key(archive_id);
                // No current job any more: at 100,000 archives these maps would
                // otherwise hold every job ever started.
                self.jobs.remove(&k);
                self.requested_at.remove(&k);
                self.exported.insert(k);
            }
            Record::Deleted { archive_id, .. } => {
                self.deleted.insert(key(archive_id));
            }
        }
    }
}

/// An RFC 3339 time as Unix seconds.
pub fn unix_seconds(t: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(t, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Records written since the last sync.
    unsynced: u64,
    /// Syncs of the file this journal made (for benches and tests of their cost).
    syncs: u64,
}

impl Journal {
    /// Opens (creating) `dir/journal.jsonl`, replays it, and drops a torn last line.
    pub fn open(dir: &Path) -> Result<(Journal, State)> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Journal::open_file(&dir.join("journal.jsonl"))
    }

    /// Opens (creating) the journal file `path` itself (its directory must exist),
    /// replays it, and drops a torn last line.
    pub fn open_file(path: &Path) -> Result<(Journal, State)> {
        let path = path.to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        // Only the holder of the lock may cut a torn last line: while another run holds it
        // (a dry run reading the journal of a running export), that "torn" line is the
        // other run's write in flight, and the file's end moves under us. Cutting it
        // would destroy a Job record, so a second retrieval would be paid for. The lock
        // taken here is kept ([`Journal::lock`] on the same file then succeeds).
        let owned = file.try_lock().is_ok();
        // Streamed line by line: a million-archive journal is hundreds of MiB.
        let mut state = State::default();
        let mut reader = BufReader::with_capacity(64 * 1024, &mut file);
        let mut line = Vec::new();
        let mut complete: u64 = 0;
        let mut number = 0;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                // A crash mid-write: the line never took effect.
                break;
            }
            number += 1;
            complete += n as u64;
            let body = &line[..n - 1];
            if body.is_empty() {
                continue;
            }
            let r: Record = serde_json::from_slice(body).map_err(|e| {
                Error::Input(format!(
                    "{} line {number}: damaged journal entry ({e}); move the file away to start over",
                    path.display()
                ))
            })?;
            state.apply(&r);
        }
        drop(reader);
        let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        if owned && complete < len {
            // Cut the torn line so appends stay whole lines.
            file.set_len(complete)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&path, e))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::io(&path, e))?;
        Ok((
            Journal {
                path,
                file,
                unsynced: 0,
                syncs: 0,
            },
            state,
        ))
    }

    /// Appends one record and syncs it (with any records written before it).
    pub fn append(&mut self, r: &Record) -> Result<()> {
        self.record(r)?;
        self.sync()
    }

    /// Appends several records with one sync (for bulk steps; each is still a line).
    pub fn append_batch(&mut self, records: &[Record]) -> Result<()> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(|e| Error::Input(e.to_string()))?;
            buf.push(b'\n');
        }
        self.write_line(&buf, records.len() as u64)?;
        self.sync()
    }

    /// Writes one record now, in one `write` (a killed process cannot lose it), and
    /// leaves it to the next [`sync`](Self::sync) to make it survive a machine crash:
    /// the caller syncs before the step the record licenses.
    pub fn record(&mut self, r: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(r).map_err(|e| Error::Input(e.to_string()))?;
        line.push(b'\n');
        self.write_line(&line, 1)
    }

    fn write_line(&mut self, bytes: &[u8], records: u64) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io(&self.path, e))?;
        self.unsynced += records;
        Ok(())
    }

    /// Syncs the records written since the last sync; nothing when there are none.
    pub fn sync(&mut self) -> Result<()> {
        if self.unsynced == 0 {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| Error::io(&self.path, e))?;
        self.unsynced = 0;
        self.syncs += 1;
        Ok(())
    }

    /// Records written and not yet synced.
    pub fn unsynced(&self) -> u64 {
        self.unsynced
    }

    /// How many syncs this journal has made since it was opened.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Takes (or confirms, when opening took it) an advisory lock on the journal file for
    /// as long as it is open, or fails
    /// with one line naming it if another run holds it (two runs sharing a journal would
    /// both act on the same archives). The kernel drops the lock when the process ends,
    /// `kill -9` included.
    pub fn lock(&self) -> Result<()> {
        match self.file.try_lock() {
            Ok(()) => Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Input(format!(
                "another run is using the journal {}; wait for it to finish",
                self.path.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&self.path, e)),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Journal {
    /// A last sync for records a writer left unsynced on an early return (the writers
    /// sync explicitly before what the records license; this is the safety net).
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("glacier-journal-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    fn job(a: &str, j: &str) -> Record {
        Record::Job {
            archive_id: a.into(),
            job_id: j.into(),
            time: "t".into(),
        }
    }

    #[test]
    fn replay_and_torn_last_line() {
        let dir = tmp("torn");
        {
            let (mut j, s) = Journal::open(&dir).expect("open");
            assert!(s.jobs.is_empty());
            j.append(&job("a", "j1")).expect("append");
            j.append(&job("b", "j2")).expect("append");
            j.append(&Record::JobLost {
                archive_id: "b".into(),
                job_id: "j2".into(),
                reason: "expired".into(),
            })
            .expect("append");
            j.append(&Record::Exported {
                archive_id: "a".into(),
                path: "x".into(),
                size: 1,
                tree_hash: "h".into(),
                time: "t".into(),
            })
            .expect("append");
        }
        let path = dir.join("journal.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(br#"{"event":"job","archive_id":"c","job"#)
            .expect("torn");
        drop(f);
        let (mut j, s) = Journal::open(&dir).expect("reopen");
        assert!(s.exported.contains(&key("a")));
        assert!(
            s.jobs.is_empty(),
            "b's job was lost, a's exported, c's torn"
        );
        // The lost job is remembered so adoption from ListJobs skips it.
        assert!(s.lost.contains("j2") && !s.lost.contains("j1"));
        j.append(&job("c", "j3")).expect("append");
        let (_, s) = Journal::open(&dir).expect("reopen");
        assert_eq!(s.jobs.get(&key("c")).map(String::as_str), Some("j3"));
        // Damage in the middle is refused.
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, format!("garbage\n{text}")).expect("write");
        let e = Journal::open(&dir).expect_err("damaged");
        assert!(e.to_string().contains("line 1"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn records_are_written_at_once_and_synced_together() {
        let dir = tmp("grouped");
        let (mut j, _) = Journal::open(&dir).expect("open");
        j.record(&job("a", "j1")).expect("record");
        j.record(&job("b", "j2")).expect("record");
        assert_eq!((j.unsynced(), j.syncs()), (2, 0));
        // Written, not yet synced: a reader (a rerun after kill -9) sees both.
        let (_, s) = Journal::open(&dir).expect("reopen");
        assert_eq!(s.jobs.len(), 2);
        j.sync().expect("sync");
        j.sync().expect("nothing to sync");
        assert_eq!((j.unsynced(), j.syncs()), (0, 1));
        j.append(&job("c", "j3")).expect("append");
        assert_eq!((j.unsynced(), j.syncs()), (0, 2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Review finding: a reader of a journal another run holds (a dry run during an
    /// export) cut the holder's line in flight as if it were torn by a crash.
    #[test]
    fn a_line_in_flight_of_the_lock_holder_is_not_cut() {
        let dir = tmp("held");
        let (mut j, _) = Journal::open(&dir).expect("open");
        j.lock().expect("lock");
        j.append(&job("a", "j1")).expect("append");
        let path = dir.join("journal.jsonl");
        let mut w = OpenOptions::new().append(true).open(&path).expect("open");
        w.write_all(br#"{"event":"job","archive_id":"b","job"#)
            .expect("in flight");
        let len = std::fs::metadata(&path).expect("len").len();
        let (reader, s) = Journal::open(&dir).expect("read while held");
        assert!(reader.lock().is_err(), "the holder keeps the lock");
        assert_eq!(s.jobs.get(&key("a")).map(String::as_str), Some("j1"));
        assert_eq!(
            std::fs::metadata(&path).expect("len").len(),
            len,
            "the holder's line is left alone"
        );
        drop(reader);
        // The holder finishes its line: the journal is whole.
        w.write_all(b"_id\":\"j2\",\"time\":\"t\"}\n")
            .expect("rest");
        drop(j);
        let (_, s) = Journal::open(&dir).expect("reopen");
        assert_eq!(s.jobs.get(&key("b")).map(String::as_str), Some("j2"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
