//! Vault inventories: streaming readers for Glacier's JSON and CSV inventory formats, and
//! the renderers behind `glacier inventory get --format table|json|jsonl|csv`.
//!
//! An inventory is the output of an `inventory-retrieval` job (Glacier Developer Guide,
//! "Downloading a Vault Inventory"; `../shared/glacier-api.md`) and can exceed 1 GB, so
//! nothing here holds a whole document: [`Entries`] pulls one archive at a time from a
//! `Read` through a 64 KiB buffer, and [`render`] writes each archive as soon as it is
//! parsed. Memory is bounded by the buffer plus one entry, and every kept string is capped
//! at [`MAX_FIELD_BYTES`]. Values that are skipped (unknown keys, unknown CSV columns) are
//! never buffered. This module parses and formats; it does not download, name files or
//! decide where output goes (the CLI does).

use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::progress::human_bytes;

/// Longest string kept from an inventory (an archive ID, description, date, hash, or a
/// CSV header name), in bytes after unescaping. Glacier's own limits are far below it
/// (descriptions are at most 1,024 printable ASCII characters, archive IDs 138 bytes);
/// the cap is what keeps memory bounded on hostile input.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Nesting depth allowed in skipped JSON values; deeper input is rejected rather than
/// risking the stack.
const MAX_DEPTH: u32 = 128;

/// Read buffer size.
const BUF_BYTES: usize = 64 * 1024;

/// One archive of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// `ArchiveId`.
    pub archive_id: String,
    /// `ArchiveDescription` (empty when absent or null).
    pub description: String,
    /// `CreationDate`, as Glacier wrote it (ISO 8601).
    pub creation_date: String,
    /// `Size` in bytes.
    pub size: u64,
    /// `SHA256TreeHash`, lowercase hex as Glacier wrote it.
    pub tree_hash: String,
}

/// Header fields of a JSON inventory (CSV inventories have none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `VaultARN`.
    pub vault_arn: Option<String>,
    /// `InventoryDate`: when Glacier last took the inventory.
    pub inventory_date: Option<String>,
}

/// The format of an inventory job's output (the job's `Format` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `JSON`, Glacier's default.
    Json,
    /// `CSV`.
    Csv,
}

/// What the user asked `inventory get` to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// Aligned columns and a summary line, for people.
    Table,
    /// The original JSON document (or one in Glacier's shape for a CSV inventory).
    Json,
    /// One JSON object per archive and line.
    Jsonl,
    /// CSV with Glacier's header row.
    Csv,
}

/// What [`render`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Number of archives.
    pub archives: u64,
    /// Sum of their sizes in bytes (saturating).
    pub total_bytes: u64,
}

impl FromStr for Format {
    type Err = Error;

    /// `JSON` or `CSV`, any case: the spelling of the job's `Format` field.
    fn from_str(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(Error::Usage(format!(
                "unknown inventory format '{s}': expected JSON or CSV"
            ))),
        }
    }
}

impl FromStr for Render {
    type Err = Error;

    /// `table`, `json`, `jsonl` or `csv` (the `--format` values).
    fn from_str(s: &str) -> Result<Render> {
        match s {
            "table" => Ok(Render::Table),
            "json" => Ok(Render::Json),
            "jsonl" => Ok(Render::Jsonl),
            "csv" => Ok(Render::Csv),
            _ => Err(Error::Usage(format!(
                "unknown --format '{s}': expected table, json, jsonl or csv"
            ))),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Csv => "CSV",
        })
    }
}

/// Why an inventory could not be parsed: what was expected, and where.
///
/// Reported as the `source` of an [`Error::Transport`] whose `what` is `"inventory"`, so
/// the error chain reads `inventory: malformed JSON at byte 17: expected ':' ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The format being parsed.
    pub format: Format,
    /// Byte offset from the start of the document, counting from 0.
    pub offset: u64,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed {} at byte {}: {}",
            self.format, self.offset, self.message
        )
    }
}

impl std::error::Error for Malformed {}

/// A failure inside the parser, before it is given the crate's shape.
enum Fail {
    Io(io::Error),
    Bad(u64, String),
}

type Parsed<T> = std::result::Result<T, Fail>;

impl Fail {
    fn into_error(self, format: Format) -> Error {
        match self {
            Fail::Io(e) => Error::Transport {
                what: "inventory: reading the job output".into(),
                source: Box::new(e),
            },
            Fail::Bad(offset, message) => Error::Transport {
                what: "inventory".into(),
                source: Box::new(Malformed {
                    format,
                    offset,
                    message,
                }),
            },
        }
    }
}

/// Names a byte for an error message.
fn found(b: Option<u8>) -> String {
    match b {
        None => "end of input".into(),
        Some(b) if b.is_ascii_graphic() || b == b' ' => format!("'{}'", b as char),
        Some(b) => format!("byte 0x{b:02x}"),
    }
}

/// A buffered reader that knows its byte offset and can peek one byte.
struct Source<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bytes consumed before `buf[0]`.
    base: u64,
    eof: bool,
}

