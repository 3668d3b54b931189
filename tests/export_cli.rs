//! `glacier vault export` through the real binary against the mock: names from hostile
//! and tool-written descriptions, byte-identical output, the journal across kill -9,
//! expired jobs, shards, inventory files, dry runs and waiting.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier};
use crate::support::{
    TempDir, count, glacier_mock, inventory_json, jobs_per_archive, mock_client, pattern, run,
    stderr_lines,
};

fn b64url(s: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for ch in s.chunks(3) {
        let n = ch.len();
        let mut b = [0u8; 3];
        b[..n].copy_from_slice(ch);
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=n {
            out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Descriptions as vaults hold them: plain names, repeats, other tools' formats, and
/// hostile paths.
fn description(i: usize) -> String {
    match i % 10 {
        0 => format!("docs/file{i}.txt"),
        1 => "same-name.bin".to_string(),
        2 => format!(
            "mt2 {}",
            b64url(format!(r#"{{"filename":"mt/{i}.dat","mtime":"20130227T205137Z"}}"#).as_bytes())
        ),
        3 => format!(
            "<m><v>4</v><p>{}</p><lm>20120821T170824Z</lm></m>",
            b64url(format!("fg\\dir\\{i}.pdf").as_bytes())
        ),
        4 => format!("../../escape{i}"),
        5 => format!("/etc/abs{i}"),
        6 => format!("C:\\win\\{i}.doc"),
        7 => String::new(),
        8 => "..".to_string(),
        _ => format!("deep/a/b/c/{i}"),
    }
}

/// A vault `v` with `n` small archives; returns their data by archive ID.
fn seed(mock: &MockGlacier, n: usize) -> HashMap<String, Vec<u8>> {
    mock.create_vault("v");
    (0..n)
        .map(|i| {
            let data = pattern(1 + (i * 997) % 6000, i as u64);
            let id = mock.put_archive("v", &data, &description(i));
            (id, data)
        })
        .collect()
}

/// The vault's inventory as Glacier's CSV.
fn inventory_csv(mock: &MockGlacier, path: &Path) {
    let mut s = String::from("ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n");
    for a in mock.archives("v") {
        s.push_str(&format!(
            "{},\"{}\",{},{},{}\n",
            a.archive_id,
            a.description.replace('"', "\"\""),
            a.creation_date,
            a.size,
            a.tree_hash
        ));
    }
    std::fs::write(path, s).expect("write inventory");
}

/// Archive ID → (path, status) from the JSON-lines manifest.
fn manifest(dir: &Path) -> HashMap<String, (String, String)> {
    std::fs::read_to_string(dir.join("glacier-export-manifest.jsonl"))
        .expect("manifest")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                v["archive_id"].as_str().expect("id").to_string(),
                (
                    v["path"].as_str().expect("path").to_string(),
                    v["status"].as_str().expect("status").to_string(),
                ),
            )
        })
        .collect()
}

/// Every exported file is the archive's bytes, inside DIR.
fn check_exported(dir: &Path, data: &HashMap<String, Vec<u8>>) {
    let m = manifest(dir);
    assert_eq!(m.len(), data.len());
    let mut paths = HashSet::new();
    let root = dir.canonicalize().expect("dir");
    for (id, (path, status)) in &m {
        assert_eq!(status, "exported", "{id} {path}");
        assert!(paths.insert(path.clone()), "two archives named {path}");
        let file = dir.join(path);
        assert!(
            file.canonicalize().expect("exists").starts_with(&root),
            "{path}"
        );
        assert_eq!(&std::fs::read(&file).expect("read"), &data[id], "{path}");
    }
}

#[test]
fn hundreds_of_archives_with_hostile_names_exported_byte_identical() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-home");
    let data = seed(&mock, 240);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let o = out.to_str().expect("utf8");
    let inv_s = inv.to_str().expect("utf8");
    let args = ["vault", "export", "--no-wait", "--inventory", inv_s, "v", o];
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 240);
    assert_eq!(
        count(&mock, "DescribeJob"),
        0,
        "finished jobs come from ListJobs"
    );
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    r.ok();
    assert!(r.stdout.contains("exported 240 of 240"), "{}", r.stdout);
    assert_eq!(count(&mock, "InitiateJob"), 240, "no second retrieval");
    check_exported(&out, &data);
    // Nothing escaped: no file named escape*/abs* outside DIR, and the hostile ones
    // are named by ID or made relative.
    assert!(!home.join("escape4").exists());
    let m = manifest(&out);
    let names: HashSet<&str> = m.values().map(|(p, _)| p.as_str()).collect();
    assert!(names.contains("etc/abs5"), "{names:?}");
    assert!(names.contains("win/6.doc"));
    assert!(names.contains("fg/dir/3.pdf"));
    assert!(names.contains("mt/2.dat"));
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("same-name.") && n.ends_with(".bin"))
    );
    // mt2's mtime is restored.
    let mt = std::fs::metadata(out.join("mt/2.dat")).expect("mt");
    let secs = mt
        .modified()
        .expect("mtime")
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    assert_eq!(secs, 1_361_998_297);
    // A third run does nothing and still succeeds.
    let r = run(&mock, home.path(), &args);
    r.ok();
    assert_eq!(count(&mock, "InitiateJob"), 240);
    // The CSV manifest has a header and one row per archive.
    let csv = std::fs::read_to_string(out.join("glacier-export-manifest.csv")).expect("csv");
    assert!(csv.starts_with("archive_id,path,size,tree_hash,creation_date,description,status\n"));
    assert_eq!(csv.lines().count(), 241);
}

