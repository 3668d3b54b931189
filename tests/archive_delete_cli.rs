//! `glacier archive delete` through the real binary against the mock.

use crate::mock::MockGlacier;
use crate::support::{fails_once, json, last_request_id, ops, pattern, quiet_ok, run_mock};

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