impl<R: Read> Source<R> {
    fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0; BUF_BYTES].into_boxed_slice(),
            pos: 0,
            len: 0,
            base: 0,
            eof: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes at least one byte available unless the input is exhausted.
    fn fill(&mut self) -> Parsed<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.base += self.len as u64;
        self.pos = 0;
        self.len = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Fail::Io(e)),
            }
        }
    }

    fn peek(&mut self) -> Parsed<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    fn bump(&mut self) {
        self.pos += 1;
    }

    fn next(&mut self) -> Parsed<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.bump();
        }
        Ok(b)
    }

    fn bad<T>(&self, message: impl Into<String>) -> Parsed<T> {
        Err(Fail::Bad(self.offset(), message.into()))
    }

    /// Skips a UTF-8 byte order mark at the start of the input.
    fn skip_bom(&mut self) -> Parsed<()> {
        if self.offset() == 0 && self.peek()? == Some(0xEF) {
            // The three bytes may straddle reads; check them one at a time.
            for want in [0xEF, 0xBB, 0xBF] {
                if self.peek()? != Some(want) {
                    return self.bad("expected a UTF-8 byte order mark (EF BB BF)");
                }
                self.bump();
            }
        }
        Ok(())
    }

    // ---- JSON tokens (RFC 8259) ----

    /// Skips whitespace and returns the next byte without consuming it.
    fn ws_peek(&mut self) -> Parsed<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.bump(),
                b => return Ok(b),
            }
        }
    }

    fn expect(&mut self, want: u8, context: &str) -> Parsed<()> {
        match self.ws_peek()? {
            Some(b) if b == want => {
                self.bump();
                Ok(())
            }
            b => self.bad(format!(
                "expected '{}' {context}, found {}",
                want as char,
                found(b)
            )),
        }
    }

    /// Reads a JSON string whose opening quote is next, into `keep` (up to
    /// [`MAX_FIELD_BYTES`]) or nowhere.
    fn json_string(&mut self, mut keep: Option<&mut Vec<u8>>) -> Parsed<()> {
        let start = self.offset();
        if self.next()? != Some(b'"') {
            return Err(Fail::Bad(start, "expected '\"'".into()));
        }
        loop {
            if !self.fill()? {
                return Err(Fail::Bad(start, "unterminated string".into()));
            }
            // Copy the run of plain bytes in one go: strings are most of an inventory.
            let avail = &self.buf[self.pos..self.len];
            let run = avail
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(avail.len());
            if let Some(k) = keep.as_deref_mut() {
                if k.len() + run > MAX_FIELD_BYTES {
                    return Err(Fail::Bad(
                        start,
                        format!("string longer than {MAX_FIELD_BYTES} bytes"),
                    ));
                }
                k.extend_from_slice(&avail[..run]);
            }
            let at_end = run == avail.len();
            self.pos += run;
            if at_end {
                continue;
            }
            let b = self.buf[self.pos];
            match b {
                b'"' => {
                    self.bump();
                    return Ok(());
                }
                b'\\' => {
                    self.bump();
                    let c = self.json_escape()?;
                    if let Some(k) = keep.as_deref_mut() {
                        let mut utf8 = [0; 4];
                        k.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        if k.len() > MAX_FIELD_BYTES {
                            return Err(Fail::Bad(
                                start,
                                format!("string longer than {MAX_FIELD_BYTES} bytes"),
                            ));
                        }
                    }
                }
                _ => {
                    return self.bad(format!(
                        "control character {} must be escaped in a string",
                        found(Some(b))
                    ));
                }
            }
        }
    }

    /// The character an escape stands for; the backslash is already consumed.
    fn json_escape(&mut self) -> Parsed<char> {
        let at = self.offset();
        let c = match self.next()? {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low one.
                        if self.next()? != Some(b'\\') || self.next()? != Some(b'u') {
                            return Err(Fail::Bad(
                                at,
                                "expected a \\u low surrogate after a high surrogate".into(),
                            ));
                        }
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(Fail::Bad(
                                at,
                                format!("expected a low surrogate, found \\u{lo:04x}"),
                            ));
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(Fail::Bad(at, format!("lone low surrogate \\u{hi:04x}")));
                    }
                    _ => hi,
                };
                char::from_u32(code).expect("surrogates were excluded above")
            }
            b => {
                return Err(Fail::Bad(
                    at,
                    format!("invalid escape \\{}", found(b).trim_matches('\'')),
                ));
            }
        };
        Ok(c)
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let b = self.peek()?;
            let d = match b.map(|b| (b as char).to_digit(16)) {
                Some(Some(d)) => d,
                _ => {
                    return self.bad(format!(
                        "expected 4 hex digits after \\u, found {}",
                        found(b)
                    ));
                }
            };
            self.bump();
            v = v * 16 + d;
        }
        Ok(v)
    }

    /// A kept string value, checked to be UTF-8.
    fn json_text(&mut self) -> Parsed<String> {
        let start = self.offset();
        let mut v = Vec::new();
        self.json_string(Some(&mut v))?;
        String::from_utf8(v).map_err(|_| Fail::Bad(start, "string is not valid UTF-8".into()))
    }

    /// A string value, or `None` for `null`.
    fn json_opt_text(&mut self, what: &str) -> Parsed<Option<String>> {
        match self.ws_peek()? {
            Some(b'"') => self.json_text().map(Some),
            Some(b'n') => self.json_literal("null").map(|()| None),
            b => self.bad(format!("expected a string for {what}, found {}", found(b))),
        }
    }

    fn json_literal(&mut self, word: &str) -> Parsed<()> {
        let start = self.offset();
        for &want in word.as_bytes() {
            if self.next()? != Some(want) {
                return Err(Fail::Bad(start, format!("expected {word}")));
            }
        }
        Ok(())
    }

    /// Reads a JSON number, keeping its text in `keep` if given.
    fn json_number(&mut self, mut keep: Option<&mut Vec<u8>>) -> Parsed<()> {
        let mut push = |s: &mut Self, b: u8| -> Parsed<()> {
            s.bump();
            if let Some(k) = keep.as_deref_mut() {
                if k.len() >= 32 {
                    return s.bad("number too long");
                }
                k.push(b);
            }
            Ok(())
        };
        if self.peek()? == Some(b'-') {
            push(self, b'-')?;
        }
        match self.peek()? {
            Some(b'0') => push(self, b'0')?,
            Some(b @ b'1'..=b'9') => {
                push(self, b)?;
                while let Some(b @ b'0'..=b'9') = self.peek()? {
                    push(self, b)?;
                }
            }
            b => return self.bad(format!("expected a digit, found {}", found(b))),
        }
        if self.peek()? == Some(b'.') {
            push(self, b'.')?;
            let mut digits = 0;
            while let Some(b @ b'0'..=b'9') = self.peek()? {
                push(self, b)?;
                digits += 1;
            }
            if digits == 0 {
                return self.bad("expected a digit after '.'");
            }
        }
        if let Some(e @ (b'e' | b'E')) = self.peek()? {
            push(self, e)?;
            if let Some(s @ (b'+' | b'-')) = self.peek()? {
                push(self, s)?;
            }
            let mut digits = 0;
            while let Some(b @ b'0'..=b'9') = self.peek()? {
                push(self, b)?;
                digits += 1;
            }
            if digits == 0 {
                return self.bad("expected a digit in the exponent");
            }
        }
        Ok(())
    }

    /// `Size`: a JSON number that is a non-negative integer fitting in u64.
    fn json_size(&mut self) -> Parsed<u64> {
        let start = self.offset();
        match self.ws_peek()? {
            Some(b'-' | b'0'..=b'9') => {}
            b => return self.bad(format!("expected a number for Size, found {}", found(b))),
        }
        let mut text = Vec::new();
        self.json_number(Some(&mut text))?;
        std::str::from_utf8(&text)
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| {
                Fail::Bad(
                    start,
                    format!(
                        "expected Size to be a non-negative integer below 2^64, found {}",
                        String::from_utf8_lossy(&text)
                    ),
                )
            })
    }

    /// Skips any JSON value without keeping it.
    fn json_skip(&mut self, depth: u32) -> Parsed<()> {
        if depth > MAX_DEPTH {
            return self.bad(format!("values nested deeper than {MAX_DEPTH} levels"));
        }
        match self.ws_peek()? {
            Some(b'"') => self.json_string(None),
            Some(b'-' | b'0'..=b'9') => self.json_number(None),
            Some(b't') => self.json_literal("true"),
            Some(b'f') => self.json_literal("false"),
            Some(b'n') => self.json_literal("null"),
            Some(b'{') => {
                self.bump();
                let mut first = true;
                while self.json_member(&mut first, None)? {
                    self.json_skip(depth + 1)?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.bump();
                let mut first = true;
                while self.json_element(&mut first, "a value")? {
                    self.json_skip(depth + 1)?;
                }
                Ok(())
            }
            b => self.bad(format!("expected a value, found {}", found(b))),
        }
    }

    /// Inside an object: consumes the closing `}` and returns false, or consumes a
    /// separating `,` as needed, the key (kept in `key` if given) and the `:`.
    fn json_member(&mut self, first: &mut bool, key: Option<&mut Vec<u8>>) -> Parsed<bool> {
        let mut b = self.ws_peek()?;
        if b == Some(b'}') {
            self.bump();
            return Ok(false);
        }
        if !*first {
            if b != Some(b',') {
                return self.bad(format!(
                    "expected ',' or '}}' after an object member, found {}",
                    found(b)
                ));
            }
            self.bump();
            b = self.ws_peek()?;
        }
        if b != Some(b'"') {
            let or_close = if *first { " or '}'" } else { "" };
            return self.bad(format!(
                "expected a string key{or_close}, found {}",
                found(b)
            ));
        }
        *first = false;
        self.json_string(key)?;
        self.expect(b':', "after an object key")?;
        Ok(true)
    }

    /// Inside an array: consumes the closing `]` and returns false, or consumes a
    /// separating `,` as needed and returns true with the element next.
    fn json_element(&mut self, first: &mut bool, what: &str) -> Parsed<bool> {
        let b = self.ws_peek()?;
        if b == Some(b']') {
            self.bump();
            return Ok(false);
        }
        if !*first {
            if b != Some(b',') {
                return self.bad(format!(
                    "expected ',' or ']' after {what}, found {}",
                    found(b)
                ));
            }
            self.bump();
        }
        *first = false;
        Ok(true)
    }

    /// One element of `ArchiveList`.
    fn json_entry(&mut self) -> Parsed<Entry> {
        let b = self.ws_peek()?;
        let start = self.offset();
        if b != Some(b'{') {
            return self.bad(format!(
                "expected '{{' starting an archive entry, found {}",
                found(b)
            ));
        }
        self.bump();
        let (mut id, mut desc, mut date, mut size, mut hash) = (None, None, None, None, None);
        let mut first = true;
        let mut key = Vec::new();
        loop {
            key.clear();
            if !self.json_member(&mut first, Some(&mut key))? {
                break;
            }
            match key.as_slice() {
                b"ArchiveId" => id = self.json_opt_text("ArchiveId")?,
                b"ArchiveDescription" => desc = self.json_opt_text("ArchiveDescription")?,
                b"CreationDate" => date = self.json_opt_text("CreationDate")?,
                b"SHA256TreeHash" => hash = self.json_opt_text("SHA256TreeHash")?,
                b"Size" => size = Some(self.json_size()?),
                _ => self.json_skip(1)?,
            }
        }
        let missing = |name: &str| Fail::Bad(start, format!("archive entry has no {name}"));
        Ok(Entry {
            archive_id: id.ok_or_else(|| missing("ArchiveId"))?,
            description: desc.unwrap_or_default(),
            creation_date: date.ok_or_else(|| missing("CreationDate"))?,
            size: size.ok_or_else(|| missing("Size"))?,
            tree_hash: hash.ok_or_else(|| missing("SHA256TreeHash"))?,
        })
    }

    // ---- CSV (RFC 4180, plus LF or lone CR line ends) ----

    /// Reads one field into `keep` (or nowhere) and says what ended it. `record` is the
    /// offset of the record, for errors.
    fn csv_field(&mut self, mut keep: Option<&mut Vec<u8>>, record: u64) -> Parsed<FieldEnd> {
        let start = self.offset();
        let mut push = |b: &[u8]| -> Parsed<()> {
            if let Some(k) = keep.as_deref_mut() {
                if k.len() + b.len() > MAX_FIELD_BYTES {
                    return Err(Fail::Bad(
                        record,
                        format!("field longer than {MAX_FIELD_BYTES} bytes"),
                    ));
                }
                k.extend_from_slice(b);
            }
            Ok(())
        };
        if self.peek()? == Some(b'"') {
            self.bump();
            loop {
                if !self.fill()? {
                    return Err(Fail::Bad(start, "unterminated quoted field".into()));
                }
                let avail = &self.buf[self.pos..self.len];
                let run = avail.iter().position(|&b| b == b'"').unwrap_or(avail.len());
                push(&self.buf[self.pos..self.pos + run])?;
                self.pos += run;
                if self.peek()? == Some(b'"') {
                    self.bump();
                    if self.peek()? == Some(b'"') {
                        // A doubled quote stands for one.
                        self.bump();
                        push(b"\"")?;
                    } else {
                        break;
                    }
                }
            }
            return match self.peek()? {
                Some(b',') => {
                    self.bump();
                    Ok(FieldEnd::Comma)
                }
                None => Ok(FieldEnd::Eof),
                Some(b'\n' | b'\r') => {
                    self.csv_eol()?;
                    Ok(FieldEnd::Eol)
                }
                b => self.bad(format!(
                    "expected ',' or end of line after a closing quote, found {}",
                    found(b)
                )),
            };
        }
        loop {
            if !self.fill()? {
                return Ok(FieldEnd::Eof);
            }
            let avail = &self.buf[self.pos..self.len];
            let run = avail
                .iter()
                .position(|&b| b == b',' || b == b'\n' || b == b'\r')
                .unwrap_or(avail.len());
            push(&self.buf[self.pos..self.pos + run])?;
            self.pos += run;
            match self.peek()? {
                Some(b',') => {
                    self.bump();
                    return Ok(FieldEnd::Comma);
                }
                Some(b'\n' | b'\r') => {
                    self.csv_eol()?;
                    return Ok(FieldEnd::Eol);
                }
                _ => {}
            }
        }
    }

    /// Consumes `\n`, `\r\n` or a lone `\r`.
    fn csv_eol(&mut self) -> Parsed<()> {
        if self.next()? == Some(b'\r') && self.peek()? == Some(b'\n') {
            self.bump();
        }
        Ok(())
    }
}

