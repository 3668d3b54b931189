//! `glacier vault export VAULT s3://BUCKET/PREFIX` through the real binary: the Glacier
//! mock on one side, moto's S3 server (started by `s3_client::setup`) on the other, both
//! on loopback. Skipped only with `GLACIER_SKIP_S3_TESTS=1`, as in `s3_client.rs`.
//!
//! moto answers GetObject on a DEEP_ARCHIVE or GLACIER object with InvalidObjectState, as
//! S3 does before a restore, so the byte-for-byte checks export with
//! `--storage-class STANDARD`; the default class is checked with HeadObject.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use glacier_upload::export::{S3Destination, S3Target};
use glacier_upload::s3::{ArchiveMetadata, Body, Client, ObjectOptions, StorageClass};

use crate::mock::{Fault, FaultRule, MockGlacier};
use crate::s3_client::{S3Server, get, setup};
use crate::support::{Run, TempDir, glacier_mock, pattern};

const MIB: usize = 1 << 20;

fn count(mock: &MockGlacier, op: &str) -> usize {
    mock.requests().iter().filter(|r| r.operation == op).count()
}

/// The vault's inventory as Glacier's JSON, written to `path`; `edit` may change an
/// entry (to make the inventory disagree with the archive).
fn inventory(mock: &MockGlacier, path: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let list: Vec<serde_json::Value> = mock
        .archives("v")
        .iter()
        .map(|a| {
            let mut v = serde_json::json!({
                "ArchiveId": a.archive_id,
                "ArchiveDescription": a.description,
                "CreationDate": a.creation_date,
                "Size": a.size,
                "SHA256TreeHash": a.tree_hash,
            });
            edit(&mut v);
            v
        })
        .collect();
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-01-01T00:00:00Z", "ArchiveList": list});
    std::fs::write(path, doc.to_string()).expect("write inventory");
}

/// A vault `v` of mixed sizes: the smallest archive (1 byte), small ones, and one of
/// 11 MiB, above a 5 MiB part size (three parts, the last one short). Descriptions
/// with spaces, `%`, non-ASCII and a path.
fn seed(mock: &MockGlacier) -> HashMap<String, (Vec<u8>, String)> {
    mock.create_vault("v");
    let archives = [
        (1, "one byte"),
        (1000, "docs/a  b%20c.txt"),
        (70_000, "ünïcode/päth.bin"),
        (11 * MIB + 12_345, "big/video.mp4"),
        (MIB, "exactly one MiB"),
    ];
    archives
        .iter()
        .enumerate()
        .map(|(i, (len, desc))| {
            let data = pattern(*len, 40 + i as u64);
            let id = mock.put_archive("v", &data, desc);
            (id, (data, desc.to_string()))
        })
        .collect()
}

/// Runs the export with the S3 endpoint of `server`.
fn export(mock: &MockGlacier, home: &Path, server: &S3Server, args: &[&str]) -> Run {
    command(mock, home, server, args)
        .output()
        .expect("run glacier")
        .into()
}

fn command(
    mock: &MockGlacier,
    home: &Path,
    server: &S3Server,
    args: &[&str],
) -> std::process::Command {
    let mut c = glacier_mock(mock, home);
    c.args(["vault", "export", "--s3-endpoint-url"])
        .arg(format!("http://127.0.0.1:{}", server.port))
        .args(args);
    c
}

/// The object under `key`, with its metadata, or `None`.
fn object(client: &Client, bucket: &str, key: &str) -> Option<(ArchiveMetadata, String)> {
    let h = client.head_object(bucket, key).expect("head")?;
    let meta: BTreeMap<String, String> = h.metadata;
    let m = ArchiveMetadata::from_headers(&meta).expect("archive metadata");
    Some((m, h.storage_class.unwrap_or_else(|| "STANDARD".into())))
}

/// The bucket's copy of the manifest: archive ID -> (path, status).
fn bucket_manifest(client: &Client, bucket: &str, key: &str) -> HashMap<String, (String, String)> {
    String::from_utf8(get(client, bucket, key))
        .expect("utf8")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let s = |k: &str| v[k].as_str().expect(k).to_string();
            (s("archive_id"), (s("path"), s("status")))
        })
        .collect()
}

