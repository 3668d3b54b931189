//! The purge, retrieval and vault-deletion workflows driven through the library against
//! the mock, with a counting reporter (`progress::Counts`): what they report (items and
//! bytes reaching their totals, notes for what was waited for or ridden out) and what
//! they return, with no CLI in between.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use glacier_upload::glacier::{Client, JobId, JobRequest};
use glacier_upload::inventory::{Format, Render};
use glacier_upload::progress::{Counts, Reporter, Totals};
use glacier_upload::purge::{self, Prepare, VaultEnd};
use glacier_upload::retrieval::{self, Pace, archive, inventory};
use glacier_upload::vault::{InventorySource, Selection};
use glacier_upload::vault_delete::{self, Outcome};
use glacier_upload::workflow::Ctx;

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::{TempDir, count, inventory_json, mock_client, pattern, wait_for};

/// Polls and pauses of a few milliseconds: the tests never wait for real time.
const PACE: Pace = Pace {
    poll: Duration::from_millis(2),
    backoff: (Duration::from_millis(2), Duration::from_millis(10)),
};

fn ctx<'a>(client: &'a Client, stop: &'a Arc<AtomicBool>) -> Ctx<'a> {
    Ctx {
        glacier: client,
        data_dir: None,
        stop,
    }
}

/// Vault `v` with `n` archives of different sizes; their total size.
fn vault_with(mock: &MockGlacier, n: usize) -> u64 {
    mock.create_vault("v");
    (0..n)
        .map(|i| {
            let data = pattern(1000 + 37 * i, i as u64);
            mock.put_archive("v", &data, &format!("file-{i}"));
            data.len() as u64
        })
        .sum()
}

fn purge_options(journal: &Path, source: InventorySource) -> purge::Options {
    purge::Options {
        vault: "v".into(),
        source,
        selection: Selection::default(),
        only_exported: None,
        s3: None,
        journal: journal.to_path_buf(),
        threads: 3,
        dry_run: false,
        delete_vault: true,
        wait: false,
        inventory_poll: PACE.poll,
        delete_poll: PACE.poll,
        backoff: PACE.backoff,
    }
}

fn prepared(ctx: &Ctx<'_>, opts: &purge::Options, r: &dyn Reporter) -> purge::Prepared {
    match purge::prepare(ctx, opts, r).expect("prepare") {
        Prepare::Ready(p) => *p,
        Prepare::NoInventory => panic!("an inventory was at hand"),
    }
}

#[test]
fn purge_counts_every_deletion_against_the_scope_and_a_rerun_has_nothing_left() {
    let mock = MockGlacier::start();
    let bytes = vault_with(&mock, 7);
    let dir = TempDir::new("wf-purge");
    let inv = dir.join("inventory.json");
    inventory_json(&mock, &inv);
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let opts = purge_options(&dir.join("j.jsonl"), InventorySource::File(inv));
    // Throttling past the client's retries on a few deletions: paused, not failed.
    mock.inject(FaultRule::times(Fault::Throttle, Some("DeleteArchive"), 12));

    let counts = Counts::new();
    let p = prepared(&ctx, &opts, &counts);
    assert_eq!((p.scope.archives, p.scope.bytes), (7, bytes));
    let report = purge::run(&ctx, &opts, p, &counts).expect("purge");
    let s = counts.snapshot();
    assert_eq!(s.label, "delete");
    assert_eq!(
        s.totals,
        Totals {
            bytes: Some(bytes),
            items: Some(7)
        }
    );
    assert_eq!(
        (s.items, s.bytes),
        (7, bytes),
        "the counts reach the totals"
    );
    let d = &report.deleted;
    assert_eq!((d.deleted, d.deleted_bytes, d.already_gone), (7, bytes, 0));
    assert!(d.failed.is_empty() && !d.stopped, "{d:?}");
    assert!(mock.archives("v").is_empty());
    // Written to since its last inventory (it has none): Glacier refuses, as expected.
    assert_eq!(report.vault, Some(VaultEnd::NotYet));

    // The journal says all is done: nothing in scope, no DeleteArchive sent.
    let sent = count(&mock, "DeleteArchive");
    let again = Counts::new();
    let p = prepared(&ctx, &opts, &again);
    assert_eq!((p.scope.archives, p.scope.skipped), (0, 7));
    let report = purge::run(&ctx, &opts, p, &again).expect("rerun");
    assert_eq!(report.deleted.skipped, 7);
    assert_eq!(count(&mock, "DeleteArchive"), sent);
    assert_eq!(again.snapshot().totals.items, Some(0));
}

