//! File names for exported archives, from their descriptions.
//!
//! Glacier has no file names: tools wrote them into the archive description, each in its
//! own way. This module recognises the formats people's vaults actually hold, turns the
//! name into a safe relative path under the export directory, and resolves same-name
//! collisions deterministically. It is pure: no file system, no clock.
//!
//! Formats:
//! - mt-aws-glacier `mt2 ` + base64url(JSON `{"filename", "mtime"}`), and `mt1` (the same,
//!   with the JSON double-encoded as Latin-1 → UTF-8); mtime as `YYYYMMDDTHHMMSSZ`
//!   (App::MtAws::MetaData, "MT-AWS-GLACIER metadata format").
//! - FastGlacier `<m><v>N</v><p>base64(utf8(path))</p><lm>yyyyMMddTHHmmssZ</lm>...</m>`
//!   (fastglacier.com, "FastGlacier File Metadata Format", v3/v4).
//! - Our own uploads and most scripts: the description is the file name or a relative
//!   path (`glacier::Description::from_name`); a packed upload's is a file name too
//!   (`pack::packed_name`: `photos.tar.xz`). Packed uploads of earlier versions, described
//!   `glacier-upload tar.xz: 1 input (photos/), 3 files, 1.2 MiB`, get the name a packed
//!   upload gets now.
//! - An empty description: `00undefined/<archive id>`; a name that cannot be made safe
//!   (`..`, over-long, nothing left): `00error/<archive id>`, the folders AWS's own
//!   vault-to-S3 solution uses, so a user finds them together. They are names like any
//!   other for the clash rules: a real `00undefined` file or an identical name is suffixed.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use crate::sync::LockExt;

use time::{Date, Month, PrimitiveDateTime, Time};

/// Longest path component kept, in bytes (the common `NAME_MAX`).
pub const MAX_COMPONENT_BYTES: usize = 255;

/// Longest whole relative path kept, in bytes (well under `PATH_MAX`, leaving room for DIR).
pub const MAX_PATH_BYTES: usize = 1024;

/// The top-level name the export keeps for itself (journal, temporary files).
pub const RESERVED: &str = ".glacier-export";

/// The folder of archives whose description is empty (as AWS's vault-to-S3 solution).
pub const UNDEFINED_DIR: &str = "00undefined";

/// The folder of archives whose description names nothing usable (as AWS's vault-to-S3
/// solution names unparsable ones).
pub const ERROR_DIR: &str = "00error";

/// Top-level file names the export writes for itself next to the archives' files (the
/// manifests, the failed-archives file and their temporary names; a sharded run's have
/// `.shard-K-of-N` before the extension, see [`is_reserved_file`]). An archive whose name
/// is one of them is renamed as a clash is, so the export never overwrites it.
pub const RESERVED_FILES: [&str; 6] = [
    super::manifest::CSV_NAME,
    super::manifest::JSONL_NAME,
    super::manifest::CSV_TMP_NAME,
    super::manifest::JSONL_TMP_NAME,
    super::manifest::FAILED_NAME,
    super::manifest::FAILED_TMP_NAME,
];

/// Whether `name` (a whole relative path) is a file the export writes for itself:
/// `glacier-export-{manifest,failed}[.shard-K-of-N].{csv,jsonl}`, optionally followed by
/// `[.shard-K-of-N].part`. ASCII case is ignored: on a case-insensitive file system
/// (macOS, Windows) the names clash.
pub fn is_reserved_file(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let Some(rest) = n
        .strip_prefix("glacier-export-manifest")
        .or_else(|| n.strip_prefix("glacier-export-failed"))
    else {
        return false;
    };
    let rest = strip_shard(rest);
    let Some(rest) = rest
        .strip_prefix(".csv")
        .or_else(|| rest.strip_prefix(".jsonl"))
    else {
        return false;
    };
    matches!(strip_shard(rest), "" | ".part")
}

