//! The export scheduler's per-archive cost, counted from the mock's own request log and
//! the journal's sync counter (no timing): jobs are requested while earlier ones
//! download (no rounds), a poll pages ListJobs only until every outstanding job is found
//! and looks up few jobs with DescribeJob, a rerun of a finished export sends nothing,
//! journal syncs are grouped (but the record of a lost job is synced before its restart
//! is bought), and a `kill -9` at any point (with the journal's unsynced tail lost, as a
//! machine crash would) never starts a second retrieval of an archive nor claims an
//! archive that is not on disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use glacier_upload::export::{self, Options, To};
use glacier_upload::glacier::{Client, JobRequest};
use glacier_upload::progress::{Counts, Reporter};
use glacier_upload::vault::{InventorySource, Selection};
use glacier_upload::workflow::Ctx;

use crate::mock::{Fault, FaultRule, Gate, MockConfig, MockGlacier};
use crate::support::{
    TempDir, check_exported_by_name, glacier_mock, inventory_json, jobs_per_archive, mock_client,
    seed_named,
};

fn options(dir: &Path, inv: &Path, max_jobs: usize, threads: usize) -> Options {
    Options {
        vault: "v".into(),
        to: To::Dir {
            dir: dir.to_path_buf(),
            free_bytes: None,
        },
        source: InventorySource::File(inv.to_path_buf()),
        selection: Selection::default(),
        names: None,
        tier: "Bulk".into(),
        max_jobs,
        max_pending: u64::MAX,
        max_bytes_per_day: None,
        threads,
        poll: Some(Duration::from_millis(1)),
        wait: true,
        backoff: (Duration::from_millis(1), Duration::from_millis(8)),
        clock: time::OffsetDateTime::now_utc,
        refresh_hint: String::new(),
    }
}

fn export(client: &Client, opts: &Options) -> export::Report {
    let stop = Arc::new(AtomicBool::new(false));
    let reporter: Arc<dyn Reporter> = Arc::new(Counts::new());
    let ctx = Ctx {
        glacier: client,
        data_dir: None,
        stop: &stop,
    };
    export::run(&ctx, opts, &reporter).expect("export")
}

/// Requests since `from`, by operation.
fn ops(mock: &MockGlacier, from: usize) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for r in &mock.requests()[from..] {
        *by.entry(r.operation.clone()).or_default() += 1;
    }
    by
}

fn count(by: &BTreeMap<String, usize>, op: &str) -> usize {
    by.get(op).copied().unwrap_or(0)
}

/// A mock with `n` seeded archives (jobs that complete at once when `at_once`), its
/// inventory saved in a fresh home, and where the export goes. Keep `home` bound: the
/// directory goes with it.
struct Setup {
    mock: MockGlacier,
    data: HashMap<String, Vec<u8>>,
    home: TempDir,
    inv: PathBuf,
    out: PathBuf,
}

fn setup(n: usize, at_once: bool, tag: &str) -> Setup {
    let mock = if at_once {
        MockGlacier::start_with(MockConfig {
            job_completes_after_polls: Some(0),
            ..MockConfig::default()
        })
    } else {
        MockGlacier::start()
    };
    let data = seed_named(&mock, n);
    let home = TempDir::new(tag);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    Setup {
        mock,
        data,
        home,
        inv,
        out,
    }
}

#[test]
fn syncs_and_requests_per_archive_are_amortized() {
    let Setup {
        mock,
        data,
        inv,
        out,
        home: _home,
        ..
    } = setup(300, true, "pipe-cost");
    let client = mock_client(&mock);
    let report = export(&client, &options(&out, &inv, 100, 4));
    assert_eq!(report.summary.exported, 300);
    check_exported_by_name(&out, &data);
    let by = ops(&mock, 0);
    assert_eq!(count(&by, "InitiateJob"), 300, "{by:?}");
    assert_eq!(count(&by, "GetJobOutput"), 300, "{by:?}");
    let total: usize = by.values().sum();
    assert!(
        total as f64 / 300.0 <= 2.05,
        "{total} requests for 300 archives: {by:?}"
    );
    // One sync per poll (and one at the end), not one per record (600 records).
    let syncs = report.summary.journal_syncs;
    assert!(
        syncs as f64 / 300.0 <= 0.05,
        "{syncs} journal syncs for 300 archives"
    );
    // Every record reached the journal all the same.
    let journal =
        std::fs::read_to_string(out.join(".glacier-export/journal.jsonl")).expect("journal");
    let lines = journal.lines();
    assert_eq!(lines.filter(|l| l.contains("\"exported\"")).count(), 300);
}

