//! S3's wire conventions for the shared transport ([`crate::aws::Service`]): the path
//! signed as sent, `x-amz-request-id`, XML error bodies ("Error responses" in the S3 API
//! Reference), the error codes worth a retry that can come without a telling status, and
//! advice for well-known errors.

use reqwest::Method;

use crate::aws::{Conventions, ErrorBody, Hint, Service};
use crate::error::ServiceError;
use crate::sigv4::SigningSettings;

/// S3, as the transport sees it.
pub(super) struct S3;

/// S3 names its request ID `x-amz-request-id` (other services and some S3-compatible
/// servers use `x-amzn-RequestId`); it needs no header beyond the signer's.
static CONVENTIONS: Conventions = Conventions {
    name: "S3",
    signing_name: "s3",
    signing_settings: SigningSettings::S3,
    fixed_headers: &[],
    request_id_headers: &["x-amz-request-id", "x-amzn-requestid"],
};

impl Service for S3 {
    fn conventions(&self) -> &'static Conventions {
        &CONVENTIONS
    }

    fn error_body(&self, status: u16, method: &Method, body: &[u8]) -> ErrorBody {
        let mut parsed = parse_error(body).map_or_else(ErrorBody::default, |e| ErrorBody {
            code: e.code,
            message: e.message,
            request_id: e.request_id,
        });
        if parsed.code.is_empty() && status == 404 && *method == Method::HEAD {
            // HEAD answers carry no body ("HeadObject": "a HEAD request has the same
            // options as a GET operation on an object. The response is identical to the
            // GET response except that there is no response body").
            parsed.code = "NotFound".into();
        }
        parsed
    }

    /// The shared classification, plus InternalError and ServiceUnavailable embedded in
    /// a `200` answer: CompleteMultipartUpload "can fail after the initial 200 OK
    /// response has been sent" (CompleteMultipartUpload in the S3 API Reference).
    fn is_retryable(&self, e: &ServiceError) -> bool {
        e.is_transient() || matches!(e.code.as_str(), "InternalError" | "ServiceUnavailable")
    }

    fn hint(&self, e: &ServiceError) -> Option<Hint> {
        match e.code.as_str() {
            "RequestTimeTooSkewed" => Some(Hint::ClockSkew),
            "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied" | "ExpiredToken" => {
                Some(Hint::Credentials)
            }
            "NoSuchBucket" => Some(Hint::Text("check the bucket name and the region")),
            _ => None,
        }
    }
}

fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
        .and_then(|c| c.text())
}

/// Parses an S3 error body (`<Error><Code/><Message/><RequestId/></Error>`, "Error
/// responses" in the S3 API Reference) into a [`ServiceError`] without context or status;
/// `None` when the body is not one.
pub fn parse_error(body: &[u8]) -> Option<ServiceError> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = roxmltree::Document::parse(text.trim_start()).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "Error" {
        return None;
    }
    Some(ServiceError {
        context: String::new(),
        status: 0,
        code: child_text(root, "Code").unwrap_or_default().to_string(),
        message: child_text(root, "Message").unwrap_or_default().to_string(),
        request_id: child_text(root, "RequestId").map(str::to_string),
        hint: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_parse_with_code_message_and_request_id() {
        let body = b"\n  <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
            <Message>The resource you requested does not exist</Message>\
            <Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>";
        let e = parse_error(body).expect("an error");
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.message, "The resource you requested does not exist");
        assert_eq!(e.request_id.as_deref(), Some("4442587FB7D0A2F9"));
        assert!(parse_error(b"<CompleteMultipartUploadResult/>").is_none());
        assert!(parse_error(b"not xml").is_none());
        let b = S3.error_body(404, &Method::GET, body);
        assert_eq!(b.request_id.as_deref(), Some("4442587FB7D0A2F9"));
    }

    #[test]
    fn a_bodiless_head_404_is_not_found() {
        assert_eq!(S3.error_body(404, &Method::HEAD, b"").code, "NotFound");
        assert_eq!(S3.error_body(404, &Method::GET, b"").code, "");
    }

    #[test]
    fn retryable_classification() {
        let e = |status, code: &str| ServiceError {
            context: String::new(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        };
        assert!(S3.is_retryable(&e(503, "SlowDown")));
        assert!(S3.is_retryable(&e(200, "InternalError")));
        assert!(S3.is_retryable(&e(400, "RequestTimeout")));
        assert!(S3.is_retryable(&e(429, "")));
        assert!(!S3.is_retryable(&e(404, "NoSuchKey")));
        assert!(!S3.is_retryable(&e(403, "SignatureDoesNotMatch")));
        assert!(!S3.is_retryable(&e(400, "InvalidPart")));
    }

    #[test]
    fn hints() {
        let e = |code: &str| ServiceError {
            context: String::new(),
            status: 403,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        };
        assert_eq!(S3.hint(&e("RequestTimeTooSkewed")), Some(Hint::ClockSkew));
        assert_eq!(S3.hint(&e("AccessDenied")), Some(Hint::Credentials));
        assert_eq!(S3.hint(&e("NoSuchKey")), None);
    }
}
