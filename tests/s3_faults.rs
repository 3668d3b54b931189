//! S3's failure modes that a test server does not produce on request: a loopback proxy in
//! front of moto's server answers chosen requests itself, with the answers the S3 API
//! Reference documents, and forwards every other request unchanged.
//!
//! - 503 SlowDown: "Error responses", List of error codes ("Please reduce your request
//!   rate.").
//! - An error inside a 200 answer to CompleteMultipartUpload, after whitespace S3 sends
//!   to keep the connection open: CompleteMultipartUpload, "Note that if
//!   CompleteMultipartUpload fails, applications should be prepared to retry any failed
//!   requests"; "it's possible for Amazon S3 to return an error after the 200 OK".
//!
//! And one server of its own, with no moto behind it: a GetObject answer that trickles
//! in for longer than the timeout, never silent for that long, arrives whole (answers
//! are bounded by silence, not by a deadline), while one that stops mid-way fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use glacier_upload::error::Error;
use glacier_upload::s3::{ObjectOptions, S3Endpoint, StorageClass, UploadOptions};

use crate::s3_client::{get, setup, upload};
use crate::support::pattern;

const MIB: usize = 1 << 20;

/// Decides, from a request line (`PUT /bkt/key?partNumber=1&uploadId=... HTTP/1.1`),
/// whether to answer it with a canned response instead of forwarding it; an empty one
/// means no answer at all (the connection is held until the client closes it).
pub(crate) type Inject = Box<dyn FnMut(&str) -> Option<Vec<u8>> + Send>;

pub(crate) struct FaultProxy {
    port: u16,
    pub(crate) injected: Arc<AtomicUsize>,
    /// Every request line seen, in order.
    seen: Arc<Mutex<Vec<String>>>,
}

pub(crate) fn answer(status: &str, leading: &str, code: &str, message: &str, id: &str) -> Vec<u8> {
    let body = format!(
        "{leading}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>{id}</RequestId></Error>"
    );
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nx-amz-request-id: {id}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// S3's 503 SlowDown ("Error responses": reduce your request rate).
pub(crate) fn slow_down() -> Vec<u8> {
    answer(
        "503 Slow Down",
        "",
        "SlowDown",
        "Please reduce your request rate.",
        "FAULT503",
    )
}

/// Reads one request (head and `Content-Length` body) from `conn`.
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

impl FaultProxy {
    pub(crate) fn start(upstream: u16, inject: Inject) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let inject = Arc::new(Mutex::new(inject));
        let injected = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&injected);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (inject, count, log) =
                    (Arc::clone(&inject), Arc::clone(&count), Arc::clone(&log));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut conn = conn;
                    // moto answers `Connection: close`, so one request per connection.
                    let Some((line, raw)) = read_request(&mut reader) else {
                        return;
                    };
                    log.lock().expect("log").push(line.clone());
                    let canned = (inject.lock().expect("inject"))(&line);
                    if let Some(resp) = canned {
                        count.fetch_add(1, Ordering::SeqCst);
                        if resp.is_empty() {
                            // No answer at all: hold the connection until the client
                            // gives up on it and closes it.
                            let _ = reader.read_to_end(&mut Vec::new());
                        }
                        let _ = conn.write_all(&resp);
                        return;
                    }
                    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        return;
                    };
                    if up.write_all(&raw).is_ok() {
                        let _ = std::io::copy(&mut up, &mut conn);
                    }
                });
            }
        });
        FaultProxy {
            port,
            injected,
            seen,
        }
    }
}

pub(crate) fn through(proxy: &FaultProxy) -> S3Endpoint {
    S3Endpoint::custom(&format!("http://127.0.0.1:{}", proxy.port), "proxy", false)
        .expect("endpoint")
}

fn standard() -> ObjectOptions {
    ObjectOptions {
        storage_class: StorageClass::Standard,
        metadata: Vec::new(),
    }
}

const PARTS: UploadOptions = UploadOptions {
    threads: 2,
    part_size: 5 * MIB as u64,
};