/// What ended a CSV field.
#[derive(PartialEq)]
enum FieldEnd {
    Comma,
    Eol,
    Eof,
}

/// Where the JSON reader is in the document.
#[derive(Clone, Copy)]
enum JsonState {
    Start,
    /// Among the top-level object's members.
    Top {
        first: bool,
    },
    /// Inside `ArchiveList`.
    List {
        first: bool,
    },
}

/// Column indexes of a CSV inventory.
struct CsvColumns {
    /// Index in the record of ArchiveId, ArchiveDescription, CreationDate, Size,
    /// SHA256TreeHash.
    at: [Option<usize>; 5],
    count: usize,
}

/// Glacier's CSV header names, in [`CsvColumns::at`] order.
const CSV_NAMES: [&str; 5] = [
    "ArchiveId",
    "ArchiveDescription",
    "CreationDate",
    "Size",
    "SHA256TreeHash",
];

enum State {
    Json { state: JsonState, saw_list: bool },
    Csv(Option<CsvColumns>),
    Done,
}

/// The archives of an inventory, read incrementally from `R`.
///
/// Yields one [`Entry`] per archive; after the first error it yields nothing more. For a
/// JSON inventory, [`Entries::header`] fills in as the header keys are met: they may come
/// after `ArchiveList`, so the header is complete only once the iterator has returned
/// `None`.
pub struct Entries<R> {
    src: Source<R>,
    format: Format,
    state: State,
    header: Header,
}

