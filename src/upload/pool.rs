//! One multipart upload session: initiate or resume, the worker pool, complete.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::plan::{self, MAX_PARTS, check_fits, part_count, threads_for_memory};
use super::state::{self, InputId, UploadState};
use super::{Events, Options, Outcome, hash_part};
use crate::error::{Error, Result};
use crate::filehash::AlignedBuf;
use crate::glacier::{Client, Payload, UploadId};
use crate::treehash::{self, TreeHash};

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub(super) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A part to hash and upload. `data` is `None` when the worker reads it from the file.
struct Job {
    index: u64,
    data: Option<Pooled>,
}

/// The part buffers of a session: at most `max` are ever allocated, so memory stays at
/// `max × part size` whatever the archive size. A buffer goes back to the pool when its
/// last user drops it: the worker if the part needed no upload, otherwise the HTTP layer
/// once it has sent the request body (the body shares the buffer, never copies it).
struct Buffers {
    home: Sender<AlignedBuf>,
    free: Receiver<AlignedBuf>,
    made: std::sync::atomic::AtomicUsize,
    max: usize,
    size: usize,
}

/// A buffer on loan from [`Buffers`]; `len` bytes of it are the part.
pub(super) struct Pooled {
    buf: AlignedBuf,
    len: usize,
    home: Sender<AlignedBuf>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // The pool outlives every loan unless the session is gone, and then the buffer is
        // simply freed.
        let _ = self
            .home
            .send(std::mem::replace(&mut self.buf, AlignedBuf::new(0)));
    }
}

impl Buffers {
    fn new(max: usize, size: usize, already_made: usize) -> Buffers {
        let (home, free) = crossbeam_channel::unbounded();
        Buffers {
            home,
            free,
            made: std::sync::atomic::AtomicUsize::new(already_made),
            max: max.max(1),
            size,
        }
    }

    /// Wraps a buffer made outside the pool (counted in `already_made`).
    fn adopt(&self, buf: AlignedBuf, len: usize) -> Pooled {
        Pooled {
            buf,
            len,
            home: self.home.clone(),
        }
    }

    /// A free buffer: a returned one, a new one while fewer than `max` exist, or else the
    /// next one returned.
    fn take(&self) -> Pooled {
        let buf = match self.free.try_recv() {
            Ok(b) => b,
            Err(_) => {
                let room = self
                    .made
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |m| {
                        (m < self.max).then_some(m + 1)
                    })
                    .is_ok();
                if room {
                    AlignedBuf::new(self.size)
                } else {
                    self.free
                        .recv()
                        .expect("the pool keeps a sender of its own")
                }
            }
        };
        self.adopt(buf, 0)
    }
}

/// An upload in progress and the shared state of its workers.
pub(super) struct Session<'a> {
    client: &'a Client,
    opts: &'a Options,
    events: &'a dyn Events,
    upload_id: UploadId,
    part_size: u64,
    threads: usize,
    /// Parts Glacier already has (resume), by index.
    known: HashMap<u64, TreeHash>,
    /// The local data is known to be what the upload started with (state file agrees),
    /// so a part that differs on Glacier is re-uploaded instead of refused.
    trusted: bool,
    what: String,
    /// What the data comes from, for the resume state.
    input: InputId,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    done: Mutex<Vec<(u64, TreeHash, bool)>>,
}

