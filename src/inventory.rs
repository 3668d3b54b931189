//! Vault inventories: streaming readers for Glacier's JSON and CSV inventory formats, and
//! the renderers behind `glacier inventory get --format table|json|jsonl|csv`.
//!
//! An inventory is the output of an `inventory-retrieval` job (Glacier Developer Guide,
//! "Downloading a Vault Inventory") and can exceed 1 GB, so
//! nothing here holds a whole document: [`Entries`] pulls one archive at a time from a
//! `Read` through a 64 KiB buffer, and [`render`] writes each archive as soon as it is
//! parsed. Memory is bounded by the buffer plus one entry, and every kept string is capped
//! at [`MAX_FIELD_BYTES`]. Values that are skipped (unknown keys, unknown CSV columns) are
//! never buffered. This module parses and formats; it does not download, name files or
//! decide where output goes (the CLI does).

use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::str::FromStr;

use crate::error::{Error, Result, Setting};
use crate::progress::human_bytes;

mod csv;
mod json;
mod source;
#[cfg(test)]
mod tests;

use csv::{CSV_NAMES, CsvColumns, csv_header, csv_record};
use source::{Parsed, Source, found};

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
    /// `CreationDate`, as Glacier wrote it (ISO 8601); empty when absent or null (the
    /// service model does not mark it required): unknown, shown as `-` or `null`.
    #[serde(serialize_with = "empty_as_null")]
    pub creation_date: String,
    /// `Size` in bytes.
    pub size: u64,
    /// `SHA256TreeHash`, lowercase hex as Glacier wrote it.
    pub tree_hash: String,
}

/// Writes an empty string as `null`: an unknown value is not an empty one.
fn empty_as_null<S: serde::Serializer>(v: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(v)
    }
}

/// Archive entries skipped because they lack what identifies an archive (`ArchiveId`,
/// `Size` or `SHA256TreeHash` absent, null or empty): nothing can be retrieved, checked
/// or deleted from them, so readers skip them and report how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unusable {
    /// How many were skipped.
    pub count: u64,
    /// What the first one lacked and where (`no SHA256TreeHash (entry at byte 1234)`).
    pub first: Option<String>,
}

impl Unusable {
    fn add(&mut self, why: String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(why);
        }
    }

    /// One line for stderr, or `None` when nothing was skipped.
    pub fn note(&self) -> Option<String> {
        let first = self.first.as_deref()?;
        Some(format!(
            "{} inventory entries skipped: they lack an archive ID, size or tree hash (the first: {first})",
            self.count
        ))
    }
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
    /// Entries left out for lacking an archive ID, size or tree hash (see [`Unusable`];
    /// the `json` rendering of a JSON inventory keeps them, being the original bytes).
    pub unusable: u64,
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
                "unknown {} '{s}': expected table, json, jsonl or csv",
                Setting::Format
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
    unusable: Unusable,
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
            unusable: Unusable::default(),
        }
    }

    /// The entries skipped so far for lacking an archive ID, size or tree hash (complete
    /// once the iterator has returned `None`).
    pub fn unusable(&self) -> &Unusable {
        &self.unusable
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
                        self.src.consume(b'{', "starting the inventory object")?;
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
                                self.src.consume(b'[', "after \"ArchiveList\":")?;
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
                            match self.src.json_entry()? {
                                Ok(e) => return Ok(Some(e)),
                                Err(why) => {
                                    self.unusable.add(why);
                                    continue;
                                }
                            }
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
                loop {
                    match csv_record(&mut self.src, cols)? {
                        Some(Ok(e)) => return Ok(Some(e)),
                        Some(Err(why)) => self.unusable.add(why),
                        None => {
                            self.state = State::Done;
                            return Ok(None);
                        }
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
        render_all(Entries::new(input, format), render, None, &mut out)?
    };
    out.flush().map_err(out_err)?;
    Ok(summary)
}

/// Names an archive: the name `vault export` would give it, resolved over the whole
/// inventory by the caller (this module knows nothing of naming).
pub type Namer<'a> = &'a dyn Fn(&Entry) -> String;

/// Like [`render`], from parsed `entries`, with each archive's name from `name` beside
/// its description, so a user can find a file before paying for its retrieval:
///
/// - `Table`: a NAME column between CREATED and DESCRIPTION (both with control
///   characters escaped);
/// - `Csv`: Glacier's five columns, then `Name` (readers that look columns up by name,
///   ours included, read it as a Glacier inventory);
/// - `Jsonl`: a `name` member after the others;
/// - `Json`: Glacier's document shape, without names (it stays Glacier's format).
pub fn render_named<R: Read>(
    entries: Entries<R>,
    render: Render,
    name: Namer<'_>,
    out: &mut dyn Write,
) -> Result<Summary> {
    let mut out = BufWriter::with_capacity(BUF_BYTES, out);
    let summary = render_all(entries, render, Some(name), &mut out)?;
    out.flush().map_err(out_err)?;
    Ok(summary)
}

fn render_all<R: Read>(
    mut entries: Entries<R>,
    render: Render,
    name: Option<Namer<'_>>,
    out: &mut dyn Write,
) -> Result<Summary> {
    let mut w = Renderer {
        render,
        summary: Summary::default(),
        id_width: 0,
        name,
    };
    for e in entries.by_ref() {
        w.entry(&e?, out).map_err(out_err)?;
    }
    w.finish(out).map_err(out_err)?;
    w.summary.unusable = entries.unusable().count;
    Ok(w.summary)
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
    summary.unusable = entries.unusable().count;
    Ok(summary)
}

impl Summary {
    fn add(&mut self, e: &Entry) {
        self.archives += 1;
        self.total_bytes = self.total_bytes.saturating_add(e.size);
    }
}

/// Writes archives one by one in the chosen rendering.
struct Renderer<'a> {
    render: Render,
    summary: Summary,
    /// Table: width of the archive ID column, fixed by the first archive.
    id_width: usize,
    /// Each archive's name, when the caller resolved them.
    name: Option<Namer<'a>>,
}

