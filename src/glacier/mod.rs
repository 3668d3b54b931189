//! The typed Glacier REST client.
//!
//! [`Client`] owns the transport (blocking reqwest over rustls), signing glue, retries and
//! error mapping; the files beside this one add one typed method per API operation
//! (`vaults`, `archives`, `multipart`, `jobs`). Every request goes through one private send
//! path that signs with [`crate::sigv4`], sets the Glacier version header, maps non-2xx
//! answers to [`ServiceError`] (with the request ID) and retries what is retryable with
//! capped, jittered exponential backoff. This module knows HTTP and Glacier; it never
//! reads files, argv or the environment, and never prints except through the optional
//! log callback (`--verbose`), which never sees a secret or a signature.

mod archives;
mod ids;
mod jobs;
mod multipart;
mod tls;
mod vaults;

pub use archives::ArchiveCreated;
pub use ids::{ArchiveId, JobId, UploadId};
pub use jobs::{
    InventoryParameters, InventoryRetrievalDescription, JobDescription, JobOutput, JobRequest,
    JobsPage,
};
pub use multipart::{
    PartJson, PartList, PartRange, PartsPage, UploadDescription, UploadsPage,
    parse_range as parse_byte_range, part_range,
};
pub use vaults::{VaultDescription, VaultList, check_vault_name};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Body, Response};
use time::OffsetDateTime;

use crate::config::Resolved;
use crate::credentials::Provider;
use crate::error::{Error, Result, ServiceError};
use crate::sigv4;
use crate::treehash::TreeHash;

/// The API version every request names (`x-amz-glacier-version`).
pub const API_VERSION: &str = "2012-06-01";

/// How failed requests are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The delay before the first retry; doubles each time.
    pub base_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based), with "equal jitter": half fixed,
    /// half random, so many clients backing off together spread out (AWS Architecture
    /// Blog, "Exponential Backoff And Jitter").
    pub fn delay(&self, retry: u32, random: u64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 { 0 } else { random % (nanos + 1) };
        half + Duration::from_nanos(jitter)
    }
}

/// Time source for signing: injectable so tests fix the time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Receives one line per request, response and retry when `--verbose` is on.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// Everything a [`Client`] is built from.
pub struct ClientConfig {
    /// Region, endpoint, account, CA bundle.
    pub resolved: Resolved,
    /// Where credentials come from.
    pub credentials: Box<dyn Provider>,
    /// Retries.
    pub retry: RetryPolicy,
    /// Connection set-up limit.
    pub connect_timeout: Duration,
    /// The least time any request may take before it is abandoned; larger bodies get
    /// more (see [`ClientConfig::min_rate`]).
    pub timeout: Duration,
    /// Bytes per second a transfer must at least make: a request moving `n` bytes may
    /// take `timeout + n / min_rate`.
    pub min_rate: u64,
    /// The clock used for signing.
    pub clock: Clock,
    /// Seed for backoff jitter (fixed in tests).
    pub jitter_seed: u64,
    /// Optional request log.
    pub log: Option<Logger>,
}

impl ClientConfig {
    /// Defaults for everything but the configuration and credentials.
    pub fn new(resolved: Resolved, credentials: Box<dyn Provider>) -> ClientConfig {
        let seed =
            OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 ^ std::process::id() as u64;
        ClientConfig {
            resolved,
            credentials,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            min_rate: 64 * 1024,
            clock: Arc::new(OffsetDateTime::now_utc),
            jitter_seed: seed,
            log: None,
        }
    }
}

/// A Glacier client: cheap to share between threads by reference.
pub struct Client {
    http: reqwest::blocking::Client,
    resolved: Resolved,
    credentials: Box<dyn Provider>,
    retry: RetryPolicy,
    timeout: Duration,
    min_rate: u64,
    clock: Clock,
    jitter: Mutex<u64>,
    log: Option<Logger>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.resolved.endpoint.url)
            .field("region", &self.resolved.region)
            .field("credentials", &self.credentials.describe())
            .finish()
    }
}

/// A request body, kept so that a retry can send it again without holding a second
/// copy: shared bytes (a part buffer, a JSON body), or a range of a file re-read from
/// disk on every attempt.
#[derive(Clone)]
pub struct Payload {
    source: Source,
    sha256: String,
}

#[derive(Clone)]
enum Source {
    Bytes(bytes::Bytes),
    File {
        file: Arc<std::fs::File>,
        offset: u64,
        len: u64,
    },
}

/// Reads `len` bytes of a file from `offset` with positioned reads, failing if the file
/// ends early (so a file that shrank is never sent short).
struct FileRange {
    file: Arc<std::fs::File>,
    pos: u64,
    end: u64,
}

