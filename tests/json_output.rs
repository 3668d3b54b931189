//! One `--json` convention for everything glacier prints: every key, at every depth, is
//! snake_case (`^[a-z0-9_]+$`), Glacier's objects included (`vault_name`,
//! `number_of_archives`...). The one exception is `inventory get --format json`, which
//! prints Glacier's own inventory document unchanged (README, "Output").

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{TempDir, pattern, run_mock};

const MIB: usize = 1 << 20;

fn snake_case(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Every key in `v` that breaks the convention, with its path.
fn bad_keys(v: &serde_json::Value, at: &str, bad: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if !snake_case(k) {
                    bad.push(format!("{at}.{k}"));
                }
                bad_keys(v, &format!("{at}.{k}"), bad);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                bad_keys(v, &format!("{at}[{i}]"), bad);
            }
        }
        _ => {}
    }
}

/// Runs a `--json` command, checks that each stdout line parses and follows the
/// convention, and returns the last value.
fn json_run(m: &MockGlacier, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let r = run_mock(m, &all);
    let out = r.ok();
    assert!(!out.is_empty(), "{args:?} printed nothing");
    let mut last = serde_json::Value::Null;
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {line}"));
        let mut bad = Vec::new();
        bad_keys(&v, "", &mut bad);
        assert!(bad.is_empty(), "{args:?}: keys not snake_case: {bad:?}");
        last = v;
    }
    last
}

#[test]
fn every_json_output_is_snake_case() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let dir = TempDir::new("json-out");
    let file = dir.join("a.bin");
    std::fs::write(&file, pattern(2 * MIB + 5, 1)).expect("write");
    let file = file.to_str().expect("utf8");

    json_run(&m, &["vault", "create", "v"]);
    // Before the first inventory: nulls, same keys.
    json_run(&m, &["vault", "list"]);
    json_run(&m, &["vault", "describe", "v"]);
    let up = json_run(&m, &["upload", "v", file]);
    let archive = up["archive_id"].as_str().expect("archive_id").to_string();
    let multi = json_run(&m, &["upload", "-p", "1", "v", file]);
    assert!(multi["upload_id"].is_string());
    m.take_inventory("v");
    let vaults = json_run(&m, &["vault", "list"]);
    assert_eq!(vaults[0]["number_of_archives"], 2);
    json_run(&m, &["vault", "describe", "v"]);

    let job = json_run(&m, &["archive", "init-retrieval", "--wait", "v", &archive]);
    let job_id = job["job_id"].as_str().expect("job_id").to_string();
    assert!(job["job"].is_object(), "{job}");
    let out = dir.join("out.bin");
    json_run(
        &m,
        &["archive", "get", "v", &job_id, out.to_str().expect("utf8")],
    );
    let inv = json_run(
        &m,
        &["inventory", "init-retrieval", "--wait", "--limit", "1", "v"],
    );
    let inv_id = inv["job_id"].as_str().expect("job_id").to_string();
    assert!(inv["job"]["inventory_retrieval_parameters"]["marker"].is_string());
    json_run(&m, &["jobs", "list", "v"]);
    json_run(&m, &["jobs", "describe", "v", &inv_id]);
    json_run(&m, &["inventory", "get", "--format", "jsonl", "v", &inv_id]);

    let upload_id = start_multipart(&m);
    json_run(&m, &["uploads", "list", "v"]);
    json_run(&m, &["uploads", "parts", "v", &upload_id]);
    json_run(&m, &["uploads", "abort", "v", &upload_id]);
    json_run(&m, &["tree-hash", file]);
    json_run(&m, &["archive", "delete", "v", &archive]);
    json_run(&m, &["vault", "create", "empty"]);
    json_run(&m, &["vault", "delete", "empty"]);
}

/// An upload left in progress (initiated, no parts), through the crate's client.
fn start_multipart(m: &MockGlacier) -> String {
    let c = crate::support::mock_client(m);
    c.initiate_multipart_upload("v", MIB as u64, "left")
        .expect("initiate")
        .as_str()
        .to_string()
}