impl<R: Read> Entries<R> {
    /// Reads an inventory in `format` from `input` (unbuffered is fine: reads go through
    /// an internal 64 KiB buffer).
    pub fn new(input: R, format: Format) -> Self {
        Entries {
            src: Source::new(input),
            format,
            state: match format {
                Format::Json => State::Json {
                    state: JsonState::Start,
                    saw_list: false,
                },
                Format::Csv => State::Csv(None),
            },
            header: Header::default(),
        }
    }

    /// The header fields seen so far (always empty for CSV).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Bytes of input consumed so far.
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// The underlying reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.src.inner
    }

    fn step(&mut self) -> Parsed<Option<Entry>> {
        match &mut self.state {
            State::Done => Ok(None),
            State::Json { state, saw_list } => loop {
                match *state {
                    JsonState::Start => {
                        self.src.skip_bom()?;
                        self.src.expect(b'{', "starting the inventory object")?;
                        *state = JsonState::Top { first: true };
                    }
                    JsonState::Top { mut first } => {
                        let mut key = Vec::new();
                        let more = self.src.json_member(&mut first, Some(&mut key))?;
                        *state = JsonState::Top { first };
                        if !more {
                            if !*saw_list {
                                return self.src.bad("the inventory object has no ArchiveList");
                            }
                            let b = self.src.ws_peek()?;
                            if b.is_some() {
                                return self.src.bad(format!(
                                    "expected end of input after the inventory object, found {}",
                                    found(b)
                                ));
                            }
                            self.state = State::Done;
                            return Ok(None);
                        }
                        match key.as_slice() {
                            b"ArchiveList" => {
                                self.src.expect(b'[', "after \"ArchiveList\":")?;
                                *saw_list = true;
                                *state = JsonState::List { first: true };
                            }
                            b"VaultARN" => {
                                self.header.vault_arn = self.src.json_opt_text("VaultARN")?;
                            }
                            b"InventoryDate" => {
                                self.header.inventory_date =
                                    self.src.json_opt_text("InventoryDate")?;
                            }
                            _ => self.src.json_skip(1)?,
                        }
                    }
                    JsonState::List { mut first } => {
                        let more = self.src.json_element(&mut first, "an archive entry")?;
                        if more {
                            *state = JsonState::List { first };
                            return self.src.json_entry().map(Some);
                        }
                        *state = JsonState::Top { first: false };
                    }
                }
            },
            State::Csv(columns) => {
                let cols = match columns {
                    Some(c) => c,
                    None => columns.insert(csv_header(&mut self.src)?),
                };
                match csv_record(&mut self.src, cols)? {
                    Some(e) => Ok(Some(e)),
                    None => {
                        self.state = State::Done;
                        Ok(None)
                    }
                }
            }
        }
    }
}

impl<R: Read> Iterator for Entries<R> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        match self.step() {
            Ok(e) => e.map(Ok),
            Err(f) => {
                self.state = State::Done;
                Some(Err(f.into_error(self.format)))
            }
        }
    }
}

/// Skips blank lines; false at the end of input.
fn csv_skip_blank<R: Read>(src: &mut Source<R>) -> Parsed<bool> {
    loop {
        match src.peek()? {
            None => return Ok(false),
            Some(b'\n' | b'\r') => src.csv_eol()?,
            Some(_) => return Ok(true),
        }
    }
}

/// Reads the header row and finds Glacier's columns by name (their order is not
/// something to rely on).
fn csv_header<R: Read>(src: &mut Source<R>) -> Parsed<CsvColumns> {
    src.skip_bom()?;
    if !csv_skip_blank(src)? {
        return src.bad("expected a header row, found end of input");
    }
    let start = src.offset();
    let mut cols = CsvColumns {
        at: [None; 5],
        count: 0,
    };
    let mut name = Vec::new();
    loop {
        name.clear();
        let end = src.csv_field(Some(&mut name), start)?;
        let trimmed = String::from_utf8_lossy(&name);
        if let Some(i) = CSV_NAMES.iter().position(|n| *n == trimmed.trim()) {
            cols.at[i] = Some(cols.count);
        }
        cols.count += 1;
        if end != FieldEnd::Comma {
            break;
        }
    }
    for (i, name) in CSV_NAMES.iter().enumerate() {
        // ArchiveDescription may be absent, as in JSON; the rest identify an archive.
        if cols.at[i].is_none() && i != 1 {
            return Err(Fail::Bad(
                start,
                format!(
                    "header row has no {name} column (expected {})",
                    CSV_NAMES.join(",")
                ),
            ));
        }
    }
    Ok(cols)
}

/// Reads one record; `None` at the end of input.
fn csv_record<R: Read>(src: &mut Source<R>, cols: &CsvColumns) -> Parsed<Option<Entry>> {
    if !csv_skip_blank(src)? {
        return Ok(None);
    }
    let start = src.offset();
    let mut fields: [Vec<u8>; 5] = Default::default();
    let mut n = 0;
    loop {
        let slot = cols.at.iter().position(|&a| a == Some(n));
        let keep = slot.map(|i| &mut fields[i]);
        let end = src.csv_field(keep, start)?;
        n += 1;
        if end != FieldEnd::Comma {
            break;
        }
    }
    if n != cols.count {
        return Err(Fail::Bad(
            start,
            format!(
                "expected {} fields as in the header row, found {n}",
                cols.count
            ),
        ));
    }
    let [id, desc, date, size, hash] = fields.map(String::from_utf8);
    let utf8 = |r: std::result::Result<String, _>, name: &str| {
        r.map_err(|_| Fail::Bad(start, format!("{name} is not valid UTF-8")))
    };
    let size_text = utf8(size, "Size")?;
    let size = size_text.trim().parse::<u64>().map_err(|_| {
        Fail::Bad(
            start,
            format!("expected Size to be a non-negative integer below 2^64, found '{size_text}'"),
        )
    })?;
    Ok(Some(Entry {
        archive_id: utf8(id, "ArchiveId")?,
        description: utf8(desc, "ArchiveDescription")?,
        creation_date: utf8(date, "CreationDate")?,
        size,
        tree_hash: utf8(hash, "SHA256TreeHash")?,
    }))
}

/// Write errors as the CLI's `Output` reports them: a closed pipe exits quietly,
/// anything else names standard output (`-`).
fn out_err(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Error::BrokenPipe
    } else {
        Error::io("-", e)
    }
}

