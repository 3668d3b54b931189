//! The export scheduler through outages and refusals that last: a GetJobOutput outage
//! longer than any per-archive limit is ridden out (but a lone archive that never comes
//! through is failed after hours, not bought again), so is an S3 outage on the HEAD that
//! looks for an archive already in place; a ListJobs listing that repeats a marker is
//! listed again, never taken as ended (its unlisted jobs would be bought again); a data
//! retrieval policy that keeps refusing stops the run with a clear error, resumable,
//! while one that lifts is waited out, and so are its refusals while the run's own jobs
//! are outstanding; a rerun's look at what was exported rides out a transient fault.
//! Pauses are the test hooks' milliseconds and the run's clock is injected, so nothing
//! waits real minutes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use glacier_upload::error::ServiceError;
use glacier_upload::export::{self, Options, S3Target, To, scheduler};
use glacier_upload::glacier::{Client, JobDescription, JobRequest, RetryPolicy};
use glacier_upload::progress::{Counts, Reporter};
use glacier_upload::s3::StorageClass;
use glacier_upload::vault::journal::Journal;
use glacier_upload::vault::{self, InventoryFile, InventorySource, Item, Selection};
use glacier_upload::workflow::Ctx;

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::{
    TempDir, check_exported_by_name, inventory_json, jobs_per_archive, mock_client_config,
    seed_named,
};

