//! Per-archive cost at vault scale (not a timed test): `glacier vault export`
//! and then `glacier vault purge --only-exported` of N tiny archives (1 to 4 KiB) against
//! the mock on loopback, run as the real release binary. Prints archives/s, requests per
//! archive (by operation, from the mock's own log), fsync + fdatasync calls per archive
//! (`strace -f -c`), client CPU per archive and peak RSS (GNU time).
//!
//! Run: `cargo bench --bench tiny_archives -- [N] [THREADS]` (defaults 2000 and 32;
//! the goals below are for 100000). Files go under `$TMPDIR` (a real disk, so that a sync
//! costs what it costs), the mock's storage too. The export runs twice: once timed
//! without strace, once under strace into a fresh directory and journal to count the
//! syncs. The purge runs once, under strace (`--seccomp-bpf`: only the counted calls
//! stop), so its CPU figure includes strace's small share. The client's waits are
//! shortened as in the tests (`GLACIER_POLL_MS=1`, `GLACIER_RETRY_BASE_MS=1`): the
//! mock completes jobs at once.
//!
//! Goals: at most 2 syncs and 2.05 requests per archive amortized, peak RSS
//! under 64 MiB at `-t 32`.

#[allow(dead_code)]
#[path = "../tests/mock/mod.rs"]
mod mock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const GLACIER: &str = env!("CARGO_BIN_EXE_glacier");

/// What one run of the binary cost.
struct Cost {
    wall: f64,
    cpu: f64,
    rss_kib: u64,
    syncs: Option<u64>,
}

/// Deterministic bytes (xorshift), as the tests make them.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn has_strace() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `glacier ARGS` under GNU time (and strace when `strace_out` is given).
fn run(
    mock: &mock::MockGlacier,
    work: &Path,
    data: &Path,
    args: &[&str],
    strace_out: Option<&Path>,
) -> Cost {
    let time_out = work.join("time.txt");
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "%e %U %S %M", "-o"]).arg(&time_out);
    if let Some(s) = strace_out {
        c.args([
            "strace",
            "--seccomp-bpf",
            "-f",
            "-c",
            "-e",
            "trace=fsync,fdatasync",
            "-o",
        ])
        .arg(s);
    }
    c.arg(GLACIER)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", mock::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", mock::SECRET_KEY)
        .env("AWS_REGION", mock::REGION)
        .env("AWS_ENDPOINT_URL_GLACIER", mock.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("XDG_DATA_HOME", data)
        .env("GLACIER_RETRY_BASE_MS", "1")
        .env("GLACIER_POLL_MS", "1");
    let out = c.output().expect("run /usr/bin/time glacier");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        panic!("glacier {args:?} failed: {}", out.status);
    }
    let t = std::fs::read_to_string(&time_out).expect("time output");
    let f: Vec<f64> = t
        .lines()
        .last()
        .expect("a line")
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect();
    let syncs = strace_out.map(|s| {
        // strace -c: "... calls errors syscall" rows; sum the calls column.
        std::fs::read_to_string(s)
            .expect("strace output")
            .lines()
            .filter(|l| l.ends_with("fsync") || l.ends_with("fdatasync"))
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.get(3)?.parse::<u64>().ok()
            })
            .sum()
    });
    Cost {
        wall: f[0],
        cpu: f[1] + f[2],
        rss_kib: f[3] as u64,
        syncs,
    }
}

/// Requests the mock answered since `from`, by operation.
fn requests(mock: &mock::MockGlacier, from: usize) -> (usize, BTreeMap<String, usize>) {
    let all = mock.requests();
    let mut by = BTreeMap::new();
    for r in &all[from..] {
        *by.entry(r.operation.clone()).or_default() += 1;
    }
    (all.len(), by)
}

