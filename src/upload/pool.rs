//! One multipart upload session: initiate or resume, run the parts on the crate's worker
//! pool ([`crate::workers`]), complete. A part counts as done only once Glacier accepted
//! it (or already had exactly it); at most `threads` part buffers ever exist.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::Ordering;

use crossbeam_channel::{Receiver, Sender};

use super::plan::{self, MAX_PARTS, check_fits, part_count, threads_for_memory};
use super::state::{self, InputId, UploadState};
use super::{Events, Outcome, PartHasher, Settings, hash_part};
use crate::error::{Error, Result, Setting};
use crate::filehash::AlignedBuf;
use crate::glacier::{Client, Payload, UploadId};
use crate::treehash::{self, TreeHash};
use crate::workers::{self, Ended, Pool};

/// The bytes of a file part read by one call before they are hashed: well inside a core's
/// L2 cache, with the hashers' own state beside it.
const READ_SLICE: usize = 256 << 10;

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
    opts: &'a Settings,
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
}

impl<'a> Session<'a> {
    /// Initiates an upload, or resumes `opts.upload_id` after checking its parts against
    /// what we know of the input.
    pub(super) fn start(
        client: &'a Client,
        opts: &'a Settings,
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
        opts: &'a Settings,
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
                save_started(opts, events, &id, part_size, input);
                (id, part_size)
            }
            Some(id) => {
                let list = client.list_parts(&opts.vault, id)?;
                let part_size = list.part_size;
                if let Some(p) = opts.part_size {
                    if p != part_size {
                        return Err(Error::Usage(format!(
                            "{ps} {} MiB disagrees with upload {id}, which uses {} MiB parts; leave {ps} out to resume",
                            p >> 20,
                            part_size >> 20,
                            ps = Setting::PartSize
                        )));
                    }
                }
                super::check_same_description(opts, id, list.archive_description.as_deref(), true)?;
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
                known = known_parts(&list.parts, part_size, size, id, what)?;
                trusted = same_input_as_started(opts, id, input, what)?;
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
        })
    }

    /// Hashes one part and uploads it unless Glacier already has exactly it; returns its
    /// tree hash and whether Glacier already had it. Only an accepted (or already
    /// present) part returns `Ok`, so only such a part is ever counted as done.
    /// `hashed`: the part's linear SHA-256 and tree hash when the caller computed them
    /// while reading it.
    fn process(
        &self,
        index: u64,
        data: Pooled,
        hashed: Option<(String, TreeHash)>,
    ) -> Result<(TreeHash, bool)> {
        let start = index * self.part_size;
        let len = data.len;
        let bytes = data.as_ref();
        if let Some(theirs) = self.known.get(&index) {
            let ours = match &hashed {
                Some((_, tree)) => *tree,
                None => treehash::tree_hash(bytes),
            };
            if ours == *theirs {
                self.opts.reporter.add_bytes(len as u64);
                return Ok((ours, true));
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
        let (sha, tree) = hashed.unwrap_or_else(|| hash_part(bytes));
        let payload = Payload::new(bytes::Bytes::from_owner(data), sha);
        self.client
            .upload_part(&self.opts.vault, &self.upload_id, start, &payload, &tree)?;
        self.opts.reporter.add_bytes(len as u64);
        Ok((tree, false))
    }

    /// Uploads the parts of a regular file: each worker reads its part itself into a
    /// buffer from the session's pool.
    pub(super) fn run_file(
        &self,
        path: &Path,
        file: &File,
        size: u64,
    ) -> Result<(TreeHash, u64, u64)> {
        let parts = part_count(size, self.part_size);
        let buffers = Buffers::new(self.threads, self.part_size as usize, 0);
        let run = |indexes: &[u64]| {
            Pool::new(self.threads).stop(&self.opts.stop).run(
                indexes.iter().copied(),
                || Ok(()),
                |_, _, index| {
                    let mut data = buffers.take();
                    let start = index * self.part_size;
                    data.len = (size - start).min(self.part_size) as usize;
                    let len = data.len;
                    let read = |buf: &mut [u8], at: usize| {
                        file.read_exact_at(buf, start + at as u64)
                            .map_err(|e| Error::io(path, e))
                    };
                    if self.known.contains_key(&index) {
                        // Glacier may have it: only its tree hash is needed to tell.
                        read(&mut data.buf[..len], 0)?;
                        return self.process(index, data, None);
                    }
                    // Read and hashed a slice at a time, so the hashers find each slice
                    // still in cache from the copy that brought it in.
                    let mut hasher = PartHasher::new();
                    for at in (0..len).step_by(READ_SLICE) {
                        let slice = &mut data.buf[at..len.min(at + READ_SLICE)];
                        read(slice, at)?;
                        hasher.update(slice);
                    }
                    self.process(index, data, Some(hasher.finish()))
                },
            )
        };
        // Resuming an upload this input is not known to have started: every part Glacier
        // already has is checked first, and only then is anything sent, so a resume of
        // the wrong input is refused having sent nothing (and the right input can still
        // resume). Checking sends nothing: a part that differs is refused in `process`.
        let (checked, rest): (Vec<u64>, Vec<u64>) =
            (0..parts).partition(|i| !self.trusted && self.known.contains_key(i));
        let first = run(&checked);
        if first.error.is_some() || first.stopped {
            return self.finish(parts, first);
        }
        let second = run(&rest);
        // Both runs' results, by part index (each run numbers its items from 0).
        let mut done: Vec<workers::Done<(TreeHash, bool)>> = Vec::with_capacity(parts as usize);
        for (indexes, out) in [(&checked, &first.done), (&rest, &second.done)] {
            done.extend(out.iter().map(|d| workers::Done {
                index: indexes[d.index as usize],
                value: d.value,
            }));
        }
        done.sort_by_key(|d| d.index);
        let out = workers::Outcome {
            done,
            error: second.error,
            stopped: second.stopped,
            scheduled: first.scheduled + second.scheduled,
        };
        self.finish(parts, out)
    }

    /// Uploads a stream: this thread cuts it into parts (the first already read), workers
    /// hash and upload them; buffers circulate through a fixed pool.
    pub(super) fn run_stream(
        &self,
        label: &str,
        reader: Box<dyn Read + Send>,
        first: AlignedBuf,
        first_len: usize,
    ) -> Result<(u64, TreeHash, u64, u64)> {
        // The first part was read before the session began: it is buffer one of `threads`.
        let buffers = Buffers::new(self.threads, self.part_size as usize, 1);
        let first = buffers.adopt(first, first_len);
        let mut parts = StreamParts {
            label,
            reader,
            buffers: &buffers,
            part_size: self.part_size as usize,
            first: Some(first),
            index: 0,
            total: 0,
            ended: first_len < self.part_size as usize,
            error: None,
        };
        // A rendezvous queue: the producer holds at most one part it could not yet give,
        // so the `threads` buffers are never all waiting in a queue.
        let out = Pool::new(self.threads).queue(0).stop(&self.opts.stop).run(
            &mut parts,
            || Ok(()),
            |_, index, data| self.process(index, data, None),
        );
        let (n, size) = (parts.index, parts.total);
        // Reading the stream failed, or it was empty or too long: that explains the rest.
        if let Some(e) = parts.error {
            return Err(e);
        }
        // A part that failed explains everything below: report it first.
        if let Some(e) = out.error {
            return Err(e);
        }
        if !parts.ended {
            // The parts so far are all on Glacier, but the stream was not read to its
            // end: completing now would store a cut-short archive.
            return Err(Error::Interrupted(format!(
                "interrupted after {n} parts; {label} was not uploaded to its end"
            )));
        }
        if let Some(max) = self.known.keys().max() {
            if *max >= n {
                return Err(Error::Input(format!(
                    "upload {} has part {max} but {label} ended after {n} parts: is this the input the upload started with?",
                    self.upload_id
                )));
            }
        }
        let (tree, uploaded, reused) = self.finish(n, out)?;
        Ok((size, tree, uploaded, reused))
    }

    /// Collects the results: the error that stopped the pool, an interruption, or the
    /// part hashes combined into the archive's tree hash.
    fn finish(
        &self,
        parts: u64,
        out: workers::Outcome<(TreeHash, bool), Error>,
    ) -> Result<(TreeHash, u64, u64)> {
        let done = match out.into_values() {
            Ok(done) => done,
            Err(Ended::Failed(e)) => return Err(e),
            Err(Ended::Stopped { done }) => {
                return Err(Error::Interrupted(format!(
                    "interrupted with {done} of {parts} parts uploaded"
                )));
            }
        };
        if done.len() as u64 != parts {
            return Err(Error::Input(format!(
                "internal: {} of {parts} parts accounted for",
                done.len()
            )));
        }
        let hashes: Vec<TreeHash> = done.iter().map(|(tree, _)| *tree).collect();
        let reused = done.iter().filter(|(_, reused)| *reused).count() as u64;
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
                description: Some(self.opts.description.to_string()),
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
            parts_uploaded: uploaded,
            parts_reused: reused,
        })
    }
}

