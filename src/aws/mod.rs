//! The one AWS transport both services ([`crate::glacier`], [`crate::s3`]) run on.
//!
//! It owns what a request to any AWS service needs, once: the client configuration
//! ([`ClientConfig`]: credentials, TLS trust, timeouts, retries, clock, jitter, log), TLS set-up
//! (`tls.rs`), request bodies ([`Payload`]), signing through [`crate::sigv4`] with the
//! service's [`SigningSettings`](crate::sigv4::SigningSettings), one retry loop with capped,
//! jittered exponential backoff (`retry.rs`), timeouts that bound silence rather than
//! length in both directions, one request log format, and the reading of answers (headers,
//! bounded bodies, error bodies) in `transport.rs`. What differs between services is the
//! small `Service` trait (`service.rs`): the error body format, retryable codes beyond
//! the shared classification on [`ServiceError`](crate::error::ServiceError), hints, and
//! request ID headers. A service module builds a `Call` (`call.rs`) and a [`Location`],
//! and parses the answer; it never touches reqwest's builder or the retry loop.
//!
//! This module knows HTTP and SigV4, not any one service's API. It never reads argv or
//! the environment (the CLI parses [`MIN_UPLOAD_RATE_VAR`] with [`parse_min_upload_rate`])
//! and never prints except through the optional log callback, which never sees a secret
//! or a signature. The only files it reads are upload byte ranges ([`Payload::file_range`])
//! and the CA bundle the configuration names.
//!
//! A run's `--limit-rate` is one [`RateLimit`] in [`ClientConfig::limit_rate`], the same
//! `Arc` in every client of the run; the transport paces request bodies (`payload.rs`)
//! and hands back answers whose bodies are paced as they are read ([`Response`]), so
//! every service and command keeps to it without doing anything (`rate.rs`).

mod call;
mod payload;
mod rate;
mod response;
mod retry;
mod service;
pub(crate) mod tls;
mod transport;

pub(crate) use call::Call;
pub use payload::Payload;
pub use rate::RateLimit;
pub use response::Response;
pub(crate) use retry::{Backoff, Next, seed};
pub use retry::{MIN_UPLOAD_RATE_VAR, RetryPolicy, parse_min_upload_rate};
pub use service::parse_http_date;
pub(crate) use service::{Conventions, ErrorBody, Hint, Service};
pub(crate) use transport::{Failure, Transport, header, network_fault, read_body};

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::credentials::Provider;

/// Time source for signing: injectable so tests fix the time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Receives one line per request, response and retry when `--verbose` is on.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// What every AWS client is built from: the service's own part `S` (region, endpoint:
/// `glacier::Destination`, `s3::Destination`), which the configuration dereferences to,
/// and the settings every service shares.
pub struct ClientConfig<S> {
    /// Where the service is.
    pub service: S,
    /// An extra CA certificate file to trust on top of the system's (or bundled) roots.
    pub ca_bundle: Option<PathBuf>,
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
    /// KiB/s by [`MIN_UPLOAD_RATE_VAR`] for uplinks slower than the default 64 KiB/s per
    /// request in flight.
    pub min_rate: u64,
    /// The clock used for signing.
    pub clock: Clock,
    /// Seed for backoff jitter (fixed in tests).
    pub jitter_seed: u64,
    /// Optional request log.
    pub log: Option<Logger>,
    /// `--limit-rate`: bytes per second for every body sent and received, shared by all
    /// threads and, through the same `Arc`, by every client of the run.
    pub limit_rate: Option<Arc<RateLimit>>,
}

impl<S> ClientConfig<S> {
    /// Defaults for everything but the service's part and the credentials.
    pub fn with_service(service: S, credentials: Box<dyn Provider>) -> ClientConfig<S> {
        let seed =
            OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 ^ std::process::id() as u64;
        ClientConfig {
            service,
            ca_bundle: None,
            credentials,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            min_rate: 64 * 1024,
            clock: Arc::new(OffsetDateTime::now_utc),
            jitter_seed: seed,
            log: None,
            limit_rate: None,
        }
    }
}

/// The service's fields read as the configuration's own (`cfg.endpoint`, `cfg.resolved`).
impl<S> Deref for ClientConfig<S> {
    type Target = S;
    fn deref(&self) -> &S {
        &self.service
    }
}

impl<S> DerefMut for ClientConfig<S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.service
    }
}

/// Where one request goes: the URL without the query, the `Host` header, and the path as
/// sent (the signer treats it as the service's settings say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `scheme://host[:port]` + [`Location::path`].
    pub url: String,
    /// The `Host` header value.
    pub host: String,
    /// The path as it goes on the wire, already URI-encoded where needed.
    pub path: String,
}
