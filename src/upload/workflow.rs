//! The upload workflow, below the CLI, in two steps so that what the user named is
//! checked before any client exists: [`open`] turns the [`Source`] into an [`Opened`]
//! input (one regular file as it is; several files or a directory scanned now and packed
//! as a deterministic `.tar.xz` stream while uploading; a stream as it comes), with its
//! description, size and the memory its packer holds; [`run`] takes the context ([`Ctx`]:
//! the Glacier client, the data directory, the stop flag), the [`Options`] and a
//! [`Reporter`], uploads (one request, or a multipart upload started, resumed by ID or
//! found again from its resume state), writes the receipt, forgets the resume state only
//! once the receipt is on disk, and returns a [`Report`].
//!
//! Bytes go to the reporter's "upload" phase, against the input's size when it is known;
//! every message for the person running it is a note. A run that ends early (an error,
//! or the stop flag) returns [`Unfinished`]: the error, and the upload that stays
//! resumable if one was started. Nothing here prints, reads argv or the environment, or
//! names a flag: the command that resumes an upload is the CLI's words, handed in as a
//! [`ResumeCommand`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::{Events, Input, Settings, file_input, plan, state};
use crate::error::{Error, Result};
use crate::glacier::{ArchiveCreated, Description, UploadId};
use crate::pack;
use crate::progress::{Reporter, Totals};
use crate::sync::LockExt;
use crate::workflow::Ctx;

pub use crate::pack::Compression;

/// What to upload.
pub enum Source {
    /// Files and directories as the user named them: one regular file goes up as it is,
    /// anything else is packed into one archive.
    Paths(Vec<PathBuf>),
    /// A stream of unknown length, read once, in order (standard input). Its receipt
    /// lists it as `-`.
    Stream {
        /// What it is, for messages and the default description (`standard input`).
        label: String,
        /// The bytes.
        reader: Box<dyn Read + Send>,
    },
}

/// Where the receipt of an uploaded archive goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipts {
    /// `receipts.jsonl` in the context's data directory (nowhere without one).
    Default,
    /// This file.
    File(PathBuf),
    /// Nowhere.
    Off,
}

/// The command that resumes an upload, given its ID and part size: the CLI's words
/// (every flag that shapes the archive, says where it goes or how it is sent), shown as
/// soon as a multipart upload has an ID.
#[derive(Clone)]
pub struct ResumeCommand(pub Arc<ResumeFn>);

/// What a [`ResumeCommand`] holds: upload ID and part size in, a shell command out.
pub type ResumeFn = dyn Fn(&UploadId, u64) -> String + Send + Sync;

impl std::fmt::Debug for ResumeCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResumeCommand")
    }
}

/// How to upload.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vault.
    pub vault: String,
    /// The archive description; `None`: one made from the input (the file's name, or a
    /// summary of what is packed, or the stream's label).
    pub description: Option<Description>,
    /// The part size the user chose, in bytes (1 MiB × 2^n): kept even when it cannot
    /// fit `max_memory` with one part in flight (an error, not a smaller part).
    pub part_size: Option<u64>,
    /// Parts in flight at most.
    pub threads: usize,
    /// Bytes for the part buffers and the packer's encoder together.
    pub max_memory: u64,
    /// Resume this upload instead of starting one.
    pub upload_id: Option<UploadId>,
    /// Without `upload_id`, look for the resume state of an interrupted upload of the
    /// same input and resume it.
    pub auto_resume: bool,
    /// Which Glacier this is (endpoint, account, region, profile), recorded in the resume
    /// state so that a re-run only resumes an upload of the same place.
    pub origin: String,
    /// How packed inputs are compressed.
    pub compression: Compression,
    /// The xz preset for packed inputs (0 to 9).
    pub xz_level: u32,
    /// Threads the xz encoder may use (fewer when the memory cannot hold them).
    pub pack_threads: u32,
    /// Where the receipt goes.
    pub receipts: Receipts,
    /// How to resume, shown when a multipart upload gets its ID; `None`: no command.
    pub resume_command: Option<ResumeCommand>,
    /// Now (injected: the receipt's time).
    pub clock: fn() -> time::OffsetDateTime,
}

/// An input [`open`] checked: ready to [`run`].
pub struct Opened {
    input: Input,
    description: Description,
    /// The bytes to upload, when known before reading (a regular file).
    total: Option<u64>,
    /// What the packer's encoder holds (0 when nothing is packed).
    packer_memory: u64,
    /// The inputs as named, for the receipt.
    inputs: Vec<String>,
}

impl Opened {
    /// The archive's description.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// The size, when known before reading.
    pub fn size(&self) -> Option<u64> {
        self.total
    }
}

/// A multipart upload that outlives a run that ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumable {
    /// Its ID.
    pub upload_id: UploadId,
    /// Its part size.
    pub part_size: u64,
}