#[test]
fn s3_slowdown_a_cut_answer_and_an_internal_error_inside_a_200_are_retried() {
    let Some((server, direct)) = setup("retry-bkt") else {
        return;
    };
    let (mut parts_failed, mut completes_failed) = (0, 0);
    let proxy = FaultProxy::start(
        server.port,
        Box::new(move |line| {
            if line.starts_with("PUT ") && line.contains("partNumber=2") && parts_failed < 2 {
                parts_failed += 1;
                return Some(slow_down());
            }
            let complete = line.starts_with("POST ") && line.contains("uploadId=");
            if complete && completes_failed == 0 {
                // The connection drops in the middle of the answer's body.
                completes_failed += 1;
                return Some(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\
                      Content-Length: 500\r\nConnection: close\r\n\r\n  <?xml"
                        .to_vec(),
                );
            }
            if complete && completes_failed == 1 {
                completes_failed += 1;
                return Some(answer(
                    "200 OK",
                    "\n \n ",
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                    "FAULT200",
                ));
            }
            None
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let data = pattern(11 * MIB, 5);
    let up = upload(&client, "retry-bkt", "k", &data, standard(), PARTS).expect("upload");
    assert_eq!(up.parts, 3);
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 4);
    assert_eq!(get(&direct, "retry-bkt", "k"), data);
}

#[test]
fn s3_a_client_error_inside_a_200_complete_is_reported_and_the_upload_aborted() {
    let Some((server, direct)) = setup("err200-bkt") else {
        return;
    };
    let proxy = FaultProxy::start(
        server.port,
        Box::new(|line| {
            (line.starts_with("POST ") && line.contains("uploadId=")).then(|| {
                answer(
                    "200 OK",
                    " ",
                    "InvalidPart",
                    "One or more of the specified parts could not be found.",
                    "FAULTPART",
                )
            })
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let data = pattern(11 * MIB, 6);
    let err = upload(&client, "err200-bkt", "k", &data, standard(), PARTS).expect_err("fails");
    let Error::Service(e) = &err else {
        panic!("not a service error: {err:?}");
    };
    assert_eq!((e.status, e.code.as_str()), (200, "InvalidPart"));
    assert_eq!(e.request_id.as_deref(), Some("FAULTPART"));
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 1, "not retried");
    assert!(
        direct
            .list_multipart_uploads("err200-bkt", "")
            .expect("list")
            .is_empty(),
        "aborted"
    );
    assert_eq!(direct.head_object("err200-bkt", "k").expect("head"), None);
}

#[test]
fn s3_a_wrong_object_checksum_is_refused_and_the_object_removed() {
    let Some((server, direct)) = setup("sum-bkt") else {
        return;
    };
    // CompleteMultipartUpload "succeeds" with a checksum that is not the one of the parts
    // sent (as a corrupted part stored by S3 would give).
    let body = "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>\
                <ChecksumSHA256>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=-3</ChecksumSHA256>\
                </CompleteMultipartUploadResult>";
    let canned = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let proxy = FaultProxy::start(
        server.port,
        Box::new(move |line| {
            (line.starts_with("POST ") && line.contains("uploadId="))
                .then(|| canned.clone().into_bytes())
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let data = pattern(11 * MIB, 7);
    let err = upload(&client, "sum-bkt", "k", &data, standard(), PARTS).expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("checksum of the completed object"), "{text}");
    assert!(text.contains("the object was deleted"), "{text}");
    let seen = proxy.seen.lock().expect("seen").clone();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("DELETE /sum-bkt/k HTTP/")),
        "{seen:?}"
    );
    assert_eq!(direct.head_object("sum-bkt", "k").expect("head"), None);
    assert!(
        direct
            .list_multipart_uploads("sum-bkt", "")
            .expect("list")
            .is_empty()
    );
}

#[test]
fn s3_a_request_that_gets_no_answer_times_out_and_is_retried() {
    let Some((server, direct)) = setup("timeout-bkt") else {
        return;
    };
    let mut hung = false;
    let proxy = FaultProxy::start(
        server.port,
        Box::new(move |line| {
            if line.starts_with("PUT /timeout-bkt/k ") && !hung {
                hung = true;
                return Some(Vec::new());
            }
            None
        }),
    );
    let client = server.client_with(|cfg| {
        cfg.endpoint = through(&proxy);
        cfg.timeout = std::time::Duration::from_millis(700);
        cfg.min_rate = u64::MAX / 2;
    });
    let data = pattern(1000, 8);
    upload(
        &client,
        "timeout-bkt",
        "k",
        &data,
        standard(),
        UploadOptions::default(),
    )
    .expect("upload after a retry");
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 1);
    assert_eq!(get(&direct, "timeout-bkt", "k"), data);
}

/// A page of ListMultipartUploads as the S3 API Reference's example shows it.
fn uploads_page(uploads: &[(&str, &str)], next: Option<(&str, &str)>) -> Vec<u8> {
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>page-bkt</Bucket>",
    );
    if let Some((k, u)) = next {
        body.push_str(&format!(
            "<NextKeyMarker>{k}</NextKeyMarker><NextUploadIdMarker>{u}</NextUploadIdMarker>"
        ));
    }
    body.push_str(&format!(
        "<MaxUploads>2</MaxUploads><IsTruncated>{}</IsTruncated>",
        next.is_some()
    ));
    for (k, u) in uploads {
        body.push_str(&format!(
            "<Upload><Key>{k}</Key><UploadId>{u}</UploadId><StorageClass>STANDARD\
             </StorageClass><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
        ));
    }
    body.push_str("</ListMultipartUploadsResult>");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn s3_unfinished_uploads_are_listed_across_pages() {
    let Some((server, _direct)) = setup("page-bkt") else {
        return;
    };
    let proxy = FaultProxy::start(
        server.port,
        Box::new(|line| {
            if !line.starts_with("GET /page-bkt?") || !line.contains("uploads=") {
                return None;
            }
            Some(
                if line.contains("key-marker=b%2Fk&") && line.contains("upload-id-marker=u2") {
                    uploads_page(&[("c", "u3")], None)
                } else {
                    uploads_page(&[("a", "u1"), ("b/k", "u2")], Some(("b/k", "u2")))
                },
            )
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let listed: Vec<(String, String)> = client
        .list_multipart_uploads_paged("page-bkt", "", Some(2))
        .expect("list")
        .into_iter()
        .map(|u| (u.key, u.upload_id))
        .collect();
    let want = [("a", "u1"), ("b/k", "u2"), ("c", "u3")].map(|(k, u)| (k.into(), u.into()));
    assert_eq!(listed, want);
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 2);
}

#[test]
fn s3_a_list_page_that_repeats_its_marker_is_an_error_not_a_loop() {
    let Some((server, _direct)) = setup("loop-bkt") else {
        return;
    };
    let proxy = FaultProxy::start(
        server.port,
        Box::new(|line| {
            (line.starts_with("GET /loop-bkt?") && line.contains("uploads="))
                .then(|| uploads_page(&[("a", "u1")], Some(("a", "u1"))))
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let err = client
        .list_multipart_uploads("loop-bkt", "")
        .expect_err("a loop");
    assert!(
        glacier_upload::error::chain(&err).contains("the same page marker twice"),
        "{err:?}"
    );
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 2);
}

/// A one-connection-at-a-time server answering every request with `body`, sent in
/// `chunks` pieces `gap` apart; with `stall_after` it stops sending (holding the
/// connection) after that many pieces.
fn trickle_server(
    body: Vec<u8>,
    chunks: usize,
    gap: std::time::Duration,
    stall_after: Option<usize>,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut conn = conn;
            if read_request(&mut reader).is_none() {
                continue;
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nx-amz-request-id: TRICKLE\r\n\r\n",
                body.len()
            );
            if conn.write_all(head.as_bytes()).is_err() {
                continue;
            }
            for (i, piece) in body.chunks(body.len().div_ceil(chunks)).enumerate() {
                if stall_after == Some(i) {
                    // Silent from here on, until the client gives up and closes.
                    let _ = reader.read_to_end(&mut Vec::new());
                    break;
                }
                // Pacing the answer is what this server is for, not a wait for an event.
                std::thread::sleep(gap);
                if conn.write_all(piece).and_then(|()| conn.flush()).is_err() {
                    break;
                }
            }
        }
    });
    port
}

fn trickle_client(port: u16, timeout_ms: u64) -> glacier_upload::s3::Client {
    use glacier_upload::credentials::{Credentials, Static};
    let endpoint =
        S3Endpoint::custom(&format!("http://127.0.0.1:{port}"), "test", false).expect("endpoint");
    let creds = Static::new(
        Credentials::new("AKIDTRICKLE", "secret", None, None),
        "test",
    );
    let mut cfg =
        glacier_upload::s3::ClientConfig::new("us-east-1".into(), endpoint, Box::new(creds));
    cfg.timeout = std::time::Duration::from_millis(timeout_ms);
    cfg.retry.max_attempts = 1;
    glacier_upload::s3::Client::new(cfg).expect("client")
}

#[test]
fn s3_a_slow_answer_that_never_goes_silent_arrives_whole() {
    let body = pattern(64 * 1024, 9);
    // 16 pieces 100 ms apart: 1.6 s in all, twice the 800 ms timeout, while each gap is an
    // eighth of it (a loaded machine stretches a gap; it must stay under the timeout).
    let port = trickle_server(
        body.clone(),
        16,
        std::time::Duration::from_millis(100),
        None,
    );
    let client = trickle_client(port, 800);
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    client
        .get_object("bkt", "k", &mut out)
        .expect("a paced body is not cut off by a deadline");
    assert_eq!(out, body);
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));
}

#[test]
fn s3_an_answer_that_goes_silent_fails() {
    let body = pattern(64 * 1024, 10);
    let port = trickle_server(body, 8, std::time::Duration::from_millis(10), Some(2));
    let client = trickle_client(port, 300);
    let mut out = Vec::new();
    let e = client
        .get_object("bkt", "k", &mut out)
        .expect_err("a stalled body");
    let text = glacier_upload::error::chain(&e);
    assert!(text.contains("GetObject"), "{text}");
    assert!(out.len() < 64 * 1024, "{}", out.len());
}
