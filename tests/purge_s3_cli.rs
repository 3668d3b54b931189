//! `glacier vault purge --only-exported s3://BUCKET/PREFIX` through the real binary: the
//! Glacier mock on one side, moto's S3 server (started by `s3_client::setup`) on the
//! other. A subset of the vault is migrated with `vault export ... s3://`, one object is
//! then removed from the bucket, and the purge deletes exactly the archives the bucket's
//! manifest records as exported whose object is still there. Skipped only with
//! `GLACIER_SKIP_S3_TESTS=1`, as in `s3_client.rs`.

use std::path::Path;

use crate::mock::{MockConfig, MockGlacier};
use crate::s3_client::{S3Server, setup};
use crate::support::{Run, TempDir, glacier_mock, inventory_json, pattern};

fn run(mock: &MockGlacier, home: &Path, server: &S3Server, args: &[&str]) -> Run {
    glacier_mock(mock, home)
        .args(args)
        .env(
            "AWS_ENDPOINT_URL_S3",
            format!("http://127.0.0.1:{}", server.port),
        )
        .output()
        .expect("run glacier")
        .into()
}

#[test]
fn only_exported_to_s3_deletes_exactly_the_verified_objects_still_in_the_bucket() {
    let Some((server, client)) = setup("purge-s3") else {
        return;
    };
    let mock = MockGlacier::start_with(MockConfig {
        job_completes_after_polls: Some(0),
        ..MockConfig::default()
    });
    let home = TempDir::new("purge-s3");
    mock.create_vault("v");
    for i in 0..12 {
        let data = pattern(1 + (i * 131) % 3000, i as u64);
        mock.put_archive("v", &data, &format!("dir{}/file{i}", i % 3));
    }
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    // One entry without a CreationDate (optional in the service model): it
    // migrates all the same, its object carrying no date.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&inv).expect("inv")).expect("json");
    for a in doc["ArchiveList"].as_array_mut().expect("list") {
        if a["ArchiveDescription"] == "dir1/file1" {
            a.as_object_mut().expect("entry").remove("CreationDate");
        }
    }
    std::fs::write(&inv, doc.to_string()).expect("inv");
    let inv_s = inv.to_str().expect("utf8");
    let journal = home.join("export-journal");
    // Migrate a subset: dir0 and dir1 (8 archives).
    let r = run(
        &mock,
        home.path(),
        server,
        &[
            "vault",
            "export",
            "--exclude",
            "dir2/**",
            "--storage-class",
            "STANDARD",
            "--journal",
            journal.to_str().expect("utf8"),
            "--inventory",
            inv_s,
            "v",
            "s3://purge-s3/vaults/v",
        ],
    );
    r.ok();
    assert!(r.stdout.contains("exported 8 of 8"), "{}", r.stdout);
    let undated = client
        .head_object("purge-s3", "vaults/v/dir1/file1")
        .expect("head")
        .expect("object there");
    let meta = glacier_upload::s3::ArchiveMetadata::from_headers(&undated.metadata)
        .expect("archive metadata");
    assert_eq!(meta.creation_date, None);
    // One object removed from the bucket after the export: its record is no copy.
    client
        .delete_object("purge-s3", "vaults/v/dir0/file3")
        .expect("delete object");
    let gone = mock
        .archives("v")
        .iter()
        .find(|a| a.description == "dir0/file3")
        .expect("archive")
        .archive_id
        .clone();

    let r = run(
        &mock,
        home.path(),
        server,
        &[
            "--json",
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            "s3://purge-s3/vaults/v",
            "--journal",
            home.join("purge.jsonl").to_str().expect("utf8"),
            "--inventory",
            inv_s,
            "v",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(r.ok()).expect("json");
    assert_eq!(v["deleted"], 7, "{v}");
    assert_eq!(v["not_exported"], 5, "{v}");
    assert!(
        r.stderr
            .contains("7 archives exported and verified in s3://purge-s3/vaults/v/"),
        "{}",
        r.stderr
    );
    let mut left: Vec<String> = mock
        .archives("v")
        .iter()
        .map(|a| a.description.clone())
        .collect();
    left.sort();
    let mut want: Vec<String> = (0..12)
        .filter(|i| i % 3 == 2)
        .map(|i| format!("dir2/file{i}"))
        .chain(["dir0/file3".to_string()])
        .collect();
    want.sort();
    assert_eq!(left, want);
    assert!(
        mock.requests()
            .iter()
            .filter(|q| q.operation == "DeleteArchive")
            .all(|q| !q.path.ends_with(&gone)),
        "the archive whose object is gone was not deleted"
    );

    // A prefix with no export: one clear line, nothing sent to Glacier.
    let before = mock.requests().len();
    let e = run(
        &mock,
        home.path(),
        server,
        &[
            "vault",
            "purge",
            "--yes",
            "--only-exported",
            "s3://purge-s3/elsewhere",
            "--journal",
            home.join("purge2.jsonl").to_str().expect("utf8"),
            "--inventory",
            inv_s,
            "v",
        ],
    );
    let err = e.fails(2);
    assert!(err.contains("no export manifest"), "{}", e.stderr);
    assert!(
        err.contains("export the vault there with `glacier vault export` first"),
        "{}",
        e.stderr
    );
    assert_eq!(mock.requests().len(), before);

    // --s3-endpoint-url belongs to an S3 export only.
    let e = run(
        &mock,
        home.path(),
        server,
        &[
            "vault",
            "purge",
            "--yes",
            "--s3-endpoint-url",
            "http://127.0.0.1:1",
            "--only-exported",
            home.path().to_str().expect("utf8"),
            "v",
        ],
    );
    assert!(
        e.fails(2)
            .contains("--s3-endpoint-url is for --only-exported s3://"),
        "{}",
        e.stderr
    );
}