/// Waits (with a deadline) until `op` has been requested at least `n` times, or the
/// child has exited.
fn wait_for(mock: &MockGlacier, child: &mut std::process::Child, op: &str, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if count(mock, op) >= n {
            return true;
        }
        if child.try_wait().expect("try_wait").is_some() {
            return false;
        }
        std::thread::yield_now();
    }
    false
}

#[test]
fn kill_9_at_random_points_never_starts_a_second_retrieval() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-kill");
    let data = seed(&mock, 60);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--max-jobs",
        "7",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    // Deterministic "random" kill points: after this many more requests of each kind.
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |m: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        1 + rng % m
    };
    for round in 0..12 {
        let mut child = glacier_mock(&mock, home.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let op = if round % 2 == 0 {
            "InitiateJob"
        } else {
            "GetJobOutput"
        };
        // Once every archive has its job, only downloads are left to interrupt.
        let op = if count(&mock, "InitiateJob") >= 60 {
            "GetJobOutput"
        } else {
            op
        };
        if round > 0 {
            mock.complete_jobs();
        }
        let target = count(&mock, op) + next(6) as usize;
        let reached = wait_for(&mock, &mut child, op, target);
        child.kill().expect("kill -9");
        let _ = child.wait();
        if !reached {
            // Everything this round could do was done; finish the jobs and go on.
            mock.complete_jobs();
        }
    }
    // Finally let it run to the end, completing jobs as they appear.
    let mut child = glacier_mock(&mock, home.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        mock.complete_jobs();
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "export did not finish");
        std::thread::yield_now();
    };
    let o = child.wait_with_output().expect("output");
    assert!(status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_exported(&out, &data);
    let per = jobs_per_archive(&mock);
    assert_eq!(per.len(), 60);
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}

#[test]
fn an_expired_job_is_started_again_and_said_so() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-exp");
    let data = seed(&mock, 3);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    let jobs = mock_client(&mock).list_jobs("v", None, None).expect("jobs");
    assert_eq!(jobs.len(), 3);
    mock.expire_job("v", jobs[0].job_id.as_deref().expect("job id"));
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("expired"), "{}", r.stderr);
    assert!(r.stdout.contains("1 restarts"), "{}", r.stdout);
    assert_eq!(count(&mock, "InitiateJob"), 4);
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
    assert_eq!(count(&mock, "InitiateJob"), 4);
}

#[test]
fn shards_together_give_the_whole_vault_disjoint_and_same_names() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-shard");
    let data = seed(&mock, 45);
    let inv = home.join("inv.csv");
    inventory_csv(&mock, &inv);
    let whole = home.join("whole");
    let dry = run(
        &mock,
        home.path(),
        &[
            "--json",
            "vault",
            "export",
            "--dry-run",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            whole.to_str().expect("utf8"),
        ],
    );
    let plan: serde_json::Value = serde_json::from_str(dry.ok()).expect("json");
    assert_eq!(plan["archives"], 45);
    let mut seen: HashMap<String, String> = HashMap::new();
    for k in 1..=3 {
        let dir = home.join(&format!("s{k}"));
        let shard = format!("{k}/3");
        let args = [
            "vault",
            "export",
            "--no-wait",
            "--shard",
            &shard,
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            dir.to_str().expect("utf8"),
        ];
        let _ = run(&mock, home.path(), &args);
        mock.complete_jobs();
        run(&mock, home.path(), &args).ok();
        for (id, (path, status)) in manifest(&dir) {
            assert_eq!(status, "exported");
            assert_eq!(std::fs::read(dir.join(&path)).expect("file"), data[&id]);
            assert!(seen.insert(id, path).is_none(), "archive in two shards");
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(count(&mock, "InitiateJob"), 45);
    // Names do not depend on sharding: an unsharded export names them the same.
    run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--no-wait",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            whole.to_str().expect("utf8"),
        ],
    );
    mock.complete_jobs();
    run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--no-wait",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            whole.to_str().expect("utf8"),
        ],
    )
    .ok();
    for (id, (path, _)) in manifest(&whole) {
        assert_eq!(seen[&id], path);
    }
}

