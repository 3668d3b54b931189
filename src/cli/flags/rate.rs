//! `--limit-rate`: one bandwidth cap for the commands that move archive
//! bytes (`upload`, `archive get`, `inventory get`, `vault export`), defined here with its
//! parser. The CLI reads it where it builds the clients (`cli/mod.rs`), so the commands'
//! own parsers never see it, and every client of the run shares one
//! [`RateLimit`](crate::aws::RateLimit).

use super::Flag;

/// `--limit-rate` of `upload`, `archive get`, `inventory get` and `vault export`.
pub const LIMIT_RATE: Flag = Flag {
    long: "--limit-rate",
    value: Some("RATE"),
    help: "bytes per second for all threads together, sent and\n\
           received: 512K, 20M (K, M, G are KiB, MiB, GiB, as in\n\
           the size flags)",
    default: Some("no limit"),
    ..Flag::VALUE
};

/// The commands (words before the positionals) that take [`LIMIT_RATE`].
pub const LIMIT_RATE_COMMANDS: &[&[&str]] = &[
    &["upload"],
    &["archive", "get"],
    &["inventory", "get"],
    &["vault", "export"],
];

/// `RATE`: whole bytes per second, or with a binary suffix K, M, G (`20M` is 20 MiB/s),
/// as the size flags read sizes. Zero is refused: it would never send a byte.
pub fn parse_limit_rate(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                _ => return Err(format!("unknown unit '{c}' (use K, M or G)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "expected whole bytes per second, e.g. 512K or 20M".to_string())?;
    if n == 0 {
        return Err(
            "is not a rate: at 0 nothing would ever be sent (omit the flag for no limit)".into(),
        );
    }
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| "too large".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_the_size_flags_read_sizes() {
        assert_eq!(parse_limit_rate("1"), Ok(1));
        assert_eq!(parse_limit_rate("512K"), Ok(512 << 10));
        assert_eq!(parse_limit_rate("20M"), Ok(20 << 20));
        assert_eq!(parse_limit_rate("20m"), Ok(20 << 20));
        assert_eq!(parse_limit_rate("2G"), Ok(2 << 30));
        assert_eq!(parse_limit_rate("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn zero_and_nonsense_are_refused() {
        for bad in [
            "0",
            "0K",
            "",
            "M",
            "-1",
            "1.5M",
            "20MB",
            "20X",
            "99999999999999G",
        ] {
            assert!(parse_limit_rate(bad).is_err(), "{bad} accepted");
        }
        assert!(
            parse_limit_rate("0")
                .expect_err("zero")
                .starts_with("is not a rate")
        );
    }
}
