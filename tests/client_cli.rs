//! End-to-end tests of the Glacier commands (`vault`, `jobs`, `uploads`, `archive
//! delete`): the real binary against the mock server, checking stdout, stderr and the
//! exit code, the requests the mock saw, and how failures (unknown vaults, bad or missing
//! credentials, configuration mistakes, clock skew, throttling, 5xx, dropped
//! connections) reach the user: one `glacier: ` line on stderr with the error code and
//! the request ID, and never a secret.

use crate::mock::client::{Client, req};
use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier, RecordedRequest, SECRET_KEY};
use crate::support::{Run, TempDir, glacier_mock, mock_client, pattern, run_mock};
use glacier_upload::glacier::JobRequest;

const MIB: usize = 1 << 20;

/// Asserts a failure with this exit code reported as exactly one `glacier: ` line on
/// stderr and nothing on stdout; returns that line.
#[track_caller]
fn fails_once(r: &Run, code: i32) -> String {
    let e = r.fails(code);
    assert_eq!(e.lines().count(), 1, "one stderr line expected:\n{e}");
    assert!(e.starts_with("glacier: "), "{e}");
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
    e.trim_end().to_string()
}

/// Asserts success with nothing on stderr; returns stdout.
#[track_caller]
fn quiet_ok(r: &Run) -> &str {
    let out = r.ok();
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    out
}

/// The requests the mock saw for one operation.
fn ops(m: &MockGlacier, op: &str) -> Vec<RecordedRequest> {
    m.requests()
        .into_iter()
        .filter(|r| r.operation == op)
        .collect()
}

/// The request ID of the last request the mock answered.
fn last_request_id(m: &MockGlacier) -> String {
    m.requests()
        .last()
        .expect("the mock saw a request")
        .request_id
        .clone()
}

fn json(s: &str) -> serde_json::Value {
    assert_eq!(s.lines().count(), 1, "one line of JSON: {s}");
    serde_json::from_str(s).expect("stdout is JSON")
}

/// Starts a job with a raw signed request; returns its ID.
fn initiate_job(m: &MockGlacier, vault: &str, params: serde_json::Value) -> String {
    let resp = Client::new(m)
        .ok(req("POST", &format!("/-/vaults/{vault}/jobs")).body(params.to_string().as_bytes()));
    assert_eq!(resp.status, 202);
    resp.header("x-amz-job-id").expect("job id").to_string()
}

/// Starts a multipart upload with 1 MiB parts and uploads its first `parts` parts of
/// `data`; returns the upload ID.
fn start_upload(
    m: &MockGlacier,
    vault: &str,
    description: &str,
    data: &[u8],
    parts: usize,
) -> String {
    let mut c = Client::new(m);
    let resp = c.ok(req("POST", &format!("/-/vaults/{vault}/multipart-uploads"))
        .h("x-amz-part-size", &MIB.to_string())
        .h("x-amz-archive-description", description));
    let id = resp
        .header("x-amz-multipart-upload-id")
        .expect("upload id")
        .to_string();
    for i in 0..parts {
        let end = ((i + 1) * MIB).min(data.len());
        c.ok(
            req("PUT", &format!("/-/vaults/{vault}/multipart-uploads/{id}"))
                .body(&data[i * MIB..end])
                .tree()
                .h("content-range", &format!("bytes {}-{}/*", i * MIB, end - 1)),
        );
    }
    id
}

// ---- vault ----

#[test]
fn vault_list_with_no_vaults_says_so_and_json_is_an_empty_array() {
    let m = MockGlacier::start();
    assert_eq!(quiet_ok(&run_mock(&m, &["vault", "list"])), "no vaults\n");
    assert_eq!(
        quiet_ok(&run_mock(&m, &["vault", "list", "--json"])),
        "[]\n"
    );
    let lists = ops(&m, "ListVaults");
    assert_eq!(lists.len(), 2);
    assert!(lists.iter().all(|r| r.status == 200));
    assert!(
        lists[0].query.is_empty(),
        "no limit: the service's default page size, followed by markers: {:?}",
        lists[0].query
    );
}

