//! `--names FILE`: a CSV of `archive_id,name` whose names override what the descriptions
//! say, for the archives it lists (AWS's own vault-to-S3 solution takes the same kind of
//! file).
//!
//! The file is CSV as people and tools write it: RFC 4180 (`""` for a quote inside a
//! quoted field, line breaks inside quotes, CRLF or LF) and Glacier's own escaping, where a
//! quote inside a quoted field is written `\"` and backslashes are not escaped ("Get Job
//! Output", CSV format, `../shared/glacier-api.md`). A header line `archive_id,name` (or
//! `ArchiveId,...`) is optional. Blank lines are skipped.
//!
//! The names are keyed by the 16-byte key of the archive ID ([`journal::key`]), not the
//! 138-byte ID, and kept in one string with a 32-byte row each, so a million names cost
//! tens of MiB rather than hundreds. This module reads
//! and checks the file; it does not decide how a name becomes a path (naming does).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::journal;
use super::naming::{self, NameSource, Named};
use crate::error::{Error, Result};

/// Longest name kept, in bytes: a description is at most 1,024 characters, and a path
/// longer than this is refused by naming anyway.
const MAX_NAME_BYTES: usize = 4096;

/// The names a `--names FILE` gives, by archive ID.
///
/// Memory: every name once in one string, and a sorted row of 32 bytes per archive (its
/// key, where its name is, the line it is on), where a map of owned strings took about
/// 150 bytes per archive more, and as much again to find duplicates while reading.
#[derive(Debug, Default)]
pub struct NamesFile {
    /// The file, for messages.
    pub path: PathBuf,
    /// Every name, one after another.
    text: String,
    /// Sorted by key once read.
    rows: Vec<Row>,
}

/// One archive's entry: the key of its ID, and the line it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    key: [u8; 16],
    line: u32,
    /// Its name's length in bytes (at most [`MAX_NAME_BYTES`]).
    len: u32,
    /// Where its name starts in `text`.
    start: u64,
}

impl NamesFile {
    /// Reads and checks the whole file; the first problem is an error naming the file and
    /// line (exit 2: bad input, nothing sent).
    pub fn read(path: &Path) -> Result<NamesFile> {
        let mut out = NamesFile {
            path: path.to_path_buf(),
            ..NamesFile::default()
        };
        // A problem on a line: an archive named twice before it comes first.
        let failed = out.read_rows().err();
        out.rows.sort_unstable();
        if let Some(e) = out.first_duplicate()? {
            return Err(e);
        }
        if let Some(e) = failed {
            return Err(e);
        }
        out.rows.shrink_to_fit();
        out.text.shrink_to_fit();
        Ok(out)
    }

