//! Streamed S3 parts against moto: `s3::upload_streamed` sends each
//! part as `aws-chunked` with a trailing SHA-256, straight from a range source, and
//! completes the object only with a `Verified` token. The range source here is a byte
//! slice whose check can be made to fail, standing for a Glacier range whose tree hash
//! does not match; the end-to-end path through the real binary and the Glacier mock is in
//! `migrate_cli.rs`.
//!
//! What moto referees, measured with moto 5.2: it decodes the aws-chunked body (and
//! refuses one cut short), records the part's bytes and echoes the trailer's checksum;
//! the composite checksum it reports after Complete is computed from the bytes it stored,
//! so a part that arrived different is caught there.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use glacier_upload::Error;
use glacier_upload::s3::{
    Client, Hashing, ObjectOptions, ObjectSpec, PartSource, RangeSource, StorageClass,
    StreamOptions, Uploaded, Verified, upload_streamed,
};
use glacier_upload::treehash::TreeHash;

use crate::s3_client::{get, setup, tree_hash};
use crate::s3_faults::{FaultProxy, answer, slow_down, through};
use crate::support::pattern;

const MIB: usize = 1 << 20;

/// Ranges of `data`; the ranges listed in `bad` (by start offset, each as many times as
/// it is listed) end in an error instead of end-of-file, as a Glacier range whose tree
/// hash does not match does.
struct Slices<'a> {
    data: &'a [u8],
    bad: Mutex<Vec<u64>>,
    opened: AtomicUsize,
}

struct Range {
    data: std::io::Cursor<Vec<u8>>,
    fail_at_end: bool,
}

impl Read for Range {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.data.read(buf)? {
            0 if self.fail_at_end => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "range does not match its tree hash",
            )),
            n => Ok(n),
        }
    }
}

impl Slices<'_> {
    /// Ranges of `data`, those starting at the offsets in `bad` failing their check.
    fn new(data: &[u8], bad: Vec<u64>) -> Slices<'_> {
        Slices {
            data,
            bad: Mutex::new(bad),
            opened: AtomicUsize::new(0),
        }
    }
}

impl RangeSource for Slices<'_> {
    fn open(&self, start: u64, end: u64) -> glacier_upload::Result<Box<dyn PartSource>> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let mut bad = self.bad.lock().expect("lock");
        let fail_at_end = match bad.iter().position(|b| *b == start) {
            Some(i) => {
                bad.remove(i);
                true
            }
            None => false,
        };
        Ok(Box::new(Hashing::new(Range {
            data: std::io::Cursor::new(self.data[start as usize..=end as usize].to_vec()),
            fail_at_end,
        })))
    }
}

fn spec(bucket: &str, key: &str, size: usize) -> ObjectSpec {
    ObjectSpec {
        bucket: bucket.into(),
        key: key.into(),
        size: size as u64,
        options: ObjectOptions {
            storage_class: StorageClass::Standard,
            metadata: vec![("glacier-archive-id".into(), "x".into())],
        },
    }
}

fn opts(threads: usize) -> StreamOptions {
    StreamOptions {
        threads,
        part_size: 5 << 20,
        max_memory: 64 << 20,
    }
}

#[test]
fn s3_streamed_parts_make_a_byte_exact_object() {
    let Some((_server, client)) = setup("stream-ok") else {
        return;
    };
    // 8 MiB parts (5 MiB rounded up to a power of two): two full and a short last one.
    let data = pattern(2 * 8 * MIB + 12_345, 3);
    let source = Slices::new(&data, Vec::new());
    let th = tree_hash(&data);
    let up = upload_streamed(
        &client,
        &spec("stream-ok", "a/b.bin", data.len()),
        &opts(2),
        &source,
        &mut || Verified::tree_hash(&th, &th),
    )
    .expect("upload");
    assert_eq!(up.parts, 3);
    assert_eq!(source.opened.load(Ordering::Relaxed), 3);
    assert_eq!(get(&client, "stream-ok", "a/b.bin"), data);
    let head = client
        .head_object("stream-ok", "a/b.bin")
        .expect("head")
        .expect("object");
    assert_eq!(head.metadata["glacier-archive-id"], "x");
    // A one-part object streams too.
    let small = pattern(1000, 4);
    let source = Slices::new(&small, Vec::new());
    let th = tree_hash(&small);
    let up = upload_streamed(
        &client,
        &spec("stream-ok", "small", small.len()),
        &opts(4),
        &source,
        &mut || Verified::tree_hash(&th, &th),
    )
    .expect("small");
    assert_eq!(up.parts, 1);
    assert_eq!(get(&client, "stream-ok", "small"), small);
}

