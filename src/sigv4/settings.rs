//! How a service wants its requests signed, as aws-sigv4's `SigningSettings` describes it:
//! how the path is encoded and normalized in the canonical request, and whether the
//! payload hash travels in `x-amz-content-sha256`. S3 differs from every other service in
//! the first two ("Create a canonical request", create-signed-request.html: "Each path
//! segment must be URI-encoded twice (except for Amazon S3 which only gets URI-encoded
//! once)", and "Do not normalize URI paths for requests to Amazon S3").

/// How the wire path becomes the canonical URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentEncodingMode {
    /// Encode each segment of the wire path once more (every service but S3): the wire
    /// path `/a%20b` is signed as `/a%2520b`.
    Double,
    /// Sign the wire path as it is, already encoded once (S3): `/a%20b` stays `/a%20b`.
    Single,
}

/// Whether `.`, `..` and empty path segments are resolved before signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriPathNormalizationMode {
    /// Resolve them (RFC 3986 section 5.2.4), as every service but S3 does.
    Enabled,
    /// Sign the path segments as given (S3, where `a//b` and `a/./b` are other keys).
    Disabled,
}

/// Whether the payload hash is sent (and signed) as `x-amz-content-sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadChecksumKind {
    /// Add `x-amz-content-sha256` (required by S3, and by Glacier for uploads).
    XAmzSha256,
    /// No such header; the hash only enters the canonical request.
    NoHeader,
}

/// The per-service choices of the SigV4 algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningSettings {
    /// Path encoding.
    pub percent_encoding_mode: PercentEncodingMode,
    /// Path normalization.
    pub uri_path_normalization_mode: UriPathNormalizationMode,
    /// Whether the payload hash is a header.
    pub payload_checksum_kind: PayloadChecksumKind,
}

impl Default for SigningSettings {
    /// What every service but S3 expects (and aws-sigv4's default): double encoding,
    /// normalized paths, no payload header.
    fn default() -> Self {
        SigningSettings {
            percent_encoding_mode: PercentEncodingMode::Double,
            uri_path_normalization_mode: UriPathNormalizationMode::Enabled,
            payload_checksum_kind: PayloadChecksumKind::NoHeader,
        }
    }
}

impl SigningSettings {
    /// S3's rules: the path signed as sent (encoded once, not normalized) and the payload
    /// hash in `x-amz-content-sha256` ("Common Request Headers", S3 API Reference: the
    /// header is required for SigV4-signed requests).
    pub const S3: SigningSettings = SigningSettings {
        percent_encoding_mode: PercentEncodingMode::Single,
        uri_path_normalization_mode: UriPathNormalizationMode::Disabled,
        payload_checksum_kind: PayloadChecksumKind::XAmzSha256,
    };

    /// Glacier's: the default path rules, and `x-amz-content-sha256` on every request
    /// (Glacier requires it for uploads, "Computing Checksums", and accepts it on all).
    pub const GLACIER: SigningSettings = SigningSettings {
        percent_encoding_mode: PercentEncodingMode::Double,
        uri_path_normalization_mode: UriPathNormalizationMode::Enabled,
        payload_checksum_kind: PayloadChecksumKind::XAmzSha256,
    };
}

/// The `x-amz-*` headers the signer needs sent and signed, in this order: `x-amz-date`,
/// `x-amz-content-sha256` when the settings ask for it, and `x-amz-security-token` for
/// temporary credentials. The caller adds them (and `host`) to the request's headers
/// before signing.
pub fn amz_headers<'a>(
    settings: &SigningSettings,
    amz_date: &'a str,
    payload_sha256: &'a str,
    session_token: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut out = vec![("x-amz-date", amz_date)];
    if settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256 {
        out.push(("x-amz-content-sha256", payload_sha256));
    }
    if let Some(token) = session_token {
        out.push(("x-amz-security-token", token));
    }
    out
}