/// Streams `input` (an inventory in `format`) to `out` rendered as `render`, one archive
/// at a time, and returns the number of archives and their total size.
///
/// - `Table`: a header line, one line per archive — the archive ID padded to the width of
///   the first one (Glacier's IDs all have the same length, so the columns line up
///   without reading ahead), size in binary units right-aligned in 10 columns, creation
///   date padded to 20, then the description with control characters escaped — and a
///   final line `N archives, X total`.
/// - `Json`: a JSON inventory is copied through byte for byte (and still parsed, so a
///   malformed one is an error); a CSV inventory becomes `{"ArchiveList":[...]}` with
///   Glacier's key names (CSV carries no VaultARN or InventoryDate, so they are left out).
/// - `Jsonl`: one object per line with keys `archive_id`, `description`, `creation_date`,
///   `size`, `tree_hash`.
/// - `Csv`: Glacier's header row, then one record per archive, fields quoted only when
///   they contain `,`, `"`, CR or LF; lines end with LF.
///
/// `out` is buffered internally. Write errors are reported as on standard output
/// ([`Error::BrokenPipe`], or [`Error::Io`] with path `-`); a caller writing to a file
/// should name it. On a parse error, output already written stays written.
pub fn render(
    input: impl Read,
    format: Format,
    render: Render,
    out: &mut dyn Write,
) -> Result<Summary> {
    let mut out = BufWriter::with_capacity(BUF_BYTES, out);
    let summary = if (format, render) == (Format::Json, Render::Json) {
        passthrough(input, &mut out)?
    } else {
        let mut w = Renderer {
            render,
            summary: Summary::default(),
            id_width: 0,
        };
        for e in Entries::new(input, format) {
            w.entry(&e?, &mut out).map_err(out_err)?;
        }
        w.finish(&mut out).map_err(out_err)?;
        w.summary
    };
    out.flush().map_err(out_err)?;
    Ok(summary)
}

/// Copies every byte the parser reads to `out`.
struct Tee<'a, R> {
    inner: R,
    out: &'a mut dyn Write,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            self.failed = Some(e);
            return Err(io::Error::other("writing the output failed"));
        }
        Ok(n)
    }
}

/// `json` from a JSON inventory: the original bytes, checked by parsing them on the way.
fn passthrough(input: impl Read, out: &mut dyn Write) -> Result<Summary> {
    let mut entries = Entries::new(
        Tee {
            inner: input,
            out,
            failed: None,
        },
        Format::Json,
    );
    let mut summary = Summary::default();
    while let Some(e) = entries.next() {
        match e {
            Ok(e) => summary.add(&e),
            Err(err) => {
                return Err(match entries.get_mut().failed.take() {
                    Some(w) => out_err(w),
                    None => err,
                });
            }
        }
    }
    Ok(summary)
}

impl Summary {
    fn add(&mut self, e: &Entry) {
        self.archives += 1;
        self.total_bytes = self.total_bytes.saturating_add(e.size);
    }
}

/// Writes archives one by one in the chosen rendering.
struct Renderer {
    render: Render,
    summary: Summary,
    /// Table: width of the archive ID column, fixed by the first archive.
    id_width: usize,
}

