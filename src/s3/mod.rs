//! The typed S3 client the migration of a vault to S3 needs.
//!
//! Same conventions as [`crate::glacier`]: [`Client`] owns the transport (blocking reqwest
//! over rustls), SigV4 signing with service `s3`, retries with the same
//! [`RetryPolicy`] backoff, and the mapping of S3's XML error bodies to
//! [`ServiceError`] (code, message, request ID). `objects.rs` adds one method per
//! operation, `writer.rs` the streaming multipart upload, `endpoint.rs` the endpoint and
//! addressing rules, `metadata.rs` the Glacier facts stored on each object. This module
//! knows HTTP and S3; it never reads files or argv, reads the environment only through
//! [`crate::config::Env`], and never prints except through the optional log callback.

mod endpoint;
mod metadata;
mod objects;
// The same TLS trust as Glacier's client. `glacier::tls` is private to its module (which
// another engineer is splitting); compiling the one source file here avoids a copy until
// `glacier::tls` can be made `pub(crate)` and this becomes a `use`.
#[allow(clippy::duplicate_mod)]
#[path = "../glacier/tls.rs"]
mod tls;
mod writer;

pub use endpoint::{
    Location, S3Endpoint, check_bucket_name, check_key, location, resolve_endpoint,
};
pub use metadata::{ArchiveMetadata, MAX_METADATA_BYTES, percent_decode, percent_encode};
pub use objects::{
    CompletedPart, CompletedUpload, MultipartUploadSummary, ObjectHead, ObjectOptions, PutResult,
    multipart_checksum, parse_error,
};
pub use writer::{
    MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MultipartWriter, ObjectSpec, UploadOptions, Uploaded,
    Verified, part_size_for,
};

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use reqwest::blocking::Response;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::credentials::Provider;
use crate::error::{Error, Result, ServiceError};
use crate::glacier::{Clock, Logger, RetryPolicy};
use crate::sigv4;
use crate::sync::LockExt;

/// An S3 storage class an exported object can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageClass {
    /// `DEEP_ARCHIVE`: the cheapest, hours to restore; the default for vault exports.
    #[default]
    DeepArchive,
    /// `GLACIER` (Glacier Flexible Retrieval).
    Glacier,
    /// `GLACIER_IR` (Glacier Instant Retrieval).
    GlacierIr,
    /// `STANDARD_IA`.
    StandardIa,
    /// `STANDARD`.
    Standard,
}

impl StorageClass {
    /// Every class, in the order `--help` lists them.
    pub const ALL: [StorageClass; 5] = [
        StorageClass::DeepArchive,
        StorageClass::Glacier,
        StorageClass::GlacierIr,
        StorageClass::StandardIa,
        StorageClass::Standard,
    ];

    /// The `x-amz-storage-class` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
            StorageClass::Glacier => "GLACIER",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::Standard => "STANDARD",
        }
    }
}