impl std::io::Read for FileRange {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = (buf.len() as u64).min(self.end - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file shrank while it was uploaded",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Payload {
    /// Shared bytes with their SHA-256 (hex), computed by the caller in the same pass as
    /// the tree hash. `Bytes::from_owner` lets a pooled buffer go back to its pool when
    /// the HTTP layer drops its last reference.
    pub fn new(data: bytes::Bytes, sha256: String) -> Payload {
        Payload {
            source: Source::Bytes(data),
            sha256,
        }
    }

    /// `len` bytes of `file` from `offset`, re-read on every attempt, with their SHA-256.
    pub fn file_range(file: Arc<std::fs::File>, offset: u64, len: u64, sha256: String) -> Payload {
        Payload {
            source: Source::File { file, offset, len },
            sha256,
        }
    }

    /// A small body (JSON) whose hash is computed here.
    pub fn from_vec(v: Vec<u8>) -> Payload {
        let sha256 = sigv4::sha256_hex(&v);
        Payload::new(bytes::Bytes::from(v), sha256)
    }

    /// The body length.
    pub fn len(&self) -> u64 {
        match &self.source {
            Source::Bytes(b) => b.len() as u64,
            Source::File { len, .. } => *len,
        }
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn body(&self) -> Body {
        match &self.source {
            Source::Bytes(b) => Body::from(b.clone()),
            Source::File { file, offset, len } => Body::sized(
                FileRange {
                    file: Arc::clone(file),
                    pos: *offset,
                    end: offset + len,
                },
                *len,
            ),
        }
    }
}

/// One request to send.
pub(crate) struct Call<'a> {
    /// The operation name, for logs and errors (`UploadMultipartPart`).
    pub op: &'static str,
    /// What it concerns, for errors: `vault 'photos'`.
    pub context: String,
    pub method: Method,
    /// Path after `/{accountId}/`, each segment already safe (IDs and vault names).
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<&'a Payload>,
    /// Statuses that count as success.
    pub ok: &'a [u16],
    /// Expected response size, for the timeout.
    pub response_bytes: u64,
    /// False for a request whose repetition could create something twice
    /// (UploadArchive): a transport error after the request may have reached Glacier is
    /// then reported instead of retried.
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    /// A call with no query, headers or body, expecting `200`.
    pub fn new(op: &'static str, context: String, method: Method, path: String) -> Call<'a> {
        Call {
            op,
            context,
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            ok: &[200],
            response_bytes: 0,
            idempotent: true,
        }
    }

    /// Expects these statuses instead of `200`.
    pub fn ok(mut self, statuses: &'a [u16]) -> Self {
        self.ok = statuses;
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// Adds a header (signed, sent as is).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &'a Payload) -> Self {
        self.body = Some(body);
        self
    }
}

/// One page of a list operation.
pub(crate) trait Page: serde::de::DeserializeOwned {
    type Item;
    /// The items and the marker for the next page (`None` or empty: last page).
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

impl Client {
    /// Runs a list operation to its last page, following `Marker`.
    pub(crate) fn all_pages<P: Page>(
        &self,
        make: impl Fn() -> Call<'static>,
    ) -> Result<Vec<P::Item>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut call = make();
            if let Some(m) = marker.take() {
                call = call.query("marker", m);
            }
            let op = call.op;
            let page: P = json_body(self.send(&call)?, op)?;
            let (items, next) = page.into_parts();
            out.extend(items);
            match next {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => return Ok(out),
            }
        }
    }

    /// Builds a client: TLS roots (system store, else bundled; plus the CA bundle),
    /// timeouts, user agent.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let tls = tls::client_config(cfg.resolved.ca_bundle.as_deref())?;
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(concat!("glacier-upload/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            .timeout(None)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| Error::Transport {
                what: "setting up the HTTP client".into(),
                source: Box::new(e),
            })?;
        Ok(Client {
            http,
            resolved: cfg.resolved,
            credentials: cfg.credentials,
            retry: cfg.retry,
            timeout: cfg.timeout,
            min_rate: cfg.min_rate.max(1),
            clock: cfg.clock,
            jitter: Mutex::new(cfg.jitter_seed | 1),
            log: cfg.log,
        })
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(l) = &self.log {
            l(&line());
        }
    }