    /// Reads every record into `text` and `rows` (unsorted), up to the first problem.
    fn read_rows(&mut self) -> Result<()> {
        let path = self.path.clone();
        // Unreadable is bad input (exit 2), as a malformed file is.
        let f = File::open(&path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        let mut records = Records::new(BufReader::new(f));
        while let Some((line, fields)) = records.next_record().map_err(|e| bad(&path, e))? {
            if line == 1 && is_header(&fields) {
                continue;
            }
            if fields.len() == 1 && fields[0].is_empty() {
                continue;
            }
            let at = |msg: String| bad(&path, (line, msg));
            let [id, name] = <[String; 2]>::try_from(fields).map_err(|f| {
                at(format!(
                    "expected 2 fields (archive_id,name), found {}",
                    f.len()
                ))
            })?;
            let id = id.trim();
            if id.is_empty() {
                return Err(at("empty archive ID".into()));
            }
            if name.trim().is_empty() {
                return Err(at(format!("empty name for archive {id}")));
            }
            if name.len() > MAX_NAME_BYTES {
                return Err(at(format!("name longer than {MAX_NAME_BYTES} bytes")));
            }
            let line32 =
                u32::try_from(line).map_err(|_| at("more than 4,294,967,295 lines".to_string()))?;
            self.rows.push(Row {
                key: journal::key(id).to_be_bytes(),
                line: line32,
                len: u32::try_from(name.len()).unwrap_or(u32::MAX),
                start: self.text.len() as u64,
            });
            self.text.push_str(&name);
        }
        Ok(())
    }

    /// The archive named twice whose second mention comes first in the file, as an
    /// error naming both lines (the rows are sorted: one archive's rows are adjacent, in
    /// line order).
    fn first_duplicate(&self) -> Result<Option<Error>> {
        let Some((first, second)) = self
            .rows
            .windows(2)
            .filter(|w| w[0].key == w[1].key)
            .map(|w| (w[0].line, w[1].line))
            .min_by_key(|&(_, second)| second)
        else {
            return Ok(None);
        };
        // The rows keep keys, not IDs: the message's ID is read again from its line.
        let f = File::open(&self.path)
            .map_err(|e| Error::Input(format!("{}: {e}", self.path.display())))?;
        let mut records = Records::new(BufReader::new(f));
        let mut id = String::new();
        while let Ok(Some((line, fields))) = records.next_record() {
            if line == u64::from(second) {
                id = fields
                    .first()
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                break;
            }
        }
        Ok(Some(bad(
            &self.path,
            (
                u64::from(second),
                format!("archive {id} is named twice (first on line {first})"),
            ),
        )))
    }

    /// The name the file gives `archive_id`, if it lists it.
    pub fn name(&self, archive_id: &str) -> Option<&str> {
        let key = journal::key(archive_id).to_be_bytes();
        let i = self.rows.partition_point(|r| r.key < key);
        let r = self.rows.get(i).filter(|r| r.key == key)?;
        let start = usize::try_from(r.start).ok()?;
        self.text.get(start..start + r.len as usize)
    }

    /// How many archives it names.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it names none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The name (before collision resolution) of an archive: the one `names` gives, made safe
/// as a description's would be, else the description's. A listed name that cannot be made
/// safe (`..`, nothing left) is `00error/<archive id>`, as an unusable description is.
///
/// This is the hook for export: wherever it calls `naming::name_from_description`, it
/// calls this with the `--names` file instead, so a run and its plan agree.
pub fn name_for(names: Option<&NamesFile>, description: &str, archive_id: &str) -> Named {
    match names.and_then(|n| n.name(archive_id)) {
        None => naming::name_from_description(description, archive_id),
        Some(listed) => match naming::sanitize(listed) {
            Some(path) => Named {
                path,
                mtime: None,
                source: NameSource::Plain,
            },
            None => Named {
                path: naming::error_name(archive_id),
                mtime: None,
                source: NameSource::ArchiveId,
            },
        },
    }
}

fn bad(path: &Path, (line, msg): LineError) -> Error {
    Error::Input(format!("{}: line {line}: {msg}", path.display()))
}

fn is_header(fields: &[String]) -> bool {
    let norm = |s: &str| s.trim().to_ascii_lowercase().replace(['_', ' '], "");
    fields.len() == 2 && norm(&fields[0]) == "archiveid"
}

/// A record: the line it starts on, its fields.
type Record = (u64, Vec<String>);
/// A problem and the line it is on.
type LineError = (u64, String);

/// CSV records from lines, a quoted field running on over line breaks.
struct Records<R> {
    input: R,
    line: u64,
}

impl<R: BufRead> Records<R> {
    fn new(input: R) -> Self {
        Records { input, line: 0 }
    }

    /// The next record and the line it starts on; `None` at the end.
    fn next_record(&mut self) -> std::result::Result<Option<Record>, LineError> {
        let mut text = String::new();
        let start = self.line + 1;
        loop {
            let mut l = String::new();
            let n = self
                .input
                .read_line(&mut l)
                .map_err(|e| (self.line + 1, format!("not readable as UTF-8 text ({e})")))?;
            if n == 0 {
                if text.is_empty() {
                    return Ok(None);
                }
                return Err((start, "unterminated quoted field".into()));
            }
            self.line += 1;
            text.push_str(&l);
            if text.len() > 4 * MAX_NAME_BYTES {
                return Err((start, "record too long (an unterminated quote?)".into()));
            }
            if let Some(fields) = split(&text).map_err(|m| (start, m))? {
                return Ok(Some((start, fields)));
            }
        }
    }
}

/// Splits one record; `Ok(None)` when a quoted field is still open at the end (the record
/// continues on the next line).
fn split(text: &str) -> std::result::Result<Option<Vec<String>>, String> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let body = body.strip_suffix('\r').unwrap_or(body);
    let chars: Vec<char> = body.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Ok(None),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    // Glacier's escape: `\"` is a quote, unless it ends the field (then it
                    // is a backslash and the closing quote, as RFC 4180 reads `"C:\"`).
                    Some('\\')
                        if chars.get(i + 1) == Some(&'"')
                            && !matches!(chars.get(i + 2), None | Some(',')) =>
                    {
                        field.push('"');
                        i += 2;
                    }
                    Some(&c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
            match chars.get(i) {
                None => {
                    fields.push(field);
                    return Ok(Some(fields));
                }
                Some(',') => i += 1,
                Some(c) => return Err(format!("unexpected '{c}' after a closing quote")),
            }
        } else {
            let mut comma = false;
            while let Some(&c) = chars.get(i) {
                i += 1;
                match c {
                    ',' => {
                        comma = true;
                        break;
                    }
                    '"' => return Err("a quote inside an unquoted field".into()),
                    c => field.push(c),
                }
            }
            fields.push(field);
            if !comma {
                return Ok(Some(fields));
            }
            continue;
        }
        fields.push(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> Vec<String> {
        split(s).expect("parses").expect("complete")
    }

    #[test]
    fn splits_rfc4180_and_glacier_quoting() {
        assert_eq!(fields("a,b\n"), ["a", "b"]);
        assert_eq!(fields("a,b\r\n"), ["a", "b"]);
        assert_eq!(fields("a,\"x, y\"\n"), ["a", "x, y"]);
        assert_eq!(fields("a,\"say \"\"hi\"\".txt\""), ["a", "say \"hi\".txt"]);
        assert_eq!(fields("a,\"say \\\"hi\\\".txt\""), ["a", "say \"hi\".txt"]);
        // Backslashes are not escaped: one ending the field stays a backslash.
        assert_eq!(fields("a,\"C:\\dir\\\""), ["a", "C:\\dir\\"]);
        assert_eq!(fields("a,C:\\dir\\x"), ["a", "C:\\dir\\x"]);
        assert_eq!(fields("a,"), ["a", ""]);
        assert_eq!(fields("a,b,c"), ["a", "b", "c"]);
        assert_eq!(fields(""), [""]);
        assert_eq!(split("a,\"open\n").expect("ok"), None);
        assert!(split("a,\"x\"y").is_err());
        assert!(split("a,x\"y").is_err());
    }

    fn read(text: impl AsRef<[u8]>) -> Result<NamesFile> {
        let text = text.as_ref();
        let dir = std::env::temp_dir().join(format!(
            "names-file-{}-{:x}",
            std::process::id(),
            journal::key(&String::from_utf8_lossy(text))
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("names.csv");
        std::fs::write(&p, text).expect("write");
        let r = NamesFile::read(&p);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn reads_a_file_with_header_quotes_and_line_breaks() {
        let n = read(
            "archive_id,name\nID1,photos/a.jpg\r\n\nID2,\"two\nlines.txt\"\nID3,\"q \\\"x\\\".txt\"\n",
        )
        .expect("reads");
        assert_eq!(n.len(), 3);
        assert_eq!(n.name("ID1"), Some("photos/a.jpg"));
        assert_eq!(n.name("ID2"), Some("two\nlines.txt"));
        assert_eq!(n.name("ID3"), Some("q \"x\".txt"));
        assert_eq!(n.name("ID4"), None);
        // Many names, in any order, each found by its ID.
        let text: String = (0..500)
            .rev()
            .map(|i| format!("id-{i},dir/{i}.txt\n"))
            .collect();
        let n = read(text).expect("reads");
        assert_eq!(n.len(), 500);
        assert!((0..500).all(|i| n.name(&format!("id-{i}")) == Some(&*format!("dir/{i}.txt"))));
        assert_eq!(n.name("id-500"), None);
    }

    #[test]
    fn listed_names_override_descriptions_and_are_made_safe() {
        let n = read("A,dir\\x.txt\nB,../etc/passwd\n").expect("reads");
        assert_eq!(name_for(Some(&n), "ignored", "A").path, "dir/x.txt");
        assert_eq!(
            name_for(Some(&n), "desc.txt", "B").source,
            NameSource::ArchiveId
        );
        assert_eq!(name_for(Some(&n), "desc.txt", "C").path, "desc.txt");
        assert_eq!(name_for(None, "desc.txt", "A").path, "desc.txt");
    }

    #[test]
    fn errors_name_file_and_line() {
        let msg = |t: &[u8]| read(t).expect_err("refused").to_string();
        let m = msg(b"ID1,a\nID2,b,c\n");
        assert!(m.contains("names.csv: line 2: expected 2 fields"), "{m}");
        let m = msg(b"ID1,a\nID1,b\n");
        assert!(
            m.contains("line 2: archive ID1 is named twice (first on line 1)"),
            "{m}"
        );
        // The first problem in the file is the one said, a duplicate included.
        let m = msg(b"ID1,a\nID2,b\n ID2 ,c\nID1,d\nID3,x,y\n");
        assert!(
            m.contains("line 3: archive ID2 is named twice (first on line 2)"),
            "{m}"
        );
        let m = msg(b"ID1,a\nID2,b,c\nID1,d\n");
        assert!(m.contains("line 2: expected 2 fields"), "{m}");
        let m = msg(b"ID1,a\n,b\n");
        assert!(m.contains("line 2: empty archive ID"), "{m}");
        let m = msg(b"ID1,\n");
        assert!(m.contains("line 1: empty name for archive ID1"), "{m}");
        let m = msg(b"ID1,a\nID2,\"open\nstill open\n");
        assert!(m.contains("line 2: unterminated quoted field"), "{m}");
        let m = msg(b"ID1,a\xff\n");
        assert!(m.contains("line 1: not readable as UTF-8"), "{m}");
        assert!(NamesFile::read(Path::new("/nonexistent/names.csv")).is_err());
    }
}