/// `s` without a leading `.shard-K-of-N` (digits), else `s`.
fn strip_shard(s: &str) -> &str {
    let digits = |t: &str| -> Option<usize> {
        let d = t.bytes().take_while(u8::is_ascii_digit).count();
        (d > 0).then_some(d)
    };
    let Some(t) = s.strip_prefix(".shard-") else {
        return s;
    };
    let Some(d) = digits(t) else { return s };
    let Some(t) = t[d..].strip_prefix("-of-") else {
        return s;
    };
    match digits(t) {
        Some(d) => &t[d..],
        None => s,
    }
}

/// Where a name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// mt-aws-glacier `mt1`/`mt2`.
    MtAws,
    /// FastGlacier `<m>...</m>`.
    FastGlacier,
    /// The description as a plain relative path.
    Plain,
    /// No usable name: the archive ID.
    ArchiveId,
}

/// A name found in a description, made safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Relative path, `/`-separated, never empty, never escaping the export directory.
    pub path: String,
    /// Modification time (Unix seconds) the description carries, if any.
    pub mtime: Option<i64>,
    /// Which format the name came from.
    pub source: NameSource,
}

/// The name (before collision resolution) for an archive with `description`.
pub fn name_from_description(description: &str, archive_id: &str) -> Named {
    let (raw, mtime, source) = match decode(description) {
        Some((p, m, s)) => (p, m, s),
        None => (description.to_string(), None, NameSource::Plain),
    };
    match sanitize(&raw) {
        Some(path) => Named {
            path,
            mtime,
            source,
        },
        None => Named {
            path: if description.trim().is_empty() {
                format!("{UNDEFINED_DIR}/{}", id_name(archive_id))
            } else {
                error_name(archive_id)
            },
            mtime,
            source: NameSource::ArchiveId,
        },
    }
}

/// `00error/<archive id>`: the name of an archive whose given name cannot be made safe.
pub fn error_name(archive_id: &str) -> String {
    format!("{ERROR_DIR}/{}", id_name(archive_id))
}

/// An archive ID as a file name. Glacier's IDs are `[A-Za-z0-9_-]`, but the inventory is
/// input like any other: anything else becomes `_`.
fn id_name(archive_id: &str) -> String {
    let s: String = archive_id
        .chars()
        .take(MAX_COMPONENT_BYTES)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".into() } else { s }
}

/// Recognises a tool's format: (path, mtime, source).
fn decode(d: &str) -> Option<(String, Option<i64>, NameSource)> {
    let d = d.trim();
    if let Some(rest) = d.strip_prefix("mt2 ") {
        let bytes = base64(rest.trim())?;
        return mt_json(&String::from_utf8(bytes).ok()?);
    }
    if let Some(rest) = d.strip_prefix("mt1 ") {
        // mt1 double-encodes: the bytes are UTF-8 of the Latin-1 reading of UTF-8 JSON.
        let outer = String::from_utf8(base64(rest.trim())?).ok()?;
        let inner: Option<Vec<u8>> = outer
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect();
        return mt_json(&String::from_utf8(inner?).ok()?);
    }
    if let Some(name) = earlier_packed(d) {
        return Some((name, None, NameSource::Plain));
    }
    if d.starts_with("<m>") && d.ends_with("</m>") {
        let p = tag(d, "p")?;
        let path = base64(p.trim())
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| p.to_string());
        let mtime = tag(d, "lm").and_then(|t| compact_time(t.trim()));
        return Some((path, mtime, NameSource::FastGlacier));
    }
    None
}

