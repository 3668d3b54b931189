//! The verifier's side: parsing an `Authorization` header back into its parts, strictly,
//! for the mock Glacier server (and anything else that checks a signature).

use super::{ALGORITHM, Scope};

/// The parts of an Authorization header, for verifying a request (the mock server uses
/// this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    /// The access key ID from `Credential=`.
    pub access_key_id: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The scope region.
    pub region: String,
    /// The scope service.
    pub service: String,
    /// The signed header names, in the order given (lowercase, as SigV4 requires).
    pub signed_headers: Vec<String>,
    /// The signature, 64 lowercase hex digits.
    pub signature: String,
}

impl ParsedAuthorization {
    /// The scope this header names, borrowed.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            date: &self.date,
            region: &self.region,
            service: &self.service,
        }
    }
}

/// Parses an `Authorization` header value of the form [`authorization`](super::authorization) produces.
///
/// Strict where a verifier needs it to be: the algorithm must be `AWS4-HMAC-SHA256`; each
/// of `Credential`, `SignedHeaders` and `Signature` must appear exactly once (in any
/// order, separated by `,` with optional spaces); the credential must have five
/// `/`-separated parts ending in `aws4_request` with an 8-digit date; signed header names
/// must be non-empty and lowercase; the signature must be 64 lowercase hex digits. The
/// error says what was wrong, never echoing the value (it carries a signature).
pub fn parse_authorization(value: &str) -> Result<ParsedAuthorization, String> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| format!("authorization does not start with {ALGORITHM}"))?;
    if !rest.starts_with(' ') {
        return Err(format!("authorization: expected a space after {ALGORITHM}"));
    }
    let mut credential = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(',') {
        let part = part.trim_matches(' ');
        let (key, val) = part
            .split_once('=')
            .ok_or_else(|| "authorization: a component has no '='".to_string())?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut sig,
            _ => return Err(format!("authorization: unknown component {key:?}")),
        };
        if slot.replace(val).is_some() {
            return Err(format!("authorization: {key} given twice"));
        }
    }
    let credential = credential.ok_or("authorization: no Credential")?;
    let signed = signed.ok_or("authorization: no SignedHeaders")?;
    let sig = sig.ok_or("authorization: no Signature")?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(
            "authorization: Credential must be AKID/date/region/service/aws4_request".to_string(),
        );
    };
    if terminator != "aws4_request" {
        return Err("authorization: Credential does not end in aws4_request".to_string());
    }
    if access_key_id.is_empty() || region.is_empty() || service.is_empty() {
        return Err("authorization: Credential has an empty part".to_string());
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err("authorization: Credential date is not YYYYMMDD".to_string());
    }

    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    if signed_headers
        .iter()
        .any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err("authorization: SignedHeaders has an empty or non-lowercase name".to_string());
    }

    if sig.len() != 64 || !sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("authorization: Signature is not 64 lowercase hex digits".to_string());
    }

    Ok(ParsedAuthorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: sig.to_string(),
    })
}