impl<'a> Session<'a> {
    /// Initiates an upload, or resumes `opts.upload_id` after checking its parts against
    /// what we know of the input.
    pub(super) fn start(
        client: &'a Client,
        opts: &'a Options,
        events: &'a dyn Events,
        input: &InputId,
        size: Option<u64>,
        what: &str,
    ) -> Result<Session<'a>> {
        let started = Session::start_or_resume(client, opts, events, input, size, what);
        match &opts.upload_id {
            // A resume refused after ListParts was sent is not exit 2 ("nothing sent").
            Some(_) => started.map_err(super::after_sent),
            None => started,
        }
    }

    fn start_or_resume(
        client: &'a Client,
        opts: &'a Options,
        events: &'a dyn Events,
        input: &InputId,
        size: Option<u64>,
        what: &str,
    ) -> Result<Session<'a>> {
        let mut known = HashMap::new();
        let mut trusted = false;
        let (upload_id, part_size) = match &opts.upload_id {
            None => {
                let part_size = opts
                    .part_size
                    .unwrap_or_else(|| plan::default_part_size(size.unwrap_or(0)));
                if let Some(s) = size {
                    check_fits(s, part_size, what)?;
                }
                threads_for_memory(
                    opts.threads,
                    part_size,
                    opts.max_memory,
                    opts.part_size_given,
                )?;
                let id = super::lost::initiate(client, opts, part_size, events)?;
                events.upload_started(&id, part_size, size.map(|s| part_count(s, part_size)));
                if let Some(dir) = &opts.state_dir {
                    // Losing the state only makes a resume stricter; don't fail the upload.
                    if let Err(e) = state::save(
                        dir,
                        &UploadState {
                            vault: opts.vault.clone(),
                            upload_id: id.to_string(),
                            part_size,
                            input: input.clone(),
                            origin: opts.origin.clone(),
                            completing: None,
                            description: Some(opts.description.clone()),
                        },
                    ) {
                        events.note(&format!(
                            "could not save resume state: {}",
                            crate::error::chain(&e)
                        ));
                    }
                }
                (id, part_size)
            }
            Some(id) => {
                let list = client.list_parts(&opts.vault, id)?;
                let part_size = list.part_size;
                if let Some(p) = opts.part_size {
                    if p != part_size {
                        return Err(Error::Usage(format!(
                            "--part-size {} MiB disagrees with upload {id}, which uses {} MiB parts; leave --part-size out to resume",
                            p >> 20,
                            part_size >> 20
                        )));
                    }
                }
                super::check_same_description(opts, id, list.archive_description.as_deref())?;
                if !treehash::is_valid_part_size(part_size) {
                    return Err(Error::Input(format!(
                        "upload {id} reports part size {part_size}, which is not 1 MiB × 2^n"
                    )));
                }
                threads_for_memory(
                    opts.threads,
                    part_size,
                    opts.max_memory,
                    opts.part_size_given,
                )?;
                if let Some(s) = size {
                    check_fits(s, part_size, what)?;
                }
                for p in &list.parts {
                    let index = p.start / part_size;
                    let len = p.end - p.start + 1;
                    let fits = p.start % part_size == 0
                        && (len == part_size || size.is_none_or(|s| p.end + 1 == s))
                        && len <= part_size
                        && size.is_none_or(|s| p.end < s);
                    if !fits {
                        return Err(Error::Input(format!(
                            "upload {id} has a part at bytes {}-{} that does not fit {what}{}: is this the input the upload started with?",
                            p.start,
                            p.end,
                            size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
                        )));
                    }
                    known.insert(index, p.tree_hash);
                }
                if let Some(dir) = &opts.state_dir {
                    match state::load(dir, id) {
                        Some(st) if !input.same_data_as(&st.input) => {
                            if let (
                                InputId::File { size: was, .. },
                                InputId::File { size: now, .. },
                            ) = (&st.input, input)
                            {
                                return Err(Error::Input(format!(
                                    "{what} changed since upload {id} started (size {was} → {now} bytes, or modified); resuming would mix two versions"
                                )));
                            }
                        }
                        Some(_) => trusted = true,
                        None => {}
                    }
                }
                events.upload_started(id, part_size, size.map(|s| part_count(s, part_size)));
                (id.clone(), part_size)
            }
        };
        let threads = threads_for_memory(
            opts.threads,
            part_size,
            opts.max_memory,
            opts.part_size_given,
        )?;
        Ok(Session {
            client,
            opts,
            events,
            upload_id,
            part_size,
            threads,
            known,
            trusted,
            what: what.to_string(),
            input: input.clone(),
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
            done: Mutex::new(Vec::new()),
        })
    }

    fn halted(&self) -> bool {
        self.failed.load(Ordering::Relaxed) || self.opts.stop.load(Ordering::Relaxed)
    }

    fn fail(&self, e: Error) {
        self.failed.store(true, Ordering::Relaxed);
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
    }

    /// Hashes one part and uploads it unless Glacier already has exactly it.
    fn process(&self, index: u64, data: Pooled) -> Result<()> {
        let start = index * self.part_size;
        let len = data.len;
        let bytes = data.as_ref();
        if let Some(theirs) = self.known.get(&index) {
            let ours = treehash::tree_hash(bytes);
            if ours == *theirs {
                self.record(index, ours, true, len);
                return Ok(());
            }
            if !self.trusted {
                return Err(Error::Mismatch {
                    what: format!(
                        "part {index} (bytes {start}-{}) of upload {}: Glacier's copy differs from {} (is it the input this upload started with?)",
                        start + len as u64 - 1,
                        self.upload_id,
                        self.what
                    ),
                    expected: theirs.to_hex(),
                    actual: ours.to_hex(),
                });
            }
            self.events.note(&format!(
                "part {index} on Glacier differs from the local data, which is unchanged since the upload started: uploading it again"
            ));
        }
        let (sha, tree) = hash_part(bytes);
        let payload = Payload::new(bytes::Bytes::from_owner(data), sha);
        self.client
            .upload_part(&self.opts.vault, &self.upload_id, start, &payload, &tree)?;
        self.record(index, tree, false, len);
        Ok(())
    }

    fn record(&self, index: u64, tree: TreeHash, reused: bool, len: usize) {
        self.opts.progress.fetch_add(len as u64, Ordering::Relaxed);
        self.done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((index, tree, reused));
    }

    fn worker(&self, jobs: &Receiver<Job>, buffers: &Buffers, file: Option<(&Path, &File, u64)>) {
        for job in jobs.iter() {
            if self.halted() {
                continue; // drain without work so the producer never blocks
            }
            let result = match job.data {
                Some(data) => self.process(job.index, data),
                None => {
                    let (path, file, size) = file.expect("file jobs come with a file");
                    let mut data = buffers.take();
                    let start = job.index * self.part_size;
                    data.len = (size - start).min(self.part_size) as usize;
                    let len = data.len;
                    file.read_exact_at(&mut data.buf[..len], start)
                        .map_err(|e| Error::io(path, e))
                        .and_then(|()| self.process(job.index, data))
                }
            };
            if let Err(e) = result {
                self.fail(e);
            }
        }
    }

    /// Uploads the parts of a regular file: workers read their parts themselves.
    pub(super) fn run_file(
        &self,
        path: &Path,
        file: &File,
        size: u64,
    ) -> Result<(TreeHash, u64, u64)> {
        let parts = part_count(size, self.part_size);
        let (tx, rx) = bounded::<Job>(self.threads);
        let buffers = Buffers::new(self.threads, self.part_size as usize, 0);
        std::thread::scope(|s| {
            for _ in 0..self.threads {
                let rx = rx.clone();
                let buffers = &buffers;
                s.spawn(move || self.worker(&rx, buffers, Some((path, file, size))));
            }
            drop(rx);
            for index in 0..parts {
                if self.halted() || tx.send(Job { index, data: None }).is_err() {
                    break;
                }
            }
            drop(tx);
        });
        let (tree, uploaded, reused) = self.finish(parts)?;
        Ok((tree, uploaded, reused))
    }

    /// Uploads a stream: this thread cuts it into parts (the first already read), workers
    /// hash and upload them; buffers circulate through a fixed pool.
    pub(super) fn run_stream(
        &self,
        label: &str,
        mut reader: Box<dyn Read + Send>,
        first: AlignedBuf,
        first_len: usize,
    ) -> Result<(u64, TreeHash, u64, u64)> {
        let (tx, rx) = bounded::<Job>(0);
        // The first part was read before the session began: it is buffer one of `threads`.
        let buffers = Buffers::new(self.threads, self.part_size as usize, 1);
        let first = buffers.adopt(first, first_len);
        let mut produced: Result<(u64, u64, bool)> = Ok((0, 0, false));
        std::thread::scope(|s| {
            for _ in 0..self.threads {
                let rx = rx.clone();
                let buffers = &buffers;
                s.spawn(move || self.worker(&rx, buffers, None));
            }
            drop(rx);
            produced = self.produce(label, &mut reader, first, &tx, &buffers);
            drop(tx);
        });
        let (parts, size, ended) = produced?;
        // A part that failed, or Ctrl-C, explains everything below: report it first.
        if let Some(e) = self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        if !ended {
            // The parts so far are all on Glacier, but the stream was not read to its
            // end: completing now would store a cut-short archive.
            return Err(Error::Interrupted(format!(
                "interrupted after {parts} parts; {label} was not uploaded to its end"
            )));
        }
        if let Some(max) = self.known.keys().max() {
            if *max >= parts {
                return Err(Error::Input(format!(
                    "upload {} has part {max} but {label} ended after {parts} parts: is this the input the upload started with?",
                    self.upload_id
                )));
            }
        }
        let (tree, uploaded, reused) = self.finish(parts)?;
        Ok((size, tree, uploaded, reused))
    }

    fn produce(
        &self,
        label: &str,
        reader: &mut dyn Read,
        first: Pooled,
        tx: &Sender<Job>,
        buffers: &Buffers,
    ) -> Result<(u64, u64, bool)> {
        let ps = self.part_size as usize;
        let mut data = first;
        let mut index = 0u64;
        let mut total = 0u64;
        let mut ended = false;
        loop {
            let len = data.len;
            if len > 0 {
                if index >= MAX_PARTS {
                    return Err(Error::Input(format!(
                        "{label} outgrew 10,000 parts of {} MiB; use a larger --part-size",
                        ps >> 20
                    )));
                }
                total += len as u64;
                let job = Job {
                    index,
                    data: Some(data),
                };
                if tx.send(job).is_err() {
                    break;
                }
                index += 1;
            }
            if len < ps {
                ended = true;
                break;
            }
            if self.halted() {
                break;
            }
            data = buffers.take();
            data.len =
                read_full(reader, &mut data.buf[..ps]).map_err(|e| Error::from_io(e, label))?;
        }
        if index == 0 && ended {
            return Err(Error::Input(format!(
                "{label} is empty; Glacier archives are at least 1 byte"
            )));
        }
        Ok((index, total, ended))
    }

    /// Collects the results: the error that stopped the pool, an interruption, or the
    /// part hashes combined into the archive's tree hash.
    fn finish(&self, parts: u64) -> Result<(TreeHash, u64, u64)> {
        if let Some(e) = self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        let mut done = std::mem::take(&mut *self.done.lock().unwrap_or_else(|p| p.into_inner()));
        if self.opts.stop.load(Ordering::Relaxed) && (done.len() as u64) < parts {
            return Err(Error::Interrupted(format!(
                "interrupted with {} of {parts} parts uploaded",
                done.len()
            )));
        }
        done.sort_by_key(|d| d.0);
        if done.len() as u64 != parts || done.iter().enumerate().any(|(i, d)| d.0 != i as u64) {
            return Err(Error::Input(format!(
                "internal: {} of {parts} parts accounted for",
                done.len()
            )));
        }
        let hashes: Vec<TreeHash> = done.iter().map(|d| d.1).collect();
        let reused = done.iter().filter(|d| d.2).count() as u64;
        let tree = treehash::combine(&hashes).expect("at least one part");
        Ok((tree, parts - reused, reused))
    }

    /// Completes the upload. Its resume state is kept: the caller removes it (with
    /// [`state::remove`]) only once the archive ID is recorded, so a crash in between
    /// still finds the upload to complete again.
    pub(super) fn complete(
        &self,
        size: u64,
        tree_hash: TreeHash,
        uploaded: u64,
        reused: u64,
    ) -> Result<Outcome> {
        if let Some(dir) = &self.opts.state_dir {
            let st = UploadState {
                vault: self.opts.vault.clone(),
                upload_id: self.upload_id.to_string(),
                part_size: self.part_size,
                input: self.input.clone(),
                origin: self.opts.origin.clone(),
                completing: Some(state::Completing {
                    size,
                    tree_hash: tree_hash.to_hex(),
                }),
                description: Some(self.opts.description.clone()),
            };
            if let Err(e) = state::save(dir, &st) {
                self.events.note(&format!(
                    "could not save resume state: {}",
                    crate::error::chain(&e)
                ));
            }
        }
        self.events.completing();
        let archive = self.client.complete_multipart_upload(
            &self.opts.vault,
            &self.upload_id,
            size,
            &tree_hash,
        )?;
        Ok(Outcome {
            archive,
            size,
            upload_id: Some(self.upload_id.clone()),
            part_size: Some(self.part_size),
            parts_uploaded: uploaded,
            parts_reused: reused,
        })
    }
}