    fn random(&self) -> u64 {
        let mut x = self.jitter.lock().unwrap_or_else(|p| p.into_inner());
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// Sends `call`, retrying what is retryable, and returns the successful response
    /// (its body not yet read).
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(call);
            let (err, retryable) = match outcome {
                Ok(resp) => return Ok(resp),
                Err(Failure::Service(e)) => {
                    let r = is_retryable_service(&e);
                    (Error::Service(e), r)
                }
                Err(Failure::Transport(e)) => {
                    // A refused connection never reached Glacier: always safe to retry.
                    let r = is_retryable_transport(&e) && (call.idempotent || e.is_connect());
                    (
                        Error::Transport {
                            what: format!("{} on {}", call.op, call.context),
                            source: Box::new(e),
                        },
                        r,
                    )
                }
                Err(Failure::Other(e)) => (e, false),
            };
            if !retryable || attempt >= self.retry.max_attempts {
                if retryable && attempt > 1 {
                    self.log(|| format!("{}: giving up after {attempt} attempts", call.op));
                }
                return Err(err);
            }
            let delay = self.retry.delay(attempt, self.random());
            self.log(|| {
                format!(
                    "retrying {} in {:.1}s after: {} (attempt {} of {})",
                    call.op,
                    delay.as_secs_f64(),
                    crate::error::chain(&err),
                    attempt + 1,
                    self.retry.max_attempts
                )
            });
            std::thread::sleep(delay);
            attempt += 1;
        }
    }

    fn attempt(&self, call: &Call<'_>) -> std::result::Result<Response, Failure> {
        let creds = self.credentials.credentials().map_err(Failure::Other)?;
        let now = (self.clock)();
        let amz_date = sigv4::amz_date(now);
        let path = format!("/{}/{}", self.resolved.account_id, call.path);
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let payload_sha256 = call
            .body
            .map_or(sigv4::EMPTY_PAYLOAD_SHA256, |b| b.sha256.as_str());
        let body_len = call.body.map_or(0, |b| b.len());

        let mut headers: Vec<(&str, &str)> = vec![
            ("host", self.resolved.endpoint.host.as_str()),
            ("x-amz-date", &amz_date),
            ("x-amz-glacier-version", API_VERSION),
            ("x-amz-content-sha256", payload_sha256),
        ];
        if let Some(token) = creds.session_token() {
            headers.push(("x-amz-security-token", token));
        }
        for (k, v) in &call.headers {
            headers.push((k, v.as_str()));
        }
        let req = sigv4::Request {
            method: call.method.as_str(),
            path: &path,
            query: &query,
            headers: &headers,
            payload_sha256,
        };
        let authorization = sigv4::sign(
            &req,
            &creds.access_key_id,
            creds.secret_access_key(),
            &amz_date,
            &self.resolved.region,
            "glacier",
        );

        let mut url = format!("{}{}", self.resolved.endpoint.url, path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&sigv4::canonical_query(&query));
        }
        let bytes = body_len + call.response_bytes;
        let timeout = self.timeout + Duration::from_secs(bytes / self.min_rate);
        let mut rb = self
            .http
            .request(call.method.clone(), &url)
            .timeout(timeout)
            .header("authorization", authorization);
        // reqwest sets Host itself from the URL; every other signed header is sent as is.
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            rb = rb.header(*k, *v);
        }
        rb = match call.body {
            Some(b) => rb.header("content-length", b.len()).body(b.body()),
            None => rb.header("content-length", 0),
        };
        let started = Instant::now();
        self.log(|| {
            format!(
                "> {} {}{} ({}, {} bytes)",
                call.method,
                path,
                if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", sigv4::canonical_query(&query))
                },
                call.op,
                body_len
            )
        });
        let resp = rb.send().map_err(Failure::Transport)?;
        let status = resp.status().as_u16();
        let request_id = header(&resp, "x-amzn-requestid");
        self.log(|| {
            format!(
                "< {status} {} in {:.3}s [request ID {}]",
                call.op,
                started.elapsed().as_secs_f64(),
                request_id.as_deref().unwrap_or("none")
            )
        });
        if call.ok.contains(&status) {
            return Ok(resp);
        }
        Err(Failure::Service(Box::new(
            self.service_error(call, resp, now),
        )))
    }

    fn service_error(&self, call: &Call<'_>, resp: Response, now: OffsetDateTime) -> ServiceError {
        let status = resp.status().as_u16();
        let request_id = header(&resp, "x-amzn-requestid");
        let date = header(&resp, "date");
        // Error bodies are small JSON; cap what we read so a broken proxy can't stream
        // gigabytes into memory.
        let mut body = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(resp, 64 * 1024), &mut body);
        #[derive(serde::Deserialize, Default)]
        struct ErrorBody {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        let parsed: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        let mut e = ServiceError {
            context: format!("{} on {}", call.op, call.context),
            status,
            code: parsed.code,
            message: parsed.message,
            request_id,
            hint: None,
        };
        e.hint = hint(&e, date.as_deref(), now, self.credentials.describe());
        e
    }

    /// The request path for a vault: `vaults/{name}`.
    pub(crate) fn vault_path(vault: &str) -> String {
        format!("vaults/{}", sigv4::uri_encode(vault, true))
    }
}

/// What one attempt ended in.
enum Failure {
    Service(Box<ServiceError>),
    Transport(reqwest::Error),
    Other(Error),
}

