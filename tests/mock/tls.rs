//! A TLS front for the mock: a loopback listener whose certificate is signed by the test
//! CA (`tests/data/tls/`, see its README), forwarding each connection's plaintext to the
//! mock. It makes the mock serve HTTPS, as every real Glacier endpoint does, for the TLS
//! tests and for `mock-glacier --tls` (benchmarks measure the client's TLS cost with it).
//!
//! It is a rustls `ServerConnection` (the crate's own rustls, ring provider) in front of
//! the unchanged HTTP mock rather than TLS inside it, so that the mock's request handling
//! and fault injection stay one code path for both schemes.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

/// A file of the test PKI in `tests/data/tls/` (`ca.pem` is the CA to trust).
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// A TLS listener on 127.0.0.1 that forwards each connection's plaintext to `backend`.
/// Its accept thread lives until the test process ends (tests are short-lived).
pub struct TlsFront {
    port: u16,
}

impl TlsFront {
    /// Listens on a free port of 127.0.0.1.
    pub fn start(backend: std::net::SocketAddr) -> TlsFront {
        TlsFront::start_on(backend, 0)
    }

    /// Listens on `port` of 127.0.0.1 (0: a free one).
    pub fn start_on(backend: std::net::SocketAddr, port: u16) -> TlsFront {
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
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind TLS front");
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

    /// `https://HOST:PORT`; the certificate names `127.0.0.1` and `localhost`.
    pub fn url(&self, host: &str) -> String {
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
