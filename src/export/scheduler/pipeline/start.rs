//! Starting jobs: the pipeline's half that spends money. Restarts first, then new
//! archives, within `--max-jobs`, `--max-pending` and the byte pacing; a job Glacier
//! already has for an archive (a lost answer, a crash before the journal's sync) is
//! adopted rather than bought again; a data retrieval policy's refusal is waited out;
//! and no InitiateJob goes out before the journal records that license it are durable.

use super::*;

impl<'a, 'w, 'j> Sched<'a, 'w, 'j> {
    /// Starts jobs while the limits allow: restarts first, then new archives.
    pub(super) fn start_jobs(&mut self) -> Result<()> {
        while !self.refused && self.running < self.opts.max_jobs {
            // Every InitiateJob is billed: none after Ctrl-C or a worker's stop, however
            // many the limits would still allow (a round can be --max-jobs of them).
            if self.opts.stop.load(Ordering::Relaxed) || self.halted {
                break;
            }
            let seq = match self.unstarted.front() {
                Some(&s) => s,
                None => match self.next_new()? {
                    Some(s) => s,
                    None => break,
                },
            };
            let Some(p) = self.outstanding.get(&seq) else {
                self.unstarted.pop_front();
                continue;
            };
            let size = p.item.size;
            if self.running > 0 && self.pending_bytes.saturating_add(size) > self.opts.max_pending {
                break;
            }
            if let Some(pace) = &self.pace {
                let checked = {
                    let b = lock(self.books);
                    pace.check(b.state, (self.opts.clock)().unix_timestamp(), size)
                };
                if let Err(why) = checked {
                    if !self.paced_said {
                        (self.note)(&why);
                        self.paced_said = true;
                    }
                    break;
                }
            }
            self.initiate(seq)?;
        }
        Ok(())
    }

    /// The next archive of the cursor that needs a job, added as unstarted; archives
    /// done, journaled, in place, or with an adoptable job are dealt with on the way.
    pub(super) fn next_new(&mut self) -> Result<Option<u64>> {
        loop {
            if self.cursor_done {
                return Ok(None);
            }
            let Some(it) = self.cursor.next() else {
                self.cursor_done = true;
                return Ok(None);
            };
            let it = it?;
            let k = journal::key(&it.archive_id);
            {
                let b = lock(self.books);
                if b.state.exported.contains(&k) || b.state.jobs.contains_key(&k) {
                    continue;
                }
            }
            let dest = self.work.dest;
            let what = format!("looking for {} in {}", it.name, dest.describe());
            if long_run(self.opts, &what, &mut self.dest_answered, self.note, || {
                dest.contains(&it)
            })? {
                // In place from a run that crashed before its journal line.
                let mut b = lock(self.books);
                let Books { journal, state } = &mut *b;
                journal_exported(journal, state, &it)?;
                drop(b);
                self.done += 1;
                self.report.exported += 1;
                continue;
            }
            if self.adoptable.is_none() {
                let a = self.adoptable_jobs()?;
                self.adoptable = Some(a);
            }
            let whole = format!("0-{}", it.size.saturating_sub(1));
            let found = self
                .adoptable
                .as_mut()
                .and_then(|a| a.remove(&k))
                .and_then(|jobs| {
                    jobs.into_iter()
                        .find(|(_, r)| r.as_deref().is_none_or(|r| r == whole))
                });
            if let Some((job_id, _)) = found {
                (self.note)(&format!(
                    "archive {} ({}): using job {job_id} found in the vault, not in the journal",
                    it.archive_id, it.name
                ));
                let r = Record::Job {
                    archive_id: it.archive_id.clone(),
                    job_id: job_id.clone(),
                    time: rfc3339((self.opts.clock)()),
                };
                {
                    let mut b = lock(self.books);
                    b.journal.record(&r)?;
                    b.state.apply(&r);
                }
                self.add(it, Some(job_id), false);
                self.idle_polled = false;
                continue;
            }
            return Ok(Some(self.add(it, None, false)));
        }
    }