#[test]
fn dry_run_sends_no_initiate_job_and_counts() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-dry");
    seed(&mock, 20);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--dry-run",
            "--include",
            "**/*.txt",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            out.to_str().expect("utf8"),
        ],
    );
    r.ok();
    assert!(
        r.stdout.contains("2 of 20 archives in scope"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("would send 2 InitiateJob"),
        "{}",
        r.stdout
    );
    // And the same cost and risk summary `vault plan` prints, for the same selection.
    for want in [
        "vault 'v': 2 of 20 archives in scope",
        "retrieval (one request per archive):",
        "for 2 requests",
        "purge now:",
        "risks:",
        "prices: us-east-1 list prices",
    ] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
    // With --json the summary is the object's `plan`.
    let r = run(
        &mock,
        home.path(),
        &[
            "--json",
            "vault",
            "export",
            "--dry-run",
            "--include",
            "**/*.txt",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            out.to_str().expect("utf8"),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v["plan"]["archives"], 2, "{v}");
    assert_eq!(v["plan"]["inventory_archives"], 20, "{v}");
    assert_eq!(count(&mock, "InitiateJob"), 0);
    assert!(!out.exists(), "a dry run creates nothing");
    // Without an inventory, a dry run refuses rather than start an inventory job.
    let r = run(
        &mock,
        home.path(),
        &[
            "vault",
            "export",
            "--dry-run",
            "v",
            out.to_str().expect("utf8"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--inventory"), "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 0);
}

#[test]
fn new_inventory_job_is_journaled_and_waiting_export_finishes() {
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(1),
        ..MockConfig::default()
    });
    let home = TempDir::new("ex-inv");
    let data = seed(&mock, 12);
    // Glacier inventories a vault about once a day; an inventory job needs one.
    mock.take_inventory("v");
    let out = home.join("out");
    let o = out.to_str().expect("utf8");
    // Throttled InitiateJob is retried, not fatal.
    mock.inject(FaultRule::times(Fault::Throttle, Some("InitiateJob"), 3));
    let mut child = glacier_mock(&mock, home.path())
        .args(["vault", "export", "--max-jobs", "5", "v", o])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if count(&mock, "InitiateJob") > 1 {
            mock.complete_jobs();
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "export did not finish");
        std::thread::yield_now();
    };
    let o2 = child.wait_with_output().expect("output");
    assert!(status.success(), "{}", String::from_utf8_lossy(&o2.stderr));
    check_exported(&out, &data);
    let inventory_jobs = mock
        .requests()
        .iter()
        .filter(|r| r.operation == "InitiateJob" && r.status == 202)
        .count();
    assert_eq!(inventory_jobs, 13, "one inventory job and one per archive");
    // A rerun reuses the saved inventory: no new job of any kind.
    run(&mock, home.path(), &["vault", "export", "v", o]).ok();
    let after = mock
        .requests()
        .iter()
        .filter(|r| r.operation == "InitiateJob" && r.status == 202)
        .count();
    assert_eq!(after, 13);
}

