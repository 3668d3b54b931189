//! Small shared pieces of the mock: Glacier's date formats, the error type every handler
//! returns, IDs, and hashing a body to disk in one pass. No HTTP, no state.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use glacier_upload::treehash::{CHUNK_SIZE, TreeHash, combine};
use sha2::{Digest, Sha256};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A Glacier error response: status, code, message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 InvalidParameterValueException.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidParameterValueException", message)
    }

    /// 400 MissingParameterValueException.
    pub fn missing(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "MissingParameterValueException", message)
    }

    /// 404 ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "ResourceNotFoundException", message)
    }

    /// 403 InvalidSignatureException.
    pub fn signature(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "InvalidSignatureException", message)
    }

    /// 500 for a failure of the mock itself (disk full...).
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            500,
            "ServiceUnavailableException",
            format!("mock failure: {e}"),
        )
    }

    /// `Client` or `Server`, as in Glacier's error body.
    pub fn kind(&self) -> &'static str {
        if self.status >= 500 {
            "Server"
        } else {
            "Client"
        }
    }

    /// The JSON body `{"code","message","type"}` ("Error Responses" in the Glacier API
    /// reference).
    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({"code": self.code, "message": self.message, "type": self.kind()})
            .to_string()
            .into_bytes()
    }
}

/// `20260101T000000Z`, the `x-amz-date` format.
pub fn amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses `YYYYMMDDTHHMMSSZ` strictly.
pub fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let month = Month::try_from(num(4..6)? as u8).ok()?;
    let date = Date::from_calendar_date(num(0..4)? as i32, month, num(6..8)? as u8).ok()?;
    let time = Time::from_hms(num(9..11)? as u8, num(11..13)? as u8, num(13..15)? as u8).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `Thu, 01 Jan 2026 00:00:00 GMT` (RFC 1123), the HTTP `Date` header.
pub fn http_date(t: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-01-01T00:00:00.000Z`, how Glacier prints `CreationDate` and friends.
pub fn iso_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an ISO 8601 / RFC 3339 date as InventoryRetrievalParameters carries.
pub fn parse_iso_date(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// The alphabet of Glacier IDs (URL-safe base64).
const ID_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A deterministic ID of `len` characters from [`ID_ALPHABET`], the `n`th of its `kind`.
/// With `leading_dash` it starts with `-` then a letter (archive IDs can begin with `-`,
/// and clients must cope); otherwise it starts with a letter or digit.
pub fn make_id(kind: &str, n: u64, len: usize, leading_dash: bool) -> String {
    let mut out = String::with_capacity(len);
    let mut block = 0u64;
    while out.len() < len {
        let digest = Sha256::new()
            .chain_update(kind.as_bytes())
            .chain_update(n.to_le_bytes())
            .chain_update(block.to_le_bytes())
            .finalize();
        for byte in digest {
            if out.len() == len {
                break;
            }
            let c = match out.len() {
                0 if leading_dash => b'-',
                0 => ID_ALPHABET[(byte % 62) as usize],
                1 if leading_dash => ID_ALPHABET[(byte % 52) as usize],
                _ => ID_ALPHABET[(byte & 63) as usize],
            };
            out.push(c as char);
        }
        block += 1;
    }
    out
}

/// What hashing a body produced.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub len: u64,
    /// Linear SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-256 of every 1 MiB leaf, in order (one leaf of the empty input for empty data).
    pub leaves: Vec<TreeHash>,
}

impl Hashed {
    /// The tree hash over all leaves.
    pub fn tree_hash(&self) -> TreeHash {
        tree_of(&self.leaves)
    }
}

/// The root over consecutive leaves.
pub fn tree_of(leaves: &[TreeHash]) -> TreeHash {
    combine(leaves).unwrap_or_else(|| TreeHash(Sha256::digest(b"").into()))
}

/// Copies exactly `len` bytes from `src` into a new file at `dest` while computing the
/// SHA-256 and the 1 MiB leaf hashes in the same pass; memory stays at one chunk.
/// Returns an `UnexpectedEof` error when `src` ends early.
pub fn stream_to_file(src: &mut impl Read, len: u64, dest: &Path) -> io::Result<Hashed> {
    let mut file = io::BufWriter::with_capacity(1 << 20, File::create(dest)?);
    let mut buf = vec![0u8; CHUNK_SIZE as usize];
    let mut linear = Sha256::new();
    let mut leaves = Vec::with_capacity((len / CHUNK_SIZE + 1) as usize);
    let mut left = len;
    while left > 0 {
        let want = left.min(CHUNK_SIZE) as usize;
        src.read_exact(&mut buf[..want])?;
        let chunk = &buf[..want];
        linear.update(chunk);
        leaves.push(TreeHash(Sha256::digest(chunk).into()));
        file.write_all(chunk)?;
        left -= want as u64;
    }
    file.flush()?;
    if leaves.is_empty() {
        leaves.push(TreeHash(Sha256::digest(b"").into()));
    }
    Ok(Hashed {
        len,
        sha256: hex::encode(linear.finalize()),
        leaves,
    })
}

/// Constant-time-ish comparison (no early exit on the first difference).
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Is `s` a valid archive description: at most 1,024 printable ASCII characters
/// (0x20–0x7E), per "Upload Archive" / "Initiate Multipart Upload" in the API reference.
pub fn valid_description(s: &str) -> bool {
    s.len() <= 1024 && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// Is `s` a valid vault name: 1–255 of `a-z A-Z 0-9 _ - .` ("Create Vault").
pub fn valid_vault_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// Decodes `%XX` escapes (query strings); `None` when malformed or not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
