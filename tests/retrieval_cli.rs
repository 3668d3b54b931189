//! `glacier archive init-retrieval` and `archive get` through the real binary against
//! the mock: whole and ranged retrievals, verification, re-fetching, resume, refusal to
//! clobber, waiting, and job states.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::{MIB, TempDir, count, glacier_mock, pattern, run};

/// A vault with one archive of `data`, and a finished retrieval job for it (optionally
/// ranged). Returns (mock, archive ID, job ID).
fn retrieval(data: &[u8], range: Option<&str>, dir: &Path) -> (MockGlacier, String, String) {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let archive = mock.put_archive("v", data, "seed");
    let mut args = vec!["archive", "init-retrieval", "--tier", "Bulk"];
    if let Some(r) = range {
        args.extend(["--range", r]);
    }
    args.extend(["v", archive.as_str()]);
    let job = run(&mock, dir, &args).ok().trim().to_string();
    mock.complete_jobs();
    (mock, archive, job)
}

#[test]
fn whole_archive_in_parallel_chunks() {
    let dir = TempDir::new("rt1");
    let data = pattern(5 * MIB + 3, 21);
    let (mock, archive, job) = retrieval(&data, None, dir.path());
    assert!(
        archive.starts_with('-'),
        "the mock's first archive ID starts with '-'"
    );
    let out = dir.join("out.bin");
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--chunk-size",
            "1",
            "-t",
            "3",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    );
    r.ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    assert!(r.stderr.contains("matches Glacier's"), "{}", r.stderr);
    assert_eq!(count(&mock, "GetJobOutput"), 6);
    assert!(!dir.join("out.bin.glacier-part").exists());
    assert!(!dir.join("out.bin.glacier-part.log").exists());
}

#[test]
fn ranged_retrievals_aligned_and_not() {
    let dir = TempDir::new("rt2");
    let data = pattern(5 * MIB, 22);
    let (mock, _, job) = retrieval(&data, Some("1048576-3145727"), dir.path());
    let out = dir.join("a.bin");
    run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--chunk-size",
            "1",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("written"), &data[MIB..3 * MIB]);

    // A range that ends at the archive's (unaligned) end and is no node of the tree:
    // Glacier gives no tree hash for it.
    let data = pattern(5 * MIB + 3, 28);
    let (mock, _, job) = retrieval(&data, Some("1048576-5242882"), dir.path());
    let out = dir.join("b.bin");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, out.to_str().expect("utf8")],
    );
    r.ok();
    assert_eq!(std::fs::read(&out).expect("written"), &data[MIB..]);
    assert!(r.stderr.contains("computed locally"), "{}", r.stderr);
}

#[test]
fn tiny_archive_and_stdout() {
    let dir = TempDir::new("rt3");
    let data = pattern(100, 23);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    let out = dir.join("t.bin");
    run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, out.to_str().expect("utf8")],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    let o = glacier_mock(&mock, dir.path())
        .args(["archive", "get", "v", &job, "-"])
        .stdout(Stdio::piped())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, data);
}

#[test]
fn a_corrupt_chunk_is_fetched_again_and_a_permanently_corrupt_one_fails_cleanly() {
    let dir = TempDir::new("rt4");
    let data = pattern(4 * MIB, 24);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    mock.inject(FaultRule::times(Fault::Corrupt, Some("GetJobOutput"), 1));
    mock.inject(FaultRule::times(Fault::Truncate, Some("GetJobOutput"), 1));
    let out = dir.join("c.bin");
    run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--chunk-size",
            "1",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    assert_eq!(count(&mock, "GetJobOutput"), 4 + 2);

    mock.inject(FaultRule::always(Fault::Corrupt, Some("GetJobOutput")));
    let bad = dir.join("bad.bin");
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--chunk-size",
            "1",
            "v",
            &job,
            bad.to_str().expect("utf8"),
        ],
    );
    let err = r.fails(1);
    assert!(err.contains("after 5 attempts"), "{err}");
    assert!(!bad.exists(), "no partial file under the final name");
}

