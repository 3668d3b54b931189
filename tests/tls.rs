//! TLS trust on a machine with no CA certificates: the real binary against the mock
//! behind a loopback TLS front whose certificate is signed by a test CA
//! (`tests/data/tls/`, see its README). With `SSL_CERT_FILE`/`SSL_CERT_DIR` pointing at
//! empty places the system store is empty, so the client falls back to the bundled roots,
//! which do not know the test CA: the CA given with `AWS_CA_BUNDLE` must be added on top
//! for `vault list` to work, and without it the failure is one clear line about the
//! certificate. This is the static binary's situation on a bare server.
//!
//! The front is a rustls `ServerConnection` (the crate's own rustls, ring provider)
//! forwarding plaintext both ways to the in-process mock; it lives only in this file.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

use crate::mock::MockGlacier;
use crate::support::{Run, TempDir, glacier_mock};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// A TLS listener on 127.0.0.1 that forwards each connection's plaintext to `backend`.
/// Its accept thread lives until the test process ends (tests are short-lived).
struct TlsFront {
    port: u16,
}

impl TlsFront {
    fn start(backend: std::net::SocketAddr) -> TlsFront {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(data("server.pem"))
            .expect("open server.pem")
            .collect::<Result<_, _>>()
            .expect("parse server.pem");
        let key = PrivateKeyDer::from_pem_file(data("server-key.pem")).expect("server-key.pem");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("server certificate and key match"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind TLS front");
        let port = listener.local_addr().expect("local addr").port();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let config = Arc::clone(&config);
                std::thread::spawn(move || {
                    let _ = forward(tcp, backend, config);
                });
            }
        });
        TlsFront { port }
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }
}

/// Pumps one connection: this thread carries client → backend (TLS in, plaintext out),
/// a second thread backend → client. The `ServerConnection` is shared under a lock, and
/// TLS bytes are written to the socket only while holding it, so records stay in order.
fn forward(
    tcp: TcpStream,
    backend: std::net::SocketAddr,
    config: Arc<ServerConfig>,
) -> std::io::Result<()> {
    let conn = Arc::new(Mutex::new(
        ServerConnection::new(config).map_err(std::io::Error::other)?,
    ));
    let plain = TcpStream::connect(backend)?;
    let back = {
        let conn = Arc::clone(&conn);
        let mut plain = plain.try_clone()?;
        let mut tcp = tcp.try_clone()?;
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = plain.read(&mut buf)?;
                let mut c = conn.lock().expect("no panics while locked");
                if n == 0 {
                    c.send_close_notify();
                } else {
                    c.writer().write_all(&buf[..n])?;
                }
                while c.wants_write() {
                    c.write_tls(&mut tcp)?;
                }
                if n == 0 {
                    return tcp.shutdown(Shutdown::Write);
                }
            }
        })
    };
    let mut plain_w = plain;
    let mut tcp_r = tcp.try_clone()?;
    let mut tcp_w = tcp;
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let result = (|| -> std::io::Result<()> {
        loop {
            let n = tcp_r.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            let mut input = &buf[..n];
            out.clear();
            {
                let mut c = conn.lock().expect("no panics while locked");
                while !input.is_empty() {
                    c.read_tls(&mut input)?;
                    let state = c.process_new_packets();
                    // Send the alert (or the handshake reply) before giving up.
                    while c.wants_write() {
                        c.write_tls(&mut tcp_w)?;
                    }
                    let state = state.map_err(std::io::Error::other)?;
                    let mut left = state.plaintext_bytes_to_read();
                    while left > 0 {
                        let at = out.len();
                        out.resize(at + left, 0);
                        let got = c.reader().read(&mut out[at..])?;
                        out.truncate(at + got);
                        left -= got;
                    }
                }
            }
            plain_w.write_all(&out)?;
        }
    })();
    let _ = plain_w.shutdown(Shutdown::Write);
    let _ = back.join();
    result
}

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
