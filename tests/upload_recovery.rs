//! `glacier upload` when things go wrong around the requests that create something:
//! signals while an archive is being created, SIGTERM/SIGHUP elsewhere, Ctrl-C during a
//! download (which shares the upload's worker pool and stop flag), answers lost
//! after Glacier acted, and auto-resume.

use std::path::Path;
use std::process::{Child, Stdio};

use crate::mock::{Fault, FaultRule, Gate, MockGlacier};
use crate::support::{
    MIB, Run, TempDir, count, fails_once, glacier_mock, pattern, run, send_signal, signal_taken,
    stderr_lines, wait_for,
};

fn spawn(mock: &MockGlacier, data: &Path, args: &[&str]) -> Child {
    glacier_mock(mock, data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier")
}

fn receipts(data: &Path) -> String {
    std::fs::read_to_string(data.join("glacier-upload/receipts.jsonl")).unwrap_or_default()
}

/// A mock with vault `v` whose `op` requests are held behind the returned gate, and a
/// file of `size` bytes (pattern `seed`) named `name` in a fresh directory.
fn held_at(
    op: &'static str,
    tag: &str,
    name: &str,
    size: usize,
    seed: u64,
) -> (MockGlacier, TempDir, std::path::PathBuf, Gate) {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new(tag);
    let f = dir.join(name);
    std::fs::write(&f, pattern(size, seed)).expect("write");
    let gate = Gate::new();
    mock.inject(FaultRule::always(Fault::Hold(gate.clone()), Some(op)));
    (mock, dir, f, gate)
}

/// Signals sent while the request that creates the archive is on its way are held: the
/// archive ID still reaches stdout and the receipts file, and the run succeeds.
/// `stdin`: feed the data on standard input (`-`) instead of naming a file.
fn signals_during_creation_are_held(op: &'static str, size: usize, extra: &[&str], stdin: bool) {
    let (mock, dir, f, gate) = held_at(op, "sig-hold", "a.bin", size, 21);
    let mut args = vec!["upload"];
    args.extend_from_slice(extra);
    args.extend([
        "v",
        if stdin {
            "-"
        } else {
            f.to_str().expect("utf8")
        },
    ]);
    let child = glacier_mock(&mock, dir.path())
        .args(&args)
        .stdin(if stdin {
            Stdio::from(std::fs::File::open(&f).expect("open"))
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    wait_for(op, 30, || count(&mock, op) == 1);
    send_signal(&child, "INT");
    send_signal(&child, "INT");
    send_signal(&child, "TERM");
    // The signals reach the process before the answer does (kill returned after the
    // kernel queued them); the answer is let through only now.
    gate.open();
    let r: Run = child.wait_with_output().expect("wait").into();
    let id = r.ok().trim().to_string();
    assert!(!id.is_empty(), "{}", r.stderr);
    assert_eq!(mock.archives("v")[0].archive_id, id);
    assert!(receipts(dir.path()).contains(&id), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("archive ID {id}")),
        "{}",
        r.stderr
    );
}

#[test]
fn signals_during_complete_multipart_upload_are_held() {
    for stdin in [false, true] {
        signals_during_creation_are_held("CompleteMultipartUpload", 3 * MIB, &["-p", "1"], stdin);
    }
}

#[test]
fn signals_during_upload_archive_are_held() {
    for stdin in [false, true] {
        signals_during_creation_are_held("UploadArchive", MIB, &[], stdin);
    }
}

/// Ctrl-C, SIGTERM (`timeout`, systemd) and SIGHUP (a closed terminal) stop an upload
/// alike, and say so at once (the part in flight may take minutes): that part finishes,
/// no other is sent, the resume command is printed, the exit code names the signal.
#[test]
fn signals_stop_an_upload_after_the_part_in_flight_and_say_so_at_once() {
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let (mock, dir, f, gate) =
            held_at("UploadMultipartPart", "sig-term", "big.bin", 8 * MIB, 22);
        let mut child = spawn(
            &mock,
            dir.path(),
            &[
                "upload",
                "-p",
                "1",
                "-t",
                "1",
                "v",
                f.to_str().expect("utf8"),
            ],
        );
        let (lines, stderr) = stderr_lines(&mut child);
        wait_for("a part", 30, || count(&mock, "UploadMultipartPart") == 1);
        // Printed once the stop flag is set, while the part is still held.
        let r = crate::support::interrupt(
            child,
            stderr,
            &lines,
            signal,
            "glacier: interrupted: no new part starts",
            || gate.open(),
        );
        let err = r.fails(code);
        assert!(
            err.contains("glacier: interrupted: no new part starts; parts in flight finish, then the upload stops with the command that resumes it"),
            "{signal}: {err}"
        );
        // The error line is still the last, as it was before the acknowledgment.
        let last = err.lines().last().expect("a line");
        assert!(
            last.contains("interrupted with 1 of 8 parts uploaded")
                && last.contains("resume with: glacier upload"),
            "{signal}: {err}"
        );
        assert!(mock.archives("v").is_empty());
        // The part in flight finished; the flag was set before it did, so no other.
        assert_eq!(mock.uploads("v")[0].parts.len(), 1, "{signal}: {err}");
    }
}

/// `--quiet` silences the acknowledgment, and only it: the error line still says how to
/// resume.
#[test]
fn quiet_ctrl_c_says_only_how_to_resume() {
    let (mock, dir, f, gate) = held_at("UploadMultipartPart", "sig-quiet", "big.bin", 8 * MIB, 25);
    let child = spawn(
        &mock,
        dir.path(),
        &[
            "--quiet",
            "upload",
            "-p",
            "1",
            "-t",
            "1",
            "v",
            f.to_str().expect("utf8"),
        ],
    );
    wait_for("a part", 30, || count(&mock, "UploadMultipartPart") == 1);
    send_signal(&child, "INT");
    // Nothing is printed to wait for: the signal is taken once the kernel no longer has
    // it pending, and the watcher sets the flag right then (acknowledged or not, the
    // test's claim is only about what is printed).
    assert!(signal_taken(child.id(), 2), "SIGINT still pending");
    gate.open();
    let r: Run = child.wait_with_output().expect("wait").into();
    let err = fails_once(&r, 130);
    assert!(err.contains("resume with: glacier upload"), "{err}");
}

/// Ctrl-C during `archive get` (the download runs on the same worker pool): it is
/// acknowledged at once, the chunk in flight finishes and is logged, no other starts, the
/// run exits 130 saying how to resume, and running it again keeps what the first run
/// verified.
#[test]
fn ctrl_c_during_a_download_keeps_the_chunk_in_flight() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("sig-get");
    let data = pattern(8 * MIB, 23);
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
    let gate = Gate::new();
    mock.inject(FaultRule::always(
        Fault::Hold(gate.clone()),
        Some("GetJobOutput"),
    ));
    let out = dir.join("out.bin");
    let o = out.to_str().expect("utf8");
    let get = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "1",
        "v",
        &job,
        o,
    ];
    let mut child = spawn(&mock, dir.path(), &get);
    let (lines, stderr) = stderr_lines(&mut child);
    wait_for("a chunk", 30, || count(&mock, "GetJobOutput") == 1);
    // Printed once the stop flag is set, while the chunk is still held.
    let r = crate::support::interrupt(
        child,
        stderr,
        &lines,
        "INT",
        "glacier: interrupted: no new chunk starts; chunks in flight finish, and every verified chunk is kept",
        || gate.open(),
    );
    let err = r.fails(130);
    let last = err.lines().last().expect("a line");
    assert!(
        last.contains("run the same command again to resume"),
        "{err}"
    );
    assert!(!out.exists(), "nothing under the final name");
    let log = std::fs::read_to_string(dir.join("out.bin.glacier-part.log")).expect("log");
    // The chunk in flight finished and was logged; the flag was set before it did, so no
    // other started.
    let logged = log.lines().count() - 1;
    assert_eq!(logged, 1, "{logged} chunks logged:\n{log}");

    mock.clear_faults();
    let r = run(&mock, dir.path(), &get);
    r.ok();
    assert!(
        r.stderr.contains(&format!("resumed: kept {logged}")),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&out).expect("downloaded"), data);
}