/// A run's clock (`fn() -> OffsetDateTime`, as `Options::clock` takes) that moves `step`
/// further at each reading, each function with its own count.
macro_rules! stepping_clock {
    ($(#[$doc:meta])* $name:ident, $step:expr) => {
        $(#[$doc])*
        fn $name() -> time::OffsetDateTime {
            static READINGS: AtomicI32 = AtomicI32::new(0);
            let n = READINGS.fetch_add(1, Ordering::SeqCst);
            time::OffsetDateTime::now_utc() + $step * n
        }
    };
}

/// A mock whose jobs finish at once, `n` archives, their inventory in a fresh home.
fn mock_with(n: usize, tag: &str) -> (MockGlacier, HashMap<String, Vec<u8>>, TempDir, PathBuf) {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let data = seed_named(&mock, n);
    let home = TempDir::new(tag);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    (mock, data, home, inv)
}

/// A client for the mock that gives up after one attempt with 1 ms pauses: every fault
/// the mock injects reaches the scheduler, whose own policy must get past it.
fn one_try_client(mock: &MockGlacier) -> Client {
    let mut cfg = mock_client_config(mock);
    cfg.retry = RetryPolicy {
        max_attempts: 1,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(1),
    };
    Client::new(cfg).expect("client for the mock")
}

fn options(out: &Path, inv: &Path) -> Options {
    Options {
        vault: "v".into(),
        to: To::Dir {
            dir: out.to_path_buf(),
            free_bytes: None,
        },
        source: InventorySource::File(inv.to_path_buf()),
        selection: Selection::default(),
        names: None,
        tier: "Standard".into(),
        max_jobs: 100,
        max_pending: u64::MAX,
        max_bytes_per_day: None,
        threads: 2,
        poll: Some(Duration::from_millis(1)),
        wait: true,
        backoff: (Duration::from_millis(1), Duration::from_millis(8)),
        clock: time::OffsetDateTime::now_utc,
        refresh_hint: String::new(),
    }
}

/// Runs the export on a thread; `None` if it has not ended within `secs` (it is then
/// stopped as Ctrl-C would).
fn export_within(
    client: &Client,
    opts: &Options,
    secs: u64,
) -> Option<glacier_upload::Result<export::Report>> {
    export_noting(client, opts, secs).0
}

/// [`export_within`], and the notes the run gave.
fn export_noting(
    client: &Client,
    opts: &Options,
    secs: u64,
) -> (Option<glacier_upload::Result<export::Report>>, Vec<String>) {
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::new());
    let result = std::thread::scope(|s| {
        let h = s.spawn(|| {
            let reporter: Arc<dyn Reporter> = counts.clone();
            let ctx = Ctx {
                glacier: client,
                data_dir: None,
                stop: &stop,
            };
            export::run(&ctx, opts, &reporter)
        });
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !h.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let ended = h.is_finished();
        stop.store(true, Ordering::Relaxed);
        let r = h.join().expect("export thread");
        ended.then_some(r)
    });
    (result, counts.notes())
}

/// Every archive of `data` exported byte-exact into `out`, and one retrieval job bought
/// for each.
fn exported_with_one_job_each(mock: &MockGlacier, out: &Path, data: &HashMap<String, Vec<u8>>) {
    check_exported_by_name(out, data);
    let per = jobs_per_archive(mock);
    assert!(
        per.len() == data.len() && per.values().all(|&n| n == 1),
        "{per:?}"
    );
}

fn count(mock: &MockGlacier, from: usize, op: &str) -> usize {
    mock.requests()[from..]
        .iter()
        .filter(|r| r.operation == op)
        .count()
}

#[test]
fn a_getjoboutput_outage_longer_than_the_per_archive_limit_is_ridden_out() {
    let (mock, data, home, inv) = mock_with(4, "outage-gjo");
    let out = home.join("out");
    // Every download fails, for as long as the test says: far more tries per archive
    // than the per-archive limit (12), with nothing landing meanwhile.
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    let client = one_try_client(&mock);
    let opts = options(&out, &inv);
    let tries_each = 40;
    let report = std::thread::scope(|s| {
        let h = s.spawn(|| export_noting(&client, &opts, 120));
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let mut per_job: BTreeMap<String, usize> = BTreeMap::new();
            for r in mock.requests() {
                if r.operation == "GetJobOutput" {
                    *per_job.entry(r.path.clone()).or_default() += 1;
                }
            }
            let outage_done = per_job.len() == 4 && per_job.values().all(|&n| n >= tries_each);
            if outage_done || h.is_finished() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // Glacier is back.
        mock.clear_faults();
        h.join().expect("export thread")
    });
    let (report, notes) = report;
    let report = report.expect("the export ended").expect("export");
    assert!(
        report.summary.failed.is_empty(),
        "failed: {:?}",
        report.summary.failed
    );
    assert_eq!(report.summary.exported, 4);
    // One note per archive at its first failure, not one per try of the outage.
    let again = notes
        .iter()
        .filter(|n| n.contains("downloading it again"))
        .count();
    assert_eq!(again, 4, "{notes:#?}");
    exported_with_one_job_each(&mock, &out, &data);
}

stepping_clock!(
    /// The run's clock for the lone-archive test: ten minutes later at each reading.
    ten_minutes_a_reading_lone,
    time::Duration::minutes(10)
);

#[test]
fn a_lone_archive_whose_downloads_never_succeed_is_failed_after_hours_not_bought_again() {
    // One archive, nothing else to land: its failures cannot be told from an outage, so
    // they are ridden out, but only for hours of the run's clock (ten minutes a reading
    // here). Riding on would let its job's output expire and the retrieval be bought
    // again, and the run would never end.
    let (mock, _data, home, inv) = mock_with(1, "outage-lone");
    let out = home.join("out");
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    let client = one_try_client(&mock);
    let mut opts = options(&out, &inv);
    opts.clock = ten_minutes_a_reading_lone;
    let report = export_within(&client, &opts, 60)
        .expect("the run ends on its own")
        .expect("export");
    assert_eq!(report.summary.exported, 0);
    assert_eq!(
        report.summary.failed.len(),
        1,
        "{:?}",
        report.summary.failed
    );
    let tries = count(&mock, 0, "GetJobOutput");
    assert!(
        tries > 12,
        "ridden out past the per-archive count first: {tries} tries"
    );
    let per = jobs_per_archive(&mock);
    assert!(
        per.len() == 1 && per.values().all(|&n| n == 1),
        "one job: {per:?}"
    );
}

/// ListJobs answers rewritten so that the first listing with at least two jobs names
/// its second job as the next page's marker and keeps only the first, and the next
/// page (from that marker) names the same marker again: a listing that took the repeat
/// as its end would miss every job after the second.
fn repeat_a_marker_once(mock: &MockGlacier) -> Arc<AtomicUsize> {
    let rewritten = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&rewritten);
    mock.rewrite_json(Some(Arc::new(
        move |op: &str, v: &mut serde_json::Value| {
            if op != "ListJobs" {
                return;
            }
            let Some(list) = v["JobList"].as_array().cloned() else {
                return;
            };
            match n.load(Ordering::SeqCst) {
                0 if list.len() >= 3 => {
                    v["JobList"] = serde_json::json!([list[0]]);
                    v["Marker"] = list[1]["JobId"].clone();
                }
                1 if list.len() >= 2 => {
                    // The page starts at the marker asked for; it is sent again.
                    v["JobList"] = serde_json::json!([list[0]]);
                    v["Marker"] = list[0]["JobId"].clone();
                }
                _ => return,
            }
            n.fetch_add(1, Ordering::SeqCst);
        },
    )));
    rewritten
}