/// Records a new upload's resume state. Losing it only makes a resume stricter, so a
/// failure is a note, not an error.
fn save_started(
    opts: &Settings,
    events: &dyn Events,
    id: &UploadId,
    part_size: u64,
    input: &InputId,
) {
    let Some(dir) = &opts.state_dir else {
        return;
    };
    let st = UploadState {
        vault: opts.vault.clone(),
        upload_id: id.to_string(),
        part_size,
        input: input.clone(),
        origin: opts.origin.clone(),
        completing: None,
        description: Some(opts.description.to_string()),
    };
    if let Err(e) = state::save(dir, &st) {
        events.note(&format!(
            "could not save resume state: {}",
            crate::error::chain(&e)
        ));
    }
}

/// The parts a resumed upload already has, by index, each checked to fit the input:
/// aligned, whole (or the input's last), inside it.
fn known_parts(
    parts: &[crate::glacier::PartRange],
    part_size: u64,
    size: Option<u64>,
    id: &UploadId,
    what: &str,
) -> Result<HashMap<u64, TreeHash>> {
    let mut known = HashMap::new();
    for p in parts {
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
    Ok(known)
}

/// Whether the resume state shows `input` to be the data upload `id` started with (then a
/// part that differs on Glacier is uploaded again rather than refused). A file whose size
/// or modification time changed since is refused: resuming would mix two versions.
fn same_input_as_started(
    opts: &Settings,
    id: &UploadId,
    input: &InputId,
    what: &str,
) -> Result<bool> {
    let Some(st) = opts.state_dir.as_ref().and_then(|dir| state::load(dir, id)) else {
        return Ok(false);
    };
    if input.same_data_as(&st.input) {
        return Ok(true);
    }
    if let (InputId::File { size: was, .. }, InputId::File { size: now, .. }) = (&st.input, input) {
        return Err(Error::Input(format!(
            "{what} changed since upload {id} started (size {was} → {now} bytes, or modified); resuming would mix two versions"
        )));
    }
    Ok(false)
}

/// A stream cut into pooled parts, lent to the pool as its source. It ends (returns
/// `None`) at the end of the stream, or on an error, which it keeps for the caller: a
/// read error, an empty stream, or more parts than Glacier allows.
struct StreamParts<'a> {
    label: &'a str,
    reader: Box<dyn Read + Send>,
    buffers: &'a Buffers,
    part_size: usize,
    /// The part read before the session started, until it is handed out.
    first: Option<Pooled>,
    /// Parts handed out so far.
    index: u64,
    /// Bytes in them.
    total: u64,
    /// The stream's end was read: no part after the last one handed out.
    ended: bool,
    error: Option<Error>,
}

