//! The S3 client (`glacier_upload::s3`) against a real S3-compatible server on loopback:
//! moto's server, started per test by `tests/s3server/moto_s3.py` on a port the OS picks.
//!
//! What the server does not referee, measured with moto 5.2 and s3s-fs 0.14.1 (the other
//! candidate): neither refuses a part whose `x-amz-checksum-sha256` is wrong, and moto
//! checks no signature. Hence: our composite checksum is compared with the one moto
//! computes from the bytes it stored; signing is pinned to AWS's worked S3 examples (unit
//! tests in `src/s3/mod.rs`), and was also run by hand against s3s-fs, which verifies
//! SigV4 (PUT/GET/HEAD/multipart with a key of spaces, `+$&=~` and non-ASCII: accepted; a
//! wrong secret: SignatureDoesNotMatch). s3s-fs was not chosen: no ListMultipartUploads,
//! no checksum on HeadObject, and a compile of minutes instead of wheels in seconds.
//!
//! The tests find moto themselves (`support::moto_python`: the system's, else a virtual
//! environment under `target/` made once); where that is impossible they fail with one
//! line saying what to install. `GLACIER_SKIP_S3_TESTS=1` opts out, and each skipped
//! test says so on stderr.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use glacier_upload::credentials::{Credentials, Static};
use glacier_upload::error::Error;
use glacier_upload::glacier::RetryPolicy;
use glacier_upload::s3::{
    ArchiveMetadata, Client, ClientConfig, MultipartWriter, ObjectOptions, ObjectSpec, S3Endpoint,
    StorageClass, UploadOptions, Verified, location,
};
use glacier_upload::{TreeHash, TreeHasher};

use crate::support::pattern;

const MIB: usize = 1 << 20;

/// A moto server process; killed (and its stdin closed) on drop.
pub(crate) struct S3Server {
    child: Child,
    pub(crate) port: u16,
}

