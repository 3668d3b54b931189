//! What the tool writes stays whole and where it belongs: concurrent uploads append whole
//! receipt lines, and downloads never write through a symlink without `--force`.

use crate::mock::MockGlacier;
use crate::support::{MIB, TempDir, check_receipts, path_str, pattern, run};

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
