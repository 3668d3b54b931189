//! The upload workflow driven through the library (`upload::open`, `upload::run`)
//! against the mock, with a counting reporter: the bytes reach the totals, notes arrive
//! (the resume command the caller handed in among them), the receipt is written and the
//! resume state forgotten, a stopped run reports the upload that stays resumable, and
//! resuming it sends only the parts Glacier does not have.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use glacier_upload::error::Error;
use glacier_upload::glacier::{Client, UploadId};
use glacier_upload::progress::{Counts, Reporter, Totals};
use glacier_upload::treehash::tree_hash;
use glacier_upload::upload::{
    self, Compression, Options, Receipts, Report, ResumeCommand, Source, Unfinished,
};
use glacier_upload::workflow::Ctx;

use crate::mock::MockGlacier;
use crate::support::{TempDir, mock_client, pattern};

const MIB: usize = 1 << 20;

/// A fixed receipt time.
fn clock() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a valid time")
}

fn options() -> Options {
    Options {
        vault: "v".into(),
        description: None,
        part_size: Some(MIB as u64),
        threads: 2,
        max_memory: 64 << 20,
        upload_id: None,
        auto_resume: true,
        origin: "the mock".into(),
        compression: Compression::Xz,
        xz_level: 1,
        pack_threads: 1,
        receipts: Receipts::Default,
        resume_command: None,
        clock,
    }
}

/// Opens `source` and runs the workflow with `data` as the data directory.
fn run(
    client: &Client,
    data: Option<&Path>,
    opts: &Options,
    source: Source,
    reporter: &Arc<dyn Reporter>,
    stop: &Arc<AtomicBool>,
) -> Result<Report, Unfinished> {
    let opened = upload::open(opts, source)?;
    let ctx = Ctx {
        glacier: client,
        data_dir: data,
        stop,
    };
    upload::run(&ctx, opts, opened, reporter)
}

/// A counting reporter that raises the stop flag once `after` bytes are done, as a
/// Ctrl-C in the middle of the upload would.
struct StopAfter {
    counts: Counts,
    after: u64,
    stop: Arc<AtomicBool>,
}

impl Reporter for StopAfter {
    fn begin(&self, label: &str, totals: Totals) {
        self.counts.begin(label, totals);
    }
    fn add_bytes(&self, n: u64) {
        self.counts.add_bytes(n);
        if self.counts.snapshot().bytes >= self.after {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
    fn add_items(&self, n: u64) {
        self.counts.add_items(n);
    }
    fn note(&self, line: &str) {
        self.counts.note(line);
    }
}

fn uploaded_parts(mock: &MockGlacier) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.operation == "UploadMultipartPart")
        .count()
}

#[test]
fn a_multipart_file_upload_counts_every_byte_notes_its_id_and_writes_its_receipt() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let client = mock_client(&mock);
    let dir = TempDir::new("upload-workflow-file");
    let data_dir = dir.join("data");
    let file = dir.join("big.bin");
    let data = pattern(3 * MIB + 5, 31);
    std::fs::write(&file, &data).expect("write");
    let mut opts = options();
    opts.resume_command = Some(ResumeCommand(Arc::new(|id: &UploadId, part_size: u64| {
        format!("resume {id} {part_size}")
    })));
    let counts = Arc::new(Counts::new());
    let reporter: Arc<dyn Reporter> = counts.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let report = run(
        &client,
        Some(&data_dir),
        &opts,
        Source::Paths(vec![file.clone()]),
        &reporter,
        &stop,
    )
    .expect("uploaded");

    assert_eq!(report.size, data.len() as u64);
    assert_eq!((report.parts_uploaded, report.parts_reused), (4, 0));
    assert_eq!(report.archive.tree_hash, tree_hash(&data));
    assert_eq!(report.description.as_str(), "big.bin");
    let snap = counts.snapshot();
    assert_eq!(snap.label, "upload");
    assert_eq!(snap.totals.bytes, Some(data.len() as u64));
    assert_eq!(snap.bytes, data.len() as u64);
    let id = report.upload_id.clone().expect("a multipart upload");
    assert_eq!(
        counts.notes(),
        [format!(
            "multipart upload ID {id} (4 parts of 1 MiB); if interrupted, resume with: resume {id} {MIB}"
        )]
    );

    let archives = mock.archives("v");
    assert_eq!(archives.len(), 1);
    assert_eq!(archives[0].archive_id, report.archive.archive_id.as_str());
    assert_eq!(archives[0].description, "big.bin");
    // The receipt is on disk with the record, the time and the input as named; the
    // resume state went only after it.
    let receipt = report.receipt.clone().expect("a receipt");
    assert_eq!(receipt, data_dir.join("receipts.jsonl"));
    let line = std::fs::read_to_string(&receipt).expect("receipts");
    let json: serde_json::Value = serde_json::from_str(line.trim()).expect("one JSON line");
    assert_eq!(json["archive_id"], report.archive.archive_id.as_str());
    assert_eq!(json["upload_id"], id.as_str());
    assert_eq!(json["time"], "2027-01-15T08:00:00Z");
    assert_eq!(json["inputs"][0], file.to_str().expect("utf8"));
    let states = std::fs::read_dir(data_dir.join("uploads")).expect("state dir");
    assert_eq!(states.count(), 0, "the resume state is forgotten");
}

