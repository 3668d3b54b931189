//! Steps 2 to 4 (create-signed-request.html): the credential scope and string to sign,
//! the signing key derived from the secret, the signature, and the `Authorization` header
//! that carries it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{ALGORITHM, Scope, sha256_hex};

/// The credential scope: `"20150830/us-east-1/service/aws4_request"`.
pub fn credential_scope(scope: &Scope) -> String {
    format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    )
}

/// The string to sign: algorithm, `x-amz-date`, credential scope and the hex SHA-256 of
/// the canonical request, separated by `\n`.
pub fn string_to_sign(amz_date: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{}\n{}",
        credential_scope(scope),
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key: the HMAC-SHA256 chain `"AWS4" + secret` → date → region → service →
/// `"aws4_request"`.
pub fn signing_key(secret_access_key: &str, scope: &Scope) -> [u8; 32] {
    let k_secret = format!("AWS4{secret_access_key}");
    let k_date = hmac_sha256(k_secret.as_bytes(), scope.date.as_bytes());
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_service = hmac_sha256(&k_region, scope.service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The signature: lowercase hex HMAC-SHA256 of the string to sign under the signing key.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value:
/// `AWS4-HMAC-SHA256 Credential=AKID/scope, SignedHeaders=..., Signature=...`.
pub fn authorization(
    access_key_id: &str,
    scope: &Scope,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={signed_headers}, Signature={signature}",
        credential_scope(scope)
    )
}
