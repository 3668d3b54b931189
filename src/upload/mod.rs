//! Uploading an archive: one request for small files, otherwise a multipart upload whose
//! parts go up in parallel on the crate's one worker pool (`workers`).
//!
//! Memory is bounded by workers × part size: a regular file is read by the workers
//! themselves with positioned reads into buffers from a pool of `threads`; a stream (stdin, a
//! `.tar.xz` being packed) is cut into parts by one reader thread that takes buffers from
//! a fixed pool. Each part's linear SHA-256 and tree hash are computed in one pass over
//! the buffer, and a part counts as done only when Glacier accepted it. Resuming lists the
//! parts Glacier has, re-hashes the local data for those parts and uploads only the rest.
//! This module knows files, threads and the client; it never prints (events go to the
//! workflow, [`run`], which makes them the reporter's notes) and never reads argv.

mod lost;
pub mod plan;
mod pool;
pub mod state;
mod workflow;

pub use workflow::{
    Compression, Opened, Options, Receipts, Report, Resumable, ResumeCommand, Source, Unfinished,
    open, run,
};

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use crate::error::{Action, Error, Result, Setting};
use crate::filehash;
use crate::glacier::{ArchiveCreated, ArchiveId, Client, Description, Payload, UploadId};
use crate::progress::Reporter;
use crate::treehash::{self, LinearTreeHasher, TreeHash};

pub use plan::{SINGLE_REQUEST_LIMIT, STREAM_PART_SIZE, default_part_size};

/// What to upload, opened.
pub(crate) enum Input {
    /// A regular file: read in parallel with positioned reads.
    File {
        /// The path, for messages and the resume state.
        path: PathBuf,
        /// The open file.
        file: File,
    },
    /// A stream of unknown length, read once, in order.
    Stream {
        /// What it is, for messages (`standard input`, `packed .tar.xz of 3 inputs`).
        label: String,
        /// The bytes.
        reader: Box<dyn Read + Send>,
        /// The expected size, if known (for the part size and progress).
        size_hint: Option<u64>,
        /// Identifies the exact input (a hash of a packing plan); lets a resume trust
        /// that the stream is the same one. `None` for stdin.
        fingerprint: Option<String>,
    },
}

/// How the engine uploads: the workflow's [`Options`] with the context's stop flag and
/// data directory and the reporter folded in, and the memory left for part buffers.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The vault.
    pub vault: String,
    /// The archive description (checked where it was made).
    pub description: Description,
    /// The part size asked for, in bytes (checked: 1 MiB × 2^n).
    pub part_size: Option<u64>,
    /// `part_size` is the user's own choice (`--part-size`), not one made for them: if it
    /// cannot fit `max_memory`, that is an error rather than fewer parts in flight.
    pub part_size_given: bool,
    /// Parts in flight.
    pub threads: usize,
    /// Upper bound for part buffers: threads × part size must fit.
    pub max_memory: u64,
    /// Resume this upload instead of starting one.
    pub upload_id: Option<UploadId>,
    /// Set (by Ctrl-C) to stop scheduling new parts.
    pub stop: Arc<AtomicBool>,
    /// Told of the bytes uploaded, for the progress display.
    pub reporter: Arc<dyn Reporter>,
    /// Where resume state is kept (`None`: not kept).
    pub state_dir: Option<PathBuf>,
    /// Which Glacier this is (endpoint, account, region, profile), recorded in the resume state
    /// so a re-run only resumes an upload of the same place.
    pub origin: String,
    /// Without an `upload_id`, look for the resume state of an interrupted upload of the
    /// same input and resume it (`--no-resume` turns this off).
    pub auto_resume: bool,
}

/// A finished upload.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// What Glacier stored.
    pub archive: ArchiveCreated,
    /// Archive size in bytes.
    pub size: u64,
    /// The multipart upload ID (none for a single request).
    pub upload_id: Option<UploadId>,
    /// Parts sent in this run.
    pub parts_uploaded: u64,
    /// Parts already on Glacier (resume) that matched the local data.
    pub parts_reused: u64,
}

