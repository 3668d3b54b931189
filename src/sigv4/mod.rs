//! AWS Signature Version 4, pure: strings in, strings out.
//!
//! This module owns the SigV4 algorithm as AWS documents it ("Create a signed AWS API
//! request", <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>):
//! canonical request, string to sign, signing key, signature and the `Authorization`
//! header, plus the parser a verifier (our mock Glacier server) needs for that header. Each
//! step is its own function whose output is a string a test compares byte for byte with
//! AWS's published test suite (`tests/data/sigv4/`) and with the Glacier developer guide's
//! worked example.
//!
//! The steps live in files named after them, in the order they run: `canonical.rs` (URI,
//! query, headers, canonical request), `signing.rs` (scope, string to sign, signing key,
//! signature, header) and `parse.rs` (the verifier's parser); [`sign`] chains them. What
//! differs between services (S3's single path encoding, the payload header) is
//! `settings.rs`, passed to [`sign_with`]. They are re-exported here, so every public path
//! is `sigv4::NAME`.
//!
//! It must stay pure: no reqwest, no files, no environment, no clock. The time arrives as
//! an argument (an `x-amz-date` string or an [`time::OffsetDateTime`] for [`amz_date`]).
//! Credentials arrive as plain strings; nothing here stores or prints them.
//!
//! # What the caller provides
//!
//! [`Request::headers`] are exactly the headers to sign. The caller adds `host`,
//! `x-amz-date`, `x-amz-content-sha256` and, for temporary credentials,
//! `x-amz-security-token` *before* signing, so that all of them are signed.
//!
//! # How `path` is treated
//!
//! [`Request::path`] is the path as it goes on the wire. AWS services other than S3
//! normalize that path (RFC 3986 dot-segment removal, empty segments collapsed) and then
//! URI-encode each segment once more: the wire path `/a%20b` has the canonical form
//! `/a%2520b` ("each path segment must be URI-encoded twice (except for Amazon S3 which
//! only gets URI-encoded once)", create-signed-request.html). [`canonical_uri`] does exactly
//! that, so a verifier fed the raw request target computes what AWS computes. For Glacier
//! the HTTP client only sends paths made of unreserved characters and `/` (account ID,
//! vault name, archive/upload/job IDs are all `[A-Za-z0-9_.-]`), for which the canonical
//! form is the path itself. The public test suite writes its paths unencoded (`/example
//! space/`, `/ሴ`); passing those through [`canonical_uri`] encodes them once, which is what
//! the suite expects. S3 is the exception: with [`SigningSettings::S3`] the wire path is
//! signed as it is ([`canonical_uri_with`]).
//!
//! Query parameters are given decoded and are encoded here, once (not form encoding: a
//! space is `%20`, never `+`).

use sha2::{Digest, Sha256};

mod canonical;
mod parse;
mod settings;
mod signing;

pub use canonical::{
    canonical_headers, canonical_query, canonical_request, canonical_request_with, canonical_uri,
    canonical_uri_with, signed_headers, uri_encode,
};
pub use parse::{ParsedAuthorization, parse_authorization};
pub use settings::{
    PayloadChecksumKind, PercentEncodingMode, SigningSettings, UriPathNormalizationMode,
    amz_headers,
};
pub use signing::{authorization, credential_scope, signature, signing_key, string_to_sign};

/// The only signing algorithm this module speaks.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty payload, lowercase hex (every bodiless request signs this).
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A request as the signer sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, as sent (`"GET"`, `"PUT"`...).
    pub method: &'a str,
    /// The path as it goes on the wire (already percent-encoded where needed), e.g.
    /// `"/-/vaults/my-vault"`. See [`canonical_uri`] for what signing does with it.
    pub path: &'a str,
    /// Query parameters, NOT encoded, any order: `[("limit","10"), ("marker","a b")]`.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign, names in any case, raw values; duplicates allowed (joined with
    /// `,` in order).
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the payload.
    pub payload_sha256: &'a str,
}

/// The credential scope: which day, region and service a signature is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// `YYYYMMDD`, the date part of `x-amz-date`.
    pub date: &'a str,
    /// The AWS region, e.g. `"us-east-1"`.
    pub region: &'a str,
    /// The signing name of the service, `"glacier"` for Glacier.
    pub service: &'a str,
}

/// Lowercase hex SHA-256 of `data`: the payload hash a [`Request`] carries.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The `x-amz-date` form of `t`, in UTC: `"20150830T123600Z"`.
///
/// Years outside 0..=9999 are not representable in this format; they do not occur for a
/// real clock and are printed as `time` gives them.
pub fn amz_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Who signs, for what, when and how: everything [`sign_with`] needs beside the request.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    /// The access key ID (goes into the header).
    pub access_key_id: &'a str,
    /// The secret access key (only ever enters the signing key).
    pub secret_access_key: &'a str,
    /// The `x-amz-date` value (`YYYYMMDDTHHMMSSZ`, see [`amz_date`]).
    pub amz_date: &'a str,
    /// The region.
    pub region: &'a str,
    /// The signing name of the service (`glacier`, `s3`).
    pub service: &'a str,
    /// The service's signing rules.
    pub settings: SigningSettings,
}

/// All steps in one call under the default settings: the Authorization header value.
///
/// `amz_date` is the `x-amz-date` value (`YYYYMMDDTHHMMSSZ`, see [`amz_date`]); the scope
/// date is its first eight characters. The caller must also have put that same value into
/// `req.headers` as `x-amz-date`, or the server will compute another string to sign.
pub fn sign(
    req: &Request,
    access_key_id: &str,
    secret_access_key: &str,
    amz_date: &str,
    region: &str,
    service: &str,
) -> String {
    sign_with(
        req,
        &SigningParams {
            access_key_id,
            secret_access_key,
            amz_date,
            region,
            service,
            settings: SigningSettings::default(),
        },
    )
}

/// All steps in one call, under `params.settings`: the Authorization header value. The
/// same preconditions as [`sign`] hold for the headers.
pub fn sign_with(req: &Request, params: &SigningParams) -> String {
    let amz_date = params.amz_date;
    let scope = Scope {
        date: amz_date.get(..8).unwrap_or(amz_date),
        region: params.region,
        service: params.service,
    };
    let creq = canonical_request_with(req, &params.settings);
    let sts = string_to_sign(amz_date, &scope, &creq);
    let sig = signature(&signing_key(params.secret_access_key, &scope), &sts);
    authorization(
        params.access_key_id,
        &scope,
        &signed_headers(req.headers),
        &sig,
    )
}

#[cfg(test)]
mod suite;
#[cfg(test)]
mod tests;