pub(crate) fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Throttling, timeouts and server faults are worth another try; a client error is not.
fn is_retryable_service(e: &ServiceError) -> bool {
    matches!(e.status, 408 | 429 | 500 | 502 | 503 | 504)
        || matches!(
            e.code.as_str(),
            "ThrottlingException"
                | "RequestTimeoutException"
                | "ServiceUnavailableException"
                | "SlowDown"
                | "RequestLimitExceeded"
        )
}

/// Connection refused or reset, timeouts, a dropped connection: retry. A bad URL or a
/// TLS certificate failure will not get better.
fn is_retryable_transport(e: &reqwest::Error) -> bool {
    if e.is_builder() || e.is_redirect() {
        return false;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        let text = s.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("invalidcertificate") {
            return false;
        }
        src = s.source();
    }
    true
}

/// A line that tells the user what to do about a well-known error.
fn hint(
    e: &ServiceError,
    date: Option<&str>,
    now: OffsetDateTime,
    creds: String,
) -> Option<String> {
    let msg = e.message.to_ascii_lowercase();
    match e.code.as_str() {
        "InvalidSignatureException"
            if msg.contains("signature expired") || msg.contains("not yet current") =>
        {
            let skew = date
                .and_then(parse_http_date)
                .map(|server| (now - server).whole_seconds());
            Some(match skew {
                Some(s) if s > 0 => format!(
                    "the local clock is {s} s ahead of Glacier's; fix the system clock (e.g. enable NTP)"
                ),
                Some(s) => format!(
                    "the local clock is {} s behind Glacier's; fix the system clock (e.g. enable NTP)",
                    -s
                ),
                None => {
                    "the local clock looks wrong; fix the system clock (e.g. enable NTP)".into()
                }
            })
        }
        "InvalidSignatureException"
        | "UnrecognizedClientException"
        | "AccessDeniedException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException" => Some(format!("check the credentials (from {creds})")),
        "NoLongerSupportedException" => Some(
            "this AWS account cannot use Glacier vaults (closed to new accounts since 2025-12-15)"
                .into(),
        ),
        "InsufficientCapacityException" => {
            Some("Expedited retrieval capacity is not available now; try --tier Standard".into())
        }
        "PolicyEnforcedException" => {
            Some("the account's data retrieval policy refused this retrieval".into())
        }
        _ => None,
    }
}

/// Parses an HTTP `Date` header (RFC 1123: `Thu, 26 Nov 2026 12:00:00 GMT`).
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    // RFC 2822 parsing accepts RFC 1123 dates, "GMT" included.
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822).ok()
}

/// Parses a `x-amz-sha256-tree-hash` response header.
pub(crate) fn tree_hash_header(resp: &Response, what: &str) -> Result<Option<TreeHash>> {
    match header(resp, "x-amz-sha256-tree-hash") {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|e| Error::Mismatch {
            what: format!("{what}: tree hash header from Glacier"),
            expected: "64 hex digits".into(),
            actual: format!("'{v}' ({e})"),
        }),
    }
}

/// Reads a JSON response body into `T`.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(resp: Response, what: &str) -> Result<T> {
    let bytes = resp.bytes().map_err(|e| Error::Transport {
        what: format!("reading the response of {what}"),
        source: Box::new(e),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Transport {
        what: format!("{what}: unexpected response body"),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_bounds() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        };
        for (retry, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (5, 1600),
            (6, 2000),
            (30, 2000),
        ] {
            let full = Duration::from_millis(full);
            for r in [0u64, 1, 12345, u64::MAX] {
                let d = p.delay(retry, r);
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
            }
        }
        assert_ne!(p.delay(3, 1), p.delay(3, 99_999_999));
    }

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Thu, 26 Nov 2026 12:00:05 GMT").expect("parse");
        assert_eq!(t.unix_timestamp(), 1_795_694_405);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn retryable_classification() {
        let e = |status, code: &str| ServiceError {
            context: String::new(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        };
        assert!(is_retryable_service(&e(400, "ThrottlingException")));
        assert!(is_retryable_service(&e(503, "")));
        assert!(is_retryable_service(&e(408, "RequestTimeoutException")));
        assert!(!is_retryable_service(&e(
            400,
            "InvalidParameterValueException"
        )));
        assert!(!is_retryable_service(&e(404, "ResourceNotFoundException")));
        assert!(!is_retryable_service(&e(403, "InvalidSignatureException")));
    }

    #[test]
    fn skew_hint_measures_the_clock() {
        let e = ServiceError {
            context: "x".into(),
            status: 403,
            code: "InvalidSignatureException".into(),
            message: "Signature expired: 20261126T110000Z is now earlier than ...".into(),
            request_id: None,
            hint: None,
        };
        let now = parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT").expect("date");
        let h = hint(&e, Some("Thu, 26 Nov 2026 11:00:00 GMT"), now, "env".into()).expect("hint");
        assert!(h.contains("3600 s ahead"), "{h}");
    }
}