/// What the upload reports while it runs.
pub(crate) trait Events: Sync {
    /// A multipart upload has an ID (right after initiation, or at resume): the caller
    /// should show it at once so an interrupted run can always be resumed.
    fn upload_started(&self, upload_id: &UploadId, part_size: u64, parts: Option<u64>);
    /// Something the user should know (a re-uploaded part...).
    fn note(&self, msg: &str);
    /// The request that creates the archive is about to be sent: from here until the
    /// archive ID is recorded, the run must not be cut short.
    fn completing(&self) {}
    /// That request was refused (it created nothing) and the upload goes on another way:
    /// the run may be cut short again.
    fn not_completing(&self) {}
}

/// The first `len` bytes of a buffer, as a request body that shares it (no copy).
struct Prefix(filehash::AlignedBuf, usize);

impl AsRef<[u8]> for Prefix {
    fn as_ref(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

/// The linear SHA-256 and the tree hash of a part, computed together as its bytes arrive
/// (one pass: [`LinearTreeHasher`]).
pub(crate) struct PartHasher(LinearTreeHasher);

impl PartHasher {
    /// A hasher that has seen nothing.
    pub(crate) fn new() -> PartHasher {
        PartHasher(LinearTreeHasher::new())
    }

    /// Feeds the next bytes.
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The linear SHA-256 (hex) and the tree hash.
    pub(crate) fn finish(self) -> (String, TreeHash) {
        let (linear, tree) = self.0.finish();
        (hex::encode(linear), tree)
    }
}

/// Linear SHA-256 (hex) and tree hash of a buffer, in one pass.
pub fn hash_part(data: &[u8]) -> (String, TreeHash) {
    let mut h = PartHasher::new();
    h.update(data);
    h.finish()
}

/// `path` as a single-file input, if it is a regular file: opened now, so a file that
/// cannot be read stops the upload before anything is sent (a usage-class error naming
/// it), and an empty one is refused (Glacier archives are at least 1 byte). `None` for
/// anything else (a directory is packed).
pub(crate) fn file_input(path: &std::path::Path) -> Result<Option<(Input, u64)>> {
    let unusable = |e: std::io::Error| Error::Input(format!("{}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(unusable)?;
    if !meta.is_file() {
        return Ok(None);
    }
    let file = File::open(path).map_err(unusable)?;
    if meta.len() == 0 {
        return Err(Error::Input(format!(
            "{} is empty; Glacier archives are at least 1 byte",
            path.display()
        )));
    }
    let input = Input::File {
        path: path.to_path_buf(),
        file,
    };
    Ok(Some((input, meta.len())))
}

/// Uploads `input` to `opts.vault`.
pub(crate) fn upload(
    client: &Client,
    input: Input,
    opts: &Settings,
    events: &dyn Events,
) -> Result<Outcome> {
    match input {
        Input::File { path, file } => upload_file(client, path, file, opts, events),
        Input::Stream {
            label,
            reader,
            size_hint,
            fingerprint,
        } => upload_stream(client, &label, reader, size_hint, fingerprint, opts, events),
    }
}

/// Looks for an interrupted upload of the same input (see [`state::find`]) that Glacier
/// still has, and returns options that resume it. A state whose upload Glacier no longer
/// lists (completed, aborted or expired) is removed, with a note.
/// An error found after a request was sent keeps its message but not the exit code 2,
/// which promises that nothing was done.
fn after_sent(e: Error) -> Error {
    match e {
        Error::Usage(m) | Error::Input(m) => Error::Failed(m),
        Error::WithHint { error, hint } => Error::WithHint {
            error: Box::new(after_sent(*error)),
            hint,
        },
        e => e,
    }
}

/// What a look for an interrupted upload found.
enum Resume {
    /// Nothing to resume: start a new upload.
    Fresh,
    /// Settings that resume the upload found.
    Found(Settings),
    /// A state whose upload Glacier no longer lists had recorded what it was completing
    /// (every part was up, only Complete's answer was lost), and completing it again
    /// gave the archive.
    Completed(Outcome),
}

/// Refuses to go on with an upload whose archive would not have `opts.description`:
/// Glacier keeps the description the upload was initiated with (API Reference, "List
/// Parts": `ArchiveDescription`), so a receipt recording another one would misreport the
/// archive. `had` is the upload's own description, when known. `explicit`: the upload
/// was named with `--upload-id` (then `--no-resume` is no way out), rather than found by
/// auto-resume.
fn check_same_description(
    opts: &Settings,
    id: &UploadId,
    had: Option<&str>,
    explicit: bool,
) -> Result<()> {
    let Some(d) = had.filter(|d| *d != opts.description.as_str()) else {
        return Ok(());
    };
    let was = if d.is_empty() {
        "no description".to_string()
    } else {
        format!("the description {}", quoted(d))
    };
    let ours = match opts.description.as_str() {
        "" => "none".to_string(),
        o => quoted(o),
    };
    let ways = if explicit {
        format!(
            "add {} {} to resume it under that description, or leave {} out to upload this input as a new archive (then end upload {id} with: {})",
            Setting::Description,
            quoted(d),
            Setting::UploadId,
            Action::AbortUpload {
                vault: &opts.vault,
                upload_id: id.as_str()
            }
        )
    } else {
        format!(
            "add {} {} to resume it, or {} to start afresh",
            Setting::Description,
            quoted(d),
            Setting::NoResume
        )
    };
    Err(Error::Failed(format!(
        "upload {id} was started with {was}, and this run's is {ours}; Glacier keeps the description an upload started with, so {ways}"
    )))
}

/// `s` in single quotes as a POSIX shell reads it (descriptions are printable ASCII).
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn auto_resume(
    client: &Client,
    opts: &Settings,
    input: &state::InputId,
    size: Option<u64>,
    events: &dyn Events,
) -> Result<Resume> {
    if opts.upload_id.is_some() || !opts.auto_resume {
        return Ok(Resume::Fresh);
    }
    let Some(dir) = &opts.state_dir else {
        return Ok(Resume::Fresh);
    };
    let Some(st) = state::find(dir, &opts.vault, &opts.origin, input) else {
        return Ok(Resume::Fresh);
    };
    let id = UploadId::from_server(st.upload_id.clone());
    match client.list_parts(&opts.vault, &id) {
        Ok(list) => {
            if let Some(p) = opts.part_size.filter(|p| *p != list.part_size) {
                return Err(Error::Failed(format!(
                    "an interrupted upload of this input, {id}, uses {} MiB parts, not {ps} {}: leave {ps} out to resume it, or add {} to start afresh",
                    list.part_size >> 20,
                    p >> 20,
                    Setting::NoResume,
                    ps = Setting::PartSize
                )));
            }
            check_same_description(opts, &id, list.archive_description.as_deref(), false)?;
            let of = size
                .map(|s| format!(" of {}", plan::part_count(s, list.part_size)))
                .unwrap_or_default();
            events.note(&format!(
                "resuming upload {id}: {}{of} parts already in Glacier ({} starts afresh)",
                list.parts.len(),
                Setting::NoResume
            ));
            let mut resumed = opts.clone();
            resumed.upload_id = Some(id);
            Ok(Resume::Found(resumed))
        }
        Err(e) if lost::is_gone(&e) => {
            let completing = lost::recorded(&st);
            if completing.is_some() {
                check_same_description(opts, &id, st.description.as_deref(), false)?;
            }
            Ok(match recover_gone(client, opts, &id, completing, events)? {
                Some(outcome) => Resume::Completed(outcome),
                None => Resume::Fresh,
            })
        }
        Err(e) => Err(e),
    }
}

/// For a re-run whose upload Glacier no longer lists: if its state recorded the archive
/// being completed (every part was up; only Complete's answer may have been lost),
/// complete it again and return the outcome. Otherwise forget the state so a new upload
/// starts. When Glacier refuses the repeated Complete, that is no proof nothing was
/// created: after its "short period" Glacier forgets a completed upload as it forgets an
/// aborted one (API Reference, "Complete Multipart Upload"). Starting anew could store
/// the archive twice, so the run stops with what to look for and keeps the state.
fn recover_gone(
    client: &Client,
    opts: &Settings,
    id: &UploadId,
    completing: Option<(u64, TreeHash)>,
    events: &dyn Events,
) -> Result<Option<Outcome>> {
    if let Some((size, tree_hash)) = completing {
        match lost::complete_again(client, opts, id, size, tree_hash, events) {
            Ok(outcome) => return Ok(Some(outcome)),
            // Unknown upload: completed long ago, or aborted, or expired. Only an
            // inventory can tell; the state is kept so every re-run says so.
            Err(Error::WithHint { error, hint }) if lost::is_gone(&error) => {
                events.not_completing();
                return Err(after_sent(Error::WithHint {
                    error,
                    hint: format!(
                        "{hint}; to upload this input again anyway, add {}{}",
                        Setting::NoResume,
                        opts.state_dir.as_ref().map_or(String::new(), |d| format!(
                            " (this record, {}, stays until you delete it)",
                            state::state_path(d, id).display()
                        ))
                    ),
                }));
            }
            // No answer again: the state is kept for the next run.
            Err(e) => return Err(after_sent(e)),
        }
    }
    forget_gone(opts, id, events);
    Ok(None)
}

/// An explicit resume (`--upload-id`) of an upload Glacier no longer lists: completes it
/// again if the resume state recorded what was being completed; `None` if it did not.
/// The recorded archive is this run's only if the state is of this input, vault and
/// Glacier: completing another input's upload would report that input's archive as
/// this one's, so that is refused (before anything is sent).
fn complete_recorded(
    client: &Client,
    opts: &Settings,
    id: &UploadId,
    input: &state::InputId,
    events: &dyn Events,
) -> Option<Result<Outcome>> {
    let st = opts.state_dir.as_ref().and_then(|d| state::load(d, id))?;
    let (size, tree_hash) = lost::recorded(&st)?;
    let same_origin = st.origin.is_empty() || st.origin == opts.origin;
    if st.vault != opts.vault || !same_origin || !input.same_data_as(&st.input) {
        let what = match &st.input {
            state::InputId::File { path, .. } => path.display().to_string(),
            state::InputId::Stream { label, .. } => label.clone(),
        };
        // Standard input has no fingerprint: it can never be shown to be the same.
        let unknowable = matches!(
            &st.input,
            state::InputId::Stream {
                fingerprint: None,
                ..
            }
        );
        let relation = if unknowable {
            "cannot be shown to be this input"
        } else {
            "is not this input"
        };
        return Some(Err(Error::Failed(format!(
            "upload {id} was completing {what} in vault '{}', which {relation}: its archive, if any, is {size} bytes with tree hash {tree_hash} (look for it in the vault's next inventory); nothing was sent",
            st.vault
        ))));
    }
    if let Err(e) = check_same_description(opts, id, st.description.as_deref(), true) {
        return Some(Err(e));
    }
    Some(lost::complete_again(client, opts, id, size, tree_hash, events).map_err(after_sent))
}

/// Forgets the state of an upload Glacier no longer has, saying so.
fn forget_gone(opts: &Settings, id: &UploadId, events: &dyn Events) {
    if let Some(dir) = &opts.state_dir {
        state::remove(dir, id);
    }
    events.note(&format!(
        "upload {id} of this input is no longer in Glacier (completed, aborted or expired after 24 hours idle): starting a new one"
    ));
}

/// Size and modification time: what tells us a file changed under us.
fn fingerprint(path: &std::path::Path, file: &File) -> Result<(u64, Option<SystemTime>)> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    Ok((meta.len(), meta.modified().ok()))
}

/// A regular file being uploaded, with the size and modification time it had when the
/// upload began.
struct LocalFile {
    path: PathBuf,
    file: Arc<File>,
    size: u64,
    modified: Option<SystemTime>,
}

impl LocalFile {
    /// Refuses a file that changed since the upload began: its parts may mix versions.
    fn check_unchanged(&self) -> Result<()> {
        if fingerprint(&self.path, &self.file)? != (self.size, self.modified) {
            return Err(Error::Input(format!(
                "{} changed while it was uploaded; nothing was completed",
                self.path.display()
            )));
        }
        Ok(())
    }
}

fn upload_file(
    client: &Client,
    path: PathBuf,
    file: File,
    opts: &Settings,
    events: &dyn Events,
) -> Result<Outcome> {
    let (size, modified) = fingerprint(&path, &file)?;
    let what = format!("FILE {}", path.display());
    if size == 0 {
        return Err(Error::Input(format!(
            "{} is empty; Glacier archives are at least 1 byte",
            path.display()
        )));
    }
    // Absolute, so a re-run from another directory still finds the resume state.
    let input_id = state::InputId::File {
        path: std::path::absolute(&path).unwrap_or_else(|_| path.clone()),
        size,
        modified_ns: modified.and_then(state::nanos),
    };
    let local = LocalFile {
        path,
        file: Arc::new(file),
        size,
        modified,
    };
    let resumed = match auto_resume(client, opts, &input_id, Some(size), events)? {
        Resume::Found(o) => Some(o),
        Resume::Fresh => None,
        Resume::Completed(outcome) => return Ok(outcome),
    };
    let opts = resumed.as_ref().unwrap_or(opts);
    if opts.upload_id.is_none() && size < SINGLE_REQUEST_LIMIT && opts.part_size.is_none() {
        return one_request(client, opts, events, &local);
    }
    let session = match pool::Session::start(client, opts, events, &input_id, Some(size), &what) {
        Ok(s) => s,
        Err(e) if lost::is_gone(&e) && opts.upload_id.is_some() => {
            return complete_lost(client, opts, events, &local, &input_id);
        }
        Err(e) => return Err(e),
    };
    let result = session.run_file(&local.path, &local.file, size);
    let (tree_hash, uploaded, reused) = result.map_err(after_sent)?;
    local.check_unchanged().map_err(after_sent)?;
    session
        .complete(size, tree_hash, uploaded, reused)
        .map_err(after_sent)
}

/// The hint on a failure after a one-request upload made its archive: never lose its ID.
fn created_anyway(archive_id: &ArchiveId) -> String {
    format!(
        "an archive WAS created from what was read: archive ID {archive_id} (delete it with '{}' if unwanted)",
        Action::DeleteArchive
    )
}

/// A file small enough for one request: hashed in parallel, then sent whole.
fn one_request(
    client: &Client,
    opts: &Settings,
    events: &dyn Events,
    local: &LocalFile,
) -> Result<Outcome> {
    let size = local.size;
    let digests = filehash::hash_file(
        &local.file,
        size,
        filehash::Options {
            threads: opts.threads.max(2),
            sha256: true,
            progress: None,
        },
    )
    .map_err(|e| Error::io(&local.path, e))?;
    let sha = hex::encode(digests.sha256.expect("sha256 was asked for"));
    let payload = Payload::file_range(Arc::clone(&local.file), 0, size, sha);
    events.completing();
    let archive =
        client.upload_archive(&opts.vault, &opts.description, &payload, &digests.tree_hash)?;
    opts.reporter.add_bytes(size);
    // Glacier checked the bytes it got against our hash, so the archive is whole; but if
    // the file changed meanwhile it may mix versions. Never lose its ID.
    local.check_unchanged().map_err(|e| Error::WithHint {
        error: Box::new(after_sent(e)),
        hint: created_anyway(&archive.archive_id),
    })?;
    Ok(Outcome {
        archive,
        size,
        upload_id: None,
        parts_uploaded: 1,
        parts_reused: 0,
    })
}

/// A resumed upload Glacier no longer lists: every part may be up and only Complete's
/// answer lost. What was being completed is in the resume state, or else it is this
/// file, whole: complete it again.
fn complete_lost(
    client: &Client,
    opts: &Settings,
    events: &dyn Events,
    local: &LocalFile,
    input_id: &state::InputId,
) -> Result<Outcome> {
    let id = opts
        .upload_id
        .as_ref()
        .expect("only a resume lists an upload");
    if let Some(result) = complete_recorded(client, opts, id, input_id, events) {
        return result;
    }
    let tree_hash = lost::file_tree_hash(opts, &local.path, &local.file, local.size)?;
    lost::complete_again(client, opts, id, local.size, tree_hash, events).map_err(after_sent)
}

fn upload_stream(
    client: &Client,
    label: &str,
    mut reader: Box<dyn Read + Send>,
    size_hint: Option<u64>,
    fingerprint: Option<String>,
    opts: &Settings,
    events: &dyn Events,
) -> Result<Outcome> {
    let input_id = state::InputId::Stream {
        label: label.to_string(),
        fingerprint,
    };
    let resumed = match auto_resume(client, opts, &input_id, size_hint, events)? {
        Resume::Found(o) => Some(o),
        Resume::Fresh => None,
        Resume::Completed(outcome) => return Ok(outcome),
    };
    let opts = resumed.as_ref().unwrap_or(opts);
    let part_size = match (&opts.upload_id, opts.part_size) {
        // Resuming: the upload's own part size decides how the stream is cut (a
        // --part-size that disagrees is refused when the session starts). Asked before
        // the stream is read, so an upload Glacier no longer lists can be completed
        // again from its resume state.
        (Some(id), given) => match client.list_parts(&opts.vault, id) {
            Ok(list) => given.unwrap_or(list.part_size),
            Err(e) if lost::is_gone(&e) => {
                return complete_recorded(client, opts, id, &input_id, events).unwrap_or(Err(e));
            }
            Err(e) => return Err(e),
        },
        (None, Some(p)) => p,
        (None, None) => size_hint.map_or(STREAM_PART_SIZE, default_part_size),
    };
    if !treehash::is_valid_part_size(part_size) {
        return Err(Error::Failed(format!(
            "part size {part_size} is not 1 MiB × 2^n"
        )));
    }
    // Read the first part: a stream that ends within it goes up in one request.
    let mut first = filehash::AlignedBuf::new(part_size as usize);
    let n = pool::read_full(&mut reader, &mut first).map_err(|e| Error::from_io(e, label))?;
    if n == 0 && opts.upload_id.is_none() {
        return Err(Error::Input(format!(
            "{label} is empty; Glacier archives are at least 1 byte"
        )));
    }
    if n < first.len() && opts.upload_id.is_none() && opts.part_size.is_none() {
        // Fits in one part: one request.
        let (sha, tree_hash) = hash_part(&first[..n]);
        let payload = Payload::new(bytes::Bytes::from_owner(Prefix(first, n)), sha);
        events.completing();
        let archive =
            client.upload_archive(&opts.vault, &opts.description, &payload, &tree_hash)?;
        opts.reporter.add_bytes(n as u64);
        return Ok(Outcome {
            archive,
            size: n as u64,
            upload_id: None,
            parts_uploaded: 1,
            parts_reused: 0,
        });
    }
    let mut opts = opts.clone();
    opts.part_size = Some(part_size);
    let session = pool::Session::start(client, &opts, events, &input_id, size_hint, label)?;
    let (size, tree_hash, uploaded, reused) = session
        .run_stream(label, reader, first, n)
        .map_err(after_sent)?;
    session
        .complete(size, tree_hash, uploaded, reused)
        .map_err(after_sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The advice of an upload's errors names Glacier operations and options, in the
    /// library's words (the CLI installs its commands and flags instead).
    #[test]
    fn advice_names_operations_and_options() {
        let archive = ArchiveId::from_server("A");
        assert_eq!(
            created_anyway(&archive),
            "an archive WAS created from what was read: archive ID A (delete it with 'DeleteArchive' if unwanted)"
        );
        let opts = Settings {
            vault: "v".into(),
            description: Description::new("mine").expect("description"),
            part_size: None,
            part_size_given: false,
            threads: 1,
            max_memory: 1 << 30,
            upload_id: None,
            stop: Arc::default(),
            reporter: Arc::new(crate::progress::Counts::new()),
            state_dir: None,
            origin: String::new(),
            auto_resume: false,
        };
        let id = UploadId::from_server("U");
        let err = check_same_description(&opts, &id, Some("theirs"), true)
            .expect_err("another description");
        let text = err.to_string();
        assert!(
            text.ends_with(
                "add description 'theirs' to resume it under that description, or leave upload_id out to upload this input as a new archive (then end upload U with: AbortMultipartUpload for upload U in vault v)"
            ),
            "{text}"
        );
        assert!(!text.contains("glacier "), "{text}");
    }

    #[test]
    fn one_pass_hashes_match_the_separate_ones() {
        let data: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i % 253) as u8).collect();
        let (sha, tree) = hash_part(&data);
        assert_eq!(sha, hex::encode(Sha256::digest(&data)));
        assert_eq!(tree, treehash::tree_hash(&data));
    }

    #[test]
    fn a_part_hashed_slice_by_slice_as_it_is_read_hashes_as_a_whole() {
        let data: Vec<u8> = (0..(2 << 20) + 77).map(|i| (i % 251) as u8).collect();
        for slice in [1, 4095, 64 << 10, 256 << 10, (1 << 20) + 1] {
            let mut h = PartHasher::new();
            for piece in data.chunks(slice) {
                h.update(piece);
            }
            assert_eq!(h.finish(), hash_part(&data), "slices of {slice}");
        }
    }
}