/// Starts a multipart upload of `f` (1 MiB parts, one at a time) from `cwd`, lets one
/// part reach the mock, then kills the process (SIGKILL: no chance to clean up).
/// Returns the upload ID and the stderr line that announced it.
fn kill_after_one_part(mock: &MockGlacier, data: &Path, cwd: &Path, args: &[&str]) -> String {
    let gate = Gate::new();
    mock.inject(FaultRule::always(
        Fault::Hold(gate.clone()),
        Some("UploadMultipartPart"),
    ));
    let mut child = glacier_mock(mock, data)
        .current_dir(cwd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    wait_for("one part", 30, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| !u.parts.is_empty())
    });
    child.kill().expect("SIGKILL");
    let out = child.wait_with_output().expect("wait");
    gate.open();
    mock.clear_faults();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const UPLOAD_ARGS: [&str; 9] = [
    "upload",
    "--region",
    crate::mock::REGION,
    "-p",
    "1",
    "-t",
    "1",
    "--description",
    "two words",
];

#[test]
fn running_the_same_command_again_resumes() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("auto-resume");
    let f = dir.join("big.bin");
    let data = pattern(8 * MIB, 23);
    std::fs::write(&f, &data).expect("write");
    // First run with a relative path from the file's directory...
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["--max-memory", "64", "v", "big.bin"]);
    let first = kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let id = mock.uploads("v")[0].upload_id.clone();
    // ...whose resume command carries every flag that shapes the archive or reaches it.
    let want = format!(
        "resume with: glacier upload --region {} --upload-id {id} --part-size 1 --description 'two words' --threads 1 --max-memory 64 -- v big.bin",
        crate::mock::REGION
    );
    assert!(first.contains(&want), "{first}");
    // ...then the same command with an absolute path, from elsewhere.
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["--max-memory", "64", "v", f.to_str().expect("utf8")]);
    let r = run(&mock, dir.path(), &args);
    let archive_id = r.ok().trim().to_string();
    assert!(
        r.stderr.contains(&format!(
            "resuming upload {id}: 1 of 8 parts already in Glacier"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 1);
    assert_eq!(
        count(&mock, "UploadMultipartPart"),
        8,
        "the kept part is not sent again"
    );
    assert_eq!(
        std::fs::read(mock.archive_path("v", &archive_id)).expect("archive"),
        data
    );
    // The state is gone once the receipt is written: a third run starts afresh.
    let states = std::fs::read_dir(dir.join("glacier-upload/uploads"))
        .expect("state dir")
        .count();
    assert_eq!(states, 0);
}

#[test]
fn no_resume_starts_afresh_and_a_vanished_upload_is_cleaned_up() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("no-resume");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(4 * MIB, 24)).expect("write");
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["v", f.to_str().expect("utf8")]);
    kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let mut fresh = UPLOAD_ARGS.to_vec();
    fresh.extend(["--no-resume", "v", f.to_str().expect("utf8")]);
    let r = run(&mock, dir.path(), &fresh);
    r.ok();
    assert!(!r.stderr.contains("resuming"), "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 2);

    // The interrupted upload's state is still there; Glacier forgets the upload.
    let old = mock.uploads("v")[0].upload_id.clone();
    crate::support::mock_client(&mock)
        .abort_multipart_upload(
            "v",
            &glacier_upload::glacier::UploadId::from_server(old.clone()),
        )
        .expect("abort");
    let r = run(&mock, dir.path(), &args);
    r.ok();
    assert!(
        r.stderr.contains(&format!(
            "upload {old} of this input is no longer in Glacier"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 3);
    let states = std::fs::read_dir(dir.join("glacier-upload/uploads"))
        .expect("state dir")
        .count();
    assert_eq!(states, 0, "the stale state was removed");
}

/// InitiateMultipartUpload whose answer is lost after Glacier started the upload: the
/// client finds that upload instead of starting a second one (an orphan).
#[test]
fn a_lost_initiate_answer_leaves_no_orphan_upload() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lost-init");
    let f = dir.join("a.bin");
    let data = pattern(3 * MIB, 25);
    std::fs::write(&f, &data).expect("write");
    mock.inject(FaultRule::times(
        Fault::DropAfter,
        Some("InitiateMultipartUpload"),
        1,
    ));
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-p", "1", "v", f.to_str().expect("utf8")],
    );
    let id = r.ok().trim().to_string();
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 1, "{}", r.stderr);
    assert_eq!(count(&mock, "ListMultipartUploads"), 1);
    assert!(mock.uploads("v").is_empty(), "orphan upload left");
    assert_eq!(
        std::fs::read(mock.archive_path("v", &id)).expect("archive"),
        data
    );
    assert!(
        r.stderr
            .contains("answer to InitiateMultipartUpload was lost"),
        "{}",
        r.stderr
    );
}