/// Checks every archive is in the bucket under `prefix`, byte for byte, with its
/// Glacier facts as metadata, and that the manifest in the bucket says so.
fn check_migrated(
    mock: &MockGlacier,
    client: &Client,
    bucket: &str,
    prefix: &str,
    data: &HashMap<String, (Vec<u8>, String)>,
) {
    let m = bucket_manifest(
        client,
        bucket,
        &format!("{prefix}.glacier-export/glacier-export-manifest.jsonl"),
    );
    assert_eq!(m.len(), data.len());
    for a in mock.archives("v") {
        let (path, status) = &m[&a.archive_id];
        assert_eq!(status, "exported");
        let key = format!("{prefix}{path}");
        let (bytes, desc) = &data[&a.archive_id];
        assert_eq!(&get(client, bucket, &key), bytes, "{key}");
        let (meta, _) = object(client, bucket, &key).expect("object");
        assert_eq!(meta.archive_id, a.archive_id);
        assert_eq!(meta.tree_hash.to_hex(), a.tree_hash);
        assert_eq!(meta.description, desc.as_bytes());
        let created = time::OffsetDateTime::parse(
            &a.creation_date,
            &time::format_description::well_known::Rfc3339,
        )
        .expect("mock date");
        assert_eq!(meta.creation_date, Some(created));
    }
}

/// Runs `args` with `--no-wait` (starts the jobs, exit 3), completes the jobs, and runs
/// again: the usual two-step export against the mock.
fn export_twice(mock: &MockGlacier, home: &Path, server: &S3Server, args: &[&str]) -> Run {
    let mut first = vec!["--no-wait"];
    first.extend_from_slice(args);
    let r = export(mock, home, server, &first);
    assert_eq!(r.code, 3, "{}", r.stderr);
    mock.complete_jobs();
    export(mock, home, server, args)
}

