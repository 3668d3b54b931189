//! `glacier upload` when things go wrong around the requests that create something:
//! signals while an archive is being created, SIGTERM/SIGHUP elsewhere, answers lost
//! after Glacier acted (issue 10, sections 2, 3 and 7), and auto-resume.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, Gate, MockGlacier};
use crate::support::{Run, TempDir, glacier_mock, pattern};

const MIB: usize = 1 << 20;

fn count(mock: &MockGlacier, op: &str) -> usize {
    mock.requests().iter().filter(|r| r.operation == op).count()
}

/// Polls `cond` until it holds or the deadline passes.
fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

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

/// Signals sent while the request that creates the archive is on its way are held: the
/// archive ID still reaches stdout and the receipts file, and the run succeeds.
fn signals_during_creation_are_held(op: &'static str, size: usize, extra: &[&str]) {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("sig-hold");
    let f = dir.join("a.bin");
    std::fs::write(&f, pattern(size, 21)).expect("write");
    let gate = Gate::new();
    mock.inject(FaultRule::always(Fault::Hold(gate.clone()), Some(op)));
    let mut args = vec!["upload"];
    args.extend_from_slice(extra);
    args.extend(["v", f.to_str().expect("utf8")]);
    let child = spawn(&mock, dir.path(), &args);
    wait_for(op, 30, || count(&mock, op) == 1);
    kill(&child, "INT");
    kill(&child, "INT");
    kill(&child, "TERM");
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
    signals_during_creation_are_held("CompleteMultipartUpload", 3 * MIB, &["-p", "1"]);
}

#[test]
fn signals_during_upload_archive_are_held() {
    signals_during_creation_are_held("UploadArchive", MIB, &[]);
}

/// SIGTERM (`timeout`, systemd) and SIGHUP (a closed terminal) act like Ctrl-C: parts in
/// flight finish, the resume command is printed, the exit code names the signal.
#[test]
fn sigterm_and_sighup_stop_like_ctrl_c() {
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        let mock = MockGlacier::start();
        mock.create_vault("v");
        let dir = TempDir::new("sig-term");
        let f = dir.join("big.bin");
        std::fs::write(&f, pattern(8 * MIB, 22)).expect("write");
        let gate = Gate::new();
        mock.inject(FaultRule::always(
            Fault::Hold(gate.clone()),
            Some("UploadMultipartPart"),
        ));
        let child = spawn(
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
        wait_for("a part", 30, || count(&mock, "UploadMultipartPart") == 1);
        kill(&child, signal);
        gate.open();
        let r: Run = child.wait_with_output().expect("wait").into();
        let err = r.fails(code);
        assert!(
            err.contains("resume with: glacier upload"),
            "{signal}: {err}"
        );
        assert!(mock.archives("v").is_empty());
        assert_eq!(
            mock.uploads("v")[0].parts.len(),
            1,
            "{signal}: part in flight kept"
        );
    }
}