#[test]
fn a_small_file_goes_in_one_request_and_a_stream_in_parts_each_counted() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let client = mock_client(&mock);
    let dir = TempDir::new("upload-workflow-small");
    let file = dir.join("small.txt");
    std::fs::write(&file, b"hello glacier").expect("write");
    let mut opts = options();
    opts.part_size = None;
    opts.receipts = Receipts::Off;
    let counts = Arc::new(Counts::new());
    let reporter: Arc<dyn Reporter> = counts.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let report = run(
        &client,
        None,
        &opts,
        Source::Paths(vec![file]),
        &reporter,
        &stop,
    )
    .expect("uploaded");
    assert_eq!(report.upload_id, None);
    assert_eq!(report.parts_uploaded, 1);
    assert_eq!(report.receipt, None);
    assert_eq!(counts.snapshot().bytes, 13);
    assert!(counts.notes().is_empty(), "{:?}", counts.notes());

    // A stream of unknown length: no byte total, every byte counted all the same.
    let data = pattern(2 * MIB + 3, 32);
    let mut opts = options();
    opts.receipts = Receipts::Off;
    let counts = Arc::new(Counts::new());
    let reporter: Arc<dyn Reporter> = counts.clone();
    let source = Source::Stream {
        label: "the pipe".into(),
        reader: Box::new(Cursor::new(data.clone())),
    };
    let report = run(&client, None, &opts, source, &reporter, &stop).expect("uploaded");
    assert_eq!(report.size, data.len() as u64);
    assert_eq!(report.parts_uploaded, 3);
    assert_eq!(report.description.as_str(), "the pipe");
    assert_eq!(report.archive.tree_hash, tree_hash(&data));
    let snap = counts.snapshot();
    assert_eq!((snap.totals.bytes, snap.bytes), (None, data.len() as u64));
    let notes = counts.notes();
    assert!(
        notes.len() == 1 && notes[0].ends_with("(1 MiB)"),
        "no resume command was handed in: {notes:?}"
    );
    assert_eq!(mock.archives("v").len(), 2);
}

#[test]
fn a_stopped_run_reports_what_is_resumable_and_the_rerun_sends_only_the_missing_parts() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let client = mock_client(&mock);
    let dir = TempDir::new("upload-workflow-stop");
    let data_dir = dir.join("data");
    let file = dir.join("big.bin");
    let data = pattern(6 * MIB, 33);
    std::fs::write(&file, &data).expect("write");
    let mut opts = options();
    opts.threads = 1;

    let stop = Arc::new(AtomicBool::new(false));
    let stopper = Arc::new(StopAfter {
        counts: Counts::new(),
        after: 2 * MIB as u64,
        stop: Arc::clone(&stop),
    });
    let reporter: Arc<dyn Reporter> = stopper.clone();
    let unfinished = run(
        &client,
        Some(&data_dir),
        &opts,
        Source::Paths(vec![file.clone()]),
        &reporter,
        &stop,
    )
    .expect_err("stopped");
    assert!(
        matches!(&unfinished.error, Error::Interrupted(m) if m.contains("of 6 parts uploaded")),
        "{:?}",
        unfinished.error
    );
    let resumable = unfinished.resumable.expect("the upload stays resumable");
    assert_eq!(resumable.part_size, MIB as u64);
    let uploads = mock.uploads("v");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].upload_id, resumable.upload_id.as_str());
    let had = uploads[0].parts.len();
    assert!((2..6).contains(&had), "{had} parts went up before the stop");
    assert!(mock.archives("v").is_empty());

    // The same input again: found from its resume state, only the rest is sent.
    let sent_before = uploaded_parts(&mock);
    let counts = Arc::new(Counts::new());
    let reporter: Arc<dyn Reporter> = counts.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let report = run(
        &client,
        Some(&data_dir),
        &opts,
        Source::Paths(vec![file]),
        &reporter,
        &stop,
    )
    .expect("resumed");
    assert_eq!(report.upload_id.as_ref(), Some(&resumable.upload_id));
    assert_eq!(report.parts_reused, had as u64);
    assert_eq!(report.parts_uploaded, 6 - had as u64);
    assert_eq!(uploaded_parts(&mock) - sent_before, 6 - had);
    assert_eq!(report.archive.tree_hash, tree_hash(&data));
    // Parts Glacier already had count as done too: the bytes reach the total.
    assert_eq!(counts.snapshot().bytes, data.len() as u64);
    let notes = counts.notes();
    assert!(
        notes[0].starts_with(&format!(
            "resuming upload {}: {had} of 6 parts already in Glacier",
            resumable.upload_id
        )),
        "{notes:?}"
    );
    assert_eq!(mock.archives("v").len(), 1);
}

#[test]
fn a_receipt_that_cannot_be_written_names_the_archive_and_leaves_nothing_to_resume() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let client = mock_client(&mock);
    let dir = TempDir::new("upload-workflow-receipt");
    let file = dir.join("a.bin");
    std::fs::write(&file, pattern(2 * MIB, 34)).expect("write");
    let mut opts = options();
    // A receipts file below a regular file: its directory cannot be made.
    opts.receipts = Receipts::File(file.join("receipts.jsonl"));
    let reporter: Arc<dyn Reporter> = Arc::new(Counts::new());
    let stop = Arc::new(AtomicBool::new(false));
    let unfinished = run(
        &client,
        Some(&dir.join("data")),
        &opts,
        Source::Paths(vec![file]),
        &reporter,
        &stop,
    )
    .expect_err("no receipt");
    let archive = mock.archives("v")[0].archive_id.clone();
    assert!(unfinished.resumable.is_none());
    let text = glacier_upload::error::chain(&unfinished.error);
    assert!(
        text.contains(&format!("the archive WAS uploaded: archive ID {archive}")),
        "{text}"
    );
}