#[test]
fn a_vault_of_mixed_sizes_migrates_byte_for_byte_with_its_metadata() {
    let Some((server, client)) = setup("migrate-mixed") else {
        return;
    };
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-mixed");
    let data = seed(&mock);
    let inv = home.join("inv.json");
    inventory(&mock, &inv, |_| {});
    let journal = home.join("journal");
    let args = [
        "--inventory",
        inv.to_str().expect("utf8"),
        "--journal",
        journal.to_str().expect("utf8"),
        "--storage-class",
        "STANDARD",
        "--s3-part-size",
        "5M",
        "v",
        "s3://migrate-mixed/vaults/v",
    ];
    let r = export_twice(&mock, home.path(), server, &args);
    r.ok();
    assert!(r.stdout.contains("exported 5 of 5"), "{}", r.stdout);
    assert!(
        r.stdout.contains("s3://migrate-mixed/vaults/v/"),
        "{}",
        r.stdout
    );
    check_migrated(&mock, &client, "migrate-mixed", "vaults/v/", &data);
    assert!(journal.join("glacier-export-manifest.csv").exists());
    assert!(journal.join("journal.jsonl").exists());
    assert!(
        client
            .list_multipart_uploads("migrate-mixed", "")
            .expect("list")
            .is_empty(),
        "no upload left behind"
    );

    // A rerun does nothing: no retrieval, no download.
    let (jobs, gets) = (count(&mock, "InitiateJob"), count(&mock, "GetJobOutput"));
    export(&mock, home.path(), server, &args).ok();
    assert_eq!(
        (count(&mock, "InitiateJob"), count(&mock, "GetJobOutput")),
        (jobs, gets)
    );

    // Without the journal, the objects themselves (HeadObject: same archive ID and tree
    // hash) say what is done: still no retrieval.
    std::fs::remove_dir_all(&journal).expect("remove journal");
    let r = export(&mock, home.path(), server, &args);
    r.ok();
    assert_eq!(count(&mock, "InitiateJob"), jobs, "{}", r.stderr);
    assert!(r.stdout.contains("exported 5 of 5"), "{}", r.stdout);

    // The seam for `vault purge --only-exported s3://...`: what the bucket's manifest
    // records as exported and the bucket still holds, checked object by object.
    let target = S3Target::parse("s3://migrate-mixed/vaults/v")
        .expect("s3")
        .expect("ok");
    let dest = S3Destination::new(client.clone(), target, StorageClass::Standard, 5 << 20);
    let exported = |dest: &S3Destination| {
        let mut ids = Vec::new();
        dest.exported_in_bucket(&mut |o| {
            ids.push(o.archive_id);
            Ok(())
        })
        .expect("exported");
        ids.sort();
        ids
    };
    let mut all: Vec<String> = data.keys().cloned().collect();
    all.sort();
    assert_eq!(exported(&dest), all);
    // An object removed, or replaced by something else, no longer counts.
    client
        .delete_object("migrate-mixed", "vaults/v/one byte")
        .expect("delete");
    let other = Body::new(b"not the archive".to_vec().into());
    client
        .put_object(
            "migrate-mixed",
            "vaults/v/exactly one MiB",
            &other,
            &ObjectOptions {
                storage_class: StorageClass::Standard,
                metadata: Vec::new(),
            },
        )
        .expect("put");
    assert_eq!(exported(&dest).len(), 3);

    // The export does not overwrite the stranger's object: that archive is reported,
    // and the missing one is exported again (the journal, which trusts its own records
    // as a directory export does, is removed so that the bucket is asked).
    // The jobs of the first run are still valid and are adopted: no new retrieval.
    std::fs::remove_dir_all(&journal).expect("remove journal");
    let r = export(&mock, home.path(), server, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateJob"), jobs);
    assert!(
        r.stderr.contains("exists and is not archive"),
        "{}",
        r.stderr
    );
    assert_eq!(
        get(&client, "migrate-mixed", "vaults/v/exactly one MiB"),
        b"not the archive"
    );
    assert!(object(&client, "migrate-mixed", "vaults/v/one byte").is_some());
}

#[test]
fn the_default_storage_class_is_deep_archive_and_the_journal_goes_to_xdg_data_home() {
    let Some((server, client)) = setup("migrate-class") else {
        return;
    };
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-class");
    mock.create_vault("v");
    let id = mock.put_archive("v", b"x", "tiny");
    let inv = home.join("inv.json");
    inventory(&mock, &inv, |_| {});
    let r = export_twice(
        &mock,
        home.path(),
        server,
        &[
            "--inventory",
            inv.to_str().expect("utf8"),
            "v",
            "s3://migrate-class",
        ],
    );
    r.ok();
    let (meta, class) = object(&client, "migrate-class", "tiny").expect("object");
    assert_eq!(
        (meta.archive_id.as_str(), class.as_str()),
        (id.as_str(), "DEEP_ARCHIVE")
    );
    // The glacier_mock environment sets XDG_DATA_HOME to `home`.
    let base = home.join("glacier-upload/export/migrate-class");
    let dirs: Vec<_> = std::fs::read_dir(&base)
        .expect("journal base")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].join("journal.jsonl").exists());
    // The manifest in the bucket is not in an archive class: it is read back.
    assert!(
        String::from_utf8(get(
            &client,
            "migrate-class",
            ".glacier-export/glacier-export-manifest.csv"
        ))
        .expect("utf8")
        .contains(",exported\n")
    );
}

#[test]
fn a_corrupt_glacier_chunk_is_fetched_again_before_it_is_sent_on() {
    let Some((server, client)) = setup("migrate-corrupt") else {
        return;
    };
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-corrupt");
    mock.create_vault("v");
    let data = pattern(11 * MIB, 9);
    let id = mock.put_archive("v", &data, "big.bin");
    let inv = home.join("inv.json");
    inventory(&mock, &inv, |_| {});
    let journal = home.join("j");
    let args = [
        "--inventory",
        inv.to_str().expect("utf8"),
        "--journal",
        journal.to_str().expect("utf8"),
        "--storage-class",
        "STANDARD",
        "--s3-part-size",
        "5M",
        "v",
        "s3://migrate-corrupt/p",
    ];
    let mut first = vec!["--no-wait"];
    first.extend_from_slice(&args[..]);
    assert_eq!(export(&mock, home.path(), server, &first).code, 3);
    mock.complete_jobs();
    // The second chunk's body has one byte flipped, once.
    let gets = count(&mock, "GetJobOutput");
    mock.inject(FaultRule::times(Fault::Corrupt, Some("GetJobOutput"), 1));
    export(&mock, home.path(), server, &args).ok();
    // 11 MiB in 8 MiB parts (5M rounded up to a power of two, so each part is one
    // tree-hash aligned range): 2 requests, plus the one fetched again.
    assert_eq!(count(&mock, "GetJobOutput") - gets, 3);
    assert_eq!(get(&client, "migrate-corrupt", "p/big.bin"), data);
    let (meta, _) = object(&client, "migrate-corrupt", "p/big.bin").expect("object");
    assert_eq!(meta.archive_id, id);
}

