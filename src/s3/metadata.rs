//! The Glacier facts an exported object carries as S3 user metadata (`x-amz-meta-*`), and
//! their encoding.
//!
//! HTTP header values cannot carry every byte, and SigV4 folds runs of spaces when it
//! signs headers ("Create a canonical request": "convert sequential spaces to a single
//! space"), so a description is stored percent-encoded (RFC 3986 `pchar` kept, everything
//! else as `%XX`, space included); when that would be longer than base64, it is stored
//! base64 under another name. S3 limits user metadata to 2 KB, counted as the UTF-8 bytes
//! of every name and value ("Working with object metadata", S3 User Guide); [`to_headers`]
//! checks that before anything is sent, counting the `x-amz-meta-` prefix too, to be safe.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};
use crate::treehash::TreeHash;

/// The header prefix of user metadata.
pub const META_PREFIX: &str = "x-amz-meta-";
/// S3's limit on user metadata, in bytes.
pub const MAX_METADATA_BYTES: usize = 2048;

const ARCHIVE_ID: &str = "glacier-archive-id";
const TREE_HASH: &str = "glacier-tree-hash";
const CREATION_DATE: &str = "glacier-creation-date";
const DESCRIPTION: &str = "glacier-description";
const DESCRIPTION_B64: &str = "glacier-description-base64";

/// What an exported object records about the Glacier archive it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveMetadata {
    /// The Glacier archive ID.
    pub archive_id: String,
    /// The archive's tree hash.
    pub tree_hash: TreeHash,
    /// When Glacier created the archive; `None` when the inventory did not say (the
    /// member is optional in the service model): then the object carries no date.
    pub creation_date: Option<OffsetDateTime>,
    /// The archive description, as raw bytes (any bytes survive the round trip).
    pub description: Vec<u8>,
}

/// Bytes kept as they are in a percent-encoded value: RFC 3986 `pchar` without `%`.
fn kept(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

/// Percent-encodes `bytes`: RFC 3986 `pchar` bytes other than `%` are kept, the rest become `%XX`.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if kept(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`percent_encode`]; `None` for a malformed escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

impl ArchiveMetadata {
    /// The metadata as `(name without prefix, value)` pairs, checked against the 2 KB
    /// limit.
    pub fn to_headers(&self) -> Result<Vec<(String, String)>> {
        let date = self
            .creation_date
            .map(|d| d.format(&Rfc3339))
            .transpose()
            .map_err(|e| Error::Input(format!("creation date of {}: {e}", self.archive_id)))?;
        let pct = percent_encode(&self.description);
        let b64 = BASE64.encode(&self.description);
        let description = if pct.len() <= b64.len() {
            (DESCRIPTION, pct)
        } else {
            (DESCRIPTION_B64, b64)
        };
        let mut pairs = vec![
            (ARCHIVE_ID.to_string(), self.archive_id.clone()),
            (TREE_HASH.to_string(), self.tree_hash.to_string()),
        ];
        if let Some(date) = date {
            pairs.push((CREATION_DATE.to_string(), date));
        }
        pairs.push((description.0.to_string(), description.1));
        let total: usize = pairs
            .iter()
            .map(|(k, v)| META_PREFIX.len() + k.len() + v.len())
            .sum();
        if total > MAX_METADATA_BYTES {
            return Err(Error::Input(format!(
                "archive {}: its metadata would take {total} bytes, over S3's limit of \
                 {MAX_METADATA_BYTES} (the description is {} bytes)",
                self.archive_id,
                self.description.len()
            )));
        }
        Ok(pairs)
    }

    /// Reads the metadata back from an object's user metadata (names without the prefix,
    /// lowercase as S3 returns them); `None` when it is not an exported archive's.
    pub fn from_headers(meta: &BTreeMap<String, String>) -> Option<ArchiveMetadata> {
        let description = match (meta.get(DESCRIPTION), meta.get(DESCRIPTION_B64)) {
            (Some(p), _) => percent_decode(p)?,
            (None, Some(b)) => BASE64.decode(b).ok()?,
            (None, None) => return None,
        };
        Some(ArchiveMetadata {
            archive_id: meta.get(ARCHIVE_ID)?.clone(),
            tree_hash: meta.get(TREE_HASH)?.parse().ok()?,
            creation_date: match meta.get(CREATION_DATE) {
                Some(d) => Some(OffsetDateTime::parse(d, &Rfc3339).ok()?),
                None => None,
            },
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(description: Vec<u8>) -> ArchiveMetadata {
        ArchiveMetadata {
            archive_id: "A".repeat(138),
            tree_hash: TreeHash([7; 32]),
            creation_date: Some(OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("date")),
            description,
        }
    }

    fn round_trip(m: &ArchiveMetadata) -> ArchiveMetadata {
        let map: BTreeMap<String, String> = m.to_headers().expect("fits").into_iter().collect();
        for v in map.values() {
            assert!(v.bytes().all(|b| b.is_ascii_graphic()), "header-safe: {v}");
        }
        ArchiveMetadata::from_headers(&map).expect("parses")
    }

    #[test]
    fn any_bytes_survive() {
        let printable: Vec<u8> = (0x20..=0x7e).collect();
        let all: Vec<u8> = (0..=255).collect();
        for d in [
            printable,
            all,
            b"  two  spaces  ".to_vec(),
            b"%41".to_vec(),
            vec![],
        ] {
            let m = sample(d);
            assert_eq!(round_trip(&m), m);
        }
    }

    #[test]
    fn an_unknown_creation_date_is_left_out_and_reads_back_unknown() {
        let mut m = sample(b"d".to_vec());
        m.creation_date = None;
        let headers = m.to_headers().expect("fits");
        assert!(
            headers.iter().all(|(k, _)| k != CREATION_DATE),
            "{headers:?}"
        );
        assert_eq!(round_trip(&m), m);
        // A date that is there but unreadable is still not our metadata.
        let mut map: BTreeMap<String, String> = sample(vec![])
            .to_headers()
            .expect("fits")
            .into_iter()
            .collect();
        map.insert(CREATION_DATE.into(), "yesterday".into());
        assert_eq!(ArchiveMetadata::from_headers(&map), None);
    }

    #[test]
    fn the_shorter_encoding_is_chosen_and_the_limit_is_kept() {
        let plain = sample(b"photos/2019/a.jpg".to_vec())
            .to_headers()
            .expect("fits");
        assert!(
            plain
                .iter()
                .any(|(k, v)| k == DESCRIPTION && v == "photos/2019/a.jpg")
        );
        let binary = sample(vec![0xff; 300]).to_headers().expect("fits");
        assert!(binary.iter().any(|(k, _)| k == DESCRIPTION_B64));
        // Glacier's longest description (1024 printable bytes) fits, even all-escaped.
        let m = sample(vec![b' '; 1024]);
        assert_eq!(round_trip(&m), m);
        let err = sample(vec![0; 1500]).to_headers().expect_err("too long");
        assert!(err.to_string().contains("2048"), "{err}");
    }

    #[test]
    fn malformed_escapes_are_refused() {
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("a%20b").as_deref(), Some(&b"a b"[..]));
    }
}