#[test]
fn vault_list_prints_a_table_and_json_of_every_vault() {
    let m = MockGlacier::start();
    for v in ["photos", "backups", "zeta.old"] {
        m.create_vault(v);
    }
    m.put_archive("photos", &pattern(3000, 1), "one");
    m.put_archive("photos", &pattern(2 * MIB, 2), "two");
    // Counts are those of the last inventory; zeta.old stays never inventoried.
    m.take_inventory("photos");
    m.put_archive("backups", &pattern(10, 3), "later");

    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["VAULT", "ARCHIVES", "SIZE", "CREATED", "LAST", "INVENTORY"]
    );
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().expect("a name"))
        .collect();
    assert_eq!(names, ["backups", "photos", "zeta.old"]);
    let photos: Vec<&str> = lines[2].split_whitespace().collect();
    // name, archives, size (two words), created, last inventory.
    assert_eq!(photos[..4], ["photos", "2", "2.0", "MiB"], "{}", lines[2]);
    assert!(
        photos[4].starts_with("20") && photos[4].ends_with('Z'),
        "{}",
        lines[2]
    );
    assert!(
        photos[5].starts_with("20") && photos[5].ends_with('Z'),
        "{}",
        lines[2]
    );
    let backups: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(backups[1..3], ["-", "-"], "{}", lines[1]);
    assert_eq!(backups[4], "never", "{}", lines[1]);
    // Columns line up: every row's second column starts where the header's does.
    let col = lines[0].find("ARCHIVES").expect("header column");
    for l in &lines[1..] {
        assert_eq!(&l[col - 2..col], "  ", "{l}");
        assert_ne!(&l[col..col + 1], " ", "{l}");
    }

    let v = json(quiet_ok(&run_mock(&m, &["vault", "list", "--json"])));
    let list = v.as_array().expect("an array");
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["vault_name"], "photos");
    assert_eq!(list[1]["number_of_archives"], 2);
    assert_eq!(list[1]["size_in_bytes"], 3000 + 2 * MIB as u64);
    assert_eq!(
        list[1]["vault_arn"],
        "arn:aws:glacier:us-east-1:012345678901:vaults/photos"
    );
    assert!(list[1]["last_inventory_date"].is_string());
    assert!(list[0]["number_of_archives"].is_null());
    assert!(list[0]["last_inventory_date"].is_null());
}

#[test]
fn vault_list_follows_the_marker_past_a_full_page() {
    let m = MockGlacier::start();
    // The client sends no limit, so the mock's default page of 10 (ListVaults' documented
    // default) applies: 25 vaults take three pages.
    for i in 0..25 {
        m.create_vault(&format!("v{i:04}"));
    }
    let v = json(quiet_ok(&run_mock(&m, &["--json", "vault", "list"])));
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["vault_name"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 25);
    assert_eq!(
        (names[0], names[9], names[10], names[24]),
        ("v0000", "v0009", "v0010", "v0024")
    );
    let lists = ops(&m, "ListVaults");
    assert_eq!(lists.len(), 3);
    assert!(lists[0].query.iter().all(|(k, _)| k != "marker"));
    assert!(
        lists
            .iter()
            .all(|l| l.query.iter().all(|(k, _)| k != "limit")),
        "no limit sent"
    );
    assert!(
        lists[1].query.contains(&(
            "marker".to_string(),
            "arn:aws:glacier:us-east-1:012345678901:vaults/v0009".to_string()
        )),
        "{:?}",
        lists[1].query
    );
    let table = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(table.lines().count(), 1 + 25);
}

