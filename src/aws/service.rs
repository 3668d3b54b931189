//! What differs between AWS services on the wire, as one small trait: how they sign,
//! the headers every request carries, where the request ID is, what an error body looks
//! like, which error codes beyond the shared classification are worth a retry, and the
//! advice a well-known error gets. Hints that need the transport's facts (the clock skew
//! measured against the answer's `Date`, where the credentials came from) are written
//! here, once, for every service.

use reqwest::Method;
use time::OffsetDateTime;

use crate::error::ServiceError;
use crate::sigv4::SigningSettings;

/// The parts of an error answer's body the transport keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    /// The service's error code (empty if the body had none).
    pub code: String,
    /// The service's message.
    pub message: String,
    /// A request ID from the body (S3 puts one there).
    pub request_id: Option<String>,
}

/// Advice for a well-known error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hint {
    /// The request was refused for the local clock: the transport measures the skew.
    ClockSkew,
    /// The credentials were refused: the transport names where they came from.
    Credentials,
    /// Anything else, in the service's terms (never a command-line flag: the CLI owns
    /// those names).
    Text(&'static str),
}

/// What a service's requests and answers look like that is plain data.
#[derive(Debug)]
pub(crate) struct Conventions {
    /// The service's name in messages (`Glacier`, `S3`).
    pub name: &'static str,
    /// The signing name of the credential scope (`glacier`, `s3`).
    pub signing_name: &'static str,
    /// How requests are signed.
    pub signing_settings: SigningSettings,
    /// Headers every request carries (signed), such as an API version.
    pub fixed_headers: &'static [(&'static str, &'static str)],
    /// Response headers that carry the request ID, in order of preference.
    pub request_id_headers: &'static [&'static str],
}

/// One AWS service's wire conventions: the data, and what takes code.
pub(crate) trait Service: Send + Sync {
    /// Names, signing rules, fixed headers.
    fn conventions(&self) -> &'static Conventions;

    /// Reads an error answer's body (at most 64 KiB of it).
    fn error_body(&self, status: u16, method: &Method, body: &[u8]) -> ErrorBody;

    /// Worth another attempt? By default what [`ServiceError::is_transient`] says; a
    /// service adds codes that come without a telling status.
    fn is_retryable(&self, e: &ServiceError) -> bool {
        e.is_transient()
    }

    /// Advice for a well-known error.
    fn hint(&self, e: &ServiceError) -> Option<Hint>;
}

/// Parses an HTTP `Date` header (RFC 1123: `Thu, 26 Nov 2026 12:00:00 GMT`).
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    // RFC 2822 parsing accepts RFC 1123 dates, "GMT" included.
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822).ok()
}

/// The line a [`Hint`] becomes: `date` is the answer's `Date` header, `now` the time the
/// request was signed with, `credentials` where they came from.
pub(super) fn render_hint(
    hint: Hint,
    service: &str,
    date: Option<&str>,
    now: OffsetDateTime,
    credentials: String,
) -> String {
    match hint {
        Hint::ClockSkew => {
            let skew = date
                .and_then(parse_http_date)
                .map(|server| (now - server).whole_seconds());
            match skew {
                Some(s) if s > 0 => format!(
                    "the local clock is {s} s ahead of {service}'s; fix the system clock (e.g. enable NTP)"
                ),
                Some(s) if s < 0 => format!(
                    "the local clock is {} s behind {service}'s; fix the system clock (e.g. enable NTP)",
                    -s
                ),
                _ => "the local clock looks wrong; fix the system clock (e.g. enable NTP)".into(),
            }
        }
        Hint::Credentials => format!("check the credentials (from {credentials})"),
        Hint::Text(t) => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_hint_measures_the_clock_both_ways() {
        let now = parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT").expect("date");
        let ahead = render_hint(
            Hint::ClockSkew,
            "Glacier",
            Some("Thu, 26 Nov 2026 11:00:00 GMT"),
            now,
            "env".into(),
        );
        assert!(ahead.contains("3600 s ahead of Glacier's"), "{ahead}");
        let behind = render_hint(
            Hint::ClockSkew,
            "S3",
            Some("Thu, 26 Nov 2026 12:00:30 GMT"),
            now,
            "env".into(),
        );
        assert!(behind.contains("30 s behind S3's"), "{behind}");
        let unknown = render_hint(Hint::ClockSkew, "S3", None, now, "env".into());
        assert!(unknown.contains("looks wrong"), "{unknown}");
        let creds = render_hint(Hint::Credentials, "S3", None, now, "profile 'x'".into());
        assert_eq!(creds, "check the credentials (from profile 'x')");
    }

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Thu, 26 Nov 2026 12:00:05 GMT").expect("parse");
        assert_eq!(t.unix_timestamp(), 1_795_694_405);
        assert!(parse_http_date("yesterday").is_none());
    }
}