impl FromStr for StorageClass {
    type Err = Error;
    fn from_str(s: &str) -> Result<StorageClass> {
        StorageClass::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = StorageClass::ALL.iter().map(|c| c.as_str()).collect();
                Error::Usage(format!(
                    "invalid --storage-class '{s}': expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// A request body with its SHA-256, computed once and used three ways: the signed
/// `x-amz-content-sha256` (hex), S3's `x-amz-checksum-sha256` (base64), and the digest a
/// multipart object's checksum is built from.
#[derive(Clone)]
pub struct Body {
    data: bytes::Bytes,
    sha256: [u8; 32],
}

impl Body {
    /// Hashes `data`.
    pub fn new(data: bytes::Bytes) -> Body {
        let sha256 = Sha256::digest(&data).into();
        Body { data, sha256 }
    }

    /// The body length.
    pub fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The SHA-256 digest.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The `x-amz-checksum-sha256` value: base64 of the digest.
    pub fn checksum(&self) -> String {
        BASE64.encode(self.sha256)
    }
}

/// Everything an S3 [`Client`] is built from.
pub struct ClientConfig {
    /// The region requests are signed for.
    pub region: String,
    /// Where requests go.
    pub endpoint: S3Endpoint,
    /// An extra CA certificate file to trust.
    pub ca_bundle: Option<PathBuf>,
    /// Where credentials come from.
    pub credentials: Box<dyn Provider>,
    /// Retries (the same policy type, and by default the same values, as Glacier's).
    pub retry: RetryPolicy,
    /// Connection set-up limit.
    pub connect_timeout: Duration,
    /// The least time any request may take; a request moving `n` bytes may take
    /// `timeout + n / min_rate`.
    pub timeout: Duration,
    /// Bytes per second a transfer must at least make.
    pub min_rate: u64,
    /// The clock used for signing.
    pub clock: Clock,
    /// Seed for backoff jitter (fixed in tests).
    pub jitter_seed: u64,
    /// Optional request log (`--verbose`).
    pub log: Option<Logger>,
}

impl ClientConfig {
    /// Defaults for everything but the region, endpoint and credentials.
    pub fn new(region: String, endpoint: S3Endpoint, credentials: Box<dyn Provider>) -> Self {
        let seed =
            OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 ^ std::process::id() as u64;
        ClientConfig {
            region,
            endpoint,
            ca_bundle: None,
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

/// An S3 client: cheap to share between threads by reference or `Arc`.
pub struct Client {
    http: reqwest::blocking::Client,
    region: String,
    endpoint: S3Endpoint,
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
        f.debug_struct("s3::Client")
            .field("endpoint", &self.endpoint.url)
            .field("region", &self.region)
            .field("credentials", &self.credentials.describe())
            .finish()
    }
}

/// One request to send.
pub(crate) struct Call<'a> {
    /// The operation name, for logs and errors (`UploadPart`).
    pub op: &'static str,
    pub method: Method,
    pub bucket: &'a str,
    pub key: Option<&'a str>,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<&'a Body>,
    /// Statuses that count as success.
    pub ok: &'a [u16],
    /// Expected response size, for the timeout.
    pub response_bytes: u64,
}

impl<'a> Call<'a> {
    /// A call with no query, headers or body, expecting `200`.
    pub fn new(op: &'static str, method: Method, bucket: &'a str, key: Option<&'a str>) -> Self {
        Call {
            op,
            method,
            bucket,
            key,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            ok: &[200],
            response_bytes: 0,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// Adds a header (signed, sent as is).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &'a Body) -> Self {
        self.body = Some(body);
        self
    }

    /// Expects these statuses instead of `200`.
    pub fn ok(mut self, statuses: &'a [u16]) -> Self {
        self.ok = statuses;
        self
    }

    /// What the call concerns, for errors: `s3://bucket/key`.
    pub fn context(&self) -> String {
        format!(
            "{} on s3://{}/{}",
            self.op,
            self.bucket,
            self.key.unwrap_or("")
        )
    }
}

/// What one attempt ended in.
pub(crate) enum Failure {
    Service(Box<ServiceError>),
    Transport(reqwest::Error),
    /// The answer's body broke off (a dropped connection): worth another try.
    BrokenBody(Error),
    Other(Error),
}

impl Client {
    /// Builds a client: TLS roots (system store, else bundled; plus the CA bundle),
    /// timeouts, user agent. Redirects are not followed: a signed request must not be
    /// replayed to another host.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let tls = tls::client_config(cfg.ca_bundle.as_deref())?;
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
                what: "setting up the S3 HTTP client".into(),
                source: Box::new(e),
            })?;
        Ok(Client {
            http,
            region: cfg.region,
            endpoint: cfg.endpoint,
            credentials: cfg.credentials,
            retry: cfg.retry,
            timeout: cfg.timeout,
            min_rate: cfg.min_rate.max(1),
            clock: cfg.clock,
            jitter: Mutex::new(cfg.jitter_seed | 1),
            log: cfg.log,
        })
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &S3Endpoint {
        &self.endpoint
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(l) = &self.log {
            l(&line());
        }
    }

    fn random(&self) -> u64 {
        let mut x = self.jitter.lock_unpoisoned();
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out, with
    /// Glacier's backoff. Every operation here may be repeated: a repeated PUT or
    /// UploadPart writes the same bytes again, a repeated Complete or Abort of an upload
    /// already finished is answered (NoSuchUpload) and handled by the caller.
    pub(crate) fn with_retries<T>(
        &self,
        op: &str,
        mut attempt: impl FnMut() -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        let mut n = 1;
        loop {
            let (err, retryable) = match attempt() {
                Ok(v) => return Ok(v),
                Err(Failure::Service(e)) => {
                    let r = is_retryable_service(&e);
                    (Error::Service(e), r)
                }
                Err(Failure::Transport(e)) => {
                    let r = is_retryable_transport(&e);
                    (
                        Error::Transport {
                            what: format!("{op}: no usable answer from S3"),
                            source: Box::new(e),
                        },
                        r,
                    )
                }
                Err(Failure::BrokenBody(e)) => (e, true),
                Err(Failure::Other(e)) => (e, false),
            };
            if !retryable || n >= self.retry.max_attempts {
                if retryable && n > 1 {
                    self.log(|| format!("{op}: giving up after {n} attempts"));
                }
                return Err(err);
            }
            let delay = self.retry.delay(n, self.random());
            self.log(|| {
                format!(
                    "retrying {op} in {:.1}s after: {} (attempt {} of {})",
                    delay.as_secs_f64(),
                    crate::error::chain(&err),
                    n + 1,
                    self.retry.max_attempts
                )
            });
            std::thread::sleep(delay);
            n += 1;
        }
    }

    /// Sends `call` with retries and returns the successful response (body unread).
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response> {
        self.with_retries(call.op, || self.attempt(call))
    }

    /// One signed attempt.
    pub(crate) fn attempt(&self, call: &Call<'_>) -> std::result::Result<Response, Failure> {
        let creds = self.credentials.credentials().map_err(Failure::Other)?;
        let now = (self.clock)();
        let amz_date = sigv4::amz_date(now);
        let loc = location(&self.endpoint, call.bucket, call.key);
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let payload_hex = call
            .body
            .map_or(sigv4::EMPTY_PAYLOAD_SHA256.to_string(), |b| {
                hex::encode(b.sha256)
            });
        let body_len = call.body.map_or(0, Body::len);

        let mut headers: Vec<(&str, &str)> = vec![
            ("host", loc.host.as_str()),
            ("x-amz-date", &amz_date),
            ("x-amz-content-sha256", &payload_hex),
        ];
        if let Some(token) = creds.session_token() {
            headers.push(("x-amz-security-token", token));
        }
        for (k, v) in &call.headers {
            headers.push((k, v.as_str()));
        }
        let authorization = sign_s3(
            call.method.as_str(),
            &loc.path,
            &query,
            &headers,
            &payload_hex,
            &creds,
            &amz_date,
            &self.region,
        );

        let mut url = loc.url.clone();
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
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            rb = rb.header(*k, *v);
        }
        rb = match call.body {
            Some(b) => rb
                .header("content-length", b.len())
                .body(reqwest::blocking::Body::from(b.data.clone())),
            None => rb.header("content-length", 0),
        };
        let started = Instant::now();
        self.log(|| format!("> {} {} ({}, {body_len} bytes)", call.method, url, call.op));
        let resp = rb.send().map_err(Failure::Transport)?;
        let status = resp.status().as_u16();
        self.log(|| {
            format!(
                "< {status} {} in {:.3}s [request ID {}]",
                call.op,
                started.elapsed().as_secs_f64(),
                request_id_header(&resp).as_deref().unwrap_or("none")
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
        let header_id = request_id_header(&resp);
        let date = header(&resp, "date");
        // Error bodies are small XML; cap what we read so a broken proxy cannot stream
        // gigabytes into memory.
        let mut body = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::Read::take(resp, 64 * 1024), &mut body);
        let mut e = parse_error(&body).unwrap_or(ServiceError {
            context: String::new(),
            status,
            code: String::new(),
            message: String::new(),
            request_id: None,
            hint: None,
        });
        e.context = call.context();
        e.status = status;
        if e.code.is_empty() && status == 404 && call.method == Method::HEAD {
            // HEAD answers carry no body ("HeadObject": "a HEAD request has the same options
            // as a GET operation on an object. The response is identical to the GET
            // response except that there is no response body").
            e.code = "NotFound".into();
        }
        e.request_id = e.request_id.or(header_id);
        e.hint = hint(&e, date.as_deref(), now, self.credentials.describe());
        e
    }
}

/// Signs an S3 request: the canonical request of `sigv4`, except that the path is signed
/// as sent (already URI-encoded once, not normalized), which `sigv4::canonical_uri`
/// (written for the other services) would encode a second time.
#[allow(clippy::too_many_arguments)]
fn sign_s3(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    payload_hex: &str,
    creds: &crate::credentials::Credentials,
    amz_date: &str,
    region: &str,
) -> String {
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{}\n{}\n{payload_hex}",
        sigv4::canonical_query(query),
        sigv4::canonical_headers(headers),
        sigv4::signed_headers(headers)
    );
    let scope = sigv4::Scope {
        date: amz_date.get(..8).unwrap_or(amz_date),
        region,
        service: "s3",
    };
    let string_to_sign = sigv4::string_to_sign(amz_date, &scope, &canonical_request);
    let signature = sigv4::signature(
        &sigv4::signing_key(creds.secret_access_key(), &scope),
        &string_to_sign,
    );
    sigv4::authorization(
        &creds.access_key_id,
        &scope,
        &sigv4::signed_headers(headers),
        &signature,
    )
}

pub(crate) fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// S3 names its request ID `x-amz-request-id` (other services and some S3-compatible
/// servers use `x-amzn-RequestId`).
fn request_id_header(resp: &Response) -> Option<String> {
    header(resp, "x-amz-request-id").or_else(|| header(resp, "x-amzn-requestid"))
}

/// Throttling, timeouts and server faults are worth another try ("Error responses" in the
/// S3 API Reference: SlowDown and ServiceUnavailable are 503, InternalError 500,
/// RequestTimeout 400); a client error is not.
pub(crate) fn is_retryable_service(e: &ServiceError) -> bool {
    matches!(e.status, 408 | 429 | 500 | 502 | 503 | 504)
        || matches!(
            e.code.as_str(),
            "SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable"
        )
}

/// Connection refused or reset, timeouts, a dropped connection: retry. A bad URL or a TLS
/// certificate failure will not get better.
fn is_retryable_transport(e: &reqwest::Error) -> bool {
    if e.is_builder() || e.is_redirect() {
        return false;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.to_string().to_ascii_lowercase().contains("certificate") {
            return false;
        }
        src = s.source();
    }
    true
}

/// A line that tells the user what to do about a well-known S3 error.
fn hint(
    e: &ServiceError,
    date: Option<&str>,
    now: OffsetDateTime,
    creds: String,
) -> Option<String> {
    match e.code.as_str() {
        "RequestTimeTooSkewed" => {
            let skew = date
                .and_then(crate::glacier::parse_http_date)
                .map(|server| (now - server).whole_seconds());
            Some(match skew {
                Some(s) => format!(
                    "the local clock is {s} s off S3's; fix the system clock (e.g. enable NTP)"
                ),
                None => "the local clock looks wrong; fix the system clock".into(),
            })
        }
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied" | "ExpiredToken" => {
            Some(format!("check the credentials (from {creds})"))
        }
        "NoSuchBucket" => Some("check the bucket name and the region".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;

    #[test]
    fn storage_classes_parse_and_default_to_deep_archive() {
        assert_eq!(StorageClass::default().as_str(), "DEEP_ARCHIVE");
        for c in StorageClass::ALL {
            assert_eq!(c.as_str().parse::<StorageClass>().expect("parse"), c);
        }
        assert_eq!(
            "glacier_ir".parse::<StorageClass>().expect("any case"),
            StorageClass::GlacierIr
        );
        let e = "REDUCED".parse::<StorageClass>().expect_err("unknown");
        assert!(e.to_string().contains("--storage-class"), "{e}");
    }

    /// AWS's worked example "Example: GET Object" from "Signature Calculations for the
    /// Authorization Header: Transferring Payload in a Single Chunk (AWS Signature
    /// Version 4)" in the S3 API Reference.
    #[test]
    fn signs_the_s3_get_object_example() {
        let creds = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
        );
        let headers = [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", sigv4::EMPTY_PAYLOAD_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let auth = sign_s3(
            "GET",
            "/test.txt",
            &[],
            &headers,
            sigv4::EMPTY_PAYLOAD_SHA256,
            &creds,
            "20130524T000000Z",
            "us-east-1",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// "Example: PUT Object" from the same page: the key `test$file.text` is signed as
    /// `/test%24file.text`, encoded once (other services would sign `%2524`).
    #[test]
    fn signs_the_s3_put_object_example_with_the_key_encoded_once() {
        let creds = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
        );
        let endpoint = S3Endpoint::for_region("us-east-1");
        let loc = location(&endpoint, "examplebucket", Some("test$file.text"));
        assert_eq!(loc.path, "/test%24file.text");
        let payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        let headers = [
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", payload),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ];
        let auth = sign_s3(
            "PUT",
            &loc.path,
            &[],
            &headers,
            payload,
            &creds,
            "20130524T000000Z",
            "us-east-1",
        );
        assert!(
            auth.ends_with(
                "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            ),
            "{auth}"
        );
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
        assert!(is_retryable_service(&e(503, "SlowDown")));
        assert!(is_retryable_service(&e(200, "InternalError")));
        assert!(is_retryable_service(&e(400, "RequestTimeout")));
        assert!(!is_retryable_service(&e(404, "NoSuchKey")));
        assert!(!is_retryable_service(&e(403, "SignatureDoesNotMatch")));
        assert!(!is_retryable_service(&e(400, "InvalidPart")));
    }
}
