//! The answer every service reads: reqwest's response with its body paced by the run's
//! [`RateLimit`](super::RateLimit), when there is one, so that downloads keep to
//! `--limit-rate` whichever service and command read them.

use std::io::Read;
use std::sync::Arc;

use super::rate::{Paced, RateLimit};

/// A successful answer, its body not yet read; reading it is paced by the run's limit.
pub struct Response {
    body: Body,
}

enum Body {
    Plain(reqwest::blocking::Response),
    Paced(Paced<reqwest::blocking::Response>),
}

impl Response {
    /// Wraps `inner`, paced by `limit` when given.
    pub(crate) fn new(inner: reqwest::blocking::Response, limit: Option<&Arc<RateLimit>>) -> Self {
        let body = match limit {
            Some(l) => Body::Paced(Paced::new(inner, l)),
            None => Body::Plain(inner),
        };
        Response { body }
    }

    fn inner(&self) -> &reqwest::blocking::Response {
        match &self.body {
            Body::Plain(r) => r,
            Body::Paced(p) => p.get_ref(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> reqwest::StatusCode {
        self.inner().status()
    }

    /// The response headers.
    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        self.inner().headers()
    }

    /// The body length, when the answer said it.
    pub fn content_length(&self) -> Option<u64> {
        self.inner().content_length()
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.body {
            Body::Plain(r) => r.read(buf),
            Body::Paced(p) => p.read(buf),
        }
    }
}