#[test]
fn s3_a_range_that_fails_its_check_is_sent_again_and_never_stored_as_it_was() {
    let Some((_server, client)) = setup("stream-retry") else {
        return;
    };
    let data = pattern(8 * MIB + 500, 5);
    // The second part's range fails its check once: that part is sent again.
    let source = Slices::new(&data, vec![8 << 20]);
    let th = tree_hash(&data);
    upload_streamed(
        &client,
        &spec("stream-retry", "k", data.len()),
        &opts(1),
        &source,
        &mut || Verified::tree_hash(&th, &th),
    )
    .expect("upload");
    assert_eq!(source.opened.load(Ordering::Relaxed), 3);
    assert_eq!(get(&client, "stream-retry", "k"), data);
}

#[test]
fn s3_a_corrupt_range_never_becomes_a_completed_object() {
    let Some((_server, client)) = setup("stream-bad") else {
        return;
    };
    let data = pattern(8 * MIB + 500, 6);
    // The first range fails its check every time.
    let source = Slices::new(&data, vec![0; 10]);
    let th = tree_hash(&data);
    let mut asked = false;
    let e = upload_streamed(
        &client,
        &spec("stream-bad", "k", data.len()),
        &opts(1),
        &source,
        &mut || {
            asked = true;
            Verified::tree_hash(&th, &th)
        },
    )
    .expect_err("the range never matched");
    assert!(
        glacier_upload::error::chain(&e).contains("does not match its tree hash"),
        "{}",
        glacier_upload::error::chain(&e)
    );
    assert!(!asked, "no verification without every part");
    assert!(
        client
            .head_object("stream-bad", "k")
            .expect("head")
            .is_none()
    );
    assert!(
        client
            .list_multipart_uploads("stream-bad", "")
            .expect("list")
            .is_empty(),
        "the upload was aborted"
    );
    // Every range checked but the whole does not match: nothing completed either.
    let source = Slices::new(&data, Vec::new());
    let e = upload_streamed(
        &client,
        &spec("stream-bad", "k", data.len()),
        &opts(2),
        &source,
        &mut || Verified::tree_hash(&TreeHash([1; 32]), &th),
    )
    .expect_err("the whole does not match");
    assert!(matches!(e, Error::Mismatch { .. }), "{e}");
    assert!(
        client
            .head_object("stream-bad", "k")
            .expect("head")
            .is_none()
    );
    assert!(
        client
            .list_multipart_uploads("stream-bad", "")
            .expect("list")
            .is_empty()
    );
}

/// Streams `data` as `key` in bucket `stream-faults` through `client`, one part at a
/// time; returns the result and how many ranges were opened.
fn stream_faults(client: &Client, key: &str, data: &[u8]) -> (Result<Uploaded, Error>, usize) {
    let th = tree_hash(data);
    let source = Slices::new(data, Vec::new());
    let r = upload_streamed(
        client,
        &spec("stream-faults", key, data.len()),
        &opts(1),
        &source,
        &mut || Verified::tree_hash(&th, &th),
    );
    (r, source.opened.load(Ordering::Relaxed))
}

/// A streamed part's body cannot be sent twice by the transport, so the stream retries
/// it under the transport's policy: 503 SlowDown (S3's "Error responses": reduce the
/// request rate) is sent again after a backoff, from a newly opened range; 403
/// AccessDenied is not, and the upload is aborted.
#[test]
fn s3_a_streamed_part_is_retried_through_slowdown_but_not_through_a_refusal() {
    let Some((server, direct)) = setup("stream-faults") else {
        return;
    };
    let mut slowdowns = 0;
    let proxy = FaultProxy::start(
        server.port,
        Box::new(move |line| {
            let part = line.starts_with("PUT ") && line.contains("partNumber=1&");
            if part && line.contains("/refused?") {
                return Some(answer(
                    "403 Forbidden",
                    "",
                    "AccessDenied",
                    "Access Denied",
                    "FAULT403",
                ));
            }
            if part && slowdowns < 2 {
                slowdowns += 1;
                return Some(slow_down());
            }
            None
        }),
    );
    let client = server.client_with(|cfg| cfg.endpoint = through(&proxy));
    let data = pattern(8 * MIB + 700, 8);
    let (up, opened) = stream_faults(&client, "k", &data);
    let up = up.expect("through two SlowDowns");
    assert_eq!(up.parts, 2);
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 2);
    assert_eq!(opened, 4, "part 1 opened 3 times");
    assert_eq!(get(&direct, "stream-faults", "k"), data);

    let (r, opened) = stream_faults(&client, "refused", &data);
    let e = r.expect_err("refused");
    let Error::Service(s) = &e else {
        panic!("not a service error: {e:?}");
    };
    assert_eq!((s.status, s.code.as_str()), (403, "AccessDenied"));
    assert_eq!(proxy.injected.load(Ordering::SeqCst), 3, "sent once");
    assert_eq!(opened, 1);
    assert!(
        direct
            .list_multipart_uploads("stream-faults", "")
            .expect("list")
            .is_empty(),
        "aborted"
    );
}