/// CompleteMultipartUpload carried out by Glacier, its answer lost, the run over (every
/// retry lost too): running the command again completes the upload once more, gets the
/// archive ID Glacier keeps giving for a while, and records it.
#[test]
fn a_lost_complete_answer_is_recovered_by_running_again() {
    for explicit in [false, true] {
        let mock = MockGlacier::start();
        mock.create_vault("v");
        let dir = TempDir::new("lost-complete");
        let f = dir.join("a.bin");
        std::fs::write(&f, pattern(3 * MIB, 26)).expect("write");
        mock.inject(FaultRule::always(
            Fault::DropAfter,
            Some("CompleteMultipartUpload"),
        ));
        let path = f.to_str().expect("utf8");
        let r = run(
            &mock,
            dir.path(),
            &["upload", "--max-attempts", "2", "-p", "1", "v", path],
        );
        r.fails(1);
        mock.clear_faults();
        let archive = mock.archives("v")[0].archive_id.clone();
        assert!(mock.uploads("v").is_empty(), "Glacier completed it");
        assert!(!receipts(dir.path()).contains(&archive));
        let r = if explicit {
            let id = r
                .stderr
                .split("multipart upload ID ")
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .expect("upload ID on stderr")
                .to_string();
            run(
                &mock,
                dir.path(),
                &["upload", "--upload-id", &id, "v", path],
            )
        } else {
            run(&mock, dir.path(), &["upload", "-p", "1", "v", path])
        };
        assert_eq!(r.ok().trim(), archive, "explicit {explicit}: {}", r.stderr);
        assert!(receipts(dir.path()).contains(&archive));
        assert_eq!(mock.archives("v").len(), 1);
        assert_eq!(count(&mock, "InitiateMultipartUpload"), 1);
        let states = std::fs::read_dir(dir.join("glacier-upload/uploads"))
            .expect("state dir")
            .count();
        assert_eq!(states, 0);
    }
}