#[test]
fn new_jobs_are_requested_while_an_earlier_one_downloads() {
    let Setup {
        mock,
        data,
        inv,
        out,
        home: _home,
        ..
    } = setup(12, true, "pipe-overlap");
    // The first download is held until the test lets it go.
    let gate = Gate::new();
    mock.inject(FaultRule::times(
        Fault::Hold(gate.clone()),
        Some("GetJobOutput"),
        1,
    ));
    let client = mock_client(&mock);
    let opts = options(&out, &inv, 3, 2);
    let reached = std::thread::scope(|s| {
        let h = s.spawn(|| export(&client, &opts));
        // Rounds would start 3 jobs, then wait for all 3 downloads (one held) before the
        // next InitiateJob; a pipeline starts one as each other download lands.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut reached = false;
        while Instant::now() < deadline && !h.is_finished() {
            if count(&ops(&mock, 0), "InitiateJob") >= 8 {
                reached = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let held = count(&ops(&mock, 0), "GetJobOutput");
        gate.open();
        let report = h.join().expect("export thread");
        assert_eq!(report.summary.exported, 12);
        (reached, held)
    });
    assert!(
        reached.0,
        "only {} jobs started while the first download was held",
        reached.1
    );
    check_exported_by_name(&out, &data);
}

#[test]
fn a_poll_pages_only_until_every_outstanding_job_is_found() {
    let Setup {
        mock,
        inv,
        out,
        home: _home,
        ..
    } = setup(5, false, "pipe-pages");
    let client = mock_client(&mock);
    // A first run without waiting starts the 5 jobs and leaves them.
    let mut opts = options(&out, &inv, 100, 2);
    opts.wait = false;
    let first = export(&client, &opts);
    assert_eq!(first.summary.jobs_started, 5);
    // Then the vault fills with 1,200 later jobs (someone else's retrievals): a listing
    // takes 2 pages of 1,000, and ours are all on the first.
    let any = mock.archives("v")[0].archive_id.clone();
    for _ in 0..1200 {
        let req = JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some(any.clone()),
            ..Default::default()
        };
        client.initiate_job("v", &req).expect("someone else's job");
    }
    mock.complete_jobs();
    let from = mock.requests().len();
    opts.wait = true;
    let second = export(&client, &opts);
    assert_eq!(second.summary.exported, 5);
    let by = ops(&mock, from);
    assert_eq!(count(&by, "ListJobs"), 1, "one page found all 5: {by:?}");
    assert_eq!(count(&by, "InitiateJob"), 0, "{by:?}");
    let listed = &mock
        .requests()
        .into_iter()
        .skip(from)
        .find(|r| r.operation == "ListJobs")
        .expect("a ListJobs");
    assert!(
        listed
            .query
            .iter()
            .any(|(k, v)| k == "limit" && v == "1000"),
        "{:?}",
        listed.query
    );
}

#[test]
fn few_outstanding_jobs_are_described_not_listed() {
    let Setup {
        mock,
        inv,
        out,
        home: _home,
        ..
    } = setup(1, false, "pipe-describe");
    let client = mock_client(&mock);
    let mut opts = options(&out, &inv, 100, 2);
    opts.wait = false;
    assert_eq!(export(&client, &opts).summary.jobs_started, 1);
    mock.complete_jobs();
    let from = mock.requests().len();
    opts.wait = true;
    assert_eq!(export(&client, &opts).summary.exported, 1);
    let by = ops(&mock, from);
    assert_eq!(
        (count(&by, "DescribeJob"), count(&by, "ListJobs")),
        (1, 0),
        "{by:?}"
    );
}

#[test]
fn a_rerun_of_a_finished_export_sends_nothing() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let data = seed_named(&mock, 20);
    mock.take_inventory("v");
    let home = TempDir::new("pipe-rerun");
    let out = home.join("out");
    let client = mock_client(&mock);
    // The inventory comes from a job named on the command line (`--inventory-job`).
    let inv_job = client
        .initiate_job(
            "v",
            &JobRequest {
                kind: "inventory-retrieval".into(),
                format: Some("JSON".into()),
                ..Default::default()
            },
        )
        .expect("inventory job");
    let inv = home.join("unused.json");
    let mut opts = options(&out, &inv, 100, 2);
    opts.source = InventorySource::Job(inv_job);
    assert_eq!(export(&client, &opts).summary.exported, 20);
    check_exported_by_name(&out, &data);
    let from = mock.requests().len();
    let again = export(&client, &opts);
    assert_eq!(
        (again.summary.already_exported, again.summary.exported),
        (20, 0)
    );
    let by = ops(&mock, from);
    assert!(by.is_empty(), "a finished rerun sent {by:?}");
}

