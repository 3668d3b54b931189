//! SIGKILL at seeded random points of an upload and of a download, followed by a resume
//! that ends byte-identical with whole receipt lines and valid resume state.
//!
//! The trial count comes from `GLACIER_TRIALS` (default 3), so `benches/trials.sh` can
//! run many. Nothing sleeps to wait for something: kill points are reached by polling the
//! mock or the chunk log with a deadline.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::mock::{Fault, FaultRule, MockGlacier};
use crate::support::{
    MIB, TempDir, check_receipts, check_states, glacier_mock, path_str, pattern, run, stored,
};

/// A seeded xorshift generator for kill points.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A draw in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

/// Polls `cond` until it holds; an error if `child` exits first or `secs` pass (a
/// trial counts this as a failure instead of ending the whole run).
fn poll_kill_point(
    child: &mut Child,
    what: &str,
    secs: u64,
    mut cond: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited ({status}) before {what}"));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// Collects a child's stderr on a thread, so the pipe never fills and blocks it.
fn collect_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    })
}

fn trials() -> u64 {
    std::env::var("GLACIER_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// One upload trial: a 7-part upload killed once `k` parts are on the mock, resumed
/// with the upload ID from the resume state (even trials) or the printed line (odd).
fn upload_trial(trial: u64, data_dir: &Path) -> Result<(), String> {
    let mut rng = Rng::new(1000 + trial);
    // At most 5 of 7: with 2 parts in flight, a later kill point could race the end.
    let k = rng.between(1, 5) as usize;
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let dir = TempDir::new("hm-trial-up");
    let f = dir.join("src.bin");
    let data = pattern(6 * MIB + 1 + trial as usize, 2000 + trial);
    std::fs::write(&f, &data).map_err(|e| e.to_string())?;
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(40)),
        Some("UploadMultipartPart"),
    ));
    let mut child = glacier_mock(&mock, data_dir)
        .args(["upload", "-p", "1", "-t", "2", "v", path_str(&f)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = collect_stderr(&mut child);
    poll_kill_point(&mut child, "the kill point", 60, || {
        mock.uploads("v")
            .first()
            .is_some_and(|u| u.parts.len() >= k)
    })?;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let printed = stderr.join().expect("stderr");
    mock.clear_faults();
    check_receipts(&data_dir.join("glacier-upload/receipts.jsonl"));
    let on_mock = mock.uploads("v")[0].upload_id.clone();
    let from_state = check_states(data_dir).into_iter().find(|id| *id == on_mock);
    let from_line = printed
        .split("multipart upload ID ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .map(str::to_string);
    let id = if trial % 2 == 0 {
        from_state.ok_or("no resume state for the killed upload")?
    } else {
        from_line.ok_or_else(|| format!("no upload ID printed: {printed:?}"))?
    };
    let r = run(
        &mock,
        data_dir,
        &["upload", "--upload-id", &id, "v", path_str(&f)],
    );
    if r.code != 0 {
        return Err(format!("resume failed: {}", r.stderr));
    }
    let archive = r.stdout.trim();
    if stored(&mock, "v", archive) != data {
        return Err(format!(
            "trial {trial} (kill after {k} parts): archive differs"
        ));
    }
    if !mock.uploads("v").is_empty() {
        return Err("the upload is still in progress after completion".into());
    }
    Ok(())
}

/// One download trial: an 8-chunk download (-t 2) killed once `k` chunks are logged,
/// then run again.
fn download_trial(trial: u64) -> Result<(), String> {
    let mut rng = Rng::new(3000 + trial);
    // At most 6 of 8 chunks: with 2 in flight, a later kill point could race the end.
    let k = rng.between(1, 6) as usize;
    let dir = TempDir::new("hm-trial-down");
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let data = pattern(8 * MIB - 3 - trial as usize, 4000 + trial);
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
    mock.inject(FaultRule::always(
        Fault::Slow(Duration::from_millis(40)),
        Some("GetJobOutput"),
    ));
    let out = dir.join("out.bin");
    let get = [
        "archive",
        "get",
        "--chunk-size",
        "1",
        "-t",
        "2",
        "v",
        &job,
        path_str(&out),
    ];
    let mut child = glacier_mock(&mock, dir.path())
        .args(get)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let log = dir.join("out.bin.glacier-part.log");
    poll_kill_point(&mut child, "the kill point", 60, || {
        std::fs::read_to_string(&log).map_or(0, |s| s.lines().count()) > k
    })?;
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    mock.clear_faults();
    if out.exists() {
        return Err("a killed download left a file under the final name".into());
    }
    let r = run(&mock, dir.path(), &get);
    if r.code != 0 {
        return Err(format!("rerun failed: {}", r.stderr));
    }
    if std::fs::read(&out).map_err(|e| e.to_string())? != data {
        return Err(format!(
            "trial {trial} (kill after {k} chunks): file differs"
        ));
    }
    Ok(())
}

#[test]
fn crash_resume_trials_upload_and_download() {
    let n = trials();
    let data = TempDir::new("hm-trials");
    let mut failures = Vec::new();
    let mut up_ok = 0;
    for t in 0..n {
        match upload_trial(t, data.path()) {
            Ok(()) => up_ok += 1,
            Err(e) => failures.push(format!("upload trial {t}: {e}")),
        }
    }
    let mut down_ok = 0;
    for t in 0..n {
        match download_trial(t) {
            Ok(()) => down_ok += 1,
            Err(e) => failures.push(format!("download trial {t}: {e}")),
        }
    }
    // Every completed resume appended one receipt to the shared file, none torn.
    let receipts = check_receipts(&data.join("glacier-upload/receipts.jsonl"));
    assert_eq!(receipts as u64, up_ok);
    assert!(check_states(data.path()).is_empty(), "states left behind");
    eprintln!("crash-resume upload trials: {up_ok}/{n} passed");
    eprintln!("crash-resume download trials: {down_ok}/{n} passed");
    assert!(failures.is_empty(), "{failures:#?}");
}