#[test]
fn purge_waits_for_its_inventory_job_with_notes_and_a_dry_run_without_one_starts_none() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(2),
        ..MockConfig::default()
    });
    let bytes = vault_with(&mock, 3);
    mock.take_inventory("v");
    let dir = TempDir::new("wf-purge-job");
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let mut opts = purge_options(&dir.join("j.jsonl"), InventorySource::New);

    opts.dry_run = true;
    let counts = Counts::new();
    let got = purge::prepare(&ctx, &opts, &counts).expect("dry run");
    assert!(matches!(got, Prepare::NoInventory));
    assert_eq!(count(&mock, "InitiateJob"), 0, "a dry run starts no job");

    opts.dry_run = false;
    let p = prepared(&ctx, &opts, &counts);
    assert_eq!((p.scope.archives, p.scope.bytes), (3, bytes));
    assert_eq!(count(&mock, "InitiateJob"), 1);
    let notes = counts.notes();
    assert!(
        notes.iter().any(|n| n.contains("InProgress")),
        "the wait for the job is told: {notes:?}"
    );
    let report = purge::run(&ctx, &opts, p, &counts).expect("purge");
    assert_eq!(report.deleted.deleted, 3);
    assert_eq!(counts.snapshot().items, 3);
}

#[test]
fn vault_delete_waits_with_a_note_per_look_until_the_inventory_shows_the_vault_empty() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let id = mock.put_archive("v", b"x", "x");
    mock.take_inventory("v");
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let now = time::OffsetDateTime::now_utc;
    let mut opts = vault_delete::Options {
        vault: "v",
        wait: false,
        poll: PACE.poll,
        deleted_before: None,
        now: &now,
    };
    let counts = Counts::new();
    let got = vault_delete::run(&ctx, &opts, &counts).expect("one look");
    assert!(
        matches!(&got, Outcome::NotYet { why, .. } if why.contains("counts 1 archives")),
        "{got:?}"
    );
    assert!(counts.notes().is_empty(), "one look waits for nothing");

    client
        .delete_archive(
            "v",
            &glacier_upload::glacier::ArchiveId::new(id).expect("id"),
        )
        .expect("delete");
    opts.wait = true;
    let counts = Arc::new(Counts::new());
    std::thread::scope(|s| {
        let c = Arc::clone(&counts);
        let m = &mock;
        s.spawn(move || {
            // Glacier's next inventory comes while the wait looks.
            wait_for("a note of the wait", 30, || !c.notes().is_empty());
            m.take_inventory("v");
        });
        let got = vault_delete::run(&ctx, &opts, counts.as_ref()).expect("waited");
        assert_eq!(got, Outcome::Deleted);
    });
    let notes = counts.notes();
    assert!(
        notes[0].contains("counts 1 archives; checking again in"),
        "{notes:?}"
    );
}

/// A finished retrieval job for an archive of `data` in vault `v`.
fn retrieval_job(mock: &MockGlacier, client: &Client, data: &[u8]) -> JobId {
    mock.create_vault("v");
    let id = mock.put_archive("v", data, "a");
    let req = JobRequest {
        kind: "archive-retrieval".into(),
        archive_id: Some(id),
        ..JobRequest::default()
    };
    client.initiate_job("v", &req).expect("initiate")
}

fn archive_options(job_id: JobId, wait: bool) -> archive::Options {
    archive::Options {
        vault: "v".into(),
        job_id,
        wait,
        pace: PACE,
        threads: 3,
        chunk_size: 1 << 20,
        force: false,
    }
}

#[test]
fn archive_get_waits_with_notes_and_counts_every_byte_to_a_file_and_a_stream() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(2),
        ..MockConfig::default()
    });
    let client = mock_client(&mock);
    let data = pattern((3 << 20) + 12345, 9);
    let job_id = retrieval_job(&mock, &client, &data);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let dir = TempDir::new("wf-archive");
    let file = dir.join("out.bin");

    // A body cut short once: the file download is tried again (a `wait` run).
    mock.inject(FaultRule::times(Fault::Truncate, Some("GetJobOutput"), 1));
    let counts = Arc::new(Counts::new());
    let reporter = Arc::clone(&counts) as Arc<dyn Reporter>;
    let opts = archive_options(job_id.clone(), true);
    let to = archive::Destination::File(file.clone());
    let o = archive::get(&ctx, &opts, to, &reporter).expect("get");
    assert!(o.verified_whole);
    assert!(std::fs::read(&file).expect("file") == data);
    let s = counts.snapshot();
    assert_eq!(s.label, "download");
    assert_eq!(s.totals.bytes, Some(data.len() as u64));
    assert_eq!(s.bytes, data.len() as u64, "the count reaches the total");
    let notes = counts.notes();
    assert!(notes.iter().any(|n| n.contains("InProgress")), "{notes:?}");

    let counts = Arc::new(Counts::new());
    let reporter = Arc::clone(&counts) as Arc<dyn Reporter>;
    let mut sink = Vec::new();
    let opts = archive_options(job_id, false);
    let o = archive::get(
        &ctx,
        &opts,
        archive::Destination::Stream(&mut sink),
        &reporter,
    )
    .expect("stream");
    assert_eq!(o.size, data.len() as u64);
    assert!(sink == data);
    assert_eq!(counts.snapshot().bytes, data.len() as u64);
}

