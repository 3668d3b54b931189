//! `glacier uploads` (list, parts, abort) through the real binary against the mock.

use crate::mock::MockGlacier;
use crate::mock::client::{Client, req};
use crate::support::{MIB, fails_once, json, last_request_id, pattern, quiet_ok, run_mock};

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