#[test]
fn a_repeated_marker_in_the_listing_for_adoption_is_listed_again_not_taken_as_the_end() {
    let (mock, data, home, inv) = mock_with(3, "outage-adopt-marker");
    let out = home.join("out");
    let client = one_try_client(&mock);
    // Jobs an earlier run started and whose journal lines a crash lost: adopted from
    // ListJobs, not bought again.
    for a in mock.archives("v") {
        let req = JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some(a.archive_id.clone()),
            tier: Some("Standard".into()),
            description: Some("glacier vault export".into()),
            ..Default::default()
        };
        client.initiate_job("v", &req).expect("earlier job");
    }
    let rewritten = repeat_a_marker_once(&mock);
    let from = mock.requests().len();
    let report = export_within(&client, &options(&out, &inv), 60)
        .expect("the export ended")
        .expect("export");
    assert_eq!(
        rewritten.load(Ordering::SeqCst),
        2,
        "the marker was repeated"
    );
    assert_eq!(
        count(&mock, from, "InitiateJob"),
        0,
        "every job was adopted"
    );
    assert_eq!(report.summary.exported, 3);
    exported_with_one_job_each(&mock, &out, &data);
}

#[test]
fn a_repeated_marker_in_a_poll_is_listed_again_not_taken_as_the_end() {
    let mock = MockGlacier::start();
    let data = seed_named(&mock, 3);
    let home = TempDir::new("outage-poll-marker");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let client = one_try_client(&mock);
    // A first run without waiting starts the 3 jobs and journals them.
    let mut opts = options(&out, &inv);
    opts.wait = false;
    let first = export_within(&client, &opts, 60)
        .expect("ended")
        .expect("first run");
    assert_eq!(first.summary.jobs_started, 3);
    mock.complete_jobs();
    // The second run's poll lists the 3 jobs (more than it describes one by one).
    let rewritten = repeat_a_marker_once(&mock);
    let from = mock.requests().len();
    opts.wait = true;
    // Jobs finish as soon as they are started: a job bought again (the failure this
    // test looks for) ends the run too, and the counts below say what happened.
    let second = std::thread::scope(|s| {
        let h = s.spawn(|| export_within(&client, &opts, 60));
        while !h.is_finished() {
            mock.complete_jobs();
            std::thread::sleep(Duration::from_millis(5));
        }
        h.join().expect("export thread")
    })
    .expect("ended")
    .expect("second run");
    assert_eq!(
        rewritten.load(Ordering::SeqCst),
        2,
        "the marker was repeated"
    );
    assert_eq!(
        count(&mock, from, "InitiateJob"),
        0,
        "no live job was taken for expired"
    );
    assert_eq!(second.summary.exported, 3);
    exported_with_one_job_each(&mock, &out, &data);
}

