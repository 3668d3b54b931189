//! `--limit-rate` through the real binary against the mock: paced uploads (one request
//! and multipart) and downloads (archive and inventory output, export) arrive byte-exact,
//! and the flag is taken exactly by the commands it is listed for. How close the achieved
//! rate comes to the asked one is measured by `benches/limit_rate.sh`, not here.

use crate::mock::MockGlacier;
use crate::support::{MIB, TempDir, count, glacier_mock, inventory_json, pattern, run, stored};

/// A rate that makes every body wait (more than a burst's worth is sent) yet keeps the
/// test short: 3 MiB at 16 MiB/s is about a fifth of a second.
const RATE: &str = "16M";

#[test]
fn paced_uploads_and_archive_gets_arrive_byte_exact() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lr1");
    let f = dir.join("data.bin");
    let data = pattern(3 * MIB + 7, 71);
    std::fs::write(&f, &data).expect("write");
    let fs = f.to_str().expect("utf8");

    // One request (the whole file in one body) and multipart (three threads sharing).
    let one = run(
        &mock,
        dir.path(),
        &["upload", "--limit-rate", RATE, "v", fs],
    );
    let one = one.ok().trim().to_string();
    assert_eq!(stored(&mock, "v", &one), data);
    let multi = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "-p",
            "1",
            "-t",
            "3",
            "--limit-rate",
            RATE,
            "v",
            fs,
        ],
    );
    let multi = multi.ok().trim().to_string();
    assert_eq!(stored(&mock, "v", &multi), data);
    assert_eq!(count(&mock, "UploadMultipartPart"), 4);

    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "--tier", "Bulk", "v", &multi],
    );
    let job = job.ok().trim().to_string();
    mock.complete_jobs();
    let out = dir.join("out.bin");
    let os = out.to_str().expect("utf8");
    let args = [
        "archive",
        "get",
        "--limit-rate",
        RATE,
        "--chunk-size",
        "1",
        "-t",
        "3",
        "v",
        &job,
        os,
    ];
    let r = run(&mock, dir.path(), &args);
    r.ok();
    assert_eq!(std::fs::read(&out).expect("written"), data);
    assert!(r.stderr.contains("matches Glacier's"), "{}", r.stderr);
    // And in one piece, to standard output.
    let o = glacier_mock(&mock, dir.path())
        .args(["archive", "get", "--limit-rate", "4M", "v", &job, "-"])
        .output()
        .expect("run glacier");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == data, "stdout differs from the archive");
}

#[test]
fn inventory_get_and_export_take_the_flag() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lr2");
    let a = pattern(2 * MIB + 1, 72);
    let b = pattern(10, 73);
    let ids = [
        mock.put_archive("v", &a, "a.bin"),
        mock.put_archive("v", &b, "b.bin"),
    ];
    mock.take_inventory("v");
    let job = run(&mock, dir.path(), &["inventory", "init-retrieval", "v"]);
    let job = job.ok().trim().to_string();
    mock.complete_jobs();
    let r = run(
        &mock,
        dir.path(),
        &[
            "inventory",
            "get",
            "--limit-rate",
            "1K",
            "--format",
            "csv",
            "v",
            &job,
        ],
    );
    let csv = r.ok();
    assert!(ids.iter().all(|id| csv.contains(id.as_str())), "{csv}");

    let inv = dir.join("inv.json");
    inventory_json(&mock, &inv);
    let out = dir.join("out");
    let (inv_s, o) = (inv.to_str().expect("utf8"), out.to_str().expect("utf8"));
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--limit-rate",
        RATE,
        "--inventory",
        inv_s,
        "v",
        o,
    ];
    assert_eq!(run(&mock, dir.path(), &args).code, 3, "jobs started");
    mock.complete_jobs();
    let r = run(&mock, dir.path(), &args);
    assert!(r.ok().contains("exported 2 of 2"), "{}", r.stdout);
    assert_eq!(std::fs::read(out.join("a.bin")).expect("a"), a);
    assert_eq!(std::fs::read(out.join("b.bin")).expect("b"), b);
}