/// A run that ended without an archive to report (or with one whose receipt could not
/// be written: the error says its ID).
#[derive(Debug)]
pub struct Unfinished {
    /// What ended it (`Error::Interrupted` when the stop flag did).
    pub error: Error,
    /// The multipart upload that was started or resumed and can be resumed again; `None`
    /// when there is none, or when the archive was already created.
    pub resumable: Option<Resumable>,
}

impl From<Error> for Unfinished {
    fn from(error: Error) -> Unfinished {
        Unfinished {
            error,
            resumable: None,
        }
    }
}

/// An uploaded archive.
#[derive(Debug, Clone)]
pub struct Report {
    /// The vault.
    pub vault: String,
    /// What Glacier stored.
    pub archive: ArchiveCreated,
    /// Its size in bytes.
    pub size: u64,
    /// Its description.
    pub description: Description,
    /// The multipart upload ID (none for a single request).
    pub upload_id: Option<UploadId>,
    /// Parts sent in this run.
    pub parts_uploaded: u64,
    /// Parts Glacier already had (a resume) that matched the local data.
    pub parts_reused: u64,
    /// Where the receipt was written, if anywhere.
    pub receipt: Option<PathBuf>,
}

impl Report {
    /// The archive as one JSON object: what `--json` prints, and the receipt's fields
    /// before its time and inputs.
    pub fn record(&self) -> serde_json::Value {
        json!({
            "archive_id": self.archive.archive_id.as_str(),
            "vault": self.vault,
            "size": self.size,
            "tree_hash": self.archive.tree_hash.to_hex(),
            "description": self.description.as_str(),
            "location": self.archive.location,
            "upload_id": self.upload_id.as_ref().map(|u| u.as_str()),
        })
    }
}

/// Opens and checks the input before anything is sent (see the module comment): a file
/// that cannot be read, an empty one, or a packing plan that cannot fit `max_memory`
/// stops here.
pub fn open(opts: &Options, source: Source) -> Result<Opened> {
    let (input, default_description, total, packer_memory, inputs) = match source {
        Source::Stream { label, reader } => {
            let input = Input::Stream {
                label: label.clone(),
                reader,
                size_hint: None,
                fingerprint: None,
            };
            (input, label, None, 0, vec!["-".to_string()])
        }
        Source::Paths(paths) => {
            let inputs = paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let one_file = match paths.as_slice() {
                [path] => file_input(path)?.map(|(input, len)| (path, input, len)),
                _ => None,
            };
            match one_file {
                Some((path, input, len)) => {
                    let name = path.file_name().unwrap_or(path.as_os_str());
                    let name = Description::from_name(&name.to_string_lossy()).into_string();
                    (input, name, Some(len), 0, inputs)
                }
                None => {
                    let (input, summary, packer_memory) = packed(opts, &paths)?;
                    (input, summary, None, packer_memory, inputs)
                }
            }
        }
    };
    let description = match &opts.description {
        Some(d) => d.clone(),
        // A packed input's summary is built from file names: checked like a given one.
        None => Description::new(default_description)?,
    };
    Ok(Opened {
        input,
        description,
        total,
        packer_memory,
        inputs,
    })
}

/// Several paths or a directory: scanned now (so unreadable files stop us before
/// anything is sent), packed as a deterministic `.tar.xz` stream while uploading. Gives
/// the stream, its summary (the default description) and the memory its encoder holds.
fn packed(opts: &Options, paths: &[PathBuf]) -> Result<(Input, String, u64)> {
    let pack_opts = pack::Options {
        compression: opts.compression,
        xz_level: opts.xz_level,
        threads: opts.pack_threads,
        single_threaded: false,
    };
    pack_opts.validate()?;
    let scanned = pack::Plan::scan(paths).map_err(|e| match e {
        // Found before anything is sent: a usage-class error (exit 2).
        Error::Io { path, source } => Error::Input(format!("{}: {source}", path.display())),
        e => e,
    })?;
    let bound = scanned.size_bound(&pack_opts);
    // The memory covers the part buffers and the encoder: the parts take what the upload
    // will hold, the encoder fits in the rest (fewer encoder threads when it cannot).
    let part_size = opts
        .part_size
        .unwrap_or_else(|| plan::default_part_size(bound));
    let parts = plan::threads_for_memory(
        opts.threads,
        part_size,
        opts.max_memory,
        opts.part_size.is_some(),
    )?;
    let budget = pack::fit_beside_parts(pack_opts, parts, part_size, opts.max_memory)?;
    let pack_opts = budget.options;
    let fingerprint = scanned.fingerprint(&pack_opts);
    let summary = scanned.default_description(&pack_opts);
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let label = format!(
        "packed .{} of {}",
        pack_opts.compression.extension(),
        names.join(", ")
    );
    let reader = pack::reader(scanned, &pack_opts, None)?;
    let input = Input::Stream {
        label,
        reader: Box::new(reader),
        size_hint: Some(bound),
        fingerprint: Some(fingerprint),
    };
    Ok((input, summary, budget.packer_memory()))
}

