//! `glacier jobs` (list with filters and paging, describe) through the real binary
//! against the mock.

use crate::mock::MockGlacier;
use crate::mock::client::{Client, req};
use crate::support::{
    MIB, fails_once, json, last_request_id, mock_client, ops, pattern, quiet_ok, run_mock,
};
use glacier_upload::glacier::JobRequest;

/// Starts a job with a raw signed request; returns its ID.
fn initiate_job(m: &MockGlacier, vault: &str, params: serde_json::Value) -> String {
    let resp = Client::new(m)
        .ok(req("POST", &format!("/-/vaults/{vault}/jobs")).body(params.to_string().as_bytes()));
    assert_eq!(resp.status, 202);
    resp.header("x-amz-job-id").expect("job id").to_string()
}

/// A vault with two finished jobs (an archive retrieval and an inventory) and one still
/// in progress; returns their IDs in that order.
fn vault_with_jobs(m: &MockGlacier) -> [String; 3] {
    m.create_vault("v");
    let aid = m.put_archive("v", &pattern(3 * MIB, 5), "three MiB");
    m.take_inventory("v");
    let a = initiate_job(
        m,
        "v",
        serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid, "Description": "get it", "Tier": "Bulk"}),
    );
    let b = initiate_job(m, "v", serde_json::json!({"Type": "inventory-retrieval"}));
    m.complete_jobs();
    let c = initiate_job(
        m,
        "v",
        serde_json::json!({"Type": "archive-retrieval", "ArchiveId": aid}),
    );
    [a, b, c]
}

#[test]
fn jobs_list_shows_every_job_and_filters_by_completion_and_status() {
    let m = MockGlacier::start();
    let [a, b, c] = vault_with_jobs(&m);

    let out = quiet_ok(&run_mock(&m, &["jobs", "list", "v"])).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["JOB", "ID", "ACTION", "STATUS", "CREATED", "SIZE"]
    );
    let row = |id: &str| -> Vec<String> {
        let l = lines
            .iter()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("job {id} listed:\n{out}"));
        l.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(row(&a)[1], "ArchiveRetrieval");
    assert_eq!(row(&a)[2], "Succeeded");
    assert_eq!(row(&a)[4..], ["3.0", "MiB"]);
    assert_eq!(row(&b)[1..3], ["InventoryRetrieval", "Succeeded"]);
    assert_eq!(row(&c)[1..3], ["ArchiveRetrieval", "InProgress"]);

    let ids = |args: &[&str]| -> Vec<String> {
        let v = json(quiet_ok(&run_mock(&m, args)));
        let mut ids: Vec<String> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|j| j["job_id"].as_str().expect("job_id").to_string())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(&["jobs", "list", "v", "--json"]),
        sorted(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        ids(&["jobs", "list", "--completed", "true", "v", "--json"]),
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        ids(&["jobs", "list", "v", "--completed=false", "--json"]),
        vec![c.clone()]
    );
    assert_eq!(
        ids(&["--json", "jobs", "list", "v", "--status", "InProgress"]),
        vec![c.clone()]
    );
    assert_eq!(
        ids(&["jobs", "list", "v", "--status", "Succeeded", "--json"]),
        sorted(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        ids(&["jobs", "list", "v", "--status", "Failed", "--json"]),
        Vec::<String>::new()
    );
    assert_eq!(
        quiet_ok(&run_mock(&m, &["jobs", "list", "v", "--status", "Failed"])),
        "no jobs in vault 'v'\n"
    );

    // The filters travel as Glacier's query parameters.
    let queries: Vec<Vec<(String, String)>> =
        ops(&m, "ListJobs").into_iter().map(|r| r.query).collect();
    let has = |k: &str, v: &str| {
        queries
            .iter()
            .any(|q| q.contains(&(k.to_string(), v.to_string())))
    };
    assert!(
        has("completed", "true") && has("completed", "false"),
        "{queries:?}"
    );
    assert!(
        has("statuscode", "InProgress") && has("statuscode", "Failed"),
        "{queries:?}"
    );
}