#[test]
fn vault_describe_prints_fields_and_json() {
    let m = MockGlacier::start();
    m.create_vault("photos");
    m.put_archive("photos", &pattern(5000, 3), "x");
    m.take_inventory("photos");
    let out = quiet_ok(&run_mock(&m, &["vault", "describe", "photos"])).to_string();
    let fields: Vec<(&str, &str)> = out
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(':').expect("name: value");
            (k, v.trim())
        })
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "vault",
            "arn",
            "created",
            "last inventory",
            "archives",
            "size"
        ]
    );
    assert_eq!(fields[0].1, "photos");
    assert_eq!(
        fields[1].1,
        "arn:aws:glacier:us-east-1:012345678901:vaults/photos"
    );
    assert!(fields[3].1.starts_with("20"), "{}", fields[3].1);
    assert_eq!(fields[4].1, "1");
    assert_eq!(fields[5].1, "4.9 KiB (5000 bytes)");

    let v = json(quiet_ok(&run_mock(
        &m,
        &["vault", "describe", "photos", "--json"],
    )));
    assert_eq!(v["vault_name"], "photos");
    assert_eq!(v["size_in_bytes"], 5000);
    let d = ops(&m, "DescribeVault");
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].path, "/-/vaults/photos");
}

#[test]
fn vault_create_and_delete_report_on_stderr_or_as_json() {
    let m = MockGlacier::start();
    let r = run_mock(&m, &["vault", "create", "new-vault"]);
    assert_eq!(r.ok(), "");
    assert_eq!(r.stderr, "glacier: created vault 'new-vault'\n");
    assert_eq!(ops(&m, "CreateVault").len(), 1);
    assert_eq!(ops(&m, "CreateVault")[0].status, 201);

    // --quiet drops the note; creating an existing vault succeeds like Glacier.
    let r = run_mock(&m, &["vault", "create", "new-vault", "-q"]);
    assert_eq!(quiet_ok(&r), "");

    let v = json(quiet_ok(&run_mock(
        &m,
        &["vault", "create", "other", "--json"],
    )));
    assert_eq!(v["vault"], "other");
    assert_eq!(v["location"], "/012345678901/vaults/other");

    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(out.lines().count(), 3, "{out}");

    let r = run_mock(&m, &["vault", "delete", "new-vault"]);
    assert_eq!(r.ok(), "");
    assert_eq!(r.stderr, "glacier: deleted vault 'new-vault'\n");
    let v = json(quiet_ok(&run_mock(
        &m,
        &["--json", "vault", "delete", "other"],
    )));
    assert_eq!(v, serde_json::json!({"vault": "other", "deleted": true}));
    assert_eq!(quiet_ok(&run_mock(&m, &["vault", "list"])), "no vaults\n");
    assert!(ops(&m, "DeleteVault").iter().all(|r| r.status == 204));
}

#[test]
fn deleting_a_vault_with_archives_fails_with_glaciers_message_and_request_id() {
    let m = MockGlacier::start();
    m.create_vault("full");
    m.put_archive("full", b"data", "");
    let e = fails_once(&run_mock(&m, &["vault", "delete", "full"]), 1);
    let rid = last_request_id(&m);
    assert!(e.contains("DeleteVault"), "{e}");
    assert!(e.contains("'full'"), "{e}");
    assert!(e.contains("InvalidParameterValueException"), "{e}");
    assert!(e.contains("Vault not empty"), "{e}");
    assert!(e.contains(&format!("[request ID {rid}]")), "{e}");
    // Not retried: a client error will not get better.
    assert_eq!(ops(&m, "DeleteVault").len(), 1);
    assert_eq!(m.archives("full").len(), 1);
}

#[test]
fn unknown_vault_is_one_line_naming_it_with_the_code_and_request_id() {
    let m = MockGlacier::start();
    for args in [
        &["vault", "describe", "nope"][..],
        &["vault", "delete", "nope"],
        &["jobs", "list", "nope"],
        &["uploads", "list", "nope"],
    ] {
        let e = fails_once(&run_mock(&m, args), 1);
        let rid = last_request_id(&m);
        assert!(e.contains("vault 'nope'"), "{e}");
        assert!(e.contains("ResourceNotFoundException (HTTP 404)"), "{e}");
        assert!(e.ends_with(&format!("[request ID {rid}]")), "{e}");
    }
    assert_eq!(m.requests().len(), 4, "404 is not retried");
}

