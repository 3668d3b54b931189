//! The typed Glacier REST client.
//!
//! [`Client`] owns the transport (blocking reqwest over rustls), signing glue, retries and
//! error mapping; the files beside this one add one typed method per API operation
//! (`vaults`, `archives`, `multipart`, `jobs`). Every request goes through one private send
//! path (`transport.rs`) that signs with [`crate::sigv4`], sets the Glacier version header,
//! maps non-2xx answers to [`ServiceError`](crate::error::ServiceError) (with the request ID, and a hint from
//! `hints.rs`) and retries what is retryable with capped, jittered exponential backoff.
//! Request bodies are `payload.rs`. This module knows HTTP and Glacier; it never reads
//! argv or the environment, and never prints except through the optional log callback
//! (`--verbose`), which never sees a secret or a signature. The only files it reads are
//! the ones a request is made of: an upload body's byte range ([`Payload::file_range`],
//! re-read on every attempt so a retry needs no copy in memory) and the CA bundle the
//! configuration names (`tls.rs`); it never writes one.

mod archives;
mod hints;
mod ids;
mod jobs;
mod multipart;
mod payload;
pub(crate) mod tls;
mod transport;
mod vaults;

pub use archives::ArchiveCreated;
pub use hints::parse_http_date;
pub use ids::{ArchiveId, Description, JobId, UploadId};
pub use jobs::{
    InventoryParameters, InventoryRetrievalDescription, JobDescription, JobOutput, JobRequest,
    JobsPage,
};
pub use multipart::{
    PartJson, PartList, PartRange, PartsPage, UploadDescription, UploadsPage,
    parse_range as parse_byte_range, part_range,
};
pub use payload::Payload;
pub use transport::{MIN_UPLOAD_RATE_VAR, RetryPolicy, outcome_unknown};
pub(crate) use transport::{header, json_body, tree_hash_header};
pub use vaults::{VaultDescription, VaultList, check_vault_name};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use time::OffsetDateTime;

use crate::config::Resolved;
use crate::credentials::Provider;
use crate::error::{Error, Result};
use crate::sigv4;

/// The API version every request names (`x-amz-glacier-version`).
pub const API_VERSION: &str = "2012-06-01";

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
    /// The longest silence allowed: waiting for an answer's headers, and between two
    /// reads of a response body, however long the whole body takes. A request with a
    /// body of `n` bytes may take `timeout + n / min_rate` to send it and be answered.
    pub timeout: Duration,
    /// Bytes per second an upload body must at least make (see
    /// [`ClientConfig::timeout`]); response bodies are bounded by silence only. Set in
    /// KiB/s by [`MIN_UPLOAD_RATE_VAR`] for uplinks slower than the default 64 KiB/s
    /// per request in flight.
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

/// The marker to follow after a page of `call`: `None` on the last page. A marker the
/// endpoint already sent would page forever (a broken or hostile endpoint), so it is an
/// error, as in `s3`.
pub(crate) fn next_marker(
    seen: &mut std::collections::HashSet<String>,
    next: Option<String>,
    call: &Call<'_>,
) -> Result<Option<String>> {
    match next {
        Some(m) if !m.is_empty() => {
            if !seen.insert(m.clone()) {
                let shown: String = m.chars().take(80).collect();
                return Err(Error::Transport {
                    what: format!(
                        "{} on {}: the endpoint sent marker {shown:?} a second time",
                        call.op, call.context
                    ),
                    source: "a list that pages forever".into(),
                });
            }
            Ok(Some(m))
        }
        _ => Ok(None),
    }
}

impl Client {
    /// Runs a list operation to its last page, following `Marker`.
    pub(crate) fn all_pages<P: Page>(
        &self,
        make: impl Fn() -> Call<'static>,
    ) -> Result<Vec<P::Item>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut call = make();
            if let Some(m) = marker.take() {
                call = call.query("marker", m);
            }
            let op = call.op;
            let page: P = json_body(self.send(&call)?, op)?;
            let (items, next) = page.into_parts();
            out.extend(items);
            match next_marker(&mut seen, next, &call)? {
                Some(m) => marker = Some(m),
                None => return Ok(out),
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
            .timeout(cfg.timeout)
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

    /// The request path for a vault: `vaults/{name}`.
    pub(crate) fn vault_path(vault: &str) -> String {
        format!("vaults/{}", sigv4::uri_encode(vault, true))
    }
}
