//! `glacier upload` through the real binary against the mock: single and multipart,
//! stdin, resume after a real kill, refused resume, Ctrl-C, faults, bad input.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::mock::{Fault, FaultRule, MockGlacier};
use crate::support::{
    MIB, Run, TempDir, count, glacier_mock, inventory_json, pattern, run, run_with_stdin, stored,
    wait_for,
};

#[test]
fn small_file_is_one_request_and_receipted() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up1");
    let f = dir.join("photo one.jpg");
    let data = pattern(3 * MIB + 7, 1);
    std::fs::write(&f, &data).expect("write");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "v", f.to_str().expect("utf8")],
    );
    let id = r.ok().trim().to_string();
    assert_eq!(stored(&mock, "v", &id), data);
    assert_eq!(count(&mock, "UploadArchive"), 1);
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 0);
    let archives = mock.archives("v");
    assert_eq!(archives[0].description, "photo one.jpg");
    let receipts = std::fs::read_to_string(dir.join("glacier-upload/receipts.jsonl"))
        .expect("receipts written");
    let line: serde_json::Value = serde_json::from_str(receipts.trim()).expect("json line");
    assert_eq!(line["archive_id"], id);
    assert_eq!(line["size"], data.len());
    assert_eq!(line["tree_hash"], archives[0].tree_hash);
}

#[test]
fn multipart_with_short_last_part_and_json_output() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up2");
    let f = dir.join("a.bin");
    let data = pattern(5 * MIB + 123, 2);
    std::fs::write(&f, &data).expect("write");
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--json",
            "-p",
            "1",
            "-t",
            "3",
            "-d",
            "my backup",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(r.ok().trim()).expect("json");
    let id = v["archive_id"].as_str().expect("id");
    assert_eq!(stored(&mock, "v", id), data);
    assert_eq!(v["size"], data.len());
    assert_eq!(v["description"], "my backup");
    assert!(v["upload_id"].is_string());
    assert_eq!(count(&mock, "UploadMultipartPart"), 6);
    assert!(r.stderr.contains("multipart upload ID"), "{}", r.stderr);
}

#[test]
fn exactly_one_part() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up3");
    let f = dir.join("a.bin");
    let data = pattern(MIB, 3);
    std::fs::write(&f, &data).expect("write");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-p", "1", "v", f.to_str().expect("utf8")],
    );
    assert_eq!(stored(&mock, "v", r.ok().trim()), data);
    assert_eq!(count(&mock, "UploadMultipartPart"), 1);
}

fn upload_stdin(mock: &MockGlacier, data_dir: &Path, data: &[u8], extra: &[&str]) -> Run {
    let mut cmd = glacier_mock(mock, data_dir);
    cmd.arg("upload").args(extra).args(["v", "-"]);
    run_with_stdin(cmd, data)
}

#[test]
fn stdin_single_and_multipart() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up4");
    let small = pattern(2 * MIB + 5, 4);
    let r = upload_stdin(&mock, dir.path(), &small, &[]);
    assert_eq!(stored(&mock, "v", r.ok().trim()), small);
    let big = pattern(4 * MIB + 1, 5);
    let r = upload_stdin(&mock, dir.path(), &big, &["-p", "1", "-t", "2"]);
    assert_eq!(stored(&mock, "v", r.ok().trim()), big);
    assert_eq!(count(&mock, "UploadMultipartPart"), 5);
    let r = upload_stdin(&mock, dir.path(), &[], &[]);
    assert!(
        r.fails(2).contains("standard input is empty"),
        "{}",
        r.stderr
    );
}

/// A child's remaining stderr, collected by a thread so it never blocks on a full pipe.
type StderrRest = std::thread::JoinHandle<String>;

/// Starts a slow multipart upload of `f` and returns the child, its upload ID and the
/// rest of its stderr once `min_parts` parts are on the mock.
fn start_slow_upload(
    mock: &MockGlacier,
    data: &Path,
    f: &Path,
    min_parts: usize,
) -> (Child, String, StderrRest) {
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(60)),
        Some("UploadMultipartPart"),
    ));
    let mut child = glacier_mock(mock, data)
        .args([
            "upload",
            "-p",
            "1",
            "-t",
            "1",
            "v",
            f.to_str().expect("utf8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("read stderr");
    let id = line
        .split("multipart upload ID ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no upload ID in {line:?}"))
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    wait_for("parts on the mock", 20, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| u.parts.len() >= min_parts)
    });
    (child, id, rest)
}

