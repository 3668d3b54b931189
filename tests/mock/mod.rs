//! The mock Amazon S3 Glacier server the test suite and the benchmarks run against.
//!
//! It is meant to be as strict as Glacier, because a wrong byte in a real request is a
//! 403 or a 400 in production that no test notices otherwise: every request must carry
//! the version header and a SigV4 signature that verifies with [`ACCESS_KEY`] /
//! [`SECRET_KEY`] for [`REGION`] and service `glacier`; payload hashes, tree hashes, part
//! sizes, `Content-Range` and archive sizes are checked like the service does; errors are
//! Glacier-shaped JSON with a request ID. Archives, parts and job output live in files
//! under a storage directory and are streamed, never held whole in memory, so multi-GiB
//! tests and benchmarks work.
//!
//! No HTTP crate: one thread per connection over `std::net`, HTTP/1.1 with keep-alive
//! and `Content-Length` bodies (hashing, dates and JSON use the crate's own
//! dependencies; the TLS front in `tls` uses its rustls). Tests drive faults ([`FaultRule`]) and job completion
//! ([`MockGlacier::complete_jobs`]) explicitly; nothing here sleeps to wait for anything
//! (the only sleep is the [`Fault::Slow`] delay a test asks for; [`Fault::Hold`] waits for
//! the test to open a [`Gate`]).
//!
//! Module map: `http` (wire format), `auth` (header and signature checks), `server`
//! (connections, dispatch, fault application, request log), `operation` (the
//! `Operation` a request's method and path name, parsed once), `store` (the state: vaults,
//! archives, on-disk files, IDs, list paging); the operations in files that mirror
//! `src/glacier/`: `vaults`, `archives`, `multipart` (uploads and parts), `jobs` (jobs and
//! their output); `faults` (rule matching), `error` (Glacier's JSON errors), `dates`
//! (Glacier's date formats), `hashing` (one-pass body hashing and hash-header checks), and
//! `client`, a tiny signed raw-HTTP client for tests that need to send what the crate's
//! client never would.

mod archives;
mod auth;
pub mod client;
mod dates;
mod error;
mod faults;
mod hashing;
mod http;
mod jobs;
mod multipart;
mod operation;
mod server;
mod store;
pub mod tls;
mod vaults;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

// The standalone binary (`bin.rs`) holds no answers, so `Gate` is unused there.
#[allow(unused_imports)]
pub use faults::{Fault, FaultRule, Gate};

use server::Shared;

/// The access key ID the mock accepts.
pub const ACCESS_KEY: &str = "AKIDMOCKEXAMPLE";
/// The secret access key the mock verifies signatures with.
pub const SECRET_KEY: &str = "mock+secret/KEY/EXAMPLE0000000000000000";
/// The region requests must be signed for.
pub const REGION: &str = "us-east-1";
/// The account ID the mock reports in ARNs and `Location` headers (requests may use `-`
/// or any 12 digits).
pub const ACCOUNT_ID: &str = "012345678901";

/// Temporary keys the mock accepts besides its own: (access key ID, secret, session token).
pub type ExtraKeys = Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

/// How a mock server behaves.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// When `Some`, every request must carry this `x-amz-security-token` and sign it;
    /// when `None`, a request carrying a token is refused like an unknown key.
    pub session_token: Option<String>,
    /// The mock's clock is the real clock plus this many seconds (to test skew handling).
    pub clock_skew_secs: i64,
    /// `None`: jobs complete only via [`MockGlacier::complete_jobs`]. `Some(n)`: the first
    /// `n` DescribeJob calls on a job report it in progress, later ones report it done
    /// (`Some(0)`: jobs are done as soon as they are initiated).
    pub job_completes_after_polls: Option<u32>,
    /// Storage directory; `None` makes a fresh temporary one, removed on drop. A given
    /// directory is created if missing and kept.
    pub dir: Option<PathBuf>,
    /// Port on 127.0.0.1 to listen on; 0 (the default) picks a free one.
    pub port: u16,
    /// More keys accepted besides [`ACCESS_KEY`]: (access key ID, secret, session token),
    /// added to while the server runs (temporary keys a loopback STS issues). A request
    /// signed with one must carry and sign its session token.
    pub extra_keys: Option<ExtraKeys>,
}

/// An archive as the mock stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// The 138-character archive ID.
    pub archive_id: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 tree hash, lowercase hex.
    pub tree_hash: String,
    /// The archive description given at upload.
    pub description: String,
    /// Creation date, ISO 8601 as Glacier prints it.
    pub creation_date: String,
}

/// One part of an in-progress multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive).
    pub end: u64,
    /// The tree hash ListParts reports for it, lowercase hex.
    pub tree_hash: String,
}

/// An in-progress multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// The 92-character upload ID.
    pub upload_id: String,
    /// Part size in bytes.
    pub part_size: u64,
    /// The archive description given at initiation.
    pub description: String,
    /// Parts present, by start offset.
    pub parts: Vec<PartInfo>,
}

/// One request as the mock saw it (recorded just before its response is written).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path as on the wire, without the query string.
    pub path: String,
    /// Decoded query parameters, in wire order.
    pub query: Vec<(String, String)>,
    /// The Glacier operation name (`"UploadMultipartPart"`...) or `"Unknown"`.
    pub operation: String,
    /// Response status; 0 when the connection was dropped without a response.
    pub status: u16,
    /// The `x-amzn-RequestId` sent (or that would have been sent).
    pub request_id: String,
    /// Every request header, names as received, in order.
    pub headers: Vec<(String, String)>,
    /// The error code sent, if the response was an error.
    pub error_code: Option<String>,
    /// The injected fault that fired on this request, if any.
    pub fault: Option<Fault>,
}

