//! What a download's result does to the run: an archive exported, its job's output gone
//! (the job is journaled lost and the archive restarted first), a failure, or a fault
//! tried again. A failed try counts against an archive only when another archive landed
//! since its last one: every download failing at once is an outage, ridden out (but not
//! past `DOWNLOAD_PATIENCE_SECS` of one archive's failures).

use super::*;

impl<'a, 'w, 'j> Sched<'a, 'w, 'j> {
    /// Applies a worker's result.
    pub(super) fn apply(&mut self, l: Landed) -> Result<()> {
        self.in_flight = self.in_flight.saturating_sub(1);
        match l {
            Landed::Exported(seq) => {
                if let Some(p) = self.remove(seq) {
                    self.report.exported += 1;
                    self.report.exported_bytes += p.item.size;
                    self.done += 1;
                    self.landed += 1;
                    self.download_backoff.reset();
                }
                self.tell(None, 0, false);
            }
            Landed::Lost(seq, job_id) => {
                self.lose_job(seq, &job_id, "expired (output gone)")?;
            }
            Landed::Failed(seq, why) => self.fail(seq, why),
            Landed::Halted => self.halted = true,
            Landed::Retry(seq, why, job) => {
                let Some(p) = self.outstanding.get(&seq) else {
                    return Ok(());
                };
                let (id, name) = (p.item.archive_id.clone(), p.item.name.clone());
                let landed = self.landed;
                let now = (self.opts.clock)().unix_timestamp();
                let k = journal::key(&id);
                let first = !self.retries.contains_key(&k);
                let (tries, mark, since) = self.retries.entry(k).or_insert((0, landed, now));
                // Counted only if another archive landed since this one last failed: the
                // fault is then this archive's. Nothing landing is an outage, ridden out,
                // but not past DOWNLOAD_PATIENCE_SECS of this archive's failures.
                let counted = *mark != landed;
                if counted {
                    *tries += 1;
                }
                *mark = landed;
                if *tries >= DOWNLOAD_TRIES || now - *since >= DOWNLOAD_PATIENCE_SECS {
                    self.fail(seq, why);
                } else if self.opts.wait {
                    // Said at an archive's first failure and at each counted one: an
                    // outage's uncounted retries of every archive in flight (one a minute
                    // each, for hours) would bury stderr.
                    if first || counted {
                        (self.note)(&format!(
                            "archive {id} ({name}): {why}; downloading it again"
                        ));
                    }
                    // The same job is downloaded again after a pause that grows while
                    // the fault lasts.
                    let at = Instant::now() + self.download_backoff.next_pause();
                    self.retry.push((at, seq, *job));
                } else {
                    // Left for a rerun: its job stays in the journal.
                    (self.note)(&format!(
                        "archive {id} ({name}): {why}; a rerun downloads it again"
                    ));
                    self.remove(seq);
                }
            }
        }
        Ok(())
    }

    pub(super) fn fail(&mut self, seq: u64, why: String) {
        if let Some(p) = self.remove(seq) {
            (self.note)(&format!(
                "archive {} ({}): {why}",
                p.item.archive_id, p.item.name
            ));
            self.report
                .failed
                .push((p.item.archive_id, p.item.name, why));
        }
    }

    /// Records that `seq`'s job can no longer give its output, and queues a restart.
    pub(super) fn lose_job(&mut self, seq: u64, job_id: &str, reason: &str) -> Result<()> {
        let Some(p) = self.outstanding.get_mut(&seq) else {
            return Ok(());
        };
        let r = Record::JobLost {
            archive_id: p.item.archive_id.clone(),
            job_id: job_id.to_string(),
            reason: reason.to_string(),
        };
        {
            let mut b = lock(self.books);
            b.journal.record(&r)?;
            b.state.apply(&r);
        }
        self.license_unsynced = true;
        (self.note)(&format!(
            "job {job_id} for archive {} ({}) {reason}; starting a new retrieval",
            p.item.archive_id, p.item.name
        ));
        if p.job.take().is_some() {
            self.running -= 1;
            self.pending_bytes = self.pending_bytes.saturating_sub(p.item.size);
        }
        p.restart = true;
        p.phase = Phase::Unstarted;
        self.retries.remove(&journal::key(&p.item.archive_id));
        // Restarts go first.
        self.unstarted.push_front(seq);
        Ok(())
    }
}