/// InitiateJob whose answer is lost after Glacier started the job: the client finds that
/// job (ListJobs) instead of starting and paying for a second retrieval; an inventory
/// job likewise.
#[test]
fn a_lost_initiate_job_answer_starts_no_second_retrieval() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let archive = mock.put_archive("v", &pattern(3 * MIB, 27), "d");
    // An inventory job needs an inventory of the vault to report.
    mock.take_inventory("v");
    let dir = TempDir::new("lost-job");
    for args in [
        vec![
            "archive",
            "init-retrieval",
            "--tier",
            "Bulk",
            "v",
            archive.as_str(),
        ],
        vec!["inventory", "init-retrieval", "v"],
    ] {
        mock.inject(FaultRule::times(Fault::DropAfter, Some("InitiateJob"), 1));
        let before = count(&mock, "InitiateJob");
        let r = run(&mock, dir.path(), &args);
        let job = r.ok().trim().to_string();
        assert_eq!(
            count(&mock, "InitiateJob"),
            before + 1,
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("answer to InitiateJob was lost"),
            "{}",
            r.stderr
        );
        let jobs = crate::support::mock_client(&mock)
            .list_jobs("v", None, None)
            .expect("list jobs");
        assert!(
            jobs.iter()
                .any(|j| j.job_id.as_deref() == Some(job.as_str())),
            "{args:?}"
        );
    }
    let jobs = crate::support::mock_client(&mock)
        .list_jobs("v", None, None)
        .expect("list jobs");
    assert_eq!(jobs.len(), 2, "one job per command");
}

