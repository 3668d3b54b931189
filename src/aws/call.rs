//! One request to send, as a service module describes it: the operation, what it
//! concerns, where it goes (`T`, the service's own target: a Glacier path, an S3 bucket
//! and key), query, headers, body, and what counts as success.

use reqwest::Method;

use super::Payload;

/// One request to send.
pub(crate) struct Call<'a, T> {
    /// The operation name, for logs and errors (`UploadMultipartPart`).
    pub op: &'static str,
    /// What it concerns, for errors: `vault 'photos'`, `s3://bucket/key`.
    pub context: String,
    /// Where it goes, in the service's terms; the service turns it into a
    /// [`Location`](super::Location).
    pub target: T,
    /// The HTTP method.
    pub method: Method,
    /// Query parameters, not encoded.
    pub query: Vec<(&'static str, String)>,
    /// Headers beyond the ones the transport adds; all are signed and sent as they are.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<&'a Payload>,
    /// Statuses that count as success.
    pub ok: &'a [u16],
    /// False for a request whose repetition could create something twice
    /// (UploadArchive, InitiateJob): a transport error after the request may have reached
    /// the service, or a 5xx, is then reported instead of retried.
    pub idempotent: bool,
    /// Bytes of answer to allow time for, beyond the silence bound, in a request with a
    /// body (S3's CompleteMultipartUpload keeps the connection open while it works).
    pub response_bytes: u64,
}

impl<'a, T> Call<'a, T> {
    /// A call with no query, headers or body, expecting `200`.
    pub fn with_target(op: &'static str, context: String, method: Method, target: T) -> Self {
        Call {
            op,
            context,
            target,
            method,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            ok: &[200],
            idempotent: true,
            response_bytes: 0,
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
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body<B: AsRef<Payload> + ?Sized>(mut self, body: &'a B) -> Self {
        self.body = Some(body.as_ref());
        self
    }

    /// The operation and what it concerns, as errors start: `PutObject on s3://b/k`.
    pub fn what(&self) -> String {
        format!("{} on {}", self.op, self.context)
    }

    /// The body's length (0 without one).
    pub fn body_len(&self) -> u64 {
        self.body.map_or(0, Payload::len)
    }
}
