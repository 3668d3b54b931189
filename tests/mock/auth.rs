//! The checks every request passes before any operation runs: the SigV4 signature
//! (recomputed with `glacier_upload::sigv4::sign` over exactly what was received), the
//! credential scope, the clock window, the session token and the Glacier version header.
//! The key is [`ACCESS_KEY`] or one of the config's extra (temporary) keys.
//! Messages follow what AWS sends ("Signing AWS API requests", "Error Responses").

use time::{Duration, OffsetDateTime};

use glacier_upload::sigv4;

use super::dates::{amz_date, parse_amz_date};
use super::error::ApiError;
use super::http::Head;
use super::{ACCESS_KEY, MockConfig, REGION, SECRET_KEY};

/// How far `x-amz-date` may be from the server's clock.
const WINDOW: Duration = Duration::minutes(15);

/// The service name in the credential scope.
const SERVICE: &str = "glacier";

fn incomplete(msg: impl Into<String>) -> ApiError {
    ApiError::new(400, "IncompleteSignatureException", msg)
}

fn unrecognized() -> ApiError {
    ApiError::new(
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

/// Verifies the request head. `now` is the mock's clock. `body_sha256` is the hex
/// SHA-256 of the body when the whole body was read before the check (every operation
/// but the two uploads, whose bodies stream after it).
///
/// `x-amz-content-sha256` is required only on UploadArchive and UploadMultipartPart
/// (Glacier Developer Guide, "Common Request Headers": "Required: Conditional. Required
/// for Upload Archive and Upload Part"); elsewhere it is optional and, when absent, the
/// signature covers the hash of the body as received. When present it must be signed
/// (SigV4, "Create a canonical request": every `x-amz-*` header sent is signed) and
/// must match the body.
pub fn check(
    head: &Head,
    cfg: &MockConfig,
    now: OffsetDateTime,
    body_sha256: Option<&str>,
) -> Result<(), ApiError> {
    let Some(auth) = head.header("authorization") else {
        return Err(ApiError::new(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if head.count("authorization") != 1 {
        return Err(incomplete("More than one Authorization header"));
    }
    let parsed = sigv4::parse_authorization(auth).map_err(|e| {
        incomplete(format!(
            "Authorization header is not a valid AWS4-HMAC-SHA256 header ({e}): {auth}"
        ))
    })?;
    let Some(x_date) = head.header("x-amz-date") else {
        return Err(incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    let Some(when) = parse_amz_date(x_date) else {
        return Err(incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{x_date}'."
        )));
    };
    let (secret, session_token) = if parsed.access_key_id == ACCESS_KEY {
        (SECRET_KEY.to_string(), cfg.session_token.clone())
    } else {
        let extra = cfg.extra_keys.as_ref().and_then(|keys| {
            let keys = keys.lock().unwrap_or_else(|p| p.into_inner());
            keys.iter()
                .find(|(id, _, _)| *id == parsed.access_key_id)
                .map(|(_, secret, token)| (secret.clone(), Some(token.clone())))
        });
        extra.ok_or_else(unrecognized)?
    };
    match (&session_token, head.header("x-amz-security-token")) {
        (None, None) => {}
        (Some(want), Some(got)) if same_bytes(want.as_bytes(), got.as_bytes()) => {}
        _ => return Err(unrecognized()),
    }
    if parsed.date != x_date[..8] {
        return Err(ApiError::signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            parsed.date,
            &x_date[..8],
            x_date
        )));
    }
    if parsed.region != REGION {
        return Err(ApiError::signature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            parsed.region
        )));
    }
    if parsed.service != SERVICE {
        return Err(ApiError::signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}'. "
        )));
    }
    if when < now - WINDOW {
        return Err(ApiError::signature(format!(
            "Signature expired: {x_date} is now earlier than {} ({} - 15 min.)",
            amz_date(now - WINDOW),
            amz_date(now)
        )));
    }
    if when > now + WINDOW {
        return Err(ApiError::signature(format!(
            "Signature not yet current: {x_date} is still later than {} ({} + 15 min.)",
            amz_date(now + WINDOW),
            amz_date(now)
        )));
    }
    check_signed_headers(head, &parsed.signed_headers, session_token.is_some())?;
    let payload = match (head.header("x-amz-content-sha256"), body_sha256) {
        (None, None) => {
            return Err(ApiError::missing(
                "Required header missing: x-amz-content-sha256",
            ));
        }
        (None, Some(computed)) => computed,
        (Some(claimed), computed) => {
            if claimed.len() != 64 || !claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ApiError::invalid(format!(
                    "x-amz-content-sha256 must be the hex SHA-256 of the payload, got '{claimed}'"
                )));
            }
            if let Some(got) = computed {
                if !claimed.eq_ignore_ascii_case(got) {
                    return Err(ApiError::invalid(format!(
                        "The value passed in as x-amz-content-sha256 does not match the computed payload hash. Computed digest: {got} expected hash: {claimed}"
                    )));
                }
            }
            claimed
        }
    };

    // Recompute over exactly what arrived: the signed headers' values as received, in
    // order (duplicates included), the raw path and the decoded query.
    let headers: Vec<(&str, &str)> = head
        .headers
        .iter()
        .filter(|(k, _)| {
            parsed
                .signed_headers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let query: Vec<(&str, &str)> = head
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let req = sigv4::Request {
        method: &head.method,
        path: &head.path,
        query: &query,
        headers: &headers,
        payload_sha256: payload,
    };
    let expected = sigv4::sign(
        &req,
        &parsed.access_key_id,
        &secret,
        x_date,
        REGION,
        SERVICE,
    );
    let expected = sigv4::parse_authorization(&expected)
        .map_err(|e| ApiError::internal(format!("own Authorization unparsable: {e}")))?;
    if !same_bytes(expected.signature.as_bytes(), parsed.signature.as_bytes()) {
        return Err(ApiError::signature(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details.",
        ));
    }

    match head.header("x-amz-glacier-version") {
        None => Err(ApiError::missing("Required parameter missing: API version")),
        Some("2012-06-01") => Ok(()),
        Some(v) => Err(ApiError::invalid(format!("Invalid API version: {v}"))),
    }
}

/// SignedHeaders must be lowercase, sorted, without repeats, name headers that are
/// present, and cover `host`, `x-amz-date` and every other `x-amz-*` header that SigV4
/// requires signed when sent (`x-amz-content-sha256`, the session token).
fn check_signed_headers(head: &Head, signed: &[String], token: bool) -> Result<(), ApiError> {
    for pair in signed.windows(2) {
        if pair[0] >= pair[1] {
            return Err(ApiError::signature(format!(
                "SignedHeaders must be sorted and unique: '{}' before '{}'",
                pair[0], pair[1]
            )));
        }
    }
    for name in signed {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::signature(format!(
                "SignedHeaders must be lowercase: '{name}'"
            )));
        }
        if head.header(name).is_none() {
            return Err(ApiError::signature(format!(
                "Header '{name}' is in SignedHeaders but not in the request"
            )));
        }
    }
    let mut required = vec!["host", "x-amz-date"];
    if head.header("x-amz-content-sha256").is_some() {
        required.push("x-amz-content-sha256");
    }
    if token {
        required.push("x-amz-security-token");
    }
    for name in required {
        if !signed.iter().any(|s| s == name) {
            return Err(ApiError::signature(format!(
                "'{name}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    Ok(())
}

/// Constant-time-ish comparison (no early exit on the first difference).
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
