//! The one send path: sign, send, map errors, retry. Timeouts are set up in
//! [`Client::new`]; see `attempt` for how they bound silence rather than length.

use std::time::{Duration, Instant};

use reqwest::blocking::Response;
use time::OffsetDateTime;

use super::hints::hint;
use super::{API_VERSION, Call, Client};
use crate::error::{Error, Result, ServiceError};
use crate::sigv4;
use crate::sync::LockExt;
use crate::treehash::TreeHash;

/// The environment variable that sets [`ClientConfig::min_rate`](super::ClientConfig)
/// in KiB/s: the upload speed below which a request with a body times out.
pub const MIN_UPLOAD_RATE_VAR: &str = "GLACIER_MIN_UPLOAD_RATE";

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

impl Client {
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

    /// Sends `call`, retrying what is retryable, and returns the successful response
    /// (its body not yet read).
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(call);
            let (err, retryable) = match outcome {
                Ok(resp) => return Ok(resp),
                Err(Failure::Service(e)) => {
                    // A 5xx may come after Glacier acted ("Error Responses": 500
                    // ServiceUnavailableException, "the service cannot complete the
                    // request", says nothing of what was done): a call that creates
                    // something is not re-sent blindly; its caller looks first, as for a
                    // lost answer. Throttling and 408 (body not received) are safe.
                    let r = is_retryable_service(&e) && (call.idempotent || e.status < 500);
                    (Error::Service(e), r)
                }
                Err(Failure::Transport(e)) => {
                    // A refused connection never reached Glacier: always safe to retry.
                    let r = is_retryable_transport(&e) && (call.idempotent || e.is_connect());
                    let body_len = call.body.map_or(0, |b| b.len());
                    // A request with a body runs under a total deadline (see `attempt`):
                    // name the setting a slow uplink needs.
                    let deadline = if e.is_timeout() && body_len > 0 {
                        format!(
                            " (an upload request may take --timeout plus 1 s per {} KiB sent; on a slower uplink set {MIN_UPLOAD_RATE_VAR} to fewer KiB/s)",
                            self.min_rate / 1024
                        )
                    } else {
                        String::new()
                    };
                    (
                        Error::Transport {
                            what: format!("{} on {}{deadline}", call.op, call.context),
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
        let mut rb = self
            .http
            .request(call.method.clone(), &url)
            .header("authorization", authorization);
        // Timeouts (reqwest 0.13 blocking): the client-wide `timeout` set in `new` bounds
        // the wait for the headers and then *each* read of the response body, so a
        // body of any length arrives as long as it never goes silent for `timeout`. A
        // per-request timeout would instead be a deadline for the whole exchange, body
        // included; it is only set for a request that sends a body, where sending it
        // happens inside that first wait, and then only the small answer follows.
        // reqwest's blocking client offers no idle timeout for a request body (its
        // `execute_request` bounds body and answer by one deadline), so a body gets
        // `timeout + n / min_rate`, `min_rate` being a setting (MIN_UPLOAD_RATE_VAR).
        if body_len > 0 {
            rb = rb.timeout(self.timeout + Duration::from_secs(body_len / self.min_rate));
        }
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
    e.is_transient() || e.status == 502 || e.status == 504
}

/// Did a request fail in a way that leaves open whether Glacier acted on it? See
/// [`Error::outcome_unknown`].
pub fn outcome_unknown(e: &Error) -> bool {
    e.outcome_unknown()
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
}
