//! Hardening (issue 6): the real binary against the mock under every fault kind the mock
//! can inject, faults that never clear, SIGKILL at seeded random points followed by a
//! resume, a table of user mistakes, and secret hygiene in everything the tool prints
//! or writes.
//!
//! Sizes are CI-sized (a few MiB, 1 MiB parts and chunks). The crash-resume trial count
//! comes from `GLACIER_TRIALS` (default 3), so `benches/trials.sh` can run many. Nothing
//! sleeps to wait for something: kill points are reached by polling the mock or the
//! chunk log with a deadline, and the only delays are `Fault::Slow` responses.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier, RecordedRequest, SECRET_KEY};
use crate::support::{Run, TempDir, glacier_mock, pattern};

const MIB: usize = 1 << 20;

/// The binary pointed at `mock` with its data directory in `data`, fast retries and
/// fast job polling.
fn cmd(mock: &MockGlacier, data: &Path) -> Command {
    let mut c = glacier_mock(mock, data);
    c.env("GLACIER_POLL_MS", "1");
    c
}

fn run(mock: &MockGlacier, data: &Path, args: &[&str]) -> Run {
    cmd(mock, data)
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

fn stored(mock: &MockGlacier, vault: &str, archive_id: &str) -> Vec<u8> {
    std::fs::read(mock.archive_path(vault, archive_id)).expect("archive on the mock")
}

/// A seeded xorshift generator for kill points.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A draw in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

/// Polls `cond` until it holds; an error if `child` exits first or `secs` pass (a
/// trial counts this as a failure instead of ending the whole run).
fn poll_kill_point(
    child: &mut Child,
    what: &str,
    secs: u64,
    mut cond: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status}) before {what}"));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Collects a child's stderr on a thread, so the pipe never fills and blocks it.
fn collect_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    })
}

fn faults_fired(reqs: &[RecordedRequest]) -> usize {
    reqs.iter().filter(|r| r.fault.is_some()).count()
}

fn fired_on(reqs: &[RecordedRequest], op: &str) -> usize {
    reqs.iter()
        .filter(|r| r.operation == op && r.fault.is_some())
        .count()
}

fn rate(fault: Fault, op: &'static str, fraction: f64, seed: u64) -> FaultRule {
    FaultRule {
        fault,
        operation: Some(op),
        times: None,
        rate: Some((fraction, seed)),
    }
}

// ---- 1. fault matrix ----

/// One line of the fault × operation table.
struct Row {
    fault: &'static str,
    side: &'static str,
    requests: usize,
    target_attempts: usize,
    target_units: usize,
    fired: usize,
    fired_on_target: usize,
    /// Multipart uploads still in progress on the mock afterwards.
    uploads_left: usize,
    secs: f64,
}

/// A 7-part multipart upload (-p 1 -t 1) under `rules`; asserts the archive equals the
/// source and returns the counts.
fn upload_under(fault: &'static str, rules: Vec<FaultRule>, extra: &[&str], seed: u64) -> Row {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-up");
    let f = dir.join("src.bin");
    let data = pattern(6 * MIB + 17, seed);
    std::fs::write(&f, &data).expect("write source");
    for r in rules {
        mock.inject(r);
    }
    let started = Instant::now();
    let mut args = extra.to_vec();
    args.extend(["upload", "-p", "1", "-t", "1", "v", s(&f)]);
    let r = run(&mock, dir.path(), &args);
    let id = r.ok().trim().to_string();
    assert!(stored(&mock, "v", &id) == data, "{fault}: archive differs");
    let reqs = mock.requests();
    Row {
        fault,
        side: "upload",
        requests: reqs.len(),
        target_attempts: reqs
            .iter()
            .filter(|q| q.operation == "UploadMultipartPart")
            .count(),
        target_units: 7,
        fired: faults_fired(&reqs),
        fired_on_target: fired_on(&reqs, "UploadMultipartPart"),
        uploads_left: mock.uploads("v").len(),
        secs: started.elapsed().as_secs_f64(),
    }
}

/// A 7-chunk download (--chunk-size 1 -t 1) of a finished job under `rules`; asserts the
/// file equals the archive and returns the counts.
fn download_under(fault: &'static str, rules: Vec<FaultRule>, extra: &[&str], seed: u64) -> Row {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-down");
    let data = pattern(6 * MIB + 17, seed);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    let before = mock.requests().len();
    for r in rules {
        mock.inject(r);
    }
    let out = dir.join("out.bin");
    let started = Instant::now();
    let mut args = extra.to_vec();
    args.extend([
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "1",
        "v",
        &job,
        s(&out),
    ]);
    run(&mock, dir.path(), &args).ok();
    assert!(
        std::fs::read(&out).expect("downloaded") == data,
        "{fault}: file differs"
    );
    let reqs = mock.requests().split_off(before);
    Row {
        fault,
        side: "download",
        requests: reqs.len(),
        target_attempts: reqs
            .iter()
            .filter(|q| q.operation == "GetJobOutput")
            .count(),
        target_units: 7,
        fired: faults_fired(&reqs),
        fired_on_target: fired_on(&reqs, "GetJobOutput"),
        uploads_left: 0,
        secs: started.elapsed().as_secs_f64(),
    }
}

