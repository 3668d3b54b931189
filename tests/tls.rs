//! TLS trust on a machine with no CA certificates: the real binary against the mock
//! behind a loopback TLS front whose certificate is signed by a test CA
//! (`tests/data/tls/`, see its README). With `SSL_CERT_FILE`/`SSL_CERT_DIR` pointing at
//! empty places the system store is empty, so the client falls back to the bundled roots,
//! which do not know the test CA: the CA given with `AWS_CA_BUNDLE` must be added on top
//! for `vault list` to work, and without it the failure is one clear line about the
//! certificate. This is the static binary's situation on a bare server.
//!
//! The front is the mock's own (`tests/mock/tls.rs`).

use crate::mock::MockGlacier;
use crate::mock::tls::{TlsFront, data};
use crate::support::{Run, TempDir, glacier_mock};

/// `glacier` set up for `mock` but pointed at `endpoint`, with no system CA certificates:
/// `SSL_CERT_FILE` an empty file and `SSL_CERT_DIR` an empty directory.
fn no_system_roots(mock: &MockGlacier, home: &TempDir, endpoint: &str) -> std::process::Command {
    let empty_file = home.join("empty.pem");
    std::fs::write(&empty_file, b"").expect("write empty.pem");
    let empty_dir = home.join("empty-certs");
    std::fs::create_dir_all(&empty_dir).expect("create empty-certs");
    let mut c = glacier_mock(mock, home.path());
    c.env("AWS_ENDPOINT_URL_GLACIER", endpoint)
        .env("SSL_CERT_FILE", &empty_file)
        .env("SSL_CERT_DIR", &empty_dir);
    c
}

#[test]
fn ca_bundle_is_trusted_without_system_roots() {
    let mock = MockGlacier::start();
    mock.create_vault("photos");
    let front = TlsFront::start(mock.addr());
    for host in ["127.0.0.1", "localhost"] {
        let home = TempDir::new("tls-ok");
        let r: Run = no_system_roots(&mock, &home, &front.url(host))
            .env("AWS_CA_BUNDLE", data("ca.pem"))
            .args(["vault", "list"])
            .output()
            .expect("run glacier")
            .into();
        assert!(r.ok().contains("photos"), "{host}: {}", r.stdout);
    }
}

#[test]
fn unknown_ca_fails_with_one_line_about_the_certificate() {
    let mock = MockGlacier::start();
    mock.create_vault("photos");
    let front = TlsFront::start(mock.addr());
    let home = TempDir::new("tls-bad");
    let r: Run = no_system_roots(&mock, &home, &front.url("127.0.0.1"))
        .args(["vault", "list"])
        .output()
        .expect("run glacier")
        .into();
    let e = r.fails(1);
    assert_eq!(e.lines().count(), 1, "one stderr line expected:\n{e}");
    assert!(e.starts_with("glacier: "), "{e}");
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
    // The request never got through the handshake.
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

/// What users run: a multipart upload and a ranged download, both over HTTPS, through the
/// same front `mock-glacier --tls` uses for the benchmarks.
#[test]
fn upload_and_download_round_trip_over_tls() {
    let mock = MockGlacier::start();
    mock.create_vault("v");
    let front = TlsFront::start(mock.addr());
    let home = TempDir::new("tls-trip");
    let data_bytes = crate::support::pattern(5 * (1 << 20) + 3, 21);
    let src = home.join("src.bin");
    std::fs::write(&src, &data_bytes).expect("write src");
    let glacier = |args: &[&str]| -> Run {
        no_system_roots(&mock, &home, &front.url("localhost"))
            .env("AWS_CA_BUNDLE", data("ca.pem"))
            .args(args)
            .output()
            .expect("run glacier")
            .into()
    };
    let src_s = src.to_str().expect("utf8");
    let archive = glacier(&["upload", "-p", "1", "--no-receipts", "v", src_s])
        .ok()
        .trim()
        .to_string();
    let job = glacier(&["archive", "init-retrieval", "v", &archive])
        .ok()
        .trim()
        .to_string();
    mock.complete_jobs();
    let out = home.join("out.bin");
    glacier(&[
        "archive",
        "get",
        "--chunk-size",
        "1",
        "v",
        &job,
        out.to_str().expect("utf8"),
    ])
    .ok();
    assert_eq!(std::fs::read(&out).expect("read out"), data_bytes);
}

/// S3 runs on the same transport and so the same trust: through a TLS front to the S3
/// test server an object goes in and out with the test CA as the CA bundle, and without
/// the bundle the first request fails on the certificate, without retries.
#[test]
fn s3_trusts_the_same_ca_bundle() {
    use glacier_upload::s3::{Body, ObjectOptions, S3Endpoint, StorageClass};
    let Some((server, _)) = crate::s3_client::setup("tls-bkt") else {
        return;
    };
    let front = TlsFront::start(([127, 0, 0, 1], server.port).into());
    let endpoint = S3Endpoint::custom(&front.url("localhost"), "test", false).expect("endpoint");
    let trusted = server.client_with(|cfg| {
        cfg.endpoint = endpoint.clone();
        cfg.ca_bundle = Some(data("ca.pem"));
    });
    let bytes = crate::support::pattern(70_000, 5);
    let body = Body::new(bytes::Bytes::from(bytes.clone()));
    // Standard: an object in the default Deep Archive class cannot be read back at once.
    let standard = ObjectOptions {
        storage_class: StorageClass::Standard,
        metadata: Vec::new(),
    };
    trusted
        .put_object("tls-bkt", "k", &body, &standard)
        .expect("PutObject over TLS");
    assert_eq!(crate::s3_client::get(&trusted, "tls-bkt", "k"), bytes);

    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = std::sync::Arc::clone(&lines);
    let untrusted = server.client_with(|cfg| {
        cfg.endpoint = endpoint.clone();
        cfg.log = Some(std::sync::Arc::new(move |l: &str| {
            sink.lock().expect("log").push(l.to_string())
        }));
    });
    let e = untrusted
        .head_object("tls-bkt", "k")
        .expect_err("an unknown CA");
    let text = glacier_upload::error::chain(&e);
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    let lines = lines.lock().expect("log");
    assert!(
        !lines.iter().any(|l| l.starts_with("retrying")),
        "{lines:?}"
    );
}