/// Uploads an opened input (see the module comment). The reporter is shared with the
/// upload's workers, hence the `Arc`.
pub fn run(
    ctx: &Ctx<'_>,
    opts: &Options,
    opened: Opened,
    reporter: &Arc<dyn Reporter>,
) -> std::result::Result<Report, Unfinished> {
    reporter.begin(
        "upload",
        Totals {
            bytes: opened.total,
            items: None,
        },
    );
    let state_dir = ctx.data_dir.map(|d| d.join("uploads"));
    let settings = Settings {
        vault: opts.vault.clone(),
        description: opened.description.clone(),
        part_size: opts.part_size,
        part_size_given: opts.part_size.is_some(),
        threads: opts.threads,
        // The packer's share was set aside when it was fitted beside the parts.
        max_memory: opts.max_memory.saturating_sub(opened.packer_memory),
        upload_id: opts.upload_id.clone(),
        stop: Arc::clone(ctx.stop),
        reporter: Arc::clone(reporter),
        state_dir: state_dir.clone(),
        origin: opts.origin.clone(),
        auto_resume: opts.auto_resume,
    };
    let hooks = Hooks {
        reporter: reporter.as_ref(),
        resume_command: opts.resume_command.as_ref(),
        started: Mutex::new(None),
    };
    let outcome = super::upload(ctx.glacier, opened.input, &settings, &hooks).map_err(|error| {
        Unfinished {
            error,
            resumable: hooks.started.lock_unpoisoned().clone(),
        }
    })?;
    let mut report = Report {
        vault: opts.vault.clone(),
        archive: outcome.archive,
        size: outcome.size,
        description: opened.description,
        upload_id: outcome.upload_id,
        parts_uploaded: outcome.parts_uploaded,
        parts_reused: outcome.parts_reused,
        receipt: None,
    };
    report.receipt = receipts_path(ctx, &opts.receipts);
    if let Some(path) = &report.receipt {
        write_receipt(path, &report, &opened.inputs, opts.clock)?;
    }
    // Only now, with the ID on disk, may the resume state go: a crash before this point
    // finds the upload again and completes it once more.
    if let (Some(dir), Some(id)) = (&state_dir, &report.upload_id) {
        state::remove(dir, id);
    }
    Ok(report)
}

/// Where the receipt goes: the file given, or the data directory's `receipts.jsonl`.
fn receipts_path(ctx: &Ctx<'_>, receipts: &Receipts) -> Option<PathBuf> {
    match receipts {
        Receipts::Off => None,
        Receipts::File(f) => Some(f.clone()),
        Receipts::Default => ctx.data_dir.map(|d| d.join("receipts.jsonl")),
    }
}

/// Appends the archive's receipt (its record, the time and the inputs). The archive
/// exists whatever happens here, so a failure says its ID.
fn write_receipt(
    path: &Path,
    report: &Report,
    inputs: &[String],
    clock: fn() -> time::OffsetDateTime,
) -> Result<()> {
    let mut receipt = report.record();
    receipt["time"] = json!(
        clock()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    );
    receipt["inputs"] = json!(inputs);
    state::append_receipt(path, &receipt).map_err(|e| Error::WithHint {
        error: Box::new(e),
        hint: format!(
            "the archive WAS uploaded: archive ID {}",
            report.archive.archive_id
        ),
    })
}

/// The engine's events, made notes; the upload that is started or resumed, kept for
/// [`Unfinished`]; the signals held while the request that creates the archive is out.
struct Hooks<'a> {
    reporter: &'a dyn Reporter,
    resume_command: Option<&'a ResumeCommand>,
    started: Mutex<Option<Resumable>>,
}

impl Events for Hooks<'_> {
    fn upload_started(&self, upload_id: &UploadId, part_size: u64, parts: Option<u64>) {
        *self.started.lock_unpoisoned() = Some(Resumable {
            upload_id: upload_id.clone(),
            part_size,
        });
        let parts = parts.map(|p| format!("{p} parts of ")).unwrap_or_default();
        let resume = self
            .resume_command
            .map(|c| {
                format!(
                    "; if interrupted, resume with: {}",
                    (c.0)(upload_id, part_size)
                )
            })
            .unwrap_or_default();
        self.reporter.note(&format!(
            "multipart upload ID {upload_id} ({parts}{} MiB){resume}",
            part_size >> 20
        ));
    }

    fn note(&self, msg: &str) {
        self.reporter.note(msg);
    }

    fn completing(&self) {
        // From here a signal could leave an archive whose ID nobody recorded: hold them
        // until the receipt is written and the ID printed.
        crate::signals::hold_until_exit();
    }

    fn not_completing(&self) {
        crate::signals::release();
    }
}
