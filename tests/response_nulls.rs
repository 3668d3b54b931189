//! What Glacier may leave out: the service model marks no response member required, so
//! every member of every JSON answer the mock produces is removed, then nulled, in
//! turn (through `MockGlacier::rewrite_json`), and each command that reads that answer
//! must still print a sensible result (exit 0) or one clear `glacier: ` line (exit 1),
//! never fail to parse the answer and never panic.

use std::sync::{Arc, Mutex};

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{pattern, run_mock};

const MIB: usize = 1 << 20;

/// Every member path in `v` ("*" stands for every element of a list).
fn paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                at.push(k.clone());
                out.push(at.clone());
                paths(v, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            if let Some(first) = a.first() {
                at.push("*".into());
                paths(first, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Removes (or nulls) the member at `path`.
fn edit(v: &mut serde_json::Value, path: &[String], null: bool) {
    match (path, v) {
        ([last], serde_json::Value::Object(m)) => {
            if null {
                m.insert(last.clone(), serde_json::Value::Null);
            } else {
                m.remove(last);
            }
        }
        ([star, rest @ ..], serde_json::Value::Array(a)) if star == "*" => {
            for item in a {
                edit(item, rest, null);
            }
        }
        ([k, rest @ ..], serde_json::Value::Object(m)) => {
            if let Some(v) = m.get_mut(k) {
                edit(v, rest, null);
            }
        }
        _ => {}
    }
}

/// The body `op` answers to `args`, as the mock produced it.
fn captured(m: &MockGlacier, op: &'static str, args: &[&str]) -> serde_json::Value {
    let seen = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&seen);
    m.rewrite_json(Some(Arc::new(move |o: &str, v: &mut serde_json::Value| {
        if o == op {
            *keep.lock().expect("lock") = Some(v.clone());
        }
    })));
    run_mock(m, args).ok();
    m.rewrite_json(None);
    let body = seen.lock().expect("lock").take();
    body.unwrap_or_else(|| panic!("{args:?} sent no {op}"))
}

fn check_every_member(m: &MockGlacier, op: &'static str, args: &[&str]) -> usize {
    let body = captured(m, op, args);
    let mut all = Vec::new();
    paths(&body, &mut Vec::new(), &mut all);
    assert!(!all.is_empty(), "{op}: {body}");
    let mut runs = 0;
    for (i, path) in all.iter().enumerate() {
        for null in [false, true] {
            let p = path.clone();
            m.rewrite_json(Some(Arc::new(move |o: &str, v: &mut serde_json::Value| {
                if o == op {
                    edit(v, &p, null);
                }
            })));
            // Each member is checked both ways, alternating which one is rendered as a
            // table and which as --json: both go through the same parser, and each
            // renderer sees both kinds of gap across the members.
            let json = null ^ (i % 2 == 1);
            let mut a: Vec<&str> = if json { vec!["--json"] } else { vec![] };
            a.extend_from_slice(args);
            let r = run_mock(m, &a);
            runs += 1;
            let what = format!(
                "{a:?} with {op} {path:?} {}",
                if null { "null" } else { "removed" }
            );
            assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
            match r.code {
                0 => assert!(!r.stdout.is_empty(), "{what}: no output"),
                1 => {
                    assert_eq!(r.stderr.lines().count(), 1, "{what}: {}", r.stderr);
                    assert!(r.stderr.starts_with("glacier: "), "{what}: {}", r.stderr);
                    assert!(
                        !r.stderr.contains("unexpected response body"),
                        "{what}: a valid answer failed to parse: {}",
                        r.stderr
                    );
                }
                c => panic!("{what}: exit {c}: {}", r.stderr),
            }
            if json && r.code == 0 {
                for line in r.stdout.lines() {
                    serde_json::from_str::<serde_json::Value>(line)
                        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
                }
            }
        }
    }
    m.rewrite_json(None);
    runs
}

#[test]
fn every_member_of_every_answer_may_be_missing_or_null() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let archive = m.put_archive("v", &pattern(3000, 1), "one");
    m.put_archive("v", &pattern(10, 2), "two");
    m.take_inventory("v");
    let c = crate::support::mock_client(&m);
    let upload = c
        .initiate_multipart_upload("v", MIB as u64, "half")
        .expect("initiate");
    let part = pattern(MIB, 3);
    let hash = glacier_upload::treehash::tree_hash(&part);
    c.upload_part(
        "v",
        &upload,
        0,
        &glacier_upload::glacier::Payload::from_vec(part),
        &hash,
    )
    .expect("part");
    let job = |args: &[&str]| {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let v: serde_json::Value = serde_json::from_str(run_mock(&m, &a).ok()).expect("json");
        v["job_id"].as_str().expect("job_id").to_string()
    };
    let archive_job = job(&["archive", "init-retrieval", "v", &archive]);
    let inventory_job = job(&["inventory", "init-retrieval", "--limit", "1", "v"]);

    let mut runs = 0;
    runs += check_every_member(&m, "DescribeVault", &["vault", "describe", "v"]);
    runs += check_every_member(&m, "ListVaults", &["vault", "list"]);
    runs += check_every_member(&m, "DescribeJob", &["jobs", "describe", "v", &archive_job]);
    runs += check_every_member(
        &m,
        "DescribeJob",
        &["jobs", "describe", "v", &inventory_job],
    );
    runs += check_every_member(&m, "ListJobs", &["jobs", "list", "v"]);
    runs += check_every_member(&m, "ListMultipartUploads", &["uploads", "list", "v"]);
    runs += check_every_member(&m, "ListParts", &["uploads", "parts", "v", upload.as_str()]);
    assert!(runs > 50, "{runs}");
}
