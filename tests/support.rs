//! Shared helpers: temporary directories, running the real binary (plain or against the
//! mock), asserting on what it printed, and reading what the mock stored and saw.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One mebibyte, the unit of part and chunk sizes.
pub const MIB: usize = 1 << 20;

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh empty directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "glacier-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no random crate.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The real `glacier` binary, with a clean environment: no AWS variables leak in from
/// the machine running the tests.
pub fn glacier() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glacier"));
    c.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    c.env(
        "HOME",
        std::env::temp_dir().join("glacier-test-home-nonexistent"),
    );
    // Never let a test reach for the EC2 metadata service (a non-loopback address).
    c.env("AWS_EC2_METADATA_DISABLED", "true");
    c.stdin(Stdio::null());
    c
}

/// What a run printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts this exit code and a stderr with no panic, returning stderr (all of it:
    /// notes before the error line included; [`fails_once`] also asserts one line).
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "panic: {}",
            self.stderr
        );
        &self.stderr
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Reads `child`'s stderr on a thread: each line is sent on the channel as it comes, and
/// the thread returns the whole text once the child closes it. With [`wait_for_line`], a
/// test learns that the process reached a point it announces (such as a signal taken)
/// without sleeping; [`ended`] then collects the run.
pub fn stderr_lines(
    child: &mut std::process::Child,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<String>,
) {
    use std::io::BufRead;
    let err = std::io::BufReader::new(child.stderr.take().expect("stderr piped"));
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in err.lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    (rx, reader)
}

/// Waits (with a deadline) for a line containing `text`; `false` if the child closed its
/// stderr first or the deadline passed.
pub fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, text: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.contains(text) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
}

/// Waits for a child whose stderr [`stderr_lines`] reads; the run with all of it.
pub fn ended(child: std::process::Child, stderr: std::thread::JoinHandle<String>) -> Run {
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Sends `signal` ("INT", "TERM", "HUP", ...) to `child` with kill(1).
pub fn send_signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
}

/// Interrupts a child whose stderr [`stderr_lines`] reads: sends `signal`, waits (with a
/// deadline) for the line containing `said` (the command's acknowledgment, printed once
/// its stop flag is set), then runs `release` (opens what the test held, such as the
/// mock's gate on the request in flight) and waits for the child to end. Fails the test
/// if the acknowledgment never came.
pub fn interrupt(
    child: std::process::Child,
    stderr: std::thread::JoinHandle<String>,
    lines: &std::sync::mpsc::Receiver<String>,
    signal: &str,
    said: &str,
    release: impl FnOnce(),
) -> Run {
    send_signal(&child, signal);
    let taken = wait_for_line(lines, said);
    release();
    let r = ended(child, stderr);
    assert!(
        taken,
        "{signal}: the interruption was never acknowledged: {}",
        r.stderr
    );
    r
}

