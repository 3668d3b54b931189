//! What the tool writes stays whole and where it belongs: concurrent uploads append whole
//! receipt lines, downloads never write through a symlink without `--force`, and an
//! export never overwrites an archive's file with one of its own.

use crate::mock::MockGlacier;
use crate::support::{MIB, TempDir, check_receipts, inventory_json, path_str, pattern, run};

#[test]
fn concurrent_uploads_append_whole_receipt_lines() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-receipts");
    let receipts = dir.join("receipts.jsonl");
    let n = 12;
    std::thread::scope(|sc| {
        for i in 0..n {
            let (mock, dir, receipts) = (&mock, &dir, &receipts);
            sc.spawn(move || {
                let f = dir.join(&format!("f{i}.bin"));
                std::fs::write(&f, pattern(1000 + i, 60 + i as u64)).expect("write");
                run(
                    mock,
                    dir.path(),
                    &[
                        "upload",
                        "--receipts",
                        path_str(receipts),
                        "v",
                        path_str(&f),
                    ],
                )
                .ok();
            });
        }
    });
    assert_eq!(check_receipts(&receipts), n);
}

#[test]
fn downloads_never_write_through_a_symlink_without_force() {
    let dir = TempDir::new("hm-link");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(3 * MIB, 71);
    let archive = mock.put_archive("v", &data, "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    mock.complete_jobs();
    let precious = dir.join("precious.txt");
    std::fs::write(&precious, b"precious").expect("write");

    // A symlink at FILE is refused.
    let link = dir.join("link.bin");
    std::os::unix::fs::symlink(&precious, &link).expect("symlink");
    let r = run(
        &mock,
        dir.path(),
        &["archive", "get", "v", &job, path_str(&link)],
    );
    let err = r.fails(2);
    assert!(
        err.contains("symbolic link") && err.contains("link.bin"),
        "{err}"
    );
    assert_eq!(std::fs::read(&precious).expect("kept"), b"precious");

    // A symlink where the part file or its log goes is not followed either.
    for (target, planted) in [
        ("a.bin", "a.bin.glacier-part"),
        ("b.bin", "b.bin.glacier-part.log"),
    ] {
        let planted = dir.join(planted);
        std::os::unix::fs::symlink(&precious, &planted).expect("symlink");
        let out = dir.join(target);
        let r = run(
            &mock,
            dir.path(),
            &[
                "archive",
                "get",
                "--chunk-size",
                "1",
                "v",
                &job,
                path_str(&out),
            ],
        );
        assert_eq!(
            std::fs::read(&precious).expect("kept"),
            b"precious",
            "{}: {}",
            planted.display(),
            r.stderr
        );
        let err = r.fails(2);
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!out.exists());
    }

    // With --force the link itself is replaced, and its target still untouched.
    run(
        &mock,
        dir.path(),
        &["archive", "get", "--force", "v", &job, path_str(&link)],
    )
    .ok();
    assert_eq!(std::fs::read(&precious).expect("kept"), b"precious");
    assert!(
        !std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read(&link).expect("replaced"), data);
}

/// An archive described like a file the export writes for itself (the manifests and their
/// temporary names, the state directory) is exported under a renamed path and still holds
/// its own bytes when the run ends; the manifest stays a manifest.
#[test]
fn an_archive_named_like_the_manifest_keeps_its_bytes() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let home = TempDir::new("fs-manifest");
    let descriptions = [
        "glacier-export-manifest.csv",
        "glacier-export-manifest.jsonl",
        "glacier-export-manifest.csv.part",
        "Glacier-Export-Manifest.JSONL.part",
        ".glacier-export/journal.jsonl",
    ];
    let mut data = std::collections::HashMap::new();
    for (i, d) in descriptions.iter().enumerate() {
        let bytes = pattern(1000 + i, 90 + i as u64);
        let id = mock.put_archive("v", &bytes, d);
        data.insert(id, bytes);
    }
    let inv = home.join("inv.json");
    inventory_json(&mock, &inv);
    let out = home.join("out");
    let args = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        path_str(&inv),
        "v",
        path_str(&out),
    ];
    assert_eq!(run(&mock, home.path(), &args).code, 3);
    mock.complete_jobs();
    for _ in 0..2 {
        let r = run(&mock, home.path(), &args);
        r.ok();
        assert!(r.stdout.contains("exported 5 of 5"), "{}", r.stdout);
        let jsonl = std::fs::read_to_string(out.join("glacier-export-manifest.jsonl"))
            .expect("the JSON lines manifest");
        let rows: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("a manifest row"))
            .collect();
        assert_eq!(rows.len(), 5, "{jsonl}");
        let csv = std::fs::read_to_string(out.join("glacier-export-manifest.csv"))
            .expect("the CSV manifest");
        assert!(csv.starts_with("archive_id,path,"), "{csv}");
        for row in &rows {
            assert_eq!(row["status"], "exported", "{row}");
            let id = row["archive_id"].as_str().expect("archive_id");
            let path = row["path"].as_str().expect("path");
            let got = std::fs::read(out.join(path)).expect("the exported file");
            assert!(got == data[id], "{path} does not hold archive {id}'s bytes");
        }
    }
}