#[test]
fn the_record_of_a_lost_job_gets_its_own_sync_before_the_restart_is_bought() {
    // Jobs finish only when the test says: every run here ends (without --wait) with a
    // job waiting, so what each run syncs is fixed.
    let Setup {
        mock,
        inv,
        out,
        home: _home,
        ..
    } = setup(1, false, "pipe-lost-sync");
    let client = mock_client(&mock);
    let mut opts = options(&out, &inv, 100, 2);
    opts.wait = false;
    let first = export(&client, &opts);
    assert_eq!(first.summary.jobs_started, 1);
    // A run that finds the job still running writes nothing: its syncs are those of
    // the steps before the scheduler, which every run here makes alike.
    let idle = export(&client, &opts);
    assert_eq!(idle.summary.jobs_started, 0);
    // The job expires: the next run journals it lost and buys the archive again.
    let jobs = client.list_jobs("v", None, None).expect("list jobs");
    let job_id = jobs[0].job_id.clone().expect("a job ID");
    mock.expire_job("v", &job_id);
    let from = mock.requests().len();
    let restarted = export(&client, &opts);
    assert_eq!(restarted.summary.jobs_restarted, 1);
    assert_eq!(count(&ops(&mock, from), "InitiateJob"), 1);
    // Two records, two syncs: the lost job's on its own before the InitiateJob it
    // licenses (a machine crash must not leave the old job journaled as valid while
    // the new one is paid for: the next run would find it lost again and pay a third
    // time), the new job's at the poll after it. Grouped at that poll, they would take
    // one.
    assert_eq!(
        restarted.summary.journal_syncs,
        idle.summary.journal_syncs + 2,
        "syncs: idle run {}, restart run {}",
        idle.summary.journal_syncs,
        restarted.summary.journal_syncs
    );
}

/// The journal's lines, with the last `drop` lines cut off (a machine crash losing the
/// unsynced tail); never a line a sync covered, as far as a test can tell: it cuts
/// whole lines only, which is the worst a crash can do to a file appended line by line.
fn lose_tail(journal: &Path, drop: usize) {
    let Ok(text) = std::fs::read_to_string(journal) else {
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    let keep = lines.len().saturating_sub(drop);
    let mut s = lines[..keep].join("\n");
    if keep > 0 {
        s.push('\n');
    }
    std::fs::write(journal, s).expect("cut the journal");
}

#[test]
fn kill_9_with_the_unsynced_tail_lost_never_starts_a_second_retrieval() {
    let Setup {
        mock,
        data,
        home,
        inv,
        out,
    } = setup(40, true, "pipe-kill");
    let journal = out.join(".glacier-export/journal.jsonl");
    let args = [
        "vault",
        "export",
        "--max-jobs",
        "9",
        "-t",
        "3",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |m: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % m
    };
    for round in 0..8 {
        let mut child = glacier_mock(&mock, home.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let target = mock.requests().len() + 1 + next(12) as usize;
        let deadline = Instant::now() + Duration::from_secs(30);
        while mock.requests().len() < target
            && Instant::now() < deadline
            && child.try_wait().expect("try_wait").is_none()
        {
            std::thread::yield_now();
        }
        let _ = child.kill();
        let _ = child.wait();
        // Every other round, a machine crash as well: records not yet synced are lost.
        if round % 2 == 1 {
            lose_tail(&journal, next(4) as usize);
        }
        // Nothing the journal claims is missing from disk.
        if let Ok(text) = std::fs::read_to_string(&journal) {
            for l in text.lines().filter(|l| l.contains("\"exported\"")) {
                let r: serde_json::Value = serde_json::from_str(l).expect("a whole line");
                let path = r["path"].as_str().expect("path");
                assert!(out.join(path).is_file(), "journal claims {path}: {l}");
            }
        }
    }
    let o = glacier_mock(&mock, home.path())
        .args(args)
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_exported_by_name(&out, &data);
    let per = jobs_per_archive(&mock);
    assert_eq!(per.len(), 40);
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}