#[test]
fn a_job_still_running_is_in_progress_without_wait() {
    let mock = MockGlacier::start();
    let client = mock_client(&mock);
    let job_id = retrieval_job(&mock, &client, b"abc");
    let stop = Arc::new(AtomicBool::new(false));
    let reporter = Arc::new(Counts::new()) as Arc<dyn Reporter>;
    let mut sink = Vec::new();
    let opts = archive_options(job_id, false);
    let to = archive::Destination::Stream(&mut sink);
    let e = archive::get(&ctx(&client, &stop), &opts, to, &reporter).expect_err("running");
    assert!(
        matches!(&e, glacier_upload::Error::JobInProgress(m) if m.contains("not finished")),
        "{e:?}"
    );
    assert!(sink.is_empty());
}

#[test]
fn init_retrieval_adopts_the_job_a_lost_answer_started_and_says_so() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let id = mock.put_archive("v", b"abc", "a");
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    mock.inject(FaultRule::times(Fault::DropAfter, Some("InitiateJob"), 1));
    let request = JobRequest {
        kind: "archive-retrieval".into(),
        archive_id: Some(id),
        ..JobRequest::default()
    };
    let counts = Counts::new();
    let start = retrieval::Start {
        vault: "v",
        request: &request,
        what: "retrieval",
        long: false,
        pace: PACE,
    };
    let job_id = retrieval::start(&ctx(&client, &stop), &start, &counts).expect("start");
    assert_eq!(count(&mock, "InitiateJob"), 1, "no second billed job");
    let listed = client.list_jobs("v", None, None).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].job_id.as_deref(), Some(job_id.as_str()));
    let notes = counts.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("the answer to InitiateJob was lost")),
        "{notes:?}"
    );
}

#[test]
fn inventory_get_saves_or_renders_and_reports_what_it_saw() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(1),
        ..MockConfig::default()
    });
    let bytes = vault_with(&mock, 4);
    mock.take_inventory("v");
    let client = mock_client(&mock);
    let request = JobRequest {
        kind: "inventory-retrieval".into(),
        ..JobRequest::default()
    };
    let job_id = client.initiate_job("v", &request).expect("initiate");
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let opts = inventory::Options {
        vault: "v".into(),
        job_id,
        wait: true,
        pace: PACE,
    };
    let dir = TempDir::new("wf-inventory");
    let path = dir.join("inv.json");
    let counts = Counts::new();
    let to = inventory::Destination::File {
        path: path.clone(),
        force: false,
    };
    let r = inventory::get(&ctx, &opts, to, &counts).expect("save");
    let saved = std::fs::metadata(&path).expect("saved").len();
    assert_eq!(r.saved, Some(saved));
    assert_eq!(r.marker, None);
    assert!(counts.notes().iter().any(|n| n.contains("InProgress")));

    for render in [Render::Json, Render::Jsonl] {
        let mut out = Vec::new();
        let to = inventory::Destination::Print {
            render,
            out: &mut out,
        };
        let r = inventory::get(&ctx, &opts, to, &Counts::new()).expect("print");
        let (summary, format) = r.printed.expect("printed");
        assert_eq!(format, Format::Json);
        assert_eq!((summary.archives, summary.total_bytes), (4, bytes));
        assert!(
            String::from_utf8_lossy(&out).contains("file-3"),
            "{render:?}"
        );
    }
}

#[test]
fn deleting_listed_ids_counts_each_and_a_missing_vault_deletes_nothing() {
    let mock = MockGlacier::start();
    vault_with(&mock, 4);
    let ids: Vec<String> = mock
        .archives("v")
        .into_iter()
        .map(|a| a.archive_id)
        .collect();
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = ctx(&client, &stop);
    let mut opts = purge::DeleteIds {
        vault: "v".into(),
        threads: 2,
        backoff: PACE.backoff,
    };
    // The first ID twice: the second time it is already gone (404).
    let mut list = ids.clone();
    list.push(ids[0].clone());
    let counts = Counts::new();
    let tally = purge::delete_ids(&ctx, &opts, list.into_iter().map(Ok), &counts).expect("delete");
    assert_eq!(tally.deleted + tally.already_gone, 5);
    assert_eq!(tally.deleted, 4);
    assert!(tally.failed.is_empty() && !tally.stopped);
    let s = counts.snapshot();
    assert_eq!((s.totals.items, s.items), (Some(5), 5));
    assert!(mock.archives("v").is_empty());

    opts.vault = "nope".into();
    let sent = count(&mock, "DeleteArchive");
    let e = purge::delete_ids(&ctx, &opts, ids.into_iter().map(Ok), &Counts::new())
        .expect_err("no vault");
    assert!(e.is_not_found(), "{e:?}");
    assert_eq!(count(&mock, "DeleteArchive"), sent);
}
