//! S3 after CompleteMultipartUpload was sent: S3 may have completed the object even though
//! the client saw an error (its answer lost, or the HeadObject check after it failed).
//! The object's metadata claims a verified archive, so a rerun would skip it: the writer
//! keeps it only when it is exactly what was sent, and deletes it otherwise. A loopback
//! proxy in front of moto's server forwards every request and replaces chosen answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use glacier_upload::s3::{ObjectOptions, S3Endpoint, StorageClass, UploadOptions};

use crate::s3_client::{get, setup, upload};
use crate::support::pattern;

const MIB: usize = 1 << 20;

/// What the proxy does with a request, decided from its request line.
enum Action {
    /// Forward it and pass the answer back.
    Forward,
    /// Forward it (S3 acts on it), then send this instead of S3's answer.
    ForwardThenAnswer(Vec<u8>),
    /// Do not forward it; send this.
    Answer(Vec<u8>),
}

type Decide = Box<dyn FnMut(&str) -> Action + Send>;

/// Reads one request (head and `Content-Length` body); returns its first line and bytes.
fn read_request(conn: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut first = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if first.is_empty() {
            first = line.trim_end().to_string();
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok()?;
            }
        }
        raw.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; len];
    conn.read_exact(&mut body).ok()?;
    raw.extend_from_slice(&body);
    Some((first, raw))
}

/// Starts the proxy in front of `upstream`; returns its port and the request lines seen.
fn proxy(upstream: u16, decide: Decide) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let decide = Arc::new(Mutex::new(decide));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (decide, log) = (Arc::clone(&decide), Arc::clone(&log));
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut conn = conn;
                // moto answers `Connection: close`, so one request per connection.
                let Some((line, raw)) = read_request(&mut reader) else {
                    return;
                };
                log.lock().expect("log").push(line.clone());
                let action = (decide.lock().expect("decide"))(&line);
                let replace = match action {
                    Action::Answer(a) => {
                        let _ = conn.write_all(&a);
                        return;
                    }
                    Action::Forward => None,
                    Action::ForwardThenAnswer(a) => Some(a),
                };
                let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                if up.write_all(&raw).is_err() {
                    return;
                }
                let mut answer = Vec::new();
                let _ = up.read_to_end(&mut answer);
                let _ = conn.write_all(replace.as_deref().unwrap_or(&answer));
            });
        }
    });
    (port, seen)
}

fn is_complete(line: &str) -> bool {
    line.starts_with("POST ") && line.contains("uploadId=")
}

/// An answer cut in the middle of its body: the client cannot know what S3 did.
const CUT: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\
                     Content-Length: 500\r\nConnection: close\r\n\r\n  <?xml";

fn options() -> ObjectOptions {
    ObjectOptions {
        storage_class: StorageClass::Standard,
        metadata: vec![("glacier-archive-id".into(), "abc".into())],
    }
}

const PARTS: UploadOptions = UploadOptions {
    threads: 2,
    part_size: 5 * MIB as u64,
};

/// Every answer to CompleteMultipartUpload is lost (S3 completed the object the first
/// time): the object is looked at again, found exactly right, and kept as the result.
#[test]
fn s3_a_lost_complete_answer_keeps_an_object_that_is_exactly_right() {
    let Some((server, direct)) = setup("lostok-bkt") else {
        return;
    };
    let (port, seen) = proxy(
        server.port,
        Box::new(|line| {
            if is_complete(line) {
                Action::ForwardThenAnswer(CUT.to_vec())
            } else {
                Action::Forward
            }
        }),
    );
    let client = server.client_with(|cfg| {
        cfg.endpoint = S3Endpoint::custom(&format!("http://127.0.0.1:{port}"), "proxy", false)
            .expect("endpoint");
    });
    let data = pattern(11 * MIB, 31);
    let up = upload(&client, "lostok-bkt", "k", &data, options(), PARTS).expect("kept");
    assert_eq!(up.parts, 3);
    assert_eq!(get(&direct, "lostok-bkt", "k"), data);
    let seen = seen.lock().expect("seen").clone();
    assert!(seen.iter().any(|l| is_complete(l)), "{seen:?}");
    assert!(!seen.iter().any(|l| l.starts_with("DELETE ")), "{seen:?}");
}

/// The Complete answer carries no checksum and every HeadObject fails: the object
/// cannot be shown to be right, so it is deleted and the run fails saying so (before,
/// it stayed with metadata that made a rerun skip it as exported).
#[test]
fn s3_an_object_that_cannot_be_checked_after_complete_is_deleted() {
    let Some((server, direct)) = setup("headfail-bkt") else {
        return;
    };
    let forbidden = b"HTTP/1.1 403 Forbidden\r\nx-amz-request-id: FAULTHEAD\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n";
    let body = "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>\
                </CompleteMultipartUploadResult>";
    let no_checksum = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let (port, seen) = proxy(
        server.port,
        Box::new(move |line| {
            if is_complete(line) {
                Action::ForwardThenAnswer(no_checksum.clone().into_bytes())
            } else if line.starts_with("HEAD ") {
                Action::Answer(forbidden.to_vec())
            } else {
                Action::Forward
            }
        }),
    );
    let client = server.client_with(|cfg| {
        cfg.endpoint = S3Endpoint::custom(&format!("http://127.0.0.1:{port}"), "proxy", false)
            .expect("endpoint");
    });
    let data = pattern(11 * MIB, 32);
    let err = upload(&client, "headfail-bkt", "k", &data, options(), PARTS).expect_err("fails");
    let text = glacier_upload::error::chain(&err);
    assert!(text.contains("the object was deleted"), "{text}");
    let seen = seen.lock().expect("seen").clone();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("DELETE /headfail-bkt/k HTTP/")),
        "{seen:?}"
    );
    assert_eq!(direct.head_object("headfail-bkt", "k").expect("head"), None);
}
