//! `glacier upload --upload-id` on multipart uploads another client started: the parts
//! are put on the mock directly, shaped as boto3 sends them (InitiateMultipartUpload with
//! `x-amz-part-size` and `x-amz-archive-description`; UploadMultipartPart with
//! `Content-Range: bytes A-B/*`, `x-amz-sha256-tree-hash` and `x-amz-content-sha256`:
//! API Reference, "Upload Part"). A resume of the wrong file sends nothing; what differs
//! is said in plain words with what to do.

use crate::mock::MockGlacier;
use crate::mock::client::{Client, req};
use crate::support::{MIB, TempDir, count, fails_once, path_str, pattern, run, stored};

/// Starts a multipart upload of `data` with 1 MiB parts and `description`, as boto3's
/// `initiate_multipart_upload` / `upload_multipart_part` do, and uploads the parts at
/// `parts`; returns the upload ID.
fn boto_upload(m: &MockGlacier, description: &str, data: &[u8], parts: &[usize]) -> String {
    let mut c = Client::new(m);
    let resp = c.ok(req("POST", "/-/vaults/v/multipart-uploads")
        .h("x-amz-part-size", &MIB.to_string())
        .h("x-amz-archive-description", description));
    let id = resp
        .header("x-amz-multipart-upload-id")
        .expect("upload id")
        .to_string();
    for &i in parts {
        let end = ((i + 1) * MIB).min(data.len());
        c.ok(req("PUT", &format!("/-/vaults/v/multipart-uploads/{id}"))
            .body(&data[i * MIB..end])
            .tree()
            .h("content-range", &format!("bytes {}-{}/*", i * MIB, end - 1)));
    }
    id
}

/// Parts 0 and 3 of four are on Glacier; the wrong file differs only in part 3. One
/// thread takes the parts in order, so before every known part was checked first, parts
/// 1 and 2 of the wrong file went up before part 3 was found to differ, and the right
/// file could no longer resume.
#[test]
fn a_refused_resume_sends_nothing_and_the_right_file_still_resumes() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("foreign-wrong");
    let data = pattern(4 * MIB - 100, 41);
    let mut other = data.clone();
    other[3 * MIB + 5] ^= 0xFF;
    let (right, wrong) = (dir.join("right.bin"), dir.join("wrong.bin"));
    std::fs::write(&right, &data).expect("write");
    std::fs::write(&wrong, &other).expect("write");
    let id = boto_upload(&mock, "boto_multi.bin", &data, &[0, 3]);
    let parts_before = count(&mock, "UploadMultipartPart");

    let args = |f| {
        vec![
            "upload",
            "-t",
            "1",
            "-d",
            "boto_multi.bin",
            "--upload-id",
            id.as_str(),
            "v",
            f,
        ]
    };
    let r = run(&mock, dir.path(), &args(path_str(&wrong)));
    let err = r.fails(1);
    assert!(err.contains("part 3"), "{err}");
    assert_eq!(
        count(&mock, "UploadMultipartPart"),
        parts_before,
        "a refused resume sent parts: {err}"
    );
    assert_eq!(count(&mock, "CompleteMultipartUpload"), 0);

    let r = run(&mock, dir.path(), &args(path_str(&right)));
    let archive = r.ok().trim().to_string();
    assert_eq!(count(&mock, "UploadMultipartPart"), parts_before + 2);
    assert_eq!(stored(&mock, "v", &archive), data);
    assert_eq!(mock.archives("v")[0].description, "boto_multi.bin");
}

/// A resume whose description differs from the one the other tool started the upload
/// with says both in plain words (no Rust debug text), and ways out that apply to
/// `--upload-id` (not `--no-resume`); following the first one resumes the upload.
#[test]
fn another_tools_description_is_named_with_what_to_do() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("foreign-desc");
    let data = pattern(2 * MIB + 7, 42);
    let f = dir.join("mine.bin");
    std::fs::write(&f, &data).expect("write");
    let id = boto_upload(&mock, "it's boto_multi.bin", &data, &[0]);

    let r = run(
        &mock,
        dir.path(),
        &["upload", "--upload-id", &id, "v", path_str(&f)],
    );
    let err = fails_once(&r, 1);
    for want in [
        "was started with the description 'it'\\''s boto_multi.bin'",
        "this run's is 'mine.bin'",
        "add --description 'it'\\''s boto_multi.bin'",
        "leave --upload-id out",
        &format!("glacier uploads abort v {id}"),
    ] {
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
    assert!(!err.contains("Description("), "{err}");
    assert!(!err.contains("--no-resume"), "{err}");
    assert_eq!(count(&mock, "UploadMultipartPart"), 1, "nothing sent");

    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--description",
            "it's boto_multi.bin",
            "--upload-id",
            &id,
            "v",
            path_str(&f),
        ],
    );
    let archive = r.ok().trim().to_string();
    assert_eq!(stored(&mock, "v", &archive), data);
}