#[test]
fn invalid_vault_names_are_usage_errors_before_any_request() {
    let m = MockGlacier::start();
    for bad in ["a b", "sl/ash", "ü"] {
        let e = fails_once(&run_mock(&m, &["vault", "describe", bad]), 2);
        assert!(e.contains(&format!("invalid vault name '{bad}'")), "{e}");
    }
    let long = "x".repeat(256);
    fails_once(&run_mock(&m, &["vault", "create", &long]), 2);
    let e = fails_once(&run_mock(&m, &["vault", "describe"]), 2);
    assert!(e.contains("missing VAULT"), "{e}");
    let e = fails_once(&run_mock(&m, &["vault", "rename", "x"]), 2);
    assert!(e.contains("vault rename"), "{e}");
    assert!(m.requests().is_empty());
}

#[test]
fn usage_errors_say_exactly_what_is_wrong_and_send_nothing() {
    let m = MockGlacier::start();
    for (args, want) in [
        (
            &["vault", "list", "extra"][..],
            "glacier: vault list: unexpected argument 'extra' (usage: glacier vault list)",
        ),
        (
            &["uploads", "abort", "v"],
            "glacier: uploads abort: missing UPLOAD_ID (usage: glacier uploads abort VAULT UPLOAD_ID)",
        ),
        (
            &["vault"],
            "glacier: 'vault' needs one of: list, describe, create, delete, export (see 'glacier help vault')",
        ),
        (
            &["vault", "list", "--timeout", "0"],
            "glacier: --timeout must be at least 1 (seconds)",
        ),
        (
            &["--connect-timeout=0", "vault", "list"],
            "glacier: --connect-timeout must be at least 1 (seconds)",
        ),
        (
            &[
                "--max-attempts",
                "2",
                "vault",
                "list",
                "--max-attempts",
                "3",
            ],
            "glacier: --max-attempts given more than once",
        ),
        (
            &["vault", "list", "--region"],
            "glacier: --region needs a value",
        ),
        (
            &["archive", "delete", "v", "not an id"],
            "glacier: 'not an id' is not a valid archive ID (letters, digits, '-' and '_' only)",
        ),
    ] {
        assert_eq!(fails_once(&run_mock(&m, args), 2), want, "{args:?}");
    }
    assert!(m.requests().is_empty());
}

// ---- jobs ----

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

// ---- uploads ----