impl StreamParts<'_> {
    /// The next part with data, or `None` at the end or on an error.
    fn read_part(&mut self) -> Option<Pooled> {
        let data = match self.first.take() {
            Some(first) => first,
            None if self.ended || self.error.is_some() => return None,
            None => {
                let mut data = self.buffers.take();
                match read_full(&mut self.reader, &mut data.buf[..self.part_size]) {
                    Ok(n) => data.len = n,
                    Err(e) => {
                        self.error = Some(Error::from_io(e, self.label));
                        return None;
                    }
                }
                data
            }
        };
        // Known as soon as the short part is read, so a stop flag raised after the last
        // part was handed out does not make a complete stream look cut short.
        self.ended = data.len < self.part_size;
        if data.len == 0 {
            if self.index == 0 {
                self.error = Some(Error::Input(format!(
                    "{} is empty; Glacier archives are at least 1 byte",
                    self.label
                )));
            }
            return None;
        }
        if self.index >= MAX_PARTS {
            self.error = Some(Error::Input(format!(
                "{} outgrew 10,000 parts of {} MiB; use a larger {}",
                self.label,
                self.part_size >> 20,
                Setting::PartSize
            )));
            return None;
        }
        self.index += 1;
        self.total += data.len as u64;
        Some(data)
    }
}

