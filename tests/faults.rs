//! The real binary against the mock under every fault kind the mock can inject, on
//! upload and on download, ending byte-identical; and faults that never clear, which end
//! in one error line and leave the work resumable.
//!
//! Sizes are CI-sized (a few MiB, 1 MiB parts and chunks); the only delays are
//! `Fault::Slow` responses.

use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, MockGlacier, RecordedRequest};
use crate::support::{MIB, TempDir, path_str, pattern, run, stored};

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
    args.extend(["upload", "-p", "1", "-t", "1", "v", path_str(&f)]);
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
        path_str(&out),
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

// ---- faults that never clear ----

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
            &[
                "upload",
                "--max-attempts",
                "3",
                "-p",
                "1",
                "v",
                path_str(&f),
            ],
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
        path_str(&out),
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
        path_str(&out),
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