#[test]
fn uploads_list_parts_and_abort() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let data = pattern(2 * MIB + 10, 6);
    let first = start_upload(&m, "v", "half done", &data, 1);
    let second = start_upload(&m, "v", "", &data, 0);

    let out = quiet_ok(&run_mock(&m, &["uploads", "list", "v"])).to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["UPLOAD", "ID", "PART", "SIZE", "CREATED", "DESCRIPTION"]
    );
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with(&first))
        .expect("first upload listed")
        .split_whitespace()
        .collect();
    assert_eq!(row[1..3], ["1.0", "MiB"]);
    assert_eq!(row[4..], ["half", "done"]);
    assert!(lines.iter().any(|l| l.starts_with(&second)), "{out}");

    let v = json(quiet_ok(&run_mock(&m, &["uploads", "list", "v", "--json"])));
    let list = v.as_array().expect("array");
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .any(|u| u["multipart_upload_id"] == first.as_str()
                && u["part_size_in_bytes"] == MIB as u64
                && u["archive_description"] == "half done")
    );

    // Parts: the table on stdout, a summary note on stderr.
    let r = run_mock(&m, &["uploads", "parts", "v", &first]);
    let out = r.ok();
    let part_hash = glacier_upload::treehash::tree_hash(&data[..MIB]).to_hex();
    assert_eq!(
        out,
        format!("RANGE      TREE HASH\n0-{}  {part_hash}\n", MIB - 1)
    );
    assert_eq!(
        r.stderr,
        format!("glacier: upload {first}: part size 1.0 MiB, 1 part present\n")
    );
    let v = json(quiet_ok(&run_mock(
        &m,
        &["uploads", "parts", "v", &first, "--json"],
    )));
    assert_eq!(
        v,
        serde_json::json!({
            "upload_id": first,
            "part_size": MIB,
            "description": "half done",
            "parts": [{"start": 0, "end": MIB - 1, "tree_hash": part_hash}],
        })
    );
    let r = run_mock(&m, &["uploads", "parts", "-q", "v", &second]);
    assert_eq!(quiet_ok(&r), "no parts uploaded yet\n");

    // Abort: a note, or JSON; the upload is gone from the mock.
    let r = run_mock(&m, &["uploads", "abort", "v", &first]);
    assert_eq!(r.ok(), "");
    assert_eq!(
        r.stderr,
        format!("glacier: aborted upload {first} in vault 'v'\n")
    );
    let v = json(quiet_ok(&run_mock(
        &m,
        &["--json", "uploads", "abort", "v", &second],
    )));
    assert_eq!(v, serde_json::json!({"upload_id": second, "aborted": true}));
    assert!(m.uploads("v").is_empty());
    assert_eq!(
        quiet_ok(&run_mock(&m, &["uploads", "list", "v"])),
        "no uploads in progress in vault 'v'\n"
    );

    // Aborting again: Glacier's 404, naming the upload.
    let e = fails_once(&run_mock(&m, &["uploads", "abort", "v", &first]), 1);
    assert!(e.contains("ResourceNotFoundException"), "{e}");
    assert!(e.contains(&first), "{e}");
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
    let e = fails_once(&run_mock(&m, &["uploads", "parts", "v", &first]), 1);
    assert!(e.contains("ResourceNotFoundException"), "{e}");
}

// ---- archive delete ----

#[test]
fn archive_delete_takes_ids_that_begin_with_a_dash() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let ids: Vec<String> = (0..4)
        .map(|i| m.put_archive("v", &pattern(100, i), ""))
        .collect();
    // The mock starts every third archive ID with '-', the first included.
    assert!(ids[0].starts_with('-') && ids[3].starts_with('-'));
    assert!(!ids[1].starts_with('-'));

    // A dash ID as a plain argument.
    let r = run_mock(&m, &["archive", "delete", "v", &ids[0]]);
    assert_eq!(r.ok(), "");
    assert_eq!(
        r.stderr,
        format!("glacier: deleted archive {} from vault 'v'\n", ids[0])
    );
    // After `--`, with the global flag before it.
    let v = json(quiet_ok(&run_mock(
        &m,
        &["archive", "delete", "--json", "v", "--", &ids[3]],
    )));
    assert_eq!(
        v,
        serde_json::json!({"archive_id": ids[3], "deleted": true})
    );
    // An ordinary ID.
    quiet_ok(&run_mock(&m, &["-q", "archive", "delete", "v", &ids[1]]));

    let left: Vec<String> = m.archives("v").into_iter().map(|a| a.archive_id).collect();
    assert_eq!(left, [ids[2].clone()]);
    let dels = ops(&m, "DeleteArchive");
    assert_eq!(dels.len(), 3);
    assert!(dels.iter().all(|r| r.status == 204));
    assert_eq!(dels[0].path, format!("/-/vaults/v/archives/{}", ids[0]));

    // Deleting it again: 404 naming the archive.
    let e = fails_once(&run_mock(&m, &["archive", "delete", "v", &ids[0]]), 1);
    assert!(e.contains("ResourceNotFoundException"), "{e}");
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );

    // A short dash word is still an unknown flag, and `--` makes it a (bad) value.
    let e = fails_once(&run_mock(&m, &["archive", "delete", "v", "-x"]), 2);
    assert!(e.contains("unknown flag '-x'"), "{e}");
    assert_eq!(ops(&m, "DeleteArchive").len(), 4);
}

