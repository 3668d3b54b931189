//! Secret hygiene: no command prints or writes a secret key or session token, even with
//! `--verbose`, and the credentials file is left as it was.

use std::path::{Path, PathBuf};

use crate::mock::{Fault, FaultRule, MockConfig, MockGlacier, SECRET_KEY};
use crate::support::{MIB, Run, TempDir, check_receipts, check_states, glacier_mock, pattern};

/// Every file under `root`, recursively (symlinks not followed).
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn no_command_prints_or_writes_a_secret_even_verbose() {
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLE/session+token=";
    let mock = MockGlacier::start_with(MockConfig {
        session_token: Some(TOKEN.into()),
        ..MockConfig::default()
    });
    let work = TempDir::new("hm-secrets");
    let data = work.join("xdg");
    let files = work.join("files");
    std::fs::create_dir_all(files.join("tree/sub")).expect("mkdir");
    std::fs::write(files.join("small.bin"), pattern(5000, 51)).expect("write");
    std::fs::write(files.join("big.bin"), pattern(3 * MIB + 1, 52)).expect("write");
    std::fs::write(files.join("tree/a.txt"), b"hello").expect("write");
    std::fs::write(files.join("tree/sub/b.bin"), pattern(70_000, 53)).expect("write");
    // A credentials file the tool reads: its mode and contents must not change.
    let creds = work.join("credentials");
    std::fs::write(
        &creds,
        format!(
            "[other]\naws_access_key_id = {}\naws_secret_access_key = {SECRET_KEY}\naws_session_token = {TOKEN}\n",
            crate::mock::ACCESS_KEY
        ),
    )
    .expect("write");
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
    let creds_before = std::fs::read(&creds).expect("read");

    let mut outputs = Vec::new();
    let go = |args: &[&str], code: i32, outputs: &mut Vec<String>| -> String {
        let r: Run = glacier_mock(&mock, &data)
            .env("AWS_SESSION_TOKEN", TOKEN)
            .current_dir(&files)
            .arg("--verbose")
            .args(args)
            .output()
            .expect("run")
            .into();
        assert_eq!(r.code, code, "{args:?}\n{}", r.stderr);
        outputs.push(format!("{args:?}\n{}\n{}", r.stdout, r.stderr));
        r.stdout.trim().to_string()
    };
    go(&["vault", "create", "v"], 0, &mut outputs);
    go(&["vault", "list"], 0, &mut outputs);
    go(&["vault", "describe", "v"], 0, &mut outputs);
    let small = go(&["upload", "v", "small.bin"], 0, &mut outputs);
    go(&["upload", "-p", "1", "v", "big.bin"], 0, &mut outputs);
    go(&["upload", "v", "tree", "small.bin"], 0, &mut outputs);
    // An upload that fails part-way leaves an upload (and its resume state) behind.
    mock.inject(FaultRule::always(
        Fault::Unavailable,
        Some("UploadMultipartPart"),
    ));
    go(
        &["upload", "--max-attempts", "1", "-p", "1", "v", "big.bin"],
        1,
        &mut outputs,
    );
    mock.clear_faults();
    let upload = mock.uploads("v")[0].upload_id.clone();
    go(&["uploads", "list", "v"], 0, &mut outputs);
    go(&["uploads", "parts", "v", &upload], 0, &mut outputs);
    let job = go(&["archive", "init-retrieval", "v", &small], 0, &mut outputs);
    go(&["jobs", "list", "v"], 0, &mut outputs);
    go(&["jobs", "describe", "v", &job], 0, &mut outputs);
    go(&["archive", "get", "v", &job, "got.bin"], 3, &mut outputs);
    mock.complete_jobs();
    // A download that fails part-way leaves its part file and log behind.
    mock.inject(FaultRule::always(Fault::Unavailable, Some("GetJobOutput")));
    go(
        &[
            "archive",
            "get",
            "--max-attempts",
            "1",
            "v",
            &job,
            "got.bin",
        ],
        1,
        &mut outputs,
    );
    mock.clear_faults();
    go(&["archive", "get", "v", &job, "kept.bin"], 0, &mut outputs);
    go(&["archive", "get", "v", &job, "-"], 0, &mut outputs);
    go(&["uploads", "abort", "v", &upload], 0, &mut outputs);
    go(&["archive", "delete", "v", &small], 0, &mut outputs);
    go(&["vault", "delete", "v"], 1, &mut outputs);
    // Credentials from a profile in a file, the token with them.
    let r: Run = glacier_mock(&mock, &data)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .args(["--verbose", "--profile", "other", "vault", "list"])
        .output()
        .expect("run")
        .into();
    r.ok();
    outputs.push(format!("{}\n{}", r.stdout, r.stderr));

    for text in &outputs {
        assert!(!text.contains(SECRET_KEY), "secret key printed:\n{text}");
        assert!(!text.contains(TOKEN), "session token printed:\n{text}");
        assert!(!text.contains("Signature="), "signature printed:\n{text}");
        assert!(!text.contains("panicked"), "{text}");
    }
    let written = files_under(work.path());
    let mut names = Vec::new();
    for p in &written {
        if *p == creds {
            continue;
        }
        let bytes = std::fs::read(p).expect("read");
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(SECRET_KEY), "secret key in {}", p.display());
        assert!(!hay.contains(TOKEN), "session token in {}", p.display());
        names.push(
            p.strip_prefix(work.path())
                .expect("under")
                .display()
                .to_string(),
        );
    }
    // The files the tool wrote are among those checked.
    for want in [
        "xdg/glacier-upload/receipts.jsonl",
        "files/got.bin.glacier-part.log",
        "files/kept.bin",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("xdg/glacier-upload/uploads/")),
        "{names:?}"
    );
    assert_eq!(
        check_receipts(&data.join("glacier-upload/receipts.jsonl")),
        3
    );
    check_states(&data);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&creds).expect("stat").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "credentials file mode changed");
    assert_eq!(std::fs::read(&creds).expect("read"), creds_before);
}