stepping_clock!(
    /// The run's clock for the policy tests: ten minutes later at each reading.
    ten_minutes_a_reading,
    time::Duration::minutes(10)
);
stepping_clock!(
    /// The same, for the test where the policy lifts.
    ten_minutes_a_reading_too,
    time::Duration::minutes(10)
);

#[test]
fn a_retrieval_policy_that_keeps_refusing_stops_the_run_with_a_clear_error_and_a_rerun_resumes() {
    let (mock, data, home, inv) = mock_with(2, "outage-policy");
    let out = home.join("out");
    mock.inject(FaultRule::always(
        Fault::PolicyEnforced,
        Some("InitiateJob"),
    ));
    let client = one_try_client(&mock);
    let mut opts = options(&out, &inv);
    opts.clock = ten_minutes_a_reading;
    let err = export_within(&client, &opts, 60)
        .expect("the run stops on its own, not at Ctrl-C")
        .expect_err("a policy that never lifts");
    let msg = glacier_upload::error::chain(&err);
    assert!(msg.contains("data retrieval policy"), "{msg}");
    assert!(msg.contains("PolicyEnforcedException"), "{msg}");
    assert!(msg.contains("run the same command again"), "{msg}");
    assert_eq!(err.exit_code(), 1, "{msg}");
    assert!(
        count(&mock, 0, "InitiateJob") >= 2,
        "it tried again before stopping"
    );
    assert!(jobs_per_archive(&mock).is_empty());
    // The journal is intact and the rerun, the policy lifted, exports everything.
    mock.clear_faults();
    opts.clock = time::OffsetDateTime::now_utc;
    let again = export_within(&client, &opts, 60)
        .expect("ended")
        .expect("rerun");
    assert_eq!(again.summary.exported, 2);
    check_exported_by_name(&out, &data);
}

stepping_clock!(
    /// The same, for the test where the policy refuses while a job of the run is
    /// outstanding.
    ten_minutes_a_reading_outstanding,
    time::Duration::minutes(10)
);

#[test]
fn a_retrieval_policy_refusal_while_the_runs_own_job_is_outstanding_waits_for_that_job() {
    // The job of the first archive finishes after 12 polls (DescribeJob: one job is
    // outstanding), each poll followed by another refused InitiateJob for the second
    // archive, ten minutes apart by the run's clock: two hours of refusals, were they
    // counted against the hour allowed with nothing of the run's outstanding.
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(12),
        ..MockConfig::default()
    });
    let data = seed_named(&mock, 2);
    let home = TempDir::new("outage-policy-outstanding");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    // The first InitiateJob goes through (a delay of nothing), every later one is
    // refused by the policy: a Max Retrieval Rate the first job uses up.
    mock.inject(FaultRule::times(
        Fault::Slow(Duration::ZERO),
        Some("InitiateJob"),
        1,
    ));
    mock.inject(FaultRule::always(
        Fault::PolicyEnforced,
        Some("InitiateJob"),
    ));
    let client = one_try_client(&mock);
    let mut opts = options(&out, &inv);
    opts.clock = ten_minutes_a_reading_outstanding;
    let (result, notes) = export_noting(&client, &opts, 60);
    // The policy never lifts: once that job is exported nothing of the run is
    // outstanding, and an hour of refusals then stops the run as designed.
    let err = result
        .expect("the run stops on its own, not at Ctrl-C")
        .expect_err("a policy that never lifts");
    let msg = glacier_upload::error::chain(&err);
    assert!(
        msg.contains("while no job of this export was outstanding"),
        "{msg}"
    );
    // The job started before the refusals was polled until it finished, and exported.
    let per = jobs_per_archive(&mock);
    assert_eq!(per.len(), 1, "one job bought: {per:?}");
    let started = mock
        .archives("v")
        .into_iter()
        .find(|a| per.contains_key(&a.archive_id))
        .expect("the archive of the job");
    let got = std::fs::read(out.join(&started.description))
        .unwrap_or_else(|e| panic!("{} not exported: {e}", started.description));
    assert!(
        got == data[&started.description],
        "{} differs",
        started.description
    );
    assert!(
        count(&mock, 0, "DescribeJob") >= 13,
        "polled until it finished"
    );
    let refused = mock
        .requests()
        .iter()
        .filter(|r| r.error_code.as_deref() == Some("PolicyEnforcedException"))
        .count();
    assert!(refused > 12, "refused all along: {refused}");
    // Said once, not at each refusal.
    let told = notes
        .iter()
        .filter(|n| n.contains("trying again as they finish"))
        .count();
    assert_eq!(told, 1, "{notes:#?}");
}

