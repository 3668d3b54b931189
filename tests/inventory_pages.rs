//! Inventory pages: `inventory init-retrieval --limit N` gives a page whose job carries
//! the `Marker` to continue from ("Describe Job": InventoryRetrievalParameters.Marker);
//! `jobs describe` and `inventory get` show it and say the list is partial, and
//! `--marker M` continues. Together the pages are the whole inventory.

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{pattern, run_mock};

/// Starts an inventory job with `args` and waits for it; returns its ID.
fn inventory_job(m: &MockGlacier, args: &[&str]) -> String {
    let mut all = vec!["--json", "inventory", "init-retrieval", "--wait"];
    all.extend_from_slice(args);
    all.push("v");
    let v: serde_json::Value = serde_json::from_str(run_mock(m, &all).ok()).expect("json");
    v["job_id"].as_str().expect("job id").to_string()
}

/// The marker `jobs describe` shows, if any, and whether it says the list is partial.
fn described_marker(m: &MockGlacier, job: &str) -> (Option<String>, bool) {
    let r = run_mock(m, &["jobs", "describe", "v", job]);
    let out = r.ok();
    let marker = out
        .lines()
        .find_map(|l| l.strip_prefix("marker:"))
        .map(|v| v.trim().to_string())
        .filter(|v| v != "-");
    (marker, out.contains("partial"))
}

#[test]
fn limit_gives_a_page_and_a_marker_that_continues() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let ids: Vec<String> = (0..5)
        .map(|i| m.put_archive("v", &pattern(10 + i, i as u64), &format!("a{i}")))
        .collect();
    m.take_inventory("v");

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    for page in 0..3 {
        let mut args = vec!["--limit", "2"];
        if let Some(mk) = &marker {
            args.extend(["--marker", mk.as_str()]);
        }
        let job = inventory_job(&m, &args);
        let (next, partial) = described_marker(&m, &job);
        let r = run_mock(&m, &["inventory", "get", "--format", "jsonl", "v", &job]);
        let out = r.ok().to_string();
        for line in out.lines() {
            let e: serde_json::Value = serde_json::from_str(line).expect("jsonl");
            seen.push(e["archive_id"].as_str().expect("archive_id").to_string());
        }
        if page < 2 {
            assert_eq!(out.lines().count(), 2, "{out}");
            let mk = next.expect("a marker for a partial page");
            assert!(partial, "jobs describe says partial");
            assert!(r.stderr.contains("partial inventory"), "{}", r.stderr);
            assert!(
                r.stderr.contains(&format!("--marker {mk} v")),
                "{}",
                r.stderr
            );
            marker = Some(mk);
        } else {
            assert_eq!(out.lines().count(), 1, "{out}");
            assert_eq!(next, None);
            assert!(!partial);
            assert!(!r.stderr.contains("partial"), "{}", r.stderr);
        }
    }
    assert_eq!(seen, ids);
}

#[test]
fn an_unknown_marker_is_one_clear_line() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.put_archive("v", b"x", "");
    m.take_inventory("v");
    let r = run_mock(
        &m,
        &["inventory", "init-retrieval", "--marker", "nope", "v"],
    );
    let e = r.fails(1);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("marker"), "{e}");
    let r = run_mock(&m, &["inventory", "init-retrieval", "--marker", "", "v"]);
    assert!(r.fails(2).contains("--marker"), "{}", r.stderr);
}