#[test]
fn an_interrupted_download_resumes_with_the_chunks_it_has() {
    let dir = TempDir::new("rt5");
    let data = pattern(8 * MIB, 25);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(80)),
        Some("GetJobOutput"),
    ));
    let out = dir.join("r.bin");
    let mut child = glacier_mock(&mock, dir.path())
        .args([
            "archive",
            "get",
            "--chunk-size",
            "1",
            "-t",
            "1",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let log = dir.join("r.bin.glacier-part.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&log).map_or(0, |s| s.lines().count()) < 3 {
        assert!(Instant::now() < deadline, "no chunks logged");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    assert!(!out.exists());
    let before = count(&mock, "GetJobOutput");
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--chunk-size",
            "1",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    );
    r.ok();
    assert!(r.stderr.contains("resumed: kept"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("written"), data);
    assert!(count(&mock, "GetJobOutput") - before < 8);
}

#[test]
fn existing_files_and_links_are_not_clobbered_without_force() {
    let dir = TempDir::new("rt6");
    let data = pattern(1000, 26);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    let out = dir.join("exists.bin");
    std::fs::write(&out, b"precious").expect("write");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, out.to_str().expect("utf8")],
    );
    assert!(r.fails(2).contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("kept"), b"precious");
    let link = dir.join("link.bin");
    std::os::unix::fs::symlink(&out, &link).expect("symlink");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, link.to_str().expect("utf8")],
    );
    assert!(r.fails(2).contains("symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("kept"), b"precious");
    run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--force",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("replaced"), data);
}

#[test]
fn job_states_wait_and_errors() {
    let dir = TempDir::new("rt7");
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(3),
        ..MockConfig::default()
    });
    mock.create_vault("v");
    let data = pattern(3 * MIB, 27);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    let out = dir.join("w.bin");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, out.to_str().expect("utf8")],
    );
    let err = r.fails(3);
    assert!(
        err.contains("not finished") && err.contains("--wait"),
        "{err}"
    );
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--wait",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    );
    r.ok();
    assert!(r.stderr.contains("InProgress"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).expect("written"), data);

    let unknown = "J".repeat(92);
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "v",
            &unknown,
            dir.join("u").to_str().expect("utf8"),
        ],
    );
    let err = r.fails(1);
    assert!(
        err.contains("ResourceNotFoundException") && err.contains(&unknown),
        "{err}"
    );

    mock.expire_job("v", &job);
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "--force",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    );
    assert!(
        r.fails(1).contains("ResourceNotFoundException"),
        "{}",
        r.stderr
    );

    for (args, want) in [
        (
            vec!["archive", "init-retrieval", "--tier", "Fast", "v", &archive],
            "--tier 'Fast'",
        ),
        (
            vec![
                "archive",
                "init-retrieval",
                "--range",
                "5-10",
                "v",
                &archive,
            ],
            "multiple of 1 MiB",
        ),
        (
            vec!["archive", "get", "--chunk-size", "3", "v", &job, "x"],
            "--chunk-size 3",
        ),
        (vec!["archive", "get", "v", &job], "missing FILE"),
    ] {
        let r = run(&mock, dir.path(), &args);
        assert!(r.fails(2).contains(want), "{args:?}: {}", r.stderr);
    }
}

/// A vault with three archives (one description with a comma, a quote and a newline)
/// and a finished inventory job in `format`.
fn inventory_job(format: &str, dir: &Path) -> (MockGlacier, Vec<String>, String) {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let ids = vec![
        mock.put_archive("v", &pattern(10, 31), "plain"),
        mock.put_archive("v", &pattern(2 * MIB, 32), "with, comma and \"quote\""),
        mock.put_archive("v", &pattern(5, 33), "third"),
    ];
    mock.take_inventory("v");
    let job = run(
        &mock,
        dir,
        &["inventory", "init-retrieval", "--format", format, "v"],
    )
    .ok()
    .trim()
    .to_string();
    (mock, ids, job)
}