#[test]
fn a_retrieval_policy_that_lifts_within_the_hour_is_waited_out() {
    let (mock, data, home, inv) = mock_with(2, "outage-policy-lifts");
    let out = home.join("out");
    // Four refusals, ten minutes apart by the run's clock: well within the hour.
    mock.inject(FaultRule::times(
        Fault::PolicyEnforced,
        Some("InitiateJob"),
        4,
    ));
    let client = one_try_client(&mock);
    let mut opts = options(&out, &inv);
    opts.max_jobs = 1;
    opts.clock = ten_minutes_a_reading_too;
    let report = export_within(&client, &opts, 60)
        .expect("ended")
        .expect("export");
    assert_eq!(report.summary.exported, 2);
    check_exported_by_name(&out, &data);
}

#[test]
fn an_s3_outage_on_the_head_before_a_job_is_ridden_out() {
    let Some((server, direct)) = crate::s3_client::setup("outage-head") else {
        return;
    };
    let (mock, data, home, inv) = mock_with(2, "outage-s3-head");
    // The first HEADs of the archives' objects (the look for an archive already in
    // place, before its job is requested) answer 503 SlowDown, more times in a row
    // than the S3 client's own attempts (3).
    let failed = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&failed);
    let proxy = crate::s3_faults::FaultProxy::start(
        server.port,
        Box::new(move |line| {
            let head = line.starts_with("HEAD /outage-head/run/");
            (head && f.fetch_add(1, Ordering::SeqCst) < 10).then(crate::s3_faults::slow_down)
        }),
    );
    let s3 = server.client_with(|cfg| cfg.endpoint = crate::s3_faults::through(&proxy));
    let client = one_try_client(&mock);
    let mut opts = options(&home.join("unused"), &inv);
    opts.to = To::S3 {
        target: S3Target::parse("s3://outage-head/run/")
            .expect("an S3 target")
            .expect("valid"),
        storage_class: StorageClass::Standard,
        part_size: 8 << 20,
        max_memory: 64 << 20,
        journal: home.join("journal"),
        client: Some(s3),
    };
    let report = export_within(&client, &opts, 120)
        .expect("ended")
        .expect("export");
    assert!(failed.load(Ordering::SeqCst) > 10, "the outage happened");
    assert_eq!(report.summary.exported, 2);
    for a in mock.archives("v") {
        let key = format!("run/{}", a.description);
        let got = crate::s3_client::get(&direct, "outage-head", &key);
        assert!(got == data[&a.description], "{key} differs");
    }
}

stepping_clock!(
    /// The run's clock for the restart test: three hours later at each reading.
    three_hours_a_reading,
    time::Duration::hours(3)
);