#[test]
fn fault_matrix_every_kind_on_upload_and_download_ends_byte_identical() {
    // Response faults: ~25% of parts / chunks (seeded), plus the first Complete (upload)
    // or DescribeJob (download), so the small requests' retries are exercised too.
    // Seeds chosen so each rule fires on 2-3 of the first 7 parts or chunks.
    let response_faults = [
        ("Throttle (400)", Fault::Throttle, 102),
        ("Unavailable (503)", Fault::Unavailable, 107),
        ("InternalEmpty (500)", Fault::InternalEmpty, 109),
        ("RequestTimeout (408)", Fault::RequestTimeout, 115),
        ("Drop (no response)", Fault::Drop, 116),
    ];
    // An upload request's time limit is --timeout plus 1 s per 64 KiB sent, so a 1 MiB part
    // has 17 s under `--timeout 1`: only a small request can be slow *past* its limit
    // in CI time. Slow(2 s) hits Initiate and Complete (upload) and DescribeJob
    // (download), each limited to 1 s; the retried Complete also proves Complete is
    // safe to repeat after the service already completed it.
    let slow = Fault::Slow(Duration::from_secs(2));
    let rows: Vec<Row> = std::thread::scope(|sc| {
        let mut handles = Vec::new();
        for (name, fault, seed) in &response_faults {
            let (name, seed, f1, f2) = (*name, *seed, fault.clone(), fault.clone());
            handles.push(sc.spawn(move || {
                upload_under(
                    name,
                    vec![
                        FaultRule::times(f1.clone(), Some("CompleteMultipartUpload"), 1),
                        rate(f1, "UploadMultipartPart", 0.25, seed),
                    ],
                    &[],
                    seed,
                )
            }));
            handles.push(sc.spawn(move || {
                download_under(
                    name,
                    vec![
                        FaultRule::times(f2.clone(), Some("DescribeJob"), 1),
                        rate(f2, "GetJobOutput", 0.25, seed),
                    ],
                    &[],
                    seed,
                )
            }));
        }
        let (s1, s2) = (slow.clone(), slow.clone());
        handles.push(sc.spawn(move || {
            upload_under(
                "Slow 2 s > --timeout 1",
                vec![
                    FaultRule::times(s1.clone(), Some("InitiateMultipartUpload"), 1),
                    FaultRule::times(s1, Some("CompleteMultipartUpload"), 1),
                ],
                &["--timeout", "1"],
                120,
            )
        }));
        handles.push(sc.spawn(move || {
            download_under(
                "Slow 2 s > --timeout 1",
                vec![FaultRule::times(s2, Some("DescribeJob"), 1)],
                &["--timeout", "1"],
                121,
            )
        }));
        for (name, fault, seed) in [
            ("Truncate (half a body)", Fault::Truncate, 134),
            ("Corrupt (1 flipped byte)", Fault::Corrupt, 131),
        ] {
            handles.push(sc.spawn(move || {
                download_under(
                    name,
                    vec![rate(fault, "GetJobOutput", 0.25, seed)],
                    &[],
                    seed,
                )
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("fault matrix row"))
            .collect()
    });

    eprintln!(
        "\n| fault | side | requests | part/chunk attempts (needed) | faults fired (on parts/chunks) | result | uploads left | secs |"
    );
    eprintln!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        eprintln!(
            "| {} | {} | {} | {} ({}) | {} ({}) | byte-identical | {} | {:.1} |",
            r.fault,
            r.side,
            r.requests,
            r.target_attempts,
            r.target_units,
            r.fired,
            r.fired_on_target,
            r.uploads_left,
            r.secs
        );
    }
    for r in &rows {
        assert!(r.fired >= 1, "{} on {}: no fault fired", r.fault, r.side);
        if r.fault.starts_with("Slow") {
            // The Initiate that timed out on our side was carried out by the service:
            // the client finds that upload (ListMultipartUploads) instead of leaving it
            // as an orphan and starting another.
            assert_eq!(r.uploads_left, 0, "{} on {}", r.fault, r.side);
        } else {
            assert!(r.fired_on_target >= 1, "{} on {}", r.fault, r.side);
            assert_eq!(r.uploads_left, 0, "{} on {}", r.fault, r.side);
        }
        assert!(
            r.target_attempts >= r.target_units,
            "{} on {}",
            r.fault,
            r.side
        );
    }
    assert_eq!(rows.len(), 14);
}

// ---- 2. faults that never clear ----

/// The last stderr line, which must be the one `glacier: ` error line.
fn last_line(err: &str) -> &str {
    let l = err.lines().last().unwrap_or_default();
    assert!(l.starts_with("glacier: "), "{err}");
    l
}

#[test]
fn an_upload_whose_faults_never_clear_fails_fast_naming_the_error_and_the_upload() {
    for (fault, want) in [
        (Fault::Unavailable, "ServiceUnavailableException (HTTP 503)"),
        (Fault::Throttle, "ThrottlingException (HTTP 400)"),
        (Fault::Drop, "UploadMultipartPart on"),
    ] {
        let mock = MockGlacier::start();
        mock.create_vault("v");
        let dir = TempDir::new("hm-never-up");
        let f = dir.join("big.bin");
        std::fs::write(&f, pattern(3 * MIB, 41)).expect("write");
        mock.inject(FaultRule::always(
            fault.clone(),
            Some("UploadMultipartPart"),
        ));
        let started = Instant::now();
        let r = run(
            &mock,
            dir.path(),
            &["upload", "--max-attempts", "3", "-p", "1", "v", s(&f)],
        );
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(10), "{fault:?}: {elapsed:?}");
        let err = last_line(r.fails(1)).to_string();
        assert!(err.contains(want), "{fault:?}: {err}");
        let uploads = mock.uploads("v");
        assert_eq!(uploads.len(), 1);
        let id = &uploads[0].upload_id;
        let resume = format!(
            "glacier upload --upload-id {id} --part-size 1 -- v {}",
            f.display()
        );
        assert!(err.contains(&resume), "{fault:?}: {err}");
        // The upload ID was on stderr from the start, too.
        assert!(
            r.stderr
                .lines()
                .next()
                .unwrap_or_default()
                .contains(id.as_str()),
            "{}",
            r.stderr
        );
        let parts: Vec<_> = mock
            .requests()
            .into_iter()
            .filter(|q| q.operation == "UploadMultipartPart")
            .collect();
        if fault != Fault::Drop {
            // A service error names the request ID of one of the failed attempts.
            assert!(
                parts
                    .iter()
                    .any(|q| err.contains(&format!("[request ID {}]", q.request_id))),
                "{err}"
            );
        }
        // -t 4 (default) runs at most 4 parts × 3 attempts before the pool stops.
        assert!(parts.len() <= 12, "{} part attempts", parts.len());
        assert!(mock.archives("v").is_empty());
    }
}

#[test]
fn a_download_whose_faults_never_clear_leaves_a_resumable_part_file() {
    let dir = TempDir::new("hm-never-down");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(6 * MIB + 5, 42);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    // Three chunks pass (a zero delay is no fault), then every GetJobOutput fails.
    mock.inject(FaultRule::times(
        Fault::Slow(Duration::ZERO),
        Some("GetJobOutput"),
        3,
    ));
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    let out = dir.join("out.bin");
    let get = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "1",
        "--max-attempts",
        "3",
        "v",
        &job,
        s(&out),
    ];
    let started = Instant::now();
    let r = run(&mock, dir.path(), &get);
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = last_line(r.fails(1)).to_string();
    assert!(err.contains("GetJobOutput"), "{err}");
    assert!(err.contains("ServiceUnavailableException"), "{err}");
    let last = mock.requests().last().expect("requests").request_id.clone();
    assert!(err.contains(&format!("[request ID {last}]")), "{err}");
    assert!(
        err.ends_with(&format!(
            "verified chunks are kept in {}.glacier-part; run the same command again to resume",
            out.display()
        )),
        "{err}"
    );
    assert!(!out.exists(), "nothing under the final name");
    let part = dir.join("out.bin.glacier-part");
    let log = dir.join("out.bin.glacier-part.log");
    assert!(part.exists(), "the part file is kept");
    let logged = std::fs::read_to_string(&log).expect("the chunk log is kept");
    assert_eq!(
        logged.lines().count(),
        1 + 3,
        "header + 3 chunks:\n{logged}"
    );

    mock.clear_faults();
    let r = run(&mock, dir.path(), &get);
    r.ok();
    assert!(r.stderr.contains("resumed: kept 3"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("downloaded"), data);
    assert!(!part.exists() && !log.exists());
}

/// A chunk the log vouches for is trusted only if the part file still holds it: one
/// changed on disk between runs is fetched again, not published (the kept chunks are
/// hashed from the file on resume; there is no read-back pass over the whole file).
#[test]
fn a_kept_chunk_changed_on_disk_between_runs_is_fetched_again() {
    let dir = TempDir::new("hm-kept-changed");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(6 * MIB + 5, 43);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    mock.inject(FaultRule::times(
        Fault::Slow(Duration::ZERO),
        Some("GetJobOutput"),
        3,
    ));
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    let out = dir.join("out.bin");
    let get = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "1",
        "--max-attempts",
        "1",
        "v",
        &job,
        s(&out),
    ];
    run(&mock, dir.path(), &get).fails(1);
    let part = dir.join("out.bin.glacier-part");
    let mut bytes = std::fs::read(&part).expect("the part file is kept");
    bytes[MIB + 10] ^= 0xff; // inside chunk 1, which the log says is verified
    std::fs::write(&part, &bytes).expect("change the part file");

    mock.clear_faults();
    let before = mock.requests().len();
    let r = run(&mock, dir.path(), &get);
    r.ok();
    assert!(r.stderr.contains("resumed: kept 2"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("downloaded"), data);
    let fetched = mock.requests()[before..]
        .iter()
        .filter(|q| q.operation == "GetJobOutput")
        .count();
    assert_eq!(fetched, 7 - 2, "chunks 1 and 3-6 fetched");
}

// ---- 3. crash-resume trials ----

fn trials() -> u64 {
    std::env::var("GLACIER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Every line of the receipts file is a JSON object with an archive ID.
fn check_receipts(path: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    assert!(text.is_empty() || text.ends_with('\n'), "torn last line");
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("receipt line is not JSON ({e}): {l}"));
        assert!(v["archive_id"].is_string(), "{l}");
    }
    text.lines().count()
}

/// Every resume state file is valid JSON naming its upload; returns the upload IDs.
fn check_states(data: &Path) -> Vec<String> {
    let dir = data.join("glacier-upload/uploads");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for e in entries {
        let p = e.expect("dir entry").path();
        let text = std::fs::read(&p).expect("read state");
        let v: serde_json::Value = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
        assert_eq!(
            p.extension().and_then(|x| x.to_str()),
            Some("json"),
            "a temporary state file was left: {}",
            p.display()
        );
        ids.push(v["upload_id"].as_str().expect("upload_id").to_string());
    }
    ids
}

/// One upload trial: a 7-part upload killed once `k` parts are on the mock, resumed
/// with the upload ID from the resume state (even trials) or the printed line (odd).
fn upload_trial(trial: u64, data_dir: &Path) -> Result<(), String> {
    let mut rng = Rng::new(1000 + trial);
    // At most 5 of 7: with 2 parts in flight, a later kill point could race the end.
    let k = rng.between(1, 5) as usize;
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-trial-up");
    let f = dir.join("src.bin");
    let data = pattern(6 * MIB + 1 + trial as usize, 2000 + trial);
    std::fs::write(&f, &data).map_err(|e| e.to_string())?;
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(40)),
        Some("UploadMultipartPart"),
    ));
    let mut child = cmd(&mock, data_dir)
        .args(["upload", "-p", "1", "-t", "2", "v", s(&f)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = collect_stderr(&mut child);
    poll_kill_point(&mut child, "the kill point", 60, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| u.parts.len() >= k)
    })?;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let printed = stderr.join().expect("stderr");
    mock.clear_faults();
    check_receipts(&data_dir.join("glacier-upload/receipts.jsonl"));
    let on_mock = mock.uploads("v")[0].upload_id.clone();
    let from_state = check_states(data_dir).into_iter().find(|id| *id == on_mock);
    let from_line = printed
        .split("multipart upload ID ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string);
    let id = if trial % 2 == 0 {
        from_state.ok_or("no resume state for the killed upload")?
    } else {
        from_line.ok_or_else(|| format!("no upload ID printed: {printed:?}"))?
    };
    let r = run(&mock, data_dir, &["upload", "--upload-id", &id, "v", s(&f)]);
    if r.code != 0 {
        return Err(format!("resume failed: {}", r.stderr));
    }
    let archive = r.stdout.trim();
    if stored(&mock, "v", archive) != data {
        return Err(format!(
            "trial {trial} (kill after {k} parts): archive differs"
        ));
    }
    if !mock.uploads("v").is_empty() {
        return Err("the upload is still in progress after completion".into());
    }
    Ok(())
}