/// A running mock Glacier server on 127.0.0.1. Dropping it stops the server and removes
/// its temporary storage directory.
pub struct MockGlacier {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    remove_dir: bool,
}

impl MockGlacier {
    /// Starts a server on a free port with storage in a fresh temporary directory.
    pub fn start() -> MockGlacier {
        MockGlacier::start_with(MockConfig::default())
    }

    /// Starts a server with the given configuration.
    pub fn start_with(cfg: MockConfig) -> MockGlacier {
        static N: AtomicU64 = AtomicU64::new(0);
        let (dir, remove_dir) = match &cfg.dir {
            Some(d) => (d.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "glacier-mock-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                )),
                true,
            ),
        };
        if remove_dir {
            let _ = std::fs::remove_dir_all(&dir);
        }
        for sub in ["archives", "uploads", "jobs", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create mock storage dir");
        }
        let listener =
            TcpListener::bind(("127.0.0.1", cfg.port)).expect("bind mock server on 127.0.0.1");
        let addr = listener.local_addr().expect("listener has an address");
        let shared = Arc::new(Shared::new(cfg, dir));
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("mock-glacier-accept".into())
                .spawn(move || server::accept_loop(shared, listener))
                .expect("spawn accept thread")
        };
        MockGlacier {
            shared,
            addr,
            accept: Some(accept),
            remove_dir,
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The storage directory.
    pub fn dir(&self) -> PathBuf {
        self.shared.dir.clone()
    }

    /// Creates a vault (no-op if it exists).
    pub fn create_vault(&self, name: &str) {
        self.shared.store.create_vault(name);
    }

    /// Stores an archive directly (no HTTP) and returns its ID. Panics if the vault does
    /// not exist.
    pub fn put_archive(&self, vault: &str, data: &[u8], description: &str) -> String {
        self.shared.store.put_archive(vault, data, description)
    }

    /// Where an archive's bytes are on disk.
    pub fn archive_path(&self, vault: &str, archive_id: &str) -> PathBuf {
        self.shared.store.archive_path(vault, archive_id)
    }

    /// The archives of a vault, oldest first.
    pub fn archives(&self, vault: &str) -> Vec<ArchiveInfo> {
        self.shared.store.archives(vault)
    }

    /// The in-progress multipart uploads of a vault, oldest first.
    pub fn uploads(&self, vault: &str) -> Vec<UploadInfo> {
        self.shared.store.uploads(vault)
    }

    /// Simulates a bad stored part: flips a byte of part `part_index` (0-based) on disk
    /// and updates the hash ListParts reports to that of the now-wrong data, so a client
    /// comparing ListParts with its local file sees a mismatch and CompleteMultipartUpload
    /// with the right whole-archive hash fails until the part is uploaded again.
    pub fn corrupt_part(&self, vault: &str, upload_id: &str, part_index: u64) {
        self.shared.store.corrupt_part(vault, upload_id, part_index);
    }

    /// Adds a fault rule; rules are tried in the order added.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Every request so far, in the order their responses were decided.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.lock().expect("request log lock").clone()
    }

    /// Runs Glacier's periodic inventory of `vault` now (it happens about daily in
    /// Glacier): from then on DescribeVault, ListVaults and inventory jobs report the
    /// archives as they are at this moment. Like Glacier, a vault with no archive added
    /// or deleted since its last inventory keeps that one (and a vault never written
    /// gets none). Returns whether a new inventory was taken. Panics if the vault does
    /// not exist.
    pub fn take_inventory(&self, vault: &str) -> bool {
        self.shared
            .store
            .take_inventory(vault, time::OffsetDateTime::now_utc())
    }

    /// From now on, every successful JSON answer of an operation passes through `edit`
    /// (given the operation name and the body) before it is sent; `None` stops that.
    /// For tests that check the client copes with what Glacier may leave out or null.
    pub fn rewrite_json(&self, edit: Option<server::JsonRewrite>) {
        *self.shared.rewrite.lock().expect("rewrite lock") = edit;
    }

    /// Finishes every in-progress job now.
    pub fn complete_jobs(&self) {
        self.shared.store.complete_jobs();
    }

    /// Lets the "short period" pass after which Glacier no longer answers a repeated
    /// CompleteMultipartUpload with the same archive ID (API Reference, "Complete
    /// Multipart Upload": "if you call the operation again within a short period, the
    /// operation will succeed and return the same archive ID"); after it, the upload is
    /// unknown (404) like any other.
    pub fn forget_completions(&self, vault: &str) {
        if let Ok(v) = self.shared.store.lock().vault_mut(vault) {
            v.completed.clear();
        }
    }

    /// Forgets a job, so it is unknown (404) from now on, like an expired one.
    pub fn expire_job(&self, vault: &str, job_id: &str) {
        self.shared.store.expire_job(vault, job_id);
    }
}

impl Drop for MockGlacier {
    fn drop(&mut self) {
        self.shared.stop();
        // Wake the accept loop; it sees the stop flag and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        self.shared.join_connections();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.shared.dir);
        }
    }
}