    /// InitiateJob for the unstarted archive `seq` (the front of `unstarted`).
    pub(super) fn initiate(&mut self, seq: u64) -> Result<()> {
        let opts = self.opts;
        let Some(p) = self.outstanding.get(&seq) else {
            return Ok(());
        };
        let req = JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some(p.item.archive_id.clone()),
            tier: Some(opts.tier.clone()),
            description: Some("glacier vault export".into()),
            ..Default::default()
        };
        let persist = long_run_policy(opts);
        let Work { client, vault, .. } = *self.work;
        // A restart is licensed by the record of the job found lost: durable first, or
        // after a machine crash the next run would find the old job in the journal,
        // call it lost again and pay for a third retrieval (the one sent here is only
        // adopted from ListJobs when its archive has no journaled job).
        let sent = licensed(self.books, &mut self.license_unsynced, || {
            retrieval::initiate_job(client, vault, &req, &persist, self.note)
        })?;
        match sent {
            Ok(j) => {
                self.policy_since = None;
                self.policy_told = None;
                self.unstarted.pop_front();
                let p = self
                    .outstanding
                    .get_mut(&seq)
                    .expect("an unstarted archive is outstanding");
                let r = Record::Job {
                    archive_id: p.item.archive_id.clone(),
                    job_id: j.to_string(),
                    time: rfc3339((opts.clock)()),
                };
                {
                    let mut b = lock(self.books);
                    b.journal.record(&r)?;
                    b.state.apply(&r);
                }
                p.job = Some(j.to_string());
                p.phase = Phase::Waiting;
                self.running += 1;
                self.pending_bytes = self.pending_bytes.saturating_add(p.item.size);
                self.waiting += 1;
                self.report.jobs_started += 1;
                if p.restart {
                    self.report.jobs_restarted += 1;
                }
                self.idle_polled = false;
            }
            Err(e) if e.is_not_found() => {
                // The archive is gone since the inventory was taken.
                self.unstarted.pop_front();
                if let Some(p) = self.remove(seq) {
                    self.report.failed.push((
                        p.item.archive_id,
                        p.item.name,
                        format!("InitiateJob: {}", crate::error::chain(&e)),
                    ));
                }
            }
            Err(e) if is_policy_refusal(&e) => self.policy_refused(&e)?,
            // Glacier limits retrievals, or is failing; the client already retried (and
            // a lost answer was looked for). Wait for a poll.
            Err(e) if is_throttled(&e) || e.is_transient() => {
                (self.note)(&format!(
                    "Glacier refuses more jobs for now ({}); trying again after the next poll",
                    crate::error::chain(&e)
                ));
                self.refused = true;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// InitiateJob refused by the data retrieval policy: waited out while it can lift,
    /// a stop with the journal intact once it looks as if it cannot (see
    /// [`POLICY_PATIENCE`]).
    pub(super) fn policy_refused(&mut self, e: &Error) -> Result<()> {
        let why = crate::error::chain(e);
        self.refused = true;
        if self.running > 0 {
            // Jobs of this run are outstanding: a Max Retrieval Rate allows more as they
            // finish, and the run has work meanwhile.
            self.policy_since = None;
            if self.policy_told != Some(false) {
                self.policy_told = Some(false);
                (self.note)(&format!(
                    "Glacier's data retrieval policy refuses more retrievals while this export's {} jobs are outstanding ({why}); trying again as they finish",
                    self.running
                ));
            }
            return Ok(());
        }
        let now = (self.opts.clock)();
        let since = *self.policy_since.get_or_insert(now);
        let waited = now - since;
        if waited >= POLICY_PATIENCE {
            return Err(Error::Failed(format!(
                "Glacier's data retrieval policy refused every retrieval for {} while no job of this export was outstanding ({why}); a Free Tier Only policy allows more the next day, a Max Retrieval Rate policy never allows an archive above its rate, and neither applies to the Bulk or Expedited tier; what was exported is journaled: run the same command again to continue",
                crate::progress::human_duration(waited.unsigned_abs())
            )));
        }
        if self.policy_told != Some(true) {
            self.policy_told = Some(true);
            if self.opts.wait {
                (self.note)(&format!(
                    "Glacier's data retrieval policy refuses retrievals ({why}); trying again after each poll for up to {}",
                    crate::progress::human_duration((POLICY_PATIENCE - waited).unsigned_abs())
                ));
            } else {
                // The run returns "not now" after this round (exit 3).
                (self.note)(&format!(
                    "Glacier's data retrieval policy refuses retrievals ({why})"
                ));
            }
        }
        Ok(())
    }

    /// [`Adoptable`] from one listing of the vault's jobs (pages of 1,000), riding out
    /// transient faults. Made once, before the run's first new job: jobs Glacier has
    /// that the journal may not (a run killed between InitiateJob's answer and its
    /// journal line, or a machine crash before a sync) are adopted instead of paying
    /// for another. Every job of an archive is kept, not the last listed: the same
    /// archive may also have a ranged retrieval (a user's own `retrieval --range`),
    /// which must not hide the whole-archive one. Jobs of archives the journal has done
    /// with, or knows the job of, are left out, so the map holds only what may be
    /// adopted.
    pub(super) fn adoptable_jobs(&mut self) -> Result<Adoptable> {
        let Work { client, vault, .. } = *self.work;
        let mut backoff = Backoff::new(self.opts.backoff.0, self.opts.backoff.1);
        let (listed, last, pages) = loop {
            match poll::list_all(client, vault) {
                Ok(l) => break l,
                Err(e) => ride_out(e, self.opts, &mut backoff, self.note)?,
            }
        };
        // No journaled job waits: later polls need only jobs started from now on.
        if self.waiting == 0 {
            self.finder.start_at(last, pages);
        }
        let b = lock(self.books);
        let mut adoptable = Adoptable::new();
        for j in listed {
            if job::action(&j) != "ArchiveRetrieval" || job::status(&j) == "Failed" {
                continue;
            }
            if let (Some(a), Some(id)) = (job::archive_id(&j), j.job_id.clone()) {
                let k = journal::key(a);
                if b.state.lost.contains(&id)
                    || b.state.exported.contains(&k)
                    || b.state.jobs.get(&k) == Some(&id)
                {
                    continue;
                }
                adoptable
                    .entry(k)
                    .or_default()
                    .push((id, job::range(&j).map(str::to_string)));
            }
        }
        Ok(adoptable)
    }
}

/// Sends an InitiateJob (`send`) once the records that license it are durable: a
/// record of a job found lost licenses its restart, and must survive a machine crash
/// before the restart is paid for. Other records stay grouped for the next poll's sync.
pub(super) fn licensed<T>(
    books: &Mutex<Books<'_>>,
    unsynced: &mut bool,
    send: impl FnOnce() -> T,
) -> Result<T> {
    if *unsynced {
        lock(books).journal.sync()?;
        *unsynced = false;
    }
    Ok(send())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A restart's InitiateJob goes out only once the record of the lost job is synced,
    /// while other records stay grouped for the next poll.
    #[test]
    fn the_record_of_a_lost_job_is_synced_before_its_restart_is_sent() {
        let dir =
            std::env::temp_dir().join(format!("glacier-sched-licensed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut journal, mut state) = Journal::open(&dir).expect("open");
        let books = Mutex::new(Books {
            journal: &mut journal,
            state: &mut state,
        });
        let lost = Record::JobLost {
            archive_id: "a".into(),
            job_id: "j1".into(),
            reason: "expired".into(),
        };
        lock(&books).journal.record(&lost).expect("record");
        let mut unsynced = true;
        let seen = licensed(&books, &mut unsynced, || {
            let b = lock(&books);
            (b.journal.unsynced(), b.journal.syncs())
        })
        .expect("licensed");
        assert_eq!(seen, (0, 1), "synced when InitiateJob was sent");
        assert!(!unsynced);
        // A new archive's InitiateJob licenses nothing of the journal: no sync for it.
        let job = Record::Job {
            archive_id: "b".into(),
            job_id: "j2".into(),
            time: "t".into(),
        };
        lock(&books).journal.record(&job).expect("record");
        let seen = licensed(&books, &mut unsynced, || {
            let b = lock(&books);
            (b.journal.unsynced(), b.journal.syncs())
        })
        .expect("licensed");
        assert_eq!(seen, (1, 1), "left for the next poll's sync");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
