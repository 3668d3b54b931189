//! The export workflow driven through the library (`export::run`, `export::dry_run`)
//! against the mock, with a counting reporter: the counts reach the totals, notes
//! arrive, a dry run says what it lacks as data and creates nothing, a round without
//! waiting leaves the rest for later, and a stopped run still writes its manifest.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use glacier_upload::error::Error;
use glacier_upload::export::{self, Options, Preview, To};
use glacier_upload::glacier::{Client, JobId};
use glacier_upload::progress::{Counts, Reporter};
use glacier_upload::vault::{InventorySource, Selection};
use glacier_upload::workflow::Ctx;

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{TempDir, inventory_json, mock_client, pattern};

/// A vault `v` of archives of these sizes (at least 1 byte, as Glacier takes; one may
/// span several 1 MiB tree-hash chunks);
/// returns each one's data by name.
fn seed(mock: &MockGlacier, sizes: &[usize]) -> HashMap<String, Vec<u8>> {
    mock.create_vault("v");
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let name = format!("dir/file{i}.bin");
            let data = pattern(n, i as u64 + 7);
            mock.put_archive("v", &data, &name);
            (name, data)
        })
        .collect()
}

fn options(dir: &Path, source: InventorySource) -> Options {
    Options {
        vault: "v".into(),
        to: To::Dir {
            dir: dir.to_path_buf(),
            free_bytes: None,
        },
        source,
        selection: Selection::default(),
        names: None,
        tier: "Bulk".into(),
        max_jobs: 1000,
        max_pending: u64::MAX,
        max_bytes_per_day: None,
        threads: 2,
        poll: Some(Duration::from_millis(1)),
        wait: true,
        backoff: (Duration::from_millis(1), Duration::from_millis(8)),
        clock: time::OffsetDateTime::now_utc,
        refresh_hint: "take a new inventory".into(),
    }
}

/// Runs the workflow with a fresh counting reporter; gives the result and the counts.
fn run(
    client: &Client,
    opts: &Options,
    stop: &Arc<AtomicBool>,
) -> (glacier_upload::error::Result<export::Report>, Arc<Counts>) {
    let counts = Arc::new(Counts::new());
    let reporter: Arc<dyn Reporter> = counts.clone();
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop,
    };
    (export::run(&ctx, opts, &reporter), counts)
}

#[test]
fn a_run_exports_every_archive_and_its_counts_reach_the_totals() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let data = seed(&mock, &[100, 5000, (1 << 20) * 2 + 17, 1]);
    let home = TempDir::new("wf-counts");
    let inv = home.join("inventory.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let opts = options(&out, InventorySource::File(inv));
    let stop = Arc::new(AtomicBool::new(false));
    let (report, counts) = run(&mock_client(&mock), &opts, &stop);
    let report = report.expect("export");
    let s = &report.summary;
    assert_eq!((s.archives, s.exported, s.remaining), (4, 4, 0));
    assert!(s.failed.is_empty(), "{:?}", s.failed);
    assert_eq!(report.destination, out.display().to_string());
    assert!(report.manifest.failed_file.is_none());
    for (name, bytes) in &data {
        let got = std::fs::read(out.join(name)).expect("exported file");
        assert!(got == *bytes, "{name} differs");
    }
    let total: u64 = data.values().map(|d| d.len() as u64).sum();
    let snap = counts.snapshot();
    assert_eq!(snap.label, "export");
    assert_eq!(snap.totals.items, Some(4));
    assert_eq!(snap.totals.bytes, Some(total));
    assert_eq!(snap.items, 4, "every archive counted once");
    assert_eq!(snap.bytes, total, "every byte counted once, as verified");
    assert_eq!(snap.detail, "", "the finished phase shows no stale detail");
    // The manifest says every archive is in place.
    let manifest =
        std::fs::read_to_string(out.join("glacier-export-manifest.jsonl")).expect("manifest");
    assert_eq!(manifest.lines().count(), 4, "{manifest}");
}

#[test]
fn a_rerun_on_the_saved_inventory_notes_it_with_the_caller_s_advice() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    seed(&mock, &[300, 400]);
    mock.take_inventory("v");
    let home = TempDir::new("wf-notes");
    let out = home.join("out");
    let opts = options(&out, InventorySource::New);
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let (first, counts) = run(&client, &opts, &stop);
    assert_eq!(first.expect("first run").summary.exported, 2);
    assert!(
        counts
            .notes()
            .iter()
            .all(|n| !n.contains("saved by an earlier run")),
        "{:?}",
        counts.notes()
    );
    let (again, counts) = run(&client, &opts, &stop);
    let again = again.expect("rerun");
    assert_eq!(
        (again.summary.already_exported, again.summary.exported),
        (2, 0)
    );
    let notes = counts.notes();
    let note = notes
        .iter()
        .find(|n| n.contains("saved by an earlier run"))
        .unwrap_or_else(|| panic!("no note: {notes:?}"));
    assert!(
        note.ends_with("are not included: take a new inventory"),
        "{note}"
    );
    assert!(!note.contains("--"), "the library names no flag: {note}");
    // Nothing left to do: one phase of nothing, done.
    let snap = counts.snapshot();
    assert_eq!((snap.totals.items, snap.items), (Some(0), 0));
}