#[test]
fn bad_flags_are_usage_errors_naming_the_flag() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-usage");
    for (args, needle) in [
        (vec!["--shard", "4/3"], "--shard"),
        (vec!["--tier", "Fast"], "--tier"),
        (vec!["--include", "[a"], "--include"),
        (vec!["--created-after", "yesterday"], "--created-after"),
        (vec!["--max-pending", "5Q"], "--max-pending"),
        (
            vec!["--inventory", "a", "--inventory-job", "b"],
            "--inventory",
        ),
    ] {
        let mut a = vec!["vault", "export"];
        a.extend(args);
        a.extend(["v", "out"]);
        let r = run(&mock, home.path(), &a);
        assert_eq!(r.code, 2, "{a:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{a:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    }
}

#[test]
fn an_archive_that_differs_from_the_inventory_fails_and_is_listed() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-bad");
    seed(&mock, 4);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // The inventory claims another hash for the first archive than Glacier has.
    let text = std::fs::read_to_string(&inv).expect("inventory");
    let a = &mock.archives("v")[0];
    std::fs::write(&inv, text.replace(&a.tree_hash, &"0".repeat(64))).expect("write");
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let _ = run(&mock, home.path(), &args);
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&a.archive_id), "{}", r.stderr);
    let m = manifest(&out);
    let (path, status) = &m[&a.archive_id];
    assert_eq!(status, "failed");
    assert!(
        !out.join(path).exists(),
        "nothing unverified under its name"
    );
    assert_eq!(m.values().filter(|(_, s)| s == "exported").count(), 3);
}

#[test]
fn a_job_started_but_never_journaled_is_adopted_not_paid_twice() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-adopt");
    let data = seed(&mock, 5);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // As if a run was killed between InitiateJob's answer and its journal line.
    let a = mock.archives("v")[2].archive_id.clone();
    let req = glacier_upload::glacier::JobRequest {
        kind: "archive-retrieval".into(),
        archive_id: Some(a.clone()),
        tier: Some("Bulk".into()),
        ..Default::default()
    };
    mock_client(&mock).initiate_job("v", &req).expect("job");
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("found in the vault"), "{}", r.stderr);
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
    assert_eq!(
        count(&mock, "InitiateJob"),
        5,
        "4 by the export, 1 before it"
    );
    assert!(jobs_per_archive(&mock).values().all(|&n| n == 1));
}

#[test]
fn a_second_export_on_the_same_dir_is_refused() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-lock");
    let data = seed(&mock, 3);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    std::fs::create_dir_all(out.join(".glacier-export")).expect("state dir");
    // Another run holds the journal, as a running export does.
    let held = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join(".glacier-export/journal.jsonl"))
        .expect("journal");
    held.try_lock().expect("lock");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let r = run(&mock, home.path(), &args);
    let err = r.fails(2);
    assert!(err.contains("another run is using the journal"), "{err}");
    assert!(err.contains("journal.jsonl"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(count(&mock, "InitiateJob"), 0);
    drop(held);
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
}

#[test]
fn a_full_disk_stops_the_run_resumably_saying_how_much_space_is_needed() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-full");
    let data = seed(&mock, 3);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    // 1 MiB free: below the 64 MiB margin the export keeps, whatever the archive.
    let r: crate::support::Run = crate::support::glacier_mock(&mock, home.path())
        .env("GLACIER_TEST_FREE_BYTES", "1048576")
        .args(args)
        .output()
        .expect("run glacier")
        .into();
    let err = r.fails(1);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("1.0 MiB free"), "{err}");
    assert!(err.contains("needed for archive"), "{err}");
    assert!(err.contains("run the same command again"), "{err}");
    assert!(err.contains(out.to_str().expect("utf8")), "{err}");
    assert_eq!(
        count(&mock, "GetJobOutput"),
        0,
        "stopped before downloading"
    );
    let m = manifest(&out);
    assert!(m.values().all(|(_, s)| s != "exported"), "{m:?}");
    // Space is back: the rerun finishes with the jobs it has, paying for none again.
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
    assert_eq!(count(&mock, "InitiateJob"), 3);
}

#[test]
fn an_archive_named_like_another_ones_directory_is_renamed_in_either_order() {
    for order in [["a", "a/b"], ["a/b", "a"]] {
        let mock = MockGlacier::start();
        let home = TempDir::new("ex-dirclash");
        mock.create_vault("v");
        let data: HashMap<String, Vec<u8>> = order
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let bytes = pattern(100 + i, i as u64);
                (mock.put_archive("v", &bytes, d), bytes)
            })
            .collect();
        let inv = home.join("inv.json");
        inventory_json(&mock, &inv);
        let out = home.join("out");
        let args = [
            "vault",
            "export",
            "--no-wait",
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            out.to_str().expect("utf8"),
        ];
        assert_eq!(run(&mock, home.path(), &args).code, 3);
        mock.complete_jobs();
        run(&mock, home.path(), &args).ok();
        check_exported(&out, &data);
        let m = manifest(&out);
        let mut names: Vec<&str> = m.values().map(|(p, _)| p.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names.len(), 2);
        assert_eq!(names[1], "a/b", "{order:?}");
        assert!(
            names[0].starts_with("a.") && names[0].ends_with('Z'),
            "{names:?}"
        );
    }
}