#[test]
fn an_archive_that_does_not_match_the_inventory_is_never_completed_in_s3() {
    let Some((server, client)) = setup("migrate-bad") else {
        return;
    };
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-bad");
    mock.create_vault("v");
    let good = pattern(2000, 1);
    let good_id = mock.put_archive("v", &good, "good.bin");
    let bad_id = mock.put_archive("v", &pattern(11 * MIB, 2), "bad.bin");
    let inv = home.join("inv.json");
    // The inventory disagrees with what Glacier serves for bad.bin: every chunk passes
    // Glacier's own hash, the parts go up, and only the whole-archive check catches it.
    let bad = bad_id.clone();
    inventory(&mock, &inv, move |v| {
        if v["ArchiveId"] == bad.as_str() {
            v["SHA256TreeHash"] = serde_json::json!("ab".repeat(32));
        }
    });
    let journal = home.join("j");
    let args = [
        "--inventory",
        inv.to_str().expect("utf8"),
        "--journal",
        journal.to_str().expect("utf8"),
        "--storage-class",
        "STANDARD",
        "--s3-part-size",
        "5M",
        "--threads",
        "1",
        "v",
        "s3://migrate-bad",
    ];
    let mut first = vec!["--no-wait"];
    first.extend_from_slice(&args[..]);
    assert_eq!(export(&mock, home.path(), server, &first).code, 3);
    mock.complete_jobs();
    let r = export(&mock, home.path(), server, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&bad_id), "{}", r.stderr);
    assert!(r.stderr.contains("nothing completed in S3"), "{}", r.stderr);
    assert!(object(&client, "migrate-bad", "bad.bin").is_none());
    assert!(
        client
            .list_multipart_uploads("migrate-bad", "")
            .expect("list")
            .is_empty(),
        "the multipart upload was aborted"
    );
    assert_eq!(get(&client, "migrate-bad", "good.bin"), good);
    let m = bucket_manifest(
        &client,
        "migrate-bad",
        ".glacier-export/glacier-export-manifest.jsonl",
    );
    assert_eq!(m[&bad_id].1, "failed");
    assert_eq!(m[&good_id].1, "exported");

    // Now Glacier serves corrupt bytes on every attempt: the chunk can never be
    // verified, and still nothing is completed.
    mock.inject(FaultRule::always(Fault::Corrupt, Some("GetJobOutput")));
    let r = export(&mock, home.path(), server, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("attempts"), "{}", r.stderr);
    assert!(object(&client, "migrate-bad", "bad.bin").is_none());
    assert!(
        client
            .list_multipart_uploads("migrate-bad", "")
            .expect("list")
            .is_empty()
    );
}