fn report(what: &str, n: usize, threads: usize, cost: &Cost, reqs: &BTreeMap<String, usize>) {
    let total: usize = reqs.values().sum();
    let per = |x: f64| x / n as f64;
    println!("== {what}: {n} archives, -t {threads}");
    println!(
        "  {:.0} archives/s ({:.2} s wall), client CPU {:.3} ms/archive, peak RSS {:.1} MiB",
        n as f64 / cost.wall,
        cost.wall,
        per(cost.cpu) * 1000.0,
        cost.rss_kib as f64 / 1024.0
    );
    let ops: Vec<String> = reqs.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "  requests {:.3}/archive ({})",
        per(total as f64),
        ops.join(", ")
    );
    match cost.syncs {
        Some(s) => println!(
            "  syncs (fsync + fdatasync) {:.3}/archive ({s})",
            per(s as f64)
        ),
        None => println!("  syncs: not counted (no strace on this machine)"),
    }
}

fn main() {
    let mut nums = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let n = nums.next().unwrap_or(2000);
    let threads = nums.next().unwrap_or(32);
    let t = threads.to_string();
    let work = std::env::temp_dir().join(format!("glacier-tiny-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("bench dir");
    let mock = mock::MockGlacier::start_with(mock::MockConfig {
        job_completes_after_polls: Some(0),
        dir: Some(work.join("mock")),
        ..mock::MockConfig::default()
    });
    mock.create_vault("v");
    let started = Instant::now();
    for i in 0..n {
        let data = pattern(1024 + (i * 997) % 3072, i as u64);
        mock.put_archive("v", &data, &format!("photos/{}/img_{i}.jpg", i % 100));
    }
    let inv = work.join("inventory.json");
    let list: Vec<serde_json::Value> = mock
        .archives("v")
        .iter()
        .map(|a| {
            serde_json::json!({"ArchiveId": a.archive_id, "ArchiveDescription": a.description,
                "CreationDate": a.creation_date, "Size": a.size, "SHA256TreeHash": a.tree_hash})
        })
        .collect();
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-01-01T00:00:00Z", "ArchiveList": list});
    std::fs::write(&inv, doc.to_string()).expect("inventory");
    println!(
        "seeded {n} archives in {:.1?} under {}",
        started.elapsed(),
        work.display()
    );
    let inv_s = inv.to_str().expect("utf8 path");
    let strace = has_strace();

    let dir =
        |name: &str| -> (PathBuf, PathBuf) { (work.join(name), work.join(format!("{name}-data"))) };
    let (out, data) = dir("out");
    let o = out.to_str().expect("utf8 path");
    let export = [
        "--quiet",
        "vault",
        "export",
        "--inventory",
        inv_s,
        "-t",
        &t,
        "v",
        o,
    ];
    let before = mock.requests().len();
    let cost = run(&mock, &work, &data, &export, None);
    let (before_2, reqs) = requests(&mock, before);
    let exported = std::fs::read_to_string(out.join("glacier-export-manifest.csv"))
        .expect("manifest")
        .lines()
        .count()
        - 1;
    assert_eq!(exported, n, "every archive exported");
    let mut cost = cost;
    if strace {
        let (out2, data2) = dir("out-strace");
        let o2 = out2.to_str().expect("utf8 path");
        let export2 = [
            "--quiet",
            "vault",
            "export",
            "--inventory",
            inv_s,
            "-t",
            &t,
            "v",
            o2,
        ];
        cost.syncs = run(
            &mock,
            &work,
            &data2,
            &export2,
            Some(&work.join("strace-export.txt")),
        )
        .syncs;
    }
    report("export", n, threads, &cost, &reqs);

    let purge = [
        "--quiet",
        "vault",
        "purge",
        "--inventory",
        inv_s,
        "--only-exported",
        o,
        "-t",
        &t,
        "-y",
        "v",
    ];
    let before = requests(&mock, before_2).0;
    let trace = strace.then(|| work.join("strace-purge.txt"));
    let cost = run(&mock, &work, &data, &purge, trace.as_deref());
    let (_, reqs) = requests(&mock, before);
    assert!(mock.archives("v").is_empty(), "every archive deleted");
    report("purge --only-exported", n, threads, &cost, &reqs);
    drop(mock);
    let _ = std::fs::remove_dir_all(&work);
}