#[test]
fn an_archive_restarted_after_its_output_expired_gets_retries_on_its_new_job() {
    // A transient fault, then the job's output is gone (404: a new job is bought), then a
    // transient fault on the new job's first download, hours later by the run's clock:
    // the new job's download is tried again, not failed on the old job's account.
    let (mock, data, home, inv) = mock_with(1, "outage-restart");
    let out = home.join("out");
    mock.inject(FaultRule::times(
        Fault::Unavailable,
        Some("GetJobOutput"),
        1,
    ));
    mock.inject(FaultRule::times(Fault::NotFound, Some("GetJobOutput"), 1));
    mock.inject(FaultRule::times(
        Fault::Unavailable,
        Some("GetJobOutput"),
        1,
    ));
    let client = one_try_client(&mock);
    let mut opts = options(&out, &inv);
    opts.clock = three_hours_a_reading;
    let report = export_within(&client, &opts, 60)
        .expect("the run ends")
        .expect("export");
    assert_eq!(count(&mock, 0, "InitiateJob"), 2, "restarted once");
    assert!(
        report.summary.failed.is_empty(),
        "failed: {:?}",
        report.summary.failed
    );
    assert_eq!(report.summary.exported, 1);
    check_exported_by_name(&out, &data);
}

/// A directory destination whose look at an archive an earlier run exported
/// (`still_there`, a rerun's check before anything else) answers S3's 503 SlowDown
/// while `faults` lasts, then looks. No shipped destination's look fails that way (the
/// directory's errors are local I/O, and the S3 destination keeps the trait's default,
/// which looks at nothing), so the fault is made here.
struct StillThereFails {
    inner: export::DirDestination,
    faults: AtomicUsize,
    looks: AtomicUsize,
}

impl export::Destination for StillThereFails {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn contains(&self, item: &Item) -> glacier_upload::Result<bool> {
        self.inner.contains(item)
    }

    fn still_there(&self, item: &Item) -> glacier_upload::Result<bool> {
        self.looks.fetch_add(1, Ordering::SeqCst);
        let left = self.faults.load(Ordering::SeqCst);
        if left > 0 {
            self.faults.store(left - 1, Ordering::SeqCst);
            return Err(glacier_upload::Error::Service(Box::new(ServiceError {
                context: format!("HeadObject of {}", item.name),
                status: 503,
                code: "SlowDown".into(),
                message: "Please reduce your request rate.".into(),
                request_id: None,
                hint: None,
            })));
        }
        self.inner.still_there(item)
    }

    fn store(
        &self,
        client: &Client,
        vault: &str,
        job: &JobDescription,
        item: &Item,
        threads: usize,
    ) -> glacier_upload::Result<()> {
        self.inner.store(client, vault, job, item, threads)
    }
}

#[test]
fn a_transient_fault_on_a_reruns_look_at_what_was_exported_is_ridden_out() {
    let (mock, data, home, inv) = mock_with(2, "outage-still-there");
    let out = home.join("out");
    let client = one_try_client(&mock);
    let first = export_within(&client, &options(&out, &inv), 60)
        .expect("ended")
        .expect("first run");
    assert_eq!(first.summary.exported, 2);
    // The rerun, on the scheduler itself (the workflow picks its own destination):
    // the first archive's look fails five times in a row, more than a run without
    // --wait tries.
    let inventory = InventoryFile::open(&inv).expect("inventory");
    let names = vault::count_names(&inventory).expect("names");
    let selection = Selection::default();
    let dest = StillThereFails {
        inner: export::DirDestination::new(&out).expect("destination"),
        faults: AtomicUsize::new(5),
        looks: AtomicUsize::new(0),
    };
    let work = scheduler::Work {
        client: &client,
        vault: "v",
        inv: &inventory,
        names: &names,
        selection: &selection,
        dest: &dest,
    };
    let mut sched = scheduler::Options {
        tier: "Standard".into(),
        max_jobs: 100,
        max_pending: u64::MAX,
        threads: 2,
        poll: Duration::from_millis(1),
        wait: true,
        stop: Arc::new(AtomicBool::new(false)),
        backoff: (Duration::from_millis(1), Duration::from_millis(8)),
        max_bytes_per_day: None,
        clock: time::OffsetDateTime::now_utc,
    };
    let rerun = |sched: &scheduler::Options, notes: &mut Vec<String>| {
        let (mut journal, mut state) = Journal::open(&vault::state_dir(&out)).expect("journal");
        scheduler::run(
            &work,
            &mut journal,
            &mut state,
            sched,
            &mut |n| notes.push(n.to_string()),
            &mut |_| {},
        )
    };
    let mut notes = Vec::new();
    let report = rerun(&sched, &mut notes).expect("the faults are ridden out");
    assert_eq!(report.already_exported, 2);
    assert_eq!(report.jobs_started, 0);
    assert_eq!(dest.looks.load(Ordering::SeqCst), 5 + 2, "looked again");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("SlowDown") && n.contains("trying again")),
        "{notes:#?}"
    );
    check_exported_by_name(&out, &data);
    // Without --wait the same fault, three times, is "not now" (exit 3): run again
    // later, nothing bought meanwhile.
    sched.wait = false;
    dest.faults.store(3, Ordering::SeqCst);
    let e = rerun(&sched, &mut notes).map(|_| ()).expect_err("not now");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("again later"), "{e}");
    assert_eq!(
        count(&mock, 0, "InitiateJob"),
        2,
        "only the first run's jobs"
    );
}

