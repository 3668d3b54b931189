//! One line of advice for well-known Glacier errors: a skewed clock (measured against the
//! answer's `Date`), bad credentials, a closed account, refused retrievals. Hints speak
//! of Glacier's terms (tiers, policies), not of any command-line flag: the CLI owns
//! those names.

use time::OffsetDateTime;

use crate::error::ServiceError;

/// A line that tells the user what to do about a well-known error.
pub(super) fn hint(
    e: &ServiceError,
    date: Option<&str>,
    now: OffsetDateTime,
    creds: String,
) -> Option<String> {
    let msg = e.message.to_ascii_lowercase();
    match e.code.as_str() {
        "InvalidSignatureException"
            if msg.contains("signature expired") || msg.contains("not yet current") =>
        {
            let skew = date
                .and_then(parse_http_date)
                .map(|server| (now - server).whole_seconds());
            Some(match skew {
                Some(s) if s > 0 => format!(
                    "the local clock is {s} s ahead of Glacier's; fix the system clock (e.g. enable NTP)"
                ),
                Some(s) => format!(
                    "the local clock is {} s behind Glacier's; fix the system clock (e.g. enable NTP)",
                    -s
                ),
                None => {
                    "the local clock looks wrong; fix the system clock (e.g. enable NTP)".into()
                }
            })
        }
        "InvalidSignatureException"
        | "UnrecognizedClientException"
        | "AccessDeniedException"
        | "MissingAuthenticationTokenException"
        | "ExpiredTokenException" => Some(format!("check the credentials (from {creds})")),
        "NoLongerSupportedException" => Some(
            "this AWS account cannot use Glacier vaults (closed to new accounts since 2025-12-15)"
                .into(),
        ),
        "InsufficientCapacityException" => {
            Some(
                "Expedited retrieval capacity is not available now; retry later or use the Standard tier"
                    .into(),
            )
        }
        "PolicyEnforcedException" => {
            Some("the account's data retrieval policy refused this retrieval".into())
        }
        _ => None,
    }
}

/// Parses an HTTP `Date` header (RFC 1123: `Thu, 26 Nov 2026 12:00:00 GMT`).
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    // RFC 2822 parsing accepts RFC 1123 dates, "GMT" included.
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc2822).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glacier::parse_http_date;

    #[test]
    fn skew_hint_measures_the_clock() {
        let e = ServiceError {
            context: "x".into(),
            status: 403,
            code: "InvalidSignatureException".into(),
            message: "Signature expired: 20261126T110000Z is now earlier than ...".into(),
            request_id: None,
            hint: None,
        };
        let now = parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT").expect("date");
        let h = hint(&e, Some("Thu, 26 Nov 2026 11:00:00 GMT"), now, "env".into()).expect("hint");
        assert!(h.contains("3600 s ahead"), "{h}");
    }

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Thu, 26 Nov 2026 12:00:05 GMT").expect("parse");
        assert_eq!(t.unix_timestamp(), 1_795_694_405);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn hints_name_no_command_line_flag() {
        let e = |code: &str| ServiceError {
            context: "x".into(),
            status: 400,
            code: code.into(),
            message: String::new(),
            request_id: None,
            hint: None,
        };
        let now = parse_http_date("Thu, 26 Nov 2026 12:00:00 GMT").expect("date");
        for code in [
            "InsufficientCapacityException",
            "PolicyEnforcedException",
            "NoLongerSupportedException",
            "AccessDeniedException",
        ] {
            let h = hint(&e(code), None, now, "env".into()).expect("a hint");
            assert!(!h.contains("--"), "{code}: {h}");
        }
        let h = hint(&e("InsufficientCapacityException"), None, now, "env".into()).expect("hint");
        assert!(h.contains("Standard tier"), "{h}");
    }
}