/// The name of a packed upload described in this tool's earlier format,
/// `glacier-upload EXT: N input[s] (LIST), M file[s], SIZE` with LIST the input names
/// (directories ending in `/`) joined by `, `, possibly ending `+K more`.
fn earlier_packed(d: &str) -> Option<String> {
    let (extension, rest) = d.strip_prefix("glacier-upload ")?.split_once(": ")?;
    if !matches!(extension, "tar" | "tar.xz") {
        return None;
    }
    let (count, rest) = rest.split_once(" input")?;
    let n: usize = count.parse().ok()?;
    let rest = rest.strip_prefix('s').unwrap_or(rest);
    let list = rest.strip_prefix(" (")?;
    // What follows the list (`N files, SIZE`) holds no `), `, so the last one ends it.
    let list = &list[..list.rfind("), ")?];
    // One input's name may hold `, `; of several, the first is up to the first `, `.
    let first = if n > 1 {
        list.split(", ").next().unwrap_or(list)
    } else {
        list
    };
    let first = if first.starts_with('+') && first.ends_with(" more") {
        ""
    } else {
        first
    };
    Some(crate::pack::packed_name(
        first,
        n.saturating_sub(1),
        extension,
    ))
}

fn mt_json(json: &str) -> Option<(String, Option<i64>, NameSource)> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let name = v.get("filename")?.as_str()?.to_string();
    let mtime = match v.get("mtime") {
        Some(serde_json::Value::String(s)) => compact_time(s),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        _ => None,
    };
    Some((name, mtime, NameSource::MtAws))
}

/// The text between `<t>` and `</t>`.
fn tag<'a>(d: &'a str, t: &str) -> Option<&'a str> {
    let open = format!("<{t}>");
    let close = format!("</{t}>");
    let a = d.find(&open)? + open.len();
    let b = a + d[a..].find(&close)?;
    Some(&d[a..b])
}

/// `YYYYMMDDTHHMMSSZ` (UTC) as Unix seconds.
pub fn compact_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let date = Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?,
        u8::try_from(num(6..8)?).ok()?,
    )
    .ok()?;
    let time = Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// Base64, standard or URL alphabet, padding optional. None on anything else.
pub fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone trailing sextet cannot be base64 of anything.
    (bits < 6).then_some(out)
}

/// Makes a name a safe relative path, or None if it cannot be.
///
/// Backslashes are separators (Windows tools), a drive letter and leading separators are
/// dropped (the path becomes relative), `.` and empty components vanish, control
/// characters become `_`. A `..` component, an over-long component or path, or nothing
/// left gives None: those archives are named by their ID rather than guessed at.
pub fn sanitize(raw: &str) -> Option<String> {
    let mut s = raw.replace('\\', "/");
    let b = s.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        s.drain(..2);
    }
    let mut parts: Vec<String> = Vec::new();
    for comp in s.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp == ".." {
            return None;
        }
        let clean: String = comp
            .chars()
            .map(|c| if c.is_control() { '_' } else { c })
            .collect();
        // Whitespace-only or dot-only names are legal but invisible or confusing.
        if clean.trim().is_empty() || clean.chars().all(|c| c == '.') {
            return None;
        }
        if clean.len() > MAX_COMPONENT_BYTES {
            return None;
        }
        parts.push(clean);
    }
    if let Some(first) = parts.first_mut() {
        if first.eq_ignore_ascii_case(RESERVED) {
            first.insert(0, '_');
        }
    }
    let path = parts.join("/");
    (!path.is_empty() && path.len() <= MAX_PATH_BYTES).then_some(path)
}

