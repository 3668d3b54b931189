//! Glacier's side of the send path: where a call goes (`/{accountId}/{path}` on the
//! configured endpoint), and reading Glacier's answers (JSON bodies, tree hash headers).
//! Signing, retries and timeouts are the shared transport's ([`crate::aws`]).

use crate::aws::Response;

use super::{Call, Client};
use crate::aws::{Failure, Location, read_body};
use crate::error::{Error, Result};
use crate::treehash::TreeHash;

pub(crate) use crate::aws::header;

/// The most of a JSON answer that is read: a page of 1,000 jobs or uploads is well under.
const JSON_BODY_LIMIT: u64 = 64 << 20;

impl Client {
    /// Where `call` goes.
    fn location(&self, call: &Call<'_>) -> Location {
        let path = format!("/{}/{}", self.resolved.account_id, call.target.0);
        Location {
            url: format!("{}{path}", self.resolved.endpoint.url),
            host: self.resolved.endpoint.host.clone(),
            path,
        }
    }

    /// Sends `call`, retrying what is retryable, and returns the successful response
    /// (its body not yet read).
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response> {
        self.transport.send(call, &self.location(call))
    }

    /// Sends `call` and reads its JSON answer into `T`; an answer that breaks off is sent
    /// for again when the call may be repeated.
    pub(crate) fn send_json<T: serde::de::DeserializeOwned>(&self, call: &Call<'_>) -> Result<T> {
        self.transport
            .send_with(call, &self.location(call), |resp| json(resp, call.op))
    }
}

/// Did a request fail in a way that leaves open whether Glacier acted on it? See
/// [`Error::outcome_unknown`].
pub fn outcome_unknown(e: &Error) -> bool {
    e.outcome_unknown()
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

fn json<T: serde::de::DeserializeOwned>(
    resp: Response,
    what: &str,
) -> std::result::Result<T, Failure> {
    let bytes = read_body(resp, JSON_BODY_LIMIT, what)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Failure::Other(Error::Transport {
            what: format!("{what}: unexpected response body"),
            source: Box::new(e),
        })
    })
}

/// Reads a JSON response body into `T`.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(resp: Response, what: &str) -> Result<T> {
    json(resp, what).map_err(|f| match f {
        Failure::BrokenBody(e) | Failure::Other(e) => e,
        // `json` fails in no other way.
        Failure::Service(e) => Error::Service(e),
        Failure::Transport(e) => Error::Transport {
            what: format!("reading the response of {what}"),
            source: Box::new(e),
        },
    })
}