#[test]
fn jobs_list_keeps_its_filter_on_every_page() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let aid = m.put_archive("v", b"abc", "");
    let client = mock_client(&m);
    let request = JobRequest {
        kind: "archive-retrieval".into(),
        archive_id: Some(aid),
        ..JobRequest::default()
    };
    // Four threads share the client: seeding is most of this test's time.
    let start = |n: usize| {
        std::thread::scope(|s| {
            for t in 0..4 {
                let (client, request) = (&client, &request);
                s.spawn(move || {
                    for _ in (t..n).step_by(4) {
                        client.initiate_job("v", request).expect("initiate job");
                    }
                });
            }
        });
    };
    start(2);
    m.complete_jobs();
    // 120 in progress: no limit is sent, so the mock's documented default page of 50
    // jobs applies: three pages.
    start(120);
    let v = json(quiet_ok(&run_mock(
        &m,
        &["jobs", "list", "v", "--json", "--status", "InProgress"],
    )));
    let list = v.as_array().expect("array");
    assert_eq!(list.len(), 120);
    assert!(list.iter().all(|j| j["status_code"] == "InProgress"));
    let mut ids: Vec<&str> = list
        .iter()
        .map(|j| j["job_id"].as_str().expect("id"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 120, "no job twice");
    let pages = ops(&m, "ListJobs");
    assert_eq!(pages.len(), 3);
    assert!(
        pages
            .iter()
            .all(|p| p.query.iter().all(|(k, _)| k != "limit"))
    );
    let q = &pages[2].query;
    assert!(q.iter().any(|(k, _)| k == "marker"), "{q:?}");
    assert!(
        q.contains(&("statuscode".to_string(), "InProgress".to_string())),
        "the filter goes with the marker: {q:?}"
    );
    let table = quiet_ok(&run_mock(&m, &["jobs", "list", "v"])).to_string();
    assert_eq!(table.lines().count(), 1 + 122);
}

#[test]
fn jobs_list_bad_filter_values_are_usage_errors_naming_the_flag() {
    let m = MockGlacier::start();
    m.create_vault("v");
    for (args, want) in [
        (
            &["jobs", "list", "v", "--completed", "yes"][..],
            "--completed 'yes': use true or false",
        ),
        (
            &["jobs", "list", "v", "--completed=1"],
            "--completed '1': use true or false",
        ),
        (
            &["jobs", "list", "v", "--status", "Done"],
            "--status 'Done': use InProgress, Succeeded or Failed",
        ),
        (
            &["jobs", "list", "v", "--status", "succeeded"],
            "--status 'succeeded': use InProgress, Succeeded or Failed",
        ),
        (&["jobs", "list", "v", "--status"], "--status needs a value"),
        (
            &["jobs", "list", "v", "--bogus"],
            "unknown flag '--bogus' (see --help; put '--' before a value that starts with '-')",
        ),
    ] {
        let e = fails_once(&run_mock(&m, args), 2);
        assert_eq!(e, format!("glacier: {want}"), "{args:?}");
    }
    assert!(m.requests().is_empty(), "nothing sent on a usage error");
}

#[test]
fn jobs_describe_prints_fields_and_json_and_unknown_jobs_fail() {
    let m = MockGlacier::start();
    let [a, b, c] = vault_with_jobs(&m);

    let out = quiet_ok(&run_mock(&m, &["jobs", "describe", "v", &a])).to_string();
    let field = |name: &str| -> String {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no '{name}' in:\n{out}"))
            .trim()
            .to_string()
    };
    assert_eq!(field("job id"), a);
    assert_eq!(field("action"), "ArchiveRetrieval");
    assert_eq!(field("status"), "Succeeded");
    assert_eq!(field("tier"), "Bulk");
    assert_eq!(field("description"), "get it");
    assert_eq!(field("size"), "3.0 MiB");
    assert_eq!(field("range"), format!("0-{}", 3 * MIB - 1));
    assert_eq!(
        field("tree hash"),
        glacier_upload::treehash::tree_hash(&pattern(3 * MIB, 5)).to_hex()
    );
    assert_eq!(field("archive id"), m.archives("v")[0].archive_id);
    assert_eq!(out.lines().count(), 12, "{out}");

    let out = quiet_ok(&run_mock(&m, &["jobs", "describe", "v", &c])).to_string();
    assert!(out.contains("status:         InProgress\n"), "{out}");
    assert!(out.contains("completed:      -\n"), "{out}");

    let v = json(quiet_ok(&run_mock(
        &m,
        &["jobs", "describe", "--json", "v", &b],
    )));
    assert_eq!(v["job_id"], b.as_str());
    assert_eq!(v["action"], "InventoryRetrieval");
    assert_eq!(v["completed"], true);

    m.expire_job("v", &b);
    let e = fails_once(&run_mock(&m, &["jobs", "describe", "v", &b]), 1);
    let rid = last_request_id(&m);
    assert!(e.contains("ResourceNotFoundException"), "{e}");
    assert!(e.contains(&b), "names the job: {e}");
    assert!(e.contains(&format!("[request ID {rid}]")), "{e}");

    let e = fails_once(&run_mock(&m, &["jobs", "describe", "v", "not/an/id"]), 2);
    assert!(e.contains("not a valid job ID"), "{e}");
    let e = fails_once(&run_mock(&m, &["jobs", "describe", "v"]), 2);
    assert!(e.contains("missing JOB_ID"), "{e}");
}