// ---- global flags ----

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let m = MockGlacier::start();
    m.create_vault("a");
    m.create_vault("b");
    let before = quiet_ok(&run_mock(&m, &["--json", "vault", "list"])).to_string();
    let middle = quiet_ok(&run_mock(&m, &["vault", "--json", "list"])).to_string();
    let after = quiet_ok(&run_mock(&m, &["vault", "list", "--json"])).to_string();
    assert_eq!(before, after);
    assert_eq!(before, middle);
    assert_eq!(json(&before).as_array().map(Vec::len), Some(2));

    // --region and --endpoint-url from the command line beat the environment.
    let home = TempDir::new("flags");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL_GLACIER", "http://127.0.0.1:1")
        .args(["vault", "list", "--region", "us-east-1"])
        .arg(format!("--endpoint-url={}", m.url()))
        .output()
        .expect("run")
        .into();
    let plain = run_mock(&m, &["vault", "list"]);
    assert_eq!(quiet_ok(&r), quiet_ok(&plain));
}

#[test]
fn a_reader_that_closes_stdout_early_ends_the_run_quietly() {
    let m = MockGlacier::start();
    // More table than a pipe buffer holds, so the writer meets the closed pipe.
    for i in 0..1500 {
        m.create_vault(&format!("vault-with-a-long-name-{i:05}"));
    }
    let home = TempDir::new("pipe");
    let mut child = glacier_mock(&m, home.path())
        .args(["vault", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

// ---- configuration and credentials ----

#[test]
fn wrong_secret_fails_with_the_signature_error_and_a_hint() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let home = TempDir::new("badsecret");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
        .args(["vault", "describe", "v"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.contains("InvalidSignatureException (HTTP 403)"), "{e}");
    assert!(
        e.contains("check the credentials (from environment variables)"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
    assert!(!e.contains("not-the-right-secret"), "{e}");
    assert_eq!(m.requests().len(), 1, "a 403 is not retried");

    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.contains("UnrecognizedClientException"), "{e}");
    assert!(e.contains("check the credentials"), "{e}");
}

#[test]
fn missing_credentials_say_what_was_tried_and_how_to_fix_it() {
    let m = MockGlacier::start();
    let home = TempDir::new("nocreds");
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(e.starts_with("glacier: credentials: none found"), "{e}");
    assert!(e.contains("AWS_ACCESS_KEY_ID"), "{e}");
    assert!(e.contains("--profile"), "{e}");
    assert!(e.contains("disabled by AWS_EC2_METADATA_DISABLED"), "{e}");
    assert!(m.requests().is_empty());

    // Half a key pair is an error of its own.
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 1);
    assert!(
        e.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        "{e}"
    );
    assert!(m.requests().is_empty());
}

#[test]
fn no_region_is_a_usage_error_saying_how_to_set_one() {
    let m = MockGlacier::start();
    let home = TempDir::new("noregion");
    let r: Run = glacier_mock(&m, home.path())
        .env_remove("AWS_REGION")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 2);
    assert!(e.contains("no region"), "{e}");
    assert!(e.contains("--region"), "{e}");
    assert!(e.contains("AWS_REGION"), "{e}");
    let r = run_mock(&m, &["vault", "list", "--region", "US_EAST"]);
    let e = fails_once(&r, 2);
    assert!(e.contains("invalid region 'US_EAST' (--region)"), "{e}");
    assert!(m.requests().is_empty());
}

#[test]
fn plain_http_to_a_remote_host_is_refused_before_any_network_access() {
    let m = MockGlacier::start();
    for args in [
        &["vault", "list", "--endpoint-url", "http://example.invalid"][..],
        &[
            "-v",
            "jobs",
            "list",
            "v",
            "--endpoint-url=http://example.invalid:8080/",
        ],
    ] {
        let r = run_mock(&m, args);
        // One line even with --verbose: nothing was sent, so nothing was logged.
        let e = fails_once(&r, 2);
        assert!(e.contains("'http://example.invalid"), "{e}");
        assert!(e.contains("(--endpoint-url)"), "{e}");
        assert!(e.contains("--allow-http"), "{e}");
    }
    let home = TempDir::new("http");
    let r: Run = glacier_mock(&m, home.path())
        .env("AWS_ENDPOINT_URL_GLACIER", "http://example.invalid")
        .args(["vault", "list"])
        .output()
        .expect("run")
        .into();
    let e = fails_once(&r, 2);
    assert!(e.contains("AWS_ENDPOINT_URL_GLACIER"), "{e}");
    assert!(e.contains("--allow-http"), "{e}");
    // Loopback over plain HTTP needs no flag (every other test relies on it), and
    // `localhost` counts as loopback.
    let local = m.url().replace("127.0.0.1", "localhost");
    quiet_ok(&run_mock(&m, &["vault", "list", "--endpoint-url", &local]));
    assert_eq!(m.requests().len(), 1);
}

#[test]
fn clock_skew_is_measured_and_reported() {
    let m = MockGlacier::start_with(MockConfig {
        clock_skew_secs: 3600,
        ..MockConfig::default()
    });
    m.create_vault("v");
    let e = fails_once(&run_mock(&m, &["vault", "describe", "v"]), 1);
    assert!(e.contains("InvalidSignatureException"), "{e}");
    assert!(e.contains("Signature expired"), "{e}");
    // The mock's clock is an hour ahead, so ours is an hour behind (give or take the
    // second boundaries of the two dates).
    let n: i64 = e
        .split("the local clock is ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no measured skew in: {e}"));
    assert!((3598..=3602).contains(&n), "{e}");
    assert!(
        e.contains("s behind Glacier's; fix the system clock"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
}

// ---- retries ----

#[test]
fn throttling_that_clears_is_retried_to_success() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::times(Fault::Throttle, Some("DescribeVault"), 2));
    let out = quiet_ok(&run_mock(&m, &["vault", "describe", "v"])).to_string();
    assert!(out.starts_with("vault:           v\n"), "{out}");
    let seen = ops(&m, "DescribeVault");
    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 200]);
    assert_eq!(seen[0].error_code.as_deref(), Some("ThrottlingException"));
}