/// Exit 2 promises "nothing was done": a resume refused after ListParts went out exits 1.
#[test]
fn a_resume_refused_after_a_request_is_not_exit_2() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("exit-after-sent");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(4 * MIB, 28)).expect("write");
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["v", f.to_str().expect("utf8")]);
    kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let id = mock.uploads("v")[0].upload_id.clone();
    let path = f.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-u", &id, "-p", "2", "v", path],
    );
    let err = r.fails(1);
    assert!(err.contains("--part-size 2 MiB disagrees"), "{err}");
    assert_eq!(count(&mock, "ListParts"), 1);
}

/// The resume state outlives a receipt that could not be written: the archive exists but
/// nothing recorded its ID, so a re-run must still find the upload and recover the ID.
#[test]
fn the_resume_state_is_kept_until_the_receipt_is_written() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("state-after-receipt");
    let f = dir.join("a.bin");
    std::fs::write(&f, pattern(3 * MIB, 29)).expect("write");
    let unwritable = dir.join("receipts-is-a-directory");
    std::fs::create_dir(&unwritable).expect("mkdir");
    let path = f.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &[
            "upload",
            "-p",
            "1",
            "--receipts",
            unwritable.to_str().expect("utf8"),
            "v",
            path,
        ],
    );
    let err = r.fails(1);
    let archive = mock.archives("v")[0].archive_id.clone();
    assert!(err.contains(&archive), "{err}");
    let r = run(&mock, dir.path(), &["upload", "-p", "1", "v", path]);
    assert_eq!(r.ok().trim(), archive, "{}", r.stderr);
    assert!(receipts(dir.path()).contains(&archive));
    assert_eq!(mock.archives("v").len(), 1, "no second archive");
}

/// Auto-resume of a packed upload: the same inputs pack to the same bytes (the packing
/// fingerprint matches), so a plain re-run resumes.
#[test]
fn a_packed_upload_resumes_by_its_fingerprint() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("auto-resume-packed");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    // Patterned bytes barely compress, so the archive spans several 1 MiB parts.
    std::fs::write(tree.join("big.bin"), pattern(4 * MIB, 30)).expect("write");
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["v", tree.to_str().expect("utf8")]);
    kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let id = mock.uploads("v")[0].upload_id.clone();
    let r = run(&mock, dir.path(), &args);
    r.ok();
    assert!(
        r.stderr.contains(&format!("resuming upload {id}: 1 ")),
        "{}",
        r.stderr
    );
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 1);
    assert!(mock.uploads("v").is_empty());
}

/// An interrupted upload is resumed only from the same place: another profile (which may
/// be another account, even when both say account `-`) starts its own upload.
#[test]
fn another_profile_does_not_resume_the_upload() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("auto-resume-profile");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(3 * MIB, 31)).expect("write");
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["v", f.to_str().expect("utf8")]);
    kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let config = dir.join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile other]\nregion = {}\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            crate::mock::REGION,
            crate::mock::ACCESS_KEY,
            crate::mock::SECRET_KEY
        ),
    )
    .expect("write");
    let mut other = vec!["--profile", "other"];
    other.extend(&args);
    let r: Run = glacier_mock(&mock, dir.path())
        .env("AWS_CONFIG_FILE", &config)
        .args(&other)
        .output()
        .expect("run glacier")
        .into();
    r.ok();
    assert!(!r.stderr.contains("resuming"), "{}", r.stderr);
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 2);
    // The first profile's upload is still there, and still resumable by its owner.
    assert_eq!(mock.uploads("v").len(), 1);
    let r = run(&mock, dir.path(), &args);
    r.ok();
    assert!(r.stderr.contains("resuming upload"), "{}", r.stderr);
}