#[test]
fn kill_9_then_rerun_skips_what_is_done() {
    let Some((server, client)) = setup("migrate-kill") else {
        return;
    };
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-kill");
    mock.create_vault("v");
    let data: HashMap<String, (Vec<u8>, String)> = (0..12)
        .map(|i| {
            let len = if i % 4 == 0 { 6 * MIB } else { 500 + i * 300 };
            let bytes = pattern(len, 100 + i as u64);
            let desc = format!("f/{i}.bin");
            (mock.put_archive("v", &bytes, &desc), (bytes, desc))
        })
        .collect();
    let inv = home.join("inv.json");
    inventory(&mock, &inv, |_| {});
    let journal = home.join("j");
    let args = [
        "--inventory",
        inv.to_str().expect("utf8"),
        "--journal",
        journal.to_str().expect("utf8"),
        "--storage-class",
        "STANDARD",
        "--s3-part-size",
        "5M",
        "--threads",
        "1",
        "v",
        "s3://migrate-kill/k",
    ];
    let mut first = vec!["--no-wait"];
    first.extend_from_slice(&args[..]);
    assert_eq!(export(&mock, home.path(), server, &first).code, 3);
    mock.complete_jobs();
    // Kill -9 in the middle of the downloads, three times.
    for _ in 0..3 {
        let target = count(&mock, "GetJobOutput") + 3;
        let mut child = command(&mock, home.path(), server, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(30);
        while count(&mock, "GetJobOutput") < target
            && child.try_wait().expect("wait").is_none()
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        child.kill().expect("kill -9");
        let _ = child.wait();
    }
    let gets_before = count(&mock, "GetJobOutput");
    let r = export(&mock, home.path(), server, &args);
    r.ok();
    assert!(r.stdout.contains("exported 12 of 12"), "{}", r.stdout);
    // What the killed runs finished was not fetched again: fewer GETs than a full run
    // (12 archives: 9 small in one GET each, 3 of 6 MiB in two 4 MiB chunks each).
    assert!(
        count(&mock, "GetJobOutput") - gets_before < 15,
        "{} GETs after the kills",
        count(&mock, "GetJobOutput") - gets_before
    );
    assert_eq!(count(&mock, "InitiateJob"), 12, "one retrieval per archive");
    check_migrated(&mock, &client, "migrate-kill", "k/", &data);
    // A killed run leaves its multipart upload behind (nothing runs after kill -9);
    // the rerun aborts it before writing that key again.
    assert!(
        client
            .list_multipart_uploads("migrate-kill", "")
            .expect("list")
            .is_empty(),
        "uploads of killed runs are aborted"
    );
}

#[test]
fn s3_flags_are_refused_for_a_directory_and_bad_targets_are_usage_errors() {
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-usage");
    let run = |args: &[&str]| -> Run {
        glacier_mock(&mock, home.path())
            .args(["vault", "export"])
            .args(args)
            .output()
            .expect("run")
            .into()
    };
    let e = run(&["--storage-class", "GLACIER", "v", "dir"])
        .fails(2)
        .to_string();
    assert!(e.contains("--storage-class"), "{e}");
    let e = run(&["--storage-class", "COLD", "v", "s3://bkt"])
        .fails(2)
        .to_string();
    assert!(e.contains("--storage-class 'COLD'"), "{e}");
    let e = run(&["--s3-part-size", "1M", "v", "s3://bkt"])
        .fails(2)
        .to_string();
    assert!(e.contains("--s3-part-size"), "{e}");
    let e = run(&["--max-memory", "64", "v", "dir"])
        .fails(2)
        .to_string();
    assert!(e.contains("--max-memory"), "{e}");
    let e = run(&["--max-memory", "0", "v", "s3://bkt"])
        .fails(2)
        .to_string();
    assert!(e.contains("--max-memory"), "{e}");
    let e = run(&["v", "s3://Bad_Bucket/x"]).fails(2).to_string();
    assert!(e.contains("s3://Bad_Bucket/x"), "{e}");
    assert!(mock.requests().is_empty());
}

#[test]
fn a_dry_run_to_s3_sends_nothing_and_creates_no_journal() {
    let mock = MockGlacier::start();
    let home = TempDir::new("mig-dry");
    seed(&mock);
    let inv = home.join("inv.json");
    inventory(&mock, &inv, |_| {});
    let journal = home.join("j");
    let r: Run = glacier_mock(&mock, home.path())
        .args(["vault", "export", "--dry-run", "--inventory"])
        .arg(&inv)
        .arg("--journal")
        .arg(&journal)
        .args(["v", "s3://bkt/p"])
        .output()
        .expect("run")
        .into();
    let out = r.ok();
    assert!(out.contains("5 of 5 archives in scope"), "{out}");
    assert!(out.contains("would send 5 InitiateJob"), "{out}");
    assert_eq!(count(&mock, "InitiateJob"), 0);
    assert!(!journal.exists());
}