#[test]
fn throttling_that_never_clears_stops_at_max_attempts() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::always(Fault::Throttle, Some("ListVaults")));
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "3"]), 1);
    assert!(e.contains("ListVaults"), "{e}");
    assert!(
        e.contains("ThrottlingException (HTTP 400): Rate exceeded"),
        "{e}"
    );
    assert!(
        e.contains(&format!("[request ID {}]", last_request_id(&m))),
        "{e}"
    );
    assert_eq!(ops(&m, "ListVaults").len(), 3);

    let e = fails_once(&run_mock(&m, &["--max-attempts", "1", "vault", "list"]), 1);
    assert!(e.contains("ThrottlingException"), "{e}");
    assert_eq!(ops(&m, "ListVaults").len(), 4);

    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "0"]), 2);
    assert!(e.contains("--max-attempts"), "{e}");
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "x"]), 2);
    assert!(e.contains("--max-attempts 'x'"), "{e}");
    assert_eq!(ops(&m, "ListVaults").len(), 4);
}

#[test]
fn service_unavailable_and_dropped_connections_that_clear_are_retried() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::times(Fault::Unavailable, Some("ListVaults"), 2));
    m.inject(FaultRule::times(
        Fault::InternalEmpty,
        Some("ListVaults"),
        1,
    ));
    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(out.lines().count(), 2, "{out}");
    let statuses: Vec<u16> = ops(&m, "ListVaults").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 500, 200]);

    m.inject(FaultRule::times(Fault::Drop, Some("DescribeVault"), 2));
    let out = quiet_ok(&run_mock(&m, &["vault", "describe", "v"])).to_string();
    assert!(out.starts_with("vault:           v\n"), "{out}");
    let statuses: Vec<u16> = ops(&m, "DescribeVault").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [0, 0, 200], "two dropped, then answered");

    m.inject(FaultRule::times(
        Fault::RequestTimeout,
        Some("DeleteVault"),
        1,
    ));
    quiet_ok(&run_mock(&m, &["-q", "vault", "delete", "v"]));
    let statuses: Vec<u16> = ops(&m, "DeleteVault").iter().map(|r| r.status).collect();
    assert_eq!(statuses, [408, 204]);
}