impl Renderer {
    fn entry(&mut self, e: &Entry, out: &mut dyn Write) -> io::Result<()> {
        let first = self.summary.archives == 0;
        self.summary.add(e);
        match self.render {
            Render::Table => {
                if first {
                    self.id_width = e.archive_id.chars().count().max("ARCHIVE ID".len());
                    table_line(
                        out,
                        self.id_width,
                        "ARCHIVE ID",
                        "SIZE",
                        "CREATED",
                        "DESCRIPTION",
                    )?;
                }
                table_line(
                    out,
                    self.id_width,
                    &escape_controls(&e.archive_id),
                    &human_bytes(e.size),
                    &escape_controls(&e.creation_date),
                    &escape_controls(&e.description),
                )
            }
            Render::Jsonl => {
                serde_json::to_writer(&mut *out, e)?;
                out.write_all(b"\n")
            }
            Render::Csv => {
                if first {
                    csv_line(out, &CSV_NAMES.map(String::from))?;
                }
                csv_line(
                    out,
                    &[
                        e.archive_id.clone(),
                        e.description.clone(),
                        e.creation_date.clone(),
                        e.size.to_string(),
                        e.tree_hash.clone(),
                    ],
                )
            }
            Render::Json => {
                out.write_all(if first { b"{\"ArchiveList\":[" } else { b"," })?;
                write!(out, "{{\"ArchiveId\":")?;
                serde_json::to_writer(&mut *out, &e.archive_id)?;
                write!(out, ",\"ArchiveDescription\":")?;
                serde_json::to_writer(&mut *out, &e.description)?;
                write!(out, ",\"CreationDate\":")?;
                serde_json::to_writer(&mut *out, &e.creation_date)?;
                write!(out, ",\"Size\":{},\"SHA256TreeHash\":", e.size)?;
                serde_json::to_writer(&mut *out, &e.tree_hash)?;
                out.write_all(b"}")
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let empty = self.summary.archives == 0;
        match self.render {
            Render::Table => {
                let n = self.summary.archives;
                let s = if n == 1 { "" } else { "s" };
                writeln!(
                    out,
                    "{n} archive{s}, {} total",
                    human_bytes(self.summary.total_bytes)
                )
            }
            Render::Json => out.write_all(if empty {
                b"{\"ArchiveList\":[]}\n"
            } else {
                b"]}\n"
            }),
            // An empty inventory still gets its header row, so the output is valid CSV
            // for tools that expect the columns.
            Render::Csv if empty => csv_line(out, &CSV_NAMES.map(String::from)),
            Render::Csv | Render::Jsonl => Ok(()),
        }
    }
}

fn table_line(
    out: &mut dyn Write,
    id_width: usize,
    id: &str,
    size: &str,
    created: &str,
    desc: &str,
) -> io::Result<()> {
    let line = format!("{id:<id_width$}  {size:>10}  {created:<20}  {desc}");
    writeln!(out, "{}", line.trim_end())
}

/// Keeps a table row on one line: control characters become Rust-style escapes.
fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One CSV record, RFC 4180 quoting where needed.
fn csv_line(out: &mut dyn Write, fields: &[String]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\r', '\n']) {
            write!(out, "\"{}\"", f.replace('"', "\"\""))?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// Hands out at most a few bytes per read, varying, so every token straddles reads.
    struct Trickle<'a> {
        data: &'a [u8],
        pos: usize,
        reads: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            let n = (1 + self.reads % 7)
                .min(buf.len())
                .min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn trickle(data: &[u8]) -> Trickle<'_> {
        Trickle {
            data,
            pos: 0,
            reads: 0,
        }
    }

    fn parse(format: Format, data: &str) -> (Vec<Entry>, Header) {
        let mut it = Entries::new(trickle(data.as_bytes()), format);
        let v = it
            .by_ref()
            .collect::<Result<Vec<_>>>()
            .unwrap_or_else(|e| panic!("{}", crate::error::chain(&e)));
        (v, it.header().clone())
    }

    fn malformed(format: Format, data: &[u8]) -> Malformed {
        let err = Entries::new(trickle(data), format)
            .find_map(|e| e.err())
            .expect("an error");
        match err {
            Error::Transport { what, source } => {
                assert_eq!(what, "inventory");
                source
                    .downcast_ref::<Malformed>()
                    .expect("a Malformed")
                    .clone()
            }
            e => panic!("unexpected {e:?}"),
        }
    }

    fn rendered(data: &str, format: Format, r: Render) -> String {
        let mut out = Vec::new();
        render(trickle(data.as_bytes()), format, r, &mut out).expect("renders");
        String::from_utf8(out).expect("UTF-8")
    }

    fn entry(id: &str, desc: &str, date: &str, size: u64, hash: &str) -> Entry {
        Entry {
            archive_id: id.into(),
            description: desc.into(),
            creation_date: date.into(),
            size,
            tree_hash: hash.into(),
        }
    }

    const FIXTURE_JSON: &str = concat!(
        r#"{"VaultARN":"arn:aws:glacier:us-east-1:012345678901:vaults/photos","#,
        r#""InventoryDate":"2024-01-02T03:04:05Z","ArchiveList":["#,
        r#"{"ArchiveId":"AAAAAAAAAAAA","ArchiveDescription":"holiday, 2023","#,
        r#""CreationDate":"2023-12-24T10:00:00Z","Size":1610612736,"SHA256TreeHash":"aa11"},"#,
        r#"{"ArchiveId":"BBBBBBBBBBBB","ArchiveDescription":"say \"hi\"\nthere","#,
        r#""CreationDate":"2023-12-25T10:00:00Z","Size":512,"SHA256TreeHash":"bb22"}]}"#,
        "\n"
    );

    const FIXTURE_CSV: &str = concat!(
        "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n",
        "AAAAAAAAAAAA,\"holiday, 2023\",2023-12-24T10:00:00Z,1610612736,aa11\n",
        "BBBBBBBBBBBB,\"say \"\"hi\"\"\nthere\",2023-12-25T10:00:00Z,512,bb22\n",
    );

    fn fixture_entries() -> Vec<Entry> {
        vec![
            entry(
                "AAAAAAAAAAAA",
                "holiday, 2023",
                "2023-12-24T10:00:00Z",
                1610612736,
                "aa11",
            ),
            entry(
                "BBBBBBBBBBBB",
                "say \"hi\"\nthere",
                "2023-12-25T10:00:00Z",
                512,
                "bb22",
            ),
        ]
    }

    #[test]
    fn json_header_before_the_list() {
        let (entries, header) = parse(Format::Json, FIXTURE_JSON);
        assert_eq!(entries, fixture_entries());
        assert_eq!(
            header.vault_arn.as_deref(),
            Some("arn:aws:glacier:us-east-1:012345678901:vaults/photos")
        );
        assert_eq!(
            header.inventory_date.as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
    }

    #[test]
    fn json_header_after_the_list_and_keys_in_any_order() {
        let doc = r#" { "ArchiveList" : [ { "SHA256TreeHash" : "h" , "Size" : 0 ,
            "CreationDate" : "d" , "ArchiveDescription" : "" , "ArchiveId" : "i" } ] ,
            "InventoryDate" : "2024" , "VaultARN" : "arn" } "#;
        let mut it = Entries::new(doc.as_bytes(), Format::Json);
        assert_eq!(
            it.next().expect("one").expect("ok"),
            entry("i", "", "d", 0, "h")
        );
        assert_eq!(it.header(), &Header::default(), "not read yet");
        assert!(it.next().is_none());
        assert!(it.next().is_none(), "fused");
        assert_eq!(it.header().vault_arn.as_deref(), Some("arn"));
        assert_eq!(it.header().inventory_date.as_deref(), Some("2024"));
        assert_eq!(it.offset(), doc.len() as u64);
    }

    #[test]
    fn json_unknown_keys_are_skipped() {
        let doc = r#"{"Extra":{"a":[1,-2.5e+3,true,false,null,{"b":"}]\""}],"c":{}},
            "Numbers":[0,1E2,-0.0],"ArchiveList":[{"Tags":["x",{"y":[[]]}],"ArchiveId":"i",
            "CreationDate":"d","Size":7,"Nested":{"Size":99},"SHA256TreeHash":"h",
            "ArchiveDescription":null}],"More":"\u0041\\"}"#;
        let (entries, header) = parse(Format::Json, doc);
        assert_eq!(entries, vec![entry("i", "", "d", 7, "h")]);
        assert_eq!(header, Header::default());
    }

    #[test]
    fn json_escapes() {
        let doc = r#"{"ArchiveList":[{"ArchiveId":"a\"b\\c\/d","ArchiveDescription":
            "line\nnext\ttab\r\b\f caf\u00e9 \u00E9 smile \ud83d\ude00 raw é 😀",
            "CreationDate":"d","Size":1,"SHA256TreeHash":"h"}]}"#;
        let (entries, _) = parse(Format::Json, doc);
        assert_eq!(entries[0].archive_id, "a\"b\\c/d");
        assert_eq!(
            entries[0].description,
            "line\nnext\ttab\r\u{8}\u{c} café é smile 😀 raw é 😀"
        );
    }

    #[test]
    fn json_empty_list() {
        let doc = "\u{feff}{\"VaultARN\":\"v\",\"ArchiveList\":[ ]}";
        let (entries, header) = parse(Format::Json, doc);
        assert!(entries.is_empty());
        assert_eq!(header.vault_arn.as_deref(), Some("v"));
        assert_eq!(
            rendered(doc, Format::Json, Render::Table),
            "0 archives, 0 B total\n"
        );
        assert_eq!(rendered(doc, Format::Json, Render::Jsonl), "");
        assert_eq!(
            rendered(doc, Format::Json, Render::Csv),
            "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"
        );
    }

    /// 200,000 archives through a reader giving at most 7 bytes per read: the streaming
    /// path with every token split across reads, at a size where quadratic behaviour or
    /// a leak of memory per entry would show.
    #[test]
    fn large_inventories_stream() {
        const N: u64 = 200_000;
        let mut json = String::from(r#"{"ArchiveList":["#);
        let mut csv = String::from("Size,SHA256TreeHash,ArchiveId,CreationDate\n");
        for i in 0..N {
            if i > 0 {
                json.push(',');
            }
            write!(
                json,
                r#"{{"ArchiveId":"id{i}","CreationDate":"d","Size":{i},"SHA256TreeHash":"h"}}"#
            )
            .expect("String");
            writeln!(csv, "{i},h,id{i},d").expect("String");
        }
        json.push_str(r#"],"VaultARN":"end"}"#);
        for (format, doc) in [(Format::Json, &json), (Format::Csv, &csv)] {
            let mut it = Entries::new(trickle(doc.as_bytes()), format);
            let (mut n, mut total) = (0u64, 0u64);
            for e in it.by_ref() {
                let e = e.expect("parses");
                assert_eq!(e.size, n);
                n += 1;
                total += e.size;
            }
            assert_eq!(n, N);
            assert_eq!(total, N * (N - 1) / 2);
            if format == Format::Json {
                assert_eq!(it.header().vault_arn.as_deref(), Some("end"));
            }
        }
    }

    #[test]
    fn malformed_json_says_what_and_where() {
        let ok_entry = r#"{"ArchiveId":"a","CreationDate":"d","Size":1,"SHA256TreeHash":"h"}"#;
        let after_entry = 16 + ok_entry.len() as u64;
        let cases: Vec<(String, u64, &str)> = vec![
            (
                r#"{"ArchiveList" []}"#.into(),
                15,
                "expected ':' after an object key, found '['",
            ),
            (
                "[]".into(),
                0,
                "expected '{' starting the inventory object, found '['",
            ),
            (
                "".into(),
                0,
                "expected '{' starting the inventory object, found end of input",
            ),
            (
                r#"{"ArchiveList":["#.into(),
                16,
                "expected '{' starting an archive entry, found end of input",
            ),
            (
                format!(r#"{{"ArchiveList":[{ok_entry},]}}"#),
                after_entry + 1,
                "expected '{' starting an archive entry, found ']'",
            ),
            (
                format!(r#"{{"ArchiveList":[{ok_entry} {ok_entry}]}}"#),
                after_entry + 1,
                "expected ',' or ']' after an archive entry, found '{'",
            ),
            (
                r#"{"ArchiveList":[],}"#.into(),
                18,
                "expected a string key, found '}'",
            ),
            (
                r#"{"ArchiveList":[]} x"#.into(),
                19,
                "expected end of input after the inventory object, found 'x'",
            ),
            (
                r#"{"VaultARN":"v"}"#.into(),
                16,
                "the inventory object has no ArchiveList",
            ),
            (
                r#"{"ArchiveList":{}}"#.into(),
                15,
                "expected '[' after \"ArchiveList\":, found '{'",
            ),
            (r#"{"X":"a\x"}"#.into(), 8, "invalid escape \\x"),
            (r#"{"X":"\udc00"}"#.into(), 7, "lone low surrogate \\udc00"),
            (
                r#"{"X":"\ud83d"}"#.into(),
                7,
                "expected a \\u low surrogate after a high surrogate",
            ),
            (
                r#"{"X":"\ud83d\u0041"}"#.into(),
                7,
                "expected a low surrogate, found \\u0041",
            ),
            (
                r#"{"X":"\u12g4"}"#.into(),
                10,
                "expected 4 hex digits after \\u, found 'g'",
            ),
            (
                "{\"X\":\"a\tb\"}".into(),
                7,
                "control character byte 0x09 must be escaped in a string",
            ),
            (r#"{"X":"abc"#.into(), 5, "unterminated string"),
            (r#"{"X":tru}"#.into(), 5, "expected true"),
            (
                r#"{"X":01}"#.into(),
                6,
                "expected ',' or '}' after an object member, found '1'",
            ),
            (r#"{"X":1.}"#.into(), 7, "expected a digit after '.'"),
            (r#"{"X":-}"#.into(), 6, "expected a digit, found '}'"),
            (
                format!("{{\"X\":{}}}", "[".repeat(200)),
                133,
                "values nested deeper than 128 levels",
            ),
            (
                r#"{"ArchiveList":[{"ArchiveId":"a"}]}"#.into(),
                16,
                "archive entry has no CreationDate",
            ),
            (
                r#"{"ArchiveList":[{"Size":-1}]}"#.into(),
                24,
                "expected Size to be a non-negative integer below 2^64, found -1",
            ),
            (
                r#"{"ArchiveList":[{"Size":1.5}]}"#.into(),
                24,
                "expected Size to be a non-negative integer below 2^64, found 1.5",
            ),
            (
                r#"{"ArchiveList":[{"Size":18446744073709551616}]}"#.into(),
                24,
                "expected Size to be a non-negative integer below 2^64, found 18446744073709551616",
            ),
            (
                r#"{"ArchiveList":[{"Size":"1"}]}"#.into(),
                24,
                "expected a number for Size, found '\"'",
            ),
            (
                r#"{"ArchiveList":[{"ArchiveId":7}]}"#.into(),
                29,
                "expected a string for ArchiveId, found '7'",
            ),
        ];
        for (doc, offset, message) in cases {
            let m = malformed(Format::Json, doc.as_bytes());
            assert_eq!((m.offset, m.message.as_str()), (offset, message), "{doc}");
        }
        let bad_utf8 = b"{\"VaultARN\":\"\xff\"}";
        assert_eq!(
            malformed(Format::Json, bad_utf8).message,
            "string is not valid UTF-8"
        );
        let long = format!(r#"{{"VaultARN":"{}"}}"#, "x".repeat(MAX_FIELD_BYTES + 1));
        assert_eq!(
            malformed(Format::Json, long.as_bytes()).message,
            format!("string longer than {MAX_FIELD_BYTES} bytes")
        );
    }

    #[test]
    fn malformed_error_reads_well_in_a_chain() {
        let err = Entries::new(&b"{\"ArchiveList\" []}"[..], Format::Json)
            .find_map(|e| e.err())
            .expect("an error");
        assert_eq!(
            crate::error::chain(&err),
            "inventory: malformed JSON at byte 15: expected ':' after an object key, found '['"
        );
    }

    #[test]
    fn read_errors_are_transport_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let err = render(Broken, Format::Json, Render::Table, &mut Vec::new())
            .expect_err("the read fails");
        assert_eq!(
            crate::error::chain(&err),
            "inventory: reading the job output: reset"
        );
    }

    #[test]
    fn csv_quotes_newlines_and_reordered_columns() {
        let doc = concat!(
            "\u{feff}Size,Extra,SHA256TreeHash,ArchiveDescription,CreationDate,ArchiveId\r\n",
            "10,\"x,y\",h1,\"a, b \"\"quoted\"\"\r\nline 2\",d1,id1\r\n",
            "\r\n",
            "20,,h2,,d2,\"id2\"\n",
            "30,z,h3,plain \"mid\" quote,d3,id3",
        );
        let (entries, header) = parse(Format::Csv, doc);
        assert_eq!(header, Header::default());
        assert_eq!(
            entries,
            vec![
                entry("id1", "a, b \"quoted\"\r\nline 2", "d1", 10, "h1"),
                entry("id2", "", "d2", 20, "h2"),
                entry("id3", "plain \"mid\" quote", "d3", 30, "h3"),
            ]
        );
    }

    #[test]
    fn csv_without_description_column() {
        let (entries, _) = parse(
            Format::Csv,
            "ArchiveId,CreationDate,Size,SHA256TreeHash\ni,d,1,h\n",
        );
        assert_eq!(entries, vec![entry("i", "", "d", 1, "h")]);
    }

    #[test]
    fn malformed_csv_says_what_and_where() {
        let head = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n";
        let cases: Vec<(String, u64, String)> = vec![
            ("".into(), 0, "expected a header row, found end of input".into()),
            (
                "ArchiveId,Size\n".into(),
                0,
                "header row has no CreationDate column (expected ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash)".into(),
            ),
            (format!("{head}i,\"unterminated,d,1,h\n"), 64, "unterminated quoted field".into()),
            (format!("{head}i,\"q\"x,d,1,h\n"), 67, "expected ',' or end of line after a closing quote, found 'x'".into()),
            (format!("{head}i,,d,1\n"), 62, "expected 5 fields as in the header row, found 4".into()),
            (format!("{head}i,,d,1,h,extra\n"), 62, "expected 5 fields as in the header row, found 6".into()),
            (format!("{head}i,,d,-1,h\n"), 62, "expected Size to be a non-negative integer below 2^64, found '-1'".into()),
            (format!("{head}i,,d,,h\n"), 62, "expected Size to be a non-negative integer below 2^64, found ''".into()),
        ];
        for (doc, offset, message) in cases {
            let m = malformed(Format::Csv, doc.as_bytes());
            assert_eq!(
                (m.offset, m.message.as_str()),
                (offset, message.as_str()),
                "{doc}"
            );
            assert_eq!(m.format, Format::Csv);
        }
        let bad_utf8 = [head.as_bytes(), b"\xff,,d,1,h\n"].concat();
        assert_eq!(
            malformed(Format::Csv, &bad_utf8).message,
            "ArchiveId is not valid UTF-8"
        );
    }

    #[test]
    fn table_output() {
        let expected = concat!(
            "ARCHIVE ID          SIZE  CREATED               DESCRIPTION\n",
            "AAAAAAAAAAAA     1.5 GiB  2023-12-24T10:00:00Z  holiday, 2023\n",
            "BBBBBBBBBBBB       512 B  2023-12-25T10:00:00Z  say \"hi\"\\nthere\n",
            "2 archives, 1.5 GiB total\n",
        );
        assert_eq!(
            rendered(FIXTURE_JSON, Format::Json, Render::Table),
            expected
        );
        assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Table), expected);
    }

    #[test]
    fn table_with_one_archive_and_no_description() {
        let doc = r#"{"ArchiveList":[{"ArchiveId":"short","CreationDate":"d","Size":2048,"SHA256TreeHash":"h"}]}"#;
        assert_eq!(
            rendered(doc, Format::Json, Render::Table),
            concat!(
                "ARCHIVE ID        SIZE  CREATED               DESCRIPTION\n",
                "short          2.0 KiB  d\n",
                "1 archive, 2.0 KiB total\n",
            )
        );
    }

    #[test]
    fn jsonl_output() {
        let expected = concat!(
            r#"{"archive_id":"AAAAAAAAAAAA","description":"holiday, 2023","creation_date":"2023-12-24T10:00:00Z","size":1610612736,"tree_hash":"aa11"}"#,
            "\n",
            r#"{"archive_id":"BBBBBBBBBBBB","description":"say \"hi\"\nthere","creation_date":"2023-12-25T10:00:00Z","size":512,"tree_hash":"bb22"}"#,
            "\n",
        );
        assert_eq!(
            rendered(FIXTURE_JSON, Format::Json, Render::Jsonl),
            expected
        );
        assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Jsonl), expected);
    }

    #[test]
    fn csv_output() {
        assert_eq!(
            rendered(FIXTURE_JSON, Format::Json, Render::Csv),
            FIXTURE_CSV
        );
        assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Csv), FIXTURE_CSV);
    }

    #[test]
    fn json_output_copies_a_json_inventory_unchanged() {
        // Whitespace, key order and escapes that a re-serialization would change.
        let doc = "{ \"ArchiveList\" : [ {\"ArchiveId\":\"\\u0041\",\"CreationDate\":\"d\",\
                   \"Size\":1,\"SHA256TreeHash\":\"h\",\"Other\":[1]} ],\n\"VaultARN\":null }\n\n";
        let mut out = Vec::new();
        let summary = render(
            trickle(doc.as_bytes()),
            Format::Json,
            Render::Json,
            &mut out,
        )
        .expect("renders");
        assert_eq!(String::from_utf8(out).expect("UTF-8"), doc);
        assert_eq!(
            summary,
            Summary {
                archives: 1,
                total_bytes: 1
            }
        );
        assert_eq!(
            rendered(FIXTURE_JSON, Format::Json, Render::Json),
            FIXTURE_JSON
        );
    }

    #[test]
    fn json_output_from_csv_has_glaciers_shape() {
        let expected = concat!(
            r#"{"ArchiveList":[{"ArchiveId":"AAAAAAAAAAAA","ArchiveDescription":"holiday, 2023","#,
            r#""CreationDate":"2023-12-24T10:00:00Z","Size":1610612736,"SHA256TreeHash":"aa11"},"#,
            r#"{"ArchiveId":"BBBBBBBBBBBB","ArchiveDescription":"say \"hi\"\nthere","#,
            r#""CreationDate":"2023-12-25T10:00:00Z","Size":512,"SHA256TreeHash":"bb22"}]}"#,
            "\n"
        );
        assert_eq!(rendered(FIXTURE_CSV, Format::Csv, Render::Json), expected);
        let empty = "ArchiveId,CreationDate,Size,SHA256TreeHash\r\n";
        assert_eq!(
            rendered(empty, Format::Csv, Render::Json),
            "{\"ArchiveList\":[]}\n"
        );
    }

    #[test]
    fn round_trips_through_every_rendering() {
        let want = fixture_entries();
        let csv = rendered(FIXTURE_JSON, Format::Json, Render::Csv);
        assert_eq!(parse(Format::Csv, &csv).0, want, "JSON → CSV → parse");
        let json = rendered(&csv, Format::Csv, Render::Json);
        assert_eq!(parse(Format::Json, &json).0, want, "CSV → JSON → parse");
        let lines = rendered(&json, Format::Json, Render::Jsonl);
        let back: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1]["description"], "say \"hi\"\nthere");
    }

    #[test]
    fn a_closed_pipe_is_reported_as_such() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        // Large enough to overflow the output buffer while rendering.
        let mut doc = String::from("ArchiveId,CreationDate,Size,SHA256TreeHash\n");
        for i in 0..10_000 {
            writeln!(doc, "id{i},d,{i},h").expect("String");
        }
        let json = rendered(&doc, Format::Csv, Render::Json);
        for (format, input) in [(Format::Csv, &doc), (Format::Json, &json)] {
            for r in [Render::Table, Render::Json, Render::Jsonl, Render::Csv] {
                let err = render(input.as_bytes(), format, r, &mut Closed)
                    .expect_err("the pipe is closed");
                assert!(matches!(err, Error::BrokenPipe), "{format} {r:?}: {err:?}");
            }
        }
    }

    #[test]
    fn formats_parse_from_their_names() {
        assert_eq!("JSON".parse::<Format>().ok(), Some(Format::Json));
        assert_eq!("csv".parse::<Format>().ok(), Some(Format::Csv));
        assert!("xml".parse::<Format>().is_err());
        assert_eq!("jsonl".parse::<Render>().ok(), Some(Render::Jsonl));
        assert_eq!("table".parse::<Render>().ok(), Some(Render::Table));
        assert!(matches!("TABLE".parse::<Render>(), Err(Error::Usage(_))));
    }
}
