//! `glacier vault delete --when-empty` through the real binary against the mock, which
//! reports counts as of the last inventory and refuses DeleteVault until an inventory
//! shows the vault empty with no write since ("Delete Vault", "Describe Vault";
//! `MockGlacier::take_inventory` is Glacier's daily inventory).

use std::process::Stdio;

use crate::mock::MockGlacier;
use crate::support::{
    TempDir, fails_once, glacier_mock, json, ops, quiet_ok, run_mock, stderr_lines, wait_for,
};

/// A vault `v` with one archive, inventoried, whose archive was then deleted: Glacier's
/// last inventory still counts it.
fn emptied_vault(m: &MockGlacier) {
    m.create_vault("v");
    let id = m.put_archive("v", b"data", "a.txt");
    m.take_inventory("v");
    quiet_ok(&run_mock(m, &["-q", "archive", "delete", "v", &id]));
}

#[test]
fn not_yet_while_the_inventory_counts_archives_then_deleted_once_it_shows_none() {
    let m = MockGlacier::start();
    emptied_vault(&m);
    let e = fails_once(&run_mock(&m, &["vault", "delete", "--when-empty", "v"]), 3);
    assert!(
        e.starts_with("glacier: not yet: vault 'v': Glacier's last inventory (20"),
        "{e}"
    );
    assert!(e.contains(") counts 1 archives; try again after 20"), "{e}");
    assert!(e.ends_with("(Glacier inventories about daily)"), "{e}");
    assert!(
        ops(&m, "DeleteVault").is_empty(),
        "the count said no: nothing to ask"
    );
    // --no-wait is the default, said out loud.
    fails_once(
        &run_mock(&m, &["vault", "delete", "--when-empty", "--no-wait", "v"]),
        3,
    );

    // Glacier's next inventory shows the vault empty: deleted.
    assert!(m.take_inventory("v"));
    let r = run_mock(&m, &["vault", "delete", "--when-empty", "v"]);
    assert_eq!(r.ok(), "");
    assert_eq!(r.stderr, "glacier: deleted vault 'v'\n");
    let d = ops(&m, "DeleteVault");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, 204);
}

#[test]
fn a_write_since_the_empty_inventory_is_not_yet_too_and_json_says_why() {
    let m = MockGlacier::start();
    emptied_vault(&m);
    m.take_inventory("v");
    // Written after the inventory that shows it empty: Glacier refuses DeleteVault.
    m.put_archive("v", b"late", "late.txt");
    let r = run_mock(&m, &["--json", "vault", "delete", "--when-empty", "v"]);
    let e = r.fails(3);
    assert!(
        e.contains("Glacier refuses to delete it yet: written since its last inventory"),
        "{e}"
    );
    let v = json(&r.stdout);
    assert_eq!(v["vault"], "v");
    assert_eq!(v["deleted"], false);
    assert!(
        v["retry_after"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{v}"
    );
    assert_eq!(ops(&m, "DeleteVault").len(), 1);
    assert_eq!(ops(&m, "DeleteVault")[0].status, 400);
    assert_eq!(m.archives("v").len(), 1);
}

#[test]
fn a_vault_never_written_is_deleted_at_once() {
    let m = MockGlacier::start();
    m.create_vault("fresh");
    let v = json(quiet_ok(&run_mock(
        &m,
        &["--json", "vault", "delete", "--when-empty", "fresh"],
    )));
    assert_eq!(v, serde_json::json!({"vault": "fresh", "deleted": true}));
}

#[test]
fn wait_polls_until_the_inventory_shows_the_vault_empty() {
    let m = MockGlacier::start();
    emptied_vault(&m);
    let home = TempDir::new("when-empty");
    let child = glacier_mock(&m, home.path())
        .args(["vault", "delete", "--when-empty", "--wait", "v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // It keeps looking (GLACIER_POLL_MS=1) without deleting anything...
    wait_for("a few DescribeVault", 20, || {
        ops(&m, "DescribeVault").len() >= 3
    });
    assert!(ops(&m, "DeleteVault").is_empty());
    // ...until Glacier's inventory shows the vault empty.
    m.take_inventory("v");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("counts 1 archives; checking again in"),
        "{stderr}"
    );
    assert!(stderr.ends_with("glacier: deleted vault 'v'\n"), "{stderr}");
    assert_eq!(quiet_ok(&run_mock(&m, &["vault", "list"])), "no vaults\n");
}

#[test]
fn ctrl_c_ends_the_wait_at_once_and_deletes_nothing() {
    let m = MockGlacier::start();
    emptied_vault(&m);
    let home = TempDir::new("when-empty-int");
    let mut child = glacier_mock(&m, home.path())
        .args([
            "vault",
            "delete",
            "--when-empty",
            "--wait",
            "--poll",
            "1h",
            "v",
        ])
        .env_remove("GLACIER_POLL_MS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (lines, err) = stderr_lines(&mut child);
    wait_for("the first DescribeVault", 20, || {
        !ops(&m, "DescribeVault").is_empty()
    });
    // The handler is installed before the first look; a signal now interrupts the wait.
    let r = crate::support::interrupt(
        child,
        err,
        &lines,
        "INT",
        "glacier: interrupted: the wait ends now",
        || {},
    );
    let stderr = r.fails(130);
    assert!(
        stderr.ends_with("waiting to delete vault 'v' interrupted; the vault was not deleted\n"),
        "{stderr}"
    );
    assert!(ops(&m, "DeleteVault").is_empty());
}

#[test]
fn wait_and_poll_need_when_empty_and_send_nothing() {
    let m = MockGlacier::start();
    m.create_vault("v");
    for (args, says) in [
        (
            &["vault", "delete", "--wait", "v"][..],
            "glacier: --wait is for 'vault delete --when-empty'",
        ),
        (
            &["vault", "delete", "--poll", "5m", "v"][..],
            "glacier: --poll is for 'vault delete --when-empty'",
        ),
        (
            &[
                "vault",
                "delete",
                "--when-empty",
                "--wait",
                "--no-wait",
                "v",
            ][..],
            "glacier: give --wait or --no-wait, not both",
        ),
        (
            &["vault", "delete", "--when-empty", "--poll", "0s", "v"][..],
            "glacier: --poll '0s': must be more than 0",
        ),
    ] {
        assert_eq!(fails_once(&run_mock(&m, args), 2), says);
    }
    assert!(m.requests().is_empty());
}

#[test]
fn a_wait_rides_out_faults_that_outlast_the_client_s_retries() {
    use crate::mock::{Fault, FaultRule};
    let m = MockGlacier::start();
    emptied_vault(&m);
    m.take_inventory("v");
    // Three 503s on DescribeVault, with one attempt per request: each one ends a check,
    // and the --wait run goes on after a pause instead of exiting 1.
    m.inject(FaultRule::times(
        Fault::Unavailable,
        Some("DescribeVault"),
        3,
    ));
    let r = run_mock(
        &m,
        &[
            "--max-attempts",
            "1",
            "vault",
            "delete",
            "--when-empty",
            "--wait",
            "v",
        ],
    );
    let stderr = &r.stderr;
    assert_eq!(r.code, 0, "{stderr}");
    assert!(stderr.contains("checking vault 'v': "), "{stderr}");
    assert!(stderr.ends_with("glacier: deleted vault 'v'\n"), "{stderr}");
    assert_eq!(ops(&m, "DescribeVault").len(), 4);
}
