//! `glacier vault` (list, describe, create, delete) through the real binary against the
//! mock: stdout, stderr and exit code, the requests the mock saw, and usage errors that
//! send nothing.

use crate::mock::MockGlacier;
use crate::support::{MIB, fails_once, json, last_request_id, ops, pattern, quiet_ok, run_mock};

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
    // CreateVault is idempotent ("Create Vault"), so the same words fit a new vault and
    // an existing one: never "created" for a vault that was there.
    assert_eq!(r.stderr, "glacier: vault 'new-vault' is ready\n");
    assert_eq!(ops(&m, "CreateVault").len(), 1);
    assert_eq!(ops(&m, "CreateVault")[0].status, 201);

    // An existing vault (with an archive, so it is the same one): succeeds, same words.
    m.create_vault("kept");
    m.put_archive("kept", b"kept", "kept");
    let r = run_mock(&m, &["vault", "create", "kept"]);
    assert_eq!(r.ok(), "");
    assert_eq!(r.stderr, "glacier: vault 'kept' is ready\n");
    assert_eq!(m.archives("kept").len(), 1, "the vault was not replaced");

    // --quiet drops the note.
    let r = run_mock(&m, &["vault", "create", "new-vault", "-q"]);
    assert_eq!(quiet_ok(&r), "");

    let v = json(quiet_ok(&run_mock(
        &m,
        &["vault", "create", "other", "--json"],
    )));
    assert_eq!(v["vault"], "other");
    assert_eq!(v["location"], "/012345678901/vaults/other");

    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(out.lines().count(), 4, "{out}");

    let r = run_mock(&m, &["vault", "delete", "new-vault"]);
    assert_eq!(r.ok(), "");
    assert_eq!(r.stderr, "glacier: deleted vault 'new-vault'\n");
    let v = json(quiet_ok(&run_mock(
        &m,
        &["--json", "vault", "delete", "other"],
    )));
    assert_eq!(v, serde_json::json!({"vault": "other", "deleted": true}));
    let out = quiet_ok(&run_mock(&m, &["vault", "list"])).to_string();
    assert_eq!(out.lines().count(), 2, "only 'kept' is left: {out}");
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
            "glacier: 'vault' needs one of: list, describe, create, delete, export, purge, plan (see 'glacier help vault')",
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