impl S3Server {
    /// Starts the server with a Python that has moto (set up by `support::moto_python`),
    /// or says in one line why it cannot.
    fn start() -> Result<S3Server, String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3server/moto_s3.py");
        let python = crate::support::moto_python()?;
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{} cannot be run ({e})", python.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        // Read the port on another thread so a hung start-up cannot hang the test.
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        match line.trim().parse::<u16>() {
            Ok(port) => Ok(S3Server { child, port }),
            Err(_) => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let _ = child.wait();
                Err(format!(
                    "moto's S3 server did not start: {}",
                    err.lines().last().unwrap_or("no port printed")
                ))
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn client(&self) -> Arc<Client> {
        self.client_with(|_| {})
    }

    pub(crate) fn client_with(&self, adjust: impl FnOnce(&mut ClientConfig)) -> Arc<Client> {
        let endpoint = S3Endpoint::custom(&self.url(), "test", false).expect("endpoint");
        let creds = Static::new(
            Credentials::new("AKIDS3TEST", "s3+secret/KEY/EXAMPLE", None, None),
            "test",
        );
        let mut cfg = ClientConfig::new("us-east-1".into(), endpoint, Box::new(creds));
        cfg.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        };
        cfg.jitter_seed = 7;
        adjust(&mut cfg);
        Arc::new(Client::new(cfg).expect("client"))
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One S3 test at a time talks to the server: moto answers from one Python process (one
/// core under its lock), so a dozen tests streaming parts into it at once starve each
/// other into the client's silence timeout on a 2-core machine. A test takes its turn
/// at `setup` and keeps it until its thread ends (libtest runs each test on a thread of
/// its own; a panicking test gives it up as it unwinds).
static S3_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    static S3_TURN_HELD: std::cell::RefCell<Option<std::sync::MutexGuard<'static, ()>>> =
        const { std::cell::RefCell::new(None) };
}

fn take_s3_turn() {
    S3_TURN_HELD.with(|held| {
        let mut held = held.borrow_mut();
        if held.is_none() {
            // A test that panicked while holding its turn poisoned the lock; the server
            // is still fine for the next one.
            *held = Some(S3_TURN.lock().unwrap_or_else(|e| e.into_inner()));
        }
    });
}

/// A server, a client and a fresh bucket, or `None` only when the user opted out with
/// `GLACIER_SKIP_S3_TESTS=1` (said on stderr); a server that cannot start fails the test.
///
/// One server serves every test (each with its own bucket): moto takes about a second to
/// start. It exits when the test process does, as its stdin then closes. The calling
/// test holds the server alone until it ends (see `S3_TURN`).
pub(crate) fn setup(bucket: &str) -> Option<(&'static S3Server, Arc<Client>)> {
    static SERVER: std::sync::OnceLock<Result<S3Server, String>> = std::sync::OnceLock::new();
    if crate::support::s3_tests_opted_out() {
        return None;
    }
    take_s3_turn();
    let server = match SERVER.get_or_init(S3Server::start) {
        Ok(server) => server,
        Err(why) => panic!("{why}"),
    };
    let client = server.client();
    client.create_bucket(bucket).expect("create bucket");
    Some((server, client))
}

pub(crate) fn tree_hash(data: &[u8]) -> TreeHash {
    let mut h = TreeHasher::new();
    h.update(data);
    h.finish()
}

fn metadata(description: Vec<u8>) -> ArchiveMetadata {
    ArchiveMetadata {
        archive_id: format!("{}-_", "aZ09".repeat(34)),
        tree_hash: TreeHash([0xab; 32]),
        creation_date: Some(
            time::OffsetDateTime::from_unix_timestamp(1_600_000_000).expect("date"),
        ),
        description,
    }
}

/// Streams `data` through a writer in uneven chunks and completes it.
pub(crate) fn upload(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    data: &[u8],
    options: ObjectOptions,
    opts: UploadOptions,
) -> glacier_upload::Result<glacier_upload::s3::Uploaded> {
    let spec = ObjectSpec {
        bucket: bucket.into(),
        key: key.into(),
        size: data.len() as u64,
        options,
    };
    let mut w = MultipartWriter::new(Arc::clone(client), spec, opts)?;
    for chunk in data.chunks(777_777) {
        w.write(chunk)?;
    }
    let th = tree_hash(data);
    w.complete(Verified::tree_hash(&th, &th)?)
}

pub(crate) fn get(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    client.get_object(bucket, key, &mut out).expect("get");
    out
}

#[test]
fn s3_small_object_goes_in_one_put_with_its_metadata() {
    let Some((_server, client)) = setup("small-bkt") else {
        return;
    };
    let printable: Vec<u8> = (0x20..=0x7e).collect();
    let meta = metadata(printable);
    let options = ObjectOptions {
        storage_class: StorageClass::StandardIa,
        metadata: meta.to_headers().expect("fits"),
    };
    let data = pattern(100_000, 1);
    let up = upload(
        &client,
        "small-bkt",
        "dir/small one.bin",
        &data,
        options,
        UploadOptions::default(),
    )
    .expect("upload");
    assert_eq!(up.parts, 0, "one PutObject");
    assert_eq!(get(&client, "small-bkt", "dir/small one.bin"), data);
    let head = client
        .head_object("small-bkt", "dir/small one.bin")
        .expect("head")
        .expect("exists");
    assert_eq!(head.size, data.len() as u64);
    assert_eq!(head.storage_class.as_deref(), Some("STANDARD_IA"));
    assert_eq!(ArchiveMetadata::from_headers(&head.metadata), Some(meta));
}

#[test]
fn s3_multipart_upload_completes_with_the_composite_checksum() {
    let Some((_server, client)) = setup("multi-bkt") else {
        return;
    };
    // Glacier's longest description, with bytes a header cannot carry: base64-encoded.
    let long: Vec<u8> = (0..1024u32).map(|i| (i * 7 % 256) as u8).collect();
    let meta = metadata(long);
    let options = ObjectOptions {
        storage_class: StorageClass::GlacierIr,
        metadata: meta.to_headers().expect("fits"),
    };
    let data = pattern(12 * MIB + 12_345, 2);
    let key = "photos/2019/a+b %~ü.tar";
    let opts = UploadOptions {
        threads: 3,
        part_size: 5 * MIB as u64,
    };
    let up = upload(&client, "multi-bkt", key, &data, options, opts).expect("upload");
    assert_eq!(up.parts, 3);
    assert!(up.checksum_sha256.ends_with("-3"), "{}", up.checksum_sha256);
    assert_eq!(get(&client, "multi-bkt", key), data);
    let head = client
        .head_object("multi-bkt", key)
        .expect("head")
        .expect("exists");
    assert_eq!(head.size, data.len() as u64);
    // The server computed this from the bytes it stored; ours from the parts we sent.
    let server_sum = head.checksum_sha256.expect("checksum");
    assert!(
        up.checksum_sha256
            .starts_with(server_sum.trim_end_matches("-3")),
        "{server_sum} vs {}",
        up.checksum_sha256
    );
    assert_eq!(ArchiveMetadata::from_headers(&head.metadata), Some(meta));
    assert!(
        client
            .list_multipart_uploads("multi-bkt", "")
            .expect("list")
            .is_empty()
    );
}

#[test]
fn s3_a_tree_hash_mismatch_aborts_and_leaves_nothing() {
    let Some((_server, client)) = setup("abort-bkt") else {
        return;
    };
    let data = pattern(11 * MIB, 3);
    let spec = ObjectSpec {
        bucket: "abort-bkt".into(),
        key: "bad".into(),
        size: data.len() as u64,
        options: ObjectOptions::default(),
    };
    let opts = UploadOptions {
        threads: 2,
        part_size: 5 * MIB as u64,
    };
    let mut w = MultipartWriter::new(Arc::clone(&client), spec.clone(), opts).expect("writer");
    assert!(w.upload_id().is_some());
    w.write(&data).expect("write");
    let listed = client
        .list_multipart_uploads("abort-bkt", "")
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, "bad");
    let corrupt = Verified::tree_hash(&tree_hash(&data), &TreeHash([0; 32]));
    assert!(corrupt.is_err());
    w.abort().expect("abort");
    assert!(
        client
            .list_multipart_uploads("abort-bkt", "")
            .expect("list")
            .is_empty()
    );
    assert_eq!(client.head_object("abort-bkt", "bad").expect("head"), None);

    // A writer dropped half-way aborts too.
    let mut w = MultipartWriter::new(Arc::clone(&client), spec.clone(), opts).expect("writer");
    w.write(&data[..6 * MIB]).expect("write");
    drop(w);
    assert!(
        client
            .list_multipart_uploads("abort-bkt", "")
            .expect("list")
            .is_empty()
    );

    // Too few bytes: complete refuses, aborts, and nothing exists.
    let mut w = MultipartWriter::new(Arc::clone(&client), spec, opts).expect("writer");
    w.write(&data[..data.len() - 1]).expect("write");
    let th = tree_hash(&data);
    let err = w
        .complete(Verified::tree_hash(&th, &th).expect("same"))
        .expect_err("short");
    assert!(err.to_string().contains("bytes written"), "{err}");
    assert!(
        client
            .list_multipart_uploads("abort-bkt", "")
            .expect("list")
            .is_empty()
    );
    assert_eq!(client.head_object("abort-bkt", "bad").expect("head"), None);
}

#[test]
fn s3_errors_carry_the_code_and_request_id() {
    let Some((_server, client)) = setup("err-bkt") else {
        return;
    };
    let mut sink = Vec::new();
    let err = client
        .get_object("err-bkt", "missing", &mut sink)
        .expect_err("no such key");
    let Error::Service(e) = &err else {
        panic!("not a service error: {err:?}");
    };
    assert_eq!(e.code, "NoSuchKey");
    assert_eq!(e.status, 404);
    assert!(e.request_id.as_deref().is_some_and(|id| !id.is_empty()));
    let text = err.to_string();
    assert!(text.contains("s3://err-bkt/missing"), "{text}");
    assert!(text.contains("request ID"), "{text}");

    let body = glacier_upload::s3::Body::new(bytes::Bytes::from_static(b"x"));
    let err = client
        .put_object("no-such-bkt", "k", &body, &ObjectOptions::default())
        .expect_err("no bucket");
    assert!(err.to_string().contains("NoSuchBucket"), "{err}");

    // The default class is DEEP_ARCHIVE, which S3 will not read back before a restore.
    client
        .put_object("err-bkt", "deep", &body, &ObjectOptions::default())
        .expect("put");
    let head = client.head_object("err-bkt", "deep").expect("head");
    assert_eq!(
        head.expect("exists").storage_class.as_deref(),
        Some("DEEP_ARCHIVE")
    );
    let err = client
        .get_object("err-bkt", "deep", &mut sink)
        .expect_err("archived");
    assert!(err.to_string().contains("InvalidObjectState"), "{err}");
}

#[test]
fn s3_custom_endpoints_are_addressed_path_style() {
    let Some((server, client)) = setup("path-bkt") else {
        return;
    };
    let data = pattern(1000, 4);
    let key = "a b/c+d";
    upload(
        &client,
        "path-bkt",
        key,
        &data,
        ObjectOptions {
            storage_class: StorageClass::Standard,
            metadata: Vec::new(),
        },
        UploadOptions::default(),
    )
    .expect("upload");
    let loc = location(client.endpoint(), "path-bkt", Some(key));
    assert_eq!(loc.host, format!("127.0.0.1:{}", server.port));
    assert_eq!(loc.path, "/path-bkt/a%20b/c%2Bd");
    // The request log shows the path that went on the wire (as signed: encoded once),
    // and the server answered it with the object's bytes.
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let logged = server.client_with(move |cfg| {
        cfg.log = Some(Arc::new(move |l: &str| {
            sink.lock().expect("log").push(l.to_string())
        }))
    });
    assert_eq!(get(&logged, "path-bkt", key), data);
    let want = "> GET /path-bkt/a%20b/c%2Bd (GetObject, 0 bytes)";
    let lines = lines.lock().expect("log");
    assert!(lines.iter().any(|l| l == want), "{lines:?}");
}

#[test]
fn s3_unfinished_uploads_are_listed_across_pages_and_aborted() {
    let Some((server, client)) = setup("list-bkt") else {
        return;
    };
    let pages = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&pages);
    let logged = server.client_with(move |cfg| {
        cfg.log = Some(Arc::new(move |l: &str| {
            if l.starts_with("> GET ") && l.contains("(ListMultipartUploads,") {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }))
    });
    let mut started = Vec::new();
    for key in ["exp/a", "exp/b", "exp/b", "exp/c", "other/d"] {
        let id = client
            .create_multipart_upload("list-bkt", key, &ObjectOptions::default())
            .expect("create");
        started.push((key.to_string(), id));
    }
    let mut listed: Vec<(String, String)> = logged
        .list_multipart_uploads_paged("list-bkt", "exp/", Some(2))
        .expect("list")
        .into_iter()
        .map(|u| (u.key, u.upload_id))
        .collect();
    listed.sort();
    let mut want: Vec<(String, String)> = started[..4].to_vec();
    want.sort();
    assert_eq!(listed, want);
    // moto ignores max-uploads (one page of up to 1000); paging itself is tested in
    // s3_faults.rs with pages shaped as the API reference shows them.
    assert!(pages.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    for (key, id) in &listed {
        client
            .abort_multipart_upload("list-bkt", key, id)
            .expect("abort");
    }
    // Aborting again is not an error: the upload is gone either way.
    client
        .abort_multipart_upload("list-bkt", &listed[0].0, &listed[0].1)
        .expect("abort again");
    let left = client.list_multipart_uploads("list-bkt", "").expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key, "other/d");
}

/// Peak resident memory of this process (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

/// The writer's memory stays within (threads + 1) parts however large the object is.
/// Ignored by default: it streams 192 MiB, and it needs the process to itself (other tests
/// running beside it raise the peak): `cargo test --test tests s3_memory -- --ignored`.
#[test]
#[ignore]
fn s3_memory_is_bounded_by_threads_times_part_size() {
    let Some((_server, client)) = setup("mem-bkt") else {
        return;
    };
    let (threads, part) = (4usize, 8 * MIB);
    let total = 192 * MIB;
    let spec = ObjectSpec {
        bucket: "mem-bkt".into(),
        key: "big".into(),
        size: total as u64,
        options: ObjectOptions {
            storage_class: StorageClass::Standard,
            metadata: Vec::new(),
        },
    };
    let opts = UploadOptions {
        threads,
        part_size: part as u64,
    };
    let before = peak_rss();
    let started = std::time::Instant::now();
    let mut w = MultipartWriter::new(Arc::clone(&client), spec, opts).expect("writer");
    let mut hasher = TreeHasher::new();
    let mut chunk = vec![0u8; MIB];
    for i in 0..total / MIB {
        chunk.copy_from_slice(&pattern(MIB, i as u64));
        hasher.update(&chunk);
        w.write(&chunk).expect("write");
    }
    let th = hasher.finish();
    let up = w
        .complete(Verified::tree_hash(&th, &th).expect("same"))
        .expect("complete");
    let grew = peak_rss().saturating_sub(before);
    eprintln!(
        "streamed {} MiB in {} parts of {} MiB with {threads} threads in {:.1} s; peak RSS \
         grew by {:.1} MiB (bound: {} MiB)",
        total / MIB,
        up.parts,
        part / MIB,
        started.elapsed().as_secs_f64(),
        grew as f64 / MIB as f64,
        (threads + 1) * part / MIB
    );
    assert_eq!(up.parts, 24);
    // (threads + 1) parts, plus room for the HTTP stack and allocator slack.
    assert!(
        grew < ((threads + 1) * part + 16 * MIB) as u64,
        "grew {grew}"
    );
}
