//! CSV inventories (RFC 4180, also accepting LF and lone CR line ends): fields quoted
//! with `"` may hold commas, line breaks and quotes, a quote escaped either as Glacier
//! writes it, with a backslash (`"say \"hi\".txt"`, backslashes themselves not escaped:
//! "Get Job Output", CSV format), or doubled as RFC 4180 and our own output write it
//! (`"say ""hi"".txt"`); columns are found by their header name. Only the five columns Glacier defines are kept, each capped at
//! [`MAX_FIELD_BYTES`](super::MAX_FIELD_BYTES); other columns are skipped unbuffered.

use std::io::Read;

use super::source::{Fail, Parsed, Source, found};
use super::{Entry, MAX_FIELD_BYTES};

impl<R: Read> Source<R> {
    /// Reads one field into `keep` (or nowhere) and says what ended it. `record` is the
    /// offset of the record, for errors.
    pub(super) fn csv_field(
        &mut self,
        mut keep: Option<&mut Vec<u8>>,
        record: u64,
    ) -> Parsed<FieldEnd> {
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
                let run = avail
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\')
                    .unwrap_or(avail.len());
                push(&self.buf[self.pos..self.pos + run])?;
                self.pos += run;
                let at = self.peek()?;
                if at == Some(b'\\') {
                    // Glacier escapes a quote with a backslash and leaves other
                    // backslashes alone, so only `\"` is an escape. (A quoted field
                    // ending in a backslash is therefore ambiguous in Glacier's format;
                    // it is read as Glacier's rule says: an escaped quote.)
                    self.bump();
                    if self.peek()? == Some(b'"') {
                        self.bump();
                        push(b"\"")?;
                    } else {
                        push(b"\\")?;
                    }
                } else if at == Some(b'"') {
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
    pub(super) fn csv_eol(&mut self) -> Parsed<()> {
        if self.next()? == Some(b'\r') && self.peek()? == Some(b'\n') {
            self.bump();
        }
        Ok(())
    }
}

/// What ended a CSV field.
#[derive(PartialEq)]
pub(super) enum FieldEnd {
    Comma,
    Eol,
    Eof,
}

/// Column indexes of a CSV inventory.
pub(super) struct CsvColumns {
    /// Index in the record of ArchiveId, ArchiveDescription, CreationDate, Size,
    /// SHA256TreeHash.
    at: [Option<usize>; 5],
    count: usize,
}

/// Glacier's CSV header names, in [`CsvColumns::at`] order.
pub(super) const CSV_NAMES: [&str; 5] = [
    "ArchiveId",
    "ArchiveDescription",
    "CreationDate",
    "Size",
    "SHA256TreeHash",
];

/// Skips blank lines; false at the end of input.
pub(super) fn csv_skip_blank<R: Read>(src: &mut Source<R>) -> Parsed<bool> {
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
pub(super) fn csv_header<R: Read>(src: &mut Source<R>) -> Parsed<CsvColumns> {
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
        // ArchiveDescription and CreationDate may be absent, as in JSON (not required
        // in the service model); the rest identify an archive.
        if cols.at[i].is_none() && i != 1 && i != 2 {
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

/// Reads one record; `None` at the end of input, `Some(Err(why))` for a record with an
/// empty ArchiveId, Size or SHA256TreeHash (skipped and counted by the caller).
pub(super) fn csv_record<R: Read>(
    src: &mut Source<R>,
    cols: &CsvColumns,
) -> Parsed<Option<std::result::Result<Entry, String>>> {
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
    let (archive_id, tree_hash) = (utf8(id, "ArchiveId")?, utf8(hash, "SHA256TreeHash")?);
    let lacks = [
        ("ArchiveId", archive_id.is_empty()),
        ("Size", size_text.trim().is_empty()),
        ("SHA256TreeHash", tree_hash.is_empty()),
    ];
    if lacks.iter().any(|(_, m)| *m) {
        let names: Vec<&str> = lacks.iter().filter(|(_, m)| *m).map(|(n, _)| *n).collect();
        return Ok(Some(Err(format!(
            "no {} (record at byte {start})",
            names.join(", ")
        ))));
    }
    let size = size_text.trim().parse::<u64>().map_err(|_| {
        Fail::Bad(
            start,
            format!("expected Size to be a non-negative integer below 2^64, found '{size_text}'"),
        )
    })?;
    Ok(Some(Ok(Entry {
        archive_id,
        description: utf8(desc, "ArchiveDescription")?,
        creation_date: utf8(date, "CreationDate")?,
        size,
        tree_hash,
    })))
}