/// An export to `bucket` on `s3` (an S3 client), `wait` or not.
fn to_s3(opts: &mut Options, home: &TempDir, bucket: &str, s3: Arc<glacier_upload::s3::Client>) {
    opts.to = To::S3 {
        target: S3Target::parse(&format!("s3://{bucket}/run/"))
            .expect("an S3 target")
            .expect("valid"),
        storage_class: StorageClass::Standard,
        part_size: 8 << 20,
        max_memory: 64 << 20,
        journal: home.join("journal"),
        client: Some(s3),
    };
}

#[test]
fn without_wait_an_s3_outage_on_the_head_returns_not_now() {
    let Some((server, _direct)) = crate::s3_client::setup("outage-nowait") else {
        return;
    };
    let (mock, _data, home, inv) = mock_with(1, "outage-nowait");
    let proxy = crate::s3_faults::FaultProxy::start(
        server.port,
        Box::new(|line| {
            line.starts_with("HEAD /outage-nowait/run/")
                .then(crate::s3_faults::slow_down)
        }),
    );
    let s3 = server.client_with(|cfg| cfg.endpoint = crate::s3_faults::through(&proxy));
    let client = one_try_client(&mock);
    let mut opts = options(&home.join("unused"), &inv);
    opts.wait = false;
    to_s3(&mut opts, &home, "outage-nowait", s3);
    let e = export_within(&client, &opts, 60)
        .expect("a run without --wait returns")
        .map(|_| ())
        .expect_err("not now");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("again later"), "{e}");
    assert_eq!(count(&mock, 0, "InitiateJob"), 0, "nothing bought");
}

#[test]
fn an_s3_endpoint_nobody_listens_on_stops_the_run_even_with_wait() {
    let Some((server, _direct)) = crate::s3_client::setup("outage-closed") else {
        return;
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let (mock, _data, home, inv) = mock_with(1, "outage-closed");
    let s3 = server.client_with(|cfg| {
        cfg.endpoint = glacier_upload::s3::S3Endpoint::custom(
            &format!("http://127.0.0.1:{port}"),
            "closed",
            false,
        )
        .expect("endpoint")
    });
    let client = one_try_client(&mock);
    let mut opts = options(&home.join("unused"), &inv);
    to_s3(&mut opts, &home, "outage-closed", s3);
    let e = export_within(&client, &opts, 60)
        .expect("the run stops on its own")
        .map(|_| ())
        .expect_err("an error");
    assert_eq!(e.exit_code(), 1, "{e}");
    assert!(
        e.to_string().contains("no connection to it has worked"),
        "{e}"
    );
    assert_eq!(count(&mock, 0, "InitiateJob"), 0, "nothing bought");
}