/// Waits (with a deadline) until signal `sig` is no longer pending for process `pid`
/// (`/proc/PID/status`, SigPnd and ShdPnd): the process has taken it.
pub fn signal_taken(pid: u32, sig: u32) -> bool {
    let bit = 1u64 << (sig - 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let pending = status
            .lines()
            .filter(|l| l.starts_with("SigPnd:") || l.starts_with("ShdPnd:"))
            .filter_map(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
            .fold(0, |a, m| a | m);
        if !status.is_empty() && pending & bit == 0 {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

/// Runs `cmd` with `data` on its standard input (fed from a thread, so a large input
/// never deadlocks against a full stdout pipe), collecting stdout and stderr.
pub fn run_with_stdin(mut cmd: Command, data: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let feed = data.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &feed));
    let out = child.wait_with_output().expect("wait for glacier");
    writer
        .join()
        .expect("join the stdin writer")
        .expect("feed stdin");
    out.into()
}

/// Runs `glacier` with `args` and no Glacier endpoint or keys.
pub fn run_plain(args: &[&str]) -> Run {
    glacier().args(args).output().expect("run glacier").into()
}

/// The real `glacier` binary set up to talk to `mock`: its keys and region in the
/// environment, its URL as the Glacier endpoint, upload state under `data_home`, instance
/// metadata disabled (so a credentials failure never reaches for 169.254.169.254), and
/// 1 ms retry and job-poll base delays so retry and wait paths run fast.
pub fn glacier_mock(mock: &crate::mock::MockGlacier, data_home: &Path) -> Command {
    let mut c = glacier();
    c.env("AWS_ACCESS_KEY_ID", crate::mock::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", crate::mock::SECRET_KEY)
        .env("AWS_REGION", crate::mock::REGION)
        .env("AWS_ENDPOINT_URL_GLACIER", mock.url())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("XDG_DATA_HOME", data_home)
        .env("GLACIER_RETRY_BASE_MS", "1")
        .env("GLACIER_POLL_MS", "1");
    c
}

/// Runs `glacier` with `args` against `mock` (see [`glacier_mock`]) with its data
/// directory in `data`.
pub fn run(mock: &crate::mock::MockGlacier, data: &Path, args: &[&str]) -> Run {
    glacier_mock(mock, data)
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

/// Runs `glacier` with `args` against `mock` (see [`glacier_mock`]), with a fresh data
/// directory that is removed afterwards.
pub fn run_mock(mock: &crate::mock::MockGlacier, args: &[&str]) -> Run {
    let home = TempDir::new("data-home");
    glacier_mock(mock, home.path())
        .args(args)
        .output()
        .expect("run glacier")
        .into()
}

/// The crate's own Glacier client pointed at `mock`, for seeding state through the API
/// quickly (it keeps connections alive and sends each request in one piece, where the
/// raw test client pays a delayed-ACK wait per request with a body).
pub fn mock_client(mock: &crate::mock::MockGlacier) -> glacier_upload::glacier::Client {
    glacier_upload::glacier::Client::new(mock_client_config(mock)).expect("client for the mock")
}

/// The configuration [`mock_client`] builds its client from, for a test that changes a
/// setting (its retry policy, say) first.
pub fn mock_client_config(
    mock: &crate::mock::MockGlacier,
) -> glacier_upload::glacier::ClientConfig {
    use glacier_upload::config::{self, MapEnv, Settings};
    let env = MapEnv::new()
        .with("AWS_ACCESS_KEY_ID", crate::mock::ACCESS_KEY)
        .with("AWS_SECRET_ACCESS_KEY", crate::mock::SECRET_KEY)
        .with("AWS_REGION", crate::mock::REGION)
        .with("AWS_ENDPOINT_URL_GLACIER", &mock.url())
        .with("AWS_EC2_METADATA_DISABLED", "true");
    let resolved = config::resolve(&Settings::default(), &env).expect("mock settings resolve");
    let credentials =
        glacier_upload::credentials::chain(&resolved, &env).expect("mock credentials");
    glacier_upload::glacier::ClientConfig::new(resolved, credentials)
}

/// The bytes of an archive as the mock stores them.
pub fn stored(mock: &crate::mock::MockGlacier, vault: &str, archive_id: &str) -> Vec<u8> {
    std::fs::read(mock.archive_path(vault, archive_id)).expect("archive on the mock")
}

/// How many requests of operation `op` the mock has answered.
pub fn count(mock: &crate::mock::MockGlacier, op: &str) -> usize {
    mock.requests().iter().filter(|r| r.operation == op).count()
}

/// A test path as the `&str` argument the binary takes.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Polls `cond` until it holds or the deadline passes.
pub fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every line of the receipts file is a JSON object with an archive ID; returns how
/// many lines there are (0 when the file does not exist).
pub fn check_receipts(path: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    assert!(text.is_empty() || text.ends_with('\n'), "torn last line");
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("receipt line is not JSON ({e}): {l}"));
        assert!(v["archive_id"].is_string(), "{l}");
    }
    text.lines().count()
}

/// Every resume state file under the data directory `data` is valid JSON naming its
/// upload; returns the upload IDs.
pub fn check_states(data: &Path) -> Vec<String> {
    let dir = data.join("glacier-upload/uploads");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for e in entries {
        let p = e.expect("dir entry").path();
        let text = std::fs::read(&p).expect("read state");
        let v: serde_json::Value = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
        assert_eq!(
            p.extension().and_then(|x| x.to_str()),
            Some("json"),
            "a temporary state file was left: {}",
            p.display()
        );
        ids.push(v["upload_id"].as_str().expect("upload_id").to_string());
    }
    ids
}

/// Asserts a failure with this exit code reported as exactly one `glacier: ` line on
/// stderr and nothing on stdout; returns that line.
#[track_caller]
pub fn fails_once(r: &Run, code: i32) -> String {
    let e = r.fails(code);
    assert_eq!(e.lines().count(), 1, "one stderr line expected:\n{e}");
    assert!(e.starts_with("glacier: "), "{e}");
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
    e.trim_end().to_string()
}

/// Asserts success with nothing on stderr; returns stdout.
#[track_caller]
pub fn quiet_ok(r: &Run) -> &str {
    let out = r.ok();
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    out
}

/// The requests the mock saw for one operation.
pub fn ops(m: &crate::mock::MockGlacier, op: &str) -> Vec<crate::mock::RecordedRequest> {
    m.requests()
        .into_iter()
        .filter(|r| r.operation == op)
        .collect()
}

/// The request ID of the last request the mock answered.
pub fn last_request_id(m: &crate::mock::MockGlacier) -> String {
    m.requests()
        .last()
        .expect("the mock saw a request")
        .request_id
        .clone()
}

/// Parses stdout that must be exactly one line of JSON.
pub fn json(s: &str) -> serde_json::Value {
    assert_eq!(s.lines().count(), 1, "one line of JSON: {s}");
    serde_json::from_str(s).expect("stdout is JSON")
}

/// Vault `v`'s archives now, as Glacier's inventory JSON written to `path` (what an
/// inventory job would return), for `--inventory FILE` in export and purge tests.
pub fn inventory_json(mock: &crate::mock::MockGlacier, path: &Path) {
    let list: Vec<serde_json::Value> = mock
        .archives("v")
        .iter()
        .map(|a| {
            serde_json::json!({
                "ArchiveId": a.archive_id,
                "ArchiveDescription": a.description,
                "CreationDate": a.creation_date,
                "Size": a.size,
                "SHA256TreeHash": a.tree_hash,
            })
        })
        .collect();
    let doc = serde_json::json!({"VaultARN": "arn", "InventoryDate": "2026-01-01T00:00:00Z", "ArchiveList": list});
    std::fs::write(path, doc.to_string()).expect("write inventory");
}

// ---- the S3 test server's Python ----------------------------------------------------

/// The variable that opts out of the tests that need moto's S3 server.
pub const SKIP_S3_VAR: &str = "GLACIER_SKIP_S3_TESTS";

/// What moto's S3 server needs, as pip takes it (what `tests/s3server/moto_s3.py` runs).
const MOTO_PACKAGES: [&str; 3] = ["moto[s3]>=5,<6", "flask", "flask-cors"];

/// Has the user opted out of the S3 tests (`GLACIER_SKIP_S3_TESTS=1`)? If so, says so
/// on the real stderr, past libtest's capture, so the skip shows in the test output
/// beside the test's name instead of hiding behind an `ok`.
pub fn s3_tests_opted_out() -> bool {
    if std::env::var(SKIP_S3_VAR).is_ok_and(|v| v == "1") {
        let test = std::thread::current()
            .name()
            .unwrap_or("an S3 test")
            .to_string();
        let line = format!("skipped {test}: {SKIP_S3_VAR}=1 (needs moto's S3 server)\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        return true;
    }
    false
}

/// Does `python` import moto's server and flask-cors?
fn has_moto(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import moto.server, flask_cors"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python that can run moto's S3 server: the system's `python3` if it has moto, else
/// a virtual environment under `target/` made once (by the first test process to take
/// its lock; the others wait for it) with moto installed by pip. `Err` is one line
/// saying what to install, or how to opt out.
pub fn moto_python() -> Result<PathBuf, String> {
    let system = PathBuf::from("python3");
    if has_moto(&system) {
        return Ok(system);
    }
    let hint = format!(
        "install python3 with venv and pip (or run: pip install {}), or set {SKIP_S3_VAR}=1 to skip the S3 tests",
        MOTO_PACKAGES.map(|p| format!("'{p}'")).join(" ")
    );
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = base.join("moto-venv");
    let python = venv.join("bin/python3");
    if has_moto(&python) {
        return Ok(python);
    }
    std::fs::create_dir_all(base).map_err(|e| format!("{}: {e}", base.display()))?;
    let lock_path = base.join("moto-venv.lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    // Another test process may be making it: wait for its lock, then look again.
    lock.lock()
        .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    if has_moto(&python) {
        return Ok(python);
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("S3 tests: {what} could not run ({e}); {hint}"))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Err(format!("S3 tests: {what} failed ({}); {hint}", last.trim()))
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(MOTO_PACKAGES),
        "pip install of moto",
    )?;
    if has_moto(&python) {
        Ok(python)
    } else {
        Err(format!(
            "S3 tests: moto is not importable after installing it; {hint}"
        ))
    }
}

#[test]
fn s3_tests_run_unless_opted_out_with_glacier_skip_s3_tests() {
    // The one place the opt-out is summarised: every S3 test also says it was skipped.
    if s3_tests_opted_out() {
        return;
    }
    let python = moto_python().unwrap_or_else(|e| panic!("{e}"));
    assert!(has_moto(&python), "{}", python.display());
    assert!(crate::s3_client::setup("support-canary").is_some());
}

/// Vault `v` on `mock` with `n` small archives named `d/f{i}.bin` (their descriptions,
/// so a directory export writes them there); each one's bytes by name.
pub fn seed_named(
    mock: &crate::mock::MockGlacier,
    n: usize,
) -> std::collections::HashMap<String, Vec<u8>> {
    mock.create_vault("v");
    (0..n)
        .map(|i| {
            let name = format!("d/f{i}.bin");
            let data = pattern(100 + i * 37, i as u64 + 3);
            mock.put_archive("v", &data, &name);
            (name, data)
        })
        .collect()
}

/// Every file of `data` (bytes by name) is in `out` with exactly those bytes.
pub fn check_exported_by_name(out: &Path, data: &std::collections::HashMap<String, Vec<u8>>) {
    for (name, bytes) in data {
        let got = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == *bytes, "{name} differs");
    }
}

/// Archive retrieval jobs per archive ID in vault `v`, as the mock (Glacier) lists them.
pub fn jobs_per_archive(
    mock: &crate::mock::MockGlacier,
) -> std::collections::HashMap<String, usize> {
    let mut per = std::collections::HashMap::new();
    for j in mock_client(mock)
        .list_jobs("v", None, None)
        .expect("list jobs")
    {
        if let Some(a) = j.archive_id {
            *per.entry(a).or_default() += 1;
        }
    }
    per
}
