//! `glacier archive delete` through the real binary against the mock.

use std::process::Stdio;

use crate::mock::{Fault, FaultRule, Gate, MockGlacier};
use crate::support::{
    TempDir, count, fails_once, glacier_mock, json, last_request_id, ops, pattern, quiet_ok,
    run_mock, stderr_lines, wait_for,
};

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

/// Ctrl-C during `archive delete` with several IDs is acknowledged at once (the deletion
/// in flight may take a while); that deletion finishes, no other is sent, and the error
/// line, still the last, says the rest are still there.
#[test]
fn ctrl_c_is_acknowledged_at_once_and_stops_between_deletions() {
    let m = MockGlacier::start();
    m.create_vault("v");
    let ids: Vec<String> = (0..6)
        .map(|i| m.put_archive("v", &pattern(100, i), ""))
        .collect();
    let gate = Gate::new();
    m.inject(FaultRule::always(
        Fault::Hold(gate.clone()),
        Some("DeleteArchive"),
    ));
    let home = TempDir::new("archive-delete-int");
    let mut args = vec!["archive", "delete", "-t", "1", "v", "--"];
    args.extend(ids.iter().map(String::as_str));
    let mut child = glacier_mock(&m, home.path())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (lines, stderr) = stderr_lines(&mut child);
    wait_for("a deletion", 30, || count(&m, "DeleteArchive") == 1);
    // Printed once the stop flag is set, while the deletion is still held.
    let r = crate::support::interrupt(
        child,
        stderr,
        &lines,
        "INT",
        "glacier: interrupted: no new deletion starts; requests in flight finish",
        || gate.open(),
    );
    let e = r.fails(130);
    assert!(
        e.ends_with(
            "glacier: archive delete on vault 'v' stopped; archives not yet deleted are still there\n"
        ),
        "{e}"
    );
    assert_eq!(count(&m, "DeleteArchive"), 1, "{e}");
    assert_eq!(m.archives("v").len(), 5, "{e}");
}