#[test]
fn a_symlink_inside_dir_is_refused_never_followed() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-link");
    mock.create_vault("v");
    let descs = ["a/b", "c", "d/e"];
    let data: Vec<(String, Vec<u8>)> = descs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let bytes = pattern(50 + i, i as u64);
            (mock.put_archive("v", &bytes, d), bytes)
        })
        .collect();
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let elsewhere = home.join("elsewhere");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    // DIR/a leads out of DIR; DIR/c is a link to a file out of DIR.
    std::os::unix::fs::symlink(&elsewhere, out.join("a")).expect("link a");
    std::fs::write(elsewhere.join("target"), b"keep").expect("target");
    std::os::unix::fs::symlink(elsewhere.join("target"), out.join("c")).expect("link c");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    let err = r.fails(1);
    for (name, (id, _)) in descs.iter().zip(&data).take(2) {
        assert!(
            err.lines().any(|l| l.contains(id.as_str())
                && l.contains(name)
                && l.contains("symbolic link")),
            "{name}: {err}"
        );
    }
    // Nothing went through the links, and the links are left as they were.
    let mut outside: Vec<_> = std::fs::read_dir(&elsewhere)
        .expect("elsewhere")
        .map(|e| e.expect("entry").file_name())
        .collect();
    outside.sort();
    assert_eq!(outside, ["target"]);
    assert_eq!(
        std::fs::read(elsewhere.join("target")).expect("target"),
        b"keep"
    );
    assert!(out.join("a").symlink_metadata().expect("a").is_symlink());
    assert!(out.join("c").symlink_metadata().expect("c").is_symlink());
    // The archive with a clean way is exported.
    assert_eq!(std::fs::read(out.join("d/e")).expect("d/e"), data[2].1);
    let m = manifest(&out);
    assert_eq!(m[&data[2].0].1, "exported");
    assert_ne!(m[&data[0].0].1, "exported");
}

#[test]
fn a_job_output_gone_at_download_is_journaled_lost_and_started_again() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-lost");
    let data = seed(&mock, 1);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    let job = mock_client(&mock).list_jobs("v", None, None).expect("jobs")[0]
        .job_id
        .clone()
        .expect("job id");
    // The run's poll (one job outstanding: DescribeJob) finds the job succeeded and is
    // held while the job's output expires, so the download itself meets the 404.
    let before = count(&mock, "DescribeJob");
    let gate = crate::mock::Gate::new();
    mock.inject(FaultRule::times(
        Fault::Hold(gate.clone()),
        Some("DescribeJob"),
        1,
    ));
    let mut child = crate::support::glacier_mock(&mock, home.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(wait_for(&mock, &mut child, "DescribeJob", before + 1));
    mock.expire_job("v", &job);
    gate.open();
    let r: crate::support::Run = child.wait_with_output().expect("wait").into();
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("expired (output gone)"), "{}", r.stderr);
    assert_eq!(count(&mock, "GetJobOutput"), 1);
    // Journaled as lost: the next run starts one new retrieval, and only one.
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    assert_eq!(count(&mock, "InitiateJob"), 2);
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
    assert_eq!(count(&mock, "InitiateJob"), 2);
}

#[test]
fn ctrl_c_during_downloads_stops_cleanly_and_the_rerun_finishes() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-int");
    let data = seed(&mock, 4);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "-t",
        "1",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    // The first download is held until the signal is taken; one thread, so no other
    // starts.
    let gate = crate::mock::Gate::new();
    mock.inject(FaultRule::times(
        Fault::Hold(gate.clone()),
        Some("GetJobOutput"),
        1,
    ));
    let mut child = crate::support::glacier_mock(&mock, home.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (lines, stderr) = stderr_lines(&mut child);
    assert!(
        wait_for(&mock, &mut child, "GetJobOutput", 1),
        "ended early"
    );
    // `kill` returning means the signal is queued, not that the process has set its stop
    // flag (the signal watcher thread does that): a download that ended before then may
    // take the next one. The note is printed once the flag is set.
    let r = crate::support::interrupt(
        child,
        stderr,
        &lines,
        "INT",
        "interrupted: no new retrieval or download starts",
        || gate.open(),
    );
    let e = r.fails(130);
    assert!(e.contains("run the same command again to continue"), "{e}");
    assert_eq!(
        count(&mock, "GetJobOutput"),
        1,
        "nothing new scheduled after Ctrl-C"
    );
    // Resumable: the rerun downloads the rest with the jobs it has.
    run(&mock, home.path(), &args).ok();
    check_exported(&out, &data);
    assert_eq!(count(&mock, "InitiateJob"), 4);
}