#[test]
fn resume_after_kill_skips_good_parts_and_replaces_a_corrupt_one() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up5");
    let f = dir.join("big.bin");
    let data = pattern(12 * MIB + 99, 6);
    std::fs::write(&f, &data).expect("write");
    let (mut child, id, _) = start_slow_upload(&mock, dir.path(), &f, 4);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    let present = mock.uploads("v")[0].parts.len();
    assert!((4..13).contains(&present), "{present} parts present");
    mock.corrupt_part("v", &id, 1);
    let before = count(&mock, "UploadMultipartPart");

    let r = run(
        &mock,
        dir.path(),
        &["upload", "--upload-id", &id, "v", f.to_str().expect("utf8")],
    );
    let archive = r.ok().trim().to_string();
    assert_eq!(stored(&mock, "v", &archive), data);
    let sent = count(&mock, "UploadMultipartPart") - before;
    // Every missing part plus the corrupted one, nothing else.
    assert_eq!(sent, 13 - present + 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("part 1 on Glacier differs"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("already on Glacier"), "{}", r.stderr);
}

#[test]
fn resume_is_refused_for_a_changed_file() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up6");
    let f = dir.join("big.bin");
    let data = pattern(6 * MIB, 7);
    std::fs::write(&f, &data).expect("write");
    let (mut child, id, _) = start_slow_upload(&mock, dir.path(), &f, 2);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    let mut changed = data.clone();
    changed[10] ^= 1;
    changed.extend_from_slice(b"more");
    std::fs::write(&f, &changed).expect("rewrite");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-u", &id, "v", f.to_str().expect("utf8")],
    );
    // Exit 1, not 2: ListParts was sent, so "nothing was done" cannot be promised.
    let err = r.fails(1);
    assert!(err.contains("changed since upload"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(mock.archives("v").is_empty());
}

#[test]
fn resume_without_state_refuses_data_that_differs() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up7");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(4 * MIB, 8)).expect("write");
    let (mut child, id, _) = start_slow_upload(&mock, dir.path(), &f, 2);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    // Another machine (no resume state) with other data of the same size.
    let other = TempDir::new("up7b");
    let g = other.join("big.bin");
    std::fs::write(&g, pattern(4 * MIB, 9)).expect("write");
    let r = run(
        &mock,
        other.path(),
        &["upload", "-u", &id, "v", g.to_str().expect("utf8")],
    );
    let err = r.fails(1);
    assert!(err.contains("Glacier's copy differs"), "{err}");
    assert!(err.contains("resume with"), "{err}");
}

#[test]
fn ctrl_c_prints_a_working_resume_command() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up8");
    let f = dir.join("big.bin");
    let data = pattern(10 * MIB + 1, 10);
    std::fs::write(&f, &data).expect("write");
    let (child, id, rest) = start_slow_upload(&mock, dir.path(), &f, 2);
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    mock.clear_faults();
    assert!(mock.archives("v").is_empty());
    let err = rest.join().expect("stderr");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("glacier: interrupted with "), "{err}");
    // The run's own --threads comes back too: the resumed run plans as this one did.
    let resume = format!(
        "resume with: glacier upload --upload-id {id} --part-size 1 --threads 1 -- v {}",
        f.display()
    );
    assert!(last.ends_with(&resume), "{err}");
    let states: Vec<_> = std::fs::read_dir(dir.join("glacier-upload/uploads"))
        .expect("state dir")
        .collect();
    assert_eq!(states.len(), 1);
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--upload-id",
            &id,
            "--",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    assert_eq!(stored(&mock, "v", r.ok().trim()), data);
}

#[test]
fn interrupted_message_names_the_resume_command() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up9");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(3 * MIB, 11)).expect("write");
    // A part that keeps failing stops the pool and keeps the upload.
    mock.inject(FaultRule::always(
        Fault::Unavailable,
        Some("UploadMultipartPart"),
    ));
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--max-attempts",
            "2",
            "-p",
            "1",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    let err = r.fails(1).lines().last().unwrap_or_default().to_string();
    assert!(err.contains("ServiceUnavailableException"), "{err}");
    let id = mock.uploads("v")[0].upload_id.clone();
    let resume = format!(
        "glacier upload --upload-id {id} --part-size 1 -- v {}",
        f.display()
    );
    assert!(err.contains(&resume), "{err}");
    mock.clear_faults();
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--upload-id",
            &id,
            "--",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    r.ok();
}

