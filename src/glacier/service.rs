//! Glacier's wire conventions for the shared transport ([`crate::aws::Service`]): the
//! version header, `x-amzn-RequestId`, JSON error bodies (`{"code", "message", "type"}`,
//! "Error Responses" in the Glacier Developer Guide), and one line of advice for
//! well-known errors: a skewed clock, bad credentials, a closed account, refused
//! retrievals. Hints speak of Glacier's terms (tiers, policies), not of any command-line
//! flag: the CLI owns those names.

use reqwest::Method;

use super::API_VERSION;
use crate::aws::{Conventions, ErrorBody, Hint, Service};
use crate::error::ServiceError;
use crate::sigv4::SigningSettings;

/// Glacier, as the transport sees it.
pub(super) struct Glacier;

static CONVENTIONS: Conventions = Conventions {
    name: "Glacier",
    signing_name: "glacier",
    signing_settings: SigningSettings::GLACIER,
    fixed_headers: &[("x-amz-glacier-version", API_VERSION)],
    request_id_headers: &["x-amzn-requestid"],
};

impl Service for Glacier {
    fn conventions(&self) -> &'static Conventions {
        &CONVENTIONS
    }

    fn error_body(&self, _status: u16, _method: &Method, body: &[u8]) -> ErrorBody {
        #[derive(serde::Deserialize, Default)]
        struct Json {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        let parsed: Json = serde_json::from_slice(body).unwrap_or_default();
        ErrorBody {
            code: parsed.code,
            message: parsed.message,
            request_id: None,
        }
    }

    fn hint(&self, e: &ServiceError) -> Option<Hint> {
        hint(e)
    }
}

/// The advice for a well-known Glacier error.
fn hint(e: &ServiceError) -> Option<Hint> {
    let msg = e.message.to_ascii_lowercase();
    match e.code.as_str() {
        "InvalidSignatureException"
            if msg.contains("signature expired") || msg.contains("not yet current") =>
        {
            Some(Hint::ClockSkew)
        }
        "InvalidSignatureException"
        | "UnrecognizedClientException"
        | "AccessDeniedException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException" => Some(Hint::Credentials),
        "NoLongerSupportedException" => Some(Hint::Text(
            "this AWS account cannot use Glacier vaults (closed to new accounts since 2025-12-15)",
        )),
        "InsufficientCapacityException" => Some(Hint::Text(
            "Expedited retrieval capacity is not available now; retry later or use the Standard tier",
        )),
        "PolicyEnforcedException" => Some(Hint::Text(
            "the account's data retrieval policy refused this retrieval",
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, message: &str) -> ServiceError {
        ServiceError {
            context: "x".into(),
            status: 400,
            code: code.into(),
            message: message.into(),
            request_id: None,
            hint: None,
        }
    }

    #[test]
    fn an_expired_signature_is_a_clock_problem_other_refusals_are_credentials() {
        let expired = error(
            "InvalidSignatureException",
            "Signature expired: 20261126T110000Z is now earlier than ...",
        );
        assert_eq!(hint(&expired), Some(Hint::ClockSkew));
        let bad = error(
            "InvalidSignatureException",
            "The request signature we calculated",
        );
        assert_eq!(hint(&bad), Some(Hint::Credentials));
    }

    #[test]
    fn hints_name_no_command_line_flag() {
        for code in [
            "InsufficientCapacityException",
            "PolicyEnforcedException",
            "NoLongerSupportedException",
        ] {
            match hint(&error(code, "")) {
                Some(Hint::Text(h)) => assert!(!h.contains("--"), "{code}: {h}"),
                other => panic!("{code}: {other:?}"),
            }
        }
        assert_eq!(
            hint(&error("AccessDeniedException", "")),
            Some(Hint::Credentials)
        );
    }

    #[test]
    fn error_bodies_are_json() {
        let b = Glacier.error_body(
            404,
            &Method::GET,
            br#"{"code":"ResourceNotFoundException","message":"Vault not found","type":"Client"}"#,
        );
        assert_eq!(b.code, "ResourceNotFoundException");
        assert_eq!(b.message, "Vault not found");
        assert_eq!(
            Glacier.error_body(500, &Method::GET, b"<html>"),
            ErrorBody::default()
        );
    }
}