impl Iterator for StreamParts<'_> {
    type Item = Pooled;

    fn next(&mut self) -> Option<Pooled> {
        self.read_part()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Exact once the end is known: the pool then needs no extra pull to see that the
        // source is exhausted, and starts no worker a one-part stream cannot use.
        let pending = usize::from(self.first.as_ref().is_some_and(|f| f.len > 0));
        if self.ended || self.error.is_some() {
            (pending, Some(pending))
        } else {
            (pending, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS: usize = 1 << 20;

    /// A reader of `len` bytes that then fails if `fail` is set.
    struct Source {
        left: usize,
        fail: bool,
    }

    impl Read for Source {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 && self.fail {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.left);
            buf[..n].fill(7);
            self.left -= n;
            Ok(n)
        }
    }

    /// The stream's parts as `StreamParts` would be built by `run_stream`, the first part
    /// already read from `src`.
    fn parts(buffers: &Buffers, mut src: Source) -> StreamParts<'_> {
        let mut first = AlignedBuf::new(PS);
        let n = read_full(&mut src, &mut first).expect("first part");
        StreamParts {
            label: "stdin",
            reader: Box::new(src),
            buffers,
            part_size: PS,
            first: Some(buffers.adopt(first, n)),
            index: 0,
            total: 0,
            ended: n < PS,
            error: None,
        }
    }

    #[test]
    fn a_stream_is_cut_into_parts_and_its_end_is_known_with_the_last_part() {
        let buffers = Buffers::new(4, PS, 1);
        let mut p = parts(
            &buffers,
            Source {
                left: 2 * PS + 5,
                fail: false,
            },
        );
        assert_eq!(p.size_hint(), (1, None));
        let lens: Vec<usize> = (&mut p).take(3).map(|d| d.len).collect();
        assert_eq!(lens, [PS, PS, 5]);
        // Ended with the short part, before anyone asks for more: a stop flag raised now
        // must not make the stream look cut short.
        assert!(p.ended);
        assert_eq!(p.size_hint(), (0, Some(0)));
        assert!(p.next().is_none());
        assert_eq!((p.index, p.total), (3, 2 * PS as u64 + 5));
        assert!(p.error.is_none());
    }

    #[test]
    fn a_stream_of_whole_parts_ends_on_the_empty_read_after_them() {
        let buffers = Buffers::new(2, PS, 1);
        let mut p = parts(
            &buffers,
            Source {
                left: 2 * PS,
                fail: false,
            },
        );
        assert_eq!((&mut p).count(), 2);
        assert!(p.ended && p.error.is_none());
    }

    #[test]
    fn a_one_part_stream_asks_for_one_worker() {
        let buffers = Buffers::new(4, PS, 1);
        let p = parts(
            &buffers,
            Source {
                left: 10,
                fail: false,
            },
        );
        assert_eq!(p.size_hint(), (1, Some(1)));
    }

    #[test]
    fn an_empty_stream_and_a_read_error_end_the_parts_with_an_error() {
        let buffers = Buffers::new(2, PS, 1);
        let mut p = parts(
            &buffers,
            Source {
                left: 0,
                fail: false,
            },
        );
        assert!(p.next().is_none());
        let e = p.error.take().expect("empty is an error").to_string();
        assert!(e.contains("stdin is empty"), "{e}");

        let mut p = parts(
            &buffers,
            Source {
                left: PS,
                fail: true,
            },
        );
        assert!(p.next().is_some());
        assert!(p.next().is_none());
        assert!(!p.ended);
        let e = crate::error::chain(&p.error.take().expect("read error kept"));
        assert!(e.contains("stdin") && e.contains("disk on fire"), "{e}");
    }

    #[test]
    fn at_most_max_buffers_ever_exist() {
        let buffers = Buffers::new(2, 16, 0);
        let a = buffers.take();
        let b = buffers.take();
        assert_eq!(buffers.made.load(Ordering::Relaxed), 2);
        drop(a);
        let c = buffers.take(); // the returned one, not a third
        assert_eq!(buffers.made.load(Ordering::Relaxed), 2);
        drop((b, c));
    }
}