#[test]
fn a_connection_that_always_drops_fails_after_max_attempts_naming_the_operation() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.inject(FaultRule::always(Fault::Drop, Some("DescribeVault")));
    let e = fails_once(
        &run_mock(&m, &["vault", "describe", "v", "--max-attempts", "2"]),
        1,
    );
    assert!(e.contains("DescribeVault on vault 'v'"), "{e}");
    assert_eq!(ops(&m, "DescribeVault").len(), 2);
    m.inject(FaultRule::always(Fault::Unavailable, Some("ListVaults")));
    let e = fails_once(&run_mock(&m, &["vault", "list", "--max-attempts", "2"]), 1);
    assert!(e.contains("ServiceUnavailableException (HTTP 503)"), "{e}");
}

// ---- secrets ----

#[test]
fn verbose_logs_requests_and_request_ids_but_never_a_secret() {
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLE-session-token/with+odd=chars";
    let m = MockGlacier::start_with(MockConfig {
        session_token: Some(TOKEN.into()),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let aid = m.put_archive("v", b"abc", "");
    let home = TempDir::new("verbose");
    let run = |args: &[&str]| -> Run {
        glacier_mock(&m, home.path())
            .env("AWS_SESSION_TOKEN", TOKEN)
            .arg("--verbose")
            .args(args)
            .output()
            .expect("run")
            .into()
    };
    m.inject(FaultRule::times(Fault::Throttle, Some("ListVaults"), 1));
    let runs = [
        (run(&["vault", "list"]), 0),
        (run(&["vault", "describe", "v", "--json"]), 0),
        (run(&["jobs", "list", "v"]), 0),
        (run(&["uploads", "list", "v"]), 0),
        (run(&["vault", "describe", "nope"]), 1),
        (run(&["vault", "delete", "v"]), 1),
        (run(&["archive", "delete", "v", &aid]), 0),
        (run(&["-v", "archive", "delete", "v", &aid]), 1),
    ];
    let mut all_err = String::new();
    for (r, code) in &runs {
        assert_eq!(r.code, *code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(SECRET_KEY), "secret leaked:\n{text}");
            assert!(!text.contains(TOKEN), "session token leaked:\n{text}");
            assert!(!text.contains("Signature="), "signature leaked:\n{text}");
            assert!(!text.contains("panicked"), "{text}");
        }
        assert!(
            r.stderr.lines().all(|l| l.starts_with("glacier: ")),
            "{}",
            r.stderr
        );
        all_err.push_str(&r.stderr);
    }
    // Every request the mock answered shows up in the log with its request ID, and the
    // session token did reach the mock.
    for rec in m.requests() {
        assert!(
            all_err.contains(&format!("[request ID {}]", rec.request_id)),
            "{} {} not logged:\n{all_err}",
            rec.operation,
            rec.request_id
        );
        assert!(
            rec.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("x-amz-security-token") && v == TOKEN)
        );
    }
    let first = &runs[0].0.stderr;
    assert!(
        first.contains("glacier: > GET /-/vaults (ListVaults, 0 bytes)"),
        "{first}"
    );
    assert!(first.contains("glacier: < 400 ListVaults"), "{first}");
    assert!(first.contains("glacier: retrying ListVaults"), "{first}");
    assert!(first.contains("glacier: < 200 ListVaults"), "{first}");
    // A failure under --verbose ends with the one error line.
    let last = runs[4].0.stderr.lines().last().expect("a line");
    assert!(last.contains("ResourceNotFoundException"), "{last}");
    assert_eq!(
        runs[4]
            .0
            .stderr
            .lines()
            .filter(|l| l.contains("ResourceNotFound"))
            .count(),
        1
    );
}
