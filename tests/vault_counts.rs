//! What Glacier reports lazily: a vault's counts and `LastInventoryDate` are those of its
//! last inventory (null before the first, "Describe Vault"), inventory jobs report that
//! inventory, and DeleteVault waits for an inventory that shows the vault empty with
//! nothing written since ("Delete Vault"). The CLI shows an unknown count as `-` (and
//! `null` with `--json`), never as 0, and never fails on a null.

use crate::mock::{MockConfig, MockGlacier};
use crate::support::{pattern, run_mock};

fn json(s: &str) -> serde_json::Value {
    assert_eq!(s.lines().count(), 1, "one line of JSON: {s}");
    serde_json::from_str(s).expect("stdout is JSON")
}

#[test]
fn a_new_vault_lists_with_unknown_counts_not_zero() {
    let m = MockGlacier::start();
    let r = run_mock(&m, &["vault", "create", "photos"]);
    r.ok();
    // `vault create photos && vault list`: the new vault has null counts, which list.
    let r = run_mock(&m, &["vault", "list"]);
    let out = r.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[..3], ["photos", "-", "-"], "{out}");
    assert_eq!(row[4], "never", "{out}");

    let v = json(run_mock(&m, &["--json", "vault", "list"]).ok());
    let d = &v[0];
    assert_eq!(d["vault_name"], "photos");
    for k in ["number_of_archives", "size_in_bytes", "last_inventory_date"] {
        assert!(d[k].is_null(), "{k} should be null: {d}");
    }

    let r = run_mock(&m, &["vault", "describe", "photos"]);
    let out = r.ok();
    assert!(out.contains("archives:        -\n"), "{out}");
    assert!(out.contains("size:            -\n"), "{out}");
    assert!(out.contains("last inventory:  never\n"), "{out}");
}

#[test]
fn counts_are_those_of_the_last_inventory() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.put_archive("v", &pattern(3000, 1), "one");
    // Written but not yet inventoried: still unknown.
    let d = json(run_mock(&m, &["--json", "vault", "describe", "v"]).ok());
    assert!(d["number_of_archives"].is_null(), "{d}");
    assert!(m.take_inventory("v"));
    m.put_archive("v", &pattern(5000, 2), "two");
    let d = json(run_mock(&m, &["--json", "vault", "describe", "v"]).ok());
    assert_eq!(d["number_of_archives"], 1, "{d}");
    assert_eq!(d["size_in_bytes"], 3000, "{d}");
    assert!(d["last_inventory_date"].is_string(), "{d}");
    assert!(m.take_inventory("v"));
    let d = json(run_mock(&m, &["--json", "vault", "describe", "v"]).ok());
    assert_eq!(d["number_of_archives"], 2, "{d}");
    // Nothing written since: the inventory (and its date) stand.
    assert!(!m.take_inventory("v"));
}

#[test]
fn an_inventory_job_reports_the_last_inventory_not_the_live_vault() {
    let m = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    m.create_vault("v");
    let first = m.put_archive("v", &pattern(100, 1), "first");
    m.take_inventory("v");
    m.put_archive("v", &pattern(200, 2), "second");
    let r = run_mock(
        &m,
        &["--json", "inventory", "init-retrieval", "--wait", "v"],
    );
    let v = json(r.ok());
    let job = v["job_id"].as_str().expect("job id").to_string();
    let r = run_mock(&m, &["inventory", "get", "--format", "jsonl", "v", &job]);
    let out = r.ok();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(&first), "{out}");
}

#[test]
fn an_inventory_job_on_a_vault_never_inventoried_fails_in_one_line() {
    let m = MockGlacier::start();
    m.create_vault("v");
    m.put_archive("v", b"data", "");
    let r = run_mock(&m, &["inventory", "init-retrieval", "v"]);
    let e = r.fails(1);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot be initiated yet"), "{e}");
    assert!(e.contains("'v'"), "{e}");
}

#[test]
fn delete_vault_waits_for_an_inventory_showing_it_empty() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let id = m.put_archive("v", b"data", "");
    run_mock(&m, &["archive", "delete", "v", &id]).ok();
    // Empty now, but written since the last inventory (there is none yet).
    let e = run_mock(&m, &["vault", "delete", "v"]).fails(1).to_string();
    assert!(e.contains("Vault not empty or recently written to"), "{e}");
    assert!(e.contains("InvalidParameterValueException"), "{e}");
    m.take_inventory("v");
    run_mock(&m, &["vault", "delete", "v"]).ok();
    assert!(
        json(run_mock(&m, &["--json", "vault", "list"]).ok())
            .as_array()
            .expect("array")
            .is_empty()
    );
}

#[test]
fn a_vault_inventoried_with_archives_is_not_deleted_even_when_emptied() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let id = m.put_archive("v", b"data", "");
    m.take_inventory("v");
    run_mock(&m, &["archive", "delete", "v", &id]).ok();
    let e = run_mock(&m, &["vault", "delete", "v"]).fails(1).to_string();
    assert!(e.contains("Vault not empty or recently written to"), "{e}");
}