/// A packed upload whose Complete answer was lost: the resume state recorded the size
/// and tree hash being completed, so the re-run completes it again without packing.
#[test]
fn a_lost_complete_answer_of_a_packed_upload_is_recovered() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("lost-complete-packed");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("big.bin"), pattern(2 * MIB, 32)).expect("write");
    mock.inject(FaultRule::always(
        Fault::DropAfter,
        Some("CompleteMultipartUpload"),
    ));
    let t = tree.to_str().expect("utf8");
    let r = run(
        &mock,
        dir.path(),
        &["upload", "--max-attempts", "2", "-p", "1", "v", t],
    );
    r.fails(1);
    mock.clear_faults();
    let archive = mock.archives("v")[0].archive_id.clone();
    let parts_sent = count(&mock, "UploadMultipartPart");
    let r = run(&mock, dir.path(), &["upload", "-p", "1", "v", t]);
    assert_eq!(r.ok().trim(), archive, "{}", r.stderr);
    assert!(receipts(dir.path()).contains(&archive));
    assert_eq!(mock.archives("v").len(), 1);
    assert_eq!(count(&mock, "UploadMultipartPart"), parts_sent);
}

/// A re-run with another --part-size than the interrupted upload's says which flag to
/// drop or add, instead of silently starting a second upload.
#[test]
fn a_rerun_with_another_part_size_names_both_ways_out() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("auto-resume-part-size");
    let f = dir.join("big.bin");
    std::fs::write(&f, pattern(4 * MIB, 33)).expect("write");
    let mut args = UPLOAD_ARGS.to_vec();
    args.extend(["v", f.to_str().expect("utf8")]);
    kill_after_one_part(&mock, dir.path(), dir.path(), &args);
    let r = run(
        &mock,
        dir.path(),
        &["upload", "-p", "2", "v", f.to_str().expect("utf8")],
    );
    let err = r.fails(1);
    assert!(
        err.contains("uses 1 MiB parts, not --part-size 2") && err.contains("--no-resume"),
        "{err}"
    );
    assert_eq!(count(&mock, "InitiateMultipartUpload"), 1);
}

/// Ctrl-C while `archive get --wait` waits for its job: the acknowledgment says the wait
/// ends at once (and what a download would do), and the run stops before any download.
#[test]
fn ctrl_c_while_archive_get_waits_for_the_job_ends_the_wait() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("sig-get-wait");
    let archive = mock.put_archive("v", &pattern(MIB, 26), "seed");
    let job = run(
        &mock,
        dir.path(),
        &["archive", "init-retrieval", "v", &archive],
    )
    .ok()
    .trim()
    .to_string();
    let out = dir.join("out.bin");
    let mut child = glacier_mock(&mock, dir.path())
        .env("GLACIER_POLL_MS", "60000")
        .args([
            "archive",
            "get",
            "--wait",
            "v",
            &job,
            out.to_str().expect("utf8"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    let (lines, stderr) = stderr_lines(&mut child);
    wait_for("a look at the job", 30, || count(&mock, "DescribeJob") >= 1);
    let r = crate::support::interrupt(
        child,
        stderr,
        &lines,
        "INT",
        "glacier: interrupted: the wait for the job ends at once; no new chunk starts",
        || {},
    );
    let err = r.fails(130);
    assert!(
        err.ends_with(&format!(
            "waiting for job {job} interrupted; run the same command again to continue\n"
        )),
        "{err}"
    );
    assert_eq!(count(&mock, "GetJobOutput"), 0);
    assert!(!out.exists());
}
