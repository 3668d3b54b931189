//! Step 1: the canonical request (create-signed-request.html, "Step 1: Create a canonical
//! request"): URI encoding, the canonical URI, query and headers, and the request they
//! make up.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Request;
use super::settings::{PercentEncodingMode, SigningSettings, UriPathNormalizationMode};

/// SigV4 URI encoding: every byte of `s` except the unreserved `A-Za-z0-9-._~` becomes
/// `%XX` (uppercase hex); `/` is kept as is unless `encode_slash`.
///
/// This is the `UriEncode` of create-signed-request.html, applied to UTF-8 bytes. It is not
/// form encoding (space is `%20`, not `+`) and it encodes `%` itself, so encoding an
/// already-encoded string encodes it again.
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && !encode_slash);
        if keep {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The canonical URI of a wire path, as AWS services other than S3 compute it.
///
/// Steps, in order:
/// 1. Normalize: split on `/`; drop empty segments (so `//` counts as `/`); drop `.`;
///    let `..` remove the previous segment (never climbing above the root). A path that
///    ended in `/`, `/.` or `/..` keeps a trailing `/` (RFC 3986 section 5.2.4 semantics,
///    matching the suite's `get-slashes`, `get-relative`, `get-slash-dot-slash` cases).
///    Only literal `.`/`..` segments count; `%2E` is an ordinary segment.
/// 2. URI-encode every remaining segment once with [`uri_encode`] (slash encoded), so
///    `%` becomes `%25`: this is AWS's "encode twice" for a path that was already
///    encoded once on the wire.
/// 3. Join with `/` behind a leading `/`. The empty path is `/`.
///
/// Stability: for a path of unreserved characters and `/` that is already normalized
/// (leading `/`, no empty, `.` or `..` segments), the result is the path itself, and
/// `canonical_uri(canonical_uri(p)) == canonical_uri(p)` for every such `p`. A path
/// containing `%` or any other reserved byte is deliberately not a fixed point: each pass
/// encodes once more, exactly like AWS applying its encoding to what it received.
pub fn canonical_uri(path: &str) -> String {
    canonical_uri_with(path, &SigningSettings::default())
}

/// The canonical URI of a wire path under `settings`: [`canonical_uri`] for the default
/// settings; with [`UriPathNormalizationMode::Disabled`] the segments are kept as given
/// (empty, `.` and `..` included), and with [`PercentEncodingMode::Single`] they are not
/// encoded again, so S3's settings sign the wire path itself (the empty path as `/`).
pub fn canonical_uri_with(path: &str, settings: &SigningSettings) -> String {
    let encode = |segment: &str| match settings.percent_encoding_mode {
        PercentEncodingMode::Double => uri_encode(segment, true),
        PercentEncodingMode::Single => segment.to_string(),
    };
    if settings.uri_path_normalization_mode == UriPathNormalizationMode::Disabled {
        let path = path.strip_prefix('/').unwrap_or(path);
        let segments: Vec<String> = path.split('/').map(encode).collect();
        return format!("/{}", segments.join("/"));
    }
    let mut segments: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    for segment in path.split('/') {
        match segment {
            "" | "." => trailing_slash = true,
            ".." => {
                segments.pop();
                trailing_slash = true;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(&encode(segment));
    }
    if segments.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// The canonical query string: each key and value [`uri_encode`]d (slash too), pairs
/// sorted by encoded key, then by encoded value (byte order), joined as `k=v` with `&`.
/// A parameter without a value is `k=`. No parameters give the empty string.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    // Sort the encoded forms, as create-signed-request.html says: the order differs from
    // the raw one whenever an encoded byte (now starting with '%', 0x25) meets a kept
    // character above 0x25, e.g. raw ':' > '0' but "%3A" < "0".
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Whitespace for header-value folding: SP, HT and the line breaks an obsolete folded
/// header value may still contain.
fn is_header_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// One header value in canonical form: trimmed, every inner run of whitespace folded to a
/// single space ("Trimall", create-signed-request.html). Quotes get no special treatment:
/// the suite's `get-header-value-trim` folds inside them too.
fn fold_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split(is_header_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Headers grouped by lowercase (trimmed) name in byte order, values folded, in the order
/// given.
fn grouped_headers(headers: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        map.entry(name.trim().to_ascii_lowercase())
            .or_default()
            .push(fold_value(value));
    }
    map
}

/// The canonical headers block: one `name:value\n` line per distinct header, names
/// lowercased and sorted, values trimmed with inner whitespace runs folded to one space,
/// repeated headers joined with `,` in the order given. Ends with `\n` (the canonical
/// request then adds its own separator, giving the blank line).
pub fn canonical_headers(headers: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, values) in grouped_headers(headers) {
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The signed-headers list: distinct lowercase names, sorted, joined with `;`
/// (`"host;x-amz-date"`).
pub fn signed_headers(headers: &[(&str, &str)]) -> String {
    grouped_headers(headers)
        .into_keys()
        .collect::<Vec<_>>()
        .join(";")
}

/// The canonical request: method, canonical URI, canonical query, canonical headers,
/// signed headers and payload hash, separated by `\n`; the path under the default
/// settings (see [`canonical_request_with`]).
pub fn canonical_request(req: &Request) -> String {
    canonical_request_with(req, &SigningSettings::default())
}

/// [`canonical_request`] with the path treated as `settings` say ([`canonical_uri_with`]).
pub fn canonical_request_with(req: &Request, settings: &SigningSettings) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri_with(req.path, settings),
        canonical_query(req.query),
        canonical_headers(req.headers),
        signed_headers(req.headers),
        req.payload_sha256
    )
}
