//! JSON tokens (RFC 8259) for the inventory reader: strings with every escape, numbers,
//! literals, and skipping of whole values without buffering them. The document-level
//! state machine (where `ArchiveList` and the header keys are) lives in the parent; this
//! module reads one token or one archive entry at a time and allocates only for kept
//! strings, each capped at [`MAX_FIELD_BYTES`](super::MAX_FIELD_BYTES).

use std::io::Read;

use super::source::{Fail, Parsed, Source, found};
use super::{Entry, MAX_DEPTH, MAX_FIELD_BYTES};

impl<R: Read> Source<R> {
    /// Skips whitespace and returns the next byte without consuming it.
    pub(super) fn ws_peek(&mut self) -> Parsed<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.bump(),
                b => return Ok(b),
            }
        }
    }

    /// Takes the byte `want` after any whitespace, or fails naming what was found
    /// (named `consume`, not `expect`, so it does not read as `Option::expect`).
    pub(super) fn consume(&mut self, want: u8, context: &str) -> Parsed<()> {
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
    pub(super) fn json_string(&mut self, mut keep: Option<&mut Vec<u8>>) -> Parsed<()> {
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
    pub(super) fn json_escape(&mut self) -> Parsed<char> {
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

    pub(super) fn hex4(&mut self) -> Parsed<u32> {
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
    pub(super) fn json_text(&mut self) -> Parsed<String> {
        let start = self.offset();
        let mut v = Vec::new();
        self.json_string(Some(&mut v))?;
        String::from_utf8(v).map_err(|_| Fail::Bad(start, "string is not valid UTF-8".into()))
    }

    /// A string value, or `None` for `null`.
    pub(super) fn json_opt_text(&mut self, what: &str) -> Parsed<Option<String>> {
        match self.ws_peek()? {
            Some(b'"') => self.json_text().map(Some),
            Some(b'n') => self.json_literal("null").map(|()| None),
            b => self.bad(format!("expected a string for {what}, found {}", found(b))),
        }
    }

    pub(super) fn json_literal(&mut self, word: &str) -> Parsed<()> {
        let start = self.offset();
        for &want in word.as_bytes() {
            if self.next()? != Some(want) {
                return Err(Fail::Bad(start, format!("expected {word}")));
            }
        }
        Ok(())
    }

    /// Reads a JSON number, keeping its text in `keep` if given.
    pub(super) fn json_number(&mut self, mut keep: Option<&mut Vec<u8>>) -> Parsed<()> {
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
    pub(super) fn json_size(&mut self) -> Parsed<u64> {
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
    pub(super) fn json_skip(&mut self, depth: u32) -> Parsed<()> {
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
    pub(super) fn json_member(
        &mut self,
        first: &mut bool,
        key: Option<&mut Vec<u8>>,
    ) -> Parsed<bool> {
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
        self.consume(b':', "after an object key")?;
        Ok(true)
    }

    /// Inside an array: consumes the closing `]` and returns false, or consumes a
    /// separating `,` as needed and returns true with the element next.
    pub(super) fn json_element(&mut self, first: &mut bool, what: &str) -> Parsed<bool> {
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

    /// `Size`, or `None` for `null`.
    pub(super) fn json_opt_size(&mut self) -> Parsed<Option<u64>> {
        match self.ws_peek()? {
            Some(b'n') => self.json_literal("null").map(|()| None),
            _ => self.json_size().map(Some),
        }
    }

    /// One element of `ArchiveList`: the entry, or why it identifies no archive.
    pub(super) fn json_entry(&mut self) -> Parsed<std::result::Result<Entry, String>> {
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
                b"Size" => size = self.json_opt_size()?,
                _ => self.json_skip(1)?,
            }
        }
        // Only ArchiveId, Size and SHA256TreeHash identify an archive; an entry without
        // one of them is reported and skipped by the caller, not a malformed document.
        let id = id.filter(|s| !s.is_empty());
        let hash = hash.filter(|s| !s.is_empty());
        let (Some(archive_id), Some(size), Some(tree_hash)) = (id.clone(), size, hash.clone())
        else {
            let lacks = [
                ("ArchiveId", id.is_none()),
                ("Size", size.is_none()),
                ("SHA256TreeHash", hash.is_none()),
            ];
            let names: Vec<&str> = lacks.iter().filter(|(_, m)| *m).map(|(n, _)| *n).collect();
            return Ok(Err(format!(
                "no {} (entry at byte {start})",
                names.join(", ")
            )));
        };
        Ok(Ok(Entry {
            archive_id,
            description: desc.unwrap_or_default(),
            creation_date: date.unwrap_or_default(),
            size,
            tree_hash,
        }))
    }
}