/// One download trial: an 8-chunk download (-t 2) killed once `k` chunks are logged,
/// then run again.
fn download_trial(trial: u64) -> Result<(), String> {
    let mut rng = Rng::new(3000 + trial);
    // At most 6 of 8 chunks: with 2 in flight, a later kill point could race the end.
    let k = rng.between(1, 6) as usize;
    let dir = TempDir::new("hm-trial-down");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(8 * MIB - 3 - trial as usize, 4000 + trial);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(40)),
        Some("GetJobOutput"),
    ));
    let out = dir.join("out.bin");
    let get = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "2",
        "v",
        &job,
        s(&out),
    ];
    let mut child = cmd(&mock, dir.path())
        .args(get)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let log = dir.join("out.bin.glacier-part.log");
    poll_kill_point(&mut child, "the kill point", 60, || {
        std::fs::read_to_string(&log).map_or(0, |s| s.lines().count()) > k
    })?;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    if out.exists() {
        return Err("a killed download left a file under the final name".into());
    }
    let r = run(&mock, dir.path(), &get);
    if r.code != 0 {
        return Err(format!("rerun failed: {}", r.stderr));
    }
    if std::fs::read(&out).map_err(|e| e.to_string())? != data {
        return Err(format!(
            "trial {trial} (kill after {k} chunks): file differs"
        ));
    }
    Ok(())
}

