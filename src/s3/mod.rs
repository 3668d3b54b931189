//! The typed S3 client the migration of a vault to S3 needs: a set of operations over the
//! shared AWS transport.
//!
//! [`Client`] holds the crate's AWS transport (`aws`) set up for S3 (`service.rs`: single path
//! encoding in signatures, XML error bodies, `x-amz-request-id`, hints) and the endpoint;
//! `objects.rs` adds one method per operation, `writer.rs` the buffered multipart upload,
//! `stream.rs` the streamed one (parts straight from checked ranges, `chunked.rs` their
//! `aws-chunked` bodies),
//! `endpoint.rs` the endpoint and addressing rules, `metadata.rs` the Glacier facts stored
//! on each object. Signing, retries, timeouts, TLS and the request log are the
//! transport's. This module knows S3's API; it never reads files or argv, reads the
//! environment only through [`crate::config::Env`], and never prints.

pub mod chunked;
mod endpoint;
mod metadata;
mod objects;
mod service;
mod stream;
mod writer;

pub use crate::aws::Location;
pub use chunked::{Hashing, PartSource};
pub use endpoint::{S3Endpoint, check_bucket_name, check_key, location, resolve_endpoint};
pub use metadata::{ArchiveMetadata, MAX_METADATA_BYTES, percent_decode, percent_encode};
pub use objects::{
    CompletedPart, CompletedUpload, MultipartUploadSummary, ObjectHead, ObjectOptions, PutResult,
    multipart_checksum,
};
pub use service::parse_error;
pub use stream::{
    MAX_STREAMED_OBJECT, MAX_STREAMED_PART, PART_STREAM_MEMORY, RangeSource, StreamOptions,
    parts_in_flight, streamed_part_size, upload_streamed,
};
pub use writer::{
    MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE, MultipartWriter, ObjectSpec, UploadOptions, Uploaded,
    Verified, part_size_for,
};

use std::str::FromStr;

use crate::aws::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::aws::{self, Failure, Payload, Transport};
use crate::credentials::Provider;
use crate::error::{Error, Result, Setting};

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
                    "invalid {} '{s}': expected one of {}",
                    Setting::StorageClass,
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
    payload: Payload,
    sha256: [u8; 32],
}

impl Body {
    /// Hashes `data`.
    pub fn new(data: bytes::Bytes) -> Body {
        let sha256: [u8; 32] = Sha256::digest(&data).into();
        Body {
            payload: Payload::new(data, hex::encode(sha256)),
            sha256,
        }
    }

    /// The body length.
    pub fn len(&self) -> u64 {
        self.payload.len()
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
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

impl AsRef<Payload> for Body {
    fn as_ref(&self) -> &Payload {
        &self.payload
    }
}

/// Where S3 is: the service's part of a [`ClientConfig`].
pub struct Destination {
    /// The region requests are signed for.
    pub region: String,
    /// Where requests go.
    pub endpoint: S3Endpoint,
}

/// Everything an S3 [`Client`] is built from: [`Destination`] and the transport settings
/// every AWS client shares.
pub type ClientConfig = aws::ClientConfig<Destination>;

impl ClientConfig {
    /// Defaults for everything but the region, endpoint and credentials.
    pub fn new(region: String, endpoint: S3Endpoint, credentials: Box<dyn Provider>) -> Self {
        ClientConfig::with_service(Destination { region, endpoint }, credentials)
    }
}

/// An S3 client: cheap to share between threads by reference or `Arc`.
pub struct Client {
    transport: Transport,
    endpoint: S3Endpoint,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("s3::Client")
            .field("endpoint", &self.endpoint.url)
            .field("region", &self.transport.region())
            .field("credentials", &self.transport.credentials_source())
            .finish()
    }
}

/// Where an S3 request goes: a bucket, and a key unless the request is about the bucket.
pub(crate) struct Target<'a> {
    pub bucket: &'a str,
    pub key: Option<&'a str>,
}

/// One request to send.
pub(crate) type Call<'a> = aws::Call<'a, Target<'a>>;

impl<'a> Call<'a> {
    /// A call with no query, headers or body, expecting `200`.
    pub fn new(op: &'static str, method: Method, bucket: &'a str, key: Option<&'a str>) -> Self {
        let context = format!("s3://{bucket}/{}", key.unwrap_or(""));
        Call::with_target(op, context, method, Target { bucket, key })
    }
}

impl Client {
    /// Builds a client: TLS roots (system store, else bundled; plus the CA bundle),
    /// timeouts, user agent.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let region = cfg.region.clone();
        let (transport, destination) = Transport::new(cfg, region, &service::S3)?;
        Ok(Client {
            transport,
            endpoint: destination.endpoint,
        })
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &S3Endpoint {
        &self.endpoint
    }

    /// Sends `call` with retries and returns the successful response (body unread).
    pub(crate) fn send(&self, call: &Call<'_>) -> Result<Response> {
        self.send_with(call, Ok)
    }

    /// Sends `call` and reads the answer with `read`, retrying the pair. Every operation
    /// here may be repeated: a repeated PUT or UploadPart writes the same bytes again, a
    /// repeated Complete or Abort of an upload already finished is answered
    /// (NoSuchUpload) and handled by the caller.
    pub(crate) fn send_with<R>(
        &self,
        call: &Call<'_>,
        read: impl FnMut(Response) -> std::result::Result<R, Failure>,
    ) -> Result<R> {
        let loc = location(&self.endpoint, call.target.bucket, call.target.key);
        self.transport.send_with(call, &loc, read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            e.to_string().contains(&Setting::StorageClass.to_string()),
            "{e}"
        );
    }
}
