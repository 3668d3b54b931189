//! The one send path of every service: sign, send, read the answer, map errors, retry.
//!
//! Timeouts bound silence, not length, in both directions (see `attempt`). Every answer
//! is read here: headers ([`header`]), bounded bodies ([`read_body`]) and error bodies,
//! which the [`Service`] parses.

use std::time::{Duration, Instant};

use std::sync::Arc;

use reqwest::header::HeaderMap;
use time::OffsetDateTime;

use super::rate::RateLimit;
use super::retry::Jitter;
use super::service::render_hint;
use super::{
    Call, ClientConfig, Location, MIN_UPLOAD_RATE_VAR, Payload, Response, RetryPolicy, Service,
};
use crate::credentials::Provider;
use crate::error::{Error, Fault, NetworkFault, Result, ServiceError, Setting};
use crate::sigv4;

/// The most of an error answer's body that is read: they are small, and a broken proxy
/// must not stream gigabytes into memory.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A client of one AWS service: HTTP, credentials, signing, retries, log.
pub(crate) struct Transport {
    http: reqwest::blocking::Client,
    service: &'static dyn Service,
    region: String,
    credentials: Box<dyn Provider>,
    retry: RetryPolicy,
    timeout: Duration,
    min_rate: u64,
    clock: super::Clock,
    jitter: Jitter,
    log: Option<super::Logger>,
    limit: Option<Arc<RateLimit>>,
}

/// What one attempt ended in.
pub(crate) enum Failure {
    /// The service answered with an error.
    Service(Box<ServiceError>),
    /// No answer: connection, TLS, timeout.
    Transport(reqwest::Error),
    /// The answer's body broke off (a dropped connection): worth another try when the
    /// request may be repeated.
    BrokenBody(Error),
    /// Anything else (credentials, an answer that makes no sense): not retried.
    Other(Error),
}