/// A 64-bit key for a name (collision counting keeps keys, not strings). A false match
/// only adds a suffix.
fn key(parts: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Counts names over a whole inventory, so that each archive's final name depends on the
/// inventory only (not on the shard or the filters of a run).
///
/// Memory: 16 bytes an archive (two 64-bit keys in one sorted table, counted by binary
/// search), where two hash maps of counts took about 56; plus one key per directory.
#[derive(Debug, Default)]
pub struct Collisions {
    /// `--names FILE`: names that override the descriptions' (see [`Collisions::named`]).
    names_file: Option<super::names_file::NamesFile>,
    /// One row per archive counted: (name key, name-and-date key).
    table: Mutex<Table>,
    /// Every directory some name needs (`a` and `a/b` for `a/b/c`): an archive whose
    /// name is one of them cannot be a file there.
    dirs: HashSet<u64>,
}

/// The rows, sorted at the first question after an [`Collisions::add`] (a mutex, so the
/// questions stay `&self` and the count stays shareable between threads).
#[derive(Debug, Default)]
struct Table {
    rows: Vec<(u64, u64)>,
    sorted: bool,
}

impl Table {
    /// The rows whose first key is `k`, as a slice (sorted by the second key).
    fn with(rows: &[(u64, u64)], k: u64) -> &[(u64, u64)] {
        let a = rows.partition_point(|r| r.0 < k);
        let b = a + rows[a..].partition_point(|r| r.0 == k);
        &rows[a..b]
    }
}

impl Collisions {
    /// An empty count whose names come from `names_file` first (`--names FILE`), then
    /// from the descriptions: every pass over the inventory names archives the same way.
    pub fn with_names_file(names_file: Option<super::names_file::NamesFile>) -> Collisions {
        Collisions {
            names_file,
            ..Collisions::default()
        }
    }

    /// The name (before collision resolution) of an archive: the names file's if it
    /// lists the archive, else the description's.
    pub fn named(&self, description: &str, archive_id: &str) -> Named {
        super::names_file::name_for(self.names_file.as_ref(), description, archive_id)
    }

    /// Counts one archive.
    pub fn add(&mut self, name: &str, creation_date: &str) {
        let stamp = date_stamp(creation_date);
        let t = self
            .table
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.rows.push((key(&[name]), key(&[name, &stamp])));
        t.sorted = false;
        for (i, _) in name.match_indices('/') {
            self.dirs.insert(key(&[&name[..i]]));
        }
    }

    /// Runs `f` on the rows of `name` (sorted first if an archive was added since).
    fn rows<R>(&self, name: &str, f: impl FnOnce(&[(u64, u64)]) -> R) -> R {
        let mut t = self.table.lock_unpoisoned();
        if !t.sorted {
            t.rows.sort_unstable();
            t.rows.shrink_to_fit();
            t.sorted = true;
        }
        f(Table::with(&t.rows, key(&[name])))
    }

    /// The final name: unchanged if unique; else suffixed with the creation date; if
    /// that is still shared, with the date and the start of the archive ID. A name that
    /// another archive needs as a directory (`a` next to `a/b`), or that the export
    /// writes for itself (the manifests), is suffixed the same way, so every archive is
    /// exported whichever comes first in the inventory and nothing overwrites it.
    pub fn resolve(&self, name: &str, creation_date: &str, archive_id: &str) -> String {
        if !self.is_shared(name) {
            return name.to_string();
        }
        let stamp = date_stamp(creation_date);
        let mut suffix = stamp.clone();
        let k = key(&[name, &stamp]);
        let same_date = self.rows(name, |rows| {
            let a = rows.partition_point(|r| r.1 < k);
            rows[a..].partition_point(|r| r.1 == k)
        });
        if same_date > 1 {
            suffix.push('.');
            suffix.push_str(&id_name(archive_id).chars().take(12).collect::<String>());
        }
        with_suffix(name, &suffix)
    }

    /// Whether `name` gets a suffix: shared by several archives, needed as a directory
    /// by another, or a name the export writes for itself.
    pub fn is_shared(&self, name: &str) -> bool {
        self.rows(name, |rows| rows.len() > 1)
            || self.dirs.contains(&key(&[name]))
            || is_reserved_file(name)
    }
}

/// `2020-01-02T03:04:05.123Z` → `2020-01-02T030405Z`: sortable and safe in a file name.
fn date_stamp(d: &str) -> String {
    let d = d.split('.').next().unwrap_or(d);
    let mut s: String = d
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-' || *c == 'T')
        .collect();
    if s.is_empty() {
        s.push_str("nodate");
    } else {
        s.push('Z');
    }
    s
}

/// `dir/a.tar.gz` + `X` → `dir/a.X.tar.gz`? No: only the last extension is kept at the
/// end (`dir/a.tar.X.gz`), which keeps the type the file manager sees.
fn with_suffix(name: &str, suffix: &str) -> String {
    let (dir, file) = match name.rfind('/') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    let candidate = match file.rfind('.') {
        Some(i) if i > 0 => format!("{dir}{}.{suffix}{}", &file[..i], &file[i..]),
        _ => format!("{dir}{file}.{suffix}"),
    };
    // The suffix may push a component over the limit: shorten the stem, keep the suffix.
    let last = candidate.rsplit('/').next().unwrap_or(&candidate);
    if last.len() <= MAX_COMPONENT_BYTES {
        return candidate;
    }
    let keep = MAX_COMPONENT_BYTES - suffix.len() - 1;
    let mut stem: String = String::new();
    for c in file.chars() {
        if stem.len() + c.len_utf8() > keep {
            break;
        }
        stem.push(c);
    }
    format!("{dir}{stem}.{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64url(s: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for ch in s.chunks(3) {
            let n = ch.len();
            let mut b = [0u8; 3];
            b[..n].copy_from_slice(ch);
            let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=n {
                out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    const ID: &str = "-AbCdEfGhIjKlMnOp_0123456789";

    #[test]
    fn mt2_name_and_mtime() {
        let json = r#"{"mtime":"20130227T205137Z","filename":"photos/2012/a b.jpg"}"#;
        let n = name_from_description(&format!("mt2 {}", b64url(json.as_bytes())), ID);
        assert_eq!(n.path, "photos/2012/a b.jpg");
        assert_eq!(n.source, NameSource::MtAws);
        assert_eq!(n.mtime, Some(1_361_998_297));
    }

    #[test]
    fn mt1_double_encoded_utf8() {
        let json = r#"{"mtime":"20000101T000000Z","filename":"día/ü.txt"}"#;
        // Latin-1 reading of the UTF-8 bytes, written as UTF-8 again.
        let double: String = json.bytes().map(char::from).collect();
        let n = name_from_description(&format!("mt1 {}", b64url(double.as_bytes())), ID);
        assert_eq!(n.path, "día/ü.txt");
        assert_eq!(n.mtime, Some(946_684_800));
    }

    #[test]
    fn fastglacier_v4_from_its_documentation() {
        // The example on fastglacier.com's metadata format page.
        let d = "<m>\n  <v>4</v>\n  <p>Z2xhY2llci1kZy5wZGY=</p>\n  <lm>20120821T170824Z</lm>\n  <ce>1:1:4340ebcf79712dc5e3ef7d50bab98ba5:54687</ce>\n</m>";
        let n = name_from_description(d, ID);
        assert_eq!(n.path, "glacier-dg.pdf");
        assert_eq!(n.source, NameSource::FastGlacier);
        assert_eq!(n.mtime, Some(1_345_568_904));
        // A Windows path inside becomes relative.
        let p = b64url("C:\\Users\\me\\doc.txt".as_bytes());
        let n = name_from_description(&format!("<m><v>4</v><p>{p}</p><lm>x</lm></m>"), ID);
        assert_eq!(n.path, "Users/me/doc.txt");
        assert_eq!(n.mtime, None);
    }

    #[test]
    fn plain_names_and_our_own_uploads() {
        let n = name_from_description("backup-2019.tar.xz", ID);
        assert_eq!(n.path, "backup-2019.tar.xz");
        assert_eq!(n.source, NameSource::Plain);
        assert_eq!(name_from_description("./a//b/./c", ID).path, "a/b/c");
        // Empty (or blank) descriptions go to one folder, as AWS's vault-to-S3 solution.
        for d in ["", "   "] {
            let n = name_from_description(d, ID);
            let want = format!("00undefined/{ID}");
            assert_eq!((n.path.as_str(), n.source), (&*want, NameSource::ArchiveId));
        }
    }

    #[test]
    fn packed_uploads_of_earlier_versions_get_a_file_name() {
        for (d, name) in [
            (
                "glacier-upload tar.xz: 1 input (ourdir/), 3 files, 293.0 KiB",
                "ourdir.tar.xz",
            ),
            (
                "glacier-upload tar: 3 inputs (tree/, notes.txt, top-link), 9 files, 1.4 MiB",
                "tree+2-more.tar",
            ),
            (
                "glacier-upload tar.xz: 1 input (a, b (c)), 1 file, 3 B",
                "a, b (c).tar.xz",
            ),
            (
                "glacier-upload tar.xz: 300 inputs (?t?-000, ?t?-001, +298 more), 300 files, 300 B",
                "?t?-000+299-more.tar.xz",
            ),
            (
                "glacier-upload tar.xz: 2 inputs (+2 more), 2 files, 3 B",
                "glacier-upload+1-more.tar.xz",
            ),
        ] {
            let n = name_from_description(d, ID);
            assert_eq!(
                (n.path.as_str(), n.source),
                (name, NameSource::Plain),
                "{d}"
            );
        }
        // Only our exact format: anything else is a plain name.
        let d = "glacier-upload zip: 1 input (x), 1 file, 3 B";
        assert_eq!(name_from_description(d, ID).path, d);
    }

    #[test]
    fn hostile_names_never_escape() {
        for d in [
            "../etc/passwd",
            "a/../../b",
            "..",
            "/",
            "...",
            "\\..\\x",
            &"x".repeat(300),
            &format!("{}/y", "d/".repeat(600)),
        ] {
            let n = name_from_description(d, ID);
            assert_eq!(n.path, format!("00error/{ID}"), "{d:?}");
            assert_eq!(n.source, NameSource::ArchiveId);
        }
        assert_eq!(name_from_description("/etc/passwd", ID).path, "etc/passwd");
        assert_eq!(name_from_description("C:/x/y", ID).path, "x/y");
        assert_eq!(name_from_description("a\0b\nc\x7f", ID).path, "a_b_c_");
        assert_eq!(
            name_from_description(".glacier-export/journal", ID).path,
            "_.glacier-export/journal"
        );
        // mt2 carrying a hostile name is sanitized like any other.
        let json = r#"{"mtime":"20130227T205137Z","filename":"../../x"}"#;
        let n = name_from_description(&format!("mt2 {}", b64url(json.as_bytes())), ID);
        assert_eq!(n.path, format!("00error/{ID}"));
        // Broken base64 or JSON falls back to the plain text.
        assert_eq!(name_from_description("mt2 !!!", ID).path, "mt2 !!!");
        let bad = format!("mt2 {}", b64url(b"{\"nofile\":1}"));
        assert_eq!(name_from_description(&bad, ID).path, bad);
        // A hostile archive ID is still a single safe component.
        assert_eq!(name_from_description("..", "../x").path, "00error/___x");
    }

    #[test]
    fn collisions_get_date_then_id_suffix() {
        let mut c = Collisions::default();
        let inv = [
            (
                "a/file.txt",
                "2020-01-02T03:04:05.000Z",
                "AAAAAAAAAAAAAAAAzz",
            ),
            (
                "a/file.txt",
                "2021-05-06T07:08:09.000Z",
                "BBBBBBBBBBBBBBBBzz",
            ),
            (
                "a/file.txt",
                "2021-05-06T07:08:09.500Z",
                "CCCCCCCCCCCCCCCCzz",
            ),
            ("other", "2020-01-01T00:00:00Z", "DDDD"),
        ];
        for (n, d, _) in inv {
            c.add(n, d);
        }
        let got: Vec<String> = inv.iter().map(|(n, d, id)| c.resolve(n, d, id)).collect();
        assert_eq!(
            got,
            [
                "a/file.2020-01-02T030405Z.txt",
                "a/file.2021-05-06T070809Z.BBBBBBBBBBBB.txt",
                "a/file.2021-05-06T070809Z.CCCCCCCCCCCC.txt",
                "other",
            ]
        );
        assert!(c.is_shared("a/file.txt"));
        // Long names stay within the component limit with the suffix.
        let long = "y".repeat(250);
        c.add(&long, "2020-01-01T00:00:00Z");
        c.add(&long, "2020-01-02T00:00:00Z");
        let r = c.resolve(&long, "2020-01-01T00:00:00Z", "ID");
        assert!(r.len() <= MAX_COMPONENT_BYTES && r.ends_with(".2020-01-01T000000Z"));
    }

    #[test]
    fn counting_after_a_question_counts_on_and_order_does_not_matter() {
        // The table is sorted at the first question; archives added after it are
        // counted too (the plan adds, asks, and the tests interleave).
        let mut c = Collisions::default();
        c.add("x", "2020-01-01T00:00:00Z");
        assert!(!c.is_shared("x"));
        c.add("x", "2020-01-01T00:00:00Z");
        assert!(c.is_shared("x"));
        assert_eq!(
            c.resolve("x", "2020-01-01T00:00:00Z", "IDIDIDIDIDIDID"),
            "x.2020-01-01T000000Z.IDIDIDIDIDID"
        );
        c.add("x", "2021-01-01T00:00:00Z");
        assert_eq!(
            c.resolve("x", "2021-01-01T00:00:00Z", "ID"),
            "x.2021-01-01T000000Z"
        );
        // The same archives counted in any order name each archive the same way.
        let inv: Vec<(String, String)> = (0..200)
            .map(|i| {
                (
                    format!("d{}/f{}", i % 7, i % 13),
                    format!("2020-01-0{}", i % 3 + 1),
                )
            })
            .collect();
        let mut fwd = Collisions::default();
        let mut rev = Collisions::default();
        for (n, d) in &inv {
            fwd.add(n, d);
        }
        for (n, d) in inv.iter().rev() {
            rev.add(n, d);
        }
        for (i, (n, d)) in inv.iter().enumerate() {
            let id = format!("ID{i:012}");
            assert_eq!(fwd.resolve(n, d, &id), rev.resolve(n, d, &id));
            assert_eq!(fwd.is_shared(n), rev.is_shared(n));
        }
        assert!(fwd.is_shared("d0/f0") && !fwd.is_shared("d0/f99"));
    }

    #[test]
    fn a_name_another_archive_needs_as_a_directory_is_suffixed_in_either_order() {
        let file = ("a", "2020-01-02T03:04:05Z", "FILEFILEFILEFILE");
        let deep = ("a/b/c", "2021-01-01T00:00:00Z", "DEEPDEEPDEEPDEEP");
        let mid = ("a/b", "2022-01-01T00:00:00Z", "MIDMIDMIDMIDMID");
        for order in [[file, deep, mid], [mid, deep, file]] {
            let mut c = Collisions::default();
            for (n, d, _) in order {
                c.add(n, d);
            }
            let got = |(n, d, id): (&str, &str, &str)| c.resolve(n, d, id);
            assert_eq!(got(file), "a.2020-01-02T030405Z");
            assert_eq!(got(mid), "a/b.2022-01-01T000000Z");
            assert_eq!(got(deep), "a/b/c");
            assert!(c.is_shared("a") && c.is_shared("a/b") && !c.is_shared("a/b/c"));
        }
        // A prefix that is not a whole component is no directory.
        let mut c = Collisions::default();
        c.add("ab/c", "2020-01-01T00:00:00Z");
        c.add("a", "2020-01-01T00:00:00Z");
        assert_eq!(c.resolve("a", "2020-01-01T00:00:00Z", "ID"), "a");
    }

    #[test]
    fn names_the_export_writes_for_itself_are_renamed_as_clashes_are() {
        let mut c = Collisions::default();
        let names = [
            "glacier-export-manifest.csv",
            "GLACIER-EXPORT-MANIFEST.JSONL",
            "glacier-export-manifest.csv.part",
            "glacier-export-manifest.jsonl.part",
        ];
        for n in names {
            c.add(n, "2020-01-02T03:04:05.000Z");
        }
        assert_eq!(
            c.resolve(names[0], "2020-01-02T03:04:05.000Z", ID),
            "glacier-export-manifest.2020-01-02T030405Z.csv"
        );
        assert_eq!(
            c.resolve(names[1], "2020-01-02T03:04:05.000Z", ID),
            "GLACIER-EXPORT-MANIFEST.2020-01-02T030405Z.JSONL"
        );
        for n in names {
            let r = c.resolve(n, "2020-01-02T03:04:05.000Z", ID);
            assert!(!is_reserved_file(&r), "{n} -> {r}");
            assert!(c.is_shared(n));
        }
        // Only at the top: in a subdirectory the name is the archive's own.
        c.add("d/glacier-export-manifest.csv", "2020-01-02");
        assert_eq!(
            c.resolve("d/glacier-export-manifest.csv", "2020-01-02", ID),
            "d/glacier-export-manifest.csv"
        );
        // The state directory, in any case, is moved aside whole.
        assert_eq!(
            name_from_description(".Glacier-Export", ID).path,
            "_.Glacier-Export"
        );
    }

    #[test]
    fn shard_and_failed_files_are_reserved_and_suffixed_names_are_not() {
        for n in [
            "glacier-export-failed.csv",
            "glacier-export-failed.csv.part",
            "glacier-export-manifest.shard-2-of-3.csv",
            "Glacier-Export-Manifest.SHARD-12-of-40.jsonl.part",
            "glacier-export-failed.shard-1-of-1.csv",
            "glacier-export-manifest.jsonl.shard-2-of-3.part",
        ] {
            assert!(is_reserved_file(n), "{n}");
        }
        for n in [
            "glacier-export-manifest.2020-01-02T030405Z.csv",
            "glacier-export-manifest.shard-x-of-3.csv",
            "glacier-export-manifest.shard-2-of-3.txt",
            "glacier-export-manifest.csv.bak",
            "d/glacier-export-failed.csv",
        ] {
            assert!(!is_reserved_file(n), "{n}");
        }
        let mut c = Collisions::default();
        c.add("glacier-export-failed.csv", "2020-01-02T03:04:05Z");
        assert_eq!(
            c.resolve("glacier-export-failed.csv", "2020-01-02T03:04:05Z", ID),
            "glacier-export-failed.2020-01-02T030405Z.csv"
        );
    }

    #[test]
    fn the_undefined_and_error_folders_clash_like_any_name() {
        // A real file named `00undefined` next to the folder, and a description that is
        // literally one of the folder's names: both suffixed, the folder kept.
        let empty = name_from_description("", ID);
        let lit = name_from_description(&empty.path, "OTHER");
        assert_eq!(lit.path, empty.path);
        let file = name_from_description("00undefined", "F");
        let mut c = Collisions::default();
        for (n, d) in [
            (&empty.path, "2020-01-01T00:00:00Z"),
            (&lit.path, "2021-01-01T00:00:00Z"),
            (&file.path, "2022-01-01T00:00:00Z"),
        ] {
            c.add(n, d);
        }
        let a = c.resolve(&empty.path, "2020-01-01T00:00:00Z", ID);
        let b = c.resolve(&lit.path, "2021-01-01T00:00:00Z", "OTHER");
        let f = c.resolve(&file.path, "2022-01-01T00:00:00Z", "F");
        assert_eq!(a, format!("00undefined/{ID}.2020-01-01T000000Z"));
        assert_eq!(b, format!("00undefined/{ID}.2021-01-01T000000Z"));
        assert_eq!(f, "00undefined.2022-01-01T000000Z");
    }

    #[test]
    fn base64_edges() {
        assert_eq!(base64("").as_deref(), Some(&b""[..]));
        assert_eq!(base64("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64("Y"), None);
        assert_eq!(base64("a b"), None);
        assert_eq!(compact_time("20120821T170824Z"), Some(1_345_568_904));
        assert_eq!(compact_time("20121321T170824Z"), None);
    }
}