#[test]
fn the_flag_is_refused_where_it_does_not_apply_and_a_bad_rate_everywhere() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lr3");
    let f = dir.join("x");
    std::fs::write(&f, b"x").expect("write");
    let fs = f.to_str().expect("utf8");
    // vault purge moves no archive bytes; archive delete neither.
    for args in [
        vec!["vault", "purge", "--limit-rate", "1M", "v"],
        vec!["archive", "delete", "--limit-rate", "1M", "v", "id"],
        vec!["vault", "list", "--limit-rate", "1M"],
    ] {
        let e = run(&mock, dir.path(), &args).fails(2).to_string();
        assert!(e.starts_with("glacier: unknown flag '--limit-rate'"), "{e}");
    }
    for rate in ["0", "0K", "20MB", "1.5M", "-3", "99999999999G"] {
        for cmd in [
            vec!["upload", "v", fs],
            vec!["archive", "get", "v", "job", "out"],
            vec!["inventory", "get", "v", "job"],
            vec!["vault", "export", "v", "out"],
        ] {
            let mut args = cmd.clone();
            args.extend(["--limit-rate", rate]);
            let e = run(&mock, dir.path(), &args).fails(2).to_string();
            assert_eq!(e.lines().count(), 1, "{e}");
            assert!(e.starts_with("glacier: --limit-rate '"), "{e}");
        }
    }
    assert_eq!(mock.requests().len(), 0, "nothing was sent");
}

#[test]
fn an_export_to_s3_under_a_limit_arrives_byte_exact() {
    // Glacier downloads and S3 uploads of one run share the limit (one `Arc` in both
    // clients); moto's S3 server on loopback, skipped only with GLACIER_SKIP_S3_TESTS=1.
    let Some((server, client)) = crate::s3_client::setup("limit-rate") else {
        return;
    };
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lr4");
    let a = pattern(6 * MIB + 3, 74);
    let b = pattern(10, 75);
    mock.put_archive("v", &a, "a.bin");
    mock.put_archive("v", &b, "b.bin");
    let inv = dir.join("inv.json");
    inventory_json(&mock, &inv);
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    let args = [
        "vault",
        "export",
        "--limit-rate",
        RATE,
        "--s3-endpoint-url",
        &endpoint,
        "--storage-class",
        "STANDARD",
        "--s3-part-size",
        "5M",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        "s3://limit-rate/p/",
    ];
    let mut first = args.to_vec();
    first.insert(2, "--no-wait");
    assert_eq!(run(&mock, dir.path(), &first).code, 3, "jobs started");
    mock.complete_jobs();
    let r = run(&mock, dir.path(), &args);
    assert!(r.ok().contains("exported 2 of 2"), "{}", r.stdout);
    let get = |key| crate::s3_client::get(&client, "limit-rate", key);
    assert!(get("p/a.bin") == a, "p/a.bin differs");
    assert_eq!(get("p/b.bin"), b);
}

#[test]
fn pacing_never_trips_the_deadline_of_a_request_body() {
    // A request with a body runs under one deadline, --timeout plus its length at the
    // minimum upload rate (here 1 GiB/s, so about --timeout alone). Two 1 MiB parts at
    // 512 KiB/s together take about 4 s, twice that: the deadline must allow for the
    // pacing, or the parts time out (one attempt only, so nothing hides it).
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lr5");
    let f = dir.join("data.bin");
    let data = pattern(2 * MIB, 76);
    std::fs::write(&f, &data).expect("write");
    let o = glacier_mock(&mock, dir.path())
        .env("GLACIER_MIN_UPLOAD_RATE", "1048576")
        .args(["--timeout", "2", "--max-attempts", "1", "upload"])
        .args(["-p", "1", "-t", "2", "--limit-rate", "512K", "v"])
        .arg(&f)
        .output()
        .expect("run glacier");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert_eq!(stored(&mock, "v", &id), data);
}