impl Transport {
    /// Builds the HTTP client: TLS roots (system store, else bundled; plus the CA
    /// bundle), timeouts, user agent. Redirects are not followed: a signed request must
    /// not be replayed to another host. Returns the service's part of `cfg` with it.
    pub(crate) fn new<S>(
        cfg: ClientConfig<S>,
        region: String,
        service: &'static dyn Service,
    ) -> Result<(Transport, S)> {
        let tls = super::tls::client_config(cfg.ca_bundle.as_deref())?;
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(concat!("glacier-upload/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            // See `attempt`: with reqwest's blocking client this bounds the wait for the
            // headers and then each read of the body, not the whole exchange.
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| Error::Transport {
                what: format!(
                    "setting up the HTTP client for {}",
                    service.conventions().name
                ),
                source: Box::new(e),
            })?;
        let transport = Transport {
            http,
            service,
            region,
            credentials: cfg.credentials,
            retry: cfg.retry,
            timeout: cfg.timeout,
            min_rate: cfg.min_rate.max(1),
            clock: cfg.clock,
            jitter: Jitter::new(cfg.jitter_seed),
            log: cfg.log,
            limit: cfg.limit_rate,
        };
        Ok((transport, cfg.service))
    }

    /// The region requests are signed for.
    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// The minimum upload rate, bytes per second.
    pub(crate) fn min_rate(&self) -> u64 {
        self.min_rate
    }

    /// Where the credentials come from (never the credentials).
    pub(crate) fn credentials_source(&self) -> String {
        self.credentials.describe()
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(l) = &self.log {
            l(&line());
        }
    }

    /// Sends `call` to `loc`, retrying what is retryable, and returns the successful
    /// response (its body not yet read).
    pub(crate) fn send<T>(&self, call: &Call<'_, T>, loc: &Location) -> Result<Response> {
        self.send_with(call, loc, Ok)
    }

    /// Sends `call` to `loc` and reads the answer with `read`, retrying the pair: a body
    /// that breaks off in `read` ([`Failure::BrokenBody`]) is sent for again when the call
    /// may be repeated.
    pub(crate) fn send_with<T, R>(
        &self,
        call: &Call<'_, T>,
        loc: &Location,
        mut read: impl FnMut(Response) -> std::result::Result<R, Failure>,
    ) -> Result<R> {
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(call, loc).and_then(&mut read) {
                Ok(v) => return Ok(v),
                Err(f) => f,
            };
            let (err, retryable) = self.classify(call, failure);
            // A streamed body is gone once sent: its caller retries with a new one.
            let retryable = retryable && call.body.is_none_or(Payload::is_repeatable);
            if !retryable || attempt >= self.retry.max_attempts {
                if retryable && attempt > 1 {
                    self.log(|| format!("{}: giving up after {attempt} attempts", call.op));
                }
                return Err(err);
            }
            let delay = self.retry.delay(attempt, self.jitter.next());
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

    /// The error a failure is reported as, and whether it is worth another attempt.
    fn classify<T>(&self, call: &Call<'_, T>, failure: Failure) -> (Error, bool) {
        match failure {
            Failure::Service(e) => {
                // A 5xx may come after the service acted (Glacier's "Error Responses":
                // 500 "the service cannot complete the request" says nothing of what was
                // done): a call that creates something is not re-sent blindly; its
                // caller looks first, as for a lost answer. Throttling and 408 (body not
                // received) are safe.
                let r = self.service.is_retryable(&e) && (call.idempotent || !e.is_server_error());
                (Error::Service(e), r)
            }
            Failure::Transport(e) => {
                let kind = network_fault(&e);
                // A connection never made reached nothing: always safe to send again. A
                // refused certificate or a bad URL will not get better.
                let r = !e.is_builder()
                    && kind != NetworkFault::Certificate
                    && (call.idempotent || kind == NetworkFault::Connect);
                // A request with a body runs under a total deadline (see `attempt`):
                // name the setting a slow uplink needs.
                let deadline = if e.is_timeout() && call.body_len() > 0 {
                    format!(
                        " (an upload request may take {} plus 1 s per {} KiB sent; on a slower uplink set {MIN_UPLOAD_RATE_VAR} to fewer KiB/s)",
                        Setting::Timeout,
                        self.min_rate / 1024
                    )
                } else {
                    String::new()
                };
                let err = Error::Transport {
                    what: format!("{}{deadline}", call.what()),
                    source: Box::new(Fault {
                        kind,
                        error: Box::new(e),
                    }),
                };
                (err, r)
            }
            Failure::BrokenBody(e) => (e, call.idempotent),
            Failure::Other(e) => (e, false),
        }
    }

    /// One signed attempt.
    fn attempt<T>(
        &self,
        call: &Call<'_, T>,
        loc: &Location,
    ) -> std::result::Result<Response, Failure> {
        let now = (self.clock)();
        let query: Vec<(&str, &str)> = call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let headers = self.signed_headers(call, loc, &query, now)?;
        let query_string = sigv4::canonical_query(&query);
        let with_query = |base: &str| {
            if query.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{query_string}")
            }
        };
        let mut rb = self.http.request(call.method.clone(), with_query(&loc.url));
        // Timeouts (reqwest 0.13 blocking): the client-wide `timeout` set in `new` bounds
        // the wait for the headers and then *each* read of the response body, so a
        // body of any length arrives as long as it never goes silent for `timeout`. A
        // per-request timeout would instead be a deadline for the whole exchange, body
        // included; it is only set for a request that sends a body, where sending it
        // happens inside that first wait, and then only a small answer follows (or one
        // the call allows time for, `response_bytes`). reqwest's blocking client offers
        // no idle timeout for a request body (its `execute_request` bounds body and
        // answer by one deadline), so a body gets `timeout + n / min_rate`, `min_rate`
        // being a setting (MIN_UPLOAD_RATE_VAR).
        // Under --limit-rate a body may also be made to wait its share of the limit
        // (`RateLimit::wait_budget`); the deadline allows for that, and the paced body
        // never waits longer, so pacing never trips it.
        let body_len = call.body_len();
        let wait_budget = match &self.limit {
            Some(l) if body_len > 0 => l.wait_budget(body_len),
            _ => Duration::ZERO,
        };
        if body_len > 0 {
            let bytes = body_len.saturating_add(call.response_bytes);
            let deadline = self.timeout + Duration::from_secs(bytes / self.min_rate);
            rb = rb.timeout(deadline.saturating_add(wait_budget));
        }
        for (k, v) in &headers {
            rb = rb.header(k, v);
        }
        rb = match (call.body, &self.limit) {
            (Some(b), Some(l)) => rb
                .header("content-length", b.len())
                .body(b.paced_body(l, wait_budget)),
            (Some(b), None) => rb.header("content-length", b.len()).body(b.body()),
            (None, _) => rb.header("content-length", 0),
        };
        let started = Instant::now();
        self.log(|| {
            let target = with_query(&loc.path);
            format!("> {} {target} ({}, {body_len} bytes)", call.method, call.op)
        });
        let resp = rb.send().map_err(Failure::Transport)?;
        let status = resp.status().as_u16();
        self.log(|| {
            format!(
                "< {status} {} in {:.3}s [request ID {}]",
                call.op,
                started.elapsed().as_secs_f64(),
                self.request_id(resp.headers()).as_deref().unwrap_or("none")
            )
        });
        if call.ok.contains(&status) {
            return Ok(Response::new(resp, self.limit.as_ref()));
        }
        Err(Failure::Service(Box::new(
            self.service_error(call, resp, now),
        )))
    }

    /// The headers to send for `call`, signed at `now`: the service's fixed headers,
    /// the signer's `x-amz-*` headers, the call's own, and `authorization`. `host` is
    /// signed but not listed: reqwest sets it from the URL.
    fn signed_headers<T>(
        &self,
        call: &Call<'_, T>,
        loc: &Location,
        query: &[(&str, &str)],
        now: OffsetDateTime,
    ) -> std::result::Result<Vec<(String, String)>, Failure> {
        let creds = self.credentials.credentials().map_err(Failure::Other)?;
        let amz_date = sigv4::amz_date(now);
        let conventions = self.service.conventions();
        let settings = conventions.signing_settings;
        let payload_sha256 = call
            .body
            .map_or(sigv4::EMPTY_PAYLOAD_SHA256, |b| b.sha256());
        let mut headers: Vec<(&str, &str)> = vec![("host", loc.host.as_str())];
        headers.extend_from_slice(conventions.fixed_headers);
        headers.extend(sigv4::amz_headers(
            &settings,
            &amz_date,
            payload_sha256,
            creds.session_token(),
        ));
        headers.extend(call.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let req = sigv4::Request {
            method: call.method.as_str(),
            path: &loc.path,
            query,
            headers: &headers,
            payload_sha256,
        };
        let authorization = sigv4::sign_with(
            &req,
            &sigv4::SigningParams {
                access_key_id: &creds.access_key_id,
                secret_access_key: creds.secret_access_key(),
                amz_date: &amz_date,
                region: &self.region,
                service: conventions.signing_name,
                settings,
            },
        );
        let mut out: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| *k != "host")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.push(("authorization".into(), authorization));
        Ok(out)
    }

    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        self.service
            .conventions()
            .request_id_headers
            .iter()
            .find_map(|name| header_in(headers, name))
    }