/// Review finding: the adoption list kept only the last job listed per archive, so a
/// ranged retrieval of the same archive (a user's own `retrieval --range`) listed after
/// the whole-archive job a killed run had started hid it, and a second whole retrieval
/// was paid for.
#[test]
fn a_ranged_job_listed_later_does_not_hide_an_adoptable_whole_one() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-adopt-range");
    mock.create_vault("v");
    // Over 1 MiB, so that a 1 MiB-aligned partial range exists ("Initiate Job",
    // RetrievalByteRange).
    let big = pattern((1 << 20) + 4096, 7);
    let a = mock.put_archive("v", &big, "big.bin");
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let client = mock_client(&mock);
    // The whole retrieval a killed export started, then the user's ranged one.
    for range in [None, Some("0-1048575".to_string())] {
        let req = glacier_upload::glacier::JobRequest {
            kind: "archive-retrieval".into(),
            archive_id: Some(a.clone()),
            tier: Some("Bulk".into()),
            retrieval_byte_range: range,
            ..Default::default()
        };
        client.initiate_job("v", &req).expect("job");
    }
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("found in the vault"), "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 2, "no retrieval paid twice");
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(out.join("big.bin")).expect("exported"), big);
    assert_eq!(count(&mock, "InitiateJob"), 2);
}

#[test]
fn a_lost_job_still_listed_as_succeeded_is_not_adopted_again() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-relist");
    let data = seed(&mock, 1);
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    let lost = mock_client(&mock).list_jobs("v", None, None).expect("jobs")[0]
        .job_id
        .clone()
        .expect("job id");
    // The output is gone while ListJobs still lists the job as Succeeded.
    mock.inject(FaultRule::times(Fault::NotFound, Some("GetJobOutput"), 1));
    let r = run(&mock, home.path(), &args);
    assert!(r.stderr.contains("expired (output gone)"), "{}", r.stderr);
    let started = count(&mock, "InitiateJob");
    let listed = mock_client(&mock).list_jobs("v", None, None).expect("jobs");
    assert!(
        listed
            .iter()
            .any(|j| j.job_id.as_deref() == Some(lost.as_str()))
    );
    // Whether or not that run already restarted, the lost job is never taken up again:
    // runs until the archive is out start exactly one new retrieval for it.
    let r = run(&mock, home.path(), &args);
    assert!(!r.stderr.contains(&lost), "{}", r.stderr);
    mock.complete_jobs();
    let r = run(&mock, home.path(), &args);
    assert!(!r.stderr.contains(&lost), "{}", r.stderr);
    check_exported(&out, &data);
    assert_eq!(count(&mock, "InitiateJob"), 2, "started {started} before");
    assert_eq!(jobs_per_archive(&mock).values().sum::<usize>(), 2);
}

/// Review finding: the wait for the inventory job slept a whole poll interval, so Ctrl-C
/// was only noticed when the interval ended (hours with the default poll).
#[test]
fn ctrl_c_while_waiting_for_the_inventory_job_stops_at_once() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-inv-int");
    seed(&mock, 1);
    mock.take_inventory("v");
    let out = home.join("out");
    // An hour between polls: only a wait that watches the stop flag ends in time.
    let mut child = crate::support::glacier_mock(&mock, home.path())
        .env("GLACIER_POLL_MS", "3600000")
        .args(["vault", "export", "v", out.to_str().expect("utf8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    assert!(wait_for(&mock, &mut child, "DescribeJob", 1), "ended early");
    crate::support::send_signal(&child, "INT");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still waiting for the inventory job after Ctrl-C");
        }
        std::thread::yield_now();
    }
    let r: crate::support::Run = child.wait_with_output().expect("wait").into();
    let e = r.fails(130);
    assert!(e.contains("inventory job"), "{e}");
    assert!(e.contains("run the same command again to continue"), "{e}");
    assert_eq!(count(&mock, "InitiateJob"), 1, "only the inventory job");
}
