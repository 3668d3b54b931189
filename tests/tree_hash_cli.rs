//! `glacier tree-hash` and the general command-line behaviour, through the real binary.

use std::process::Stdio;

use crate::support::{TempDir, glacier, pattern, run_plain, run_with_stdin};

const MIB: usize = 1 << 20;

/// Tree hash by the obvious definition, independent of the crate.
fn reference(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut level: Vec<[u8; 32]> = if data.is_empty() {
        vec![Sha256::digest(b"").into()]
    } else {
        data.chunks(MIB).map(|c| Sha256::digest(c).into()).collect()
    };
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| {
                if p.len() == 2 {
                    let mut h = Sha256::new();
                    h.update(p[0]);
                    h.update(p[1]);
                    h.finalize().into()
                } else {
                    p[0]
                }
            })
            .collect();
    }
    hex::encode(level[0])
}

#[test]
fn hashes_files_like_sha256sum() {
    let dir = TempDir::new("th");
    let a = dir.join("a.bin");
    let b = dir.join("b.bin");
    let da = pattern(5 * MIB + 17, 1);
    let db = pattern(1, 2);
    std::fs::write(&a, &da).expect("write");
    std::fs::write(&b, &db).expect("write");
    let (a, b) = (a.to_str().expect("utf8"), b.to_str().expect("utf8"));
    let r = run_plain(&["tree-hash", "--threads", "3", a, b]);
    assert_eq!(
        r.ok(),
        format!("{}  {a}\n{}  {b}\n", reference(&da), reference(&db))
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn json_and_sha256_and_stats() {
    let dir = TempDir::new("thj");
    let a = dir.join("a.bin");
    let da = pattern(3 * MIB, 3);
    std::fs::write(&a, &da).expect("write");
    let a = a.to_str().expect("utf8");
    let r = run_plain(&["tree-hash", a, "--json", "--sha256", "--stats"]);
    let v: serde_json::Value = serde_json::from_str(r.ok().trim()).expect("json");
    assert_eq!(v["path"], a);
    assert_eq!(v["size"], 3 * MIB);
    assert_eq!(v["tree_hash"], reference(&da));
    use sha2::Digest;
    assert_eq!(v["sha256"], hex::encode(sha2::Sha256::digest(&da)));
    assert!(
        r.stderr
            .starts_with(&format!("stats: {a}: {} bytes in ", 3 * MIB))
    );
    assert!(r.stderr.contains(" GB/s"), "{}", r.stderr);
}

#[test]
fn reads_stdin() {
    let data = pattern(2 * MIB + 5, 4);
    let mut cmd = glacier();
    cmd.args(["tree-hash", "-"]);
    let out = run_with_stdin(cmd, &data);
    assert_eq!(out.ok(), format!("{}  -\n", reference(&data)));
}

#[test]
fn missing_file_is_one_line_and_others_still_hashed() {
    let dir = TempDir::new("thm");
    let a = dir.join("a.bin");
    std::fs::write(&a, b"hello").expect("write");
    let a = a.to_str().expect("utf8");
    let missing = dir.join("missing.bin");
    let missing = missing.to_str().expect("utf8");
    let r = run_plain(&["tree-hash", missing, a, dir.path().to_str().expect("utf8")]);
    let err = r.fails(1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(&format!("glacier: {missing}: ")),
        "{err}"
    );
    assert!(lines[1].contains("is a directory"), "{err}");
    assert_eq!(r.stdout, format!("{}  {a}\n", reference(b"hello")));
}

#[test]
fn usage_errors_exit_2_and_name_the_culprit() {
    let cases: &[(&[&str], &str)] = &[
        (&["frobnicate"], "unknown command 'frobnicate'"),
        (&["tree-hash", "--bogus", "x"], "unknown flag '--bogus'"),
        (&["tree-hash"], "needs at least one FILE"),
        (&["tree-hash", "--threads", "0", "x"], "--threads"),
        (&["tree-hash", "--threads", "many", "x"], "--threads 'many'"),
        (&["help", "nope"], "unknown command 'nope'"),
    ];
    for (args, want) in cases {
        let r = run_plain(args);
        let err = r.fails(2);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("glacier: "), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn help_and_version_in_every_spelling() {
    for args in [
        &["--help"][..],
        &["-h"],
        &[],
        &["help"],
        &["help", "tree-hash"],
        &["tree-hash", "--help"],
        &["--help", "tree-hash"],
    ] {
        let r = run_plain(args);
        assert!(r.ok().contains("Usage: glacier"), "{args:?}");
    }
    assert!(
        run_plain(&["tree-hash", "--help"])
            .stdout
            .contains("--threads")
    );
    for args in [&["--version"][..], &["-V"], &["version"]] {
        assert_eq!(
            run_plain(args).ok(),
            format!("glacier {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn closed_stdout_exits_quietly() {
    let dir = TempDir::new("thp");
    let files: Vec<String> = (0..200)
        .map(|i| {
            let p = dir.join(&format!("f{i}"));
            std::fs::write(&p, [i as u8]).expect("write");
            p.to_str().expect("utf8").to_string()
        })
        .collect();
    let mut child = glacier()
        .arg("tree-hash")
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close our end of stdout at once: every write the tool makes then fails.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(141));
}