    /// An error answer as a [`ServiceError`], with its request ID and hint.
    fn service_error<T>(
        &self,
        call: &Call<'_, T>,
        resp: reqwest::blocking::Response,
        now: OffsetDateTime,
    ) -> ServiceError {
        let status = resp.status().as_u16();
        let header_id = self.request_id(resp.headers());
        let date = header_in(resp.headers(), "date");
        // A body that breaks off leaves what arrived: the status still tells enough.
        let mut body = Vec::new();
        let _ =
            std::io::Read::read_to_end(&mut std::io::Read::take(resp, ERROR_BODY_LIMIT), &mut body);
        let parsed = self.service.error_body(status, &call.method, &body);
        let mut e = ServiceError {
            context: call.what(),
            status,
            code: parsed.code,
            message: parsed.message,
            request_id: header_id.or(parsed.request_id),
            hint: None,
        };
        e.hint = self.service_hint(&e, date.as_deref(), now);
        e
    }

    /// The hint the service gives `e`, written out.
    pub(crate) fn service_hint(
        &self,
        e: &ServiceError,
        date: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<String> {
        let hint = self.service.hint(e)?;
        Some(render_hint(
            hint,
            self.service.conventions().name,
            date,
            now,
            self.credentials.describe(),
        ))
    }
}

/// A response header as text, if present and visible ASCII.
pub(crate) fn header(resp: &Response, name: &str) -> Option<String> {
    header_in(resp.headers(), name)
}

fn header_in(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Reads an answer's body, at most `limit` bytes; a body that breaks off is a
/// [`Failure::BrokenBody`] naming `what`.
pub(crate) fn read_body(
    resp: Response,
    limit: u64,
    what: &str,
) -> std::result::Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(resp, limit), &mut body).map_err(|e| {
        Failure::BrokenBody(Error::Transport {
            what: format!("reading the answer of {what}"),
            source: Box::new(e),
        })
    })?;
    Ok(body)
}

/// What kind of failure a reqwest error is, from its kind and the TLS library's error
/// in its chain. A certificate failure happens while connecting, so it is looked for
/// first.
pub(crate) fn network_fault(e: &reqwest::Error) -> NetworkFault {
    if is_certificate_error(e) {
        NetworkFault::Certificate
    } else if e.is_connect() || e.is_builder() {
        NetworkFault::Connect
    } else {
        NetworkFault::NoAnswer
    }
}

/// True when rustls refused the server's certificate somewhere in `e`'s chain. rustls's
/// error travels inside an `io::Error`, whose `source()` skips it, so each I/O error's
/// inner error is looked at too.
fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let refused = |x: &(dyn std::error::Error + 'static)| {
        matches!(
            x.downcast_ref::<rustls::Error>(),
            Some(
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::UnsupportedNameType
            )
        )
    };
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        let inner = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|i| i as &(dyn std::error::Error + 'static));
        if refused(s) || inner.is_some_and(|i| refused(i) || is_certificate_error(i)) {
            return true;
        }
        src = s.source();
    }
    false
}
