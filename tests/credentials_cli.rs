//! The `glacier` binary with only web identity in its environment, against the mock
//! Glacier (accepting the keys the loopback STS issues) and the loopback STS: a multipart
//! upload that signs across a credentials refresh with a rotated token file, `--verbose`
//! naming the chain's steps, and the "none found" error listing them, with no secret or
//! token printed anywhere.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use time::{Duration, OffsetDateTime};

use crate::mock::{Fault, FaultRule, Gate, MockConfig, MockGlacier};
use crate::sts::{KeyRing, StsConfig, StsServer};
use crate::support::{TempDir, count, fails_once, glacier, path_str, pattern, wait_for};
use glacier_upload::credentials::REFRESH_WINDOW;

const ROLE: &str = "arn:aws:iam::111122223333:role/glacier-writer";

/// The access key ID of a recorded request's Authorization header.
fn signing_key(r: &crate::mock::RecordedRequest) -> String {
    let auth = r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    glacier_upload::sigv4::parse_authorization(&auth)
        .map(|p| p.access_key_id)
        .unwrap_or_default()
}

#[test]
fn web_identity_alone_uploads_and_signs_across_a_refresh_with_a_rotated_token() {
    let ring: KeyRing = Arc::new(Mutex::new(Vec::new()));
    let mock = MockGlacier::start_with(MockConfig {
        extra_keys: Some(Arc::clone(&ring)),
        ..MockConfig::default()
    });
    mock.create_vault("v");
    let mut cfg = StsConfig::new();
    cfg.roles = vec![(ROLE.into(), None)];
    cfg.web_tokens = vec!["eyJ.first-token.sig".into()];
    // Credentials that enter the refresh window two seconds after they are issued.
    cfg.lifetime = REFRESH_WINDOW + Duration::seconds(2);
    cfg.keyring = Some(Arc::clone(&ring));
    let sts = StsServer::start(cfg);

    let dir = TempDir::new("webid-cli");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "eyJ.first-token.sig").unwrap();
    let data = pattern(3 << 20, 24);
    let file = dir.join("a.bin");
    std::fs::write(&file, &data).unwrap();

    // The first part is held at the mock while the token rotates and the credentials
    // enter their refresh window.
    let gate = Gate::new();
    mock.inject(FaultRule::times(
        Fault::Hold(gate.clone()),
        Some("UploadMultipartPart"),
        1,
    ));
    let child = glacier()
        .env("AWS_REGION", crate::mock::REGION)
        .env("AWS_ENDPOINT_URL_GLACIER", mock.url())
        .env("AWS_ENDPOINT_URL_STS", &sts.url)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_ROLE_ARN", ROLE)
        .env("XDG_DATA_HOME", dir.path())
        .env("GLACIER_RETRY_BASE_MS", "1")
        .args([
            "--verbose",
            "upload",
            "--part-size",
            "1",
            "--threads",
            "1",
            "v",
        ])
        .arg(path_str(&file))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn glacier");
    wait_for("the first part to reach the mock", 30, || {
        count(&mock, "UploadMultipartPart") == 1
    });
    std::fs::write(&token_file, "eyJ.second-token.sig").unwrap();
    sts.set_web_tokens(&["eyJ.second-token.sig"]);
    let first = sts.issued()[0].clone();
    let due = first.expiration - REFRESH_WINDOW;
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while OffsetDateTime::now_utc() <= due {
        assert!(Instant::now() < deadline, "the clock did not reach {due}");
        std::thread::sleep(StdDuration::from_millis(50));
    }
    gate.open();
    let out = child.wait_with_output().expect("wait for glacier");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");

    check_refreshed_run(&mock, &sts, &first.access_key_id, &data, &stdout, &stderr);
}

/// The run signed with the first and then the refreshed keys (the second STS call sent
/// the rotated token), stored the file, logged the refresh and printed no secret.
fn check_refreshed_run(
    mock: &MockGlacier,
    sts: &StsServer,
    first_key: &str,
    data: &[u8],
    stdout: &str,
    stderr: &str,
) {
    let calls = sts.calls();
    assert!(calls.len() >= 2, "{calls:?}");
    assert!(calls.iter().all(|c| c.outcome == "ok"), "{calls:?}");
    assert_eq!(
        calls[0].param("WebIdentityToken"),
        Some("eyJ.first-token.sig")
    );
    assert_eq!(
        calls[1].param("WebIdentityToken"),
        Some("eyJ.second-token.sig")
    );

    let reqs = mock.requests();
    let initiate = reqs
        .iter()
        .find(|r| r.operation == "InitiateMultipartUpload")
        .unwrap();
    let complete = reqs
        .iter()
        .find(|r| r.operation == "CompleteMultipartUpload")
        .unwrap();
    assert_eq!(signing_key(initiate), first_key);
    assert_ne!(
        signing_key(complete),
        first_key,
        "signed with refreshed keys"
    );
    assert!(reqs.iter().all(|r| r.status < 300), "{reqs:?}");
    let archives = mock.archives("v");
    assert_eq!(archives.len(), 1);
    assert_eq!(
        crate::support::stored(mock, "v", &archives[0].archive_id),
        data
    );

    assert!(
        stderr.contains("credentials: using web identity"),
        "{stderr}"
    );
    assert!(
        stderr.contains("credentials: refreshed from web identity"),
        "{stderr}"
    );
    let printed = format!("{stdout}{stderr}");
    for i in sts.issued() {
        assert!(
            !printed.contains(&i.secret) && !printed.contains(&i.token),
            "{printed}"
        );
    }
    assert!(!printed.contains("first-token") && !printed.contains("second-token"));
}

#[test]
fn none_found_is_one_line_naming_each_step() {
    let mock = MockGlacier::start();
    let out = glacier()
        .env("AWS_REGION", crate::mock::REGION)
        .env("AWS_ENDPOINT_URL_GLACIER", mock.url())
        .args(["--verbose", "vault", "list"])
        .output()
        .expect("run glacier");
    let r = crate::support::Run::from(out);
    let verbose: Vec<_> = r
        .stderr
        .lines()
        .filter(|l| l.contains("credentials: tried"))
        .collect();
    assert_eq!(verbose.len(), 5, "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default().to_string();
    for step in [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "profile 'default'",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_EC2_METADATA_DISABLED",
    ] {
        assert!(last.contains(step), "{step}: {last}");
    }
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(mock.requests().is_empty());

    // Without --verbose: exactly one line.
    let out = glacier()
        .env("AWS_REGION", crate::mock::REGION)
        .env("AWS_ENDPOINT_URL_GLACIER", mock.url())
        .args(["vault", "list"])
        .output()
        .expect("run glacier");
    let line = fails_once(&crate::support::Run::from(out), 1);
    assert!(line.contains("none found"), "{line}");
}