/// An entry with its name, for JSON lines.
#[derive(serde::Serialize)]
struct NamedEntry<'e> {
    #[serde(flatten)]
    entry: &'e Entry,
    name: &'e str,
}

impl Renderer<'_> {
    fn entry(&mut self, e: &Entry, out: &mut dyn Write) -> io::Result<()> {
        let first = self.summary.archives == 0;
        self.summary.add(e);
        let name = self.name.map(|n| n(e));
        match self.render {
            Render::Table => {
                if first {
                    self.id_width = e.archive_id.chars().count().max("ARCHIVE ID".len());
                    let head = ["ARCHIVE ID", "SIZE", "CREATED", "NAME", "DESCRIPTION"];
                    table_line(out, self.id_width, &head.map(String::from), name.is_some())?;
                }
                let created = if e.creation_date.is_empty() {
                    "-".into()
                } else {
                    escape_controls(&e.creation_date)
                };
                let row = [
                    escape_controls(&e.archive_id),
                    human_bytes(e.size),
                    created,
                    name.as_deref().map(escape_controls).unwrap_or_default(),
                    escape_controls(&e.description),
                ];
                table_line(out, self.id_width, &row, name.is_some())
            }
            Render::Jsonl => {
                match &name {
                    Some(name) => serde_json::to_writer(&mut *out, &NamedEntry { entry: e, name })?,
                    None => serde_json::to_writer(&mut *out, e)?,
                }
                out.write_all(b"\n")
            }
            Render::Csv => {
                if first {
                    self.csv_header(out)?;
                }
                let mut fields = vec![
                    e.archive_id.clone(),
                    e.description.clone(),
                    e.creation_date.clone(),
                    e.size.to_string(),
                    e.tree_hash.clone(),
                ];
                fields.extend(name);
                csv_line(out, &fields)
            }
            Render::Json => {
                out.write_all(if first { b"{\"ArchiveList\":[" } else { b"," })?;
                write!(out, "{{\"ArchiveId\":")?;
                serde_json::to_writer(&mut *out, &e.archive_id)?;
                write!(out, ",\"ArchiveDescription\":")?;
                serde_json::to_writer(&mut *out, &e.description)?;
                write!(out, ",\"CreationDate\":")?;
                if e.creation_date.is_empty() {
                    out.write_all(b"null")?;
                } else {
                    serde_json::to_writer(&mut *out, &e.creation_date)?;
                }
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
            Render::Csv if empty => self.csv_header(out),
            Render::Csv | Render::Jsonl => Ok(()),
        }
    }

    /// Glacier's header row, and `Name` when archives are named.
    fn csv_header(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut head: Vec<String> = CSV_NAMES.map(String::from).to_vec();
        if self.name.is_some() {
            head.push("Name".into());
        }
        csv_line(out, &head)
    }
}

/// One table row: ID, size, created, name, description; the name column only when
/// archives are `named`.
fn table_line(
    out: &mut dyn Write,
    id_width: usize,
    cols: &[String; 5],
    named: bool,
) -> io::Result<()> {
    let [id, size, created, name, desc] = cols;
    let line = if named {
        format!("{id:<id_width$}  {size:>10}  {created:<20}  {name}  {desc}")
    } else {
        format!("{id:<id_width$}  {size:>10}  {created:<20}  {desc}")
    };
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

/// One CSV record, RFC 4180 quoting where needed. A quote is doubled, except right after
/// a backslash, where it is escaped as Glacier does (`\"`), because our reader takes
/// `\"` for an escaped quote (Glacier's format) and `\""` would not read back.
fn csv_line(out: &mut dyn Write, fields: &[String]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\r', '\n']) {
            write!(out, "\"{}\"", csv_quote(f))?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

/// The inside of a quoted CSV field, as [`csv_line`] writes it.
fn csv_quote(f: &str) -> String {
    let mut q = String::with_capacity(f.len() + 2);
    let mut after_backslash = false;
    for c in f.chars() {
        match c {
            '"' if after_backslash => q.push_str("\\\""),
            '"' => q.push_str("\"\""),
            c => q.push(c),
        }
        after_backslash = c == '\\';
    }
    q
}