#[test]
fn crash_resume_trials_upload_and_download() {
    let n = trials();
    let data = TempDir::new("hm-trials");
    let mut failures = Vec::new();
    let mut up_ok = 0;
    for t in 0..n {
        match upload_trial(t, data.path()) {
            Ok(()) => up_ok += 1,
            Err(e) => failures.push(format!("upload trial {t}: {e}")),
        }
    }
    let mut down_ok = 0;
    for t in 0..n {
        match download_trial(t) {
            Ok(()) => down_ok += 1,
            Err(e) => failures.push(format!("download trial {t}: {e}")),
        }
    }
    // Every completed resume appended one receipt to the shared file, none torn.
    let receipts = check_receipts(&data.join("glacier-upload/receipts.jsonl"));
    assert_eq!(receipts as u64, up_ok);
    assert!(check_states(data.path()).is_empty(), "states left behind");
    eprintln!("crash-resume upload trials: {up_ok}/{n} passed");
    eprintln!("crash-resume download trials: {down_ok}/{n} passed");
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---- 4. bad inputs ----

/// One user mistake.
struct Case {
    what: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    unset: Vec<&'static str>,
    code: i32,
    /// Text the error line must contain: the culprit.
    culprit: String,
}

fn case(what: &'static str, args: &[&str], code: i32, culprit: &str) -> Case {
    Case {
        what,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        unset: Vec::new(),
        code,
        culprit: culprit.to_string(),
    }
}

impl Case {
    fn env(mut self, k: &'static str, v: &str) -> Case {
        self.env.push((k, v.to_string()));
        self
    }

    fn unset(mut self, k: &'static str) -> Case {
        self.unset.push(k);
        self
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn bad_input_table_one_clear_line_naming_the_culprit_and_the_documented_code() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-bad");
    let data = dir.path();
    let file = dir.join("a.bin");
    std::fs::write(&file, b"abc").expect("write");
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").expect("write");
    let locked = dir.join("locked.bin");
    std::fs::write(&locked, b"secret stuff").expect("write");
    let exists = dir.join("exists.bin");
    std::fs::write(&exists, b"precious").expect("write");
    let subdir = dir.join("adir");
    std::fs::create_dir(&subdir).expect("mkdir");
    let bad_creds = dir.join("broken-credentials");
    std::fs::write(&bad_creds, "[default\naws_access_key_id = AKID\n").expect("write");
    let bad_config = dir.join("broken-config");
    std::fs::write(&bad_config, "[profile x]\nthis line has no equals sign\n").expect("write");
    let archive = mock.put_archive("v", &pattern(1000, 7), "seed");
    let done_job = run(&mock, data, &["archive", "init-retrieval", "v", &archive])
        .ok()
        .trim()
        .to_string();
    mock.complete_jobs();
    let running_job = run(&mock, data, &["archive", "init-retrieval", "v", &archive])
        .ok()
        .trim()
        .to_string();
    let (f, e, l, x, d) = (s(&file), s(&empty), s(&locked), s(&exists), s(&subdir));
    let unknown_job = "J".repeat(92);
    let unknown_upload = format!("U{}", "u".repeat(91));
    let unknown_archive = format!("-{}", "A".repeat(137));
    let dash_upload = format!("-{}", "u".repeat(91));
    let out = dir.join("new.bin");
    let o = s(&out);

    let mut cases = vec![
        case(
            "missing file",
            &["upload", "v", &format!("{f}.nope")],
            2,
            "a.bin.nope",
        ),
        case("empty file", &["upload", "v", e], 2, "empty.bin"),
        case(
            "directory as download target",
            &["archive", "get", "v", &done_job, d],
            2,
            "adir",
        ),
        case(
            "existing download target",
            &["archive", "get", "v", &done_job, x],
            2,
            "--force",
        ),
        case(
            "part size not a power of two",
            &["upload", "-p", "3", "v", f],
            2,
            "--part-size 3",
        ),
        case(
            "part size not a number",
            &["upload", "-p", "big", "v", f],
            2,
            "-p 'big'",
        ),
        case(
            "zero threads",
            &["upload", "-t", "0", "v", f],
            2,
            "--threads 0",
        ),
        case(
            "threads not a number",
            &["archive", "get", "-t", "many", "v", &done_job, o],
            2,
            "-t 'many'",
        ),
        case(
            "range not aligned",
            &[
                "archive",
                "init-retrieval",
                "--range",
                "5-10",
                "v",
                &archive,
            ],
            2,
            "--range",
        ),
        case(
            "range reversed",
            &[
                "archive",
                "init-retrieval",
                "--range",
                "2097151-0",
                "v",
                &archive,
            ],
            2,
            "--range",
        ),
        case(
            "range not numbers",
            &["archive", "init-retrieval", "--range", "a-b", "v", &archive],
            2,
            "--range",
        ),
        case(
            "unknown tier",
            &["archive", "init-retrieval", "--tier", "Fast", "v", &archive],
            2,
            "--tier 'Fast'",
        ),
        case(
            "chunk size not a power of two",
            &["archive", "get", "--chunk-size", "3", "v", &done_job, o],
            2,
            "--chunk-size 3",
        ),
        case(
            "bad --completed value",
            &["jobs", "list", "--completed", "maybe", "v"],
            2,
            "--completed",
        ),
        case(
            "bad --status value",
            &["jobs", "list", "--status", "Done", "v"],
            2,
            "--status",
        ),
        case(
            "xz level out of range",
            &["upload", "--xz-level", "12", "v", f, e],
            2,
            "--xz-level",
        ),
        case(
            "description not printable",
            &["upload", "-d", "tab\there", "v", f],
            2,
            "printable ASCII",
        ),
        case(
            "invalid vault name",
            &["vault", "describe", "no/slash"],
            2,
            "no/slash",
        ),
        case("unknown flag", &["upload", "--bogus", "v", f], 2, "--bogus"),
        case("unknown command", &["vault", "rename", "v"], 2, "rename"),
        case(
            "zero max attempts",
            &["vault", "list", "--max-attempts", "0"],
            2,
            "--max-attempts",
        ),
        case(
            "zero timeout",
            &["vault", "list", "--timeout", "0"],
            2,
            "--timeout",
        ),
        case(
            "unknown vault",
            &["vault", "describe", "nope"],
            1,
            "vault 'nope'",
        ),
        case("unknown vault on upload", &["upload", "nope", f], 1, "nope"),
        case(
            "unknown job",
            &["jobs", "describe", "v", &unknown_job],
            1,
            &unknown_job,
        ),
        case(
            "unknown job on get",
            &["archive", "get", "v", &unknown_job, o],
            1,
            &unknown_job,
        ),
        case(
            "unknown upload",
            &["uploads", "parts", "v", &unknown_upload],
            1,
            &unknown_upload,
        ),
        case(
            "unknown upload on resume",
            &["upload", "-u", &unknown_upload, "v", f],
            1,
            &unknown_upload,
        ),
        case(
            "unknown archive, ID starting with '-'",
            &["archive", "delete", "v", &unknown_archive],
            1,
            &unknown_archive,
        ),
        case(
            "retrieval of an unknown archive",
            &["archive", "init-retrieval", "v", &unknown_archive],
            1,
            &unknown_archive,
        ),
        case(
            "upload ID starting with '-'",
            &["uploads", "abort", "v", &dash_upload],
            1,
            &dash_upload,
        ),
        case(
            "job still running",
            &["archive", "get", "v", &running_job, o],
            3,
            "--wait",
        ),
        case(
            "wrong secret key",
            &["vault", "list"],
            1,
            "check the credentials",
        )
        .env("AWS_SECRET_ACCESS_KEY", "wrong"),
        case(
            "unknown access key",
            &["vault", "list"],
            1,
            "UnrecognizedClientException",
        )
        .env("AWS_ACCESS_KEY_ID", "AKIDNOBODY"),
        case("no credentials", &["vault", "list"], 1, "AWS_ACCESS_KEY_ID")
            .unset("AWS_ACCESS_KEY_ID")
            .unset("AWS_SECRET_ACCESS_KEY"),
        case(
            "malformed credentials file",
            &["vault", "list"],
            2,
            "broken-credentials",
        )
        .unset("AWS_ACCESS_KEY_ID")
        .unset("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", s(&bad_creds)),
        case(
            "malformed config file",
            &["vault", "list"],
            2,
            "broken-config",
        )
        .unset("AWS_REGION")
        .env("AWS_CONFIG_FILE", s(&bad_config)),
        case(
            "unknown profile",
            &["vault", "list", "--profile", "nosuch"],
            2,
            "nosuch",
        )
        .unset("AWS_ACCESS_KEY_ID")
        .unset("AWS_SECRET_ACCESS_KEY"),
        case("no region", &["vault", "list"], 2, "no region").unset("AWS_REGION"),
        case(
            "plain http to a remote host",
            &["vault", "list", "--endpoint-url", "http://example.invalid"],
            2,
            "--endpoint-url",
        ),
    ];
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    if running_as_root() {
        eprintln!("running as root: skipping the unreadable-file case");
    } else {
        cases.push(case(
            "unreadable file",
            &["upload", "v", l],
            2,
            "locked.bin",
        ));
    }

    let mut checked = 0;
    let mut problems = Vec::new();
    for c in &cases {
        let sent_before = mock.requests().len();
        let mut command = cmd(&mock, data);
        for (k, v) in &c.env {
            command.env(k, v);
        }
        for k in &c.unset {
            command.env_remove(k);
        }
        let r: Run = command.args(&c.args).output().expect("run").into();
        let line = r.stderr.trim_end();
        let ok = r.code == c.code
            && line.lines().count() == 1
            && line.starts_with("glacier: ")
            && line.contains(&c.culprit)
            && !r.stderr.contains("panicked")
            && !r.stderr.contains("RUST_BACKTRACE")
            && (c.code != 2 || mock.requests().len() == sent_before);
        eprintln!("bad input | {} | exit {} | {}", c.what, r.code, line);
        if ok {
            checked += 1;
        } else {
            problems.push(format!(
                "{}: exit {} (want {}), want '{}' in one line; sent {} requests\n  {}",
                c.what,
                r.code,
                c.code,
                c.culprit,
                mock.requests().len() - sent_before,
                r.stderr.trim_end().replace('\n', "\n  ")
            ));
        }
    }
    assert_eq!(std::fs::read(&exists).expect("kept"), b"precious");

    // A clock an hour off: Glacier says "Signature expired"; the line says "clock".
    let skewed = MockGlacier::start_with(MockConfig {
        clock_skew_secs: 3600,
        ..MockConfig::default()
    });
    let r = run(&skewed, data, &["vault", "list"]);
    let line = r.stderr.trim_end();
    if r.code == 1 && line.lines().count() == 1 && line.contains("clock") {
        checked += 1;
    } else {
        problems.push(format!("skewed clock: exit {}: {line}", r.code));
    }

    // A reader that closes stdout early: exit 141, nothing on stderr.
    for i in 0..1500 {
        mock.create_vault(&format!("vault-with-a-long-name-{i:05}"));
    }
    let mut child = cmd(&mock, data)
        .args(["vault", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    if o.status.code() == Some(141) && o.stderr.is_empty() {
        checked += 1;
    } else {
        problems.push(format!(
            "closed stdout: {:?} {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }

    eprintln!("bad-input cases checked: {checked}");
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    assert!(checked >= 25, "{checked}");
}

// ---- 5. secrets and files ----

/// Every file under `root`, recursively (symlinks not followed).
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn no_command_prints_or_writes_a_secret_even_verbose() {
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/session+token=";
    let mock = MockGlacier::start_with(MockConfig {
        session_token: Some(TOKEN.into()),
        ..MockConfig::default()
    });
    let work = TempDir::new("hm-secrets");
    let data = work.join("xdg");
    let files = work.join("files");
    std::fs::create_dir_all(files.join("tree/sub")).expect("mkdir");
    std::fs::write(files.join("small.bin"), pattern(5000, 51)).expect("write");
    std::fs::write(files.join("big.bin"), pattern(3 * MIB + 1, 52)).expect("write");
    std::fs::write(files.join("tree/a.txt"), b"hello").expect("write");
    std::fs::write(files.join("tree/sub/b.bin"), pattern(70_000, 53)).expect("write");
    // A credentials file the tool reads: its mode and contents must not change.
    let creds = work.join("credentials");
    std::fs::write(
        &creds,
        format!(
            "[other]\naws_access_key_id = {}\naws_secret_access_key = {SECRET_KEY}\naws_session_token = {TOKEN}\n",
            crate::mock::ACCESS_KEY
        ),
    )
    .expect("write");
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let creds_before = std::fs::read(&creds).expect("read");

    let mut outputs = Vec::new();
    let go = |args: &[&str], code: i32, outputs: &mut Vec<String>| -> String {
        let r: Run = cmd(&mock, &data)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .current_dir(&files)
            .arg("--verbose")
            .args(args)
            .output()
            .expect("run")
            .into();
        assert_eq!(r.code, code, "{args:?}\n{}", r.stderr);
        outputs.push(format!("{args:?}\n{}\n{}", r.stdout, r.stderr));
        r.stdout.trim().to_string()
    };
    go(&["vault", "create", "v"], 0, &mut outputs);
    go(&["vault", "list"], 0, &mut outputs);
    go(&["vault", "describe", "v"], 0, &mut outputs);
    let small = go(&["upload", "v", "small.bin"], 0, &mut outputs);
    go(&["upload", "-p", "1", "v", "big.bin"], 0, &mut outputs);
    go(&["upload", "v", "tree", "small.bin"], 0, &mut outputs);
    // An upload that fails part-way leaves an upload (and its resume state) behind.
    mock.inject(FaultRule::always(
        Fault::Unavailable,
        Some("UploadMultipartPart"),
    ));
    go(
        &["upload", "--max-attempts", "1", "-p", "1", "v", "big.bin"],
        1,
        &mut outputs,
    );
    mock.clear_faults();
    let upload = mock.uploads("v")[0].upload_id.clone();
    go(&["uploads", "list", "v"], 0, &mut outputs);
    go(&["uploads", "parts", "v", &upload], 0, &mut outputs);
    let job = go(&["archive", "init-retrieval", "v", &small], 0, &mut outputs);
    go(&["jobs", "list", "v"], 0, &mut outputs);
    go(&["jobs", "describe", "v", &job], 0, &mut outputs);
    go(&["archive", "get", "v", &job, "got.bin"], 3, &mut outputs);
    mock.complete_jobs();
    // A download that fails part-way leaves its part file and log behind.
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    go(
        &[
            "archive",
            "get",
            "--max-attempts",
            "1",
            "v",
            &job,
            "got.bin",
        ],
        1,
        &mut outputs,
    );
    mock.clear_faults();
    go(&["archive", "get", "v", &job, "kept.bin"], 0, &mut outputs);
    go(&["archive", "get", "v", &job, "-"], 0, &mut outputs);
    go(&["uploads", "abort", "v", &upload], 0, &mut outputs);
    go(&["archive", "delete", "v", &small], 0, &mut outputs);
    go(&["vault", "delete", "v"], 1, &mut outputs);
    // Credentials from a profile in a file, the token with them.
    let r: Run = cmd(&mock, &data)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .args(["--verbose", "--profile", "other", "vault", "list"])
        .output()
        .expect("run")
        .into();
    r.ok();
    outputs.push(format!("{}\n{}", r.stdout, r.stderr));

    for text in &outputs {
        assert!(!text.contains(SECRET_KEY), "secret key printed:\n{text}");
        assert!(!text.contains(TOKEN), "session token printed:\n{text}");
        assert!(!text.contains("Signature="), "signature printed:\n{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    let written = files_under(work.path());
    let mut names = Vec::new();
    for p in &written {
        if *p == creds {
            continue;
        }
        let bytes = std::fs::read(p).expect("read");
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(SECRET_KEY), "secret key in {}", p.display());
        assert!(!hay.contains(TOKEN), "session token in {}", p.display());
        names.push(
            p.strip_prefix(work.path())
                .expect("under")
                .display()
                .to_string(),
        );
    }
    // The files the tool wrote are among those checked.
    for want in [
        "xdg/glacier-upload/receipts.jsonl",
        "files/got.bin.glacier-part.log",
        "files/kept.bin",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("xdg/glacier-upload/uploads/")),
        "{names:?}"
    );
    assert_eq!(
        check_receipts(&data.join("glacier-upload/receipts.jsonl")),
        3
    );
    check_states(&data);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&creds).expect("stat").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "credentials file mode changed");
    assert_eq!(std::fs::read(&creds).expect("read"), creds_before);
}

#[test]
fn concurrent_uploads_append_whole_receipt_lines() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-receipts");
    let receipts = dir.join("receipts.jsonl");
    let n = 12;
    std::thread::scope(|sc| {
        for i in 0..n {
            let (mock, dir, receipts) = (&mock, &dir, &receipts);
            sc.spawn(move || {
                let f = dir.join(&format!("f{i}.bin"));
                std::fs::write(&f, pattern(1000 + i, 60 + i as u64)).expect("write");
                run(
                    mock,
                    dir.path(),
                    &["upload", "--receipts", s(receipts), "v", s(&f)],
                )
                .ok();
            });
        }
    });
    assert_eq!(check_receipts(&receipts), n);
}

#[test]
fn downloads_never_write_through_a_symlink_without_force() {
    let dir = TempDir::new("hm-link");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(3 * MIB, 71);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    let precious = dir.join("precious.txt");
    std::fs::write(&precious, b"precious").expect("write");

    // A symlink at FILE is refused.
    let link = dir.join("link.bin");
    std::os::unix::fs::symlink(&precious, &link).expect("symlink");
    let r = run(&mock, dir.path(), &["archive", "get", "v", &job, s(&link)]);
    let err = r.fails(2);
    assert!(
        err.contains("symbolic link") && err.contains("link.bin"),
        "{err}"
    );
    assert_eq!(std::fs::read(&precious).expect("kept"), b"precious");

    // A symlink where the part file or its log goes is not followed either.
    for (target, planted) in [
        ("a.bin", "a.bin.glacier-part"),
        ("b.bin", "b.bin.glacier-part.log"),
    ] {
        let planted = dir.join(planted);
        std::os::unix::fs::symlink(&precious, &planted).expect("symlink");
        let out = dir.join(target);
        let r = run(
            &mock,
            dir.path(),
            &["archive", "get", "--chunk-size", "1", "v", &job, s(&out)],
        );
        assert_eq!(
            std::fs::read(&precious).expect("kept"),
            b"precious",
            "{}: {}",
            planted.display(),
            r.stderr
        );
        let err = r.fails(2);
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!out.exists());
    }

    // With --force the link itself is replaced, and its target still untouched.
    run(
        &mock,
        dir.path(),
        &["archive", "get", "--force", "v", &job, s(&link)],
    )
    .ok();
    assert_eq!(std::fs::read(&precious).expect("kept"), b"precious");
    assert!(
        !std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&link).expect("replaced"), data);
}