#[test]
fn faults_on_parts_are_survived() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up10");
    let f = dir.join("big.bin");
    let data = pattern(8 * MIB + 3, 12);
    std::fs::write(&f, &data).expect("write");
    for (fault, seed) in [
        (Fault::Throttle, 1),
        (Fault::Drop, 2),
        (Fault::InternalEmpty, 3),
        (Fault::RequestTimeout, 4),
    ] {
        mock.inject(FaultRule {
            fault,
            operation: Some("UploadMultipartPart"),
            times: None,
            // 10% each: about a third of part requests fail somehow, and a part
            // failing all 10 attempts stays far below one in a million whatever order
            // the threads draw the faults in.
            rate: Some((0.1, seed)),
        });
    }
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "-p",
            "1",
            "-t",
            "3",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    assert_eq!(stored(&mock, "v", r.ok().trim()), data);
    assert!(count(&mock, "UploadMultipartPart") > 9, "some faults fired");
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up11");
    let f = dir.join("a.bin");
    std::fs::write(&f, b"x").expect("write");
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").expect("write");
    let huge = dir.join("huge.bin");
    std::fs::File::create(&huge)
        .and_then(|h| h.set_len(10_001 * MIB as u64))
        .expect("sparse file");
    let (f, empty, huge) = (
        f.to_str().expect("utf8"),
        empty.to_str().expect("utf8"),
        huge.to_str().expect("utf8"),
    );
    let missing = dir.join("missing.bin");
    let missing = missing.to_str().expect("utf8");
    let long = "d".repeat(1025);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["upload", "v", missing], "missing.bin"),
        (vec!["upload", "v", empty], "is empty"),
        (vec!["upload", "-p", "3", "v", f], "--part-size 3"),
        (
            vec!["upload", "-p", "1", "v", huge],
            "Glacier allows 10,000",
        ),
        (vec!["upload", "-d", &long, "v", f], "1,024"),
        (vec!["upload", "-d", "tab\there", "v", f], "printable ASCII"),
        (vec!["upload", "v"], "missing FILE"),
        (vec!["upload"], "missing VAULT"),
        (vec!["upload", "-t", "0", "v", f], "--threads 0"),
        (vec!["upload", "bad/vault", f], "invalid vault name"),
        (
            vec!["upload", "--max-memory", "4", "-p", "8", "v", huge],
            "--max-memory",
        ),
        (
            vec!["upload", "--receipts", "r", "--no-receipts", "v", f],
            "contradict",
        ),
    ];
    for (args, want) in cases {
        let r = run(&mock, dir.path(), &args);
        let err = r.fails(2);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
    let r = run(&mock, dir.path(), &["upload", "nosuchvault", f]);
    let err = r.fails(1);
    assert!(
        err.contains("nosuchvault") && err.contains("ResourceNotFoundException"),
        "{err}"
    );
}

/// Unpacks a `.tar.xz` into (name, contents or link target) pairs, in archive order.
fn unpack(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(xz2::read::XzDecoder::new(bytes));
    let mut out = Vec::new();
    for e in ar.entries().expect("tar entries") {
        let mut e = e.expect("tar entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        let body = match e.link_name().expect("link") {
            Some(target) => format!("-> {}", target.display()).into_bytes(),
            None => {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut v).expect("read entry");
                v
            }
        };
        out.push((name, body));
    }
    out
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/empty")).expect("mkdir");
    std::fs::write(root.join("a.txt"), b"hello").expect("write");
    std::fs::write(root.join("sub/big.bin"), pattern(3 * MIB + 11, 13)).expect("write");
    std::os::unix::fs::symlink("a.txt", root.join("link")).expect("symlink");
}

#[test]
fn packed_directory_round_trips_and_resumes() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up12");
    let tree = dir.join("tree");
    make_tree(&tree);
    let extra = dir.join("notes.md");
    std::fs::write(&extra, b"# notes").expect("write");
    let (tree_s, extra_s) = (tree.to_str().expect("utf8"), extra.to_str().expect("utf8"));

    let r = run(&mock, dir.path(), &["upload", "v", tree_s, extra_s]);
    let id = r.ok().trim().to_string();
    let entries = unpack(&stored(&mock, "v", &id));
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "notes.md",
            "tree/",
            "tree/a.txt",
            "tree/link",
            "tree/sub/",
            "tree/sub/big.bin",
            "tree/sub/empty/"
        ]
    );
    assert_eq!(entries[2].1, b"hello");
    assert_eq!(entries[3].1, b"-> a.txt");
    assert_eq!(entries[5].1, pattern(3 * MIB + 11, 13));
    assert_eq!(mock.archives("v")[0].description, "tree+1-more.tar.xz");

    // Kill a packed multipart upload, then resume it: the same inputs pack to the same
    // bytes, so the parts on Glacier verify and the rest follows.
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(150)),
        Some("UploadMultipartPart"),
    ));
    let mut child = glacier_mock(&mock, dir.path())
        .args(["upload", "-p", "1", "-t", "1", "v", tree_s, extra_s])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for("a part on the mock", 20, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| !u.parts.is_empty())
    });
    let upload_id = mock.uploads("v")[0].upload_id.clone();
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-u", &upload_id, "v", tree_s, extra_s],
    );
    let id2 = r.ok().trim().to_string();
    assert!(r.stderr.contains("already on Glacier"), "{}", r.stderr);
    assert_eq!(
        stored(&mock, "v", &id2),
        stored(&mock, "v", &id),
        "same inputs, same bytes"
    );

    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "v",
            tree_s,
            dir.join("nope").to_str().expect("utf8"),
        ],
    );
    assert!(r.fails(2).contains("nope"), "{}", r.stderr);
}