#[test]
fn inventories_in_every_format() {
    let dir = TempDir::new("rt8");
    for format in ["JSON", "CSV"] {
        let (mock, ids, job) = inventory_job(format, dir.path());
        let r = run(&mock, dir.path(), &["inventory", "get", "v", &job]);
        assert!(r.fails(3).contains("not finished"), "{}", r.stderr);
        mock.complete_jobs();

        let table = run(&mock, dir.path(), &["inventory", "get", "v", &job]);
        let table = table.ok();
        for id in &ids {
            assert!(table.contains(id.as_str()), "{format}: {table}");
        }
        assert!(
            table.trim_end().ends_with("3 archives, 2.0 MiB total"),
            "{format}: {table}"
        );

        let jsonl = run(
            &mock,
            dir.path(),
            &["inventory", "get", "--format", "jsonl", "v", &job],
        );
        let rows: Vec<serde_json::Value> = jsonl
            .ok()
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(rows.len(), 3, "{format}");
        let quoted = rows
            .iter()
            .find(|r| r["archive_id"] == ids[1].as_str())
            .expect("second archive");
        assert_eq!(quoted["description"], "with, comma and \"quote\"");
        assert_eq!(quoted["size"], 2 * MIB);

        let csv = run(
            &mock,
            dir.path(),
            &["inventory", "get", "--format", "csv", "v", &job],
        );
        let csv = csv.ok();
        assert!(
            csv.starts_with("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash,Name\n"),
            "{csv}"
        );
        assert!(csv.contains("\"with, comma and \"\"quote\"\"\""), "{csv}");

        let json = run(
            &mock,
            dir.path(),
            &["inventory", "get", "--format", "json", "v", &job],
        );
        let doc: serde_json::Value = serde_json::from_str(json.ok()).expect("json document");
        assert_eq!(
            doc["ArchiveList"].as_array().map(Vec::len),
            Some(3),
            "{format}"
        );

        let saved = dir.join(&format!("inv.{format}"));
        let saved_s = saved.to_str().expect("utf8");
        run(
            &mock,
            dir.path(),
            &["inventory", "get", "-o", saved_s, "v", &job],
        )
        .ok();
        let raw = std::fs::read_to_string(&saved).expect("saved");
        assert_eq!(raw.starts_with('{'), format == "JSON", "{raw}");
        let r = run(
            &mock,
            dir.path(),
            &["inventory", "get", "-o", saved_s, "v", &job],
        );
        assert!(r.fails(2).contains("--force"), "{}", r.stderr);
    }
}

#[test]
fn inventory_mistakes() {
    let dir = TempDir::new("rt9");
    let (mock, ids, job) = inventory_job("JSON", dir.path());
    mock.complete_jobs();
    for (args, want) in [
        (
            vec!["inventory", "init-retrieval", "--format", "XML", "v"],
            "--format 'XML'",
        ),
        (
            vec![
                "inventory",
                "init-retrieval",
                "--start-date",
                "yesterday",
                "v",
            ],
            "--start-date 'yesterday'",
        ),
        (
            vec![
                "inventory",
                "init-retrieval",
                "--start-date",
                "2026-02-01",
                "--end-date",
                "2026-01-01",
                "v",
            ],
            "not before",
        ),
        (
            vec!["inventory", "get", "--format", "yaml", "v", &job],
            "--format 'yaml'",
        ),
        (
            vec!["inventory", "get", "--format", "csv", "-o", "x", "v", &job],
            "--output",
        ),
    ] {
        let r = run(&mock, dir.path(), &args);
        assert!(r.fails(2).contains(want), "{args:?}: {}", r.stderr);
    }
    // An archive job is not an inventory, and the other way round.
    let archive_job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &ids[0]],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    let r = run(&mock, dir.path(), &["inventory", "get", "v", &archive_job]);
    assert!(r.fails(1).contains("glacier archive get"), "{}", r.stderr);
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "get",
            "v",
            &job,
            dir.join("x").to_str().expect("utf8"),
        ],
    );
    assert!(r.fails(1).contains("glacier inventory get"), "{}", r.stderr);
}

#[test]
fn init_retrieval_wait_prints_the_job_id_first_then_waits() {
    let dir = TempDir::new("rt10");
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(2),
        ..MockConfig::default()
    });
    mock.create_vault("v");
    let archive = mock.put_archive("v", &pattern(10, 34), "seed");
    mock.take_inventory("v");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "--wait", "v", &archive],
    );
    let job = r.ok().trim().to_string();
    assert_eq!(job.len(), 92, "{}", r.stdout);
    assert!(r.stderr.contains("InProgress"), "{}", r.stderr);
    let r = run(
        &mock,
        dir.path(),
        &["--json", "inventory", "init-retrieval", "--wait", "v"],
    );
    let v: serde_json::Value = serde_json::from_str(r.ok().trim()).expect("json");
    assert_eq!(v["job"]["status_code"], "Succeeded");
}