#[test]
fn a_dry_run_says_what_it_lacks_as_data_and_creates_nothing() {
    let mock = MockGlacier::start();
    seed(&mock, &[10, 20, 30]);
    let home = TempDir::new("wf-dry");
    let out = home.join("out");
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = Ctx {
        glacier: &client,
        data_dir: None,
        stop: &stop,
    };
    let counts = Counts::new();
    let opts = options(&out, InventorySource::New);
    let got = export::dry_run(&ctx, &opts, &counts).expect("dry run");
    assert!(matches!(got, Preview::NoInventory), "{got:?}");
    let job = JobId::new("JOB").expect("job id");
    let opts = options(&out, InventorySource::Job(job));
    let got = export::dry_run(&ctx, &opts, &counts).expect("dry run");
    assert!(matches!(got, Preview::NoStateDir), "{got:?}");
    let inv = home.join("inventory.json");
    inventory_json(&mock, &inv);
    let opts = options(&out, InventorySource::File(inv));
    let got = export::dry_run(&ctx, &opts, &counts).expect("dry run");
    let Preview::Ready(planned) = got else {
        panic!("no plan: {got:?}");
    };
    assert_eq!((planned.plan.archives, planned.plan.bytes), (3, 60));
    assert_eq!(planned.plan.initiate_job_requests, 3);
    assert!(!out.exists(), "a dry run creates nothing");
    let sent: Vec<_> = mock
        .requests()
        .into_iter()
        .map(|r| r.operation)
        .filter(|op| op == "InitiateJob")
        .collect();
    assert!(sent.is_empty(), "a dry run starts no job: {sent:?}");
}

#[test]
fn a_round_without_waiting_leaves_the_rest_for_later() {
    // Jobs finish only when the test says so.
    let mock = MockGlacier::start();
    seed(&mock, &[100, 200, 300]);
    let home = TempDir::new("wf-nowait");
    let inv = home.join("inventory.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let mut opts = options(&out, InventorySource::File(inv));
    opts.wait = false;
    let client = mock_client(&mock);
    let stop = Arc::new(AtomicBool::new(false));
    let (report, counts) = run(&client, &opts, &stop);
    let s = report.expect("first round").summary;
    assert_eq!((s.jobs_started, s.exported, s.remaining), (3, 0, 3));
    let snap = counts.snapshot();
    assert_eq!((snap.totals.items, snap.items), (Some(3), 0));
    mock.complete_jobs();
    let (report, counts) = run(&client, &opts, &stop);
    let s = report.expect("second round").summary;
    assert_eq!((s.jobs_started, s.exported, s.remaining), (0, 3, 0));
    let snap = counts.snapshot();
    assert_eq!((snap.totals.items, snap.items), (Some(3), 3));
    assert_eq!((snap.totals.bytes, snap.bytes), (Some(600), 600));
}

#[test]
fn a_stopped_run_ends_interrupted_and_still_writes_its_manifest() {
    // Jobs never finish, so a waiting run polls and pauses; the stop flag is set once
    // the run has started both jobs and polled them (a ListJobs before the first
    // InitiateJob looks for jobs a killed run started, and a stop then starts no more).
    let mock = MockGlacier::start();
    seed(&mock, &[100, 200]);
    let home = TempDir::new("wf-stop");
    let inv = home.join("inventory.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let opts = options(&out, InventorySource::File(inv));
    let stop = Arc::new(AtomicBool::new(false));
    let client = mock_client(&mock);
    let (report, counts) = std::thread::scope(|s| {
        let h = s.spawn(|| run(&client, &opts, &stop));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let polled_both = || {
            let reqs = mock.requests();
            let started: Vec<usize> = (0..reqs.len())
                .filter(|&i| reqs[i].operation == "InitiateJob")
                .collect();
            started.len() >= 2
                && reqs[started[1]..]
                    .iter()
                    .any(|r| r.operation == "ListJobs" || r.operation == "DescribeJob")
        };
        while !polled_both() && std::time::Instant::now() < deadline && !h.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        h.join().expect("run")
    });
    match report {
        Err(Error::Interrupted(_)) => {}
        other => panic!("not interrupted: {other:?}"),
    }
    assert!(
        out.join("glacier-export-manifest.jsonl").is_file(),
        "manifest written"
    );
    let snap = counts.snapshot();
    assert_eq!((snap.totals.items, snap.items), (Some(2), 0));
    assert!(snap.detail.contains("jobs waiting 2"), "{}", snap.detail);
}