#[test]
fn ctrl_c_on_a_stream_never_completes_a_cut_short_archive() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up13");
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(60)),
        Some("UploadMultipartPart"),
    ));
    let mut child = glacier_mock(&mock, dir.path())
        .args(["upload", "-p", "1", "-t", "1", "v", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = pattern(12 * MIB, 14);
    // The writer ends with an error once the tool stops reading: that is expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    wait_for("parts on the mock", 20, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| u.parts.len() >= 2)
    });
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("was not uploaded to its end"), "{err}");
    assert!(
        mock.archives("v").is_empty(),
        "no archive from a cut-short stream"
    );
    assert_eq!(count(&mock, "CompleteMultipartUpload"), 0);
}

#[test]
fn a_lost_upload_archive_answer_is_not_retried_but_a_refusal_is() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up14");
    let f = dir.join("small.bin");
    std::fs::write(&f, pattern(1000, 15)).expect("write");
    let f = f.to_str().expect("utf8");

    // Throttling is a definite "no": retried, and the upload succeeds.
    mock.inject(FaultRule::times(Fault::Throttle, Some("UploadArchive"), 1));
    run(&mock, dir.path(), &["upload", "v", f]).ok();
    assert_eq!(count(&mock, "UploadArchive"), 2);

    // A dropped connection after the body went out may have stored the archive:
    // retrying could store it twice and lose the first ID, so the user is told instead.
    mock.inject(FaultRule::times(Fault::Drop, Some("UploadArchive"), 1));
    let r = run(&mock, dir.path(), &["upload", "v", f]);
    let err = r.fails(1);
    assert!(err.contains("may or may not have been stored"), "{err}");
    assert_eq!(count(&mock, "UploadArchive"), 3);
}

#[test]
fn packed_without_compression_is_a_plain_tar_that_tar_unpacks() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up-plain");
    let tree = dir.join("tree");
    make_tree(&tree);
    let tree_s = tree.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "--compression", "none", "v", tree_s],
    );
    let id = r.ok().trim().to_string();
    let bytes = stored(&mock, "v", &id);
    // A tar, not an xz stream: the ustar magic of the first header (POSIX, "ustar").
    assert_eq!(&bytes[257..262], b"ustar");
    let archive = dir.join("archive.tar");
    std::fs::write(&archive, &bytes).expect("write");
    let out = dir.join("out");
    std::fs::create_dir(&out).expect("mkdir");
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&out)
        .status()
        .expect("run tar");
    assert!(status.success());
    assert_eq!(
        std::fs::read(out.join("tree/sub/big.bin")).expect("read"),
        pattern(3 * MIB + 11, 13)
    );
    assert_eq!(
        std::fs::read_link(out.join("tree/link")).expect("link"),
        Path::new("a.txt")
    );
    // The default description is the packed archive's file name, which export uses.
    assert_eq!(mock.archives("v")[0].description, "tree.tar");
    let inv = dir.join("inv.json");
    inventory_json(&mock, &inv);
    let exported = dir.join("exported");
    let export = [
        "vault",
        "export",
        "--no-wait",
        "--inventory",
        inv.to_str().expect("utf8"),
        "v",
        exported.to_str().expect("utf8"),
    ];
    assert_eq!(run(&mock, dir.path(), &export).code, 3);
    mock.complete_jobs();
    run(&mock, dir.path(), &export).ok();
    assert!(
        std::fs::read(exported.join("tree.tar")).expect("exported as tree.tar") == bytes,
        "exported tree.tar holds the archive"
    );

    let r = run(
        &mock,
        dir.path(),
        &["upload", "--compression", "zstd", "v", tree_s],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--compression 'zstd'"), "{}", r.stderr);
}

#[test]
fn a_memory_cap_too_small_for_one_xz_thread_is_a_usage_error() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("up-xzmem");
    let tree = dir.join("tree");
    make_tree(&tree);
    let tree_s = tree.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "--xz-level",
            "9",
            "--max-memory",
            "64",
            "v",
            tree_s,
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--max-memory is 64 MiB (use --max-memory 688 or more"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--xz-level 9"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(mock.archives("v").is_empty());
}
