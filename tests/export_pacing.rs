//! `vault export` pacing (`--max-bytes-per-day`, oldest archives first) and staged output
//! requested again before it expires, against the mock, with the export's clock moved by
//! `GLACIER_TEST_NOW` (the mock's jobs complete at its own, real, clock).

use std::collections::HashSet;
use std::path::Path;

use time::format_description::well_known::Rfc3339;

use crate::mock::MockGlacier;
use crate::support::{
    Run, TempDir, count, glacier_mock, inventory_json, mock_client, pattern, run,
};

/// Runs `glacier` with the export's clock at `now` (RFC 3339).
fn run_at(mock: &MockGlacier, home: &Path, now: &str, args: &[&str]) -> Run {
    glacier_mock(mock, home)
        .env("GLACIER_TEST_NOW", now)
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

/// Archive IDs of the vault's retrieval jobs.
fn retrieved(mock: &MockGlacier) -> HashSet<String> {
    mock_client(mock)
        .list_jobs("v", None, None)
        .expect("jobs")
        .into_iter()
        .filter_map(|j| j.archive_id)
        .collect()
}

#[test]
fn a_daily_byte_limit_starts_the_oldest_archives_first_and_the_next_a_day_later() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-pace");
    mock.create_vault("v");
    // Five archives of 1,000 bytes; the inventory lists them newest first, so creation
    // order, not inventory order, must decide.
    let ids: Vec<String> = (0..5)
        .map(|i| mock.put_archive("v", &pattern(1000, i), &format!("f{i}.bin")))
        .collect();
    let list: Vec<serde_json::Value> = mock
        .archives("v")
        .iter()
        .map(|a| {
            let i = ids
                .iter()
                .position(|id| *id == a.archive_id)
                .expect("seeded");
            serde_json::json!({
                "ArchiveId": a.archive_id,
                "ArchiveDescription": a.description,
                "CreationDate": format!("2020-01-0{}T00:00:00Z", 9 - i),
                "Size": a.size,
                "SHA256TreeHash": a.tree_hash,
            })
        })
        .collect();
    let inv = home.join("inv.json");
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-01-01T00:00:00Z", "ArchiveList": list});
    std::fs::write(&inv, doc.to_string()).expect("write inventory");
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--max-bytes-per-day",
        "2500",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        out.to_str().expect("utf8"),
    ];
    let oldest = |n: usize| -> HashSet<String> { ids.iter().rev().take(n).cloned().collect() };
    // Day 1: the limit lets two archives through: the two oldest, and it says it waits.
    let r = run_at(&mock, home.path(), "2026-01-01T00:00:00Z", &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("--max-bytes-per-day"), "{}", r.stderr);
    assert!(r.stderr.contains("waits"), "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 2);
    assert_eq!(retrieved(&mock), oldest(2));
    // Later the same day: nothing more starts.
    let r = run_at(&mock, home.path(), "2026-01-01T20:00:00Z", &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 2);
    // A day on: the next two oldest.
    let r = run_at(&mock, home.path(), "2026-01-02T00:00:01Z", &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), 4);
    assert_eq!(retrieved(&mock), oldest(4));
    // Usage: zero and nonsense are refused naming the flag.
    for bad in ["0", "lots"] {
        let r = run(
            &mock,
            home.path(),
            &["vault", "export", "--max-bytes-per-day", bad, "v", "x"],
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("--max-bytes-per-day"), "{}", r.stderr);
    }
}

#[test]
fn staged_output_with_under_5_hours_left_is_requested_again_and_then_exported() {
    let mock = MockGlacier::start();
    let home = TempDir::new("ex-stale");
    mock.create_vault("v");
    let data: Vec<(String, Vec<u8>)> = (0..3)
        .map(|i| {
            let d = pattern(700 + i, i as u64);
            (mock.put_archive("v", &d, &format!("s{i}.bin")), d)
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
    assert_eq!(count(&mock, "InitiateJob"), 3);
    mock.complete_jobs();
    // 20 h after the jobs completed, 4 h of their output are left: requested again, and
    // said so, rather than downloaded.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::hours(20))
        .format(&Rfc3339)
        .expect("format");
    let r = run_at(&mock, home.path(), &later, &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("expires within"), "{}", r.stderr);
    assert!(r.stdout.contains("3 restarts"), "{}", r.stdout);
    assert_eq!(count(&mock, "InitiateJob"), 6);
    assert_eq!(count(&mock, "GetJobOutput"), 0);
    // The new jobs complete; with the usual clock they are fresh and exported.
    mock.complete_jobs();
    run(&mock, home.path(), &args).ok();
    assert_eq!(count(&mock, "InitiateJob"), 6);
    for (i, (_, d)) in data.iter().enumerate() {
        let got = std::fs::read(out.join(format!("s{i}.bin"))).expect("exported");
        assert_eq!(&got, d);
    }
}