/// `--timeout` bounds silence, not a whole body: a job output that keeps arriving, only
/// slowly, is fetched however long it takes in all.
#[test]
fn a_slow_body_that_keeps_coming_arrives_under_a_short_timeout() {
    let dir = TempDir::new("rt11");
    let data = pattern(2 * MIB, 35);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    // 4 pieces, 400 ms apart: 1.2 s in all against `--timeout 1`, never silent 1 s.
    let paced = Fault::Paced {
        pieces: 4,
        gap: Duration::from_millis(400),
    };
    mock.inject(FaultRule::times(paced.clone(), Some("GetJobOutput"), 1));
    let out = dir.join("slow.bin");
    run(
        &mock,
        dir.path(),
        &[
            "--timeout",
            "1",
            "archive",
            "get",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    assert_eq!(count(&mock, "GetJobOutput"), 1, "fetched in one go");

    let (mock, _, job) = inventory_job("JSON", dir.path());
    mock.complete_jobs();
    mock.inject(FaultRule::times(paced, Some("GetJobOutput"), 1));
    let saved = dir.join("inv-slow.json");
    let saved_s = saved.to_str().expect("utf8");
    run(
        &mock,
        dir.path(),
        &[
            "--timeout",
            "1",
            "inventory",
            "get",
            "-o",
            saved_s,
            "v",
            &job,
        ],
    )
    .ok();
    assert_eq!(count(&mock, "GetJobOutput"), 1, "fetched in one go");
    assert!(
        std::fs::read_to_string(&saved)
            .expect("saved")
            .contains("ArchiveList")
    );
}

/// A body that goes silent for longer than `--timeout` is abandoned and fetched again.
#[test]
fn a_body_that_stalls_longer_than_the_timeout_is_fetched_again() {
    let dir = TempDir::new("rt12");
    let data = pattern(2 * MIB, 36);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    mock.inject(FaultRule::times(
        Fault::Paced {
            pieces: 2,
            gap: Duration::from_millis(2500),
        },
        Some("GetJobOutput"),
        1,
    ));
    let out = dir.join("stall.bin");
    run(
        &mock,
        dir.path(),
        &[
            "--timeout",
            "1",
            "archive",
            "get",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    // Had the client sat out the 2.5 s of silence, the body would have arrived whole on
    // the first request: a second request shows it gave up on the stall and re-fetched
    // (no wall-clock assertion, which a loaded machine would make flaky).
    assert_eq!(
        count(&mock, "GetJobOutput"),
        2,
        "stalled once, fetched again"
    );
}

/// Two `archive get` runs to the same FILE would write the same part file and log: the
/// second refuses with one line while the first runs.
#[test]
fn a_second_download_to_the_same_file_is_refused_while_the_first_runs() {
    let dir = TempDir::new("rt13");
    let data = pattern(4 * MIB, 37);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(150)),
        Some("GetJobOutput"),
    ));
    let out = dir.join("locked.bin");
    let out_s = out.to_str().expect("utf8");
    let args = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "1",
        "v",
        &job,
        out_s,
    ];
    let mut first = glacier_mock(&mock, dir.path())
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let log = dir.join("locked.bin.glacier-part.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&log).map_or(0, |s| s.lines().count()) < 2 {
        assert!(Instant::now() < deadline, "first download never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = run(&mock, dir.path(), &args);
    let err = r.fails(2);
    assert!(err.contains("another download to"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(first.wait().expect("first ends").success());
    assert_eq!(std::fs::read(&out).expect("first wrote"), data);
    assert!(!dir.join("locked.bin.glacier-part.lock").exists());
}

/// A symbolic link planted where `inventory get -o` puts its temporary file would make
/// it truncate the file the link points to: refused, the other file untouched.
#[test]
fn inventory_get_output_never_writes_through_a_planted_link() {
    let dir = TempDir::new("rt14");
    let (mock, _, job) = inventory_job("JSON", dir.path());
    mock.complete_jobs();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"precious").expect("victim");
    let saved = dir.join("inv.json");
    std::os::unix::fs::symlink(&victim, dir.join("inv.json.glacier-part")).expect("link");
    let saved_s = saved.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &["inventory", "get", "-o", saved_s, "v", &job],
    );
    let err = r.fails(2);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
    assert!(!saved.exists());
}

/// Output to stdout cannot be renamed into place after a check, so stderr says whether
/// the whole was verified.
#[test]
fn archive_get_to_stdout_says_whether_the_whole_was_verified() {
    let dir = TempDir::new("rt15");
    let data = pattern(3 * MIB, 38);
    let (mock, _, job) = retrieval(&data, None, dir.path());
    let o = glacier_mock(&mock, dir.path())
        .args(["archive", "get", "v", &job, "-"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, data);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("the whole output is verified"), "{err}");
}

/// `archive init-retrieval --name PATH --inventory FILE` starts the job for the archive
/// that `vault export` (and `inventory get`) names PATH, suffixed names included; an
/// unknown name is bad input (exit 2) and sends nothing.
#[test]
fn init_retrieval_by_export_name_through_a_saved_inventory() {
    let dir = TempDir::new("rt-name");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let plain = pattern(10, 41);
    let twin_a = pattern(11, 42);
    let twin_b = pattern(12, 43);
    mock.put_archive("v", &plain, "photos/a.jpg");
    mock.put_archive("v", &twin_a, "twin.txt");
    mock.put_archive("v", &twin_b, "twin.txt");
    mock.take_inventory("v");
    let job = run(&mock, dir.path(), &["inventory", "init-retrieval", "v"]);
    let job = job.ok().trim().to_string();
    mock.complete_jobs();
    let inv = dir.join("inv.json");
    let inv_s = inv.to_str().expect("utf8");
    run(
        &mock,
        dir.path(),
        &["inventory", "get", "-o", inv_s, "v", &job],
    )
    .ok();
    let rows = run(
        &mock,
        dir.path(),
        &["inventory", "get", "--format", "jsonl", "v", &job],
    );
    let names: Vec<String> = rows
        .ok()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["name"].as_str().expect("name").to_string()
        })
        .collect();
    assert_eq!(names[0], "photos/a.jpg", "{names:?}");
    assert!(
        names[1].starts_with("twin") && names[1] != "twin.txt" && names[1] != names[2],
        "shared names are suffixed: {names:?}"
    );

    // Each name starts a job for its own archive: its output is that archive's bytes.
    for (name, data) in [(&names[0], &plain), (&names[2], &twin_b)] {
        let started = run(
            &mock,
            dir.path(),
            &[
                "archive",
                "init-retrieval",
                "--name",
                name,
                "--inventory",
                inv_s,
                "v",
            ],
        );
        let job = started.ok().trim().to_string();
        assert!(started.stderr.contains(name.as_str()), "{}", started.stderr);
        mock.complete_jobs();
        let out = dir.join("out.bin");
        let _ = std::fs::remove_file(&out);
        run(
            &mock,
            dir.path(),
            &["archive", "get", "v", &job, out.to_str().expect("utf8")],
        )
        .ok();
        assert_eq!(&std::fs::read(&out).expect("written"), data, "{name}");
    }

    // The unsuffixed shared name is no archive's name; nor is an unknown one.
    let before = count(&mock, "InitiateJob");
    for name in ["twin.txt", "nope.txt"] {
        let r = run(
            &mock,
            dir.path(),
            &[
                "archive",
                "init-retrieval",
                "--name",
                name,
                "--inventory",
                inv_s,
                "v",
            ],
        );
        let e = crate::support::fails_once(&r, 2);
        assert!(e.contains(name) && e.contains("--name"), "{e}");
    }
    assert_eq!(count(&mock, "InitiateJob"), before, "nothing sent");

    // --name without --inventory, and both a name and an ID, are usage errors.
    let r = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "--name", "x", "v"],
    );
    assert!(crate::support::fails_once(&r, 2).contains("--inventory"));
    let r = run(
        &mock,
        dir.path(),
        &[
            "archive",
            "init-retrieval",
            "--name",
            "x",
            "--inventory",
            inv_s,
            "v",
            "id",
        ],
    );
    assert!(crate::support::fails_once(&r, 2).contains("unexpected argument"));
    assert_eq!(count(&mock, "InitiateJob"), before, "nothing sent");
}
